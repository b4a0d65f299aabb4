"""GeoJSON for the map: WGS84 coordinates rounded for the wire, features chosen by view bounds and zoom.

Leaflet takes WGS84 GeoJSON. Layers are converted once when a run is loaded (`to_wgs84`), then every map
callback only selects, by bounding box, the features in view and serialises them (`feature_collection`).
Zoom bands decide the shape that travels: aggregate cells at low zoom when the view holds many sites,
points below `POLYGON_ZOOM`, simplified polygons above it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from mrumonitor.crs import WGS84

#: Decimals of the coordinates sent to the browser (1e-5 degree is about 1 m).
DECIMALS = 5
#: From this zoom on, sites travel as (simplified) polygons; below it as points.
POLYGON_ZOOM = 12
#: Most features one map layer sends; beyond it points are aggregated into cells, polygons become points.
MAX_FEATURES = 2000
#: Width of the cells of counted sites (screen pixels) the map draws where a view holds too many sites.
CELL_PX = 48
#: Simplification tolerance (degrees) of polygons per zoom band: (lowest zoom of the band, tolerance).
SIMPLIFY_BANDS = ((0, 0.01), (8, 0.002), (11, 0.0003), (14, 0.0))


def to_wgs84(geoms: gpd.GeoSeries) -> np.ndarray:
    """The geometries in WGS84 with coordinates rounded to `DECIMALS`."""
    return shapes_to_wgs84(np.asarray(geoms), geoms.crs)


def shapes_to_wgs84(geoms: np.ndarray, crs: Any) -> np.ndarray:
    """`to_wgs84` of an array of geometries in `crs`, with no GeoSeries made (a map tile's few shapes: a fifth
    of a millisecond less each time)."""
    transformer = _transformer_to_wgs84(crs)

    def projected(xy: np.ndarray) -> np.ndarray:
        return np.round(np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])), DECIMALS)

    return shapely.transform(geoms, projected)


@lru_cache(maxsize=16)
def _transformer_to_wgs84(crs: Any) -> Transformer:
    """The transformer from `crs` to WGS84 (longitude first), made once (pyproj's are thread-safe)."""
    return Transformer.from_crs(CRS.from_user_input(crs), WGS84, always_xy=True)


def rounded(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda coords: np.round(coords, DECIMALS))


def tolerance(zoom: float) -> float:
    """The simplification tolerance (degrees) of the zoom band `zoom` falls in."""
    return next(tol for start, tol in reversed(SIMPLIFY_BANDS) if zoom >= start)


def simplified_bands(geoms: np.ndarray) -> dict[float, np.ndarray]:
    """`geoms` simplified once per tolerance of `SIMPLIFY_BANDS` (see `simplified`)."""
    return {tol: simplified(geoms, tol) for _, tol in SIMPLIFY_BANDS}


def simplified(geoms: np.ndarray, tol: float) -> np.ndarray:
    """`geoms` simplified with tolerance `tol` (degrees; 0: as they are) and rounded; a polygon never vanishes (an
    empty result keeps the original)."""
    if tol == 0:
        return geoms
    simple = rounded(shapely.simplify(geoms, tol, preserve_topology=True))
    return np.where(shapely.is_empty(simple), geoms, simple)


def in_view(boxes: np.ndarray, bounds: list | None) -> np.ndarray:
    """Mask of the boxes that meet the Leaflet `bounds` [[south, west], [north, east]] (all when None)."""
    if not bounds:
        return np.ones(len(boxes), dtype=bool)
    (south, west), (north, east) = bounds
    return (boxes[:, 2] >= west) & (boxes[:, 0] <= east) & (boxes[:, 3] >= south) & (boxes[:, 1] <= north)


def feature_collection(geoms: np.ndarray, properties: pd.DataFrame) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of `geoms` (WGS84) with one row of `properties` each."""
    if len(geoms) == 0:
        return {"type": "FeatureCollection", "features": []}
    shapes = shapely.to_geojson(geoms)
    props = properties.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    features = ",".join(f'{{"type":"Feature","geometry":{g},"properties":{p}}}' for g, p in zip(shapes, props))
    return json.loads(f'{{"type":"FeatureCollection","features":[{features}]}}')


def grid_cell_ids(lon: np.ndarray, lat: np.ndarray, zoom: float) -> np.ndarray:
    """The square cell of about `CELL_PX` screen pixels at `zoom` each point lies in, as one integer per point
    (cells ordered west to east, then south to north)."""
    size = 360.0 / 2 ** float(zoom) * CELL_PX / 256
    column, row = np.floor(np.asarray(lon) / size).astype(np.int64), np.floor(np.asarray(lat) / size).astype(np.int64)
    return (column << 32) + row
