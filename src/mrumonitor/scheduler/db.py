"""The scheduler's own database, ``<store>/scheduler.sqlite``: the jobs and the history of their runs.

SQLite in WAL mode (readers never block the scheduler, and the reverse), one connection per use. Two tables:

``jobs``
    name, cron (5-field crontab, read in the job's ``timezone``), config (the TOML file the run reads, "" for
    the default), countries (JSON list, [] for all), paused (0/1), timezone, created_at.
``job_runs``
    One row per attempt at a due slot: job, due_at (the cron slot, ISO 8601 UTC), attempt (1, 2...),
    status (running | succeeded | failed | missed), claimed_by (host:pid of the scheduler that claimed it),
    host and pid (of the job process running it), started_at,
    finished_at, run_id (the run published), periods (JSON list of periods processed), error, retry_at (when
    a failed attempt will be tried again; NULL when it will not). ``UNIQUE(job, due_at, attempt)`` makes a
    claim atomic: of two schedulers inserting the same attempt, exactly one succeeds and runs it.

Timestamps are ISO 8601 strings in UTC (``2026-11-22T10:15:00+00:00``); they sort as text.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

#: The database file, inside the store.
DB_FILE = "scheduler.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    name TEXT PRIMARY KEY,
    cron TEXT NOT NULL,
    config TEXT NOT NULL DEFAULT '',
    countries TEXT NOT NULL DEFAULT '[]',
    paused INTEGER NOT NULL DEFAULT 0,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL REFERENCES jobs(name) ON DELETE CASCADE,
    due_at TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL,
    claimed_by TEXT NOT NULL DEFAULT '',
    host TEXT,
    pid INTEGER,
    started_at TEXT,
    finished_at TEXT,
    run_id TEXT,
    periods TEXT,
    error TEXT,
    retry_at TEXT,
    UNIQUE (job, due_at, attempt)
);
CREATE INDEX IF NOT EXISTS job_runs_by_job ON job_runs (job, id);
"""

_BUSY_TIMEOUT_S = 30.0


def db_path(store_dir: str | Path) -> Path:
    """The scheduler database of the store at `store_dir`."""
    return Path(store_dir) / DB_FILE


def connect(store_dir: str | Path) -> sqlite3.Connection:
    """Open (creating it when needed) the scheduler database of a store, in WAL mode, schema in place.

    The connection is in autocommit mode: write transactions are explicit (``BEGIN IMMEDIATE``), see
    `transaction`.
    """
    path = db_path(store_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript(_SCHEMA)
    return conn


def connect_readonly(store_dir: str | Path) -> sqlite3.Connection | None:
    """A read-only connection to the store's scheduler database, or None when the store has none."""
    path = db_path(store_dir)
    if not path.is_file():
        return None
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S)
    conn.row_factory = sqlite3.Row
    return conn


def utc_text(when: dt.datetime | None) -> str | None:
    """`when` as an ISO 8601 string in UTC, to the second (None stays None)."""
    if when is None:
        return None
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def parse_utc(text: str | None) -> dt.datetime | None:
    """The inverse of `utc_text`."""
    return None if text is None else dt.datetime.fromisoformat(text)
