"""Activity layers on the common grid, from the three non-scene input kinds; landing and combining them.

Every layer is a lazy, dask-backed uint8 `xarray.DataArray` (dims y, x) on a `Grid`, in percent 0-100
with 255 = no data (`schema.ACTIVITY_*`), chunked in square blocks of `chunk` pixels; a block is computed
from its own window of the grid only (`raster.blocks`), so the result is the same whatever the chunk
size and memory grows with the chunk, never with the grid.

- **detections** (`raster.footprints`): points with a footprint area become circles of that area,
  polygons stay as they are; a pixel whose centre lies in a footprint is 100, every other pixel 0.
- **probability** and **classes** (`raster.warp`): external rasters in any CRS and resolution, warped
  per block; source no-data and pixels outside the source become 255, 0 stays 0. Each file is first
  checked for plausibility (`raster.plausibility`: covers the region, has valid pixels, values in the
  declared range).
- `land_on_grid` averages a fine scene-area layer onto the coarser regional grid; `combine` merges
  layers (`raster.combine`).

This module is the public entry: `input_activity` reads one input for one period, and the names of the
modules above are re-exported from here.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import xarray as xr

from mrumonitor.config import ActivityInput
from mrumonitor.errors import ConfigError
from mrumonitor.layerio import empty_quarantine
from mrumonitor.raster.blocks import block_boxes, grid_array, grid_chunks, on_grid
from mrumonitor.raster.combine import combine, land_on_grid
from mrumonitor.raster.footprints import detection_footprints, rasterize_detections
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.plausibility import check_raster_input
from mrumonitor.raster.warp import warp_classes, warp_probability

__all__ = [
    "block_boxes",
    "combine",
    "detection_footprints",
    "grid_array",
    "grid_chunks",
    "input_activity",
    "land_on_grid",
    "on_grid",
    "period_path",
    "rasterize_detections",
    "warp_classes",
    "warp_probability",
]


def period_path(spec: ActivityInput, period: str) -> Path:
    """The input's file for `period` (its `path` with {period} replaced by the period name)."""
    return Path(spec.path.replace("{period}", period))


def input_activity(name: str, spec: ActivityInput, period: str, grid: Grid, chunk: int
                   ) -> tuple[xr.DataArray, gpd.GeoDataFrame]:
    """The activity of input `name` in `period` on `grid`, and its quarantine rows (empty for rasters).

    Scene inputs are the built-in detector's; asking for one here is a ConfigError.
    """
    path = period_path(spec, period)
    if spec.kind == "detections":
        footprints, quarantine = detection_footprints(path, spec, grid.crs, name, region=grid.bounds)
        return rasterize_detections(footprints, grid, chunk), quarantine
    if spec.kind in ("probability", "classes"):
        check_raster_input(name, spec, path, grid)
    if spec.kind == "probability":
        return warp_probability(path, grid, chunk, spec.scale, spec.crs), empty_quarantine(grid.crs)
    if spec.kind == "classes":
        return warp_classes(path, grid, chunk, spec.active_classes, spec.crs), empty_quarantine(grid.crs)
    raise ConfigError(f"activity.inputs.{name}.kind: {spec.kind!r} inputs are made by the built-in detector, "
                      "not read here; this function reads detections, probability and classes.")
