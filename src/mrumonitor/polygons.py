"""Polygonal parts of overlay and repair results, as one MultiPolygon per geometry."""

from __future__ import annotations

import numpy as np
import shapely

_POLYGON = 3
_MULTIPOLYGON = 6


def as_multipolygons(geoms: np.ndarray, missing: shapely.Geometry | None = None) -> np.ndarray:
    """Keep the polygonal parts of each geometry as one MultiPolygon each (vectorised).

    `make_valid`, intersections and differences can return collections holding lines or points beside the
    polygons; those are dropped. A geometry with no polygonal part becomes `missing`. MultiPolygons pass
    through as they are and Polygons are wrapped, so only the collections are taken apart.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), missing, dtype=object)
    if not len(geoms):
        return out
    kind = np.where(shapely.is_empty(geoms), -1, shapely.get_type_id(geoms))
    multi, single = kind == _MULTIPOLYGON, kind == _POLYGON
    out[multi] = geoms[multi]
    out[single] = shapely.multipolygons(geoms[single], indices=np.arange(np.count_nonzero(single)))
    mixed = np.flatnonzero(kind > _MULTIPOLYGON)
    parts, index = shapely.get_parts(geoms[mixed], return_index=True)
    parts, inner = shapely.get_parts(parts, return_index=True)  # flatten MultiPolygons inside collections
    index = mixed[index[inner]]
    keep = shapely.get_type_id(parts) == _POLYGON
    owners, dense = np.unique(index[keep], return_inverse=True)
    out[owners] = shapely.multipolygons(parts[keep], indices=dense)
    return out
