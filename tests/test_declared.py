"""Declared KP statistics: the flags on hand-made series (what each compared), how ILLUSTRATIVE rows are kept
apart from published ones, the shipped series and the check command."""

from __future__ import annotations

import pandas as pd
import pytest

from mrumonitor.analysis.declared import DECLARED_COLUMNS, declared_anomalies, read_declared
from mrumonitor.config import AnomalyThresholds, load_settings
from mrumonitor.schema import KP_ANOMALY_COLUMNS

pytestmark = pytest.mark.unit

HEADER = ",".join(DECLARED_COLUMNS)
THRESHOLDS = AnomalyThresholds(neighbour_years=2, neighbour_value_factor=3.0, production_export_value_factor=2.0,
                               production_export_carats_factor=1.5, jump_factor=2.0)
COUNTRIES = {"SLE", "GIN", "LBR", "CIV"}


def flags_of(tmp_path, *lines: str) -> pd.DataFrame:
    path = tmp_path / "kp.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    flags = declared_anomalies(read_declared(path), THRESHOLDS)
    assert list(flags.columns) == list(KP_ANOMALY_COLUMNS)
    return flags.set_index(["country", "year", "flag"])


def test_a_value_per_carat_outlier_names_the_neighbours_and_years_it_was_compared_with(tmp_path):
    flags = flags_of(tmp_path,
                     "LBR,2016,1000,3000000,,,KP,false",  # US$3,000/ct
                     "SLE,2013,1000,9000,,,KP,false",  # 3 years away: not a neighbour of LBR 2016
                     "SLE,2014,1000,300000,,,KP,false",
                     "SLE,2015,1000,300000,,,KP,false",
                     "SLE,2017,1000,300000,,,KP,false",
                     "GIN,2018,1000,200000,,,KP,false",
                     "CIV,2019,1000,5000,,,KP,false")  # 3 years away
    lbr = flags.loc[("LBR", 2016, "production_value_vs_neighbours")]

    assert lbr["figure"] == pytest.approx(3000) and lbr["reference"] == pytest.approx(300)  # median of 300 x3, 200
    assert lbr["compared"] == ("LBR 2016 production US$/ct (published) with the median of GIN 2018, "
                               "SLE 2014–2015, 2017 production US$/ct (published)")
    assert lbr["message"].startswith(
        "Liberia 2016: production valued at US$3,000/ct, 10.0× above US$300/ct, the median of GIN 2018 (US$200/ct), "
        "SLE 2014 (US$300/ct), SLE 2015 (US$300/ct), SLE 2017 (US$300/ct) — check for stones from elsewhere")
    assert not lbr["illustrative"]


def test_production_against_exports_shows_both_figures(tmp_path):
    flags = flags_of(tmp_path,
                     "CIV,2019,4000,224000,3900,1014000,KP,false",  # US$56/ct against US$260/ct
                     "GIN,2019,100000,10000000,40000,4000000,KP,false")  # 100,000 ct produced, 40,000 exported

    value = flags.loc[("CIV", 2019, "production_vs_export_value")]
    assert value["ratio"] == pytest.approx(56 / 260)
    assert value["compared"] == "CIV 2019 production US$/ct with export US$/ct (published)"
    assert value["message"] == ("Côte d'Ivoire 2019: production valued at US$56/ct (US$224,000 for 4,000.00 ct) but "
                                "exports at US$260/ct (US$1,014,000 for 3,900.00 ct, 4.6×) — check for under-valued "
                                "production or exports of stones from elsewhere")
    carats = flags.loc[("GIN", 2019, "production_vs_export_carats")]
    assert carats["compared"] == "GIN 2019 production carats with export carats (published)"
    assert "production 100,000 ct but exports 40,000 ct (2.5×)" in carats["message"]
    assert ("CIV", 2019, "production_vs_export_carats") not in flags.index  # 4,000 against 3,900 ct


def test_a_jump_between_consecutive_years_names_both_years(tmp_path):
    flags = flags_of(tmp_path,
                     "SLE,2022,100000,,,,KP,false",  # 2023 missing: no jump to 2024
                     "SLE,2024,300000,,,,KP,false",
                     "SLE,2025,700000,,,,KP,false")

    assert flags.index.tolist() == [("SLE", 2025, "production_jump")]
    jump = flags.iloc[0]
    assert jump["compared"] == "SLE 2025 production carats (published) with SLE 2024 production carats (published)"
    assert jump["message"].startswith("Sierra Leone 2025: production 700,000 ct against 300,000 ct in 2024 (2.3× up)")


def test_illustrative_figures_are_never_compared_with_published_ones(tmp_path):
    flags = flags_of(tmp_path,
                     "SLE,2023,100000,30000000,,,KP,false",
                     "SLE,2024,600000,3000000,,,ILLUSTRATIVE,true",  # 6x the published 2023, US$5/ct
                     "LBR,2024,1000,300000,,,KP,false",
                     "GIN,2024,1000,30000,,,ILLUSTRATIVE,true",
                     "GIN,2025,1000,300000,,,ILLUSTRATIVE,true")

    # no jump from a published year to an ILLUSTRATIVE one, and the published SLE 2023 and LBR 2024 are
    # compared with each other only (US$300/ct both: no flag)
    assert all(flags.reset_index()["flag"] != "production_jump")
    assert not any(country == "SLE" and year == 2023 for country, year, _ in flags.index)
    assert not any(country == "LBR" for country, _, _ in flags.index)
    # the ILLUSTRATIVE rows are compared among themselves, and their flags say so
    sle = flags.loc[("SLE", 2024, "production_value_vs_neighbours")]
    assert sle["illustrative"] and sle["reference"] == pytest.approx(165)  # median of GIN 2024 and 2025
    assert sle["compared"] == ("SLE 2024 production US$/ct (ILLUSTRATIVE) with the median of GIN 2024–2025 "
                               "production US$/ct (ILLUSTRATIVE)")
    assert sle["message"].endswith("[ILLUSTRATIVE figures, not KP statistics]")
    assert flags["illustrative"].all()


def test_the_shipped_series_has_sourced_real_rows_for_each_country():
    declared = read_declared(load_settings().capacity.declared)
    real, demo = declared[~declared["illustrative"]], declared[declared["illustrative"]]

    assert set(real["country"]) == COUNTRIES
    assert real["source"].str.contains("http").all()
    assert real[list(DECLARED_COLUMNS)[2:6]].notna().any(axis=1).all()  # every real row gives a figure
    assert demo["source"].str.contains("ILLUSTRATIVE").all()
    real_years = set(zip(real["country"], real["year"], strict=True))
    assert not real_years & set(zip(demo["country"], demo["year"], strict=True))
    for country in COUNTRIES:  # the demo needs declared figures for the years with imagery
        assert {2024, 2025, 2026} <= set(declared.loc[declared["country"] == country, "year"])


def test_the_shipped_series_flags_two_published_values_against_their_published_neighbours():
    settings = load_settings()
    flags = declared_anomalies(read_declared(settings.capacity.declared), settings.capacity.anomalies)
    published = flags[~flags["illustrative"]].set_index(["country", "year", "flag"])

    assert published.index.tolist() == [("CIV", 2014, "production_value_vs_neighbours"),
                                        ("LBR", 2010, "export_value_vs_neighbours")]
    assert published["compared"].tolist() == [
        "CIV 2014 production US$/ct (published) with the median of LBR 2014, SLE 2016 production US$/ct (published)",
        "LBR 2010 export US$/ct (published) with the median of SLE 2009 export US$/ct (published)"]
