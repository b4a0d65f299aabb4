"""Cron expressions: validation and due times, with the clock passed in (never read inside).

Due times come from APScheduler's `CronTrigger.from_crontab` (5 fields: minute hour day month day-of-week;
day-of-week names ``mon``..``sun`` are the safest, APScheduler counts numbers from Monday = 0).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from mrumonitor.errors import ConfigError

#: At most this many slots are walked through to find the latest one (a minute cron down for a week: 10080).
_MAX_STEPS = 20_000


def trigger(cron: str, timezone: str = "UTC") -> CronTrigger:
    """The trigger of a 5-field crontab expression, read in `timezone`.

    Raises
    ------
    ConfigError
        When the expression is not a valid 5-field crontab expression.
    """
    try:
        return CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))
    except ValueError as exc:
        raise ConfigError(
            f"cron expression {cron!r} is not valid ({exc}); give 5 fields: minute hour day month day-of-week, "
            "e.g. \"0 2 * * *\" for 02:00 every day or \"30 6 * * mon\" for 06:30 on Mondays") from None


def next_due_after(cron: str, timezone: str, after: dt.datetime) -> dt.datetime | None:
    """The first slot of `cron` strictly after `after` (UTC), or None when the expression has no later slot."""
    fire = trigger(cron, timezone).get_next_fire_time(None, after + dt.timedelta(microseconds=1))
    return None if fire is None else fire.astimezone(dt.UTC)


def latest_due(cron: str, timezone: str, since: dt.datetime, until: dt.datetime
               ) -> tuple[dt.datetime | None, int]:
    """The latest slot of `cron` in ``(since, until]`` (UTC) and how many slots that interval holds.

    (None, 0) when there is none. After a very long downtime the walk stops at `_MAX_STEPS` slots: the count
    is then a lower bound and the slot the last one reached (the next call goes on from there).
    """
    cron_trigger = trigger(cron, timezone)
    latest, count, cursor = None, 0, since
    while count < _MAX_STEPS:
        fire = cron_trigger.get_next_fire_time(None, cursor + dt.timedelta(microseconds=1))
        if fire is None or fire.astimezone(dt.UTC) > until:
            break
        latest = cursor = fire.astimezone(dt.UTC)
        count += 1
    return latest, count
