"""The scheduler: due times with an injected clock, one run per slot across schedulers, failures retried
while other jobs go on — with real scheduler and job processes."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from hostile import mrumonitor
from run_inputs import write_run_inputs

from mrumonitor.config import load_settings
from mrumonitor.errors import ConfigError
from mrumonitor.pipeline import run_pipeline
from mrumonitor.scheduler import STATUS_COLUMNS, job_status
from mrumonitor.scheduler.cron import latest_due, next_due_after
from mrumonitor.scheduler.db import db_path
from mrumonitor.scheduler.jobs import add_job
from mrumonitor.scheduler.loop import Scheduler
from mrumonitor.store.runs import list_runs, read_manifest, resolve_run

pytestmark = pytest.mark.integration

T0 = dt.datetime(2030, 1, 6, 9, 30, tzinfo=dt.UTC)  # a Sunday
FAST = "[scheduler]\npoll_s = 0.2\nretry_backoff_s = 0.3\nretry_backoff_max_s = 1.0\nmax_attempts = 3\n"


def at(when):
    return lambda: when


@pytest.fixture
def store_config(tmp_path):
    config = write_run_inputs(tmp_path)
    config.write_text(config.read_text() + FAST)
    return config


def _rows(store, job=None):
    conn = sqlite3.connect(db_path(store))
    conn.row_factory = sqlite3.Row
    query = "SELECT * FROM job_runs" + (" WHERE job = ?" if job else "") + " ORDER BY id"
    rows = [dict(row) for row in conn.execute(query, (job,) if job else ())]
    conn.close()
    return rows


def _scheduler(config, *args):
    return [sys.executable, "-m", "mrumonitor.cli", "scheduler", "--config", str(config), *args]


def test_due_times_follow_the_injected_clock():
    assert latest_due("0 2 * * *", "UTC", T0, T0 + dt.timedelta(days=3)) == (dt.datetime(2030, 1, 9, 2, tzinfo=dt.UTC), 3)
    assert latest_due("0 2 * * *", "UTC", T0, T0 + dt.timedelta(hours=1)) == (None, 0)
    assert latest_due("30 6 * * mon", "Africa/Abidjan", T0, T0 + dt.timedelta(days=1))[0] == \
        dt.datetime(2030, 1, 7, 6, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(("weekday", "days"), [
    ("1", ["Mon"]), ("0", ["Sun"]), ("7", ["Sun"]), ("mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
    ("1-5/2", ["Mon", "Wed", "Fri"]), ("*/2", ["Sun", "Tue", "Thu", "Sat"]), ("5-7", ["Fri", "Sat", "Sun"]),
    ("sat-sun", ["Sat", "Sun"]), ("SUN,3", ["Sun", "Wed"])])
def test_day_of_week_is_read_as_crontab_reads_it(weekday, days):
    """Crontab counts days from Sunday = 0 (7 too); APScheduler from Monday = 0: "30 6 * * 1" is a Monday."""
    slot, fired = T0, []
    for _ in range(len(days)):
        slot = next_due_after(f"30 6 * * {weekday}", "UTC", slot)
        fired.append(f"{slot:%a}")
    assert sorted(fired) == sorted(days) and next_due_after(f"30 6 * * {weekday}", "UTC", slot) > T0 + \
        dt.timedelta(days=6)


@pytest.mark.slow
def test_a_cron_expression_that_never_fires_is_refused(store_config):
    with pytest.raises(ConfigError, match="never fires"):
        add_job(load_settings(store_config), "february", "0 2 31 2 *", store_config)
    assert not db_path(load_settings(store_config).paths.store).exists()


def test_job_status_reads_without_creating_the_database(tmp_path):
    frame = job_status(tmp_path)
    assert list(frame.columns) == STATUS_COLUMNS and frame.empty
    assert not db_path(tmp_path).exists()


def test_missed_runs_are_coalesced_and_recorded_beyond_the_grace(store_config):
    settings = load_settings(store_config)
    add_job(settings, "daily", "0 2 * * *", store_config, clock=at(T0))
    assert job_status(settings.paths.store, now=at(T0)).loc[0, "next_due"] == "2030-01-07T02:00:00+00:00"
    # the scheduler was down for three days: one "missed" row for the three slots, nothing started
    scheduler = Scheduler(settings.paths.store, settings.scheduler, clock=at(T0 + dt.timedelta(days=3)))
    assert scheduler.tick() == []
    (row,) = _rows(settings.paths.store)
    assert (row["status"], row["due_at"]) == ("missed", "2030-01-09T02:00:00+00:00")
    assert "2 earlier slot(s)" in row["error"] and "misfire grace" in row["error"]
    assert scheduler.tick() == []  # nothing new is due
    status = job_status(settings.paths.store, now=at(T0 + dt.timedelta(days=3))).iloc[0]
    assert (status["last_status"], status["next_due"]) == ("missed", "2030-01-10T02:00:00+00:00")


@pytest.mark.slow
def test_two_schedulers_started_together_run_a_job_once(store_config):
    settings = load_settings(store_config)
    add_job(settings, "nightly", "0 2 * * *", store_config, clock=at(T0))
    when = "2030-01-07T02:05"  # five minutes after the slot, within the grace
    processes = [subprocess.Popen(_scheduler(store_config, "--once", "--at", when)) for _ in range(2)]
    assert [p.wait(timeout=300) for p in processes] == [0, 0]
    (row,) = _rows(settings.paths.store)
    assert (row["status"], row["attempt"], row["periods"]) == ("succeeded", 1, '["P1", "P2"]')
    assert [run.run_id for run in list_runs(settings.paths.store)] == [row["run_id"]]
    log = (settings.paths.store / "logs" / "scheduler.log").read_text()
    assert "stage ingest done" in log and "stage detect done" in log and "stage analyse done" in log


@pytest.mark.slow
def test_a_failing_job_is_retried_while_another_job_runs(store_config, tmp_path):
    settings = load_settings(store_config)
    broken = tmp_path / "broken.toml"
    broken.write_text(store_config.read_text())
    add_job(settings, "good", "0 2 * * *", store_config, clock=at(T0))
    add_job(settings, "bad", "0 2 * * *", broken, clock=at(T0))
    broken.write_text(broken.read_text() + "\n[dask]\nno_such_key = 1\n")  # broken after it was scheduled

    scheduler = subprocess.Popen(_scheduler(store_config, "--at", "2030-01-07T02:00:30"))
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            good = _rows(settings.paths.store, "good")
            if good and good[-1]["status"] == "succeeded":
                break
            time.sleep(0.2)
        assert scheduler.poll() is None, "the scheduler stopped"
    finally:
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=30) == 0

    bad = _rows(settings.paths.store, "bad")
    assert [row["attempt"] for row in bad] == [1, 2, 3]
    assert [row["status"] for row in bad] == ["failed"] * 3
    assert all("no_such_key" in row["error"] for row in bad)
    assert [row["retry_at"] is None for row in bad] == [False, False, True]  # three attempts, then no more
    (good,) = _rows(settings.paths.store, "good")
    assert good["status"] == "succeeded"
    assert all(row["finished_at"] <= good["finished_at"] for row in bad), "bad was retried while good ran"
    status = job_status(settings.paths.store).set_index("name")
    assert status.loc["bad", "last_status"] == "failed" and status.loc["good", "last_run_id"] == good["run_id"]


def test_a_job_process_that_dies_is_recorded_and_the_scheduler_goes_on(store_config):
    settings = load_settings(store_config)
    add_job(settings, "doomed", "0 2 * * *", store_config, clock=at(T0))
    scheduler = Scheduler(settings.paths.store, settings.scheduler, clock=at(T0 + dt.timedelta(hours=17)))
    (row_id,) = scheduler.tick()
    os.kill(scheduler.children[row_id].process.pid, signal.SIGKILL)
    scheduler.children[row_id].process.wait()
    scheduler.reap()
    (row,) = _rows(settings.paths.store)
    assert row["status"] == "failed" and "exit status -9" in row["error"] and row["retry_at"] is not None


@pytest.mark.slow
def test_a_job_limited_to_some_countries_runs_for_them_only(store_config):
    settings = load_settings(store_config)
    with pytest.raises(ConfigError, match="valid codes"):
        add_job(settings, "bad-code", "0 2 * * *", store_config, countries=("XX",))
    first = run_pipeline(settings)
    added = mrumonitor("schedule", "add", "national", "--cron", "0 2 * * *", "--countries", "sle", "gin",
                       "--config", str(store_config))
    assert added.returncode == 0, added.stderr
    assert "SLE, GIN" in added.stdout
    listed = mrumonitor("schedule", "list", "--config", str(store_config))
    assert "SLE, GIN" in listed.stdout
    assert job_status(settings.paths.store).loc[0, "countries"] == "SLE, GIN"

    slot = next_due_after("0 2 * * *", "UTC", dt.datetime.now(dt.UTC))
    assert Scheduler(settings.paths.store, settings.scheduler, clock=at(slot + dt.timedelta(minutes=1))).run_once() == 0
    (row,) = _rows(settings.paths.store, "national")
    assert row["status"] == "succeeded"
    manifest = read_manifest(resolve_run(settings.paths.store, row["run_id"]))
    assert manifest["scope"]["countries"] == ["SLE", "GIN"] and manifest["scope"]["kept_from"] == first.run_id
    history = mrumonitor("schedule", "history", "national", "--config", str(store_config))
    assert "SLE, GIN" in history.stdout and row["run_id"] in history.stdout


def test_operators_hear_of_missed_and_finally_failed_runs_of_the_last_week_only(tmp_path):
    from mrumonitor.scheduler.db import connect
    from mrumonitor.scheduler.history import claim
    from mrumonitor.scheduler.notices import NOTICE_WINDOW, pending_notices

    now = dt.datetime(2026, 12, 6, 5, tzinfo=dt.UTC)
    conn = connect(tmp_path)
    conn.execute("INSERT INTO jobs (name, cron, timezone, config, countries, created_at, paused) VALUES "
                 "('nightly', '0 2 * * *', 'UTC', '', '[]', '2026-01-01T00:00:00+00:00', 0)")
    old = claim(conn, "nightly", now - NOTICE_WINDOW - dt.timedelta(hours=1), 1, "missed", "test", now, "not run")
    recent = claim(conn, "nightly", now - dt.timedelta(days=1), 1, "missed", "test", now, "not run")
    running = claim(conn, "nightly", now, 1, "running", "test", now)
    assert [n.key for n in pending_notices(conn, now)] == [f"job_run:{recent}"]
    assert old and running and pending_notices(conn, now)[0].kind == "run_missed"
