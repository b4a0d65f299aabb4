"""Detections as activity: a detections file -> footprints (+ quarantine rows) -> a raster on the grid.

Points with a footprint area become circles of that area in the analysis CRS, polygons stay as they are
(`detection_footprints`); a pixel whose centre lies in a footprint is 100, every other pixel 0
(`rasterize_detections`): a detection survey observes the whole grid, so no footprint means "observed,
no activity", not "no data". Files are read by the cadastre readers (`ingest.readers.open_vector`), and
records that cannot become a footprint go to quarantine rows like the cadastre's.
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
from mrumonitor.ingest.harmonise import quarantine_rows
from mrumonitor.ingest.readers import UNPARSEABLE, RecordStream, open_vector
from mrumonitor.raster.blocks import block_boxes, grid_array, on_grid
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.io import IN_MEMORY_DATASET_LOCK
from mrumonitor.schema import ACTIVITY_DTYPE, ACTIVITY_MAX, QUARANTINE_COLUMNS, Reason

log = logging.getLogger(__name__)

#: `layer` value of the quarantine rows of detection files.
DETECTIONS_LAYER = "detections"

#: Segments per quarter circle of a point's footprint (a 64-gon whose area is made exactly the given one).
FOOTPRINT_QUAD_SEGS = 16

#: Detection files are read in batches of this many records.
DETECTION_BATCH = 50_000

#: Vector formats a detections file may come in, by file suffix (the readers of `ingest.readers`).
DETECTION_FORMATS = {".csv": "csv", ".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson",
                     ".fgb": "flatgeobuf", ".shp": "shapefile", ".zip": "shapefile"}


# --- file -> footprints --------------------------------------------------------------------------------


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
    origin = {"layer": DETECTIONS_LAYER, "source_name": source_name, "country": "", "source_file": path,
              "crs": crs}
    kept, quarantined = [], []
    for raw in stream.batches(DETECTION_BATCH):
        ok, rows = _footprint_batch(raw, spec, crs, origin)
        kept.append(ok)
        quarantined.append(rows)
    footprints = concat_frames(kept, crs)
    quarantine = concat_frames(quarantined, crs, QUARANTINE_COLUMNS)
    log.info("%s: %d detection footprints, %d records quarantined (%s)", source_name, len(footprints),
             len(quarantine), path)
    return footprints, quarantine


def empty_quarantine(crs: Any) -> gpd.GeoDataFrame:
    """Quarantine rows of an input that quarantines nothing: no rows, the `schema.QUARANTINE_COLUMNS`."""
    return concat_frames([], crs, QUARANTINE_COLUMNS)


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
    stream = open_vector(path, fmt, label, crs=spec.crs, csv=csv)
    missing = [column for column in (csv.x, csv.y) if column not in stream.columns] if csv else []
    if missing:
        raise InputFileError(path, f"has no column {', '.join(map(repr, missing))}; its columns are: "
                                   f"{', '.join(stream.columns)}.", f"set {label}.x and .y.")
    return stream


def _footprint_batch(raw: gpd.GeoDataFrame, spec: ActivityInput, crs: CRS, origin: dict
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
                           pd.Series([""] * int((~ok).sum()), dtype=object), **origin)
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


# --- footprints -> raster ------------------------------------------------------------------------------


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


def _grid_geometries(footprints: gpd.GeoDataFrame, grid: Grid) -> np.ndarray:
    """The footprint geometries in the grid CRS, without missing or empty ones."""
    if footprints.crs is None:
        raise ValueError("footprints have no CRS; set it (GeoDataFrame.set_crs) to the CRS of their coordinates")
    if CRS(footprints.crs) != grid.crs:
        log.info("footprints in %s transformed to the grid CRS", footprints.crs.to_string())
        footprints = footprints.to_crs(grid.crs)
    geoms = footprints.geometry.to_numpy()
    return geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]


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


def _rasterize_block(window: Window, grid: Grid, geoms: np.ndarray | None) -> np.ndarray:
    shape = (int(window.height), int(window.width))
    if geoms is None or len(geoms) == 0:
        return np.zeros(shape, dtype=ACTIVITY_DTYPE)
    with IN_MEMORY_DATASET_LOCK:
        return features.rasterize(geoms, out_shape=shape, transform=windows.transform(window, grid.transform),
                                  fill=0, default_value=ACTIVITY_MAX, dtype=ACTIVITY_DTYPE)
