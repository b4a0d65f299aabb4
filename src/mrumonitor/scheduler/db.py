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

A database that cannot be used (damaged, not a database, read-only, locked too long) is reported as the
project's `StoreError` naming the file and the fix (`database_errors`), never as SQLite's bare exception.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mrumonitor.errors import StoreError

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


#: What SQLite's message means, and what to do about it (the first that matches a message is taken).
_DIAGNOSES = (
    (("not a database", "malformed", "disk image"),
     "is damaged or not a scheduler database",
     "move it aside (its jobs must then be added again with `mrumonitor schedule add`) or restore it from a backup"),
    (("readonly", "read-only", "unable to open"),
     "cannot be written (a read-only file or folder)",
     "give the user running mrumonitor write access to the file and to its folder"),
    (("locked", "busy"),
     f"stayed locked by another process for more than {_BUSY_TIMEOUT_S:g} s",
     "try again once the other `mrumonitor schedule` or `scheduler` command has finished"),
)


@contextmanager
def database_errors(store_dir: str | Path) -> Iterator[None]:
    """Turn SQLite's errors on the scheduler database of `store_dir` into a `StoreError` saying what to do."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        text = str(exc).lower()
        problem, fix = next(((problem, fix) for marks, problem, fix in _DIAGNOSES if any(m in text for m in marks)),
                            (f"could not be used ({exc})", "check the file, or move it aside and add the jobs again"))
        raise StoreError(f"{db_path(store_dir)}: the scheduler database {problem}; {fix}.") from None
    except OSError as exc:  # the store folder cannot hold the database (a file in its place, no permission)
        raise StoreError(f"{db_path(store_dir)}: the scheduler database cannot be opened ({exc.strerror or exc}); "
                         "[paths] store must be a folder, and the user running mrumonitor needs write access to "
                         "it.") from None


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


def check_writable(store_dir: str | Path) -> None:
    """Open the scheduler database of a store and write to it once (its header's user_version, unchanged), so
    that a damaged or read-only database stops a scheduler at its start (with `database_errors`)."""
    conn = connect(store_dir)
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        conn.execute(f"PRAGMA user_version = {version}")
    finally:
        conn.close()


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
