"""Activity layers on the common grid, from the three non-scene input kinds; landing and combining them.

Every function returns a lazy, dask-backed uint8 `xarray.DataArray` (dims y, x) on a `Grid`, in percent
0-100 with 255 = no data (`schema.ACTIVITY_*`), chunked in square blocks of `chunk` pixels. A block is
computed from its own window of the grid only, so the result is the same whatever the chunk size and
memory grows with the chunk, never with the grid.

- **detections** (`detection_footprints`, `rasterize_detections`): points with a footprint area become
  circles of that area in the analysis CRS, polygons stay as they are; a pixel whose centre lies in a
  footprint is 100, every other pixel 0 (a detection survey observes the whole grid: no footprint means
  "observed, no activity", not "no data").
- **probability** (`warp_probability`) and **classes** (`warp_classes`): external rasters in any CRS and
  resolution, warped per block (see `_resampling` for the resampling rule). Source no-data and pixels
  outside the source become 255; 0 stays 0.
- `land_on_grid` averages a fine scene-area layer onto the coarser regional grid; `combine` merges layers.

Raster inputs are opened only through `raster.io.open_raster` and read with `read_checked`, so a damaged
file fails with an `InputFileError` naming it, at build time (not a GeoTIFF, no CRS, wrong band count) or
when its damaged blocks are read (a truncated GeoTIFF opens fine).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from dask.highlevelgraph import HighLevelGraph
from pyproj import CRS
from rasterio import features, windows
from rasterio.crs import CRS as RioCRS
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform_bounds
from rasterio.warp import transform as warp_transform
from rasterio.windows import Window

from mrumonitor.config import ActivityInput, CsvGeometry
from mrumonitor.crs import norm_crs
from mrumonitor.errors import ConfigError, InputFileError, MissingCRSError
from mrumonitor.ingest.harmonise import SourceContext, quarantine_rows
from mrumonitor.ingest.readers import READERS, UNPARSEABLE
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.io import open_raster, read_checked
from mrumonitor.schema import ACTIVITY_DTYPE, ACTIVITY_MAX, ACTIVITY_NODATA, QUARANTINE_COLUMNS, Reason

log = logging.getLogger(__name__)

#: Quarantine reason of a detection point whose footprint area is missing, not a number, zero or negative.
#: (Candidate for `schema.Reason`; kept here until that enum gains it.)


#: `layer` value of the quarantine rows of detection files.
DETECTIONS_LAYER = "detections"

#: Segments per quarter circle of a point's footprint (a 64-gon whose area is made exactly the given one).
FOOTPRINT_QUAD_SEGS = 16

#: Detection files are read in batches of this many records.
DETECTION_BATCH = 50_000

#: Vector formats a detections file may come in, by file suffix (the readers of `ingest.readers`).
DETECTION_FORMATS = {".csv": "csv", ".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson",
                     ".fgb": "flatgeobuf", ".shp": "shapefile", ".zip": "shapefile"}

#: Extra source pixels read around a block's footprint, so resampling kernels see all their neighbours.
_SOURCE_MARGIN = 2

#: Side, in grid pixels, of the fixed tiles external rasters are warped in (see `_warp_block`).
WARP_TILE = 256

#: Points per edge when a block's bounds are transformed into the source CRS.
_DENSIFY_POINTS = 21


# --- lazy arrays on a grid -----------------------------------------------------------------------------


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


def _percent(fraction: np.ndarray) -> np.ndarray:
    """0-1 fractions (NaN = no data) -> uint8 percent, rounded half up; NaN -> 255; clipped to 0-1."""
    out = np.full(fraction.shape, ACTIVITY_NODATA, dtype=ACTIVITY_DTYPE)
    valid = np.isfinite(fraction)
    out[valid] = np.floor(np.clip(fraction[valid], 0.0, 1.0) * ACTIVITY_MAX + 0.5)
    return out


# --- detections ----------------------------------------------------------------------------------------


def rasterize_detections(footprints: gpd.GeoDataFrame, grid: Grid, chunk: int) -> xr.DataArray:
    """Detection footprints as activity on `grid`: 100 where a pixel centre is in a footprint, else 0.

    Footprints (polygons) are selected per block with one STRtree query over all block boxes, and each
    block task carries only its own footprints. Footprints in another CRS are transformed to the grid's.
    """
    geoms = _grid_geometries(footprints, grid)
    index, boxes = block_boxes(grid, chunk)
    payloads = _footprints_per_block(geoms, index, boxes)
    log.debug("rasterising %d footprints on %d x %d pixels in %d blocks", len(geoms), grid.width, grid.height,
              len(index))
    data = grid_array(grid, chunk, _rasterize_block, grid, payloads=payloads, name="rasterize-detections")
    return on_grid(data, grid)


def _footprints_per_block(geoms: np.ndarray, index: np.ndarray, boxes: np.ndarray
                          ) -> dict[tuple[int, int], np.ndarray]:
    """Block (i, j) -> the footprints intersecting its box, from one STRtree query over all boxes."""
    block_of, geom_of = shapely.STRtree(geoms).query(boxes, predicate="intersects")
    if not len(block_of):
        return {}
    order = np.argsort(block_of, kind="stable")
    block_of, geom_of = block_of[order], geom_of[order]
    starts = np.flatnonzero(np.r_[True, block_of[1:] != block_of[:-1]])
    return {(int(index[b, 0]), int(index[b, 1])): geoms[part]
            for b, part in zip(block_of[starts], np.split(geom_of, starts[1:]), strict=True)}


def _grid_geometries(footprints: gpd.GeoDataFrame, grid: Grid) -> np.ndarray:
    """The footprint geometries in the grid CRS, without missing or empty ones."""
    if footprints.crs is None:
        raise ValueError("footprints have no CRS; set it (GeoDataFrame.set_crs) to the CRS of their coordinates")
    if CRS(footprints.crs) != grid.crs:
        log.info("footprints in %s transformed to the grid CRS", footprints.crs.to_string())
        footprints = footprints.to_crs(grid.crs)
    geoms = footprints.geometry.to_numpy()
    return geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]


def _rasterize_block(window: Window, grid: Grid, geoms: np.ndarray | None) -> np.ndarray:
    shape = (int(window.height), int(window.width))
    if geoms is None or len(geoms) == 0:
        return np.zeros(shape, dtype=ACTIVITY_DTYPE)
    return features.rasterize(geoms, out_shape=shape, transform=windows.transform(window, grid.transform),
                              fill=0, default_value=ACTIVITY_MAX, dtype=ACTIVITY_DTYPE)


def detection_footprints(path: str | Path, spec: ActivityInput, crs: Any, source_name: str = "detections"
                         ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read a detections file: (footprints in `crs`, quarantine rows). Every record is in one of the two.

    Points with an area (`spec.area_ha`, hectares) become circles of exactly that area in `crs` (a projected
    CRS, the analysis CRS); polygons are kept as they are. Formats are those of the cadastre readers, chosen
    by suffix (`DETECTION_FORMATS`); a CSV holds points in the `spec.x` / `spec.y` columns and needs
    `spec.crs`. The file's own CRS wins over `spec.crs`. `source_name` is the input's name in
    ``[activity.inputs]``; messages and quarantine rows name it.

    Records without coordinates, with coordinates that are not numbers or not valid in the CRS, of another
    geometry type, or points whose area is missing, zero or negative, go to the quarantine rows
    (`schema.QUARANTINE_COLUMNS`, layer "detections", with the source file, row and reason).
    """
    path, crs = Path(path), norm_crs(crs, "analysis CRS")
    stream = _open_detections(path, spec, source_name)
    if spec.area_ha and spec.area_ha not in stream.columns:
        raise InputFileError(path, f"has no column {spec.area_ha!r} (activity.inputs.{source_name}.area_ha); "
                                   f"its columns are: {', '.join(stream.columns)}.",
                             f"set activity.inputs.{source_name}.area_ha to the footprint-area column (hectares).")
    context = SourceContext(source_name, SimpleNamespace(country="", file=path), None, crs, 0.0)
    kept, quarantined = [], []
    for raw in stream.batches(DETECTION_BATCH):
        ok, rows = _footprint_batch(raw, spec, crs, context)
        kept.append(ok)
        quarantined.append(rows)
    footprints = _concat(kept, crs)
    quarantine = _concat(quarantined, crs, QUARANTINE_COLUMNS)
    log.info("%s: %d detection footprints, %d records quarantined (%s)", source_name, len(footprints),
             len(quarantine), path)
    return footprints, quarantine


def _open_detections(path: Path, spec: ActivityInput, name: str):
    """The readers' `RecordStream` over a detections file (format by suffix)."""
    if not path.is_file():
        raise InputFileError(path, "detections file not found.", f"check activity.inputs.{name}.path.")
    fmt = DETECTION_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"activity.inputs.{name}.path: {path.name} has an unknown suffix; detections may be "
                          f"{', '.join(sorted(DETECTION_FORMATS))} files.")
    fix_crs = f"set activity.inputs.{name}.crs to the CRS of its coordinates, e.g. 'EPSG:4326'."
    csv = None
    if fmt == "csv":
        if not (spec.x and spec.y):
            raise ConfigError(f"activity.inputs.{name}: a CSV of detections needs x and y (its coordinate columns).")
        if not spec.crs:
            raise MissingCRSError(path, "a CSV declares no CRS.", fix_crs)
        csv = CsvGeometry(x=spec.x, y=spec.y)
    source = SimpleNamespace(file=path, format=fmt, layer=None, encoding=None, crs=spec.crs, csv=csv)
    try:
        stream = READERS[fmt](name, source)
    except MissingCRSError:
        raise MissingCRSError(path, "declares no coordinate reference system.", fix_crs) from None
    missing = [column for column in (csv.x, csv.y) if column not in stream.columns] if csv else []
    if missing:
        raise InputFileError(path, f"has no column {', '.join(map(repr, missing))}; its columns are: "
                                   f"{', '.join(stream.columns)}.", f"set activity.inputs.{name}.x and .y.")
    return stream


def _footprint_batch(raw: gpd.GeoDataFrame, spec: ActivityInput, crs: CRS, context: SourceContext
                     ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """One batch of raw records -> (footprints in `crs`, quarantine rows)."""
    geoms = raw.geometry.to_numpy()
    projected = raw.geometry.to_crs(crs).to_numpy()
    type_id = shapely.get_type_id(geoms)
    point, polygon = type_id == 0, np.isin(type_id, (3, 6))
    area_text = (raw[spec.area_ha].astype("string").fillna("") if spec.area_ha
                 else pd.Series("", index=raw.index, dtype="string"))
    area = pd.to_numeric(area_text, errors="coerce").to_numpy(dtype=float)
    finite = np.isfinite(shapely.bounds(projected)).all(axis=1)
    absent = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    checks = [  # in order: the first failing check is the record's reason
        (raw[UNPARSEABLE].to_numpy(), Reason.UNPARSEABLE_GEOMETRY.value, "coordinates are not numbers"),
        (absent, Reason.EMPTY_GEOMETRY.value, "no coordinates"),
        (~(point | polygon), Reason.NOT_POLYGON.value, "neither a point with an area nor a polygon"),
        (~finite, Reason.INVALID_GEOMETRY.value, f"coordinates outside the valid range of {raw.crs.name}"),
        (point & (spec.area_ha is None), Reason.NOT_POLYGON.value,
         "a point, but the input names no area_ha column to give it a footprint"),
        (point & ~(area > 0), Reason.INVALID_AREA.value,
         ("area_ha is '" + area_text + "'; a footprint needs a positive area in hectares").to_numpy(dtype=object)),
    ]
    reason, detail = np.full(len(raw), None, dtype=object), np.full(len(raw), None, dtype=object)
    ok = np.ones(len(raw), dtype=bool)
    for mask, code, text in checks:
        new = mask & ok
        reason[new] = code
        detail[new] = text[new] if isinstance(text, np.ndarray) else text
        ok &= ~new
    shapes = np.where(point & ok, _circles(projected, area), projected)
    attributes = raw.drop(columns=[raw.geometry.name, UNPARSEABLE])[ok]
    footprints = gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(shapes[ok], index=attributes.index, crs=crs))
    footprints["footprint_ha"] = footprints.area / 10_000.0
    rows = quarantine_rows(raw[~ok], pd.Series(reason[~ok]), pd.Series(detail[~ok]),
                           pd.Series([""] * int((~ok).sum()), dtype=object), context, layer=DETECTIONS_LAYER)
    return footprints.reset_index(drop=True), rows


def _circles(points: np.ndarray, area_ha: np.ndarray) -> np.ndarray:
    """Regular 64-gons around `points` whose area is exactly `area_ha` (NaN/<=0 areas give None)."""
    n = 4 * FOOTPRINT_QUAD_SEGS
    area_m2 = np.where(area_ha > 0, area_ha, np.nan) * 10_000.0
    radius = np.sqrt(2.0 * area_m2 / (n * math.sin(2.0 * math.pi / n)))
    valid = np.isfinite(radius) & (shapely.get_type_id(points) == 0)
    out = np.full(len(points), None, dtype=object)
    out[valid] = shapely.buffer(points[valid], radius[valid], quad_segs=FOOTPRINT_QUAD_SEGS)
    return out


def _concat(frames: list[gpd.GeoDataFrame], crs: CRS, columns: dict[str, str] | None = None
            ) -> gpd.GeoDataFrame:
    frames = [frame for frame in frames if len(frame)] or frames[:1]
    if not frames:
        empty = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in (columns or {}).items()})
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)


# --- external rasters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """What a block task needs to know about a raster input (small, picklable)."""

    path: Path
    crs: RioCRS
    transform: Any
    width: int
    height: int
    resampling: Resampling


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
    log.info("%s: %d x %d pixels of about %.1f m in %s, warped with %s resampling", path, width, height,
             source_res, crs.to_string(), resampling.name)
    return _Source(path, crs, transform, width, height, resampling)


def _source_resolution(crs: RioCRS, transform, grid: Grid) -> float:
    """Side of a source pixel in grid metres, measured at the centre of the grid (any source CRS)."""
    left, bottom, right, top = grid.bounds
    [x], [y] = warp_transform(grid.crs, crs, [(left + right) / 2], [(bottom + top) / 2])
    xs, ys = warp_transform(crs, grid.crs, [x, x + transform.a, x], [y, y, y + transform.e])
    return math.sqrt(math.hypot(xs[1] - xs[0], ys[1] - ys[0]) * math.hypot(xs[2] - xs[0], ys[2] - ys[0]))


def _probability_block(window: Window, grid: Grid, source: _Source, scale: float) -> np.ndarray:
    return _percent(_warp_block(window, grid, source, lambda values: values.astype("float64") / scale))


def _classes_block(window: Window, grid: Grid, source: _Source, active: tuple[int, ...]) -> np.ndarray:
    return _percent(_warp_block(window, grid, source, lambda values: np.isin(values, active).astype("float64")))


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
    """Read the source pixels under one tile of the grid (plus a margin) and warp them onto it."""
    out = np.full((int(tile.height), int(tile.width)), np.nan)
    source_window = _source_window(grid.window_bounds(tile), grid.crs, source)
    if source_window is None:
        return out
    with open_raster(source.path, require_crs=False) as dataset:
        read = read_checked(dataset, 1, window=source_window, masked=True)
    array = values(read.data)
    array[np.ma.getmaskarray(read) | ~np.isfinite(array)] = np.nan
    reproject(array, out, src_transform=windows.transform(source_window, source.transform), src_crs=source.crs,
              src_nodata=np.nan, dst_transform=windows.transform(tile, grid.transform), dst_crs=grid.crs,
              dst_nodata=np.nan, resampling=source.resampling)
    return out


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


# --- landing and combining -----------------------------------------------------------------------------


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


# --- one input, one period -----------------------------------------------------------------------------


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
        footprints, quarantine = detection_footprints(path, spec, grid.crs, name)
        return rasterize_detections(footprints, grid, chunk), quarantine
    empty = _concat([], grid.crs, QUARANTINE_COLUMNS)
    if spec.kind == "probability":
        return warp_probability(path, grid, chunk, spec.scale, spec.crs), empty
    if spec.kind == "classes":
        return warp_classes(path, grid, chunk, spec.active_classes, spec.crs), empty
    raise ConfigError(f"activity.inputs.{name}.kind: {spec.kind!r} inputs are made by the built-in detector, "
                      "not read here; this function reads detections, probability and classes.")
