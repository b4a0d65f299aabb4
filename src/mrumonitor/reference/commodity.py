"""Commodity zones: the mapped alluvial diamond fields and gold belts that decide what a site is taken to mine.

Satellites see ground scars, not what is dug. The analysis decides a site's commodity from where it lies
(`mrumonitor.analysis.commodity.site_commodity`): in or near a mapped diamond field, in a gold belt, or in
none of them (`analysis.commodity_default`).

The committed zones (`commodity_zones.geojson`) are derived by `build_commodity_zones` from a table typed by
hand (`diamond_fields_source.csv`): one row per area, with the localities that the published descriptions
place it by, a buffer, its source and how approximate it is (`approximation` in words, `accuracy_km` as the
distance the drawn edge may lie from the true one). A zone is the convex hull of its localities widened by
`buffer_km`, in the metric analysis CRS, and cut to the outlines of its countries. The localities' positions
come from the GeoNames places of the reference folder (`places.geojson`), else from
`diamond_fields_localities.csv`, each position there with its own source. A deployment replaces the whole
layer with a national geological one through `analysis.commodity_zones` (see layers/README.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from mrumonitor.crs import WGS84, norm_crs, require_projected
from mrumonitor.errors import ReferenceDataError
from mrumonitor.reference.files import to_exchange
from mrumonitor.reference.places import PLACES, load_places

#: The areas as typed by hand (input, committed), positions typed where GeoNames has none (input,
#: committed), and the zones as polygons (derived, committed).
DIAMOND_FIELDS_SOURCE = "diamond_fields_source.csv"
DIAMOND_FIELDS_LOCALITIES = "diamond_fields_localities.csv"
COMMODITY_ZONES = "commodity_zones.geojson"
#: Columns of the source table, in order (`localities`: names separated by ";"; `country`: ISO3 codes
#: separated by "-").
SOURCE_COLUMNS = ("zone_id", "name", "country", "commodity", "kind", "localities", "buffer_km", "accuracy_km",
                  "source", "approximation")
#: Columns of the typed positions.
LOCALITY_COLUMNS = ("name", "country", "lon", "lat", "source")
#: Columns of the derived layer (geometry: polygons).
ZONE_COLUMNS = ("zone_id", "name", "country", "commodity", "kind", "source", "approximation", "accuracy_km")
#: What a zone is, and the commodity each kind stands for. A replacement file without `kind` gets it from
#: its `commodity` through this table.
ZONE_KINDS = {"diamond_field": "diamond", "gold_belt": "gold"}
#: Segments per quarter circle of a buffer.
_QUAD_SEGS = 16
#: The fix every message about a replacement file ends with.
_FIX = ("point analysis.commodity_zones at a polygon file with a CRS, a `commodity` column (diamond or gold) and "
        "optionally a `kind` column (diamond_field or gold_belt)")


def build_commodity_zones(reference_dir: str | Path, boundaries: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """The zones of the source table as polygons, in WGS84 rounded for exchange.

    Each zone is the convex hull of its localities (a point for one, a line for two) widened by `buffer_km`
    in the metric `crs`, then cut to the union of its countries' outlines in `boundaries` (iso3, geometry),
    so that a field named after one country's towns does not spill over a border.

    Raises
    ------
    ReferenceDataError
        Naming the file, the zone and the fix, when a column is missing, a value is not valid or a locality
        has no position.
    """
    reference_dir = Path(reference_dir)
    crs = require_projected(norm_crs(crs, "analysis CRS"), "analysis CRS")
    zones = _read_source(reference_dir / DIAMOND_FIELDS_SOURCE)
    named = zones[["zone_id", "country", "localities"]].assign(
        locality=zones["localities"].str.split(";"), iso3=zones["country"].str.split("-")
    )
    countries = named[["zone_id", "iso3"]].explode("iso3").merge(
        boundaries[["iso3", "geometry"]].to_crs(crs), on="iso3", how="left", validate="many_to_one"
    )
    if countries["geometry"].isna().any():
        zone, iso3 = countries[["zone_id", "iso3"]][countries["geometry"].isna()].iloc[0]
        raise ReferenceDataError(f"{reference_dir / DIAMOND_FIELDS_SOURCE}: zone {zone} lies in {iso3!r}, which has "
                                 f"no outline. Fix: ISO3 codes of the region's countries, separated by '-'.")
    outline = gpd.GeoDataFrame(countries, geometry="geometry", crs=crs).dissolve(by="zone_id", sort=False)
    points = _locate(named.explode("locality"), reference_dir, crs)
    hulls = shapely.convex_hull(shapely.multipoints(points.geometry.to_numpy(), indices=points["row"].to_numpy()))
    drawn = shapely.buffer(hulls, zones["buffer_km"].to_numpy() * 1000.0, quad_segs=_QUAD_SEGS)
    cut = shapely.intersection(drawn, outline.geometry.reindex(zones["zone_id"]).to_numpy())
    frame = gpd.GeoDataFrame(zones[list(ZONE_COLUMNS)], geometry=cut, crs=crs)
    return to_exchange(frame)


def load_commodity_zones(path: str | Path, crs: Any) -> gpd.GeoDataFrame:
    """Read a commodity-zone file (any vector format GDAL reads) into `crs`.

    A file without a `kind` column (a national geological layer, say) is read with each zone's kind taken
    from its commodity: diamond zones are diamond fields, gold zones gold belts (`ZONE_KINDS`).

    Returns
    -------
    GeoDataFrame
        name (the zone's name, or its row number), commodity, kind, geometry; in file order.

    Raises
    ------
    ReferenceDataError
        Naming the file, the feature and the fix, when the file is missing or unreadable, declares no CRS,
        lacks a `commodity` column, or holds a commodity or kind that is not known or does not match.
    """
    path = Path(path)
    if not path.is_file():
        raise ReferenceDataError(f"{path}: commodity zones not found. Fix: {_FIX}, or run `mrumonitor "
                                 f"reference build` to derive the committed one.")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except pyogrio.errors.DataSourceError as exc:
        raise ReferenceDataError(f"{path}: cannot be read ({exc}). Fix: {_FIX}.") from exc
    if "commodity" not in frame.columns:
        raise ReferenceDataError(f"{path}: no `commodity` column. Fix: {_FIX}.")
    _refuse(path, frame, ~frame["commodity"].isin(list(ZONE_KINDS.values())), "commodity",
            "use diamond or gold (a zone of another commodity decides nothing: drop it)")
    kind = zone_kinds(frame)
    _refuse(path, frame.assign(kind=kind), ~kind.isin(list(ZONE_KINDS)), "kind",
            "give each zone the kind diamond_field or gold_belt (a zone of another commodity decides nothing: "
            "drop it)")
    _refuse(path, frame, kind.map(ZONE_KINDS) != frame["commodity"], "commodity",
            "a diamond_field zone has commodity diamond, a gold_belt zone commodity gold")
    if frame.crs is None:
        raise ReferenceDataError(f"{path}: declares no CRS. Fix: write the file with its CRS (e.g. WGS84).")
    crs = norm_crs(crs, "commodity zone CRS")
    names = frame["name"].astype(str) if "name" in frame.columns else pd.Series(range(1, len(frame) + 1)).astype(str)
    return gpd.GeoDataFrame({"name": names.to_numpy(), "commodity": frame["commodity"].to_numpy(),
                             "kind": kind.to_numpy()}, geometry=frame.geometry.to_crs(crs).to_numpy(), crs=crs)


def zone_kinds(zones: pd.DataFrame) -> pd.Series:
    """Each zone's kind: its `kind` column where it has one, else the kind of its `commodity` ("" for a
    commodity without one)."""
    from_commodity = zones["commodity"].map({commodity: kind for kind, commodity in ZONE_KINDS.items()})
    if "kind" not in zones.columns:
        return from_commodity.fillna("")
    return zones["kind"].replace("", np.nan).fillna(from_commodity).fillna("").astype(str)


def _refuse(path: Path, frame: pd.DataFrame, bad: pd.Series, column: str, fix: str) -> None:
    """Raise, naming the first feature (1-based) where `bad` holds, its value in `column` and the fix."""
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise ReferenceDataError(f"{path}: feature {row + 1} has {column} {frame[column].iat[row]!r}. "
                                 f"Fix: {fix}.")


def _locate(localities: pd.DataFrame, reference_dir: Path, crs: Any) -> gpd.GeoDataFrame:
    """Position of each (zone, locality) row: the GeoNames place of that name in one of the zone's countries,
    else the typed position; `row` numbers the zones in source order."""
    places = load_places(reference_dir, crs)
    typed = _read_typed(reference_dir / DIAMOND_FIELDS_LOCALITIES)
    known = pd.concat([
        pd.DataFrame({"locality": places["name"], "iso3": places["country"], "geometry": places.geometry.array}),
        pd.DataFrame({"locality": typed["name"], "iso3": typed["country"],
                      "geometry": gpd.GeoSeries.from_xy(typed["lon"], typed["lat"], crs=WGS84).to_crs(crs).array}),
    ]).drop_duplicates(["locality", "iso3"])
    rows = localities.assign(row=pd.factorize(localities["zone_id"])[0])
    found = (rows.explode("iso3").merge(known, on=["locality", "iso3"], how="inner")
             .drop_duplicates(["row", "locality"]).sort_values("row", kind="stable"))
    located = pd.MultiIndex.from_frame(found[["row", "locality"]])
    missing = ~pd.MultiIndex.from_frame(rows[["row", "locality"]]).isin(located)
    if missing.any():
        zone, name = rows[["zone_id", "locality"]][missing].iloc[0]
        raise ReferenceDataError(f"{reference_dir / DIAMOND_FIELDS_SOURCE}: zone {zone} names {name!r}, which is "
                                 f"neither a place of {PLACES} in its countries nor a row of "
                                 f"{DIAMOND_FIELDS_LOCALITIES}. Fix: spell it as GeoNames does, or add its "
                                 f"position with a source to {DIAMOND_FIELDS_LOCALITIES}.")
    return gpd.GeoDataFrame(found, geometry="geometry", crs=crs)


def _read_typed(path: Path) -> pd.DataFrame:
    typed = _read_table(path, LOCALITY_COLUMNS)
    numbers = typed[["lon", "lat"]].apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna().any(axis=1) | (typed["source"].str.strip() == "")
    if bad.any():
        raise ReferenceDataError(f"{path}: locality {typed['name'][bad].iat[0]} has a bad lon or lat, or no source. "
                                 f"Fix: decimal degrees, and the text the position was read from.")
    return typed.assign(**numbers)


def _read_source(path: Path) -> pd.DataFrame:
    zones = _read_table(path, SOURCE_COLUMNS)
    numbers = zones[["buffer_km", "accuracy_km"]].apply(pd.to_numeric, errors="coerce")
    bad = (numbers.isna().any(axis=1) | (numbers["buffer_km"] <= 0) | (numbers["accuracy_km"] <= 0)
           | (zones["kind"].map(ZONE_KINDS) != zones["commodity"])
           | (zones["localities"].str.strip() == "") | (zones["source"].str.strip() == "")
           | zones["zone_id"].duplicated(keep=False))
    if bad.any():
        raise ReferenceDataError(
            f"{path}: zone {zones['zone_id'][bad].iat[0]} is listed twice, has a bad buffer_km, accuracy_km, kind "
            f"or commodity, or has no localities or source. Fix: one row per zone_id, distances above 0 km, kind "
            f"diamond_field with commodity diamond or gold_belt with gold, at least one locality, and the text the "
            f"zone was drawn from."
        )
    return zones.assign(**numbers)


def _read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A committed CSV with `columns` (as text), or an error saying how to restore it."""
    if not path.is_file():
        raise ReferenceDataError(f"{path}: not found. Fix: restore it with `git checkout -- {path.name}` in "
                                 f"layers/reference/.")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise ReferenceDataError(f"{path}: column(s) {', '.join(missing)} missing. "
                                 f"Fix: use the header {','.join(columns)}.")
    return table[list(columns)]
