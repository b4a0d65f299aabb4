"""Writing the history of job runs: claiming a due slot, recording how an attempt ended, the retry policy.

Every write is one short ``BEGIN IMMEDIATE`` transaction, so that schedulers and job processes sharing a
store's database never interleave. A claim is an INSERT that the ``UNIQUE(job, due_at, attempt)`` constraint
lets through once: of two schedulers claiming the same slot, exactly one gets a row and runs it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mrumonitor.config import SchedulerSettings
from mrumonitor.scheduler.db import utc_text


@dataclass(frozen=True)
class RetryPolicy:
    """How a failed attempt is tried again: up to `max_attempts` in all, waiting `backoff_s` and doubling,
    capped at `backoff_max_s`."""

    max_attempts: int
    backoff_s: float
    backoff_max_s: float

    @classmethod
    def of(cls, settings: SchedulerSettings) -> RetryPolicy:
        return cls(settings.max_attempts, settings.retry_backoff_s, settings.retry_backoff_max_s)

    def retry_at(self, attempt: int, failed_at: dt.datetime) -> dt.datetime | None:
        """When to try again after attempt number `attempt` failed at `failed_at` (None: no more attempts)."""
        if attempt >= self.max_attempts:
            return None
        return failed_at + dt.timedelta(seconds=min(self.backoff_s * 2 ** (attempt - 1), self.backoff_max_s))

    def as_args(self) -> list[str]:
        """The policy as command-line options of the job process (`scheduler.job`)."""
        return [f"--max-attempts={self.max_attempts}", f"--backoff={self.backoff_s!r}",
                f"--backoff-max={self.backoff_max_s!r}"]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (``BEGIN IMMEDIATE``) so that it never has to upgrade a read lock."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def claim(conn: sqlite3.Connection, job: str, due_at: dt.datetime, attempt: int, status: str, claimed_by: str,
          now: dt.datetime, error: str | None = None) -> int | None:
    """Insert the row of `attempt` at the slot `due_at` of `job`; its id, or None when another scheduler has it.

    A new slot (attempt 1) also cancels the pending retries of the job's earlier slots: the new run processes
    whatever they would have.
    """
    with transaction(conn):
        try:
            cursor = conn.execute(
                "INSERT INTO job_runs (job, due_at, attempt, status, claimed_by, started_at, finished_at, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job, utc_text(due_at), attempt, status, claimed_by, utc_text(now),
                 None if status == "running" else utc_text(now), error))
        except sqlite3.IntegrityError:
            return None
        if attempt == 1:
            conn.execute("UPDATE job_runs SET retry_at = NULL, error = error || ? WHERE job = ? AND due_at < ? "
                         "AND retry_at IS NOT NULL",
                         (f" (not retried: the run due at {utc_text(due_at)} replaces it)", job, utc_text(due_at)))
        return cursor.lastrowid


def mark_started(conn: sqlite3.Connection, row_id: int, host: str, pid: int) -> None:
    """Record which process runs the attempt."""
    with transaction(conn):
        conn.execute("UPDATE job_runs SET host = ?, pid = ? WHERE id = ?", (host, pid, row_id))


def record_success(conn: sqlite3.Connection, row_id: int, run_id: str, periods: list[str], now: dt.datetime) -> None:
    """The attempt published run `run_id`, processing `periods`."""
    with transaction(conn):
        conn.execute("UPDATE job_runs SET status = 'succeeded', finished_at = ?, run_id = ?, periods = ? "
                     "WHERE id = ? AND status = 'running'", (utc_text(now), run_id, json.dumps(periods), row_id))


def record_failure(conn: sqlite3.Connection, row_id: int, error: str, policy: RetryPolicy, now: dt.datetime) -> bool:
    """The attempt failed with `error`; sets when it is retried (`policy`). False when it had ended already."""
    with transaction(conn):
        row = conn.execute("SELECT attempt FROM job_runs WHERE id = ? AND status = 'running'", (row_id,)).fetchone()
        if row is None:
            return False
        conn.execute("UPDATE job_runs SET status = 'failed', finished_at = ?, error = ?, retry_at = ? WHERE id = ?",
                     (utc_text(now), error, utc_text(policy.retry_at(row["attempt"], now)), row_id))
        return True
