"""Lazy activity arrays on a `Grid`, computed block by block.

An activity layer is a dask-backed uint8 `xarray.DataArray` (dims y, x) in percent 0-100 with 255 = no
data (`schema.ACTIVITY_*`), chunked in square blocks of `chunk` pixels. `grid_array` builds one from a
function of a block's window, so a block is computed from its own window of the grid only: the result is
the same whatever the chunk size, and memory grows with the chunk, never with the grid.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

import dask.array as da
import numpy as np
import shapely
import xarray as xr
from dask.highlevelgraph import HighLevelGraph
from rasterio.windows import Window

from mrumonitor.raster.grid import Grid
from mrumonitor.schema import ACTIVITY_DTYPE, ACTIVITY_NODATA


def grid_chunks(grid: Grid, chunk: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Dask chunks of `grid` in square blocks of `chunk` pixels (the blocks of `Grid.windows`)."""
    if chunk <= 0:
        raise ValueError(f"chunk size must be positive, got {chunk}")
    return (tuple(min(chunk, grid.height - r) for r in range(0, grid.height, chunk)),
            tuple(min(chunk, grid.width - c) for c in range(0, grid.width, chunk)))


def grid_array(grid: Grid, chunk: int, block: Callable[..., np.ndarray], *args: Any,
               payloads: Mapping[tuple[int, int], Any] | None = None, name: str = "activity") -> da.Array:
    """A lazy uint8 array on `grid` whose block (i, j) is ``block(window, *args[, payload])``.

    `window` is the block's `Window` of the grid. With `payloads`, each block also gets its own payload
    (None for blocks without one), so a task carries only the data of its window (e.g. its footprints).
    """
    rows, cols = grid_chunks(grid, chunk)
    key = f"{name}-{uuid.uuid4().hex}"
    row_offsets, col_offsets = np.cumsum((0,) + rows[:-1]), np.cumsum((0,) + cols[:-1])
    graph = {}
    for i, (row, height) in enumerate(zip(row_offsets, rows, strict=True)):
        for j, (col, width) in enumerate(zip(col_offsets, cols, strict=True)):
            task_args = (Window(int(col), int(row), width, height), *args)
            if payloads is not None:
                task_args += (payloads.get((i, j)),)
            graph[(key, i, j)] = (block, *task_args)
    layer = HighLevelGraph.from_collections(key, graph, dependencies=[])
    return da.Array(layer, key, chunks=(rows, cols), dtype=ACTIVITY_DTYPE, meta=np.empty((0, 0), ACTIVITY_DTYPE))


def on_grid(data: da.Array, grid: Grid, name: str = "activity") -> xr.DataArray:
    """Wrap a (y, x) array of `grid` as a DataArray with pixel-centre coordinates and the activity attrs."""
    if data.shape != grid.shape:
        raise ValueError(f"array of shape {data.shape} is not on the grid of shape {grid.shape}")
    x, y = grid.coords()
    return xr.DataArray(data, dims=("y", "x"), coords={"y": y, "x": x}, name=name,
                        attrs={"nodata": ACTIVITY_NODATA, "units": "percent"})


def block_boxes(grid: Grid, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Block indices (n, 2: i, j) and block boxes (n,) in grid coordinates, row-major."""
    rows, cols = grid_chunks(grid, chunk)
    i, j = np.meshgrid(np.arange(len(rows)), np.arange(len(cols)), indexing="ij")
    i, j = i.ravel(), j.ravel()
    left = grid.left + j * chunk * grid.resolution
    top = grid.top - i * chunk * grid.resolution
    right = np.minimum(left + chunk * grid.resolution, grid.bounds[2])
    bottom = np.maximum(top - chunk * grid.resolution, grid.bounds[1])
    return np.column_stack([i, j]), shapely.box(left, bottom, right, top)


def grid_blocks(activity: xr.DataArray, grid: Grid, chunk: int) -> da.Array:
    """The values of an activity layer on `grid` as a (y, x) dask array; a numpy-backed one is wrapped in
    `chunk`-pixel blocks. ValueError when its dims or shape are not the grid's."""
    if set(activity.dims) != {"y", "x"}:
        raise ValueError(f"activity must have dims ('y', 'x'), got {activity.dims}")
    data = activity.transpose("y", "x").data
    if data.shape != grid.shape:
        raise ValueError(f"activity of shape {data.shape} does not match the grid ({grid.shape})")
    return data if isinstance(data, da.Array) else da.from_array(data, chunks=chunk)
