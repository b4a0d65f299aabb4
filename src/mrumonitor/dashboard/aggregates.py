"""The figures every role may see, of a loaded run: KPIs, per-country overviews, trends, corridors, capacity.

The per-country figures go through `country_overview`, the same function `mrumonitor demo` and `analyse`
print with, so the dashboard and the command line never disagree; they are computed once per filter
combination and kept on the run (`RunData.overviews`), from the current sites as categories (`prepared.categories`:
grouped three times faster than text at 500,000 sites). A border scope's corridor ranking is kept per period and
commodity (`RunData.rankings`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mrumonitor.analysis.summary import corridor_ranking as ranked_corridors
from mrumonitor.analysis.summary import country_overview
from mrumonitor.dashboard.change import growth
from mrumonitor.dashboard.filters import COMMODITY_WORDS, SCOPE_WORDS, Filters
from mrumonitor.dashboard.prepared import sites_as_of
from mrumonitor.dashboard.run import RunData
from mrumonitor.i18n import _, ngettext, number


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
    and `unregistered_ha` are of the commodity chosen; `all_unregistered_ha` of every commodity. The scope's
    ranking is made once per period, commodity and scope (`RunData.rankings`)."""
    table = data.rankings.get((filters.period, filters.commodity, filters.scope), lambda: ranked_corridors(
        data.corridors, data.corridor_periods, filters.period, filters.commodity, filters.scope)).copy()
    if filters.countries:
        sides = table["border_pair"].str.split("-", expand=True)
        table = table[sides.isin(list(filters.countries)).any(axis=1).to_numpy()].reset_index(drop=True)
    return table


def corridor_changes(data: RunData, filters: Filters, since: str | None) -> pd.DataFrame:
    """`corridor_ranking` of `filters`, in rank order, with the growth of each corridor's unregistered area
    (of the commodity chosen) from period `since` to `filters.period` (`change.growth`: before_ha, after_ha,
    change_ha, change_pct; None `since`: every corridor is new) and its `place` (`corridor_places`)."""
    ranking = corridor_ranking(data, filters)
    earlier = corridor_ranking(data, replace(filters, period=since)) if since else ranking.iloc[0:0]
    changes = growth(earlier.set_index("corridor_id")["unregistered_ha"],
                     ranking.set_index("corridor_id")["unregistered_ha"])
    return ranking.join(changes.drop(columns="after_ha"), on="corridor_id").assign(place=corridor_places(ranking))


def corridor_places(ranking: pd.DataFrame) -> pd.Series:
    """A corridor by the towns nearest to it on each side ("near Koindu, SLE · Gueckedou, GIN", its `near_places`
    without their distances), in the current language; its code where no town is known."""
    towns = ranking["near_places"].astype("string").str.replace(r",\s*[\d.,]+\s*km", "", regex=True)
    before, after = _("near %(places)s").split("%(places)s")
    return (before + towns + after).fillna(ranking["corridor_id"].astype("string")).astype(str)


def corridor_labels(ranking: pd.DataFrame, filters: Filters) -> pd.Series:
    """How a ranked corridor (`corridor_ranking`) is named wherever it is shown, the same words in the chart's
    hover and the map's tooltip, in the current language: "#3 of MRU internal borders (diamond sites, 2026H1):
    GIN-SLE-004, near Gueckedou, GIN, 56 km · Tombu, SLE, 12 km — 211 ha unregistered, 3 sites; nearest
    official crossing Koindu, 31 km"."""
    borders, sites_of = _(SCOPE_WORDS[filters.scope]), _(COMMODITY_WORDS[filters.commodity])
    labels = []
    for row in ranking.itertuples(index=False):
        label = _("#%(rank)s of %(borders)s (%(sites)s, %(period)s): %(corridor)s", rank=row.rank, borders=borders,
                  sites=sites_of, period=filters.period, corridor=row.corridor_id)
        if not pd.isna(row.near_places):
            label += _(", near %(places)s", places=row.near_places)
        label += ngettext(" — %(area)s ha unregistered, %(num)s site", " — %(area)s ha unregistered, %(num)s sites",
                          int(row.sites), area=number(row.unregistered_ha))
        label += (_("; no official crossing known") if pd.isna(row.nearest_post_name) else
                  _("; nearest official crossing %(name)s, %(km)s km", name=row.nearest_post_name,
                    km=number(row.dist_post_km)))
        labels.append(label)
    return pd.Series(labels, index=ranking.index, dtype=object)


def post_distances(data: RunData, filters: Filters, pair: str | None = None) -> pd.DataFrame:
    """Distance to the nearest official crossing of every site of the commodity chosen in the border zone of the
    border scope chosen (the site's nearest border is of that scope; of border `pair` only, if given) in
    `filters.period`, with its country and class (an aggregate: only the distances and classes leave the
    server)."""
    pairs = [pair] if pair else data.scope_pairs[filters.scope]
    rows = data.site_periods[(data.site_periods["period"] == filters.period)
                             & data.site_periods["in_border_zone"].astype(bool)
                             & data.site_periods["border_pair"].isin(pairs)]
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
