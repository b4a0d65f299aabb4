"""Registration summaries: active area per period, area and class, by country and by admin area.

The registration pieces are split between the areas they lie in (`country_shares`), so a transboundary
site's area counts once, shared between its countries, and the classes of each area sum to its active area.
Admin layers (`[analysis.admin.<level>]`) are optional; their areas must not overlap within a level.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from mrumonitor.analysis.corridors import rank_corridors
from mrumonitor.schema import (
    NOT_MINING_CLASS,
    REGISTRATION_CLASSES,
    REGISTRATION_SUMMARY_COLUMNS,
    UNREGISTERED_CLASSES,
)
from mrumonitor.sites import OUTSIDE, country_shares

#: Name of the level of the country rows in `registration_summary`.
COUNTRY_LEVEL = "country"
#: The commodity choice that takes every commodity (`country_overview`, `corridor_ranking`, `top_risk_sites`).
ALL_COMMODITIES = "all"


def registration_summary(pieces: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame,
                         admin: dict[str, gpd.GeoDataFrame] | None = None) -> pd.DataFrame:
    """Active area and site count per level, area, period and registration class.

    Parameters
    ----------
    pieces : GeoDataFrame
        The `site_registration` layer (site_id, period, registration, area_ha, geometry).
    boundaries : GeoDataFrame
        iso3, geometry: the consistent country outlines.
    admin : dict of str to GeoDataFrame, optional
        Level name -> areas (name, country, geometry) from `load_admin_layer`.

    Returns
    -------
    DataFrame
        REGISTRATION_SUMMARY_COLUMNS. Country rows have level "country" and area = country = the ISO3 code
        ("" for area outside every outline); admin rows name the admin area and its country.
    """
    geoms, area = np.asarray(pieces.geometry), pieces["area_ha"].to_numpy(dtype=float)
    frames = [_summarise(pieces, country_shares(geoms, area, boundaries), COUNTRY_LEVEL, None)]
    for level, areas in (admin or {}).items():
        shares = country_shares(geoms, area, areas, key="name")
        frames.append(_summarise(pieces, shares[shares["country"] != OUTSIDE], level, areas))
    return pd.concat(frames, ignore_index=True)[list(REGISTRATION_SUMMARY_COLUMNS)].astype(
        REGISTRATION_SUMMARY_COLUMNS)


def _summarise(pieces: pd.DataFrame, shares: pd.DataFrame, level: str, areas: pd.DataFrame | None) -> pd.DataFrame:
    rows = shares.rename(columns={"country": "area"}).assign(
        site_id=pieces["site_id"].to_numpy()[shares["item"]],
        period=pieces["period"].to_numpy()[shares["item"]],
        registration=pieces["registration"].to_numpy()[shares["item"]])
    summary = rows.groupby(["area", "period", "registration"]).agg(
        area_ha=("area_ha", "sum"), sites=("site_id", "nunique")).reset_index()
    country = summary["area"] if areas is None else summary["area"].map(areas.set_index("name")["country"])
    summary = summary.assign(level=level, country=country.fillna(""), area_ha=summary["area_ha"].round(4))
    order = pd.Categorical(summary["registration"], REGISTRATION_CLASSES).codes
    return summary.assign(_order=order).sort_values(["area", "period", "_order"], ignore_index=True)


def country_overview(summary: pd.DataFrame, sites: pd.DataFrame, period: str, commodity: str | None = None
                     ) -> pd.DataFrame:
    """The per-country picture of one period, for the command line and the dashboard's first glance.

    One row per country: active area, unregistered area and share, current sites (seen in `period`, not
    merged), those in the border zone, transboundary, new in the period, the highest risk score, and the area
    field teams found not to be mining (``verified_not_mining``: never part of the active area). Area outside
    every outline is listed as "(outside)".

    With no `commodity` (or "all"), the areas come from `registration_summary`, so a transboundary site's area
    is split between its countries. With a commodity (diamond, gold, other), only the sites of that commodity
    count, and the areas come from the sites themselves (`registration_summary` has no commodity): a
    transboundary site's area then counts whole in its main country.
    """
    current = sites[sites["merged_into"].isna() & (sites["last_seen"] == period)]
    if commodity in (None, ALL_COMMODITIES):
        rows = summary[(summary["level"] == COUNTRY_LEVEL) & (summary["period"] == period)]
        false_positive = rows[rows["registration"] == NOT_MINING_CLASS].groupby("country")["area_ha"].sum()
        rows = rows[rows["registration"] != NOT_MINING_CLASS]
        active = rows.groupby("country")["area_ha"].sum()
        unregistered = rows[rows["registration"].isin(UNREGISTERED_CLASSES)].groupby("country")["area_ha"].sum()
    else:
        current = current[current["commodity"] == commodity]
        mining = current["registration"] != NOT_MINING_CLASS
        false_positive = current[~mining].groupby("country")["area_ha"].sum()
        active = current[mining].groupby("country")["area_ha"].sum()
        unregistered = current[mining].groupby("country")["unregistered_ha"].sum()
    by_country = current.groupby("country")
    overview = pd.DataFrame({
        "active ha": active,
        "unregistered ha": unregistered.reindex(active.index, fill_value=0.0),
        "sites": by_country.size(),
        "in border zone": by_country["in_border_zone"].sum(),
        "transboundary": by_country["transboundary"].sum(),
        f"new in {period}": current[current["first_seen"] == period].groupby("country").size(),
        "max risk": by_country["risk_score"].max(),
        "verified not mining ha": false_positive,
    }, columns=["active ha", "unregistered ha", "sites", "in border zone", "transboundary", f"new in {period}",
                "max risk", "verified not mining ha"]).fillna(0.0)
    overview.insert(2, "unregistered %", (100 * overview["unregistered ha"] / overview["active ha"]).round(1))
    counts = ["sites", "in border zone", "transboundary", f"new in {period}"]
    overview = overview.astype(dict.fromkeys(counts, int)).round({"active ha": 1, "unregistered ha": 1,
                                                                           "verified not mining ha": 1})
    overview.index = overview.index.map(lambda code: code or "(outside)").rename("country")
    return overview.reset_index()


def corridor_ranking(corridors: pd.DataFrame, corridor_periods: pd.DataFrame, period: str,
                     commodity: str | None = "diamond", scope: str = "mru") -> pd.DataFrame:
    """The corridors of one scope (mru | external) ranked for one period and commodity, as `corridor_figures`
    ranks them on the run's last period for diamonds: by the unregistered area of the commodity's sites in the
    border zone next to them in `period`, then by that of every commodity, then by the distance to the nearest
    crossing (further first). An external corridor never enters the MRU ranking, nor an MRU one the external.

    Parameters
    ----------
    corridors, corridor_periods : DataFrame
        The run's `border_corridors` and `corridor_periods` layers.
    period : str
    commodity : str or None
        diamond, gold or other; "all" or None for every commodity.
    scope : str
        mru or external (schema.BORDER_SCOPES).

    Returns
    -------
    DataFrame
        The corridors of `scope` (CORRIDOR_COLUMNS, geometry if any) with sites, active_ha and unregistered_ha
        of `commodity` in `period`, all_unregistered_ha of every commodity, and rank (1 = first), ranked.
    """
    periods = corridor_periods[corridor_periods["period"] == period]
    chosen = periods if commodity in (None, ALL_COMMODITIES) else periods[periods["commodity"] == commodity]
    figures = ["sites", "active_ha", "unregistered_ha"]
    table = corridors[corridors["scope"] == scope].drop(columns=[*figures, "rank"])
    table = table.join(chosen.groupby("corridor_id")[figures].sum(), on="corridor_id").join(
        periods.groupby("corridor_id")["unregistered_ha"].sum().rename("all_unregistered_ha"), on="corridor_id")
    table = table.fillna({"sites": 0, "active_ha": 0.0, "unregistered_ha": 0.0, "all_unregistered_ha": 0.0})
    return rank_corridors(table.astype({"sites": "int64"}), "unregistered_ha", "all_unregistered_ha")


def top_risk_sites(sites: pd.DataFrame, period: str, commodity: str = "diamond", count: int = 10) -> pd.DataFrame:
    """The `count` current sites (seen in `period`, not merged) of `commodity` ("all": any) with the highest risk
    score, highest first: site_id, country, commodity, commodity_basis, risk_score, area_ha, unregistered_ha,
    dist_border_km, nearest_post_name, dist_post_km."""
    current = sites[sites["merged_into"].isna() & (sites["last_seen"] == period)]
    if commodity != ALL_COMMODITIES:
        current = current[current["commodity"] == commodity]
    columns = ["site_id", "country", "commodity", "commodity_basis", "risk_score", "area_ha", "unregistered_ha",
               "dist_border_km", "nearest_post_name", "dist_post_km"]
    top = current.sort_values(["risk_score", "site_id"], ascending=[False, True]).head(count)
    return top.reindex(columns=columns).reset_index(drop=True)
