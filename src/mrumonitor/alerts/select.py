"""Which alerts of a run a subscription gets: its area, its kinds and confidence, and its user's role.

A subscription gets an alert of a run when all of these hold (`alerts_for`):

- the alert is ``announce``-d (new when first published: never the history a first run finds);
- it was first published by a run later than the subscription's ``since_run`` (run ids start with their UTC
  start time, so later ids sort after earlier ones);
- its kind is one of the subscription's kinds, its confidence at least the subscription's minimum
  (CONFIDENCE_LEVELS, best first: minimum "medium" keeps "high" and "medium");
- its point lies in the watched area (resolved on that run for a named area, `subscription_area`);
- the subscription's user may see its site (`subscriber_country`: an agency user only its own country's alerts,
  whatever area it watches);
- it is not among the alerts already delivered (`skip`).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow
import shapely

from mrumonitor.alerts.subscriptions import STORED_AREA_KINDS, Subscription
from mrumonitor.areas.resolve import WatchedArea, named_area
from mrumonitor.config import Settings
from mrumonitor.crs import WGS84
from mrumonitor.errors import StoreError, SubscriptionError
from mrumonitor.frames import empty_layer
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import ALERT_COLUMNS, CONFIDENCE_LEVELS

#: The layer of a run holding its alerts.
ALERTS_LAYER = "alerts"


def subscriber_country(settings: Settings, user: str) -> str | None:
    """The one country whose alerts `user` may receive (an agency user's ISO3), None for every country (a
    regional user, or anyone when logins are off).

    Raises
    ------
    SubscriptionError
        Logins are on and `user` is not (or no longer) a configured dashboard user.
    """
    auth = settings.dashboard.auth
    if not auth.enabled:
        return None
    account = auth.users.get(user)
    if account is None:
        raise SubscriptionError(f"user {user!r} is not a dashboard user ([dashboard.auth.users]); its "
                                "subscriptions get nothing until the user is configured again, or they are removed "
                                "(`mrumonitor alerts remove ID`).")
    return account.country if account.role == "agency" else None


def subscription_area(sub: Subscription, run_dir: Path) -> WatchedArea:
    """The area `sub` watches: its stored geometry (drawn or uploaded), or its named area on run `run_dir`.

    Raises
    ------
    AreaError
        The run does not hold the named area (e.g. a licence no longer in the cadastre).
    """
    if sub.area_kind in STORED_AREA_KINDS:
        return WatchedArea(sub.area_kind, sub.area_ref, sub.area_label, shapely.from_geojson(sub.area_geojson))
    return named_area(run_dir, sub.area_kind, sub.area_ref)


def run_alerts(run_dir: Path) -> gpd.GeoDataFrame:
    """The `alerts` layer of run `run_dir` in WGS84 (an empty layer when the run has none: an older run).

    Raises
    ------
    StoreError
        The layer is there but cannot be read.
    """
    folder = RunFolder(run_dir)
    if not folder.has_layers(ALERTS_LAYER):
        return empty_layer(ALERT_COLUMNS, WGS84)
    path = folder.layer(ALERTS_LAYER)
    try:
        alerts = gpd.read_parquet(path)
    except (OSError, ValueError, pyarrow.ArrowException) as exc:
        raise StoreError(f"{path}: the run's alerts cannot be read ({exc}); the run is damaged: publish a new one "
                         "with `mrumonitor run`.") from None
    if "announce" not in alerts:  # a run of a version before the column: its alerts were all announced
        alerts["announce"] = True
    return alerts.to_crs(WGS84)


def alerts_for(sub: Subscription, alerts: gpd.GeoDataFrame, area: WatchedArea, country: str | None,
               skip: Collection[str] = ()) -> gpd.GeoDataFrame:
    """The alerts of `alerts` (a run's layer, WGS84) that `sub` gets, by the rules of the module docstring, in
    the layer's order. `country`: `subscriber_country` of the subscription's user; `skip`: alert ids already
    delivered."""
    if alerts.empty:
        return alerts
    allowed = CONFIDENCE_LEVELS[:CONFIDENCE_LEVELS.index(sub.min_confidence) + 1]
    keep = (alerts["announce"].astype("boolean").fillna(False).to_numpy(dtype=bool)
            & (alerts["first_run"].fillna("") > sub.since_run).to_numpy(dtype=bool)
            & alerts["kind"].isin(sub.kinds).to_numpy(dtype=bool)
            & alerts["confidence"].isin(allowed).to_numpy(dtype=bool)
            & ~alerts["alert_id"].isin(list(skip)).to_numpy(dtype=bool))
    if country is not None:
        keep &= (alerts["country"] == country).fillna(False).to_numpy(dtype=bool)
    keep[keep] = shapely.intersects(np.asarray(alerts.geometry.array)[keep], area.geometry)
    return alerts[keep]


def feed_alerts(settings: Settings, sub: Subscription, run_dir: Path) -> gpd.GeoDataFrame:
    """Every alert of run `run_dir` that `sub` gets, delivered or not (what its feeds list).

    Raises
    ------
    SubscriptionError
        Its user is no longer configured (`subscriber_country`).
    AreaError
        The run does not hold its named area.
    """
    country = subscriber_country(settings, sub.user)
    return alerts_for(sub, run_alerts(run_dir), subscription_area(sub, run_dir), country)
