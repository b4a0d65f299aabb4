"""What the Alerts page shows: the run's alerts a user may see, filtered and in words, their counts by kind,
and the user's subscriptions with their feeds.

The alerts are site-level: an agency user gets its own country's rows only (`Access.sees_sites`), whatever the
filters ask. Headers and words are in the request's language; the link and the figures keep their values.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from mrumonitor.alerts.sentences import alert_sentence, area_in_words, kinds_in_words
from mrumonitor.alerts.subscriptions import Subscription, Subscriptions
from mrumonitor.dashboard.access import Access
from mrumonitor.dashboard.link_table import site_link
from mrumonitor.dashboard.watch_form import CONFIDENCE_LABELS, FREQUENCY_LABELS
from mrumonitor.i18n import N_, _, day
from mrumonitor.i18n.vocabulary import word
from mrumonitor.schema import ALERT_KINDS, CONFIDENCE_LEVELS

#: The alerts table's columns: id -> header (translated by `headers`).
ALERT_HEADERS = {"new": N_("New in this run"), "kind": N_("Kind"), "confidence": N_("Confidence"), "site": N_("Site"),
                 "country": N_("Country"), "period": N_("Period"), "area_ha": N_("Site area (ha)"),
                 "change_ha": N_("Change (ha)"), "message": N_("What changed"),
                 "first_run": N_("First published by run")}
#: The subscriptions table's columns: id -> header.
SUBSCRIPTION_HEADERS = {"name": N_("Name"), "area": N_("Area"), "kinds": N_("Alert kinds"),
                        "confidence": N_("Confidence"), "frequency": N_("How often"), "email": N_("Sent to"),
                        "last_sent": N_("Last sent"), "feeds": N_("Feeds")}


def headers(columns: dict[str, str]) -> dict[str, str]:
    """A table's column ids with their headers in the request's language."""
    return {column: _(header) for column, header in columns.items()}


def visible_alerts(alerts: gpd.GeoDataFrame, access: Access) -> pd.DataFrame:
    """The alerts `access` may see (an agency: its own country's), new ones first, then the latest period,
    the most confident."""
    seen = alerts[alerts["country"].map(access.sees_sites).astype(bool)] if len(alerts) else alerts
    rank = {level: i for i, level in enumerate(CONFIDENCE_LEVELS)}
    order = pd.DataFrame({"new": ~seen["new_in_run"].astype(bool), "period": seen["period"],
                          "confidence": seen["confidence"].map(rank), "alert_id": seen["alert_id"]}, index=seen.index)
    order = order.sort_values(["new", "period", "confidence", "alert_id"], ascending=[True, False, True, True])
    return pd.DataFrame(seen.drop(columns="geometry")).loc[order.index]


def filtered(alerts: pd.DataFrame, kinds: list[str] | None, confidence: str | None, new_only: bool) -> pd.DataFrame:
    """`alerts` of the `kinds` (all when none), at least `confidence` (any when unknown), new in the run only."""
    keep = pd.Series(True, index=alerts.index)
    if kinds:
        keep &= alerts["kind"].isin(kinds)
    if confidence in CONFIDENCE_LEVELS:
        keep &= alerts["confidence"].isin(CONFIDENCE_LEVELS[:CONFIDENCE_LEVELS.index(confidence) + 1])
    if new_only:
        keep &= alerts["new_in_run"].astype(bool)
    return alerts[keep]


def alerts_table(alerts: pd.DataFrame) -> list[dict]:
    """The table's rows: words for the kind, confidence, country and what changed, a link to each site's dossier,
    hectares with one decimal."""
    table = pd.DataFrame({
        "new": alerts["new_in_run"].map({True: _("new"), False: ""}),
        "kind": alerts["kind"].map(lambda kind: word("alert_kind", kind)),
        "confidence": alerts["confidence"].map(lambda level: word("confidence", level)),
        "site": [site_link(site) for site in alerts["site_id"]],
        "country": alerts["country"].map(lambda code: word("country", code)), "period": alerts["period"],
        "area_ha": alerts["area_ha"].astype(float).round(1), "change_ha": alerts["change_ha"].astype(float).round(1),
        "message": [alert_sentence(alert) for alert in alerts.itertuples()], "first_run": alerts["first_run"]},
        columns=list(ALERT_HEADERS))
    return table.astype(object).where(table.notna(), None).to_dict("records")


def kind_counts(alerts: pd.DataFrame) -> pd.DataFrame:
    """Alerts per kind (every kind, 0 included) and how many of them are new in the run."""
    new = alerts[alerts["new_in_run"].astype(bool)]
    return pd.DataFrame({_("Kind"): [word("alert_kind", kind) for kind in ALERT_KINDS],
                         _("Alerts"): [int((alerts["kind"] == kind).sum()) for kind in ALERT_KINDS],
                         _("New in this run"): [int((new["kind"] == kind).sum()) for kind in ALERT_KINDS]})


def feed_links(subscription: Subscription) -> str:
    """Markdown links to the subscription's Atom and GeoJSON feeds (the token is the feed's credential)."""
    return (f"[Atom](/feeds/{subscription.feed_token}.atom) · "
            f"[GeoJSON](/feeds/{subscription.feed_token}.geojson)")


def subscriptions_table(store: Subscriptions, user: str) -> list[dict]:
    """The rows of `user`'s active subscriptions, newest first."""
    subscriptions = sorted(store.list(user), key=lambda s: s.created_at, reverse=True)
    rows = []
    for sub in subscriptions:
        sent = store.last_sent(sub.id)
        rows.append({"id": sub.id, "name": sub.name, "area": area_in_words(sub.area_label),
                     "kinds": kinds_in_words(sub.kinds),
                     "confidence": _(CONFIDENCE_LABELS.get(sub.min_confidence, sub.min_confidence)),
                     "frequency": _(FREQUENCY_LABELS.get(sub.frequency, sub.frequency)), "email": sub.email,
                     "last_sent": f"{day(sent)} {sent:%H:%M} UTC" if sent else _("not yet"), "feeds": feed_links(sub)})
    return rows
