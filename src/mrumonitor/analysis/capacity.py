"""Production capacity from newly mined area, against the declared Kimberley Process figures.

**Newly mined area.** Periods are taken in time order. A site's newly mined area in a period is the part of
its footprint that no earlier footprint covers: neither its own earlier footprints nor those of any other
site, whatever its commodity (so a site that absorbed another, or a part split off under a new id, does not
count land already dug as new). The first period has no history: the land dug by its end is the *stock*, reported per country in
`CapacityResult.stock` and given to no year. Periods in `site_periods` that `periods` does not list (a
previous run's, kept as history) count as earlier than every listed one: history, never attributed. Only
sites of the capacity commodity (``capacity.commodity``) count; a transboundary footprint is split between
countries by `country_shares`, and the part outside every outline is left out.

**Years.** A period's interval runs from the day after the previous period's end to its own end; new area
is spread evenly over the interval's days. `mined_area_ha` is the area given to the days of each calendar
year, `days_observed` the number of those days. The yearly rate, `annual_area_ha`, is the area dug over the
12 months to the year's last observed day: for a full year, the year itself; for a year observed only in
part (`partial_year`), a trailing year that reaches back into the previous one. Only where observation began
less than 12 months before that day is the area scaled up, by (days of the 12 months) / (days observed). So
a steady digger keeps one rate in full and partial years, and half a year is never doubled when a trailing
year is at hand; the row's caveat says which 12 months (or which days) the rate rests on.

**Carats.** Volume x grade (the approach of the USGS alluvial diamond production-capacity assessments of
the region, Chirico, Malpeli and others, 2010-2013): annual area (m²) x pit_depth_m x gravel_fraction x
grade_ct_per_m3 x recovery. Where a country has a miners census configured: miners x days_per_year x
gravel_m3_per_miner_day x grade_ct_per_m3 x recovery, for the years with imagery. A country's own
parameters replace the regional ones, one parameter at a time.

**Uncertainty.** Each parameter has a declared distribution (`mrumonitor.analysis.capacity_draws`); the
factors of each country and method are drawn `capacity.draws` times (seed `capacity.seed`) and multiplied
draw by draw. The published `*_p05` and `*_p95` are the 5th and 95th percentile of the products times the
year's annual area, `*_central` their median: an interval with a 90 % chance under the stated
distributions, not the product of every low and every high (which no draw reaches).

**Flags.** The declared figures are checked on their own (`mrumonitor.analysis.declared`), and declared
production is compared with the estimates of each year with imagery: below the 5th percentile (possible
unrecorded production) or above the 95th percentile (possible laundering of stones mined elsewhere).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.analysis.capacity_draws import product_quantiles
from mrumonitor.analysis.declared import (
    FIGURES,
    Flag,
    anomaly_rows,
    anomaly_table,
    country_names,
    declared_anomalies,
    empty_declared,
    number,
)
from mrumonitor.config import CapacitySettings, CountryCapacity, PeriodSettings
from mrumonitor.i18n import N_
from mrumonitor.schema import CAPACITY_COLUMNS, CAPACITY_PARAMETER_COLUMNS, CAPACITY_STOCK_COLUMNS
from mrumonitor.sites import OUTSIDE, country_shares

log = logging.getLogger(__name__)

#: What every reader of the capacity figures must keep in mind.
CAVEATS = (
    N_("The estimates are orders of magnitude, not measurements: they multiply mined area by pit depth, gravel "
       "share, grade and recovery, each uncertain."),
    N_("The 5-95 % interval comes from Monte Carlo draws of each parameter's stated distribution: it is only as "
       "good as those distributions, and assumes the parameters independent of each other."),
    N_("Only mining visible from satellite counts: dredging, underground work, pits under forest cover and pits "
       "smaller than the minimum site area are missed; land dug again within a footprint counts once."),
    N_("The default parameters are ILLUSTRATIVE orders of magnitude, not survey results: the USGS assessments' "
       "inputs could not be sourced for this release; replace them with national survey figures or the USGS "
       "tables (the capacity settings of the configuration)."),
    N_("Land already dug by the end of the first period is stock, given to no year."),
    N_("A year observed only in part (a partial year) takes its rate from the 12 months to its last observed day, "
       "reaching into the previous year; seasonal digging still makes a rate from fewer days less sure."),
)
#: The parts of a row's caveats (joined by "; "), in English; `i18n.messages.translate_text` translates them.
ROW_ESTIMATE = N_("order-of-magnitude estimate from satellite-visible newly mined area")
ROW_NO_IMAGERY = N_("no imagery this year: no estimate")
ROW_ILLUSTRATIVE = N_("declared figures ILLUSTRATIVE, not KP statistics")
PARTIAL_YEAR = N_("partial year: %(days)s days observed, rate over the 12 months to %(to)s")
PARTIAL_YEAR_SCALED = N_("partial year: %(days)s days observed, rate over %(window)s observed days to %(to)s, scaled "
                         "to 12 months")

_VOLUME = ("pit_depth_m", "gravel_fraction", "grade_ct_per_m3", "recovery")
_MINERS = ("miners", "days_per_year", "gravel_m3_per_miner_day")
_SHARED_WITH_MINERS = ("grade_ct_per_m3", "recovery")
_FRACTIONS = ("gravel_fraction", "recovery")
_NAMES = ("p05", "central", "p95")
#: New area under this (m²) is floating-point noise of the overlay.
_NOISE_M2 = 0.01
_M2_PER_HA = 10_000.0


@dataclass(frozen=True)
class CapacityResult:
    """Production capacity estimates against declared KP figures.

    Attributes
    ----------
    capacity : DataFrame
        CAPACITY_COLUMNS: one row per country and year with imagery or a declared figure.
    anomalies : DataFrame
        KP_ANOMALY_COLUMNS: one row per flag.
    stock : DataFrame
        CAPACITY_STOCK_COLUMNS: area already dug by the end of the first period, per country.
    parameters : DataFrame
        CAPACITY_PARAMETER_COLUMNS: the parameters each country's estimates used, with their sources.
    caveats : tuple of str
        What every reader of the figures must keep in mind.
    """

    capacity: pd.DataFrame
    anomalies: pd.DataFrame
    stock: pd.DataFrame
    parameters: pd.DataFrame
    caveats: tuple[str, ...] = field(default=CAVEATS)


def capacity_tables(
    site_periods: gpd.GeoDataFrame,
    sites: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    periods: list[PeriodSettings],
    settings: CapacitySettings,
    declared: pd.DataFrame | None = None,
) -> CapacityResult:
    """Estimate carats per country and year from newly mined area and compare them with declared figures.

    Parameters
    ----------
    site_periods : GeoDataFrame
        site_id, period, geometry: each site's footprint in each period it was seen, in the analysis CRS
        (equal-area, metres). Other columns are ignored.
    sites : DataFrame
        site_id and commodity (diamond | gold | other) of every site.
    boundaries : GeoDataFrame
        iso3, geometry: non-overlapping country outlines, in the CRS of `site_periods`.
    periods : list of PeriodSettings
        The periods, in time order.
    settings : CapacitySettings
        `settings.capacity`.
    declared : DataFrame, optional
        Declared KP figures as `read_declared` returns them; None when no file is configured.

    Returns
    -------
    CapacityResult

    Raises
    ------
    ValueError
        When the CRSs differ, `periods` is not in time order, a site appears twice in a period, or `sites`
        has no commodity column.
    """
    _check_inputs(site_periods, sites, boundaries, periods)
    declared = empty_declared() if declared is None else declared
    chosen = sites.loc[sites["commodity"] == settings.commodity, "site_id"].astype(str)
    new, stock = _newly_mined(site_periods, periods)
    new, stock = new[new["site_id"].isin(chosen)], stock[stock["site_id"].isin(chosen)]
    new_area = _by_country(new, boundaries).groupby(["country", "period"], as_index=False)["area_ha"].sum()
    countries = sorted(set(boundaries["iso3"].astype(str)) - {OUTSIDE})
    parameters = _parameters(settings, sorted(set(countries) | set(declared["country"])))
    estimates = _estimates(_area_by_year(new_area, periods, countries), parameters, settings)
    capacity = _with_declared(estimates, declared)
    anomalies = anomaly_table([declared_anomalies(declared, settings.anomalies), _estimate_flags(capacity)])
    log.info("capacity: %d country-years, %d flags on declared KP figures", len(capacity), len(anomalies))
    return CapacityResult(capacity=capacity, anomalies=anomalies,
                          stock=_stock(stock, boundaries, periods), parameters=parameters)


def _check_inputs(site_periods: gpd.GeoDataFrame, sites: pd.DataFrame, boundaries: gpd.GeoDataFrame,
                  periods: list[PeriodSettings]) -> None:
    if site_periods.crs != boundaries.crs:
        raise ValueError(f"site_periods are in {site_periods.crs}, the boundaries in {boundaries.crs}: "
                         "reproject both to the analysis CRS")
    ends = [period.end for period in periods]
    if any(later <= earlier for earlier, later in itertools.pairwise(ends)):
        raise ValueError(f"periods must be in time order, each ending after the previous one; their ends: "
                         f"{', '.join(map(str, ends))}")
    repeated = site_periods.duplicated(["site_id", "period"])
    if repeated.any():
        first = site_periods[repeated].iloc[0]
        raise ValueError(f"site {first['site_id']} has {int(repeated.sum()) + 1} or more footprints in period "
                         f"{first['period']}: give each site one (multi)polygon per period")
    if "commodity" not in sites.columns:
        raise ValueError("sites has no 'commodity' column: the analysis gives each site its commodity first")


# --- newly mined area ----------------------------------------------------------------------------------

def _newly_mined(site_periods: gpd.GeoDataFrame, periods: list[PeriodSettings]
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Newly mined footprints of the periods after the first listed one, and the land dug by its end.

    Returns
    -------
    new : DataFrame
        site_id, period, geometry, area_ha: each site's footprint less all land dug before the period.
    stock : DataFrame
        site_id, geometry, area_ha: each site's footprints up to the first listed period, joined.
    """
    frame = pd.DataFrame({"site_id": site_periods["site_id"].astype(str).to_numpy(),
                          "period": site_periods["period"].astype(str).to_numpy(),
                          "rank": _period_ranks(site_periods["period"].astype(str), periods).to_numpy(),
                          "geometry": np.asarray(site_periods.geometry, dtype=object)})
    ids, dug = pd.Index([], dtype=object), np.empty(0, dtype=object)
    stock_ids, stock_dug = ids, dug
    new = []
    for rank, group in frame.groupby("rank", sort=True):
        footprints = group["geometry"].to_numpy()
        if rank > 0:
            new.append(group.assign(geometry=_less_dug(footprints, dug)))
        ids, dug = _add_dug(ids, dug, group["site_id"].to_numpy(), footprints)
        if rank <= 0:
            stock_ids, stock_dug = ids, dug
    columns = {"site_id": pd.Series(dtype=object), "period": pd.Series(dtype=object),
               "geometry": pd.Series(dtype=object)}
    new = pd.concat(new, ignore_index=True) if new else pd.DataFrame(columns)
    new = new.assign(area_ha=shapely.area(new["geometry"].to_numpy()) / _M2_PER_HA)
    stock = pd.DataFrame({"site_id": stock_ids.to_numpy(dtype=object), "geometry": stock_dug,
                          "area_ha": shapely.area(stock_dug) / _M2_PER_HA})
    return new[new["area_ha"] * _M2_PER_HA > _NOISE_M2][["site_id", "period", "geometry", "area_ha"]], stock


def _period_ranks(names: pd.Series, periods: list[PeriodSettings]) -> pd.Series:
    """0, 1, 2... for the listed periods; negative for unlisted ones (history), in order of appearance."""
    listed = {period.name: order for order, period in enumerate(periods)}
    earlier = [name for name in pd.unique(names) if name not in listed]
    if earlier:
        log.info("capacity: periods %s are not configured; their footprints count as earlier history",
                 ", ".join(earlier))
    return names.map({**{name: order - len(earlier) for order, name in enumerate(earlier)}, **listed})


def _less_dug(footprints: np.ndarray, dug: np.ndarray) -> np.ndarray:
    """Each footprint less every dug area it meets (one pass per level of overlap, never per site)."""
    if not len(dug):
        return footprints
    item, other = shapely.STRtree(dug).query(footprints, predicate="intersects")
    level = pd.Series(item).groupby(item).cumcount().to_numpy()
    fresh = footprints.copy()
    for depth in range(level.max() + 1 if len(level) else 0):
        at = level == depth
        fresh[item[at]] = shapely.difference(fresh[item[at]], dug[other[at]])
    return fresh


def _add_dug(ids: pd.Index, dug: np.ndarray, site_ids: np.ndarray, footprints: np.ndarray
             ) -> tuple[pd.Index, np.ndarray]:
    """Join each site's footprints of a period to the land it had dug (sites met for the first time appended)."""
    position = ids.get_indexer(site_ids)
    known = position >= 0
    dug = dug.copy()
    dug[position[known]] = shapely.union(dug[position[known]], footprints[known])
    return ids.append(pd.Index(site_ids[~known], dtype=object)), np.concatenate([dug, footprints[~known]])


def _by_country(frame: pd.DataFrame, boundaries: gpd.GeoDataFrame) -> pd.DataFrame:
    """`frame` (geometry, area_ha, other columns) split into one row per country share ("" left out)."""
    shares = country_shares(frame["geometry"].to_numpy(), frame["area_ha"].to_numpy(dtype=float), boundaries)
    rows = frame.drop(columns=["geometry", "area_ha"]).iloc[shares["item"].to_numpy()].reset_index(drop=True)
    rows = rows.assign(country=shares["country"].to_numpy(), area_ha=shares["area_ha"].to_numpy())
    return rows[rows["country"] != OUTSIDE]


def _stock(stock: pd.DataFrame, boundaries: gpd.GeoDataFrame, periods: list[PeriodSettings]) -> pd.DataFrame:
    areas = _by_country(stock, boundaries).groupby("country", as_index=False)["area_ha"].sum()
    areas = areas.assign(period=periods[0].name if periods else "")
    return areas[list(CAPACITY_STOCK_COLUMNS)].astype(CAPACITY_STOCK_COLUMNS)


# --- years ---------------------------------------------------------------------------------------------

def _period_years(periods: list[PeriodSettings]) -> pd.DataFrame:
    """period, year, days, share: the days of each period's interval in each calendar year."""
    rows = []
    for previous, period in itertools.pairwise(periods):
        first = previous.end + dt.timedelta(days=1)
        rows += [(period.name, year, _days_within(first, period.end, year))
                 for year in range(first.year, period.end.year + 1)]
    years = pd.DataFrame(rows, columns=["period", "year", "days"]).astype({"year": "int64", "days": "int64"})
    return years.assign(share=years["days"] / years.groupby("period")["days"].transform("sum"))


def _days_within(first: dt.date, last: dt.date, year: int) -> int:
    return (min(last, dt.date(year, 12, 31)) - max(first, dt.date(year, 1, 1))).days + 1


def _days_in_year(years: pd.Series) -> pd.Series:
    leap = ((years % 4 == 0) & (years % 100 != 0)) | (years % 400 == 0)
    return 365 + leap.astype("int64")


def _area_by_year(new_area: pd.DataFrame, periods: list[PeriodSettings], countries: list[str]) -> pd.DataFrame:
    """country, year, days_observed, partial_year, mined_area_ha, annual_area_ha for every observed year, with
    the window its rate rests on (`_rate_windows`)."""
    years = _period_years(periods)
    observed = years.groupby("year")["days"].sum().rename("days_observed")
    given = new_area.merge(years, on="period")
    mined = (given["area_ha"] * given["share"]).groupby([given["country"], given["year"]]).sum()
    grid = pd.MultiIndex.from_product([countries, observed.index], names=["country", "year"])
    frame = mined.reindex(grid, fill_value=0.0).rename("mined_area_ha").reset_index()
    windows = _rate_windows(observed, periods)
    frame = frame.merge(observed.reset_index(), on="year").merge(windows, on="year")
    in_window = _area_in_windows(new_area, windows, periods)
    frame = frame.merge(in_window, on=["country", "year"], how="left").fillna({"window_area_ha": 0.0})
    return frame.assign(partial_year=frame["days_observed"] < _days_in_year(frame["year"]),
                        annual_area_ha=frame["window_area_ha"] * frame["twelve_months_days"] / frame["window_days"])


def _rate_windows(observed: pd.Series, periods: list[PeriodSettings]) -> pd.DataFrame:
    """year, window_from, window_to, window_days, twelve_months_days, window_full: the 12 months to each year's
    last observed day, cut where observation began later."""
    years = observed.index.to_numpy()
    if not len(years):
        return pd.DataFrame(columns=["year", "window_from", "window_to", "window_days", "twelve_months_days",
                                     "window_full"]).astype({"year": "int64", "window_from": "datetime64[ns]",
                                                             "window_to": "datetime64[ns]"})
    last = np.minimum(pd.to_datetime([f"{year}-12-31" for year in years]), pd.Timestamp(periods[-1].end))
    twelve = last - pd.DateOffset(years=1) + pd.Timedelta(days=1)
    start = np.maximum(twelve, pd.Timestamp(periods[0].end) + pd.Timedelta(days=1))
    return pd.DataFrame({"year": years, "window_from": start, "window_to": last,
                         "window_days": (last - start).days + 1, "twelve_months_days": (last - twelve).days + 1,
                         "window_full": start == twelve})


def _area_in_windows(new_area: pd.DataFrame, windows: pd.DataFrame, periods: list[PeriodSettings]) -> pd.DataFrame:
    """country, year, window_area_ha: new area spread evenly over each period's interval, summed over the days
    of each year's rate window."""
    if windows.empty:
        return pd.DataFrame({"country": pd.Series(dtype=object), "year": pd.Series(dtype="int64"),
                             "window_area_ha": pd.Series(dtype=float)})
    intervals = pd.DataFrame({"period": [period.name for period in periods[1:]],
                              "first": pd.DatetimeIndex([previous.end for previous in periods[:-1]]) + pd.Timedelta(days=1),
                              "last": pd.DatetimeIndex([period.end for period in periods[1:]])})
    pairs = intervals.merge(windows[["year", "window_from", "window_to"]], how="cross")
    overlap = ((np.minimum(pairs["last"], pairs["window_to"]) - np.maximum(pairs["first"], pairs["window_from"])).dt.days
               + 1).clip(lower=0)
    pairs = pairs.assign(share=overlap / ((pairs["last"] - pairs["first"]).dt.days + 1))
    given = new_area.merge(pairs[["period", "year", "share"]], on="period")
    return ((given["area_ha"] * given["share"]).groupby([given["country"], given["year"]]).sum()
            .rename("window_area_ha").reset_index())


# --- parameters and estimates --------------------------------------------------------------------------

def _parameters(settings: CapacitySettings, countries: list[str]) -> pd.DataFrame:
    """The parameters of every country: its own where it has them, else the regional ones."""
    rows = []
    for country in countries:
        own = settings.countries.get(country, CountryCapacity())
        rows += [{"country": country, "method": "volume", "parameter": name,
                  **(getattr(own, name) or getattr(settings.volume, name)).model_dump()} for name in _VOLUME]
        if own.miners is not None:
            rows += [{"country": country, "method": "miners", "parameter": name,
                      **getattr(own.miners, name).model_dump()} for name in _MINERS]
    frame = pd.DataFrame(rows, columns=list(CAPACITY_PARAMETER_COLUMNS))
    return frame.astype(CAPACITY_PARAMETER_COLUMNS)


def _estimates(area: pd.DataFrame, parameters: pd.DataFrame, settings: CapacitySettings) -> pd.DataFrame:
    """Carats a year by the volume x grade method and, where configured, the miners method: the 5th percentile,
    median and 95th percentile of Monte Carlo draws of each country's factors."""
    volume = parameters[parameters["method"] == "volume"]
    miners_countries = parameters.loc[parameters["method"] == "miners", "country"].unique()
    labour = pd.concat([parameters[parameters["method"] == "miners"],
                        volume[volume["parameter"].isin(_SHARED_WITH_MINERS)
                               & volume["country"].isin(miners_countries)].assign(method="miners")])
    factors = pd.concat([volume, labour], ignore_index=True)
    factors = factors.assign(group=factors["method"] + " " + factors["country"],
                             cap=np.where(factors["parameter"].isin(_FRACTIONS), 1.0, np.inf))
    quantiles = product_quantiles(factors, settings.draws, settings.seed)
    per_m2 = quantiles.reindex("volume " + area["country"]).to_numpy()
    carats = per_m2 * (area["annual_area_ha"].to_numpy() * _M2_PER_HA)[:, None]
    yearly = quantiles.reindex("miners " + area["country"]).to_numpy()
    return area.assign(**{f"volume_carats_{name}": carats[:, i] for i, name in enumerate(_NAMES)},
                       **{f"miners_carats_{name}": yearly[:, i] for i, name in enumerate(_NAMES)},
                       draws=settings.draws, seed=settings.seed)


# --- declared figures ----------------------------------------------------------------------------------

def _with_declared(estimates: pd.DataFrame, declared: pd.DataFrame) -> pd.DataFrame:
    """Estimates and declared figures side by side, one row per country-year of either, with row caveats."""
    renamed = declared.rename(columns={**{name: f"declared_{name}" for name in FIGURES},
                                       "source": "declared_source", "illustrative": "declared_illustrative"})
    table = estimates.merge(renamed, on=["country", "year"], how="outer")
    table = table.assign(days_observed=table["days_observed"].fillna(0), draws=table["draws"].fillna(0),
                         seed=table["seed"].fillna(0),
                         partial_year=table["partial_year"].astype("boolean").fillna(False),
                         declared_illustrative=table["declared_illustrative"].astype("boolean"))
    central = table["volume_carats_central"]
    table["declared_to_estimate"] = table["declared_production_carats"] / central.where(central > 0)
    table["caveats"] = _row_caveats(table)
    table = table[list(CAPACITY_COLUMNS)].astype(CAPACITY_COLUMNS)
    return table.sort_values(["country", "year"], ignore_index=True)


def _row_caveats(table: pd.DataFrame) -> pd.Series:
    """What to keep in mind about each row, in words (parts joined by "; ")."""
    days = table["days_observed"].astype("int64")
    parts = [
        pd.Series(ROW_ESTIMATE, index=table.index).where(days > 0, ROW_NO_IMAGERY),
        _partial_year_caveat(table),
        pd.Series(ROW_ILLUSTRATIVE, index=table.index).where(
            table["declared_illustrative"].fillna(False).to_numpy(dtype=bool), ""),
    ]
    joined = parts[0].str.cat(parts[1:], sep="; ")
    return joined.str.replace(r"(; )+", "; ", regex=True).str.strip("; ")


def _partial_year_caveat(table: pd.DataFrame) -> pd.Series:
    """`PARTIAL_YEAR` (or `PARTIAL_YEAR_SCALED` where fewer than 12 months were observed) of each partial year;
    "" for the other rows."""
    partial = table["partial_year"].to_numpy(dtype=bool)
    if not partial.any():
        return pd.Series("", index=table.index)
    rows = pd.DataFrame({"days": table["days_observed"].astype("int64"),
                         "to": pd.to_datetime(table["window_to"]).dt.strftime("%Y-%m-%d").fillna(""),
                         "window": table["window_days"].fillna(0).astype("int64"),
                         "full": table["window_full"].fillna(False).astype(bool), "partial": partial})
    return pd.Series([(PARTIAL_YEAR if row["full"] else PARTIAL_YEAR_SCALED) % row if row["partial"] else ""
                      for row in rows.to_dict("records")], index=table.index, dtype=object)


def _estimate_flags(capacity: pd.DataFrame) -> pd.DataFrame:
    """Declared production below the 5th or above the 95th percentile of the estimate of a year with imagery."""
    rows = capacity[(capacity["days_observed"] > 0) & capacity["declared_production_carats"].notna()]
    rows = rows.assign(figure=rows["declared_production_carats"],
                       illustrative=rows["declared_illustrative"].fillna(False).astype(bool))
    return anomaly_table([
        _estimate_flag(rows[rows["figure"] < rows["volume_carats_p05"]], "volume_carats_p05", Flag.BELOW_ESTIMATE,
                       "below the 5th percentile of the", "possible unrecorded production leaving outside the KP system; the "
                       "estimate is an order of magnitude, so check its parameters for this country first"),
        _estimate_flag(rows[rows["figure"] > rows["volume_carats_p95"]], "volume_carats_p95", Flag.ABOVE_ESTIMATE,
                       "above the 95th percentile of the", "possible laundering of stones mined elsewhere, or mining the imagery "
                       "cannot see (dredging, underground, under forest cover)"),
    ])


def _estimate_flag(rows: pd.DataFrame, reference: str, flag: Flag, side: str, hint: str) -> pd.DataFrame:
    coverage = ("; partial year, " + rows["days_observed"].astype(str) + " days observed").where(
        rows["partial_year"].to_numpy(dtype=bool), "")
    estimate = ("5–95 %: " + number(rows["volume_carats_p05"]) + "–" + number(rows["volume_carats_p95"])
                + " ct, median " + number(rows["volume_carats_central"]) + " ct").where(rows["volume_carats_p95"] > 0,
                                                                       "no newly mined area seen")
    message = (country_names(rows["country"]) + " " + rows["year"].astype(str) + ": declared production "
               + number(rows["figure"]) + f" ct is {side} estimate from newly mined area (" + estimate + coverage
               + f") — {hint}")
    compared = (rows["country"] + " " + rows["year"].astype(str) + " declared production carats with the estimate "
                "from newly mined area")
    return anomaly_rows(rows.assign(reference=rows[reference]), flag, "ct", message, compared)
