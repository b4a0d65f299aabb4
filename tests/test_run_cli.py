"""`mrumonitor run` and `mrumonitor runs list|show` as a user runs them, on the smallest whole-pipeline inputs."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import write_config
from hostile import mrumonitor
from run_inputs import PERIODS, write_run_inputs

from mrumonitor.config import load_settings
from mrumonitor.errors import StoreError
from mrumonitor.pipeline import run_pipeline
from mrumonitor.runfolder import RunFolder
from mrumonitor.store import leftovers, list_runs, read_manifest, resolve_run

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STAGE_LAYERS = {"concessions", "quarantine", "sites", "site_periods", "site_country_areas", "activity_quarantine",
                "site_registration", "border_corridors", "registration_summary", "capacity", "kp_anomalies",
                *(f"activity_{period}" for period in PERIODS)}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two runs published one after the other: (config, store, [result of each])."""
    folder = tmp_path_factory.mktemp("run")
    config = write_run_inputs(folder)
    results = [mrumonitor("run", "--config", str(config)) for _ in range(2)]
    for result in results:
        assert result.returncode == 0, result.stderr
    return config, folder / "layers", results


def test_run_prints_the_run_where_it_is_and_its_figures(two_runs):
    _, store, results = two_runs
    latest = resolve_run(store)
    stdout = results[-1].stdout
    assert f"run {latest.name} published as the latest run: {latest}" in stdout
    assert f"previous run {list_runs(store)[0].run_id}" in stdout
    for words in ("Cadastre records", "Mining sites per country", "Layers", "Caveats:", "order of magnitude"):
        assert words in stdout


def test_the_manifest_lets_someone_reproduce_the_run(two_runs):
    config, store, _ = two_runs
    manifest = read_manifest(resolve_run(store))
    settings = load_settings(config)
    assert manifest["config"]["fingerprint"] == settings.fingerprint()
    assert manifest["config"]["effective"] == settings.model_dump(mode="json")
    assert [Path(f["path"]).name for f in manifest["config"]["files"]] == ["default.toml", "mrumonitor.toml"]
    assert manifest["reproduce"]["command"] == f"mrumonitor run --config {config.absolute()}"
    for record in manifest["inputs"] + manifest["config"]["files"]:
        assert hashlib.sha256(Path(record["path"]).read_bytes()).hexdigest() == record["sha256"], record["path"]
    roles = {record["role"] for record in manifest["inputs"]}
    assert roles == {"cadastre", "activity", "reference", "declared"}
    assert {r["source"]: r["snapshot"] for r in manifest["inputs"] if r["role"] == "cadastre"} == {
        name: source.snapshot.isoformat() for name, source in settings.sources.items()}
    assert manifest["snapshots"] == {"SLE": ["2026-10-01"], "GIN": ["2026-09-15"], "LBR": ["2026-10-20"],
                                     "CIV": ["2026-08-31"]}
    assert [p["name"] for p in manifest["periods"]] == list(PERIODS)
    assert manifest["thresholds"]["raster"]["activity_threshold"] == settings.raster.activity_threshold
    assert set(manifest["timings_s"]) == {"ingest", "detect", "analyse", "publish"}
    assert manifest["counts"]["cadastre"] == {"read": 4, "accepted": 4, "repaired": 0, "quarantined": 0}
    assert manifest["counts"]["activity_quarantined"] == 2  # the bad row, once per period


def test_the_run_holds_every_stage_layer_with_the_analysis_superseding_detect(two_runs):
    _, store, _ = two_runs
    run = resolve_run(store)
    layers = read_manifest(run)["layers"]
    assert STAGE_LAYERS <= set(layers)
    assert layers["activity_P1"]["kind"] == "raster" and layers["capacity"]["kind"] == "table"
    assert "risk_score" in layers["sites"]["columns"] and "risk_score" in gpd.read_parquet(run / "sites.parquet")
    assert (run / "stac" / "catalog.json").is_file()


def test_site_ids_carry_over_from_the_previous_run(two_runs):
    _, store, _ = two_runs
    first, second = (gpd.read_parquet(run.path / "sites.parquet") for run in list_runs(store))
    assert len(first) == 2 and sorted(first["site_id"]) == sorted(second["site_id"])


def test_runs_list_marks_the_latest(two_runs):
    config, store, _ = two_runs
    result = mrumonitor("runs", "list", "--config", str(config))
    assert result.returncode == 0, result.stderr
    first, second = list_runs(store)
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if "published" in line}
    assert "latest" in lines[second.run_id] and "latest" not in lines[first.run_id]
    assert "P1 P2" in lines[second.run_id]


@pytest.mark.parametrize("which", ["latest", "first"])
def test_runs_show_describes_a_run(two_runs, which):
    config, store, _ = two_runs
    run_id = list_runs(store)[0].run_id if which == "first" else "latest"
    result = mrumonitor("runs", "show", *([] if which == "latest" else [run_id]), "--config", str(config))
    assert result.returncode == 0, result.stderr
    shown = resolve_run(store, run_id).name
    assert f"Run {shown}, created" in result.stdout
    for words in ("Inputs", "Cadastre snapshots: SLE 2026-10-01", "border_corridors", "Caveats:", "Timings"):
        assert words in result.stdout


def test_runs_show_of_an_unknown_run_lists_the_runs(two_runs):
    config, store, _ = two_runs
    result = mrumonitor("runs", "show", "20200101T000000Z-0000", "--config", str(config))
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "no run '20200101T000000Z-0000'" in message and list_runs(store)[0].run_id in message


def test_an_unwritable_store_fails_clearly_before_any_work(tmp_path):
    (tmp_path / "blocker").write_text("a file where the store's folder should be")
    config = write_config(tmp_path, '[paths]\nstore = "blocker/layers"\n')
    result = mrumonitor("run", "--config", str(config))
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert f"cannot write to the layer store {tmp_path / 'blocker' / 'layers'}" in message
    assert "part of the path is a file, not a folder" in message and "Traceback" not in message


def test_a_full_disk_in_the_middle_of_a_stage_publishes_nothing(two_runs, monkeypatch):
    config, store, _ = two_runs
    latest = resolve_run(store)

    def disk_full(frame, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("mrumonitor.sites.layers.write_geoparquet", disk_full)
    with pytest.raises(StoreError, match="the disk is full .*sites.parquet"):
        run_pipeline(load_settings(config))
    assert resolve_run(store) == latest and len(list_runs(store)) == 2 and leftovers(store) == []


def test_help_explains_run_and_runs():
    for args, words in ((("run",), ["built aside", "manifest.json", "STAC", "killed", "retention", "refused"]),
                        (("runs", "list"), ["latest"]), (("runs", "show"), ["caveats", "RUN_ID|latest"])):
        result = mrumonitor(*args, "--help")
        assert result.returncode == 0
        for word in words:
            assert word in result.stdout, (args, word)


def test_the_same_change_is_never_alerted_twice_across_runs(two_runs):
    """The second run of the same inputs raises the same alerts under the same ids, none of them new: a subscriber
    hears of each change once, from the run that first saw it."""
    _, store, _ = two_runs
    first, second = (run.path for run in list_runs(store)[-2:])
    before, after = (gpd.read_parquet(RunFolder(run).layer("alerts")) for run in (first, second))
    assert len(before) and before["alert_id"].is_unique
    assert sorted(after["alert_id"]) == sorted(before["alert_id"])
    assert not after["new_in_run"].any() and (after["first_run"] == first.name).all()
    assert before.loc[before["period"] == PERIODS[-1], "new_in_run"].all()  # a first run: the last period only
