"""Who may see what on the dashboard: roles, the login page and the guard in front of every route.

Two roles, from ``[dashboard.auth.users.<name>]`` of the configuration:

- ``regional`` (the KP regional technical team) sees every layer of every country;
- ``agency`` (a national mining agency) sees its own country's site-level layers, and only the aggregates
  (`AGGREGATE_LAYERS`) for the other countries and the region.

The rules are enforced on the server: every data callback asks `current_access()` and every download or
overlay route checks it (`Access.require_sites`), so hiding something in the layout is never the only
barrier. With ``auth.enabled = false`` (the demo) there is no login and everyone is ``regional``.

With auth on, `install_access` adds Flask-Login sessions signed with the secret key read from the
environment variable ``auth.secret_key_env``, a server-rendered ``/login`` form (styled by the vendored
``login.css``, no CDN), ``/logout``, and a guard: a page asked for without a session redirects to the login
page; a data request (Dash's JSON endpoints, downloads, overlays) gets 401. Session cookies are HttpOnly and
SameSite=Lax, so another site cannot post a callback or download with them; the login form also carries a
one-time token against login forgery.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import dash
import flask
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from markupsafe import escape
from werkzeug.security import check_password_hash, generate_password_hash

from mrumonitor.config import DashboardAuth, Settings
from mrumonitor.errors import AccessDenied, ConfigError

#: Layers that hold no site-level detail: tables and lines summed per country, corridor or year.
#: Every other layer of a run (sites, footprints, licences, quarantines, activity rasters...) is site-level.
AGGREGATE_LAYERS = frozenset({"registration_summary", "border_corridors", "corridor_periods", "capacity",
                              "kp_anomalies"})

#: The site-level layers every run has; activity rasters (``activity_<period>``, ``activity_<area>_<period>``)
#: are site-level too. `is_site_level` is the rule, this list is for people.
SITE_LEVEL_LAYERS = frozenset({"sites", "site_periods", "site_registration", "site_country_areas", "concessions",
                               "quarantine", "activity_quarantine"})

#: Paths anyone may ask for: the login page and its stylesheet.
PUBLIC_PATHS = frozenset({"/login", "/logout", "/login.css"})

#: Path prefixes of data requests (Dash's own endpoints all start with "/_"), refused with 401 (not redirected)
#: when there is no session; as is any request but a GET.
DATA_PREFIXES = ("/_", "/assets/", "/download/", "/overlay/", "/reference/", "/dossier/")

_STYLESHEET = Path(__file__).with_name("login.css")
_CSRF_KEY = "login_csrf"
_SEPARATORS = re.compile(r"[;,\s]+")


def is_site_level(layer_name: str) -> bool:
    """Whether `layer_name` holds site-level detail (everything but the `AGGREGATE_LAYERS`)."""
    return layer_name not in AGGREGATE_LAYERS


@dataclass(frozen=True)
class Access:
    """What the user of a request may see.

    Attributes
    ----------
    user : str or None
        The login name; None when auth is off.
    role : str
        "regional" or "agency".
    country : str or None
        ISO3 of an agency's country; None for regional users.
    """

    user: str | None
    role: str
    country: str | None

    @property
    def regional(self) -> bool:
        """Whether the user sees every country's site-level layers."""
        return self.role == "regional"

    def sees_sites(self, country: str | Iterable[str] | None) -> bool:
        """Whether the user may see site-level data of `country`.

        `country` is an ISO3 code, several codes (a list, or text separated by ``;`` or ``,`` as in the
        ``countries`` column of a transboundary site), or None for the whole region. An agency sees a site
        whose countries include its own, and never the region as a whole.
        """
        return self.regional or self.country in _countries(country)

    def require_sites(self, country: str | Iterable[str] | None) -> None:
        """Raise AccessDenied unless the user may see site-level data of `country` (see `sees_sites`)."""
        if not self.sees_sites(country):
            asked = ", ".join(sorted(_countries(country))) or "the whole region"
            raise AccessDenied(f"user {self.user!r} ({self.country} agency) may see site-level data of "
                               f"{self.country} only, not of {asked}; choose {self.country}, or ask the "
                               "regional team for an aggregate.")


#: The access of everyone when auth is off, and of code running outside a request (tests, scripts).
REGIONAL = Access(None, "regional", None)


def _countries(country: str | Iterable[str] | None) -> set[str]:
    if country is None:
        return set()
    if isinstance(country, str):
        return {part.upper() for part in _SEPARATORS.split(country) if part}
    return {part for item in country for part in _countries(item)}


class _User(UserMixin):
    def __init__(self, name: str, access: Access):
        self.id = name
        self.access = access


def _user(auth: DashboardAuth, name: str | None) -> _User | None:
    user = auth.users.get(name) if name else None
    return _User(name, Access(name, user.role, user.country)) if user else None


def current_access() -> Access:
    """The access of the user of the current request.

    Regional when auth is off, and outside a request (callbacks called as plain functions). With auth on,
    a request without a session never reaches a route (the guard answers it), so this raises AccessDenied
    only if a route is reached some other way.
    """
    if not flask.has_request_context() or "mrumonitor_auth" not in flask.current_app.extensions:
        return REGIONAL
    if not current_user.is_authenticated:
        raise AccessDenied("log in first: this dashboard needs a user name and password.")
    return current_user.access


def hash_password(password: str) -> str:
    """A werkzeug hash of `password` for ``password_hash`` in the configuration."""
    return generate_password_hash(password)


def install_access(app: dash.Dash, settings: Settings) -> None:
    """Add login, logout and the guard to `app` when ``[dashboard.auth] enabled``; nothing otherwise.

    Raises
    ------
    ConfigError
        When auth is on and the environment variable named by ``secret_key_env`` is unset or empty.
    """
    auth = settings.dashboard.auth
    if not auth.enabled:
        return
    server = app.server
    secret = os.environ.get(auth.secret_key_env, "")
    if not secret:
        raise ConfigError(f"[dashboard.auth] is enabled but the environment variable {auth.secret_key_env} "
                          "(secret_key_env) is not set; set it to a long random text, e.g. "
                          f"`export {auth.secret_key_env}=$(python -c 'import secrets; print(secrets.token_hex(32))')`")
    server.config.update(SECRET_KEY=secret, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax")
    server.extensions["mrumonitor_auth"] = auth
    manager = LoginManager(server)
    manager.user_loader(lambda name: _user(auth, name))
    # first of all hooks: Dash's own (server set-up, the pages router) may render layouts, which need a user
    server.before_request_funcs.setdefault(None, []).insert(0, _guard)
    server.add_url_rule("/login", "login", lambda: _login(auth), methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", _logout, methods=["GET", "POST"])
    server.add_url_rule("/login.css", "login_css", lambda: flask.send_file(_STYLESHEET, mimetype="text/css"))


def _guard():
    """Answer a request without a session: data requests get 401, pages (a GET accepting HTML) a redirect to
    the login page."""
    path = flask.request.path
    if path in PUBLIC_PATHS and flask.request.endpoint:
        # answered here, before Dash's own hooks: its first-request set-up renders the layout, which needs a user
        return flask.current_app.view_functions[flask.request.endpoint](**(flask.request.view_args or {}))
    if current_user.is_authenticated:
        return None
    accepts = flask.request.accept_mimetypes  # none stated: anything, HTML included
    if path.startswith(DATA_PREFIXES) or flask.request.method != "GET" or (accepts and not accepts.accept_html):
        return flask.Response("Log in first: this request needs a dashboard session.\n", 401,
                              mimetype="text/plain")
    return flask.redirect("/login?" + urlencode({"next": flask.request.full_path.rstrip("?")}))


#: A password hash to check against when the user name is unknown, so both cases take the same time.
_NOBODY_HASH = generate_password_hash(secrets.token_hex(16))


def _login(auth: DashboardAuth):
    """The login form (GET) and its check (POST)."""
    next_page = _local_path(flask.request.values.get("next", "/"))
    message = ""
    if flask.request.method == "POST":
        form = flask.request.form
        name, password = form.get("username", ""), form.get("password", "")
        expected = flask.session.get(_CSRF_KEY)
        user = auth.users.get(name)
        ok_password = check_password_hash(user.password_hash if user else _NOBODY_HASH, password)
        if not expected or not hmac.compare_digest(expected.encode(), form.get("csrf", "").encode()):
            message = "The form expired; please log in again."
        elif user and ok_password:
            flask.session.pop(_CSRF_KEY)
            login_user(_user(auth, name))
            return flask.redirect(next_page)
        else:
            message = "Unknown user name or wrong password."
    # one token per session until a login succeeds: a second tab (or the browser's favicon request being
    # redirected here) must not invalidate the form already shown
    token = flask.session.setdefault(_CSRF_KEY, secrets.token_urlsafe(24))
    status = 401 if message else 200
    return flask.Response(_LOGIN_PAGE.format(next=escape(next_page), csrf=token,
                                             message=f'<p class="error">{escape(message)}</p>' if message else ""),
                          status, mimetype="text/html")


def _logout():
    logout_user()
    return flask.redirect("/login")


def _local_path(target: str) -> str:
    """`target` when it is a path on this site, "/" otherwise (no redirect to another site after login)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and ":" not in target:
        return target
    return "/"


_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in — MRU mining monitor</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/login.css"></head>
<body><main class="login">
<h1>MRU mining monitor</h1>
<p>Kimberley Process Regional Approach — Mano River Union. Log in with the user name and password given by
the regional team.</p>
{message}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="next" value="{next}">
<label for="username">User name</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="login-button" type="submit">Log in</button>
</form></main></body></html>
"""
