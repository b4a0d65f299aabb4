"""Putting activity layers together on the regional grid: a fine layer landed on it, layers combined.

`land_on_grid` averages a fine scene-area layer (e.g. 20 m) onto the coarser regional grid it nests in;
`combine` takes, per pixel, the highest activity among the layers that have data there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import reduce

import dask.array as da
import numpy as np
import xarray as xr
from rasterio.windows import Window

from mrumonitor.raster.blocks import grid_array, on_grid
from mrumonitor.raster.grid import Grid
from mrumonitor.schema import ACTIVITY_DTYPE, ACTIVITY_NODATA


def land_on_grid(fine: xr.DataArray, fine_grid: Grid, grid: Grid, chunk: int | None = None) -> xr.DataArray:
    """A fine activity layer (e.g. a 20 m scene area) on the coarser `grid` it nests in (e.g. 100 m).

    Each coarse cell gets the mean of its valid fine pixels (rounded half up), 255 where none is valid
    and everywhere outside the fine area. The fine grid must nest: same CRS, a resolution dividing the
    coarse one, and an origin on its pixel lattice (what `Grid.covering` gives). Parts of the fine area
    outside `grid` are dropped. `chunk` defaults to the fine array's chunk size.

    The cell means of the area (k² times smaller than the fine layer) are computed here, block by block;
    the regional array is lazy, each of its blocks cutting its part out of them, so a block far from the
    area costs nothing but its fill.
    """
    k = _nesting(fine_grid, grid)
    if fine.shape != fine_grid.shape:
        raise ValueError(f"fine array of shape {fine.shape} is not on its grid of shape {fine_grid.shape}")
    data = fine.data if isinstance(fine.data, da.Array) else da.from_array(fine.data, chunks=1024)
    chunk = chunk or int(data.chunksize[0])
    col0 = round((fine_grid.left - grid.left) / fine_grid.resolution)
    row0 = round((grid.top - fine_grid.top) / fine_grid.resolution)
    # pad the fine area to whole coarse cells, with no data
    pad_top, pad_left = row0 - (row0 // k) * k, col0 - (col0 // k) * k
    pad_bottom = -(row0 + fine_grid.height) % k
    pad_right = -(col0 + fine_grid.width) % k
    padded = da.pad(data, ((pad_top, pad_bottom), (pad_left, pad_right)), constant_values=ACTIVITY_NODATA)
    padded = padded.rechunk(max(k, (chunk // k) * k))
    cells = padded.map_blocks(_cell_means, k, dtype=ACTIVITY_DTYPE,
                              chunks=tuple(tuple(c // k for c in axis) for axis in padded.chunks)).compute()
    return on_grid(grid_array(grid, chunk, _place_block, cells, (row0 // k, col0 // k)), grid)


def _place_block(window: Window, cells: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    """The block of the regional grid at `window`: no data, with the part of `cells` (whose first cell is
    at row, col `origin` of the grid, maybe outside it) that falls in the block."""
    block = np.full((window.height, window.width), ACTIVITY_NODATA, dtype=ACTIVITY_DTYPE)
    top, left = origin[0] - window.row_off, origin[1] - window.col_off
    rows = slice(max(top, 0), min(top + cells.shape[0], window.height))
    cols = slice(max(left, 0), min(left + cells.shape[1], window.width))
    if rows.start < rows.stop and cols.start < cols.stop:
        block[rows, cols] = cells[rows.start - top:rows.stop - top, cols.start - left:cols.stop - left]
    return block


def _nesting(fine_grid: Grid, grid: Grid) -> int:
    """The number of fine pixels per coarse pixel side; ValueError when the fine grid does not nest."""
    k = round(grid.resolution / fine_grid.resolution)
    offsets = ((fine_grid.left - grid.left) / fine_grid.resolution, (grid.top - fine_grid.top) / fine_grid.resolution)
    problems = []
    if fine_grid.crs != grid.crs:
        problems.append(f"its CRS ({fine_grid.crs.name}) is not the grid's ({grid.crs.name})")
    if k < 1 or not math.isclose(k * fine_grid.resolution, grid.resolution, rel_tol=1e-9):
        problems.append(f"its resolution {fine_grid.resolution} m does not divide {grid.resolution} m")
    if not all(math.isclose(o, round(o), abs_tol=1e-6) for o in offsets):
        problems.append("its origin is not on the pixel lattice of the grid")
    if problems:
        raise ValueError("the fine grid does not nest in the grid: " + "; ".join(problems) +
                         ". Build both with Grid.covering in the analysis CRS.")
    return k


def _cell_means(block: np.ndarray, k: int) -> np.ndarray:
    """Mean of the valid (not 255) values of each k x k cell, rounded half up; 255 where none valid."""
    h, w = block.shape[0] // k, block.shape[1] // k
    cells = block.reshape(h, k, w, k)
    valid = cells != ACTIVITY_NODATA
    total = np.where(valid, cells, 0).sum(axis=(1, 3), dtype=np.int64)
    count = valid.sum(axis=(1, 3), dtype=np.int64)
    mean = (2 * total + count) // np.maximum(2 * count, 1)
    return np.where(count > 0, mean, ACTIVITY_NODATA).astype(ACTIVITY_DTYPE)


def combine(layers: Sequence[xr.DataArray]) -> xr.DataArray:
    """Per pixel, the highest activity among the layers that have data there; 255 only where none has.

    The layers must share one grid (same shape and coordinates).
    """
    if not layers:
        raise ValueError("combine needs at least one activity layer")
    aligned = xr.align(*layers, join="exact")
    chunks = dict(zip(aligned[0].dims, aligned[0].chunks or ()))
    aligned = [layer.chunk(chunks) if chunks else layer for layer in aligned]  # blocks stay one-to-one
    combined = reduce(_combine_two, aligned)
    return combined.astype(ACTIVITY_DTYPE).assign_attrs(nodata=ACTIVITY_NODATA, units="percent")


def _combine_two(a: xr.DataArray, b: xr.DataArray) -> xr.DataArray:
    return xr.where(a == ACTIVITY_NODATA, b, xr.where(b == ACTIVITY_NODATA, a, np.maximum(a, b)))
