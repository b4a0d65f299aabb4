"""What the callbacks read instead of a run's wide tables, prepared once when the run is loaded.

Speed: a callback must not scan and copy the run's wide tables (with tens of thousands of sites, slicing
pandas frames of text columns costs tens of milliseconds). So a loaded run carries, per period, the filter
columns of its site rows as integer codes and plain arrays (`PeriodRows`), the slim table of its current
sites that `country_overview` takes, the site table's rows formatted once in their default order, the map's
per-site and per-licence properties and simplified geometries (per zoom band), the registration summaries
of every filter and the run-wide map layers as GeoJSON. A request then combines boolean masks over one
period's rows and copies only what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.analysis.summary import registration_summary
from mrumonitor.dashboard import geojson
from mrumonitor.dashboard.change import growth
from mrumonitor.dashboard.filters import Filters
from mrumonitor.i18n import N_
from mrumonitor.reference.layers import ReferenceLayers
from mrumonitor.schema import COMMODITIES
from mrumonitor.style import REGISTRATION_CSS, STATUS_CSS

#: The columns of the sites `country_overview` and the overview's filters read.
OVERVIEW_COLUMNS = ["country", "registration", "commodity", "in_border_zone", "transboundary", "first_seen",
                    "last_seen", "merged_into", "risk_score"]

#: Columns of the site table: (column, header, decimals shown; None for text). Headers are translated where shown.
TABLE_COLUMNS = (
    ("site_id", N_("Site"), None), ("country", N_("Country"), None), ("admin_area", N_("Admin area"), None),
    ("commodity", N_("Commodity"), None), ("commodity_basis", N_("Commodity from"), None),
    ("registration", N_("Class"), None), ("area_ha", N_("Area (ha)"), 1), ("licence_id", N_("Licence"), None),
    ("first_seen", N_("First seen"), None), ("dist_border_km", N_("To border (km)"), 1),
    ("nearest_post_name", N_("Nearest official crossing"), None), ("dist_post_km", N_("To crossing (km)"), 1),
    ("risk_score", N_("Risk"), 2),
)

#: How a site's commodity was decided (`schema.COMMODITY_BASES`), in English words (translated where shown);
#: "unknown" says the commodity assumed (`ASSUMED_WORDS`).
BASIS_WORDS = {"in_diamond_field": N_("in a mapped diamond field"),
               "near_diamond_field": N_("near a mapped diamond field"), "gold_belt": N_("gold belt")}
ASSUMED_WORDS = {"diamond": N_("unknown: assumed diamond"), "gold": N_("unknown: assumed gold"),
                 "other": N_("unknown: assumed other minerals")}


def basis_words(basis: pd.Series, commodity: pd.Series) -> pd.Series:
    """`commodity_basis` in English words ("in a mapped diamond field", "unknown: assumed gold"); "" where not
    known."""
    basis = basis.astype("string")
    unknown = basis.eq("unknown").fillna(False).to_numpy(dtype=bool)
    words = basis.map(BASIS_WORDS).astype("string")
    return words.mask(unknown, commodity.astype("string").map(ASSUMED_WORDS)).fillna("")


class SiteAccess(Protocol):
    """What the site-level views ask of a user's access (see `mrumonitor.dashboard.access.Access`)."""

    def sees_sites(self, country: str) -> bool: ...


@dataclass(frozen=True)
class Codes:
    """A column as integer codes (-1: missing) and its distinct values, for masks without pandas."""

    codes: np.ndarray
    values: tuple[Any, ...]

    @classmethod
    def of(cls, values: pd.Series) -> Codes:
        codes, uniques = pd.factorize(values)
        return cls(codes, tuple(uniques))

    def where(self, test: Any) -> np.ndarray:
        """Mask of the rows whose value passes `test(value)`."""
        hits = [i for i, value in enumerate(self.values) if test(value)]
        return np.isin(self.codes, hits)

    def isin(self, wanted: tuple[Any, ...]) -> np.ndarray:
        return self.where(lambda value: value in wanted)


@dataclass(frozen=True)
class PeriodRows:
    """The site rows of one period (positions in `RunData.site_periods`, ascending) with the columns the
    filters and the map read, as codes and arrays; `table_order` lists them in the site table's default order."""

    positions: np.ndarray
    visible: Codes
    country: Codes
    commodity: Codes
    registration: Codes
    border: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    table_order: np.ndarray

    def mask(self, filters: Filters, access: SiteAccess) -> np.ndarray:
        """The rows that pass `filters` and that `access` may see."""
        mask = self.visible.where(access.sees_sites)
        if filters.countries:
            mask &= self.country.isin(filters.countries)
        if filters.commodity:
            mask &= self.commodity.isin((filters.commodity,))
        if filters.classes:
            mask &= self.registration.isin(filters.classes)
        if filters.border_only:
            mask &= self.border
        return mask


@dataclass(frozen=True)
class SiteViews:
    """The site rows prepared for the filters, the overview, the site table and the map. `period_areas` holds,
    for each site row, its site's area in each period of the run (columns in `by_period`'s order; NaN where the
    site was not seen), so a row's growth since any period is one lookup."""

    by_period: dict[str, PeriodRows]
    current_sites: dict[str, pd.DataFrame]
    summaries: dict[tuple[str | None, bool], pd.DataFrame]
    table_rows: pd.DataFrame
    features: pd.DataFrame
    geoms: dict[float, np.ndarray]
    period_areas: np.ndarray

    def growth_since(self, table: pd.DataFrame, since: str | None) -> pd.DataFrame:
        """`change.growth` of the site rows `table` (indexed by position, with their `area_ha`) since period
        `since` (None: none, every site is new), indexed like `table`."""
        earlier = (self.period_areas[table.index.to_numpy(), list(self.by_period).index(since)]
                   if since in self.by_period else np.full(len(table), np.nan))
        return growth(pd.Series(earlier, index=table.index), table["area_ha"])


@dataclass(frozen=True)
class LicenceViews:
    """The licences prepared for the map: their countries as codes, properties, simplified shapes and boxes."""

    country: Codes
    features: pd.DataFrame
    geoms: dict[float, np.ndarray]
    boxes: dict[float, np.ndarray]


def sites_as_of(sites: pd.DataFrame, site_periods: pd.DataFrame, period: str, last_period: str) -> pd.DataFrame:
    """The sites as `country_overview` takes them for `period`: the run's own `sites` for its last period;
    for an earlier one, each site seen in it with that period's class and border-zone flag."""
    if period == last_period:
        return sites
    rows = site_periods[site_periods["period"] == period]
    last = sites.set_index("site_id")[["merged_into", "risk_score", "unregistered_share"]]
    return rows.join(last, on="site_id").assign(last_seen=period, merged_into=pd.NA)


def prepare_sites(sites: pd.DataFrame, rows: pd.DataFrame, period_geoms: np.ndarray, pieces: pd.DataFrame,
                  boundaries: gpd.GeoDataFrame, periods: list[str]) -> SiteViews:
    """The `SiteViews` of a run's `sites`, its site rows per period (`rows`, with their WGS84 shapes
    `period_geoms`) and its registration `pieces` (with commodity and border-zone flag)."""
    # a run published before sites said how their commodity was decided has no commodity_basis: left blank
    joined = rows.join(sites.set_index("site_id").reindex(columns=["admin_area", "risk_score", "commodity_basis"]),
                       on="site_id")
    table_rows = _table_frame(joined.assign(commodity_basis=basis_words(joined["commodity_basis"],
                                                                        joined["commodity"])))
    features = pd.DataFrame({
        "kind": "site", "site_id": rows["site_id"].astype(str), "registration": rows["registration"].astype(str),
        "colour": rows["registration"].map(REGISTRATION_CSS).fillna("#777777"),
        "tooltip": rows["site_id"].astype(str) + " · " + rows["registration"].astype(str) + " · "
        + rows["area_ha"].round(1).astype(str) + " ha · " + rows["country"].astype(str)})
    rank = np.empty(len(rows), dtype=np.int64)
    rank[table_rows.sort_values(["area_ha", "site_id"], ascending=[False, True]).index.to_numpy()] = \
        np.arange(len(rows))
    period_of = rows["period"].to_numpy()
    by_period, current_sites = {}, {}
    for period in periods:
        positions = np.flatnonzero(period_of == period)
        part = rows.iloc[positions]
        by_period[period] = PeriodRows(
            positions=positions, visible=Codes.of(part["countries"].astype(str)), country=Codes.of(part["country"]),
            commodity=Codes.of(part["commodity"]), registration=Codes.of(part["registration"]),
            border=part["in_border_zone"].to_numpy(dtype=bool, na_value=False),
            lon=part["lon"].to_numpy(), lat=part["lat"].to_numpy(), table_order=np.argsort(rank[positions]))
        as_of = sites_as_of(sites, rows, period, periods[-1])
        current = as_of["merged_into"].isna() & (as_of["last_seen"] == period)
        current_sites[period] = as_of.loc[current, OVERVIEW_COLUMNS]
    areas = rows.set_index(["site_id", "period"])["area_ha"].unstack("period").reindex(columns=periods)
    return SiteViews(by_period=by_period, current_sites=current_sites, summaries=_summaries(pieces, boundaries),
                     table_rows=table_rows, features=features, geoms=geojson.simplified_bands(period_geoms),
                     period_areas=areas.reindex(rows["site_id"]).to_numpy(dtype=float))


def _summaries(pieces: pd.DataFrame, boundaries: gpd.GeoDataFrame) -> dict[tuple[str | None, bool], pd.DataFrame]:
    """`registration_summary` of the pieces of every commodity filter (None: all), with and without the border
    zone only: every summary the filters can ask for."""
    summaries = {}
    for commodity in (None, *COMMODITIES):
        for border_only in (False, True):
            mask = np.ones(len(pieces), dtype=bool)
            if commodity:
                mask &= (pieces["commodity"] == commodity).to_numpy(dtype=bool, na_value=False)
            if border_only:
                mask &= pieces["in_border_zone"].to_numpy(dtype=bool, na_value=False)
            summaries[commodity, border_only] = registration_summary(pieces[mask], boundaries)
    return summaries


def _table_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The site table's columns of `rows`, written as the table shows them (numbers rounded, text never null)."""
    table = rows[[column for column, _, _ in TABLE_COLUMNS]].copy()
    for column, _, digits in TABLE_COLUMNS:
        table[column] = (table[column].astype(float).round(2) if digits is not None
                         else table[column].astype("string").fillna("").astype(object))
    return table


def prepare_licences(licences: pd.DataFrame, geoms: np.ndarray, synthetic: bool) -> LicenceViews:
    """The `LicenceViews` of a run's licences (attributes, WGS84 shapes), labelled when `synthetic`."""
    label = " (SYNTHETIC demo licence)" if synthetic else ""
    bands = geojson.simplified_bands(geoms)
    return LicenceViews(
        country=Codes.of(licences["country"].astype(str)),
        features=pd.DataFrame({
            "licence_id": licences["licence_id"].astype(str),
            "colour": licences["status"].astype(str).map(STATUS_CSS).fillna("#999999"),
            "tooltip": licences["licence_id"].astype(str) + " · " + licences["holder"].astype(str) + " · "
            + licences["licence_type"].astype(str) + " · " + licences["status"].astype(str) + label}),
        geoms=bands, boxes={tol: shapely.bounds(band) for tol, band in bands.items()})


def run_map_layers(reference: ReferenceLayers) -> dict[str, dict[str, Any]]:
    """The run-wide map layers as GeoJSON, simplified for the region-wide view (served by `routes.reference`),
    drawn from the reference layers the run carries. The corridors follow the filters (their rank does), so a
    callback draws them (`maplayers.corridor_layer`)."""
    boundaries, borders, posts = reference.boundaries, reference.borders, reference.border_posts
    width_km = float(reference.border_zone["width_km"].iloc[0])

    def layer(geoms: gpd.GeoSeries, props: pd.DataFrame, tol: float = 0.005) -> dict[str, Any]:
        wgs = geojson.to_wgs84(geoms)
        return geojson.feature_collection(geojson.rounded(shapely.simplify(wgs, tol)) if tol else wgs, props)

    official = posts["kind"].astype(str)
    return {
        "countries": layer(boundaries.geometry, pd.DataFrame({"iso3": boundaries["iso3"], "name": boundaries["name"],
                                                               "tooltip": boundaries["name"]})),
        "borders": layer(borders.geometry, pd.DataFrame({"pair": borders["pair"], "tooltip": borders["pair"] + " border, "
                                                         + borders["length_km"].round(0).astype(int).astype(str)
                                                         + " km"})),
        "border_zone": layer(reference.border_zone.geometry.simplify(200),
                             pd.DataFrame({"tooltip": [f"Border zone ({width_km:g} km)"]})),
        "border_posts": layer(posts.geometry, pd.DataFrame({
            "post_id": posts["post_id"], "kind": official,
            "tooltip": posts["name"] + " (" + posts["post_id"] + ", " + official + ")"}), tol=0),
    }
