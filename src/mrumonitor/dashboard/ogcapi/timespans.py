"""Time in the OGC API: when each feature of a layer holds, and the ``datetime`` parameter that selects by it.

A feature's time is a closed span of whole UTC days, read from the first pair of columns of `TIME_COLUMNS` its
layer has: a period name (``2025H2``: from the start to the end day the run's manifest gives the period), the
first and last periods a site was seen in, a licence's grant and expiry days, a visit's day, or a year. A missing
start or end leaves that side open; a feature with neither has no time, and no ``datetime`` selects it.

``datetime`` is an RFC 3339 instant (``2025-08-01T12:00:00Z``; a date alone is that whole day) or an interval
``start/end`` whose sides may be open (``..`` or empty); an instant without an offset is read as UTC. A
feature is selected when its span meets the asked instant or interval.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mrumonitor.errors import UnknownOption

#: Columns holding a feature's time, in order of preference: (start column, end column, how they are read).
#: "period": period names of the run; "date": days; "year": whole years.
TIME_COLUMNS = (("period", "period", "period"), ("first_seen", "last_seen", "period"),
                ("granted", "expires", "date"), ("visited_on", "visited_on", "date"), ("year", "year", "year"))

#: One second, the resolution of spans and of the ``datetime`` parameter.
_SECOND = np.timedelta64(1, "s")
_DAY = np.timedelta64(1, "D")
_OPEN = ("", "..")
#: An RFC 3339 full-date, or date-time (an instant without an offset is read as UTC).
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?)?$")


@dataclass(frozen=True)
class TimeColumns:
    """Where a layer's features take their time from: `start` and `end` columns, read as `kind`."""

    start: str
    end: str
    kind: str

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys([self.start, self.end]))

    def describe(self) -> str:
        """In words, for the collection's description."""
        what = {"period": "the days of its period", "date": "its days", "year": "its year"}[self.kind]
        names = self.start if self.start == self.end else f"{self.start} to {self.end}"
        return f"datetime selects features by {what} ({names})."


def time_columns(columns: list[str]) -> TimeColumns | None:
    """The first pair of `TIME_COLUMNS` found among `columns`, None when the layer has no time."""
    return next((TimeColumns(*pair) for pair in TIME_COLUMNS if pair[0] in columns and pair[1] in columns), None)


def feature_spans(frame: pd.DataFrame, spec: TimeColumns, periods: list[dict[str, Any]]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The first and last second (UTC, datetime64[s], NaT where open) of each row of `frame`, by `spec`;
    `periods` are the run manifest's (name, start, end)."""
    return (_days(frame[spec.start], spec.kind, periods, "start"),
            _days(frame[spec.end], spec.kind, periods, "end") + _DAY - _SECOND)


def _days(values: pd.Series, kind: str, periods: list[dict[str, Any]], side: str) -> np.ndarray:
    """The day (datetime64[s] at midnight) each value starts (`side` "start") or ends on."""
    if kind == "period":
        days = {period.get("name"): period.get(side) for period in periods}
        values = values.astype(object).map(days)
    elif kind == "year":
        years = pd.to_numeric(values, errors="coerce")
        values = pd.to_datetime(pd.DataFrame({"year": years, "month": 1 if side == "start" else 12,
                                              "day": 1 if side == "start" else 31}), errors="coerce")
    stamps = pd.to_datetime(values, errors="coerce", utc=True).dt.tz_localize(None).dt.floor("D")
    return stamps.to_numpy(dtype="datetime64[s]")


def parse_datetime(text: str) -> tuple[np.datetime64, np.datetime64]:
    """The closed interval (first, last second, UTC) of the ``datetime`` parameter `text`; an open side is NaT.

    Raises
    ------
    UnknownOption
        Not an RFC 3339 instant or interval, or an interval that ends before it starts.
    """
    parts = text.split("/")
    if len(parts) == 1:
        if text in _OPEN:
            raise _bad(text)
        return _instant(text, "start"), _instant(text, "end")
    if len(parts) > 2 or (parts[0] in _OPEN and parts[1] in _OPEN):
        raise _bad(text)
    first = np.datetime64("NaT") if parts[0] in _OPEN else _instant(parts[0], "start")
    last = np.datetime64("NaT") if parts[1] in _OPEN else _instant(parts[1], "end")
    if not np.isnat(first) and not np.isnat(last) and first > last:
        raise UnknownOption(f"datetime={text!r} ends before it starts; write start/end in time order.")
    return first, last


def _instant(text: str, side: str) -> np.datetime64:
    """The first (`side` "start") or last second of the RFC 3339 date-time or date `text`, in UTC."""
    if not _RFC3339.match(text):
        raise _bad(text)
    try:
        if "T" not in text.upper():
            day = dt.date.fromisoformat(text)
            start = np.datetime64(day.isoformat(), "s")
            return start if side == "start" else start + _DAY - _SECOND
        moment = dt.datetime.fromisoformat(text.upper())
    except ValueError:
        raise _bad(text) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return np.datetime64(moment.replace(microsecond=0), "s")


def _bad(text: str) -> UnknownOption:
    return UnknownOption(f"datetime={text[:80]!r} is not an RFC 3339 instant or interval; write e.g. "
                         "2025-08-01, 2025-08-01T12:00:00Z, 2025-07-01/2025-12-31 or 2025-07-01/.. (open end).")


def meets(starts: np.ndarray, ends: np.ndarray, first: np.datetime64, last: np.datetime64) -> np.ndarray:
    """Mask of the spans [`starts`, `ends`] that meet the closed interval [`first`, `last`] (NaT: open side).
    A span with neither start nor end (no time) meets nothing."""
    timed = ~(np.isnat(starts) & np.isnat(ends))
    mask = timed.copy()
    if not np.isnat(last):
        mask &= np.isnat(starts) | (starts <= last)
    if not np.isnat(first):
        mask &= np.isnat(ends) | (ends >= first)
    return mask
