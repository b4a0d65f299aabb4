"""An activity layer rendered as a transparent PNG for the map (`dl.ImageOverlay`).

Leaflet stretches an image overlay linearly between two lat/lon corners **in Web Mercator**, so the image is
drawn on a Web Mercator grid: the activity COG (in the analysis Albers) is read from the overview closest to
`MAX_WIDTH` pixels wide, then warped (nearest neighbour) onto an EPSG:3857 grid covering the layer's extent,
at most `MAX_WIDTH` pixels wide. `overlay_bounds` gives that grid's corners in WGS84, so pixels land where
they belong on the map (no approximation beyond the overview's resolution, about 1 km for the demo region).

Colours (`RAMP`): 1-100 % activity along `style.ACTIVITY_RAMP` (pale yellow to dark purple, the legend's ramp),
more opaque as activity grows; **0 (no
activity) and 255 (no data) are fully transparent**, as is anything outside the layer or, for an agency
user, outside its country's outline (`render_overlay(outline=...)`).
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

import numpy as np
import shapely
from affine import Affine
from rasterio.enums import Resampling
from rasterio.features import geometry_mask
from rasterio.transform import from_bounds
from rasterio.warp import reproject, transform_bounds

from mrumonitor.crs import WGS84
from mrumonitor.raster.io import IN_MEMORY_DATASET_LOCK, open_raster, read_checked
from mrumonitor.schema import ACTIVITY_MAX, ACTIVITY_NODATA
from mrumonitor.style import ACTIVITY_RAMP

#: Widest overlay image, in pixels.
MAX_WIDTH = 2048

#: The CRS Leaflet draws in.
WEB_MERCATOR = "EPSG:3857"

#: The first bytes of every PNG file.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _ramp() -> np.ndarray:
    """RGBA for every uint8 value: transparent for 0 and above ACTIVITY_MAX, along `ACTIVITY_RAMP` in between."""
    ramp = np.zeros((256, 4), dtype=np.uint8)
    share = np.linspace(0.0, 1.0, ACTIVITY_MAX)
    low, high = np.array(ACTIVITY_RAMP[0]), np.array(ACTIVITY_RAMP[1])
    ramp[1:ACTIVITY_MAX + 1, :3] = np.round(low + (high - low) * share[:, None]).astype(np.uint8)
    ramp[1:ACTIVITY_MAX + 1, 3] = np.round(140 + 100 * share).astype(np.uint8)
    return ramp


#: Colour of each activity value (index): RGBA.
RAMP = _ramp()


def mercator_grid(src_crs, src_bounds, src_width: int) -> tuple[Affine, int, int]:
    """The Web Mercator grid of the overlay of a raster: transform, width, height."""
    left, bottom, right, top = transform_bounds(src_crs, WEB_MERCATOR, *src_bounds, densify_pts=21)
    width = min(MAX_WIDTH, src_width)
    height = max(1, round(width * (top - bottom) / (right - left)))
    return from_bounds(left, bottom, right, top, width, height), width, height


def overlay_bounds_of(path: Path) -> list[list[float]]:
    """[[south, west], [north, east]] in WGS84 of the overlay image of the raster at `path`."""
    with open_raster(path) as dataset:
        transform, width, height = mercator_grid(dataset.crs, dataset.bounds, dataset.width)
    west, south, east, north = transform_bounds(WEB_MERCATOR, WGS84, *_extent(transform, width, height))
    return [[south, west], [north, east]]


def render_overlay(path: Path, outline: shapely.Geometry | None = None) -> bytes:
    """The activity raster at `path` as an RGBA PNG on its Web Mercator grid (see module doc).

    Parameters
    ----------
    path
        An activity COG (uint8 percent, 255 = no data).
    outline
        A polygon in Web Mercator: pixels outside it are made transparent (an agency's country).
    """
    with open_raster(path) as dataset:
        transform, width, height = mercator_grid(dataset.crs, dataset.bounds, dataset.width)
        read_width = min(dataset.width, MAX_WIDTH)
        read_height = max(1, math.ceil(dataset.height * read_width / dataset.width))
        source = read_checked(dataset, 1, out_shape=(read_height, read_width), resampling=Resampling.nearest)
        source_transform = dataset.transform * Affine.scale(dataset.width / read_width, dataset.height / read_height)
        source_crs = dataset.crs
    values = np.full((height, width), ACTIVITY_NODATA, dtype=np.uint8)
    reproject(source, values, src_transform=source_transform, src_crs=source_crs, src_nodata=ACTIVITY_NODATA,
              dst_transform=transform, dst_crs=WEB_MERCATOR, dst_nodata=ACTIVITY_NODATA,
              resampling=Resampling.nearest)
    if outline is not None:
        with IN_MEMORY_DATASET_LOCK:
            outside = geometry_mask([outline], out_shape=values.shape, transform=transform)
        values[outside] = ACTIVITY_NODATA
    return encode_png(RAMP[values])


def encode_png(rgba: np.ndarray) -> bytes:
    """PNG bytes of an (height, width, 4) uint8 RGBA image (8-bit RGBA, no row filter, zlib level 6).

    Written by hand rather than through GDAL's PNG driver, which warns about the missing georeferencing
    in a way that is not thread-safe (see `IN_MEMORY_DATASET_LOCK`).
    """
    height, width, _ = rgba.shape
    rows = np.zeros((height, 1 + width * 4), dtype=np.uint8)  # each row starts with filter type 0 (none)
    rows[:, 1:] = rgba.reshape(height, width * 4)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, colour type 6 = RGBA
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + _chunk(
        b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _extent(transform: Affine, width: int, height: int) -> tuple[float, float, float, float]:
    left, top = transform * (0, 0)
    right, bottom = transform * (width, height)
    return left, bottom, right, top
