"""The scheduled runs the operators must hear of (`alerts.operators.notify_operators` sends them): an attempt recorded
as missed, or failed with no retry left (``retry_at`` NULL: its last attempt, or a retry a new slot replaced), due
within the last `NOTICE_WINDOW`: older ones are history, not news (operators configured today are not mailed every
failure since the store began)."""

from __future__ import annotations

import datetime as dt
import sqlite3

from mrumonitor.alerts.operators import OperatorNotice
from mrumonitor.scheduler.db import utc_text

#: How far back a missed or failed run is still news to the operators.
NOTICE_WINDOW = dt.timedelta(days=7)


def pending_notices(conn: sqlite3.Connection, now: dt.datetime) -> list[OperatorNotice]:
    """Every missed attempt and every failed one with no retry left in the scheduler database `conn`, due since
    `now` - NOTICE_WINDOW (oldest first), as operator notices keyed ``job_run:<row id>``; those already sent are
    filtered out by the sender."""
    rows = conn.execute("SELECT id, job, due_at, status, error FROM job_runs WHERE due_at >= ? AND "
                        "(status = 'missed' OR (status = 'failed' AND retry_at IS NULL)) ORDER BY id",
                        (utc_text(now - NOTICE_WINDOW),)).fetchall()
    return [OperatorNotice(key=f"job_run:{row['id']}", kind=f"run_{row['status']}", job=row["job"],
                           due_at=row["due_at"], message=row["error"] or f"the run {row['status']} (no message)")
            for row in rows]
