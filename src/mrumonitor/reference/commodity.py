"""Commodity zones: where the activity seen from space is taken to be diamond mining.

Satellites see ground scars, not what is dug. The analysis takes a site to mine the commodity of the zone
its representative point lies in (`analysis.commodity_zones`), and `analysis.commodity_default` elsewhere.
The committed zones are circles of `radius_km` around the main town of each known diamond field of the
region (`commodity_zones_source.csv`, approximate public positions): a coarse stand-in for the diamondiferous
gravels, to be replaced with geological zones where a country has them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from mrumonitor.crs import WGS84, norm_crs, require_projected
from mrumonitor.errors import ReferenceDataError
from mrumonitor.reference.files import to_exchange
from mrumonitor.schema import COMMODITIES

#: The zones as typed by hand (input, committed) and as polygons (derived, committed).
COMMODITY_ZONES_SOURCE = "commodity_zones_source.csv"
COMMODITY_ZONES = "commodity_zones.geojson"
#: Columns of the source list, in order.
SOURCE_COLUMNS = ("zone_id", "name", "country", "commodity", "lon", "lat", "radius_km", "note")
#: Segments per quarter circle of a zone polygon (a 40 km circle is then true to about 30 m).
_QUAD_SEGS = 32


def build_commodity_zones(path: str | Path, crs: Any) -> gpd.GeoDataFrame:
    """Circles of `radius_km` around each zone of the source list, drawn in the metric `crs`, in WGS84.

    Raises
    ------
    ReferenceDataError
        Naming the file, the zone and the fix, when a column is missing or a value is not valid.
    """
    path = Path(path)
    crs = require_projected(norm_crs(crs, "analysis CRS"), "analysis CRS")
    zones = _read_source(path)
    centres = gpd.GeoSeries.from_xy(zones["lon"], zones["lat"], crs=WGS84).to_crs(crs)
    circles = shapely.buffer(centres.to_numpy(), zones["radius_km"].to_numpy() * 1000.0, quad_segs=_QUAD_SEGS)
    frame = gpd.GeoDataFrame(zones.drop(columns=["lon", "lat"]), geometry=circles, crs=crs)
    return to_exchange(frame)


def load_commodity_zones(path: str | Path, crs: Any) -> gpd.GeoDataFrame:
    """Read a commodity-zone file (any vector format with a `commodity` column) into `crs`.

    Returns
    -------
    GeoDataFrame
        name (the zone's name, or its row number), commodity, geometry; in file order.

    Raises
    ------
    ReferenceDataError
        When the file is missing or unreadable, lacks a `commodity` column or holds an unknown commodity.
    """
    path = Path(path)
    fix = "point analysis.commodity_zones at a polygon file with a `commodity` column (diamond, gold, other)"
    if not path.is_file():
        raise ReferenceDataError(f"{path}: commodity zones not found. Fix: {fix}, or run `mrumonitor "
                                 f"reference build` to derive the committed one.")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except pyogrio.errors.DataSourceError as exc:
        raise ReferenceDataError(f"{path}: cannot be read ({exc}). Fix: {fix}.") from exc
    if "commodity" not in frame.columns:
        raise ReferenceDataError(f"{path}: no `commodity` column. Fix: {fix}.")
    unknown = ~frame["commodity"].isin(COMMODITIES)
    if unknown.any():
        row = int(unknown.to_numpy().argmax()) + 1
        raise ReferenceDataError(f"{path}: feature {row} has commodity {frame['commodity'].iat[row - 1]!r}. "
                                 f"Fix: use one of {', '.join(COMMODITIES)}.")
    if frame.crs is None:
        raise ReferenceDataError(f"{path}: declares no CRS. Fix: write the file with its CRS (e.g. WGS84).")
    crs = norm_crs(crs, "commodity zone CRS")
    names = frame["name"].astype(str) if "name" in frame.columns else pd.Series(range(1, len(frame) + 1)).astype(str)
    return gpd.GeoDataFrame({"name": names.to_numpy(), "commodity": frame["commodity"].to_numpy()},
                            geometry=frame.geometry.to_crs(crs).to_numpy(), crs=crs)


def _read_source(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ReferenceDataError(f"{path}: commodity zone list not found. Fix: restore it with "
                                 f"`git checkout -- {path.name}` in layers/reference/.")
    zones = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [column for column in SOURCE_COLUMNS if column not in zones.columns]
    if missing:
        raise ReferenceDataError(f"{path}: column(s) {', '.join(missing)} missing. "
                                 f"Fix: use the header {','.join(SOURCE_COLUMNS)}.")
    zones = zones[list(SOURCE_COLUMNS)]
    numbers = zones[["lon", "lat", "radius_km"]].apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna().any(axis=1) | (numbers["radius_km"] <= 0) | ~zones["commodity"].isin(COMMODITIES)
    if bad.any():
        zone = zones["zone_id"][bad].iat[0]
        raise ReferenceDataError(f"{path}: zone {zone} has a bad lon, lat, radius_km or commodity. Fix: decimal "
                                 f"degrees, a radius above 0 km, and a commodity among {', '.join(COMMODITIES)}.")
    return zones.assign(**numbers)
