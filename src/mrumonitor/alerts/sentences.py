"""An alert and a watched area in words, in the current language: what the digests, the Atom feed and the Alerts
page say of them.

The `alerts` layer keeps its English ``message`` (the published record; the GeoJSON feed and the CLI show it);
what a person reads is written here from the alert's fields, so a French reader gets French words for the kind,
the country and the confidence, and French numbers. `use_language` (or the dashboard request's language)
chooses the language. A watched area's label is kept in English in its subscription (`areas.resolve` writes it
from a template of the catalogue) and shown through `area_in_words`.
"""

from __future__ import annotations

import pandas as pd

from mrumonitor.areas.resolve import LABELS
from mrumonitor.i18n import N_, _, current_language, number, translations
from mrumonitor.i18n.messages import Template, translate_text
from mrumonitor.i18n.vocabulary import word
from mrumonitor.schema import ALERT_KINDS

#: An alert's confidence as a phrase ("high confidence") and as a heading of the digests' groups.
CONFIDENCE_PHRASES = {"high": N_("high confidence"), "medium": N_("medium confidence"), "low": N_("low confidence")}
CONFIDENCE_HEADINGS = {"high": N_("High confidence"), "medium": N_("Medium confidence"),
                       "low": N_("Low confidence")}


def confidence_phrase(level: str) -> str:
    """`level` ("high") as a phrase in the current language ("high confidence"); unknown levels as they are."""
    phrase = CONFIDENCE_PHRASES.get(level)
    return _(phrase) if phrase else str(level)


def signed(value: float | None, digits: int = 1) -> str:
    """`value` with its sign ("+4.5", "-1.2") the current language's way; "—" when missing."""
    if value is None or pd.isna(value):
        return "—"
    return ("+" if value >= 0 else "") + number(value, digits)


def alert_sentence(alert) -> str:
    """One sentence for a person of `alert` (a row of the `alerts` layer, with attributes): "New mining site:
    site S1 in Sierra Leone in 2025H2 (12.3 ha, +12.3 ha); high confidence."."""
    values = {"kind": word("alert_kind", alert.kind), "site": alert.site_id, "period": alert.period,
              "area": number(alert.area_ha, 1), "change": signed(alert.change_ha),
              "confidence": confidence_phrase(alert.confidence)}
    if pd.isna(alert.country) or not alert.country:
        return _("%(kind)s: site %(site)s in %(period)s (%(area)s ha, %(change)s ha); %(confidence)s.", **values)
    return _("%(kind)s: site %(site)s in %(country)s in %(period)s (%(area)s ha, %(change)s ha); %(confidence)s.",
             country=word("country", alert.country), **values)


def kinds_in_words(kinds: tuple[str, ...] | list[str]) -> str:
    """A subscription's alert kinds in words ("every kind" when it takes them all, or none)."""
    if not kinds or set(kinds) >= set(ALERT_KINDS):
        return _("every kind")
    return ", ".join(word("alert_kind", kind) for kind in kinds)


def area_in_words(label: str) -> str:
    """A watched area's label (`WatchedArea.label`, English) in the current language: a corridor's or a licence's
    template translated with its places, ids and holder kept; a country's name translated; any other label (an
    admin area, an uploaded file) as it is."""
    catalogue = translations(current_language())
    for english in LABELS:
        rendered = Template(english, catalogue.gettext(english)).render(label, catalogue)
        if rendered is not None:
            return rendered
    return translate_text(label)
