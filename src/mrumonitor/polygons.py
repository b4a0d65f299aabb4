"""Polygonal parts of overlay and repair results, as one MultiPolygon per geometry."""

from __future__ import annotations

import numpy as np
import shapely

_POLYGON = 3


def as_multipolygons(geoms: np.ndarray, missing: shapely.Geometry | None = None) -> np.ndarray:
    """Keep the polygonal parts of each geometry as one MultiPolygon each (vectorised).

    `make_valid`, intersections and differences can return collections holding lines or points beside the
    polygons; those are dropped. A geometry with no polygonal part becomes `missing`.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), missing, dtype=object)
    if not len(geoms):
        return out
    parts, index = shapely.get_parts(geoms, return_index=True)
    parts, inner = shapely.get_parts(parts, return_index=True)  # flatten MultiPolygons inside collections
    index = index[inner]
    keep = shapely.get_type_id(parts) == _POLYGON
    out[np.unique(index[keep])] = shapely.multipolygons(parts[keep], indices=index[keep])
    return out
