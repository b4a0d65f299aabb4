"""A subscription's alerts as an Atom feed (for feed readers) and any alerts as GeoJSON (for GIS software).

Both link each alert to its site's dossier on the dashboard (`dossier_url`). The feed of a subscription lists
every alert of the latest run it matches (`select.alerts_for` without skipping delivered ones), newest first:
a feed reader keeps what it has seen by the entries' ids (``urn:mrumonitor:alert:<alert_id>``, the same in every
run for the same change). The feed's words are in the current language (the dashboard sets the subscriber's);
the GeoJSON keeps the layer's canonical properties.
"""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
from feedgen.feed import FeedGenerator

from mrumonitor.alerts.sentences import alert_sentence, area_in_words, confidence_phrase, kinds_in_words, signed
from mrumonitor.alerts.subscriptions import Subscription
from mrumonitor.crs import WGS84
from mrumonitor.errors import StoreError
from mrumonitor.i18n import _, number
from mrumonitor.i18n.vocabulary import word
from mrumonitor.schema import ALERT_COLUMNS
from mrumonitor.store.runs import run_started

#: Entries of an Atom feed, at most (the newest).
MAX_FEED_ENTRIES = 200
#: Where the dashboard serves the feeds (`mrumonitor.dashboard.feeds`), and the media type of each, by suffix.
FEEDS_PREFIX = "/feeds/"
FEED_TYPES = {".atom": "application/atom+xml", ".geojson": "application/geo+json"}


def dossier_url(dashboard_url: str, site_id: str) -> str:
    """The address of a site's dossier page on the dashboard at `dashboard_url`."""
    return f"{dashboard_url}/site/{site_id}"


def feed_url(dashboard_url: str, token: str, suffix: str) -> str:
    """The address of a subscription's feed (`suffix` one of `FEED_TYPES`) on the dashboard at `dashboard_url`."""
    return f"{dashboard_url}{FEEDS_PREFIX}{token}{suffix}"


def atom_feed(sub: Subscription, alerts: gpd.GeoDataFrame, run_id: str, dashboard_url: str) -> bytes:
    """The Atom document of `sub` listing `alerts` (its alerts in run `run_id`, WGS84): the newest
    `MAX_FEED_ENTRIES` by the run that first published them, each with its message, its site's dossier link, a
    summary (kind, confidence, period, area and change, registration, country) and a GeoRSS point."""
    published = run_started(run_id)
    feed = FeedGenerator()
    feed.load_extension("geo")
    feed.id(f"urn:mrumonitor:subscription:{sub.id}")
    feed.title(f"{sub.name} — {area_in_words(sub.area_label)}")
    feed.subtitle(_("Mining alerts (%(kinds)s; %(confidence)s or better) of the MRU mining monitor, run %(run)s",
                    kinds=kinds_in_words(sub.kinds), confidence=confidence_phrase(sub.min_confidence), run=run_id))
    feed.author({"name": _("MRU mining monitor")})
    feed.link(href=dashboard_url, rel="alternate")
    feed.updated(published)
    newest = alerts.to_crs(WGS84).sort_values(["first_run", "period"], ascending=False, kind="stable")
    for alert in newest.head(MAX_FEED_ENTRIES).itertuples(index=False):
        entry = feed.add_entry(order="append")
        entry.id(f"urn:mrumonitor:alert:{alert.alert_id}")
        entry.title(alert_sentence(alert))
        entry.link(href=dossier_url(dashboard_url, alert.site_id))
        entry.updated(_first_published(alert.first_run, published))
        entry.summary(_summary(alert))
        point = alert.geometry
        entry.geo.point(f"{point.y:.6f} {point.x:.6f}")
    return feed.atom_str(pretty=True)


def alerts_geojson(alerts: gpd.GeoDataFrame, dashboard_url: str) -> dict:
    """`alerts` as a GeoJSON FeatureCollection in WGS84: the ALERT_COLUMNS as properties (missing values as
    null, never NaN) and each site's ``dossier_url``."""
    frame = alerts[[*ALERT_COLUMNS, alerts.geometry.name]].to_crs(WGS84)
    collection = json.loads(frame.to_json(na="null", drop_id=True))
    for feature in collection["features"]:
        feature["properties"]["dossier_url"] = dossier_url(dashboard_url, feature["properties"]["site_id"])
    return collection


def _first_published(first_run: str, fallback: dt.datetime) -> dt.datetime:
    """When the run that first published an alert started (`fallback` for an id that is not a run id)."""
    try:
        return run_started(str(first_run))
    except StoreError:
        return fallback


def _summary(alert) -> str:
    registration = (_("registration unknown") if pd.isna(alert.registration)
                    else word("registration", alert.registration))
    values = {"kind": word("alert_kind", alert.kind), "confidence": confidence_phrase(alert.confidence),
              "period": alert.period, "site": alert.site_id, "area": number(alert.area_ha, 1),
              "registration": registration, "country": word("country", alert.country)}
    if pd.isna(alert.change_ha):
        return _("%(kind)s (%(confidence)s) in %(period)s: site %(site)s, %(area)s ha, %(registration)s, "
                 "%(country)s.", **values)
    return _("%(kind)s (%(confidence)s) in %(period)s: site %(site)s, %(area)s ha, change %(change)s ha, "
             "%(registration)s, %(country)s.", change=signed(alert.change_ha), **values)
