"""External rasters as activity: probability and class rasters in any CRS and resolution, warped per block.

Each block of the grid is assembled from fixed `WARP_TILE` tiles; a tile reads the source pixels under
it (plus a margin) with `read_checked`, turns them into 0-1 values (NaN = no data) and warps them onto
the tile through a `rasterio.vrt.WarpedVRT`, with an explicit tolerance and resampling: average when the
source is finer than the grid (every source pixel counts), bilinear (probability) or nearest (classes)
otherwise. Source no-data and pixels outside the source become 255; 0 stays 0.

Memory is bounded whatever the size of the source (issue 14: a 168 KB sparse GeoTIFF of 60,000² pixels
once read 26.8 GiB at once for a 1 km grid). The source pixels under a tile are read in pieces of at most
`READ_SIDE`² pixels, and a source much finer than the grid is first averaged, piece by piece, into cells
of `factor` x `factor` source pixels on a lattice fixed by the source's origin (the mean of their valid
values, NaN where none is valid) — still `OVERSAMPLING` times finer than the grid or more — which are then
warped with average resampling as before. A tile so holds at most about (`WARP_TILE` x 2 x `OVERSAMPLING`)²
values, whether the source has a thousand pixels or billions. The blocks a sparse GeoTIFF never wrote are not
read (they hold its nodata, or 0), and a tile whose cells are all one valid value inside the source is that
value without a warp: a 60,000² raster of a few blobs is read where the blobs are.

Warping goes through a dataset and a `WarpedVRT` rather than `rasterio.warp.reproject` on arrays: in
rasterio 1.4 the latter wraps each array in a `MemoryDataset`, which sets a process-wide "ignore"
warnings filter while it opens; run in dask threads, those filters interleave and one can be left in
place for good.

Raster inputs are opened only through `raster.io.open_raster`, so a damaged file fails with an
`InputFileError` naming it, at build time (not a GeoTIFF, no CRS, wrong band count) or when its damaged
blocks are read (a truncated GeoTIFF opens fine).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from affine import Affine
from pyproj import CRS
from rasterio import windows
from rasterio.crs import CRS as RioCRS
from rasterio.enums import MaskFlags, Resampling
from rasterio.io import MemoryFile
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform as warp_transform
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from mrumonitor.crs import norm_crs
from mrumonitor.errors import InputFileError
from mrumonitor.raster.blocks import grid_array, on_grid
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.io import open_raster, read_checked, unwritten
from mrumonitor.schema import ACTIVITY_DTYPE, ACTIVITY_MAX, ACTIVITY_NODATA

log = logging.getLogger(__name__)

#: Side, in grid pixels, of the fixed tiles external rasters are warped in (see `_warp_block`).
WARP_TILE = 256

#: Extra source pixels read around a tile's footprint, so resampling kernels see all their neighbours.
_SOURCE_MARGIN = 2

#: A source at least 2 x this many times finer than the grid is averaged into cells this many times finer than
#: the grid (or more) before warping; see the module docstring.
OVERSAMPLING = 4

#: Side, in source pixels, of the pieces a tile's source pixels are read in.
READ_SIDE = 2048

#: Most source cells one tile may hold (its `factor` grows when an odd CRS makes a tile's source window huge).
MAX_TILE_CELLS = (WARP_TILE * 2 * OVERSAMPLING) ** 2

#: Points per edge when a tile's bounds are transformed into the source CRS.
_DENSIFY_POINTS = 21

#: Largest error (in source pixels) allowed to GDAL's approximate transformer: GDAL's default, so values
#: are those `rasterio.warp.reproject` gave. (Scenes use 1e-3, see `scenes.WARP_TOLERANCE_PX`; within the
#: fixed `WARP_TILE` tiles the result does not depend on the chunk size either way.)
WARP_TOLERANCE_PX = 0.125


@dataclass(frozen=True)
class _Source:
    """What a block task needs to know about a raster input (small, picklable)."""

    path: Path
    crs: RioCRS
    transform: Affine
    width: int
    height: int
    resampling: Resampling
    factor: int = 1


def warp_probability(path: str | Path, grid: Grid, chunk: int, scale: float = 1.0, crs: Any = None
                     ) -> xr.DataArray:
    """An activity-probability raster (values / `scale` = 0-1) as percent on `grid`.

    Any CRS and resolution: each block reads the source pixels under it and warps them with average
    resampling when the source is finer than the grid (every source pixel counts), bilinear otherwise.
    Source no-data (nodata value, mask or NaN) and pixels outside the source give 255; values beyond
    0..`scale` are clipped. `crs` is assumed only when the file declares none.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    source = _inspect(path, grid, crs, finer=Resampling.average, coarser=Resampling.bilinear)
    data = grid_array(grid, chunk, _probability_block, grid, source, float(scale), name="warp-probability")
    return on_grid(data, grid)


def warp_classes(path: str | Path, grid: Grid, chunk: int, active_classes: Sequence[int], crs: Any = None
                 ) -> xr.DataArray:
    """A class-code raster as the percentage of its valid pixels in `active_classes`, per grid cell.

    Each block turns the source pixels under it into 1 (active class), 0 (other class) or no data, and
    warps that with average resampling when the source is finer than the grid (the fraction of active
    pixels in the cell), nearest otherwise (0 or 100). Source no-data counts in neither part.
    """
    if not len(active_classes):
        raise ValueError("active_classes is empty: list the class codes that mean mining activity")
    source = _inspect(path, grid, crs, finer=Resampling.average, coarser=Resampling.nearest)
    data = grid_array(grid, chunk, _classes_block, grid, source, tuple(int(c) for c in active_classes),
                      name="warp-classes")
    return on_grid(data, grid)


def _inspect(path: str | Path, grid: Grid, assume_crs: Any, finer: Resampling, coarser: Resampling) -> _Source:
    """Open and check a single-band raster input once; choose the resampling from its resolution."""
    path = Path(path)
    with open_raster(path, require_crs=assume_crs is None, bands=1) as dataset:
        crs = dataset.crs or RioCRS.from_user_input(norm_crs(assume_crs, f"{path}: assumed CRS"))
        transform, width, height = dataset.transform, dataset.width, dataset.height
    if not transform.is_rectilinear:
        raise InputFileError(path, "is rotated or sheared; only north-up rasters are supported.",
                             "warp it to a north-up grid first (gdalwarp).")
    source_res = _source_resolution(crs, transform, grid)
    resampling = finer if source_res < grid.resolution * (1 - 1e-9) else coarser
    factor = max(1, math.floor(grid.resolution / source_res / OVERSAMPLING))
    log.info("%s: %d x %d pixels of about %.1f m in %s, averaged by %d x %d, warped with %s resampling", path,
             width, height, source_res, crs.to_string(), factor, factor, resampling.name)
    return _Source(path, crs, transform, width, height, resampling, factor)


def _source_resolution(crs: RioCRS, transform: Affine, grid: Grid) -> float:
    """Side of a source pixel in grid metres, measured at the centre of the grid (any source CRS)."""
    left, bottom, right, top = grid.bounds
    [x], [y] = warp_transform(grid.crs, crs, [(left + right) / 2], [(bottom + top) / 2])
    xs, ys = warp_transform(crs, grid.crs, [x, x + transform.a, x], [y, y, y + transform.e])
    return math.sqrt(math.hypot(xs[1] - xs[0], ys[1] - ys[0]) * math.hypot(xs[2] - xs[0], ys[2] - ys[0]))


def _probability_block(window: Window, grid: Grid, source: _Source, scale: float) -> np.ndarray:
    return _percent(_warp_block(window, grid, source, lambda values: values.astype("float64") / scale))


def _classes_block(window: Window, grid: Grid, source: _Source, active: tuple[int, ...]) -> np.ndarray:
    return _percent(_warp_block(window, grid, source, lambda values: np.isin(values, active).astype("float64")))


def _percent(fraction: np.ndarray) -> np.ndarray:
    """0-1 fractions (NaN = no data) -> uint8 percent, rounded half up; NaN -> 255; clipped to 0-1."""
    out = np.full(fraction.shape, ACTIVITY_NODATA, dtype=ACTIVITY_DTYPE)
    valid = np.isfinite(fraction)
    out[valid] = np.floor(np.clip(fraction[valid], 0.0, 1.0) * ACTIVITY_MAX + 0.5)
    return out


def _warp_block(window: Window, grid: Grid, source: _Source,
                values: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Warp the source under one grid block; float64 with NaN where there is no data.

    The block is assembled from fixed `WARP_TILE` tiles of the grid (each warped on its own), because
    GDAL's warper gives slightly different values (a few tenths of a percent) for the same pixel in
    destination windows of different sizes: fixed tiles make the result independent of the chunk size.
    They also bound the memory of a read: one tile's source pixels, however much finer the source is.
    """
    out = np.empty((int(window.height), int(window.width)))
    row0, col0 = int(window.row_off), int(window.col_off)
    row1, col1 = row0 + int(window.height), col0 + int(window.width)
    for tile_row in range(row0 // WARP_TILE * WARP_TILE, row1, WARP_TILE):
        for tile_col in range(col0 // WARP_TILE * WARP_TILE, col1, WARP_TILE):
            tile = Window(tile_col, tile_row, min(WARP_TILE, grid.width - tile_col),
                          min(WARP_TILE, grid.height - tile_row))
            warped = _warp_tile(tile, grid, source, values)
            r0, r1 = max(row0, tile_row), min(row1, tile_row + tile.height)
            c0, c1 = max(col0, tile_col), min(col1, tile_col + tile.width)
            out[r0 - row0:r1 - row0, c0 - col0:c1 - col0] = warped[r0 - tile_row:r1 - tile_row,
                                                                   c0 - tile_col:c1 - tile_col]
    return out


def _warp_tile(tile: Window, grid: Grid, source: _Source, values: Callable[[np.ndarray], np.ndarray]
               ) -> np.ndarray:
    """Read the source pixels under one tile of the grid (plus a margin) and warp their values onto it."""
    source_window = _source_window(grid.window_bounds(tile), grid.crs, source)
    if source_window is None:
        return np.full((int(tile.height), int(tile.width)), np.nan)
    factor = max(source.factor, math.ceil(math.sqrt(source_window.width * source_window.height / MAX_TILE_CELLS)))
    array, transform = _cell_means(source, source_window, factor, values)
    if _inside(source_window, source) and np.isfinite(array).all() and (array == array.flat[0]).all():
        return np.full((int(tile.height), int(tile.width)), float(array.flat[0]))  # what any resampling gives
    return _warp(array, transform, source, tile, grid)


def _inside(window: Window, source: _Source) -> bool:
    """Whether `window` (a tile's source pixels plus the margin) lies within the source, unclipped."""
    return (window.col_off > 0 and window.row_off > 0 and window.col_off + window.width < source.width
            and window.row_off + window.height < source.height)


def _cell_means(source: _Source, window: Window, factor: int, values: Callable[[np.ndarray], np.ndarray]
                ) -> tuple[np.ndarray, Affine]:
    """The mean valid value of each `factor` x `factor` cell of source pixels over `window` (NaN = none valid)
    and the cells' transform; cells lie on the lattice of the source origin, read in `READ_SIDE` pieces.

    A piece whose blocks were never written (a sparse GeoTIFF) is not read: it holds the file's nodata, or 0.
    """
    row0, col0 = int(window.row_off) // factor, int(window.col_off) // factor
    row1 = -(-(int(window.row_off) + int(window.height)) // factor)
    col1 = -(-(int(window.col_off) + int(window.width)) // factor)
    sums, counts = np.zeros((row1 - row0, col1 - col0)), np.zeros((row1 - row0, col1 - col0))
    step = max(1, READ_SIDE // factor) * factor
    bottom, right = min(row1 * factor, source.height), min(col1 * factor, source.width)
    with open_raster(source.path, require_crs=False) as dataset:
        fill = _sparse_fill(dataset, values)
        for top in range(row0 * factor, bottom, step):
            for left in range(col0 * factor, right, step):
                piece = Window(left, top, min(step, right - left), min(step, bottom - top))
                cells = (slice(top // factor - row0, -(-(top + piece.height) // factor) - row0),
                         slice(left // factor - col0, -(-(left + piece.width) // factor) - col0))
                if fill is not None and unwritten(dataset, piece):
                    if np.isfinite(fill):
                        pixels = np.outer(_cell_counts(int(piece.height), factor), _cell_counts(int(piece.width), factor))
                        sums[cells] += fill * pixels
                        counts[cells] += pixels
                    continue
                read = read_checked(dataset, 1, window=piece, masked=True)
                array = values(read.data)
                valid = ~np.ma.getmaskarray(read) & np.isfinite(array)
                sums[cells] += _cell_sums(np.where(valid, array, 0.0), factor)
                counts[cells] += _cell_sums(valid.astype("float64"), factor)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / counts, np.nan)
    transform = windows.transform(Window(col0 * factor, row0 * factor, 1, 1), source.transform)
    return means, transform * Affine.scale(factor)


def _sparse_fill(dataset, values: Callable[[np.ndarray], np.ndarray]) -> float | None:
    """The value an unwritten block of `dataset` stands for (NaN: no data), or None where unwritten blocks
    cannot be told by themselves (a mask band, which has blocks of its own)."""
    if not {MaskFlags.all_valid, MaskFlags.nodata} & set(dataset.mask_flag_enums[0]):
        return None
    if dataset.nodata is not None:
        return math.nan
    return float(values(np.zeros((1, 1), dtype=dataset.dtypes[0]))[0, 0])


def _cell_counts(length: int, factor: int) -> np.ndarray:
    """Pixels in each `factor`-pixel cell along a piece of `length` pixels (the last one may be partial)."""
    return np.diff(np.r_[np.arange(0, length, factor), length]).astype("float64")


def _cell_sums(array: np.ndarray, factor: int) -> np.ndarray:
    """Sums of `array` over `factor` x `factor` cells from its top-left corner (the last ones may be partial)."""
    if factor == 1:
        return array
    rows, cols = np.arange(0, array.shape[0], factor), np.arange(0, array.shape[1], factor)
    return np.add.reduceat(np.add.reduceat(array, rows, axis=0), cols, axis=1)


def _warp(array: np.ndarray, transform: Affine, source: _Source, tile: Window, grid: Grid) -> np.ndarray:
    """`array` (float64, NaN = no data; at `transform` in the source CRS) warped onto `tile` of `grid`.

    The array is held in an in-memory GeoTIFF and read through a `WarpedVRT` defined on the tile, with
    `WARP_TOLERANCE_PX` and the source's resampling.
    """
    with MemoryFile() as memory:
        with memory.open(driver="GTiff", width=array.shape[1], height=array.shape[0], count=1, dtype="float64",
                         crs=source.crs, transform=transform, nodata=np.nan) as held:
            held.write(array, 1)
        with memory.open() as held, WarpedVRT(
                held, crs=grid.crs, transform=windows.transform(tile, grid.transform), width=int(tile.width),
                height=int(tile.height), resampling=source.resampling, src_nodata=np.nan, nodata=np.nan,
                dtype="float64", tolerance=WARP_TOLERANCE_PX) as vrt:
            return vrt.read(1)


def _source_window(bounds: tuple[float, float, float, float], crs: CRS, source: _Source) -> Window | None:
    """The source pixels under `bounds` (grid CRS) plus a margin, clipped to the source; None if none."""
    west, south, east, north = transform_bounds(crs, source.crs, *bounds, densify_pts=_DENSIFY_POINTS)
    if not all(map(math.isfinite, (west, south, east, north))):
        return None
    cover = windows.from_bounds(west, south, east, north, transform=source.transform)
    col0 = math.floor(cover.col_off) - _SOURCE_MARGIN
    row0 = math.floor(cover.row_off) - _SOURCE_MARGIN
    col1 = math.ceil(cover.col_off + cover.width) + _SOURCE_MARGIN
    row1 = math.ceil(cover.row_off + cover.height) + _SOURCE_MARGIN
    col0, row0 = max(col0, 0), max(row0, 0)
    col1, row1 = min(col1, source.width), min(row1, source.height)
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)
