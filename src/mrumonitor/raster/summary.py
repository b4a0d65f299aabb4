"""Per-country figures of a detect run, for the command line (and later the dashboard's KPIs)."""

from __future__ import annotations

import pandas as pd

from mrumonitor.sites import SiteLayers


def country_summary(layers: SiteLayers, periods: list[str]) -> pd.DataFrame:
    """One row per country: current sites, new in the last period, transboundary, active ha per period.

    "Current" sites are those seen in the last period and not merged into another; active area comes from
    `site_country_areas`, so a transboundary site's area counts once, split between its countries.
    Area outside every country outline is listed as country "(outside)".
    """
    last = periods[-1]
    sites = layers.sites[layers.sites["merged_into"].isna() & (layers.sites["last_seen"] == last)]
    areas = layers.site_country_areas.pivot_table(index="country", columns="period", values="area_ha",
                                                  aggfunc="sum", fill_value=0.0)
    areas = areas.reindex(columns=periods, fill_value=0.0).add_prefix("ha ")
    counts = pd.DataFrame({
        "sites": sites.groupby("country").size(),
        f"new in {last}": sites[sites["first_seen"] == last].groupby("country").size(),
        "transboundary": sites[sites["transboundary"]].groupby("country").size(),
    })
    summary = counts.join(areas, how="outer").fillna(0)
    summary = summary.astype({column: int for column in counts.columns})
    summary.index = summary.index.map(lambda code: code or "(outside)").rename("country")
    return summary.reset_index()
