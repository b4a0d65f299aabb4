"""Inputs for a whole pipeline run, as small as they get: one licence per national cadastre of default.toml
(each in its own format, fields and terms), detections over two periods, and a coarse 2 km grid."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from conftest import write_config, write_zipped_shapefile

from mrumonitor.config import SourceSettings, load_settings
from mrumonitor.reference import load_boundaries

PERIODS = ("P1", "P2")

_SUFFIX = {"shapefile": ".zip", "geojson": ".geojson", "gpkg": ".gpkg", "csv": ".csv"}
_CANONICAL = {"licence_type": "artisanal", "commodity": "diamond", "status": "active"}


def write_run_inputs(folder: Path) -> Path:
    """Write the inputs and a config pointing at them (store under ``folder/layers``); returns the config."""
    settings = load_settings()
    outlines = load_boundaries(settings.paths.reference, 4326).set_index("iso3").geometry
    blocks, centres = [], {}
    for name, source in settings.sources.items():
        centres[source.country] = outlines[source.country].representative_point()
        path = folder / f"{name}{_SUFFIX[source.format]}"
        write_source(_licence(name, source, centres[source.country]), path, source)
        blocks.append(f'[sources.{name}]\nfile = "{path.name}"\n')
    sle, lbr = centres["SLE"], centres["LBR"]
    for number, period in enumerate(PERIODS, start=1):
        rows = [(1, sle.x, sle.y, 400.0 * number), (2, lbr.x, lbr.y, 500.0), (3, "", 8.0, 1.0)]
        pd.DataFrame(rows, columns=["det_id", "lon", "lat", "area_ha"]).to_csv(folder / f"detections_{period}.csv",
                                                                             index=False)
    periods = ", ".join(f'{{ name = "{p}", start = 2025-0{1 + 6 * i}-01, end = 2025-{6 + 6 * i:02d}-30 }}'
                        for i, p in enumerate(PERIODS))
    return write_config(folder, f"""[paths]
work = "work"
store = "layers"
[raster]
resolution_m = 2000.0
[sites]
min_area_ha = 50.0
[activity]
periods = [{periods}]
[activity.inputs.survey]
kind = "detections"
path = "detections_{{period}}.csv"
x = "lon"
y = "lat"
area_ha = "area_ha"
crs = "EPSG:4326"
""" + "".join(blocks))


def _licence(name: str, source: SourceSettings, centre: shapely.Point) -> gpd.GeoDataFrame:
    """One valid licence around `centre`, in the source's column names, terms and date format (WGS84)."""
    term = {field: next(k for k, v in getattr(source.values, field).items() if v == value)
            for field, value in _CANONICAL.items()}
    day = dt.date(2024, 1, 15).strftime(source.date_formats[0])
    until = dt.date(2030, 1, 14).strftime(source.date_formats[0])
    values = {"licence_id": f"{name.upper()}-0001", "holder": "Holder", "granted": day, "expires": until, **term}
    row = {getattr(source.fields, field): value for field, value in values.items() if getattr(source.fields, field)}
    box = shapely.box(centre.x - 0.05, centre.y - 0.05, centre.x + 0.05, centre.y + 0.05)
    return gpd.GeoDataFrame([row], geometry=[box], crs=4326)


def write_source(frame: gpd.GeoDataFrame, path: Path, source: SourceSettings) -> None:
    """Write the licences `frame` (WGS84) to `path` in the format, layer and CSV layout `source` declares."""
    if source.format == "shapefile":
        write_zipped_shapefile(frame, path)
    elif source.format == "csv":
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table[source.csv.wkt] = frame.to_crs(source.crs).geometry.to_wkt()
        table.to_csv(path, sep=source.csv.delimiter, index=False)
    else:
        frame.to_file(path, driver={"geojson": "GeoJSON", "gpkg": "GPKG"}[source.format], layer=source.layer)


def add_period(folder: Path, name: str = "P3") -> Path:
    """Write the detections of one more period into the inputs of `write_run_inputs(folder)` and add the period to
    their config (periods end to end); returns the config."""
    shutil.copy(folder / f"detections_{PERIODS[-1]}.csv", folder / f"detections_{name}.csv")
    config = folder / "mrumonitor.toml"
    text = config.read_text()
    text = text.replace(" }]\n", f' }}, {{ name = "{name}", start = 2026-01-01, end = 2026-06-30 }}]\n', 1)
    config.write_text(text)
    return config
