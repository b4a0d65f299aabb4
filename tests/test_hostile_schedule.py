"""Hostile input to the scheduler, through the real `mrumonitor` command: bad cron expressions and job names,
unknown jobs, bad --countries, bad configurations, a damaged or read-only scheduler database, and runs that
fail. Each ends in a plain message (exit 2 when refused, no traceback), and nothing bad is stored."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import assert_no_traceback, assert_refused, mrumonitor
from run_inputs import write_run_inputs

from mrumonitor.config import load_settings
from mrumonitor.scheduler.db import db_path
from mrumonitor.scheduler.jobs import add_job
from mrumonitor.scheduler.loop import Scheduler

pytestmark = [pytest.mark.hostile, pytest.mark.integration, pytest.mark.slow]

MINIMAL = '[paths]\nstore = "layers"\nwork = "work"\n'


@pytest.fixture
def config(tmp_path) -> Path:
    """A configuration whose store is under tmp_path (no inputs: enough to schedule, not to run)."""
    path = tmp_path / "mrumonitor.toml"
    path.write_text(MINIMAL)
    return path


def _jobs(config: Path) -> list[str]:
    path = db_path(config.parent / "layers")
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT name FROM jobs")]


def _add(config: Path, name: str = "nightly", cron: str = "0 2 * * *", *extra: str):
    return mrumonitor("schedule", "add", name, "--cron", cron, "--config", str(config), *extra)


BAD_CRONS = [
    ("* * * *", ["4 field(s)", "minute hour day month day-of-week"]),
    ("* * * * * *", ["6 field(s)"]),
    ("", ["0 field(s)"]),
    ("every day at two", ["4 field(s)"]),
    ("61 * * * *", ["61", "higher than the maximum"]),
    ("0 25 * * *", ["25"]),
    ("*/0 * * * *", ["Increment must be higher than 0"]),
    ("0 2 * * 8", ["day of week '8'", "0 and 7: Sunday"]),
    ("0 2 * * 5-1", ["runs backwards"]),
    ("0 2 * * mon/0", ["step '0'"]),
    ("0 2 13 * fri", ["both the day of month", "two jobs"]),
    ("0 2 31 2 *", ["never fires", "31 February"]),
    ("0 0 31 4,6,9,11 *", ["never fires"]),
    ("1,,2 * * * *", ["not valid"]),
]


@pytest.mark.parametrize(("cron", "words"), BAD_CRONS, ids=[case[0] or "empty" for case in BAD_CRONS])
def test_a_bad_cron_expression_is_refused_when_the_job_is_added(config, cron, words):
    assert_refused(_add(config, "nightly", cron), "cron expression", *words)
    assert _jobs(config) == []


BAD_ADDS = [
    ("name with a path", ["../evil"], ["job name", "letters, digits"]),
    ("unknown country", ["nightly", "0 2 * * *", "--countries", "XX"], ["XX", "valid codes"]),
    ("country list swallowing an option", ["nightly", "0 2 * * *", "--countries", "--config"], ["--countries needs"]),
]


@pytest.mark.parametrize(("case", "arguments", "words"), BAD_ADDS, ids=[case[0] for case in BAD_ADDS])
def test_a_bad_job_is_refused_when_added(config, case, arguments, words):
    assert_refused(_add(config, *arguments), *words)
    assert _jobs(config) == []


def test_a_duplicate_job_name_is_refused(config):
    assert _add(config).returncode == 0
    assert_refused(_add(config, "nightly", "30 6 * * 1"), "already scheduled", "schedule remove")
    listed = mrumonitor("schedule", "list", "--config", str(config))
    assert "0 2 * * *" in listed.stdout and "30 6" not in listed.stdout


@pytest.mark.parametrize("command", [["remove"], ["pause"], ["resume"], ["run"], ["history"]])
def test_an_unknown_job_name_is_refused(config, command):
    assert _add(config).returncode == 0
    assert_refused(mrumonitor("schedule", *command, "weekly", "--config", str(config)),
                   "no job named 'weekly'", "scheduled jobs: nightly")


BAD_SETTINGS = [
    ("missing configuration", None, ["configuration file not found"]),
    ("negative attempts", "[scheduler]\nmax_attempts = -3\n", ["scheduler.max_attempts"]),
    ("absurd backoff", "[scheduler]\nretry_backoff_s = 1e300\n", ["scheduler.retry_backoff_s"]),
    ("absurd backoff cap", "[scheduler]\nretry_backoff_max_s = 1e12\n", ["scheduler.retry_backoff_max_s"]),
    ("zero poll", "[scheduler]\npoll_s = 0\n", ["scheduler.poll_s"]),
    ("unknown time zone", "[scheduler]\ntimezone = \"Mars/Olympus\"\n", ["Mars/Olympus", "IANA"]),
]


@pytest.mark.parametrize(("case", "extra", "words"), BAD_SETTINGS, ids=[case[0] for case in BAD_SETTINGS])
@pytest.mark.parametrize("command", [["schedule", "add", "nightly", "--cron", "0 2 * * *"], ["scheduler", "--once"]])
def test_bad_scheduler_settings_are_refused(tmp_path, case, extra, words, command):
    config = tmp_path / "bad.toml"
    if extra is not None:
        config.write_text(MINIMAL + extra)
    assert_refused(mrumonitor(*command, "--config", str(config)), *words)
    assert not (tmp_path / "layers" / "scheduler.sqlite").exists()


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xffnot a database at all" * 400)


def _truncated(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    path.write_bytes(path.read_bytes()[:1500])


@pytest.mark.parametrize("damage", [_garbage, _truncated], ids=["garbage bytes", "truncated"])
@pytest.mark.parametrize("command", [["schedule", "list"], ["schedule", "add", "weekly", "--cron", "0 3 * * 0"],
                                     ["schedule", "pause", "nightly"], ["scheduler", "--once"], ["scheduler"]])
def test_a_damaged_scheduler_database_is_reported(config, damage, command):
    assert _add(config).returncode == 0
    database = db_path(config.parent / "layers")
    for sidecar in database.parent.glob(database.name + "-*"):
        sidecar.unlink()
    damage(database)
    assert_refused(mrumonitor(*command, "--config", str(config), timeout=60),
                   str(database), "damaged or not a scheduler database", "restore it from a backup")


@pytest.fixture
def read_only(config):
    """The store's scheduler database and its folder made read-only (immutable when the tests run as root)."""
    assert _add(config).returncode == 0
    database = db_path(config.parent / "layers")
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    paths = [database, database.parent]
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", *map(str, paths)], check=False, capture_output=True).returncode != 0:
            pytest.skip("root, and chattr cannot make files immutable here")
        yield database
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
    else:
        modes = [path.stat().st_mode for path in paths]
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        yield database
        for path, mode in zip(paths, modes):
            path.chmod(mode)


@pytest.mark.parametrize("command", [["schedule", "add", "weekly", "--cron", "0 3 * * 0"],
                                     ["schedule", "pause", "nightly"], ["schedule", "remove", "nightly"],
                                     ["scheduler", "--once"]])
def test_a_read_only_scheduler_database_is_reported(config, read_only, command):
    assert_refused(mrumonitor(*command, "--config", str(config), timeout=60), str(read_only), "write access")


def test_a_read_only_database_can_still_be_listed(config, read_only):
    listed = mrumonitor("schedule", "list", "--config", str(config))
    assert listed.returncode == 0 and "nightly" in listed.stdout
    assert_no_traceback(listed.stdout, listed.stderr)


@pytest.fixture
def runnable(tmp_path) -> Path:
    """A configuration with inputs, whose runs publish."""
    return write_run_inputs(tmp_path)


def _shown(config: Path, name: str) -> str:
    """What `schedule list` and `schedule history` show of a job, both checked for tracebacks."""
    listed = mrumonitor("schedule", "list", "--config", str(config))
    history = mrumonitor("schedule", "history", name, "--config", str(config))
    assert listed.returncode == history.returncode == 0
    assert_no_traceback(listed.stdout, listed.stderr, history.stdout, history.stderr)
    return " ".join((listed.stdout + history.stdout).split())


def test_a_job_whose_configuration_was_moved_records_a_plain_failure(runnable, tmp_path):
    assert _add(runnable, "nightly", "0 2 * * *").returncode == 0
    moved = runnable.rename(tmp_path / "renamed.toml")  # the job's configuration is no longer where it was
    ran = mrumonitor("schedule", "run", "nightly", "--config", str(moved))
    assert ran.returncode == 1 and "configuration file not found" in ran.stdout
    assert_no_traceback(ran.stdout, ran.stderr)
    assert "configuration file not found" in _shown(moved, "nightly")


def test_a_job_whose_configuration_now_writes_elsewhere_records_a_plain_failure(runnable):
    assert _add(runnable, "nightly", "0 2 * * *").returncode == 0
    runnable.write_text(runnable.read_text().replace('store = "layers"', 'store = "other-layers"'))
    scheduled = runnable.parent / "scheduled.toml"  # the store the job was scheduled in
    scheduled.write_text(MINIMAL)
    ran = mrumonitor("schedule", "run", "nightly", "--config", str(scheduled))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert_no_traceback(ran.stdout, ran.stderr)
    shown = _shown(scheduled, "nightly")
    assert "writes to the store" in shown and "other-layers" in shown
    assert not (runnable.parent / "other-layers").exists()


def test_a_job_whose_configuration_is_a_folder_records_a_plain_failure(runnable):
    assert _add(runnable, "nightly", "* * * * *").returncode == 0
    added = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).isoformat(timespec="seconds")
    with sqlite3.connect(db_path(runnable.parent / "layers")) as conn:  # due a minute ago; reads a folder
        conn.execute("UPDATE jobs SET config = '..', created_at = ?", (added,))
    ran = mrumonitor("scheduler", "--once", "--config", str(runnable))
    assert ran.returncode == 1
    assert_no_traceback(ran.stdout, ran.stderr)
    assert "failed" in _shown(runnable, "nightly")


def test_a_job_process_that_crashes_leaves_its_last_words_not_its_traceback(runnable, tmp_path, monkeypatch):
    """A job process that dies with a Python traceback before recording anything: the history says what
    happened; the frames stay in the job's output file."""
    assert _add(runnable, "nightly", "* * * * *").returncode == 0
    crashing = tmp_path / "python"
    crashing.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'raise RuntimeError(\"the job process crashed\")'\n")
    crashing.chmod(0o755)
    settings = load_settings(runnable)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    with monkeypatch.context() as patched:
        patched.setattr(sys, "executable", str(crashing))
        assert Scheduler(settings.paths.store, settings.scheduler, clock=lambda: later).run_once() == 1
    shown = _shown(runnable, "nightly")
    assert "RuntimeError: the job process crashed" in shown and "exit status 1" in shown


def test_a_stored_job_with_a_refused_expression_does_not_stop_the_others(runnable):
    """A job stored by an older version with an expression refused now (both day fields): it is skipped with a
    message in the log, the other jobs run, and `schedule list` still lists both."""
    now = dt.datetime.now(dt.UTC)
    add_job(load_settings(runnable), "good", "* * * * *", runnable, clock=lambda: now - dt.timedelta(minutes=2))
    with sqlite3.connect(db_path(runnable.parent / "layers")) as conn:
        conn.execute("INSERT INTO jobs (name, cron, created_at) VALUES ('legacy', '0 2 13 * fri', '2026-01-01')")
    ran = mrumonitor("scheduler", "--once", "--config", str(runnable))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    said = " ".join((ran.stdout + ran.stderr).split())
    assert "job legacy skipped" in said and "both the day of month" in said
    assert_no_traceback(said)
    shown = _shown(runnable, "good")
    assert "legacy" in shown and "succeeded" in shown
