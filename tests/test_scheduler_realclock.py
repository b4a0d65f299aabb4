"""The scheduler on the real clock, as an operator runs it: no --at, no injected clock.

Every other scheduler test injects a clock days away, which hid that a scheduler on the system clock passed
its job processes an offset of ``-1e-06`` s that argparse read as an option: every scheduled run failed.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time

import pytest
from hostile import assert_no_traceback, mrumonitor
from run_inputs import write_run_inputs

from mrumonitor.config import load_settings
from mrumonitor.scheduler.job import _parser
from mrumonitor.scheduler.jobs import add_job
from mrumonitor.scheduler.loop import Scheduler
from mrumonitor.scheduler.status import job_history
from mrumonitor.store.runs import latest_run_id

pytestmark = pytest.mark.integration

#: A minute slot, the job's run (about 10 s here) and the machine being busy: well within this.
DEADLINE_S = 150


@pytest.fixture
def config(tmp_path):
    path = write_run_inputs(tmp_path)
    path.write_text(path.read_text() + "[scheduler]\npoll_s = 1.0\n")
    return path


def _published(history, store) -> bool:
    """Whether the job's history shows a succeeded attempt whose run is the store's latest."""
    done = history[history["status"] == "succeeded"]
    return not done.empty and done["run_id"].iloc[0] == latest_run_id(store)


@pytest.mark.slow
def test_a_scheduler_on_the_real_clock_publishes_a_job_due_every_minute(config):
    store = load_settings(config).paths.store
    added = mrumonitor("schedule", "add", "every-minute", "--cron", "* * * * *", "--config", str(config))
    assert added.returncode == 0, added.stdout + added.stderr
    scheduler = subprocess.Popen([sys.executable, "-m", "mrumonitor.cli", "scheduler", "--config", str(config)],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline and not _published(job_history(store, "every-minute"), store):
            assert scheduler.poll() is None, f"the scheduler stopped:\n{scheduler.stdout.read()}"
            time.sleep(1)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        code = scheduler.wait(timeout=60)
    output = scheduler.stdout.read()
    assert code == 0, output
    assert "stopped" in output
    history = job_history(store, "every-minute")
    assert _published(history, store), f"no scheduled run published in {DEADLINE_S} s:\n{history}\n{output}"
    assert "failed" not in set(history["status"]), history["error"].tolist()

    shown = mrumonitor("schedule", "history", "every-minute", "--config", str(config))
    assert shown.returncode == 0 and latest_run_id(store) in shown.stdout and "succeeded" in shown.stdout
    assert_no_traceback(shown.stdout, shown.stderr, output)


@pytest.mark.slow
def test_scheduler_once_on_the_real_clock_runs_the_slot_due_now(config):
    settings = load_settings(config)
    now = dt.datetime.now(dt.UTC)
    add_job(settings, "catch-up", "* * * * *", config, clock=lambda: now - dt.timedelta(minutes=2))

    ran = mrumonitor("scheduler", "--once", "--config", str(config))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    (row,) = job_history(settings.paths.store, "catch-up").to_dict("records")
    assert row["status"] == "succeeded" and row["run_id"] == latest_run_id(settings.paths.store)
    slot = dt.datetime.fromisoformat(row["due_at"])
    assert dt.timedelta(0) <= dt.datetime.now(dt.UTC) - slot < dt.timedelta(minutes=2)
    assert mrumonitor("scheduler", "--once", "--config", str(config)).returncode == 0  # nothing new is due
    assert len(job_history(settings.paths.store, "catch-up")) == 1


def test_job_processes_read_a_tiny_negative_clock_offset(tmp_path):
    settings = load_settings()
    on_system_clock = Scheduler(tmp_path, settings.scheduler)
    assert on_system_clock._clock_args() == []
    later = dt.datetime.now(dt.UTC) - dt.timedelta(microseconds=1)
    (option,) = Scheduler(tmp_path, settings.scheduler, clock=lambda: later)._clock_args()
    assert _parser().parse_args(["7", f"--store={tmp_path}", option]).clock_offset < 0
