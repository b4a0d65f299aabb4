"""Activity layers as Cloud-Optimized GeoTIFFs: written block by block, moved into place atomically.

`write_activity_cog` computes a lazy activity array one dask block at a time and writes each block into a
tiled GeoTIFF beside the destination; GDAL's COG driver then turns that into the published file (DEFLATE,
predictor 2, 512 x 512 tiles, overviews), which replaces the destination in one `os.replace`. Memory is
one block plus GDAL's block cache (bounded by `GDAL_CACHE_BYTES`), whatever the size of the raster. A
failure at any point leaves the destination as it was and removes the files written aside.

Overviews use **average** resampling: the layer holds percentages, and the mean of the valid pixels under
an overview pixel is the share of its area under activity, the same rule `activity.land_on_grid` uses.
GDAL leaves no-data (255) pixels out of the mean, so an overview pixel is 255 only where every pixel
under it is. "nearest" would drop or keep small sites by chance at coarse zooms, and "mode" would erase
them (most pixels of any area are 0).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dask.array as da
import numpy as np
import rasterio
import rasterio.shutil
import xarray as xr
from rasterio.windows import Window

from mrumonitor.crs import norm_crs
from mrumonitor.errors import InputFileError
from mrumonitor.raster.blocks import grid_array, grid_blocks, on_grid
from mrumonitor.raster.engine import compute_bounded
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.io import open_raster, read_checked
from mrumonitor.schema import ACTIVITY_DTYPE, ACTIVITY_NODATA

log = logging.getLogger(__name__)

#: Tags every activity layer carries; the caller gives these (see `period_tags`).
REQUIRED_TAGS = ("PERIOD", "PERIOD_START", "PERIOD_END", "SOURCE")

#: Tags the writer sets itself.
FIXED_TAGS = {"UNITS": "percent", "NODATA_MEANS": "no valid observation"}

#: GDAL block cache while writing, in BYTES (rasterio passes GDAL_CACHEMAX to GDALSetCacheMax64, so a
#: plain 256 would mean 256 bytes, not MB): bounds the memory of the tiled write and of the COG conversion.
GDAL_CACHE_BYTES = 64 * 1024**2

#: Creation options of the published COG.
COG_OPTIONS = {"compress": "DEFLATE", "predictor": 2, "blocksize": 512, "overview_resampling": "AVERAGE",
               "bigtiff": "IF_SAFER", "num_threads": "ALL_CPUS"}

#: Tiled GeoTIFF written aside before the COG conversion (`cog_written_aside`): cheap compression, the COG's tile size.
ASIDE_OPTIONS = {"driver": "GTiff", "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "ZSTD",
                  "zstd_level": 1, "bigtiff": "IF_SAFER"}

#: Chunk size of the array `read_activity` returns, unless told.
READ_CHUNK = 1024


def period_tags(name: str, start, end, source: str, **extra: str) -> dict[str, str]:
    """The required tags of a period's layer (dates as ISO strings), plus any `extra` tags."""
    return {"PERIOD": name, "PERIOD_START": str(start), "PERIOD_END": str(end), "SOURCE": source,
            **{key.upper(): str(value) for key, value in extra.items()}}


def write_activity_cog(activity: xr.DataArray, grid: Grid, path: str | Path, tags: Mapping[str, str],
                       description: str = "activity",
                       on_chunk: Callable[[int, int], None] | None = None, in_flight: int = 1) -> Path:
    """Write an activity layer on `grid` to `path` as a COG, block by block, atomically.

    Parameters
    ----------
    activity
        uint8 percent (255 = no data) of `grid`'s shape, preferably dask-backed; each dask block is
        computed on its own (with the current dask scheduler) and written at once.
    tags
        Dataset tags: PERIOD, PERIOD_START, PERIOD_END and SOURCE are required (see `period_tags`);
        UNITS and NODATA_MEANS are set here.
    description
        The band description.
    on_chunk
        Called as ``on_chunk(done, total)`` after each block is written, for progress bars.
    in_flight
        Blocks computed at once (`engine.compute_bounded`; default one): memory is about this many blocks.
    """
    path = Path(path)
    data = _blocks_of(activity, grid)
    all_tags = _checked_tags(tags)
    with cog_written_aside(path) as aside:
        _write_tiled(data, grid, aside, all_tags, description, on_chunk, in_flight)
    log.info("wrote %s: %d x %d pixels, %d blocks, %.1f MB", path, grid.width, grid.height,
             data.npartitions, path.stat().st_size / 1e6)
    return path


@contextmanager
def cog_written_aside(path: Path, options: Mapping = COG_OPTIONS) -> Iterator[Path]:
    """Yield a path beside `path` for the caller to write a tiled GeoTIFF into (`ASIDE_OPTIONS`); when the block
    succeeds, GDAL's COG driver converts it with `options` and the COG replaces `path` in one `os.replace`.

    GDAL's block cache is held to `GDAL_CACHE_BYTES` meanwhile. The names aside are unique (two writers of one path
    never share a partial file); on any failure `path` is left as it was and the files aside are removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    aside = path.with_name(f".{path.name}.{token}.tiled.partial")
    converted = path.with_name(f".{path.name}.{token}.partial")
    try:
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES):
            yield aside
            rasterio.shutil.copy(aside, converted, driver="COG", **options)
        os.replace(converted, path)
    finally:
        for partial in (aside, converted):
            partial.unlink(missing_ok=True)


def _blocks_of(activity: xr.DataArray, grid: Grid) -> da.Array:
    """The dask array behind `activity`, checked against `grid` and the activity dtype."""
    if activity.dtype != np.dtype(ACTIVITY_DTYPE):
        raise ValueError(f"activity must be {ACTIVITY_DTYPE} percent with {ACTIVITY_NODATA} = no data, "
                         f"got {activity.dtype}")
    return grid_blocks(activity, grid, READ_CHUNK)


def _checked_tags(tags: Mapping[str, str]) -> dict[str, str]:
    missing = [key for key in REQUIRED_TAGS if not tags.get(key)]
    if missing:
        raise ValueError(f"activity tags lack {', '.join(missing)}; build them with period_tags(...)")
    return {**{key: str(value) for key, value in tags.items()}, **FIXED_TAGS}


def _write_tiled(data: da.Array, grid: Grid, path: Path, tags: dict[str, str], description: str,
                 on_chunk: Callable[[int, int], None] | None, in_flight: int) -> None:
    """Compute `data` `in_flight` blocks at a time and write each block into a tiled GeoTIFF at `path`."""
    profile = {**ASIDE_OPTIONS, "width": grid.width, "height": grid.height, "count": 1, "dtype": ACTIVITY_DTYPE,
               "crs": grid.crs, "transform": grid.transform, "nodata": ACTIVITY_NODATA}
    row_offsets = np.cumsum((0,) + data.chunks[0][:-1])
    col_offsets = np.cumsum((0,) + data.chunks[1][:-1])
    total = data.npartitions
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.set_band_description(1, description)
        dataset.units = ("percent",)
        dataset.update_tags(**tags)
        indexes = list(np.ndindex(*data.numblocks))
        for done, (k, block) in enumerate(compute_bounded([data.blocks[ij] for ij in indexes], in_flight), start=1):
            i, j = indexes[k]
            block = np.asarray(block, dtype=ACTIVITY_DTYPE)
            window = Window(int(col_offsets[j]), int(row_offsets[i]), block.shape[1], block.shape[0])
            dataset.write(block, 1, window=window)
            if on_chunk is not None:
                on_chunk(done, total)


def read_activity(path: str | Path, chunk: int = READ_CHUNK) -> tuple[xr.DataArray, Grid, dict[str, str]]:
    """An activity layer written by `write_activity_cog`: (lazy array, its grid, its tags).

    The array is read block by block when computed, through `raster.io.open_raster` / `read_checked`,
    so a damaged file fails with an `InputFileError` naming it.
    """
    path = Path(path)
    with open_raster(path, bands=1) as dataset:
        grid = _grid_of(dataset, path)
        tags = {key: value for key, value in dataset.tags().items() if key != "AREA_OR_POINT"}
        description = dataset.descriptions[0]
        nodata = dataset.nodata
    if nodata != ACTIVITY_NODATA:
        raise InputFileError(path, f"has nodata {nodata}, not {ACTIVITY_NODATA}: it is not an activity layer.",
                             "write activity layers with mrumonitor (write_activity_cog).")
    data = grid_array(grid, chunk, _read_block, path, name="read-activity")
    array = on_grid(data, grid, name=description or "activity")
    return array.assign_attrs(**tags), grid, tags


def _grid_of(dataset, path: Path) -> Grid:
    """The `Grid` of a north-up raster with square pixels."""
    t = dataset.transform
    if t.b != 0 or t.d != 0 or t.e != -t.a or t.a <= 0:
        raise InputFileError(path, f"is not on a north-up grid of square pixels (transform {tuple(t)[:6]}).",
                             "activity layers are written on the common grid; write it again.")
    return Grid(norm_crs(dataset.crs, str(path)), t.c, t.f, t.a, dataset.width, dataset.height)


def _read_block(window: Window, path: Path) -> np.ndarray:
    with open_raster(path, bands=1) as dataset:
        return read_checked(dataset, 1, window=window)
