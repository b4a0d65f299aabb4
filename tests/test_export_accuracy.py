"""Every export's sidecar carries the run's field-checked accuracy: the newest sample's headline estimates with
their 95 % intervals, its id, period and verified sites; or that the run has no field verification."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import write_config, write_dashboard_run

from mrumonitor.export import export_layer
from mrumonitor.export.sidecar import NOT_MEASURED, accuracy_section
from mrumonitor.runfolder import RunFolder
from mrumonitor.store.runs import read_manifest, resolve_run

#: A run's manifest section `verification` with one verified sample (the shape the pipeline publishes).
HEADLINE = {
    "mined_area_ha": {"estimate": 1234.0, "ci_low": 1100.0, "ci_high": 1370.0, "status": "ok"},
    "detection_precision": {"estimate": 0.88, "ci_low": 0.81, "ci_high": 0.95, "status": "ok"},
    "unregistered_area_ha": {"estimate": None, "status": "too_few",
                             "message": "Not enough verified sites yet: needs 3 more in no_licence|GIN"},
}
LEDGER = {"role": "verification_ledger", "path": "/store/verification/ledger.sqlite", "visits": 61, "samples": 2,
          "last_entered_at": "2026-06-01T10:00:00", "digest": "ab" * 32}
VERIFIED = {"ledger": LEDGER, "feedback": {"excluded_false_positive": 7, "confirmed": 50},
            "samples": [{"sample_id": "S1-old", "run_id": "R0", "period": "2025H2", "n": 40, "n_verified": 12,
                         "headline": {}},
                        {"sample_id": "S2-new", "run_id": "R1", "period": "2026H1", "n": 60, "n_verified": 58,
                         "headline": HEADLINE}],
            "threshold": {"current": 50, "best": 45}}


@pytest.mark.unit
@pytest.mark.parametrize(("section", "measured", "note"), [
    (None, False, "no field verification in this run"),
    ({}, False, "no field verification in this run"),
    ("damaged", False, "no field verification in this run"),
    ({"ledger": LEDGER, "feedback": {}, "samples": []}, False, "no field verification yet"),
    (VERIFIED, True, None),
])
def test_accuracy_section_of_each_kind_of_run(section, measured, note):
    manifest = {"run_id": "R1"} if section is None else {"run_id": "R1", "verification": section}
    accuracy = accuracy_section(manifest)
    assert accuracy["measured"] is measured
    if note:
        assert accuracy["note"].startswith(note)
    else:
        assert accuracy["sample_id"] == "S2-new" and accuracy["period"] == "2026H1"
        assert accuracy["n_verified"] == 58 and accuracy["sample_run"] == "R1"
        assert accuracy["headline"]["mined_area_ha"]["ci_low"] == 1100.0
        assert "needs 3 more" in accuracy["headline"]["unregistered_area_ha"]["message"]
        assert [entry["sample_id"] for entry in accuracy["samples"]] == ["S1-old", "S2-new"]
        assert accuracy["ledger"]["digest"] == LEDGER["digest"]


@pytest.mark.unit
def test_the_constant_is_not_shared_between_sidecars():
    accuracy_section({})["note"] = "changed"
    assert accuracy_section({}) == NOT_MEASURED == {"measured": False, "note": "no field verification in this run"}


@pytest.fixture
def store(tmp_path):
    """The tiny dashboard run in a store of its own (its manifest is changed by the tests)."""
    store = tmp_path / "layers"
    write_dashboard_run(store)
    return store


@pytest.mark.integration
@pytest.mark.slow
def test_export_command_writes_the_accuracy_into_the_sidecar(store, tmp_path):
    """`mrumonitor export` as a user runs it, on a run without field verification, then with it."""
    run_dir = resolve_run(store)
    config = write_config(tmp_path, f'[paths]\nstore = "{store}"\nwork = "{tmp_path / "work"}"\n')

    def exported(name: str) -> dict:
        out = tmp_path / name
        done = subprocess.run([sys.executable, "-m", "mrumonitor.cli", "export", "capacity", "--config", str(config),
                               "-o", str(out)], check=False, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "COLUMNS": "200"})
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads((tmp_path / f"{name}.metadata.json").read_text(encoding="utf-8"))

    assert exported("before.csv")["accuracy"] == NOT_MEASURED
    manifest = read_manifest(run_dir)
    RunFolder(run_dir).manifest.write_text(json.dumps({**manifest, "verification": VERIFIED}), encoding="utf-8")
    accuracy = exported("after.csv")["accuracy"]
    assert accuracy["measured"] is True and accuracy["sample_id"] == "S2-new" and accuracy["n_verified"] == 58
    assert accuracy["headline"]["detection_precision"] == HEADLINE["detection_precision"]


@pytest.mark.unit
def test_every_format_carries_it(store, tmp_path):
    run_dir = resolve_run(store)
    manifest = {**read_manifest(run_dir), "verification": VERIFIED}
    for layer, fmt in (("sites", "gpkg"), ("capacity", "parquet"), ("activity_2025H2", "cog")):
        suffix = {"gpkg": ".gpkg", "parquet": ".parquet", "cog": ".tif"}[fmt]
        result = export_layer(run_dir, manifest, layer, fmt, tmp_path / f"{layer}{suffix}")
        assert result.metadata["accuracy"]["sample_id"] == "S2-new", layer
        on_disk = json.loads(result.sidecar.read_text(encoding="utf-8"))
        assert on_disk["accuracy"] == result.metadata["accuracy"]
