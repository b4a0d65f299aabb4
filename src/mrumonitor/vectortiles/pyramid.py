"""Every tile of a layer over a range of zooms: what a PMTiles archive of the layer holds.

Only tiles that hold something are made: at each zoom the tiles the features' boxes meet (`tiles.tiles_covering`),
each given the features an index (`shapely.STRtree`) finds in its buffered bounds. A footprint or line narrower
and shorter than `MIN_SHAPE_PX` at a zoom would be a speck there, or vanish when snapped to the tile's pixels: at
that zoom it is drawn as a point inside it (`shapely.point_on_surface`), so every feature shows at every zoom.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import shapely
from pmtiles.tile import zxy_to_tileid

from mrumonitor.vectortiles.attributes import Attributes
from mrumonitor.vectortiles.mvt import BUFFER, EXTENT, encode_tile
from mrumonitor.vectortiles.tiles import buffered_bounds, tiles_covering, world_position

#: Size (tile pixels, of `EXTENT`) under which a line or polygon is drawn as a point at a zoom: 16 is one screen
#: pixel of a 256-pixel tile.
MIN_SHAPE_PX = 16


def layer_tiles(name: str, geoms: np.ndarray, properties: pd.DataFrame, zooms: range) -> Iterator[
        tuple[int, int, int, bytes]]:
    """The non-empty MVT tiles of layer `name` (WGS84 `geoms`, one row of `properties` each; None or empty
    geometries left out) at each zoom of `zooms`, in PMTiles tile-id order (zoom, then the Hilbert curve).

    Yields
    ------
    (z, x, y, bytes)
        A tile and its MVT body (`encode_tile`, not compressed).
    """
    geoms = np.asarray(geoms, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms, attributes = geoms[present], Attributes.of(properties[present])
    if not len(geoms):
        return
    boxes = shapely.bounds(geoms)
    index = shapely.STRtree(geoms)
    inside = shapely.point_on_surface(geoms)
    for z in zooms:
        shown = np.where(_span_px(boxes, z) < MIN_SHAPE_PX, inside, geoms)
        tiles = tiles_covering(boxes, z, margin=BUFFER / EXTENT)
        for x, y in sorted(tiles.tolist(), key=lambda tile: zxy_to_tileid(z, *tile)):
            rows = np.sort(index.query(shapely.box(*buffered_bounds(z, x, y, BUFFER / EXTENT))))
            body = encode_tile({name: (shown[rows], attributes.take(rows))}, z, x, y)
            if body:
                yield z, x, y, body


def _span_px(boxes: np.ndarray, z: int) -> np.ndarray:
    """The larger side of each WGS84 box (west, south, east, north) in tile pixels at zoom `z`."""
    west, north = world_position(boxes[:, 0], boxes[:, 3], z)
    east, south = world_position(boxes[:, 2], boxes[:, 1], z)
    return np.maximum(east - west, south - north) * EXTENT
