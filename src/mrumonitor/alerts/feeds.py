"""A subscription's alerts as an Atom feed (for feed readers) and any alerts as GeoJSON (for GIS software).

Both link each alert to its site's dossier on the dashboard (`dossier_url`). The feed of a subscription lists
every alert of the latest run it matches (`select.alerts_for` without skipping delivered ones), newest first:
a feed reader keeps what it has seen by the entries' ids (``urn:mrumonitor:alert:<alert_id>``, the same in every
run for the same change).
"""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
from feedgen.feed import FeedGenerator

from mrumonitor.alerts.subscriptions import Subscription
from mrumonitor.crs import WGS84
from mrumonitor.errors import StoreError
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
    feed.title(f"{sub.name} — {sub.area_label}")
    feed.subtitle(f"Mining alerts ({', '.join(sub.kinds)}; confidence {sub.min_confidence} or better) of the MRU "
                  f"mining monitor, run {run_id}")
    feed.author({"name": "MRU mining monitor"})
    feed.link(href=dashboard_url, rel="alternate")
    feed.updated(published)
    newest = alerts.to_crs(WGS84).sort_values(["first_run", "period"], ascending=False, kind="stable")
    for alert in newest.head(MAX_FEED_ENTRIES).itertuples(index=False):
        entry = feed.add_entry(order="append")
        entry.id(f"urn:mrumonitor:alert:{alert.alert_id}")
        entry.title(alert.message)
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
    change = "" if pd.isna(alert.change_ha) else f", change {alert.change_ha:+,.1f} ha"
    registration = "registration unknown" if pd.isna(alert.registration) else alert.registration
    return (f"{alert.kind.replace('_', ' ')} ({alert.confidence} confidence) in {alert.period}: site "
            f"{alert.site_id}, {alert.area_ha:,.1f} ha{change}, {registration}, {alert.country}.")
