"""The filter bar's state (`Filters`), and the filters a request's values give on a run (`default_filters`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mrumonitor.schema import COMMODITIES, REGISTRATION_CLASSES

if TYPE_CHECKING:
    from mrumonitor.dashboard.run import RunData


@dataclass(frozen=True)
class Filters:
    """The filter bar's state. Empty `countries` / `classes` and a None `commodity` mean all."""

    period: str
    countries: tuple[str, ...] = ()
    commodity: str | None = None
    classes: tuple[str, ...] = ()
    border_only: bool = False


def default_filters(data: RunData, **values: Any) -> Filters:
    """Filters with the run's last period unless another of its periods is given; unknown values are dropped
    (a stale period or class from an older run, a commodity the run does not know); classes are sorted, so
    equal choices give equal filters."""
    period = values.get("period") if values.get("period") in data.periods else data.last_period
    countries = tuple(c for c in (values.get("countries") or ()) if c)
    commodity = values.get("commodity") if values.get("commodity") in COMMODITIES else None
    classes = tuple(sorted({c for c in (values.get("classes") or ()) if c in REGISTRATION_CLASSES}))
    return Filters(period=period, countries=countries, commodity=commodity, classes=classes,
                   border_only=bool(values.get("border_only")))
