"""Raster inputs built in code, for the tests and benchmarks: a huge but tiny sparse GeoTIFF with known blobs.

A tiled, compressed GeoTIFF written with GDAL's ``SPARSE_OK`` stores only the blocks that were written: a
60,000 x 60,000 pixel raster that is zero everywhere but a few blobs takes a few hundred kilobytes on disk
and 3.6 gigapixels once read. Such a file is what a memory test of the detect stage needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_bounds
from rasterio.windows import Window

#: Side, in pixels, of the blocks of the sparse rasters written here.
SPARSE_BLOCK = 512


def write_sparse_raster(path: str | Path, side: int, bounds: tuple[float, float, float, float], crs,
                        blobs: Sequence[tuple[int, int, int, float]], dtype: str = "uint8",
                        nodata: float | None = None) -> Path:
    """Write a `side` x `side` tiled, deflate-compressed sparse GeoTIFF over `bounds` in `crs`.

    Parameters
    ----------
    blobs : sequence of (row, col, radius, value)
        Discs of `value` (in pixels of the raster) written into the otherwise empty raster; every other
        block stays unwritten and reads as `nodata` (0 when there is none).
    """
    path = Path(path)
    profile = {"driver": "GTiff", "width": side, "height": side, "count": 1, "dtype": dtype, "crs": crs,
               "transform": from_bounds(*bounds, side, side), "tiled": True, "blockxsize": SPARSE_BLOCK,
               "blockysize": SPARSE_BLOCK, "compress": "deflate", "sparse_ok": True, "nodata": nodata}
    with rasterio.open(path, "w", **profile) as dataset:
        for row, col, radius, value in blobs:
            window = Window(col - radius, row - radius, 2 * radius + 1, 2 * radius + 1)
            y, x = np.ogrid[-radius:radius + 1, -radius:radius + 1]
            disc = np.where(x**2 + y**2 <= radius**2, value, nodata or 0).astype(dtype)
            dataset.write(disc, 1, window=window)
    return path
