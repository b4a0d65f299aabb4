"""What the callbacks read instead of a run's wide tables, prepared once when the run is loaded.

Speed: a callback must not scan and copy the run's wide tables (with tens of thousands of sites, slicing
pandas frames of text columns costs tens of milliseconds). So a loaded run carries, per period, the filter
columns of its site rows as integer codes and plain arrays (`PeriodRows`, with the WGS84 boxes of their footprints
sorted for a map tile's query), the slim table of its current sites that `country_overview` takes, the site table's
rows formatted once in their default order, the map's per-site and per-licence properties and geometries, the
registration summaries of every filter and the run-wide map layers as GeoJSON. A request then combines boolean
masks over one period's rows and copies only what it returns.

Memory (a run of 500,000 sites has 1.2 million footprints, and `mrumonitor serve --workers N` forks N workers from
the process that loaded it): no Python object per row. A shapely geometry takes about 600 bytes and each copy (a
CRS, a simplification) as much again, and a worker that merely reads one writes to its page (reference counts), so
every worker ends up with its own copy of every geometry it touched; text in numpy object arrays does the same.
So the footprints are kept once, as WKB in one Arrow buffer in the analysis CRS (`Footprints`), and converted to
WGS84 and simplified for the rows a request draws (`Wgs84Band`); text columns are Arrow strings in one piece each
(`contiguous`: a take from a column in several chunks costs a millisecond whatever its size) or categories; codes
are the smallest integers that hold them. The numbers and buffers are never written after loading, so forked
workers share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
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

#: The map properties of the site rows held as categories (few distinct values; the site ids and tooltips are text).
FEATURE_CATEGORIES = ("kind", "registration", "colour")
#: Footprints converted to WGS84 at once when their boxes are computed (bounds the memory a run's loading takes).
WGS84_CHUNK = 100_000
#: Margin (degrees) of the cut of `PeriodRows.rows_in` before its exact test, against rounding in the cut's bound.
CUT_MARGIN = 1e-9
#: Most values a mask of coded rows compares the codes with one by one (`Codes.where`).
COMPARED_CODES = 8


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
    """A column as integer codes (-1: missing; the smallest integer type that holds them) and its distinct
    values, for masks without pandas."""

    codes: np.ndarray
    values: tuple[Any, ...]

    @classmethod
    def of(cls, values: pd.Series) -> Codes:
        codes, uniques = pd.factorize(values)
        return cls(codes.astype(np.min_scalar_type(-max(len(uniques), 1))), tuple(uniques))

    def where(self, test: Any) -> np.ndarray:
        """Mask of the rows whose value passes `test(value)` (a missing one never does): a comparison of the
        codes with each value that passes, up to `COMPARED_CODES` of them (a lookup per row is 25 times slower
        than one comparison of small integers), else a lookup."""
        passes = np.array([bool(test(value)) for value in self.values] + [False])
        hits = np.flatnonzero(passes)
        if len(hits) == len(self.values):
            return self.codes >= 0
        if len(hits) > COMPARED_CODES:
            return passes[self.codes]
        mask = np.zeros(len(self.codes), dtype=bool)
        for code in hits:
            mask |= self.codes == code
        return mask

    def isin(self, wanted: tuple[Any, ...]) -> np.ndarray:
        return self.where(lambda value: value in wanted)


@dataclass(frozen=True)
class Footprints:
    """Footprints (shapely geometries) in `crs`, kept as WKB in one Arrow buffer and decoded for the rows asked
    for: `footprints[rows]` (positions or a boolean mask) is an array of geometries."""

    wkb: pa.BinaryArray
    crs: Any

    @classmethod
    def of(cls, geoms: gpd.GeoSeries) -> Footprints:
        return cls(pa.array(shapely.to_wkb(np.asarray(geoms))), geoms.crs)

    def __len__(self) -> int:
        return len(self.wkb)

    def __getitem__(self, rows: Any) -> np.ndarray:
        rows = np.asarray(rows)  # positions (negative ones from the end) or a mask
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        rows = np.where(rows < 0, rows + len(self), rows)
        return shapely.from_wkb(self.wkb.take(pa.array(rows)).to_numpy(zero_copy_only=False))


@dataclass(frozen=True)
class Wgs84Band:
    """`footprints` in WGS84 for the map, simplified with `tolerance` (degrees; 0: not simplified), made for the
    rows asked for (`band[rows]`): the geometries `geojson.simplified_bands(geojson.to_wgs84(...))` would give."""

    footprints: Footprints
    tolerance: float

    def __getitem__(self, rows: Any) -> np.ndarray:
        wgs84 = geojson.shapes_to_wgs84(self.footprints[rows], self.footprints.crs)
        return geojson.simplified(wgs84, self.tolerance)


@dataclass(frozen=True)
class PeriodRows:
    """The site rows of one period (positions in `RunData.site_periods`, ascending) with the columns the
    filters and the map read, as codes and arrays; `table_order` lists them in the site table's default order.
    `by_west` lists the rows in the order of the west edge of their footprint's WGS84 box, `edges` the boxes in
    that order (the west, south, east and north edges, each a contiguous array), `widest` the largest box east to
    west: see `rows_in`."""

    positions: np.ndarray
    visible: Codes
    country: Codes
    commodity: Codes
    registration: Codes
    border: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    table_order: np.ndarray
    by_west: np.ndarray
    edges: np.ndarray
    widest: float

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

    def rows_in(self, west: float, south: float, east: float, north: float) -> np.ndarray:
        """The rows (ascending) whose footprint's box meets the box `west`, `south`, `east`, `north` (WGS84, edges
        included), as a spatial index of the footprints finds them, without one: only the rows whose west edge
        lies between `west` minus `widest` and `east` can reach the box, and they are one slice of `by_west`."""
        wests, souths, easts, norths = self.edges
        cut = slice(np.searchsorted(wests, west - self.widest - CUT_MARGIN, side="left"),
                    np.searchsorted(wests, east, side="right"))
        meets = (easts[cut] >= west) & (norths[cut] >= south) & (souths[cut] <= north)
        return np.sort(self.by_west[cut][meets])


@dataclass(frozen=True)
class SiteViews:
    """The site rows prepared for the filters, the overview, the site table and the map. `geoms` gives the site
    rows' footprints for the map per simplification tolerance of `geojson.SIMPLIFY_BANDS` (`geoms[tol][positions]`).
    `period_areas` holds, for each site row, its site's area in each period of the run (columns in `by_period`'s
    order; NaN where the site was not seen), so a row's growth since any period is one lookup."""

    by_period: dict[str, PeriodRows]
    current_sites: dict[str, pd.DataFrame]
    summaries: dict[tuple[str | None, bool], pd.DataFrame]
    table_rows: pd.DataFrame
    features: pd.DataFrame
    geoms: dict[float, Wgs84Band]
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


def prepare_sites(sites: pd.DataFrame, rows: pd.DataFrame, footprints: Footprints, pieces: pd.DataFrame,
                  boundaries: gpd.GeoDataFrame, periods: list[str]) -> SiteViews:
    """The `SiteViews` of a run's `sites`, its site rows per period (`rows`, with their `footprints`) and its
    registration `pieces` (with commodity and border-zone flag)."""
    # a run published before sites said how their commodity was decided has no commodity_basis: left blank
    joined = rows.join(sites.set_index("site_id").reindex(columns=["admin_area", "risk_score", "commodity_basis"]),
                       on="site_id")
    table_rows = _table_frame(joined.assign(commodity_basis=basis_words(joined["commodity_basis"],
                                                                        joined["commodity"])))
    features = categories(contiguous(pd.DataFrame({
        "kind": "site", "site_id": rows["site_id"].astype(str), "registration": rows["registration"].astype(str),
        "colour": rows["registration"].map(REGISTRATION_CSS).fillna("#777777"),
        "tooltip": rows["site_id"].astype(str) + " · " + rows["registration"].astype(str) + " · "
        + rows["area_ha"].round(1).astype(str) + " ha · " + rows["country"].astype(str)})), FEATURE_CATEGORIES)
    rank = np.empty(len(rows), dtype=np.int64)
    rank[table_rows.sort_values(["area_ha", "site_id"], ascending=[False, True]).index.to_numpy()] = \
        np.arange(len(rows))
    boxes = footprint_boxes(footprints)
    period_of = rows["period"].to_numpy()
    by_period, current_sites = {}, {}
    for period in periods:
        positions = np.flatnonzero(period_of == period)
        part = rows.iloc[positions]
        by_west = np.argsort(boxes[positions, 0], kind="stable")
        edges = np.ascontiguousarray(boxes[positions[by_west]].T)
        by_period[period] = PeriodRows(
            positions=positions, visible=Codes.of(part["countries"].astype(str)), country=Codes.of(part["country"]),
            commodity=Codes.of(part["commodity"]), registration=Codes.of(part["registration"]),
            border=part["in_border_zone"].to_numpy(dtype=bool, na_value=False),
            lon=part["lon"].to_numpy(), lat=part["lat"].to_numpy(), table_order=np.argsort(rank[positions]),
            by_west=by_west.astype(np.int32), edges=edges, widest=float(np.nanmax(edges[2] - edges[0], initial=0.0)))
        as_of = sites_as_of(sites, rows, period, periods[-1])
        current = as_of["merged_into"].isna() & (as_of["last_seen"] == period)
        current_sites[period] = categories(as_of.loc[current, OVERVIEW_COLUMNS])
    areas = rows.set_index(["site_id", "period"])["area_ha"].unstack("period").reindex(columns=periods)
    return SiteViews(by_period=by_period, current_sites=current_sites, summaries=_summaries(pieces, boundaries),
                     table_rows=table_rows, features=features,
                     geoms={tol: Wgs84Band(footprints, tol) for _, tol in geojson.SIMPLIFY_BANDS},
                     period_areas=areas.reindex(rows["site_id"]).to_numpy(dtype=float))


def footprint_boxes(footprints: Footprints) -> np.ndarray:
    """The WGS84 bounds (west, south, east, north) of each of `footprints` as the map draws them unsimplified,
    converted `WGS84_CHUNK` at a time."""
    whole = Wgs84Band(footprints, 0.0)
    chunks = [shapely.bounds(whole[np.arange(start, min(start + WGS84_CHUNK, len(footprints)))])
              for start in range(0, len(footprints), WGS84_CHUNK)]
    return np.concatenate(chunks) if chunks else np.empty((0, 4))


def contiguous(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with each of its Arrow text columns in one piece (a Parquet file is read in one piece per row
    group): taking a few rows of a column in several pieces costs about a millisecond whatever their number, of a
    column in one piece microseconds."""
    def whole(column: pd.Series) -> pd.Series:
        array = pa.array(column)
        array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
        return pd.Series(array, dtype=column.dtype, index=column.index)

    return frame.assign(**{name: whole(column) for name, column in frame.items()
                           if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow"})


def categories(frame: pd.DataFrame, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """`frame` with its text `columns` (default: all) as categories: a byte or two per row instead of the text, and
    grouping and comparing by codes (what `country_overview` does with the current sites)."""
    return frame.astype({name: "category" for name, column in frame.items() if (columns is None or name in columns)
                         and (isinstance(column.dtype, pd.StringDtype) or column.dtype == object)})


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
                         else table[column].astype("string").fillna(""))
    return contiguous(table)


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
