"""Field verification as users meet it: the demo's sample and SYNTHETIC visits, the teams' export imported with the
real command, and the next run applying what the field found (real processes, the session's demo).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from mrumonitor.config import load_settings
from mrumonitor.runfolder import RunFolder
from mrumonitor.store.retention import prune_runs
from mrumonitor.store.runs import latest_run_id, resolve_run
from mrumonitor.verification.ledger import Ledger

pytestmark = pytest.mark.demo


def mrumonitor(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mrumonitor.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900, check=False, env={**os.environ, "COLUMNS": "200"})


def test_the_demo_publishes_every_estimate_from_its_synthetic_sample(session_demo):
    workdir, done = session_demo
    settings = load_settings(workdir / "mrumonitor.toml")
    run = RunFolder(resolve_run(settings.paths.store))
    manifest = json.loads(run.manifest.read_text(encoding="utf-8"))
    (sample,) = manifest["verification"]["samples"]
    assert sample["n"] == 120 and sample["n_verified"] >= 100
    assert {name: entry["status"] for name, entry in sample["headline"].items()} == {
        "detection_precision": "ok", "mined_area_ha": "ok", "unregistered_area_ha": "ok"}
    mined = sample["headline"]["mined_area_ha"]
    assert mined["ci_low"] < mined["estimate"] < mined["ci_high"]
    assert any("120 of the 120 field visits in the verification ledger are SYNTHETIC" in c for c in manifest["caveats"])
    visits = gpd.read_parquet(run.layer("verification_visits"))
    assert len(visits) == 120 and visits["synthetic"].all() and visits.geometry.notna().all()
    # what the visits changed is in the sites, and false positives are counted as such
    feedback = pd.read_parquet(run.layer("verification_feedback"))
    false_positives = feedback[feedback["effect"] == "excluded_false_positive"]
    assert len(false_positives) and feedback["country"].notna().all()
    summary = pd.read_parquet(run.layer("registration_summary"))
    assert (summary["registration"] == "verified_not_mining").any()
    assert "Field-checked accuracy and areas" in done.stdout and "detection precision" in done.stdout
    sheets = {path.suffix for path in (workdir / "field-checks").iterdir()}
    assert {".gpx", ".kml", ".geojson", ".csv", ".html", ".xlsx", ".xml"} <= sheets


def test_a_campaign_round_through_the_commands_and_the_next_run(session_demo, tmp_path):
    """Import the teams' export (again: nothing added), then a new finding and a bad row; the next run applies it
    and pruning old runs never touches the ledger."""
    workdir = shutil.copytree(session_demo[0], tmp_path / "mrumonitor-demo", symlinks=True)
    config = workdir / "mrumonitor.toml"
    settings = load_settings(config)
    ledger = Ledger(settings.ledger)
    export = workdir / "field-checks" / "submissions-SYNTHETIC.csv"
    again = mrumonitor("verify", "import", str(export), "--config", str(config), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(ledger.visits()) == 120 and "120" in again.stdout

    rows = pd.read_csv(export, dtype=str, keep_default_na=False)
    active = rows[rows["outcome"] == "active_mining"].iloc[0]
    site = active["site_id"]
    found = active.copy()
    found[["outcome", "commodity_seen", "meta-instanceID", "KEY", "team", "visit_date"]] = [
        "not_mining", "none", "uuid:second-look", "uuid:second-look", "NMA field unit 4", "2026-06-25"]
    unknown = active.copy()
    unknown[["site_id", "meta-instanceID", "KEY"]] = ["NOPE-000001", "uuid:bad-row", "uuid:bad-row"]
    campaign = tmp_path / "campaign.csv"
    pd.DataFrame([found, unknown]).to_csv(campaign, index=False)
    imported = mrumonitor("verify", "import", str(campaign), "--by", "analyst", "--config", str(config), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "unknown_site" in imported.stdout and "NOPE-000001" in imported.stdout
    assert len(ledger.visits()) == 121 and ledger.visits()["entered_by"].iloc[-1] == "analyst"
    assert len(ledger.rejected()) == 1

    status = mrumonitor("verify", "status", "--config", str(config), cwd=tmp_path)
    assert status.returncode == 0 and "121 visits" in status.stdout and "detection precision" in status.stdout

    before = latest_run_id(settings.paths.store)
    published = mrumonitor("run", "--config", str(config), cwd=tmp_path)
    assert published.returncode == 0, published.stderr[-3000:]
    run = RunFolder(resolve_run(settings.paths.store))
    assert run.name != before
    last = settings.activity.periods[-1].name
    periods = pd.read_parquet(run.layer("site_periods"), columns=["site_id", "period", "registration",
                                                                   "verification"])
    row = periods[(periods["site_id"] == site) & (periods["period"] == last)].iloc[0]
    assert row["registration"] == "verified_not_mining"
    assert "not mining: verified on 2026-06-25 by NMA field unit 4 (visit uuid:second-look)" in row["verification"]

    prune_runs(settings.paths.store, keep_last=1, keep_days=0)
    assert [run.name] == [path.name for path in (settings.paths.store / "runs").iterdir()
                          if not path.name.startswith(".") and path.is_dir()]
    assert len(Ledger(settings.ledger).visits()) == 121
