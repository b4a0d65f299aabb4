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
