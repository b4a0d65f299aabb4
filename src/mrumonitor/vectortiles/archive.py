"""PMTiles (version 3) archives of vector tiles: one file a web map or QGIS reads tile by tile, with no server.

`write_pmtiles` stores MVT tiles with the `pmtiles` package's writer: each tile gzip-compressed (the specification's
recommendation for MVT), identical tiles stored once, directories and metadata gzip-compressed, the header's zoom
range, bounds and centre filled in. `vector_layer` describes a layer for the metadata's ``vector_layers`` (what
MapLibre and QGIS read to list a layer's fields).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from pmtiles.tile import Compression, TileType, tileid_to_zxy, zxy_to_tileid
from pmtiles.writer import Writer

from mrumonitor.vectortiles.mvt import encode_tile
from mrumonitor.vectortiles.tiles import tile_bounds

#: gzip level of the stored tiles (9: an archive is written once and read many times).
TILE_GZIP_LEVEL = 9

Tile = tuple[int, int, int, bytes]


def write_pmtiles(path: str | Path, tiles: Iterable[Tile], metadata: dict[str, Any],
                  bounds: tuple[float, float, float, float] | None = None) -> dict[str, Any]:
    """Write the MVT `tiles` to a PMTiles archive at `path`.

    Parameters
    ----------
    path : str or Path
        The archive to write (replaced if it exists; write it aside and move it for an atomic result).
    tiles : iterable of (z, x, y, bytes)
        The tiles, not compressed (as `encode_tile` makes them); empty ones (b"") are left out. Given in tile-id
        order (`pmtiles.tile.zxy_to_tileid`: zoom, then the Hilbert curve, as `pyramid.layer_tiles` yields them)
        the archive is clustered; in another order it is still valid, marked unclustered.
    metadata : dict
        The archive's JSON metadata (``name``, ``description``, ``attribution``, ``vector_layers``...).
    bounds : (west, south, east, north), optional
        The data's WGS84 bounds for the header; the union of the tiles' bounds when not given.

    Returns
    -------
    dict
        What was written: ``tiles`` (tiles stored), ``min_zoom``, ``max_zoom``, ``bounds``.

    An archive with no tile holds one empty tile, 0/0/0: PMTiles has no archive without tiles.
    """
    written, covered = 0, [180.0, 90.0, -180.0, -90.0]
    with open(path, "wb") as file:
        writer = Writer(file)
        try:
            for z, x, y, body in tiles:
                if body:
                    writer.write_tile(zxy_to_tileid(z, x, y), gzip.compress(body, TILE_GZIP_LEVEL, mtime=0))
                    covered = _union(covered, tile_bounds(z, x, y).wgs84)
                    written += 1
            if not written:
                writer.write_tile(zxy_to_tileid(0, 0, 0), gzip.compress(encode_tile({}, 0, 0, 0), mtime=0))
                covered = list(tile_bounds(0, 0, 0).wgs84)
            west, south, east, north = bounds if bounds is not None else covered
            ids = [entry.tile_id for entry in writer.tile_entries]
            zooms = tileid_to_zxy(min(ids))[0], tileid_to_zxy(max(ids))[0]
            writer.finalize({
                "tile_type": TileType.MVT, "tile_compression": Compression.GZIP,
                "min_lon_e7": round(west * 1e7), "min_lat_e7": round(south * 1e7),
                "max_lon_e7": round(east * 1e7), "max_lat_e7": round(north * 1e7),
                "center_zoom": zooms[0], "center_lon_e7": round((west + east) / 2 * 1e7),
                "center_lat_e7": round((south + north) / 2 * 1e7)}, metadata)
        finally:
            writer.tile_f.close()
    return {"tiles": written, "min_zoom": zooms[0], "max_zoom": zooms[1], "bounds": [west, south, east, north]}


def _union(box: list[float], other: tuple[float, float, float, float]) -> list[float]:
    """The WGS84 box covering `box` and `other` (west, south, east, north)."""
    return [min(box[0], other[0]), min(box[1], other[1]), max(box[2], other[2]), max(box[3], other[3])]


#: The field type `vector_layers` gives a column, by numpy kind (anything else is text).
_FIELD_TYPES = {"b": "Boolean", "i": "Number", "u": "Number", "f": "Number"}


def vector_layer(name: str, properties: pd.DataFrame, min_zoom: int, max_zoom: int,
                 description: str = "") -> dict[str, Any]:
    """The ``vector_layers`` entry of layer `name` whose features carry the columns of `properties`: each field
    as Number, Boolean or String (text, dates), its zoom range and `description`."""
    fields = {str(column): _FIELD_TYPES.get(dtype.kind, "String") for column, dtype in properties.dtypes.items()}
    return {"id": name, "description": description, "minzoom": min_zoom, "maxzoom": max_zoom, "fields": fields}
