"""A subscription's feeds on the dashboard: ``GET /feeds/<token>.atom`` and ``GET /feeds/<token>.geojson``.

A feed reader or a GIS cannot log in, so these addresses need no session: the subscription's random token
(`Subscriptions.by_token`, 32 bytes) is the credential, like a private calendar address. An unknown token, a
removed subscription or one whose user is no longer configured all answer the same plain 404, so the answer
tells nothing about which tokens exist. The feed lists the subscription's alerts in the dashboard's run
(usually the latest), limited to what its user may see (`alerts.select`). Tokens never reach the server's log:
a failure is logged with the subscription's number instead of the address. The Atom feed speaks the
subscriber's language (the one its e-mail digests use: `i18n.preferences.saved_language`), whoever polls it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import dash
import flask
import flask_babel

from mrumonitor.alerts.feeds import FEED_TYPES, FEEDS_PREFIX, alerts_geojson, atom_feed
from mrumonitor.alerts.select import feed_alerts
from mrumonitor.alerts.subscriptions import Subscriptions
from mrumonitor.config import Settings
from mrumonitor.dashboard import context
from mrumonitor.dashboard.answers import STATUS, plain
from mrumonitor.errors import MruError, SubscriptionError
from mrumonitor.i18n import _, use_language
from mrumonitor.i18n.preferences import saved_language
from mrumonitor.store.runs import resolve_run

log = logging.getLogger(__name__)

#: Feed readers poll; a feed changes only when a run is published.
CACHE_CONTROL = "private, max-age=300"


def install_feed_routes(app: dash.Dash, settings: Settings) -> None:
    """Register the feed routes on `app`'s Flask server (see the module docstring); their endpoints are
    `access.PUBLIC_ENDPOINTS` (no login asked)."""
    server = app.server
    server.add_url_rule(f"{FEEDS_PREFIX}<filename>", "feeds", lambda filename: _feed(settings, filename))
    # any other path below it: the same 404, never the dashboard's page (which would need a login)
    server.add_url_rule(f"{FEEDS_PREFIX}<path:rest>", "feeds_unknown", lambda rest: plain(_("no such feed"), 404))


def _feed(settings: Settings, filename: str) -> flask.Response:
    token, dot, suffix = filename.rpartition(".")
    media = FEED_TYPES.get(f"{dot}{suffix}")
    sub = _subscription(settings, token) if media else None
    if sub is None:
        return plain(_("no such feed"), 404)
    try:
        run_dir = resolve_run(settings.paths.store, flask.current_app.config[context.RUN_KEY])
        alerts = feed_alerts(settings, sub, run_dir)
        url = settings.alerts.dashboard_url
        if suffix == "atom":
            with _language_of(settings, sub.user):
                body = atom_feed(sub, alerts, run_dir.name, url)
        else:
            body = json.dumps(alerts_geojson(alerts, url), ensure_ascii=False).encode("utf-8")
    except SubscriptionError:
        return plain(_("no such feed"), 404)  # its user is gone: the feed went with them
    except MruError as exc:
        log.warning("the feed of subscription %s cannot be made: %s", sub.id, exc)
        return plain(str(exc), next(STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS))
    except Exception:  # a bug: logged here by the subscription's number, as Flask would log it by its address
        log.exception("the feed of subscription %s failed", sub.id)
        return plain(_("The feed could not be made: the details are in the server's log; please tell the regional "
                       "team."), 500)
    return flask.Response(body, 200, mimetype=media, headers={"Cache-Control": CACHE_CONTROL})


@contextmanager
def _language_of(settings: Settings, user: str) -> Iterator[None]:
    """Words in `user`'s saved language inside the block (English if none), not the feed reader's."""
    code = saved_language(settings.paths.store, user)
    with use_language(code) as language, flask_babel.force_locale(language):
        yield


def _subscription(settings: Settings, token: str):
    """The active subscription of `token`; None when there is none, or no subscriptions file yet."""
    if not settings.subscriptions.is_file():
        return None
    return Subscriptions(settings.subscriptions).by_token(token)
