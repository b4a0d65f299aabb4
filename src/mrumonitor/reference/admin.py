"""Administrative areas (`[analysis.admin.<level>]`): the optional layers the figures are summed by."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from mrumonitor.config import AdminLayer
from mrumonitor.crs import norm_crs
from mrumonitor.errors import InputFileError


def load_admin_layer(level: str, spec: AdminLayer, crs) -> gpd.GeoDataFrame:
    """Read one admin layer into `crs`: name, country ("" when the layer has no country field), geometry.

    Raises
    ------
    InputFileError
        When the file is missing or unreadable, declares no CRS, or lacks a configured field.
    """
    path = Path(spec.file)
    where = f"analysis.admin.{level}"
    if not path.is_file():
        raise InputFileError(path, "admin layer not found.", f"correct {where}.file or remove the block.")
    try:
        frame = pyogrio.read_dataframe(path, layer=spec.layer)
    except pyogrio.errors.DataSourceError as exc:
        raise InputFileError(path, f"admin layer cannot be read ({exc}).", f"check {where}.file and .layer.") from exc
    missing = [f for f in (spec.name_field, spec.country_field) if f and f not in frame.columns]
    if missing:
        raise InputFileError(path, f"column(s) {', '.join(missing)} not found (columns: "
                                   f"{', '.join(map(str, frame.columns.drop('geometry')))}).",
                             f"set {where}.name_field / country_field to existing columns.")
    if frame.crs is None:
        raise InputFileError(path, "the admin layer declares no CRS.", "write the file with its CRS.")
    country = frame[spec.country_field].astype(str) if spec.country_field else ""
    return gpd.GeoDataFrame({"name": frame[spec.name_field].astype(str).to_numpy(), "country": country},
                            geometry=frame.geometry.to_numpy(), crs=frame.crs).to_crs(norm_crs(crs, where))
