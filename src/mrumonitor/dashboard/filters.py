"""The filter bar's state (`Filters`), and the filters a request's values give on a run (`default_filters`).

The dashboard opens on the question of the KP regional team: rough diamonds (`DEFAULT_COMMODITY`, when the run
has diamond sites) along the borders between the four countries of the Regional Approach (`DEFAULT_SCOPE`).
Every commodity, gold alone and the external borders are one choice away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mrumonitor.i18n import N_, _
from mrumonitor.i18n.vocabulary import word
from mrumonitor.schema import BORDER_SCOPES, COMMODITIES, REGISTRATION_CLASSES

if TYPE_CHECKING:
    from mrumonitor.dashboard.run import RunData

#: The commodity the filters default to when the run has sites of it: the KP commodity.
DEFAULT_COMMODITY = "diamond"
#: The borders the filters default to: those between two of the four countries (`BORDER_SCOPES`).
DEFAULT_SCOPE = "mru"
#: The commodity filter's value for every commodity (the filter bar's "All commodities").
ALL_COMMODITIES = ""

#: The sites of a commodity filter (None: every commodity) and the border scopes, as the pages say what they show.
COMMODITY_WORDS = {None: N_("sites of every commodity"), "diamond": N_("diamond sites"), "gold": N_("gold sites"),
                   "other": N_("sites of other minerals")}
SCOPE_WORDS = {"mru": N_("MRU internal borders"), "external": N_("external borders")}


@dataclass(frozen=True)
class Filters:
    """The filter bar's state. Empty `countries` / `classes` and a None `commodity` mean all; `scope` is the
    border scope (`BORDER_SCOPES`) whose corridors are ranked and whose border zone is counted."""

    period: str
    countries: tuple[str, ...] = ()
    commodity: str | None = None
    classes: tuple[str, ...] = ()
    border_only: bool = False
    scope: str = DEFAULT_SCOPE


def default_filters(data: RunData, **values: Any) -> Filters:
    """Filters with the run's last period unless another of its periods is given; unknown values are dropped
    (a stale period or class from an older run, a commodity the run does not know); classes are sorted, so
    equal choices give equal filters.

    The commodity is `DEFAULT_COMMODITY` when none is given (None) or an unknown one is, provided the run has
    sites of it (else every commodity); `ALL_COMMODITIES` ("") asks for every commodity. The scope is
    `DEFAULT_SCOPE` unless one of `BORDER_SCOPES` is given."""
    period = values.get("period") if values.get("period") in data.periods else data.last_period
    countries = tuple(c for c in (values.get("countries") or ()) if c)
    commodity = values.get("commodity")
    if commodity not in COMMODITIES:
        commodity = None if commodity == ALL_COMMODITIES else data.default_commodity
    classes = tuple(sorted({c for c in (values.get("classes") or ()) if c in REGISTRATION_CLASSES}))
    scope = values.get("scope") if values.get("scope") in BORDER_SCOPES else DEFAULT_SCOPE
    return Filters(period=period, countries=countries, commodity=commodity, classes=classes,
                   border_only=bool(values.get("border_only")), scope=scope)


def showing(filters: Filters, scope: bool = False, sites_of: str | None = None) -> str:
    """What a page shows, in words of the user's language: "diamond sites, MRU internal borders, all four
    countries, 2026H1" (the border scope when `scope`). `sites_of`: the one country whose sites the user may see
    (an agency user, on a page of sites), said instead of "all four countries"."""
    where = (", ".join(word("country", code) for code in filters.countries)
             or (_("%(country)s only (the sites your role may see)", country=word("country", sites_of)) if sites_of
                 else _("all four countries")))
    borders = [_(SCOPE_WORDS[filters.scope])] if scope else []
    return ", ".join([_(COMMODITY_WORDS[filters.commodity]), *borders, where, filters.period])
