"""The figures every role may see, of a loaded run: KPIs, per-country overviews, trends, corridors, capacity.

The per-country figures go through `country_overview`, the same function `mrumonitor demo` and `analyse`
print with, so the dashboard and the command line never disagree; they are computed once per filter
combination and kept on the run (`RunData.overviews`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mrumonitor.analysis.summary import corridor_ranking as ranked_corridors
from mrumonitor.analysis.summary import country_overview
from mrumonitor.dashboard.filters import COMMODITY_WORDS, SCOPE_WORDS, Filters
from mrumonitor.dashboard.prepared import sites_as_of
from mrumonitor.dashboard.run import RunData


def overview(data: RunData, filters: Filters) -> pd.DataFrame:
    """The per-country picture of `filters.period` (`country_overview`, as the command line prints it), for the
    commodity, classes and border-zone filter chosen; every country's row (aggregates are for every role).
    Computed once per filter combination (`RunData.overviews`)."""
    key = (filters.period, filters.commodity, tuple(sorted(set(filters.classes))), filters.border_only)
    return data.overviews.get(key, lambda: _overview(data, filters)).copy()


def _overview(data: RunData, filters: Filters) -> pd.DataFrame:
    summary = data.summary(filters.commodity, filters.border_only)
    sites = data.site_views.current_sites.get(filters.period)
    if sites is None:  # not a period of the run: no site
        sites = sites_as_of(data.sites, data.site_periods, filters.period, data.last_period)
    if filters.classes:
        summary = summary[summary["registration"].isin(filters.classes)]
        sites = sites[sites["registration"].isin(filters.classes)]
    if filters.commodity:
        sites = sites[sites["commodity"] == filters.commodity]
    if filters.border_only:
        sites = sites[sites["in_border_zone"].astype(bool)]
    return country_overview(summary, sites, filters.period)


def kpis(data: RunData, filters: Filters) -> dict[str, float]:
    """The KPI cards: sums of the `overview` rows of the chosen countries (default: the run's)."""
    table = overview(data, filters)
    chosen = table[table["country"].isin(filters.countries or data.countries)]
    active, unregistered = float(chosen["active ha"].sum()), float(chosen["unregistered ha"].sum())
    return {
        "active_ha": active,
        "unregistered_share": 100 * unregistered / active if active else 0.0,
        "border_zone_sites": int(chosen["in border zone"].sum()),
        "new_sites": int(chosen[f"new in {filters.period}"].sum()),
        "transboundary_sites": int(chosen["transboundary"].sum()),
        "sites": int(chosen["sites"].sum()),
    }


def trends(data: RunData, filters: Filters) -> pd.DataFrame:
    """Per period and chosen country: active and unregistered area and share (from `overview` per period)."""
    frames = [overview(data, replace(filters, period=period)).assign(period=period) for period in data.periods]
    table = pd.concat(frames, ignore_index=True)
    table = table[table["country"].isin(filters.countries or data.countries)]
    return table[["period", "country", "active ha", "unregistered ha", "unregistered %"]].reset_index(drop=True)


def corridor_ranking(data: RunData, filters: Filters) -> pd.DataFrame:
    """The border corridors of `filters.scope` ranked for the period and commodity of `filters`, as the command
    line ranks them (`analysis.summary.corridor_ranking`: an external corridor never enters the MRU ranking);
    with countries chosen, those on their borders.

    The rank is given within the whole scope before the countries chosen keep the corridors on their borders,
    so a corridor has one rank wherever it is shown (the border page, the map's tooltip). `sites`, `active_ha`
    and `unregistered_ha` are of the commodity chosen; `all_unregistered_ha` of every commodity."""
    table = ranked_corridors(data.corridors, data.corridor_periods, filters.period, filters.commodity, filters.scope)
    if filters.countries:
        sides = table["border_pair"].str.split("-", expand=True)
        table = table[sides.isin(list(filters.countries)).any(axis=1).to_numpy()].reset_index(drop=True)
    return table


def corridor_labels(ranking: pd.DataFrame, filters: Filters) -> pd.Series:
    """How a ranked corridor (`corridor_ranking`) is named wherever it is shown, the same words in the chart's
    hover and the map's tooltip: "#3 of MRU internal borders (diamond sites, 2026H1): GIN-SLE-004, near
    Gueckedou, GIN, 56 km · Tombu, SLE, 12 km — 211 ha unregistered, 3 sites; nearest official crossing
    Koindu, 31 km"."""
    km = ranking["dist_post_km"].round(0).astype("Int64").astype("string")
    crossing = ("; nearest official crossing " + ranking["nearest_post_name"].astype("string") + ", " + km
                + " km").fillna("; no official crossing known")
    places = (", near " + ranking["near_places"].astype("string")).fillna("")
    return ("#" + ranking["rank"].astype("string") + f" of {SCOPE_WORDS[filters.scope]} "
            f"({COMMODITY_WORDS[filters.commodity]}, {filters.period}): " + ranking["corridor_id"].astype(str)
            + places + " — " + ranking["unregistered_ha"].map("{:,.0f}".format).astype("string")
            + " ha unregistered, " + ranking["sites"].astype("string") + " sites" + crossing).astype(str)


def post_distances(data: RunData, filters: Filters) -> pd.DataFrame:
    """Distance to the nearest official crossing of every site of the commodity chosen in the border zone of the
    border scope chosen (the site's nearest border is of that scope) in `filters.period`, with its country and
    class (an aggregate: only the distances and classes leave the server)."""
    rows = data.site_periods[(data.site_periods["period"] == filters.period)
                             & data.site_periods["in_border_zone"].astype(bool)
                             & data.site_periods["border_pair"].isin(data.scope_pairs[filters.scope])]
    if filters.commodity:
        rows = rows[rows["commodity"] == filters.commodity]
    if filters.countries:
        rows = rows[rows["country"].isin(filters.countries)]
    return rows[["country", "registration", "dist_post_km"]].reset_index(drop=True)


def capacity_table(data: RunData) -> pd.DataFrame:
    """The run's production capacity rows with an estimate or a declared figure, and their anomaly flags."""
    shown = data.capacity[data.capacity["volume_carats_central"].notna()
                          | data.capacity["declared_production_carats"].notna()]
    flags = data.anomalies.groupby(["country", "year"])["flag"].agg(", ".join).rename("flags")
    return shown.join(flags, on=["country", "year"]).fillna({"flags": ""}).reset_index(drop=True)


def parameter_sources_table(data: RunData) -> pd.DataFrame:
    """The parameters of the run's capacity estimate with their sources, and `basis`: "USGS" where the source
    cites a USGS assessment, "ILLUSTRATIVE" where it says so, else "configured" (a deployment's own value); empty
    for a run that does not publish them."""
    table = data.capacity_parameters
    source = table["source"].astype("string").fillna("")
    illustrative = source.str.contains("ILLUSTRATIVE", case=False).to_numpy(dtype=bool)
    usgs = source.str.contains("USGS").to_numpy(dtype=bool)
    return table.assign(basis=np.select([illustrative, usgs], ["ILLUSTRATIVE", "USGS"], "configured")).reset_index(
        drop=True)
