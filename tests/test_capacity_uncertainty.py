"""Capacity with honest uncertainty: Monte Carlo against the analytic lognormal product, intervals narrower than
the product of extremes, the USGS expression, partial years without false jumps, and parameter errors."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import write_config

from mrumonitor.analysis.capacity import capacity_tables
from mrumonitor.analysis.capacity_draws import lognormal_product_interval, product_quantiles
from mrumonitor.analysis.usgs import PUBLISHED, UsgsInputs, production_capacity, reproduce
from mrumonitor.config import PeriodSettings, load_settings
from mrumonitor.errors import ConfigError

pytestmark = pytest.mark.unit


def factors(rows: list[tuple[float, float, float, str]], group: str = "g", cap: float = np.inf) -> pd.DataFrame:
    """Factor rows (low, central, high, distribution) of one product."""
    frame = pd.DataFrame(rows, columns=["low", "central", "high", "distribution"])
    return frame.assign(group=group, cap=cap)


# --- Monte Carlo against the analytic answer -------------------------------------------------------------

#: Four lognormal factors, each central the geometric mean of its low and high (pit depth, share, grade,
#: recovery shaped values).
LOGNORMALS = [(1.5, 3.0, 6.0, "lognormal"), (0.15, 0.3, 0.6, "lognormal"), (0.05, 0.2, 0.8, "lognormal"),
              (0.49, 0.7, 1.0, "lognormal")]


def test_monte_carlo_interval_matches_the_analytic_lognormal_product():
    low, central, high = (np.array([row[i] for row in LOGNORMALS]) for i in range(3))
    exact = lognormal_product_interval(low, central, high)

    drawn = product_quantiles(factors(LOGNORMALS), draws=200_000, seed=18).loc["g"]

    assert exact[1] == pytest.approx(np.prod(central))  # the median of a lognormal product: product of medians
    for got, want in zip(drawn[["p05", "central", "p95"]], exact, strict=True):
        assert got == pytest.approx(want, rel=0.02)
    # the analytic 5-95 % interval lies inside the drawn one widened by 2 %
    assert drawn["p05"] * 0.98 <= exact[0] and exact[2] <= drawn["p95"] * 1.02


def test_interval_is_much_narrower_than_the_product_of_extremes():
    volume = load_settings().capacity.volume
    rows = [(p.low, p.central, p.high, p.distribution) for p in (volume.pit_depth_m, volume.gravel_fraction,
                                                                   volume.grade_ct_per_m3, volume.recovery)]
    drawn = product_quantiles(factors(rows, cap=1.0), draws=20_000, seed=18).loc["g"]
    extremes = np.prod([row[2] for row in rows]) / np.prod([row[0] for row in rows])

    assert extremes == pytest.approx(5 * 0.5 * 0.6 * 0.9 / (1.5 * 0.15 * 0.05 * 0.5))  # 240x, the band
    assert drawn["p95"] / drawn["p05"] < extremes / 10


def test_each_distribution_honours_its_values():
    split = product_quantiles(factors([(0.05, 0.2, 0.6, "split_lognormal")]), draws=200_000, seed=1).loc["g"]
    assert (split["p05"], split["central"], split["p95"]) == pytest.approx((0.05, 0.2, 0.6), rel=0.02)

    rng_rows = factors([(0.5, 0.7, 0.9, "pert")])
    pert = product_quantiles(rng_rows, draws=200_000, seed=1).loc["g"]
    assert 0.5 < pert["p05"] < pert["central"] < pert["p95"] < 0.9
    constant = product_quantiles(factors([(2.0, 2.0, 2.0, "pert"), (3.0, 3.0, 3.0, "lognormal")]), 1_000, 1).loc["g"]
    assert (constant["p05"], constant["p95"]) == (6.0, 6.0)


def test_draws_are_reproducible_from_the_seed_and_shares_stay_at_most_one():
    rows = factors([(0.5, 0.9, 1.5, "split_lognormal")], cap=1.0)  # a share whose upper tail passes 1
    once, again = (product_quantiles(rows, 5_000, seed=7) for _ in range(2))
    pd.testing.assert_frame_equal(once, again)
    assert once.loc["g", "p95"] == 1.0  # draws of a share above 1 count as 1
    assert not product_quantiles(rows, 5_000, seed=8).equals(once)


# --- the USGS expression ----------------------------------------------------------------------------------

def test_usgs_expression_and_reproduction_ratio():
    inputs = UsgsInputs(miners=(10_000, 20_000), days_per_year=(150, 200), gravel_m3_per_miner_day=(0.5, 0.6),
                        grade_ct_per_m3=(0.5, 0.3))
    assert production_capacity(inputs) == (10_000 * 150 * 0.5 * 0.5, 20_000 * 200 * 0.6 * 0.3)  # 375,000; 720,000

    result = reproduce("GIN", inputs)

    assert (result["published_low_ct"], result["published_high_ct"]) == (480_000, 720_000)
    assert result["ratio_low"] == pytest.approx(375_000 / 480_000)
    assert result["ratio_high"] == pytest.approx(1.0)
    assert not result["within_20_percent"]  # 0.78 at the low end
    assert PUBLISHED["GIN"].url == "https://pubs.usgs.gov/sir/2012/5256/"


# --- partial years ------------------------------------------------------------------------------------------

def period(name: str, start: str, end: str) -> PeriodSettings:
    return PeriodSettings(name=name, start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end))


#: A stock period to the end of 2024, then half-years: 2025 fully observed, 2026 only to June.
HALVES = [period("2024", "2024-01-01", "2024-12-31"), period("2025H1", "2025-01-01", "2025-06-30"),
          period("2025H2", "2025-07-01", "2025-12-31"), period("2026H1", "2026-01-01", "2026-06-30")]


@pytest.fixture(scope="module")
def world():
    """One hand-made country, "SLE", 100 km across, and the default capacity settings."""
    settings = load_settings()
    boundaries = gpd.GeoDataFrame({"iso3": ["SLE"]}, geometry=[shapely.box(-50_000, -50_000, 50_000, 50_000)],
                                  crs=settings.analysis_crs)
    return boundaries, settings.capacity.model_copy(update={"declared": None})


def digger(world, widths_m: list[float]):
    """A site 100 m tall whose footprint at the end of each of HALVES is `widths_m` wide (growing eastwards)."""
    boundaries, settings = world
    geoms = [shapely.box(0, 0, width, 100) for width in widths_m]
    sites = gpd.GeoDataFrame({"site_id": "A", "period": [p.name for p in HALVES]}, geometry=geoms,
                             crs=boundaries.crs)
    result = capacity_tables(sites, pd.DataFrame({"site_id": ["A"], "commodity": ["diamond"]}), boundaries,
                             HALVES, settings, None)
    return result.capacity.set_index("year")


def test_a_steady_digger_keeps_one_rate_in_a_full_and_a_partial_year(world):
    # 10 m of width a day: 1,000 m² a day, 181 days in 2025H1, 184 in 2025H2, 181 in 2026H1
    table = digger(world, [100.0, 100 + 10 * 181, 100 + 10 * 365, 100 + 10 * 546])

    full, partial = table.loc[2025], table.loc[2026]
    assert (bool(full["partial_year"]), bool(partial["partial_year"])) == (False, True)
    assert full["annual_area_ha"] == pytest.approx(36.5)
    assert partial["annual_area_ha"] == pytest.approx(36.5)
    assert partial["volume_carats_central"] == pytest.approx(full["volume_carats_central"])
    assert "partial year: 181 days observed, rate over the 12 months to 2026-06-30" in partial["caveats"]


def test_a_dry_season_digger_makes_no_false_jump(world):
    # 10 ha dug each January-June, nothing in July-December: the old rule doubled 2026's half-year
    table = digger(world, [100.0, 100 + 1_000, 100 + 1_000, 100 + 2_000])

    assert table.loc[2025, "annual_area_ha"] == pytest.approx(10.0)
    assert table.loc[2026, "mined_area_ha"] == pytest.approx(10.0)
    assert table.loc[2026, "annual_area_ha"] == pytest.approx(10.0)  # not 10 x 365 / 181 = 20.2


def test_a_single_period_is_stock_only_and_estimates_nothing(world):
    boundaries, settings = world
    sites = gpd.GeoDataFrame({"site_id": ["A"], "period": ["2024"]}, geometry=[shapely.box(0, 0, 100, 100)],
                             crs=boundaries.crs)
    result = capacity_tables(sites, pd.DataFrame({"site_id": ["A"], "commodity": ["diamond"]}), boundaries,
                             HALVES[:1], settings, None)

    assert result.capacity.empty
    assert result.stock["area_ha"].tolist() == [pytest.approx(1.0)]


# --- parameters that cannot be read -------------------------------------------------------------------------

PARAMETER_ERRORS = {
    "unknown distribution": ('[capacity.volume.grade_ct_per_m3]\ndistribution = "normal"\n',
                             (r"capacity\.volume\.grade_ct_per_m3\.distribution.*'lognormal', 'split_lognormal' or "
                             r"'pert'")),
    "lognormal off its geometric mean": ('[capacity.volume.grade_ct_per_m3]\ndistribution = "lognormal"\n',
                                         (r"capacity\.volume\.grade_ct_per_m3: a lognormal's central must be the "
                                         r"geometric mean of low and high \(0\.1732\), not 0\.2: set central")),
    "lognormal from zero": ('[capacity.volume.pit_depth_m]\nlow = 0.0\n',
                            r"capacity\.volume\.pit_depth_m: a split_lognormal needs low above 0 \(it is 0\.0\)"),
    "too few draws": ("[capacity]\ndraws = 10\n", r"capacity\.draws"),
}


@pytest.mark.parametrize("case", PARAMETER_ERRORS, ids=list(PARAMETER_ERRORS))
def test_a_parameter_that_cannot_be_drawn_is_a_config_error_naming_the_key(case, tmp_path):
    text, message = PARAMETER_ERRORS[case]
    with pytest.raises(ConfigError, match=message):
        load_settings(write_config(tmp_path, text))
