"""Production capacity from mined area against declared KP figures: estimates recomputed by hand, and flags."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from conftest import write_config

from mrumonitor.analysis.capacity import CapacityResult, capacity_tables
from mrumonitor.analysis.declared import DECLARED_COLUMNS, declared_anomalies, read_declared
from mrumonitor.config import (
    CapacitySettings,
    CountryCapacity,
    MinersParameters,
    PeriodSettings,
    VolumeGradeParameters,
    load_settings,
)
from mrumonitor.errors import ConfigError, InputFileError
from mrumonitor.schema import CAPACITY_COLUMNS, KP_ANOMALY_COLUMNS

pytestmark = pytest.mark.unit

HEADER = ",".join(DECLARED_COLUMNS)


def period(name: str, start: str, end: str) -> PeriodSettings:
    return PeriodSettings(name=name, start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end))


#: Half-year periods: 2023H2 is the first (stock), then one interval per calendar year, the last one partial.
PERIODS = [period("2023H2", "2023-07-01", "2023-12-31"), period("2024H2", "2024-07-01", "2024-12-31"),
           period("2025H2", "2025-07-01", "2025-12-31"), period("2026H1", "2026-01-01", "2026-06-30")]


def parameter(low: float, central: float, high: float, source: str = "test value") -> dict:
    return {"low": low, "central": central, "high": high, "source": source}


#: Round parameters the tests recompute by hand.
VOLUME = VolumeGradeParameters(pit_depth_m=parameter(2, 3, 4), gravel_fraction=parameter(0.2, 0.25, 0.5),
                               grade_ct_per_m3=parameter(0.1, 0.2, 0.4), recovery=parameter(0.5, 0.6, 0.8))


@pytest.fixture(scope="module")
def crs():
    return load_settings().analysis_crs


@pytest.fixture(scope="module")
def settings() -> CapacitySettings:
    return load_settings().capacity.model_copy(update={"volume": VOLUME})


@pytest.fixture(scope="module")
def boundaries(crs) -> gpd.GeoDataFrame:
    """Two hand-made countries in the analysis CRS: "SLE" west of x = 0, "LBR" east of it, 50 km each."""
    return gpd.GeoDataFrame({"iso3": ["SLE", "LBR"]},
                            geometry=[shapely.box(-50_000, -50_000, 0, 50_000), shapely.box(0, -50_000, 50_000, 50_000)],
                            crs=crs)


def footprints(crs, rows: list[tuple[str, str, shapely.Geometry]]) -> gpd.GeoDataFrame:
    """site_periods from (site_id, period, footprint) rows."""
    geoms = [geometry for *_, geometry in rows]
    return gpd.GeoDataFrame({"site_id": [r[0] for r in rows], "period": [r[1] for r in rows],
                             "area_ha": shapely.area(geoms) / 10_000}, geometry=geoms, crs=crs)


def commodities(**by_site: str) -> pd.DataFrame:
    return pd.DataFrame({"site_id": list(by_site), "commodity": list(by_site.values())})


def growing_site(crs) -> gpd.GeoDataFrame:
    """Site A inside "SLE": 1 ha, then 2, 4 and 6 ha, each footprint covering the one before."""
    x, y = -20_000, 0
    return footprints(crs, [("A", "2023H2", shapely.box(x, y, x + 100, y + 100)),
                            ("A", "2024H2", shapely.box(x, y, x + 200, y + 100)),
                            ("A", "2025H2", shapely.box(x, y, x + 200, y + 200)),
                            ("A", "2026H1", shapely.box(x, y, x + 300, y + 200))])


def row(result: CapacityResult, country: str, year: int) -> pd.Series:
    table = result.capacity
    return table[(table["country"] == country) & (table["year"] == year)].iloc[0]


def write_declared(tmp_path, *lines: str, name: str = "kp.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


# --- estimates ------------------------------------------------------------------------------------------

def test_newly_mined_area_and_carats_recomputed_by_hand(crs, settings, boundaries):
    result = capacity_tables(growing_site(crs), commodities(A="diamond"), boundaries, PERIODS, settings, None)

    assert list(result.capacity.columns) == list(CAPACITY_COLUMNS)
    # 2023H2 is the first period: its 1 ha is stock, given to no year.
    assert result.stock.to_dict("records") == [{"country": "SLE", "period": "2023H2", "area_ha": pytest.approx(1.0)}]
    # 2024: the interval 2024-01-01..2024-12-31 (366 days, a leap year) dug 2 ha - 1 ha = 1 ha = 10,000 m².
    y2024 = row(result, "SLE", 2024)
    assert (y2024["days_observed"], y2024["partial_year"]) == (366, False)
    assert y2024["mined_area_ha"] == pytest.approx(1.0)
    assert y2024["annual_area_ha"] == pytest.approx(1.0)
    # the Monte Carlo interval of 10,000 m² lies well inside the product of extremes (200-6,400 ct), its median
    # near the product of the central values (900 ct)
    assert 200 < y2024["volume_carats_p05"] < y2024["volume_carats_central"] < y2024["volume_carats_p95"] < 6_400
    assert y2024["volume_carats_central"] == pytest.approx(10_000 * 3 * 0.25 * 0.2 * 0.6, rel=0.15)
    assert (y2024["draws"], y2024["seed"]) == (settings.draws, settings.seed)
    # 2025: 4 ha - 2 ha = 2 ha = 20,000 m² over the whole year: the same draws, twice the area.
    y2025 = row(result, "SLE", 2025)
    for name in ("p05", "central", "p95"):
        assert y2025[f"volume_carats_{name}"] == pytest.approx(2 * y2024[f"volume_carats_{name}"])
    # 2026: 6 ha - 4 ha = 2 ha in 181 days (January to June). Its rate is the area of the 12 months to
    # 2026-06-30: all of 2026H1's 2 ha and 2025H2's 2 ha spread over 2025, 184 of its 365 days in the window.
    y2026 = row(result, "SLE", 2026)
    assert (y2026["days_observed"], y2026["partial_year"]) == (31 + 28 + 31 + 30 + 31 + 30, True)
    assert y2026["mined_area_ha"] == pytest.approx(2.0)
    assert y2026["annual_area_ha"] == pytest.approx(2.0 + 2.0 * 184 / 365)
    assert y2026["volume_carats_central"] == pytest.approx(y2025["volume_carats_central"] * (2.0 + 2.0 * 184 / 365) / 2)
    assert "partial year: 181 days observed, rate over the 12 months to 2026-06-30" in y2026["caveats"]
    # "LBR" is observed too: no mining there, an estimate of 0, not a missing one.
    assert row(result, "LBR", 2025)["volume_carats_p95"] == 0
    assert result.capacity["miners_carats_central"].isna().all()  # no miners census configured


def test_an_interval_across_new_year_is_shared_by_its_days_in_each_year(crs, settings, boundaries):
    periods = [period("P0", "2024-01-01", "2024-06-30"), period("P1", "2024-07-01", "2025-06-30")]
    # a site first seen in P1: its whole 100 m x 365 m = 3.65 ha is new over 2024-07-01..2025-06-30 (365 days)
    sites = footprints(crs, [("A", "P1", shapely.box(-20_000, 0, -19_900, 365))])
    result = capacity_tables(sites, commodities(A="diamond"), boundaries, periods, settings, None)

    y2024, y2025 = row(result, "SLE", 2024), row(result, "SLE", 2025)
    assert (y2024["days_observed"], y2025["days_observed"]) == (184, 181)
    assert y2024["mined_area_ha"] == pytest.approx(3.65 * 184 / 365)
    assert y2025["mined_area_ha"] == pytest.approx(3.65 * 181 / 365)
    # 2024 has only 184 observed days (observation began 2024-07-01): scaled to the 366 days of its 12 months
    assert y2024["annual_area_ha"] == pytest.approx(3.65 * 184 / 365 * 366 / 184)
    assert "rate over 184 observed days to 2024-12-31, scaled to 12 months" in y2024["caveats"]
    # 2025's 12 months to 2025-06-30 reach back to 2024-07-01: the whole interval, 3.65 ha, no scaling
    assert y2025["annual_area_ha"] == pytest.approx(3.65)
    assert result.stock.empty


def test_transboundary_footprint_is_split_between_countries(crs, settings, boundaries):
    # a new site in 2024H2, 400 m x 100 m across the border at x = 0: 1 ha in "SLE", 3 ha in "LBR"
    sites = footprints(crs, [("B", "2024H2", shapely.box(-100, 0, 300, 100))])
    result = capacity_tables(sites, commodities(B="diamond"), boundaries, PERIODS, settings, None)

    assert row(result, "SLE", 2024)["mined_area_ha"] == pytest.approx(1.0)
    assert row(result, "LBR", 2024)["mined_area_ha"] == pytest.approx(3.0)
    assert result.capacity["mined_area_ha"].sum() == pytest.approx(4.0)  # counted once


def test_land_another_site_already_dug_is_not_new(crs, settings, boundaries):
    # C is absorbed by D in 2024H2 (D keeps its id, C's land is inside D): only D's extra 1 ha is new
    sites = footprints(crs, [("C", "2023H2", shapely.box(-20_000, 0, -19_900, 100)),
                             ("D", "2023H2", shapely.box(-20_000, 200, -19_900, 300)),
                             ("D", "2024H2", shapely.box(-20_000, 0, -19_900, 400))])
    result = capacity_tables(sites, commodities(C="diamond", D="diamond"), boundaries, PERIODS, settings, None)

    assert result.stock["area_ha"].sum() == pytest.approx(2.0)
    assert row(result, "SLE", 2024)["mined_area_ha"] == pytest.approx(4.0 - 2.0)


def test_gold_sites_do_not_count(crs, settings, boundaries):
    gold = footprints(crs, [("G", "2024H2", shapely.box(-30_000, 0, -29_000, 1_000)),
                            ("G", "2025H2", shapely.box(-30_000, 0, -28_000, 1_000))])
    diamonds = capacity_tables(growing_site(crs), commodities(A="diamond"), boundaries, PERIODS, settings, None)
    both = capacity_tables(pd.concat([growing_site(crs), gold], ignore_index=True),
                           commodities(A="diamond", G="gold"), boundaries, PERIODS, settings, None)

    pd.testing.assert_frame_equal(both.capacity, diamonds.capacity)
    assert both.stock.equals(diamonds.stock)


def test_country_override_and_miners_method(crs, settings, boundaries):
    sites = footprints(crs, [("B", "2024H2", shapely.box(-100, 0, 300, 100))])  # 1 ha "SLE", 3 ha "LBR"
    miners = MinersParameters(miners=parameter(1_000, 2_000, 3_000), days_per_year=parameter(100, 150, 200),
                              gravel_m3_per_miner_day=parameter(0.1, 0.2, 0.3))
    overridden = settings.model_copy(update={"countries": {
        "LBR": CountryCapacity(grade_ct_per_m3=parameter(1.0, 1.0, 1.0, "LBR survey")),
        "SLE": CountryCapacity(miners=miners)}})
    result = capacity_tables(sites, commodities(B="diamond"), boundaries, PERIODS, overridden, None)

    lbr, sle = row(result, "LBR", 2024), row(result, "SLE", 2024)
    # LBR's own grade, a constant 1.0 ct/m³, against the regional 0.1-0.4 (median 0.2): about 5 times more
    assert lbr["volume_carats_central"] == pytest.approx(30_000 * 3 * 0.25 * 1.0 * 0.6, rel=0.15)
    assert sle["volume_carats_central"] == pytest.approx(10_000 * 3 * 0.25 * 0.2 * 0.6, rel=0.15)
    # miners x days x gravel per miner-day x SLE's grade x recovery, inside the product of extremes
    assert 1_000 * 100 * 0.1 * 0.1 * 0.5 < sle["miners_carats_p05"] < sle["miners_carats_central"]
    assert sle["miners_carats_central"] == pytest.approx(2_000 * 150 * 0.2 * 0.2 * 0.6, rel=0.15)
    assert sle["miners_carats_central"] < sle["miners_carats_p95"] < 3_000 * 200 * 0.3 * 0.4 * 0.8
    assert pd.isna(lbr["miners_carats_central"])
    used = result.parameters.set_index(["country", "method", "parameter"])
    assert used.loc[("LBR", "volume", "grade_ct_per_m3"), "source"] == "LBR survey"
    assert used.loc[("SLE", "miners", "miners"), "central"] == 2_000
    assert used.loc[("SLE", "miners", "miners"), "distribution"] == "split_lognormal"
    assert used.loc[("SLE", "volume", "recovery"), "distribution"] == "pert"


# --- declared figures and flags ---------------------------------------------------------------------------

def test_jump_neighbour_and_carat_flags(tmp_path):
    source = "KP,false"
    path = write_declared(tmp_path,
                          f"SLE,2022,100000,30000000,100000,30000000,{source}",  # 2023 missing: no jump to 2024
                          f"SLE,2024,300000,90000000,290000,87000000,{source}",
                          f"SLE,2025,700000,210000000,700000,210000000,{source}",  # 2.3x up from 2024
                          f"LBR,2025,70000,21000000,30000,9000000,{source}",  # exports 2.3x below production
                          f"GIN,2025,100000,3000000,100000,3000000,{source}")  # US$30/ct against US$300/ct
    flags = declared_anomalies(read_declared(path), load_settings().capacity.anomalies)

    assert flags[["country", "year", "flag"]].values.tolist() == [
        ["GIN", 2025, "export_value_vs_neighbours"],
        ["GIN", 2025, "production_value_vs_neighbours"],
        ["LBR", 2025, "production_vs_export_carats"],
        ["SLE", 2025, "production_jump"],
    ]
    jump = flags[flags["flag"] == "production_jump"].iloc[0]
    assert jump["message"].startswith("Sierra Leone 2025: production 700,000 ct against 300,000 ct in 2024 (2.3× up)")
    assert jump["ratio"] == pytest.approx(7 / 3)
    below = flags[flags["flag"] == "production_value_vs_neighbours"].iloc[0]
    assert below["reference"] == pytest.approx(300.0)  # the median of SLE 2024, 2025 and LBR 2025
    assert "10.0× below" in below["message"]


def test_declared_production_against_the_estimates(crs, settings, boundaries, tmp_path):
    # 5-95 % intervals of "SLE" (growing_site), 20,000 draws, seed 18: 2024 430-2,306 ct, 2025 860-4,612 ct
    path = write_declared(tmp_path, "SLE,2024,150,45000,150,45000,KP,false",
                          "SLE,2025,20000,6000000,20000,6000000,ILLUSTRATIVE,true")
    result = capacity_tables(growing_site(crs), commodities(A="diamond"), boundaries, PERIODS, settings,
                             read_declared(path))

    flags = result.anomalies.set_index(["country", "year", "flag"])
    assert flags.loc[("SLE", 2024, "below_estimate"), "message"] == (
        "Sierra Leone 2024: declared production 150 ct is below the 5th percentile of the estimate from newly "
        "mined area (5–95 %: 430–2,306 ct, median 1,004 ct) — possible unrecorded production leaving outside the KP system; the "
        "estimate is an order of magnitude, so check its parameters for this country first")
    above = flags.loc[("SLE", 2025, "above_estimate")]
    assert above["illustrative"] and above["message"].endswith("[ILLUSTRATIVE figures, not KP statistics]")
    # 150 ct (published) to 20,000 ct (ILLUSTRATIVE): published and made-up figures are never compared
    assert ("SLE", 2025, "production_jump") not in flags.index
    y2024 = row(result, "SLE", 2024)
    assert y2024["declared_to_estimate"] == pytest.approx(150 / y2024["volume_carats_central"])
    assert not y2024["declared_illustrative"] and row(result, "SLE", 2025)["declared_illustrative"]


def test_consistent_figures_raise_no_flag(crs, settings, boundaries, tmp_path):
    # within the 5-95 % intervals (430-2,306 ct and 860-4,612 ct), exports match, values close to each other
    path = write_declared(tmp_path, "SLE,2024,900,270000,880,268000,KP,false",
                          "SLE,2025,1500,450000,1450,440000,KP,false",
                          "LBR,2024,0,0,,,KP,false",
                          "LBR,2025,,,,,KP,false",
                          "GIN,2025,50000,14000000,49000,14500000,KP,false")
    result = capacity_tables(growing_site(crs), commodities(A="diamond"), boundaries, PERIODS, settings,
                             read_declared(path))

    assert result.anomalies.empty
    assert list(result.anomalies.columns) == list(KP_ANOMALY_COLUMNS)
    gin = row(result, "GIN", 2025)  # a declared country without imagery: no estimate, figures kept
    assert gin["days_observed"] == 0 and pd.isna(gin["volume_carats_central"])
    assert gin["caveats"] == "no imagery this year: no estimate"


# --- reading the declared file ----------------------------------------------------------------------------

GOOD = "SLE,2016,549000,159000000,,,Kimberley Process,false"

MALFORMED = {
    "missing column": ("country,year,production_carats,production_usd,export_carats,source,illustrative\n",
                       r"line 1: the column export_usd is missing\. Fix: the header line must name country, year"),
    "non-numeric figure": (f"{HEADER}\n{GOOD}\nLBR,2014,\"65,822\",28200000,,,KP,false\n",
                           r"line 3: production_carats is '65,822', not a number\. Fix: write a plain number"),
    "negative carats": (f"{HEADER}\n{GOOD}\nLBR,2014,65822,28200000,-10,,KP,false\n",
                        r"line 3: export_carats is '-10', below zero\. Fix: carats and US\$ values cannot be"),
    "unknown country": (f"{HEADER}\nSierra Leone,2016,549000,,,,KP,false\n",
                        r"line 2: country is 'Sierra Leone', not a known country code\. Fix: write the ISO 3166"),
    "duplicate country-year": (f"{HEADER}\n{GOOD}\nLBR,2014,65822,,,,KP,false\n{GOOD}\n",
                               r"lines 2 and 4 both give SLE 2016\. Fix: keep one line per country and year"),
    "not a year": (f"{HEADER}\nSLE,2016.5,549000,,,,KP,false\n", r"line 2: year is '2016.5', not a year"),
    "illustrative neither true nor false": (f"{HEADER}\nSLE,2016,549000,,,,KP,maybe\n",
                                            r"line 2: illustrative is 'maybe', neither true nor false\. Fix: write"),
    "empty source": (f"{HEADER}\nSLE,2016,549000,,,,,false\n", r"line 2: source is '', empty\. Fix: say where"),
    "blank lines keep line numbers": (f"{HEADER}\n{GOOD}\n\nGIN,2016,x,,,,KP,false\nGIN,2017,y,,,,KP,false\n",
                                      r"line 4: production_carats is 'x', not a number \(1 more line like it\)"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_declared_file_names_the_line_and_the_fix(case, tmp_path):
    text, message = MALFORMED[case]
    path = tmp_path / "kp.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError, match=message) as error:
        read_declared(path)
    assert error.value.path == path and error.value.fix


def test_missing_declared_file_says_how_to_skip_it(tmp_path):
    with pytest.raises(InputFileError, match=r"does not exist\. Fix: set capacity\.declared"):
        read_declared(tmp_path / "absent.csv")


# --- configuration ----------------------------------------------------------------------------------------

def test_default_capacity_settings_are_illustrative_and_point_at_the_shipped_file():
    capacity = load_settings().capacity
    assert capacity.commodity == "diamond"
    assert capacity.declared.is_file()
    assert capacity.countries == {}
    for name in ("pit_depth_m", "gravel_fraction", "grade_ct_per_m3", "recovery"):
        assert getattr(capacity.volume, name).source.startswith("ILLUSTRATIVE")


CAPACITY_CONFIG_ERRORS = {
    "low above high": ('[capacity.volume.pit_depth_m]\nlow = 6.0\n',
                       r"capacity\.volume\.pit_depth_m: low \(6\.0\) <= central \(3\.0\) <= high \(5\.0\) must hold"),
    "fraction above one": ('[capacity.volume.recovery]\nhigh = 1.5\n',
                           r"capacity\.volume\.recovery: a fraction: high \(1\.5\) must be at most 1"),
    "unknown country": ('[capacity.countries.XXX.recovery]\nlow = 0.1\ncentral = 0.2\nhigh = 0.3\nsource = "x"\n',
                        r"capacity\.countries\.XXX\.\[key\]: Input should be 'SLE'"),
    "miners without days": ('[capacity.countries.SLE.miners.miners]\nlow = 1\ncentral = 2\nhigh = 3\nsource = "x"\n',
                            r"capacity\.countries\.SLE\.miners\.days_per_year: this key is required"),
    "jump factor not above one": ('[capacity.anomalies]\njump_factor = 1.0\n', r"capacity\.anomalies\.jump_factor"),
}


@pytest.mark.parametrize("case", CAPACITY_CONFIG_ERRORS, ids=list(CAPACITY_CONFIG_ERRORS))
def test_bad_capacity_config_names_the_key(case, tmp_path):
    text, message = CAPACITY_CONFIG_ERRORS[case]
    with pytest.raises(ConfigError, match=message):
        load_settings(write_config(tmp_path, text))


def test_empty_declared_path_means_no_comparison(tmp_path):
    assert load_settings(write_config(tmp_path, '[capacity]\ndeclared = ""\n')).capacity.declared is None
