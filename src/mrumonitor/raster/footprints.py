"""Detections as activity: a detections file -> footprints (+ quarantine rows) -> a raster on the grid.

Points with a footprint area become circles of that area in the analysis CRS, polygons stay as they are
(`detection_footprints`); a pixel whose centre lies in a footprint gets the footprint's activity (100, or
its probability in percent when the input names a probability column; the highest where footprints
overlap), every other pixel 0 (`rasterize_detections`): a detection survey observes the whole grid, so no
footprint means "observed, no activity", not "no data".

Implausible records are quarantined, never burnt: a footprint larger than `max_area_ha` (default 100,000
ha: 12 times the largest of the 5,026 real detections of the region, 8,562 ha, and 1.4 % of Sierra Leone;
one row of 1e12 ha once made the whole grid one site), a probability outside 0-1, a detection outside the
region. A file that gives no usable detection at all is used (no mining anywhere) with a recorded warning.
Files are read by the shared vector readers (`layerio.readers.open_vector`), and records that cannot become a
footprint go to quarantine rows like the cadastre's (`layerio.quarantine`).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from pyproj import CRS
from rasterio import features, windows
from rasterio.windows import Window

from mrumonitor.config import ActivityInput, CsvGeometry
from mrumonitor.crs import norm_crs
from mrumonitor.errors import ConfigError, InputFileError
from mrumonitor.frames import concat_frames
from mrumonitor.layerio import UNPARSEABLE, RecordStream, open_vector, quarantine_rows
from mrumonitor.raster.blocks import block_boxes, grid_array, on_grid
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.io import IN_MEMORY_DATASET_LOCK
from mrumonitor.runwarnings import record_warning
from mrumonitor.schema import ACTIVITY_DTYPE, ACTIVITY_MAX, QUARANTINE_COLUMNS, Reason

log = logging.getLogger(__name__)

#: `layer` value of the quarantine rows of detection files.
DETECTIONS_LAYER = "detections"

#: Segments per quarter circle of a point's footprint (a 64-gon whose area is made exactly the given one).
FOOTPRINT_QUAD_SEGS = 16

#: Detection files are read in batches of this many records.
DETECTION_BATCH = 50_000

#: Vector formats a detections file may come in, by file suffix (the readers of `layerio.readers`).
DETECTION_FORMATS = {".csv": "csv", ".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson",
                     ".fgb": "flatgeobuf", ".shp": "shapefile", ".zip": "shapefile"}


# --- file -> footprints --------------------------------------------------------------------------------


def detection_footprints(path: str | Path, spec: ActivityInput, crs: Any, source_name: str = "detections",
                         region: tuple[float, float, float, float] | None = None
                         ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read a detections file: (footprints in `crs`, quarantine rows). Every record is in one of the two.

    Points with an area (`spec.area_ha`, hectares) become circles of exactly that area in `crs` (a projected
    CRS, the analysis CRS); polygons are kept as they are. Formats are those of the cadastre readers, chosen
    by suffix (`DETECTION_FORMATS`); a CSV holds points in the `spec.x` / `spec.y` columns and needs
    `spec.crs`. The file's own CRS wins over `spec.crs`. `source_name` is the input's name in
    ``[activity.inputs]``; messages and quarantine rows name it.

    Records without coordinates, with coordinates that are not numbers or not valid in the CRS, of another
    geometry type, outside `region` (minx, miny, maxx, maxy in `crs`: the regional grid's bounds), points
    whose area is missing, zero or negative, footprints larger than `spec.max_area_ha`, and (with a
    `spec.probability` column) a probability that is not a number in 0-1 once divided by `spec.scale` go
    to the quarantine rows (`schema.QUARANTINE_COLUMNS`, layer "detections", with the source file, row and
    reason). Footprints carry their activity in percent in the column ``activity``.
    """
    path, crs = Path(path), norm_crs(crs, "analysis CRS")
    stream = _open_detections(path, spec, source_name)
    for key, meaning in (("area_ha", "the footprint-area column (hectares)"),
                         ("probability", "the detection-probability column, or remove the key")):
        column = getattr(spec, key)
        if column and column not in stream.columns:
            raise InputFileError(path, f"has no column {column!r} (activity.inputs.{source_name}.{key}); "
                                       f"its columns are: {', '.join(stream.columns)}.",
                                 f"set activity.inputs.{source_name}.{key} to {meaning}.")
    origin = {"layer": DETECTIONS_LAYER, "source_name": source_name, "country": "", "source_file": path,
              "crs": crs}
    kept, quarantined = [], []
    for raw in stream.batches(DETECTION_BATCH):
        ok, rows = _footprint_batch(raw, spec, crs, origin, region)
        kept.append(ok)
        quarantined.append(rows)
    footprints = concat_frames(kept, crs)
    quarantine = concat_frames(quarantined, crs, QUARANTINE_COLUMNS)
    if footprints.empty:
        record_warning("detect", path, f"gives no usable detection ({len(quarantine)} records, all quarantined): "
                                       "the period reads as observed with no mining anywhere. Check that it is "
                                       "the right file.")
    log.info("%s: %d detection footprints, %d records quarantined (%s)", source_name, len(footprints),
             len(quarantine), path)
    return footprints, quarantine


def _open_detections(path: Path, spec: ActivityInput, name: str) -> RecordStream:
    """The readers' `RecordStream` over a detections file (format by suffix)."""
    label = f"activity.inputs.{name}"
    if not path.is_file():
        raise InputFileError(path, "detections file not found.", f"check {label}.path.")
    fmt = DETECTION_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"{label}.path: {path.name} has an unknown suffix; detections may be "
                          f"{', '.join(sorted(DETECTION_FORMATS))} files.")
    csv = None
    if fmt == "csv":
        if not (spec.x and spec.y):
            raise ConfigError(f"{label}: a CSV of detections needs x and y (its coordinate columns).")
        csv = CsvGeometry(x=spec.x, y=spec.y)
    stream = open_vector(path, fmt, label, crs=spec.crs, encoding=spec.encoding, csv=csv, layer=spec.layer)
    missing = [column for column in (csv.x, csv.y) if column not in stream.columns] if csv else []
    if missing:
        raise InputFileError(path, f"has no column {', '.join(map(repr, missing))}; its columns are: "
                                   f"{', '.join(stream.columns)}.", f"set {label}.x and .y.")
    return stream


def _footprint_batch(raw: gpd.GeoDataFrame, spec: ActivityInput, crs: CRS, origin: dict,
                     region: tuple[float, float, float, float] | None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """One batch of raw records -> (footprints in `crs`, quarantine rows)."""
    geoms = raw.geometry.to_numpy()
    projected = raw.geometry.to_crs(crs).to_numpy()
    type_id = shapely.get_type_id(geoms)
    point, polygon = type_id == 0, np.isin(type_id, (3, 6))
    area_text, area = _numbers(raw, spec.area_ha)
    area = np.where(point, area, shapely.area(projected) / 10_000.0)
    probability_text, probability = _numbers(raw, spec.probability)
    probability = probability / spec.scale if spec.probability else np.ones(len(raw))
    finite = np.isfinite(shapely.bounds(projected)).all(axis=1)
    absent = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    inside = shapely.intersects(projected, shapely.box(*region)) if region is not None else np.ones(len(raw), bool)
    checks = [  # in order: the first failing check is the record's reason
        (raw[UNPARSEABLE].to_numpy(), Reason.UNPARSEABLE_GEOMETRY.value, "coordinates are not numbers"),
        (absent, Reason.EMPTY_GEOMETRY.value, "no coordinates"),
        (~(point | polygon), Reason.NOT_POLYGON.value, "neither a point with an area nor a polygon"),
        (~finite, Reason.INVALID_GEOMETRY.value, f"coordinates outside the valid range of {raw.crs.name}"),
        (~inside, Reason.OUTSIDE_COUNTRY.value,
         "outside the region (the project countries plus raster.margin_km): check the coordinates and the crs"),
        (point & (spec.area_ha is None), Reason.NOT_POLYGON.value,
         "a point, but the input names no area_ha column to give it a footprint"),
        (point & ~(area > 0), Reason.INVALID_AREA.value,
         ("area_ha is '" + area_text + "'; a footprint needs a positive area in hectares").to_numpy(dtype=object)),
        (area > spec.max_area_ha, Reason.INVALID_AREA.value,
         np.char.add(np.char.mod("footprint of %.6g ha, larger than any mine: above max_area_ha ", area),
                     f"({spec.max_area_ha:g} ha)").astype(object)),
        (~((probability >= 0) & (probability <= 1)), Reason.INVALID_PROBABILITY.value,
         ("probability is '" + probability_text + f"'; divided by scale ({spec.scale:g}) it must be a number in "
          "0-1").to_numpy(dtype=object)),
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
    footprints["activity"] = np.floor(probability[ok] * ACTIVITY_MAX + 0.5).astype(ACTIVITY_DTYPE)
    rows = quarantine_rows(raw[~ok], pd.Series(reason[~ok]), pd.Series(detail[~ok]),
                           pd.Series([""] * int((~ok).sum()), dtype=object), **origin)
    return footprints.reset_index(drop=True), rows


def _numbers(raw: gpd.GeoDataFrame, column: str | None) -> tuple[pd.Series, np.ndarray]:
    """The text of `column` ("" where missing or no column) and its numbers (NaN where not a number)."""
    text = raw[column].astype("string").fillna("") if column else pd.Series("", index=raw.index, dtype="string")
    return text, pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)


def _circles(points: np.ndarray, area_ha: np.ndarray) -> np.ndarray:
    """Regular 64-gons around `points` whose area is exactly `area_ha` (NaN/<=0 areas give None)."""
    n = 4 * FOOTPRINT_QUAD_SEGS
    area_m2 = np.where(area_ha > 0, area_ha, np.nan) * 10_000.0
    radius = np.sqrt(2.0 * area_m2 / (n * math.sin(2.0 * math.pi / n)))
    valid = np.isfinite(radius) & (shapely.get_type_id(points) == 0)
    out = np.full(len(points), None, dtype=object)
    out[valid] = shapely.buffer(points[valid], radius[valid], quad_segs=FOOTPRINT_QUAD_SEGS)
    return out


# --- footprints -> raster ------------------------------------------------------------------------------


def rasterize_detections(footprints: gpd.GeoDataFrame, grid: Grid, chunk: int) -> xr.DataArray:
    """Detection footprints as activity on `grid`: where a pixel centre is in a footprint, its ``activity``
    (percent; 100 without that column; the highest where footprints overlap), else 0.

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


def _grid_geometries(footprints: gpd.GeoDataFrame, grid: Grid) -> np.ndarray:
    """(geometry, activity) pairs of the footprints in the grid CRS, without missing or empty geometries,
    by increasing activity (so that, burnt in order, the highest wins where footprints overlap)."""
    if footprints.crs is None:
        raise ValueError("footprints have no CRS; set it (GeoDataFrame.set_crs) to the CRS of their coordinates")
    if CRS(footprints.crs) != grid.crs:
        log.info("footprints in %s transformed to the grid CRS", footprints.crs.to_string())
        footprints = footprints.to_crs(grid.crs)
    geoms = footprints.geometry.to_numpy()
    activity = (footprints["activity"].to_numpy() if "activity" in footprints
                else np.full(len(footprints), ACTIVITY_MAX, dtype=ACTIVITY_DTYPE))
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    order = np.argsort(activity[keep], kind="stable")
    pairs = np.empty(int(keep.sum()), dtype=object)
    pairs[:] = list(zip(geoms[keep][order], activity[keep][order].tolist(), strict=True))
    return pairs


def _footprints_per_block(geoms: np.ndarray, index: np.ndarray, boxes: np.ndarray
                          ) -> dict[tuple[int, int], np.ndarray]:
    """Block (i, j) -> the footprints intersecting its box, from one STRtree query over all boxes."""
    block_of, geom_of = shapely.STRtree([geom for geom, _ in geoms]).query(boxes, predicate="intersects")
    if not len(block_of):
        return {}
    order = np.lexsort((geom_of, block_of))  # by block, then in burning order
    block_of, geom_of = block_of[order], geom_of[order]
    starts = np.flatnonzero(np.r_[True, block_of[1:] != block_of[:-1]])
    return {(int(index[b, 0]), int(index[b, 1])): geoms[part]
            for b, part in zip(block_of[starts], np.split(geom_of, starts[1:]), strict=True)}


def _rasterize_block(window: Window, grid: Grid, geoms: np.ndarray | None) -> np.ndarray:
    shape = (int(window.height), int(window.width))
    if geoms is None or len(geoms) == 0:
        return np.zeros(shape, dtype=ACTIVITY_DTYPE)
    with IN_MEMORY_DATASET_LOCK:
        return features.rasterize(list(geoms), out_shape=shape, transform=windows.transform(window, grid.transform),
                                  fill=0, dtype=ACTIVITY_DTYPE)
