"""The `mrumonitor` command as a user runs it: a real process of the installed console script."""

from __future__ import annotations

import pytest
from conftest import sle_licences, write_config, write_zipped_shapefile
from hostile import mrumonitor

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("args, words", [
    ((), ["Mano River Union", "demo", "ingest", "detect", "reference"]),
    (("detect",), ["detections", "probability", "scenes", "Cloud-Optimized GeoTIFF", "transboundary", "--config"]),
    (("ingest",), ["canonical", "quarantine", "--config", "--source", "--out", "Shapefile", "CSV"]),
    (("demo",), ["SYNTHETIC", "REAL", "CC BY 4.0", "--workdir", "--no-serve"]),
    (("reference", "build"), ["equidistance", "border"]),
    (("summary",), ["diamonds", "MRU", "--commodity", "--borders", "external", "--run"]),
])
def test_help_explains_each_command(args, words):
    result = mrumonitor(*args, "--help")
    assert result.returncode == 0, result.stderr
    for word in words:
        assert word in result.stdout


def test_bad_config_key_is_one_clear_message_and_exit_2(tmp_path):
    config = write_config(tmp_path, "[ingest]\nbatchsize = 10\n")
    result = mrumonitor("ingest", "--config", str(config))
    assert result.returncode == 2
    assert "unknown key 'batchsize'; valid keys here: country_tolerance_km, batch_size" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_input_is_one_clear_message_and_exit_2(tmp_path):
    config = write_config(tmp_path, '[sources.sle]\nfile = "missing.zip"\n')
    result = mrumonitor("ingest", "--config", str(config), "--source", "sle")
    assert result.returncode == 2
    assert "missing.zip: file not found" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.stderr


def test_ingest_prints_the_table_and_writes_both_layers(tmp_path):
    frame = sle_licences(3)
    frame.loc[2, "LIC_TYPE"] = "Mining Lease"
    write_zipped_shapefile(frame.to_crs(32629), tmp_path / "sle.zip")
    config = write_config(tmp_path, '[paths]\nwork = "work"\n[sources.sle]\nfile = "sle.zip"\n')
    result = mrumonitor("ingest", "--config", str(config), "--source", "sle")
    assert result.returncode == 0, result.stderr
    assert "unknown_licence_type 1" in result.stdout
    assert "SLE" in result.stdout and "Mining Lease" in result.stdout
    import geopandas as gpd

    assert len(gpd.read_parquet(tmp_path / "work" / "ingest" / "concessions.parquet")) == 2
    quarantine = gpd.read_parquet(tmp_path / "work" / "ingest" / "quarantine.parquet")
    assert quarantine[["source_row", "reason"]].values.tolist() == [[3, "unknown_licence_type"]]


# --- mrumonitor summary: the picture of a published run -------------------------------------------------------

SUMMARY_RUN = "20261206T010000Z-a18b"


@pytest.fixture
def summary_store(tmp_path):
    """A layer store with one hand-made published run: a diamond corridor on SLE-GIN, gold on CIV-GHA (more
    unregistered area than anything in the MRU), and the config that points at it."""
    import json

    import pandas as pd

    run = tmp_path / "store" / "runs" / SUMMARY_RUN
    run.mkdir(parents=True)
    period = "2026H1"
    corridors = pd.DataFrame({
        "corridor_id": ["SLE-GIN-001", "CIV-GHA-001"], "border_pair": ["SLE-GIN", "CIV-GHA"],
        "scope": ["mru", "external"], "near_places": ["Koindu, SLE, 5 km · Guéckédou, GIN, 30 km",
                                                      "Noé, CIV, 10 km · Elubo, GHA, 12 km"],
        "from_km": 0.0, "to_km": 25.0, "length_km": 25.0, "nearest_post_id": ["SLE-GIN-04", "CIV-GHA-01"],
        "nearest_post_name": ["Koindu", "Noé"], "dist_post_km": [12.0, 40.0], "sites": [1, 1],
        "active_ha": [5.0, 900.0], "unregistered_ha": [5.0, 900.0], "diamond_sites": [1, 0],
        "diamond_unregistered_ha": [5.0, 0.0], "rank": [1, 1]})
    corridors.to_parquet(run / "border_corridors.parquet")
    pd.DataFrame({"corridor_id": ["SLE-GIN-001", "CIV-GHA-001"], "period": period, "commodity": ["diamond", "gold"],
                  "sites": 1, "active_ha": [5.0, 900.0], "unregistered_ha": [5.0, 900.0]}).to_parquet(
        run / "corridor_periods.parquet")
    pd.DataFrame({"site_id": ["MS-D", "MS-G"], "country": ["SLE", "CIV"], "merged_into": None,
                  "first_seen": period, "last_seen": period, "commodity": ["diamond", "gold"],
                  "commodity_basis": ["in_diamond_field", "unknown"], "registration": "no_licence",
                  "area_ha": [5.0, 900.0], "unregistered_ha": [5.0, 900.0], "in_border_zone": True,
                  "transboundary": False, "risk_score": [70.0, 60.0], "dist_border_km": [1.0, 2.0],
                  "nearest_post_name": ["Koindu", "Noé"], "dist_post_km": [12.0, 40.0]}).to_parquet(
        run / "sites.parquet")
    pd.DataFrame({"level": "country", "area": ["SLE", "CIV"], "country": ["SLE", "CIV"], "period": period,
                  "registration": "no_licence", "area_ha": [5.0, 900.0], "sites": 1}).to_parquet(
        run / "registration_summary.parquet")
    pd.DataFrame({"country": ["SLE"], "year": [2026], "days_observed": [181], "partial_year": [True],
                  "annual_area_ha": [10.0], "volume_carats_p05": [1000.0], "volume_carats_central": [5000.0],
                  "volume_carats_p95": [20000.0], "declared_production_carats": [600000.0],
                  "declared_illustrative": [False]}).to_parquet(run / "capacity.parquet")
    pd.DataFrame({"message": ["Sierra Leone 2026: a hand-made anomaly"]}).to_parquet(run / "kp_anomalies.parquet")
    (run / "manifest.json").write_text(json.dumps({
        "run_id": SUMMARY_RUN, "created": "2026-12-06T01:00:00Z", "periods": [{"name": period}],
        "thresholds": {"analysis": {"post_kinds": ["official"]}},
        "layers": {name: {"path": f"{name}.parquet", "kind": "table"} for name in (
            "border_corridors", "corridor_periods", "sites", "registration_summary", "capacity", "kp_anomalies")}}),
        encoding="utf-8")
    (run.parent / "LATEST").write_text(SUMMARY_RUN, encoding="utf-8")
    return write_config(tmp_path, '[paths]\nstore = "store"\n')


def test_summary_defaults_to_diamonds_and_the_mru_borders(summary_store):
    result = mrumonitor("summary", "--config", str(summary_store))
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "border signals, 2026H1: diamond sites" in out and "MRU-internal borders (SLE-GIN)" in out
    assert "unregistered diamond" in out
    assert "Koindu, SLE, 5 km" in out and "km to the nearest official crossing (kinds: official)" in out
    assert "CIV-GHA" not in out and "Noé" not in out and "MS-G" not in out
    assert "2026 (partial, 181 days)" in out and "1,000 – 20,000" in out and "5–95 %" in out


def test_summary_shows_the_external_borders_and_gold_under_their_own_titles(summary_store):
    result = mrumonitor("summary", "--config", str(summary_store), "--borders", "external", "--commodity", "gold")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "External borders, outside the MRU ranking (CIV-GHA)" in out and "CIV-GHA-001" in out
    assert "border signals, 2026H1: gold sites" in out and "unregistered gold ha" in out and "MS-G" in out
    assert "SLE-GIN-001" not in out and "MS-D" not in out


def test_summary_of_an_unknown_run_lists_the_runs(summary_store):
    result = mrumonitor("summary", "--config", str(summary_store), "--run", "20200101T000000Z-0000")
    assert result.returncode == 2 and SUMMARY_RUN in " ".join(result.stderr.split())
    assert "Traceback" not in result.stdout + result.stderr


def test_kp_flags_prints_the_flags_and_refuses_a_bad_file_in_words(tmp_path):
    done = mrumonitor("kp-flags")  # a real process, as a user runs it
    assert done.returncode == 0, done.stderr
    assert "Flags on published figures: 2 (export_value_vs_neighbours 1, production_value_vs_neighbours 1)" in done.stdout
    assert "compared: CIV 2014 production US$/ct (published)" in done.stdout

    bad = tmp_path / "kp.csv"
    bad.write_text("country,year,production_carats,production_usd,export_carats,export_usd,source,illustrative\nSLE,2016,\"549,000\",,,,KP,false\n", encoding="utf-8")
    done = mrumonitor("kp-flags", str(bad))
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert "line 2: production_carats is '549,000', not a number" in said and "Traceback" not in said
