"""Geometry clean-up shared by the stages: polygonal parts of overlay and repair results (one (Multi)Polygon per
geometry), and which geometries have coordinates that can exist."""

from __future__ import annotations

import numpy as np
import shapely

_POLYGON = 3
_MULTIPOLYGON = 6


def as_multipolygons(geoms: np.ndarray, missing: shapely.Geometry | None = None) -> np.ndarray:
    """Keep the polygonal parts of each geometry as one MultiPolygon each (vectorised; see `polygonal`)."""
    out = polygonal(geoms, missing)
    single = np.flatnonzero(shapely.get_type_id(out) == _POLYGON)
    out[single] = shapely.multipolygons(out[single], indices=np.arange(len(single)))
    return out


def polygonal(geoms: np.ndarray, missing: shapely.Geometry | None = None) -> np.ndarray:
    """Keep the polygonal parts of each geometry: Polygons and MultiPolygons as they are, the polygons of a
    collection as one MultiPolygon.

    `make_valid`, intersections and differences can return collections holding lines or points beside the
    polygons; those are dropped. A geometry with no polygonal part (or empty) becomes `missing`.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), missing, dtype=object)
    if not len(geoms):
        return out
    kind = np.where(shapely.is_empty(geoms), -1, shapely.get_type_id(geoms))
    kept = (kind == _POLYGON) | (kind == _MULTIPOLYGON)
    out[kept] = geoms[kept]
    mixed = np.flatnonzero(kind > _MULTIPOLYGON)
    parts, index = shapely.get_parts(geoms[mixed], return_index=True)
    parts, inner = shapely.get_parts(parts, return_index=True)  # flatten MultiPolygons inside collections
    index = mixed[index[inner]]
    keep = shapely.get_type_id(parts) == _POLYGON
    owners, dense = np.unique(index[keep], return_inverse=True)
    out[owners] = shapely.multipolygons(parts[keep], indices=dense)
    return out


def finite_coordinates(values: np.ndarray) -> np.ndarray:
    """Per geometry: True when every x and y is a finite number (missing geometries count as finite)."""
    coordinates, owner = shapely.get_coordinates(values, return_index=True)
    finite = np.ones(len(values), dtype=bool)
    finite[owner[~np.isfinite(coordinates).all(axis=1)]] = False
    return finite
