"""The figures every role may see, of a loaded run: KPIs, per-country overviews, trends, corridors, capacity.

The per-country figures go through `country_overview`, the same function `mrumonitor demo` and `analyse`
print with, so the dashboard and the command line never disagree; they are computed once per filter
combination and kept on the run (`RunData.overviews`).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from mrumonitor.analysis.summary import country_overview
from mrumonitor.dashboard.filters import Filters
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
    """Border corridors of `filters.period` ranked as the run ranks them (unregistered area in the border
    zone, then distance to an official crossing); with countries chosen, those on their borders."""
    periods = data.corridor_periods
    chosen = periods[(periods["period"] == filters.period)
                     & ((periods["commodity"] == filters.commodity) if filters.commodity else True)]
    figures = chosen.groupby("corridor_id")[["sites", "active_ha", "unregistered_ha"]].sum()
    table = data.corridors.drop(columns=["sites", "active_ha", "unregistered_ha", "rank"])
    table = table.join(figures, on="corridor_id").fillna({"sites": 0, "active_ha": 0.0, "unregistered_ha": 0.0})
    if filters.countries:
        pairs = table["border_pair"].str.split("-")
        table = table[pairs.map(lambda pair: bool(set(pair) & set(filters.countries)))]
    table = table.sort_values(["scope", "unregistered_ha", "dist_post_km"], ascending=[False, False, False],
                              ignore_index=True)
    return table.assign(rank=table.groupby("scope").cumcount() + 1)


def post_distances(data: RunData, filters: Filters) -> pd.DataFrame:
    """Distance to the nearest official crossing of every site in the border zone in `filters.period`, with its
    country and class (an aggregate: only the distances and classes leave the server)."""
    rows = data.site_periods[(data.site_periods["period"] == filters.period)
                             & data.site_periods["in_border_zone"].astype(bool)]
    if filters.countries:
        rows = rows[rows["country"].isin(filters.countries)]
    return rows[["country", "registration", "dist_post_km"]].reset_index(drop=True)


def capacity_table(data: RunData) -> pd.DataFrame:
    """The run's production capacity rows with an estimate or a declared figure, and their anomaly flags."""
    shown = data.capacity[data.capacity["volume_carats_central"].notna()
                          | data.capacity["declared_production_carats"].notna()]
    flags = data.anomalies.groupby(["country", "year"])["flag"].agg(", ".join).rename("flags")
    return shown.join(flags, on=["country", "year"]).fillna({"flags": ""}).reset_index(drop=True)
