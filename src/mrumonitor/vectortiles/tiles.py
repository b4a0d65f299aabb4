"""Web Mercator XYZ tile arithmetic: a tile's bounds, the tiles a set of boxes covers, WGS84 to tile pixels.

The tiles are the usual XYZ ones (Google / OSM / Leaflet): at zoom z the world is 2**z x 2**z tiles, x growing
eastwards from 180° W and y southwards from the north edge of Web Mercator (85.0511° N). Everything is vectorised
over numpy arrays: a tile of 2,000 features is projected in one call, never feature by feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from mrumonitor.errors import UnknownAddress

#: The CRS of the tiles' coordinates.
WEB_MERCATOR = "EPSG:3857"
#: Deepest zoom a tile may have (a tile is then about 10 m wide at the equator).
MAX_ZOOM = 22
#: Latitude limit of Web Mercator (degrees): the world is square there.
MAX_LATITUDE = 85.0511287798066
#: Half the width of the Web Mercator world (metres): EPSG:3857 x and y run from -HALF_WORLD to HALF_WORLD.
HALF_WORLD = 20037508.342789244


@dataclass(frozen=True)
class TileBounds:
    """The bounds of one tile: `wgs84` (west, south, east, north) in degrees, `mercator` (min x, min y, max x,
    max y) in EPSG:3857 metres."""

    wgs84: tuple[float, float, float, float]
    mercator: tuple[float, float, float, float]


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse a tile that does not exist: zoom outside 0..`MAX_ZOOM`, or x, y outside 0..2**z - 1.

    Raises
    ------
    UnknownAddress
        Saying the ranges.
    """
    if not 0 <= z <= MAX_ZOOM:
        raise UnknownAddress(f"no tile at zoom {z}: zooms run from 0 to {MAX_ZOOM}.")
    if not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise UnknownAddress(f"no tile {z}/{x}/{y}: at zoom {z}, x and y run from 0 to {2 ** z - 1}.")


def tile_bounds(z: int, x: int, y: int) -> TileBounds:
    """The WGS84 and Web Mercator bounds of tile `z`/`x`/`y` (see `check_tile` for the valid ones)."""
    n = 2.0 ** z
    west, east = x / n * 360.0 - 180.0, (x + 1) / n * 360.0 - 180.0
    north, south = _latitude(y / n), _latitude((y + 1) / n)
    size = 2 * HALF_WORLD / n
    mercator = (-HALF_WORLD + x * size, HALF_WORLD - (y + 1) * size, -HALF_WORLD + (x + 1) * size,
                HALF_WORLD - y * size)
    return TileBounds((west, south, east, north), mercator)


def buffered_bounds(z: int, x: int, y: int, margin: float) -> tuple[float, float, float, float]:
    """The WGS84 (west, south, east, north) of tile `z`/`x`/`y` grown by `margin` of its width on every side
    (0.0156 for a 64-pixel buffer on a 4096 extent): what a tile must select to draw its buffer."""
    n = 2.0 ** z
    west, east = (x - margin) / n * 360.0 - 180.0, (x + 1 + margin) / n * 360.0 - 180.0
    north, south = _latitude(max((y - margin) / n, 0.0)), _latitude(min((y + 1 + margin) / n, 1.0))
    return west, south, east, north


def _latitude(fraction: float) -> float:
    """The latitude (degrees) at `fraction` of the Web Mercator world's height from its north edge."""
    return float(np.degrees(np.arctan(np.sinh(np.pi * (1.0 - 2.0 * fraction)))))


def world_position(lon: np.ndarray, lat: np.ndarray, z: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions at zoom `z` in tile units (x eastwards from 180° W, y southwards from the north edge): tile
    (x, y) spans [x, x + 1) x [y, y + 1). Latitudes beyond `MAX_LATITUDE` are held at it."""
    n = 2.0 ** z
    phi = np.radians(np.clip(lat, -MAX_LATITUDE, MAX_LATITUDE))
    return (np.asarray(lon, dtype=float) + 180.0) / 360.0 * n, (1.0 - np.arcsinh(np.tan(phi)) / np.pi) / 2.0 * n


def to_tile_pixels(geoms: np.ndarray, z: int, x: int, y: int, extent: int) -> np.ndarray:
    """`geoms` (WGS84) in the pixel coordinates of tile `z`/`x`/`y`: 0..`extent` from its west and north edges
    (y down, as MVT has it), as floats."""
    def project(coords: np.ndarray) -> np.ndarray:
        tx, ty = world_position(coords[:, 0], coords[:, 1], z)
        return np.column_stack([(tx - x) * extent, (ty - y) * extent])

    return shapely.transform(geoms, project)


def tiles_covering(boxes: np.ndarray, z: int, margin: float = 0.0) -> np.ndarray:
    """The tiles of zoom `z` that the WGS84 `boxes` ((n, 4): west, south, east, north) meet, each box grown by
    `margin` of a tile: an (m, 2) array of distinct (x, y), sorted."""
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    if not len(boxes):
        return np.empty((0, 2), dtype=np.int64)
    last = 2 ** z - 1
    x0, y1 = world_position(boxes[:, 0], boxes[:, 1], z)
    x1, y0 = world_position(boxes[:, 2], boxes[:, 3], z)
    x0, y0 = (np.clip(np.floor(v - margin), 0, last).astype(np.int64) for v in (x0, y0))
    x1, y1 = (np.clip(np.floor(v + margin), 0, last).astype(np.int64) for v in (x1, y1))
    width, height = x1 - x0 + 1, y1 - y0 + 1
    counts = width * height
    box = np.repeat(np.arange(len(boxes)), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    tiles = np.column_stack([x0[box] + local % width[box], y0[box] + local // width[box]])
    return np.unique(tiles, axis=0)
