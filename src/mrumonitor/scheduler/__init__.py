"""Scheduled batch updates: jobs with a cron schedule, run unattended by `mrumonitor scheduler`.

Readers use `job_status` (what every job is doing); the scheduler itself is in `scheduler.loop`.
"""

from mrumonitor.scheduler.status import STATUS_COLUMNS, job_status

__all__ = ["STATUS_COLUMNS", "job_status"]
