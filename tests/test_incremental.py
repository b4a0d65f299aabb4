"""Incremental batch updates: a new period is the only one read; the result is the full recompute's."""

from __future__ import annotations

import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from hostile import mrumonitor
from run_inputs import PERIODS, add_period, write_run_inputs

from mrumonitor.config import load_settings
from mrumonitor.pipeline import run_pipeline
from mrumonitor.raster import footprints
from mrumonitor.raster.blocks import on_grid
from mrumonitor.raster.gaps import observation_gaps
from mrumonitor.raster.grid import Grid
from mrumonitor.reference import boundaries, load_boundaries
from mrumonitor.scheduler.jobs import add_job
from mrumonitor.store import checksum
from mrumonitor.store.runs import read_manifest, resolve_run

pytestmark = pytest.mark.integration


@pytest.fixture
def reads(monkeypatch):
    """Every detections file opened, every file hashed and every reference layer read while the fixture is active."""
    seen = {"opened": [], "hashed": [], "reference": []}
    open_vector, sha256_file, read_layer = footprints.open_vector, checksum.sha256_file, boundaries.read_layer

    def recording_open(path, *args, **kwargs):
        seen["opened"].append(str(path))
        return open_vector(path, *args, **kwargs)

    def recording_hash(path):
        seen["hashed"].append(str(path))
        return sha256_file(path)

    def recording_read(folder, name, *args, **kwargs):
        seen["reference"].append(name)
        return read_layer(folder, name, *args, **kwargs)

    monkeypatch.setattr(footprints, "open_vector", recording_open)
    monkeypatch.setattr(checksum, "sha256_file", recording_hash)
    monkeypatch.setattr(boundaries, "read_layer", recording_read)
    return seen


@pytest.mark.slow
def test_adding_a_period_reads_only_that_period(tmp_path, reads):
    config = write_run_inputs(tmp_path)
    reads["reference"].clear()
    first = run_pipeline(load_settings(config))
    assert first.manifest.detect["processed"] == list(PERIODS)
    assert sorted(reads["opened"]) == sorted(str(tmp_path / f"detections_{p}.csv") for p in PERIODS)
    assert reads["reference"] == [boundaries.BOUNDARIES]  # read once, handed to ingest, detect and analyse

    reads["opened"].clear()
    reads["hashed"].clear()
    second = run_pipeline(load_settings(add_period(tmp_path)))

    new_file = str(tmp_path / "detections_P3.csv")
    assert reads["opened"] == [new_file]
    activity_inputs = {r["path"] for r in second.manifest.inputs if r["role"] == "activity"}
    assert [path for path in reads["hashed"] if path in activity_inputs] == [new_file]
    assert second.manifest.detect["processed"] == ["P3"]
    assert second.manifest.detect["reused"] == list(PERIODS)
    assert {p["made_by"] for p in second.manifest.detect["periods"].values()} == {first.run_id, second.run_id}
    for period in PERIODS:  # the published COGs are re-used as they are: the same file, not a copy
        assert (second.path / f"activity_{period}.tif").samefile(first.path / f"activity_{period}.tif")
    assert "activity_P3" in second.manifest.layers and "gaps" in second.manifest.layers


@pytest.mark.slow
def test_an_incremental_run_equals_a_full_recompute(tmp_path):
    config = write_run_inputs(tmp_path / "a")
    run_pipeline(load_settings(config))
    incremental = run_pipeline(load_settings(add_period(tmp_path / "a")))
    shutil.copytree(tmp_path / "a", tmp_path / "b", ignore=shutil.ignore_patterns("layers", "work"))
    full = run_pipeline(load_settings(tmp_path / "b" / "mrumonitor.toml"))
    assert full.manifest.detect["processed"] == [*PERIODS, "P3"]

    for name in ("sites", "site_periods", "site_country_areas", "gaps", "activity_quarantine"):
        a = pd.read_parquet(incremental.path / f"{name}.parquet")
        b = pd.read_parquet(full.path / f"{name}.parquet")
        if name == "activity_quarantine":
            assert len(a) == 3  # the bad record of each period, the re-used periods' rows carried over
            b["source_file"] = b["source_file"].str.replace(str(tmp_path / "b"), str(tmp_path / "a"))
        pd.testing.assert_frame_equal(a, b)
    for period in [*PERIODS, "P3"]:
        with rasterio.open(incremental.path / f"activity_{period}.tif") as a, \
                rasterio.open(full.path / f"activity_{period}.tif") as b:
            assert np.array_equal(a.read(), b.read())


@pytest.mark.slow
def test_a_changed_input_reprocesses_its_period_and_those_after(tmp_path):
    config = write_run_inputs(tmp_path)
    run_pipeline(load_settings(config))
    run_pipeline(load_settings(add_period(tmp_path)))
    detections = pd.read_csv(tmp_path / "detections_P2.csv")
    detections.loc[0, "area_ha"] *= 2
    detections.to_csv(tmp_path / "detections_P2.csv", index=False)
    rerun = run_pipeline(load_settings(config))
    assert rerun.manifest.detect["processed"] == ["P2", "P3"]
    assert rerun.manifest.detect["reused"] == ["P1"]


@pytest.mark.slow
def test_a_moved_or_copied_folder_keeps_reusing_its_periods(tmp_path, reads):
    """Store, inputs, configuration and scheduled job moved together, then copied: no absolute path in the
    fingerprints or the input records, so every period is re-used and no input file is read again."""
    config = write_run_inputs(tmp_path / "before")
    first = run_pipeline(load_settings(config))
    add_job(load_settings(config), "nightly", "0 2 * * *", config)
    moved = shutil.move(tmp_path / "before", tmp_path / "after")
    reads["opened"].clear()
    reads["hashed"].clear()

    second = run_pipeline(load_settings(moved / "mrumonitor.toml"))
    assert (second.manifest.detect["processed"], second.manifest.detect["reused"]) == ([], list(PERIODS))
    assert second.manifest.detect["reused_from"] == first.run_id
    assert second.manifest.detect["periods"] == first.manifest.detect["periods"]
    assert reads["opened"] == []
    inputs = {r["path"] for r in second.manifest.inputs}
    assert {r["relpath"] for r in second.manifest.inputs if r["role"] == "activity"} == \
        {f"detections_{p}.csv" for p in PERIODS}
    assert [path for path in reads["hashed"] if path in inputs] == [], "moved inputs were hashed again"

    shutil.copytree(moved, tmp_path / "copy")
    ran = mrumonitor("schedule", "run", "nightly", "--config", str(tmp_path / "copy" / "mrumonitor.toml"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    third = read_manifest(resolve_run(tmp_path / "copy" / "layers"))
    assert (third["detect"]["reused"], third["detect"]["reused_from"]) == (list(PERIODS), second.run_id), \
        third["detect"]
    assert resolve_run(moved / "layers").name == second.run_id, "the copy's job wrote to the original store"


def test_gaps_are_the_unobserved_parts_of_each_country():
    settings = load_settings()
    boundaries = load_boundaries(settings.paths.reference, settings.analysis_crs)
    sle = boundaries.set_index("iso3").geometry["SLE"]
    centre = sle.representative_point()
    grid = Grid.covering((centre.x - 20_000, centre.y - 20_000, centre.x + 20_000, centre.y + 20_000),
                         settings.analysis_crs, 1000.0)
    values = np.zeros(grid.shape, np.uint8)
    values[10:20, 5:15] = 255  # 100 pixels of 1 km² without observation, well inside Sierra Leone
    gaps = observation_gaps(on_grid(pytest.importorskip("dask.array").from_array(values, chunks=16), grid), grid,
                            boundaries, "P1", 16)
    assert isinstance(gaps, gpd.GeoDataFrame)
    assert gaps[["period", "country"]].values.tolist() == [["P1", "SLE"]]
    assert gaps["area_ha"].iloc[0] == pytest.approx(100 * 100.0)
