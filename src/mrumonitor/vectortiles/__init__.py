"""Mapbox Vector Tiles and PMTiles archives: shared by the dashboard's tile route and the PMTiles export.

Tile arithmetic (Web Mercator XYZ tiles: `tiles`), encoding layers of WGS84 geometries with their attributes into
one MVT tile (`mvt`, attributes coded by `attributes`), every tile of a layer over a range of zooms (`pyramid`), and
writing a set of tiles as a PMTiles archive (`archive`). Nothing here knows about runs, roles or filters: callers
choose the features, this room turns them into tiles.
"""

from mrumonitor.vectortiles.archive import vector_layer, write_pmtiles
from mrumonitor.vectortiles.attributes import Attributes
from mrumonitor.vectortiles.mvt import BUFFER, EXTENT, encode_tile
from mrumonitor.vectortiles.pyramid import layer_tiles
from mrumonitor.vectortiles.tiles import (
    MAX_ZOOM,
    WEB_MERCATOR,
    TileBounds,
    buffered_bounds,
    check_tile,
    tile_bounds,
    tiles_covering,
    world_position,
)

__all__ = ["BUFFER", "EXTENT", "MAX_ZOOM", "WEB_MERCATOR", "Attributes", "TileBounds", "buffered_bounds",
           "check_tile", "encode_tile", "layer_tiles", "tile_bounds", "tiles_covering", "vector_layer",
           "world_position", "write_pmtiles"]
