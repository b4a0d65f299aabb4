"""The MRU focus on hand-made worlds: corridors ranked within their scope by diamond area, the risk score's
commodity and size factors, and the per-commodity summaries the command line prints.

The corridors are straight 25 km lines in the analysis CRS (metres), one per border pair, so every figure is
known by hand: SLE-GIN and GIN-LBR run between two project countries (scope "mru"), CIV-GHA between a project
country and Ghana (scope "external").
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from mrumonitor.analysis.corridors import corridor_figures, corridor_scope
from mrumonitor.analysis.risk import COMMODITY_FACTOR, risk_factors, risk_score
from mrumonitor.analysis.summary import corridor_ranking, country_overview, top_risk_sites
from mrumonitor.config import load_settings

pytestmark = pytest.mark.unit

SETTINGS = load_settings()
CRS = SETTINGS.analysis_crs
COUNTRIES = ["SLE", "GIN", "LBR", "CIV"]
KM = 1000.0
PERIODS = ["2025H2", "2026H1"]


def corridors(*pairs: str) -> gpd.GeoDataFrame:
    """One 25 km corridor per pair, side by side 100 km apart."""
    lines = [shapely.LineString([(100 * KM * i, 0), (100 * KM * i, 25 * KM)]) for i in range(len(pairs))]
    return gpd.GeoDataFrame({"corridor_id": [f"{pair}-001" for pair in pairs], "border_pair": list(pairs),
                             "from_km": 0.0, "to_km": 25.0, "length_km": 25.0}, geometry=lines, crs=CRS)


def posts() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"post_id": ["SLE-GIN-01"], "name": ["Gbalamuya"]},
                            geometry=[shapely.Point(0, 12.5 * KM)], crs=CRS)


def footprints(*rows: tuple[str, str, str, str, float, float]) -> pd.DataFrame:
    """(site_id, period, corridor_id, commodity, area_ha, unregistered_ha) in the border zone."""
    return pd.DataFrame(rows, columns=["site_id", "period", "corridor_id", "commodity", "area_ha",
                                       "unregistered_ha"]).assign(in_border_zone=True)


def ranked(lines: gpd.GeoDataFrame, zone: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return corridor_figures(lines, zone, posts(), PERIODS, COUNTRIES)


# --- corridors --------------------------------------------------------------------------------------------

def test_mru_ranking_holds_no_civ_gha_corridor():
    lines = corridors("CIV-GHA", "SLE-GIN")
    zone = footprints(("G1", "2026H1", "CIV-GHA-001", "gold", 500.0, 500.0),
                      ("G2", "2026H1", "CIV-GHA-001", "gold", 300.0, 300.0),
                      ("D1", "2026H1", "SLE-GIN-001", "diamond", 2.0, 2.0))
    table, _ = ranked(lines, zone)
    by_scope = {scope: rows.sort_values("rank") for scope, rows in table.groupby("scope")}
    assert by_scope["mru"]["border_pair"].tolist() == ["SLE-GIN"]
    assert by_scope["mru"].iloc[0][["corridor_id", "rank", "diamond_unregistered_ha"]].tolist() == [
        "SLE-GIN-001", 1, 2.0]
    assert by_scope["external"].iloc[0][["corridor_id", "rank", "unregistered_ha"]].tolist() == [
        "CIV-GHA-001", 1, 800.0]
    assert table.iloc[0]["scope"] == "mru"  # MRU corridors first
    assert table.set_index("corridor_id").loc["SLE-GIN-001", "nearest_post_name"] == "Gbalamuya"


@pytest.mark.parametrize("pairs, scopes", [
    (["SLE-GIN", "LBR-CIV", "GIN-LBR", "CIV-GIN", "SLE-LBR"], ["mru"] * 5),
    (["CIV-GHA", "GIN-MLI", "GIN-SEN"], ["external"] * 3),
])
def test_scope_is_mru_only_between_two_project_countries(pairs, scopes):
    assert corridor_scope(pd.Series(pairs), COUNTRIES).tolist() == scopes


def test_a_diamond_corridor_outranks_one_with_more_gold():
    lines = corridors("SLE-GIN", "GIN-LBR")
    zone = footprints(("G1", "2026H1", "SLE-GIN-001", "gold", 100.0, 100.0),
                      ("D1", "2026H1", "GIN-LBR-001", "diamond", 1.0, 1.0))
    table, _ = ranked(lines, zone)
    assert table.sort_values("rank")["corridor_id"].tolist() == ["GIN-LBR-001", "SLE-GIN-001"]
    assert table.set_index("corridor_id").loc["SLE-GIN-001", ["unregistered_ha", "diamond_unregistered_ha"]].tolist() \
        == [100.0, 0.0]


def test_corridor_periods_per_commodity_sum_to_the_totals():
    lines = corridors("SLE-GIN", "CIV-GHA")
    zone = footprints(("D1", "2025H2", "SLE-GIN-001", "diamond", 5.0, 3.0),
                      ("G1", "2025H2", "SLE-GIN-001", "gold", 7.0, 7.0),
                      ("D1", "2026H1", "SLE-GIN-001", "diamond", 6.0, 4.0),
                      ("G1", "2026H1", "SLE-GIN-001", "gold", 9.0, 8.0),
                      ("G2", "2026H1", "SLE-GIN-001", "gold", 1.0, 0.0),
                      ("G3", "2026H1", "CIV-GHA-001", "gold", 20.0, 20.0))
    table, per_period = ranked(lines, zone)
    totals = zone.groupby(["corridor_id", "period"])[["area_ha", "unregistered_ha"]].sum()
    summed = per_period.groupby(["corridor_id", "period"])[["active_ha", "unregistered_ha"]].sum()
    assert summed.to_numpy().tolist() == totals.to_numpy().tolist()
    last = per_period[per_period["period"] == "2026H1"].groupby("corridor_id")[["sites", "unregistered_ha"]].sum()
    by_id = table.set_index("corridor_id")
    assert by_id[["sites", "unregistered_ha"]].loc[last.index].to_numpy().tolist() == last.to_numpy().tolist()
    diamond = per_period[(per_period["period"] == "2026H1") & (per_period["commodity"] == "diamond")]
    assert diamond["unregistered_ha"].tolist() == [by_id.loc["SLE-GIN-001", "diamond_unregistered_ha"]] == [4.0]


def test_corridor_ranking_per_commodity_keeps_the_scopes_apart():
    lines = corridors("SLE-GIN", "GIN-LBR", "CIV-GHA")
    zone = footprints(("G1", "2026H1", "SLE-GIN-001", "gold", 100.0, 100.0),
                      ("D1", "2026H1", "GIN-LBR-001", "diamond", 1.0, 1.0),
                      ("G2", "2026H1", "CIV-GHA-001", "gold", 900.0, 900.0))
    table, per_period = ranked(lines, zone)
    diamond = corridor_ranking(table, per_period, "2026H1", "diamond", "mru")
    assert diamond["corridor_id"].tolist() == table[table["scope"] == "mru"].sort_values("rank")["corridor_id"].tolist()
    gold = corridor_ranking(table, per_period, "2026H1", "gold", "mru")
    assert gold[["corridor_id", "unregistered_ha"]].values.tolist() == [["SLE-GIN-001", 100.0], ["GIN-LBR-001", 0.0]]
    external = corridor_ranking(table, per_period, "2026H1", "all", "external")
    assert external[["corridor_id", "rank", "unregistered_ha"]].values.tolist() == [["CIV-GHA-001", 1, 900.0]]


# --- risk -------------------------------------------------------------------------------------------------

def sites(n: int = 4, **columns) -> pd.DataFrame:
    """`n` current sites outside the border zone, unlicensed, seen before the last period, of 10 ha each."""
    frame = pd.DataFrame({"site_id": [f"S{i}" for i in range(n)], "country": "SLE", "area_ha": 10.0,
                          "unregistered_ha": 10.0, "dist_border_km": 40.0, "dist_post_km": 60.0,
                          "in_border_zone": False, "transboundary": False, "first_seen": PERIODS[0],
                          "last_seen": PERIODS[-1], "merged_into": None, "commodity": "diamond",
                          "commodity_basis": "in_diamond_field", "registration": "no_licence"})
    return frame.assign(**columns)


@pytest.mark.parametrize("commodity, basis, factor", [
    ("diamond", "in_diamond_field", 1.0),
    ("diamond", "near_diamond_field", 0.5),
    ("gold", "gold_belt", 0.0),
    ("gold", "unknown", 0.0),
    ("diamond", "unknown", 0.0),  # the default commodity is an assumption, not evidence
    ("diamond", None, 1.0),  # no basis recorded: a diamond site counts fully
])
def test_commodity_factor_follows_how_the_commodity_was_decided(commodity, basis, factor):
    table = sites(1, commodity=commodity, commodity_basis=basis)
    assert risk_factors(table, PERIODS[-1], SETTINGS.analysis)["commodity"].tolist() == [factor]
    assert set(COMMODITY_FACTOR) == {"in_diamond_field", "near_diamond_field", "gold_belt", "unknown"}


def test_commodity_factor_without_a_basis_column():
    table = sites(2, commodity=["diamond", "gold"]).drop(columns="commodity_basis")
    assert risk_factors(table, PERIODS[-1], SETTINGS.analysis)["commodity"].tolist() == [1.0, 0.0]


def test_risk_score_with_the_commodity_and_size_factors_recomputed_by_hand():
    table = sites(2, area_ha=[10.0, 40.0], unregistered_ha=[10.0, 0.0], in_border_zone=[True, False],
                  dist_border_km=[3.0, 40.0], dist_post_km=[15.0, 60.0],
                  commodity_basis=["near_diamond_field", "in_diamond_field"], first_seen=PERIODS[-1])
    weights = SETTINGS.analysis.risk
    total = sum(weights.model_dump().values())
    first = (weights.unregistered * 1.0 + weights.border * (1 - 3 / SETTINGS.analysis.border_zone_km)
             + weights.far_from_post * 15 / SETTINGS.analysis.post_far_km + weights.new * 1.0
             + weights.commodity * 0.5 + weights.size * 0.5)
    second = weights.new * 1.0 + weights.commodity * 1.0 + weights.size * 1.0
    score = risk_score(risk_factors(table, PERIODS[-1], SETTINGS.analysis), SETTINGS.analysis)
    assert score.tolist() == pytest.approx([round(100 * first / total, 1), round(100 * second / total, 1)])


def test_the_score_separates_sites_that_share_every_binary_signal():
    rng = np.random.default_rng(18)
    n = 400
    table = sites(n, area_ha=rng.lognormal(np.log(17), 1.0, n).round(), unregistered_ha=0.0,
                  commodity_basis=rng.choice(["in_diamond_field", "unknown"], n))
    table["unregistered_ha"] = np.where(rng.random(n) < 0.8, table["area_ha"], 0.0)
    score = risk_score(risk_factors(table, PERIODS[-1], SETTINGS.analysis), SETTINGS.analysis)
    largest_tie = score.value_counts().iloc[0] / n
    assert largest_tie < 0.1, f"{largest_tie:.0%} of the sites share one score"
    assert (score == score.median()).mean() < 0.1
    unsized = risk_score(risk_factors(table, PERIODS[-1], SETTINGS.analysis).assign(size=0.0), SETTINGS.analysis)
    assert unsized.value_counts().iloc[0] / n > 0.3  # without the size factor, the binary factors tie most sites


# --- summaries --------------------------------------------------------------------------------------------

def test_country_overview_and_top_risk_for_one_commodity():
    table = sites(4, country=["SLE", "SLE", "GIN", "GIN"], commodity=["diamond", "gold", "diamond", "diamond"],
                  area_ha=[10.0, 100.0, 5.0, 7.0], unregistered_ha=[4.0, 100.0, 5.0, 0.0],
                  risk_score=[30.0, 90.0, 50.0, 20.0], nearest_post_name="Koindu")
    diamond = country_overview(pd.DataFrame(), table, PERIODS[-1], "diamond").set_index("country")
    assert diamond.loc["SLE", ["active ha", "unregistered ha", "sites", "max risk"]].tolist() == [10.0, 4.0, 1, 30.0]
    assert diamond.loc["GIN", ["active ha", "unregistered ha", "sites"]].tolist() == [12.0, 5.0, 2]
    top = top_risk_sites(table, PERIODS[-1], "diamond")
    assert top["site_id"].tolist() == ["S2", "S0", "S3"] and set(top["commodity"]) == {"diamond"}
    assert top_risk_sites(table, PERIODS[-1], "all", 1)["site_id"].tolist() == ["S1"]
