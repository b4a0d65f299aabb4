"""Detect limited to some countries: only the blocks of the regional grid over them are computed.

The regional grid and its blocks (``[raster] chunk_size`` pixels) are those of a full run. A block is
*inside* when its box touches the consistent outline of one of the countries (so it may hold a strip of a
neighbour, recomputed too). Inside blocks come from the inputs as in a full run, so their pixels are the
full run's; the other blocks are copied from the same period's layer of the previous run when that run has
one on the same grid, and are no data (255, which the `gaps` layer reports) otherwise.

The inputs are lazy, block by block (`raster.blocks`), and only the blocks a layer is made of are computed:
a raster input is read only under the inside blocks (rounded out to the fixed tiles it is warped in,
`warp.WARP_TILE` pixels), detection footprints are rasterised in inside blocks only, and a scene area that
touches no inside block is not read at all (`touches`). A detections file is still read whole (a vector file
cannot be read by area), and a scene area that touches the countries is detected whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import geopandas as gpd
import numpy as np
import shapely
import xarray as xr

from mrumonitor.raster.blocks import block_boxes, grid_array, grid_blocks, grid_chunks, on_grid
from mrumonitor.raster.cog import read_activity
from mrumonitor.raster.grid import Grid
from mrumonitor.schema import ACTIVITY_DTYPE, ACTIVITY_NODATA

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlockLimit:
    """The blocks of the regional grid a run limited to `countries` computes.

    Attributes
    ----------
    countries : tuple of str
    inside : frozenset of (int, int)
        Block indices (row, column) of the blocks touching the countries' outlines.
    area : shapely.Geometry
        Union of the inside blocks' boxes, in the grid CRS.
    total : int
        Blocks of the grid in all.
    """

    countries: tuple[str, ...]
    inside: frozenset[tuple[int, int]]
    area: shapely.Geometry
    total: int

    @classmethod
    def over(cls, countries: tuple[str, ...], grid: Grid, chunk: int, boundaries: gpd.GeoDataFrame) -> BlockLimit:
        """The blocks of `grid` (in `chunk`-pixel blocks) touching the outlines (iso3, geometry) of `countries`."""
        index, boxes = block_boxes(grid, chunk)
        outline = shapely.union_all(boundaries.loc[boundaries["iso3"].isin(countries)].geometry.to_numpy())
        touching = shapely.intersects(boxes, outline)
        limit = cls(countries, frozenset(map(tuple, index[touching].tolist())), shapely.union_all(boxes[touching]),
                    len(index))
        log.info("detect limited to %s: %d of %d blocks of the regional grid", ", ".join(countries),
                 len(limit.inside), limit.total)
        return limit

    def touches(self, bounds: tuple[float, float, float, float]) -> bool:
        """Whether a box (in the grid CRS) overlaps an inside block (edges touching do not count)."""
        return bool(shapely.intersects(self.area, shapely.box(*bounds))
                    and not shapely.touches(self.area, shapely.box(*bounds)))

    def manifest_entry(self) -> dict:
        return {"blocks": {"computed": len(self.inside), "total": self.total}}


def limit_activity(activity: xr.DataArray | None, grid: Grid, chunk: int, limit: BlockLimit,
                   previous: Path | None) -> tuple[xr.DataArray, bool]:
    """A period's layer: `activity`'s inside blocks, the previous layer's (or no data) elsewhere.

    Parameters
    ----------
    activity : xarray.DataArray or None
        The period's layer from its inputs (lazy; None when no input covers the inside blocks).
    previous : Path or None
        The previous run's COG of the period, if it has one; used only when it is on `grid`.

    Returns
    -------
    (xarray.DataArray, bool)
        The lazy layer, and whether the outside blocks come from `previous`.
    """
    rows, cols = grid_chunks(grid, chunk)
    fresh = (grid_blocks(activity, grid, chunk).rechunk((rows, cols)) if activity is not None
             else grid_array(grid, chunk, _no_data, name="no-data"))
    before = _on_grid(previous, grid, chunk)
    outside = before if before is not None else grid_array(grid, chunk, _no_data, name="no-data")
    pieces = [[(fresh if (i, j) in limit.inside else outside).blocks[i, j] for j in range(len(cols))]
              for i in range(len(rows))]
    return on_grid(da.block(pieces), grid), before is not None


def _on_grid(path: Path | None, grid: Grid, chunk: int) -> da.Array | None:
    """The blocks of the activity COG at `path` when it lies on `grid` (None when absent or on another grid)."""
    if path is None or not path.is_file():
        return None
    layer, its_grid, _ = read_activity(path, chunk)
    if its_grid != grid:
        log.warning("%s is not on the current regional grid; outside the limited blocks the layer has no data",
                    path)
        return None
    return layer.data


def _no_data(window) -> np.ndarray:
    return np.full((int(window.height), int(window.width)), ACTIVITY_NODATA, dtype=ACTIVITY_DTYPE)
