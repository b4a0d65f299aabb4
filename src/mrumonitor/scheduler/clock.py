"""The scheduler's clock: the current UTC time, or one that started at a given time (tests, replays).

Everything that decides or records a time in the scheduler takes a `Clock` (a callable returning an aware
datetime) instead of reading the system time, so due times can be computed for any moment.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """The current time, in UTC."""
    return dt.datetime.now(dt.UTC)


def clock_from(start: dt.datetime | None) -> Clock:
    """A clock that reads `start` now and then runs at the normal pace (the system clock when None)."""
    if start is None:
        return system_clock
    origin, start = time.monotonic(), start.astimezone(dt.UTC)
    return lambda: start + dt.timedelta(seconds=time.monotonic() - origin)


def offset_clock(offset_s: float) -> Clock:
    """The system clock shifted by `offset_s` seconds (how a job process follows its scheduler's clock)."""
    return lambda: system_clock() + dt.timedelta(seconds=offset_s)
