"""What the scheduler's jobs are doing, for a reader (the dashboard's Runs page, `mrumonitor schedule list`).

`job_status` only reads: it never creates the database, never takes the store lock, and costs one query.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from mrumonitor.errors import ConfigError
from mrumonitor.scheduler.cron import next_due_after
from mrumonitor.scheduler.db import connect_readonly, database_errors, utc_text

#: The columns of `job_status`, in order.
STATUS_COLUMNS = ["name", "cron", "countries", "paused", "next_due", "last_status", "last_started", "last_finished",
                  "last_run_id", "last_error", "last_periods"]

_LATEST_ATTEMPTS = """
SELECT j.name, j.cron, j.countries, j.paused, j.timezone, r.due_at, r.status, r.started_at, r.finished_at, r.run_id,
       r.error, r.periods, r.retry_at
FROM jobs j
LEFT JOIN job_runs r ON r.id = (SELECT MAX(id) FROM job_runs WHERE job = j.name)
ORDER BY j.name
"""


def job_status(store: Path, now: Callable[[], dt.datetime] | None = None) -> pd.DataFrame:
    """One row per scheduled job of a store: its schedule, and how its latest attempt went.

    Parameters
    ----------
    store : path
        The layer store (``paths.store``).
    now : callable, optional
        The clock (returns an aware datetime) used for ``next_due``. Default: the current UTC time.

    Returns
    -------
    pandas.DataFrame
        Columns `STATUS_COLUMNS`: name, cron, countries (the countries its runs refresh, "SLE, GIN", or "all"),
        paused (bool), next_due (the next cron slot after now, ISO 8601
        UTC; None while paused), last_status ("succeeded", "failed", "running", "missed", "retrying" — a failed
        attempt that will be tried again — or None before the first run), last_started, last_finished (ISO 8601
        UTC or None), last_run_id (the run published, or None), last_error (or None), last_periods (list of the
        periods processed, or None). Empty, with these columns, when the store has no scheduler database.

    Raises
    ------
    StoreError
        When the database is damaged or cannot be read.
    """
    with database_errors(store):
        rows = _read(store, _LATEST_ATTEMPTS)
    if rows is None:
        return pd.DataFrame(columns=STATUS_COLUMNS)
    current = (now or (lambda: dt.datetime.now(dt.UTC)))()
    frame = pd.DataFrame([_status_row(row, current) for row in rows], columns=STATUS_COLUMNS)
    return frame.astype({"paused": bool}).replace({float("nan"): None})


def _status_row(row, now: dt.datetime) -> list:
    status = row["status"]
    if status == "failed" and row["retry_at"] is not None:
        status = "retrying"
    next_due = None if row["paused"] else utc_text(_next_due(row["cron"], row["timezone"], now))
    if status == "retrying" and not row["paused"]:
        next_due = min(next_due, row["retry_at"]) if next_due else row["retry_at"]
    periods = json.loads(row["periods"]) if row["periods"] else None
    countries = ", ".join(json.loads(row["countries"])) or "all"
    return [row["name"], row["cron"], countries, bool(row["paused"]), next_due, status, row["started_at"],
            row["finished_at"], row["run_id"], row["error"], periods]




def _next_due(cron: str, timezone: str, now: dt.datetime) -> dt.datetime | None:
    """The job's next slot; None when it has none, or its expression (stored by an older version) is refused."""
    try:
        return next_due_after(cron, timezone, now)
    except ConfigError:
        return None


#: The columns of `job_history`, in order.
HISTORY_COLUMNS = ["due_at", "attempt", "status", "started_at", "finished_at", "periods", "run_id", "error",
                   "retry_at"]


def job_history(store: Path, name: str, last: int = 20) -> pd.DataFrame:
    """The latest `last` attempts of job `name`, newest first (`HISTORY_COLUMNS`; periods as a list)."""
    with database_errors(store):
        rows = _read(store, f"SELECT {', '.join(HISTORY_COLUMNS)} FROM job_runs WHERE job = ? ORDER BY id DESC "
                            "LIMIT ?", (name, last))
    frame = pd.DataFrame([list(row) for row in rows or []], columns=HISTORY_COLUMNS)
    frame["periods"] = frame["periods"].map(lambda text: json.loads(text) if text else None)
    return frame


def _read(store: Path, query: str, parameters: tuple = ()) -> list | None:
    """The rows of a query on the store's scheduler database, read-only; None when the store has none."""
    conn = connect_readonly(store)
    if conn is None:
        return None
    try:
        return conn.execute(query, parameters).fetchall()
    finally:
        conn.close()
