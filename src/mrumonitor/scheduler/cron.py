"""Cron expressions: validation and due times, with the clock passed in (never read inside).

Due times come from APScheduler's `CronTrigger` over the 5 crontab fields (minute hour day month day-of-week),
read as crontab reads them. Two differences of APScheduler are taken care of here:

- its day-of-week numbers count from Monday = 0, crontab's from Sunday = 0 (7 is Sunday too): the field is
  translated to day names (``1-5`` -> ``mon,tue,wed,thu,fri``) before APScheduler sees it;
- it fires when the day of month AND the day of week match, crontab when either does: an expression that
  restricts both is refused, with the fix (two jobs), rather than read one way or the other.

An expression must also fire at least once (`first_due`): ``0 2 31 2 *`` (31 February) never does.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from mrumonitor.errors import ConfigError

#: At most this many slots are walked through to find the latest one (a minute cron down for a week: 10080).
_MAX_STEPS = 20_000
#: Day names in crontab's order (Sunday = 0), as APScheduler spells them.
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_EXAMPLES = '"0 2 * * *" for 02:00 every day or "30 6 * * 1" (or "30 6 * * mon") for 06:30 on Mondays'


def trigger(cron: str, timezone: str = "UTC") -> CronTrigger:
    """The trigger of a 5-field crontab expression, read in `timezone`.

    Raises
    ------
    ConfigError
        When the expression is not a valid 5-field crontab expression.
    """
    fields = cron.split()
    if len(fields) != 5:
        raise _invalid(cron, f"it has {len(fields)} field(s), not 5")
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        raise _invalid(cron, f"it restricts both the day of month ({day}) and the day of week ({weekday}), which "
                             "crontab reads as either and the scheduler as both; schedule two jobs, one with "
                             "each, or keep one of the two fields \"*\"")
    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_weekdays(cron, weekday),
                           timezone=ZoneInfo(timezone))
    except ValueError as exc:
        raise _invalid(cron, str(exc)) from None


def first_due(cron: str, timezone: str, now: dt.datetime) -> dt.datetime:
    """The first slot of `cron` after `now` (UTC), checking the expression.

    Raises
    ------
    ConfigError
        When the expression is not valid, or never fires (a day that no month has, such as 31 February).
    """
    slot = next_due_after(cron, timezone, now)
    if slot is None:
        raise ConfigError(f"cron expression {cron!r} never fires: no month has the day it names (such as 31 "
                          "February or 31 April); check its day and month fields.")
    return slot


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


def _weekdays(cron: str, field: str) -> str:
    """Crontab's day-of-week field (numbers from Sunday = 0, 7 = Sunday too, names, ranges, lists, steps) as
    the list of day names APScheduler reads the same way."""
    if field == "*":
        return field
    days = set()
    for item in field.split(","):
        base, slash, step = item.partition("/")
        if slash and not (step.isdigit() and int(step) > 0):
            raise _invalid(cron, f"day-of-week step {step!r} is not a whole number above 0")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            first, last = (_weekday(cron, part, end) for part, end in zip(base.split("-", 1), (False, True)))
        else:
            first = _weekday(cron, base, False)
            last = 6 if slash else first
        if first > last:
            raise _invalid(cron, f"day-of-week range {base!r} runs backwards; write it from the earlier day "
                                 "(Sunday = 0 or 7)")
        days.update(day % 7 for day in range(first, last + 1, int(step) if slash else 1))
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def _weekday(cron: str, text: str, range_end: bool) -> int:
    """A day of week, 0..7 (0 and 7 Sunday), from a number or a name; Sunday ends a range as 7."""
    name = text.lower()
    if name in _DAY_NAMES:
        day = _DAY_NAMES.index(name)
        return 7 if range_end and day == 0 else day
    if text.isascii() and text.isdigit() and int(text) <= 7:
        return int(text)
    raise _invalid(cron, f"day of week {text!r} is neither 0-7 (0 and 7: Sunday) nor a name (sun, mon, ... sat)")


def _invalid(cron: str, why: str) -> ConfigError:
    return ConfigError(f"cron expression {cron!r} is not valid: {why}. Give 5 fields, minute hour day month "
                       f"day-of-week, e.g. {_EXAMPLES}.")
