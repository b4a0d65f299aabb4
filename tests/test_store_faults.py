"""Faults of real `mrumonitor run` processes: SIGKILL at each checkpoint, and two runs at once.

A first run is published; later runs are paused at a checkpoint (MRUMONITOR_PAUSE_AT, see
`mrumonitor.store.faults`) and killed there with SIGKILL. After each kill the latest run must read back
exactly as it was, and the next run must clean up what the dead one left and publish normally.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import rasterio
from hostile import mrumonitor
from run_inputs import write_run_inputs

from mrumonitor.store import leftovers, read_manifest, resolve_run
from mrumonitor.store.faults import CHECKPOINTS, PAUSE_ENV
from mrumonitor.store.runs import run_ids, runs_dir

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT_S = 180


def start_run(config: Path, pause_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop(PAUSE_ENV, None)
    if pause_at:
        env[PAUSE_ENV] = pause_at
    return subprocess.Popen([sys.executable, "-m", "mrumonitor.cli", "run", "--config", str(config)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=WAIT_S)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def wait_for_pause(process: subprocess.Popen, store: Path, checkpoint: str) -> Path:
    """The staging folder of the run once it is paused at `checkpoint`."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        markers = list(runs_dir(store).glob(f".staging-*/.paused-at-{checkpoint}"))
        if markers:
            return markers[0].parent
        if process.poll() is not None:
            result = finish(process)
            pytest.fail(f"the run ended (exit {result.returncode}) before pausing at {checkpoint}:\n{result.stderr}")
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"the run did not reach checkpoint {checkpoint} within {WAIT_S} s")


def read_latest(store: Path) -> dict[str, str]:
    """Read every layer of the latest run as a reader would; returns the SHA-256 of each file of the run."""
    run = resolve_run(store)
    manifest = read_manifest(run)
    for name, layer in manifest["layers"].items():
        path = run / layer["path"]
        if layer["kind"] == "raster":
            with rasterio.open(path) as dataset:
                assert dataset.read(1).shape == (layer["height"], layer["width"]), name
        else:
            frame = gpd.read_parquet(path) if layer["kind"] == "vector" else pd.read_parquet(path)
            assert len(frame) == layer["count"], name
    return {path.relative_to(run).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(run.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A store with one published run: (config, store)."""
    folder = tmp_path_factory.mktemp("faults")
    config = write_run_inputs(folder)
    result = finish(start_run(config))
    assert result.returncode == 0, result.stderr
    return config, folder / "layers"


def test_a_run_killed_at_any_checkpoint_leaves_latest_intact_and_the_next_run_cleans_up(published):
    config, store = published
    first = resolve_run(store).name
    before = read_latest(store)
    left_by_the_last_kill = None
    for checkpoint in CHECKPOINTS:
        process = start_run(config, pause_at=checkpoint)
        staging = wait_for_pause(process, store, checkpoint)
        # the paused run took the lock, so it removed what the run killed before it left behind
        assert left_by_the_last_kill is None or not left_by_the_last_kill.exists(), checkpoint
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        assert resolve_run(store).name == first, checkpoint
        assert read_latest(store) == before, checkpoint
        assert run_ids(store) == [first], checkpoint
        assert staging.is_dir() and leftovers(store) == [staging], checkpoint
        left_by_the_last_kill = staging

    result = finish(start_run(config))
    assert result.returncode == 0, result.stderr
    assert "left by a run that stopped before it was published" in result.stdout
    assert leftovers(store) == [] and not left_by_the_last_kill.exists()
    latest = resolve_run(store)
    assert latest.name != first and read_manifest(latest)["previous_run"] == first
    assert run_ids(store) == [first, latest.name]
    read_latest(store)


def test_a_second_run_on_the_same_store_is_refused_naming_the_first(published):
    config, store = published
    latest = resolve_run(store).name
    first = start_run(config, pause_at="vectors")
    try:
        staging = wait_for_pause(first, store, "vectors")
        second = finish(start_run(config))
        listed = mrumonitor("runs", "list", "--config", str(config))
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert second.returncode == 2
    message = " ".join(second.stderr.split())
    assert f"another run (pid {first.pid} on " in message and "is writing to the layer store" in message
    assert "wait for it to finish" in message and "Traceback" not in second.stderr
    assert resolve_run(store).name == latest
    assert f"a run is writing to this store now (pid {first.pid} on " in listed.stdout
    assert staging.name not in listed.stdout  # a run in progress is not reported as a leftover
