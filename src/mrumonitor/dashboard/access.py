"""Who may see what on the dashboard: roles, the login page and the guard in front of every route.

Two roles, from ``[dashboard.auth.users.<name>]`` of the configuration:

- ``regional`` (the KP regional technical team) sees every layer of every country;
- ``agency`` (a national mining agency) sees its own country's site-level layers, and only the aggregates
  (`AGGREGATE_LAYERS`) for the other countries and the region.

The rules are enforced on the server: every data callback asks `current_access()` and every download or
overlay route checks it (`Access.require_sites`), so hiding something in the layout is never the only
barrier. With ``auth.enabled = false`` (the demo) there is no login and everyone is ``regional``.

With auth on, `install_access` adds Flask-Login sessions signed with the secret key read from the
environment variable ``auth.secret_key_env`` (refused when short or guessable, see `check_secret`), a
server-rendered ``/login`` form (styled by the vendored ``login.css``, no CDN), ``/logout``, and a guard: a
page asked for without a session redirects to the login page; a data request (Dash's JSON endpoints,
downloads, overlays) gets 401. Session cookies are HttpOnly and SameSite=Lax (and Secure with
``[dashboard] https``), so another site cannot post a callback or download with them. Both forms carry a
per-session token against forgery (logging out is a POST with it). Each login is recorded on the server
(`sessions.SessionRecord`): logging out ends it for every copy of the cookie. Failed logins are counted per
client address: beyond ``[dashboard] login_attempts`` the login answers 429, whatever the password.

GIS clients of the OGC API (``/ogcapi``, `API_PREFIX`) cannot fill in a form: there a GET may carry HTTP Basic
credentials of the same users instead of a session (checked like the form, counted by the same throttle,
`_BasicLogins`), and a request without either gets 401 with ``WWW-Authenticate: Basic`` and an OGC API
exception (JSON).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import dash
import flask
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from limits import parse_many
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from markupsafe import escape
from werkzeug.security import check_password_hash, generate_password_hash

from mrumonitor.config import DashboardAuth, DashboardSettings, Settings
from mrumonitor.dashboard.language import ENDPOINT as LANGUAGE_ENDPOINT
from mrumonitor.dashboard.language import switch_links
from mrumonitor.dashboard.redirects import local_path
from mrumonitor.dashboard.sessions import SESSIONS_FILE, SessionRecord
from mrumonitor.errors import AccessDenied, ConfigError
from mrumonitor.i18n import N_, _, current_language

#: Layers that hold no site-level detail: tables and lines summed per country, corridor or year.
#: Every other layer of a run (sites, footprints, licences, quarantines, activity rasters...) is site-level.
AGGREGATE_LAYERS = frozenset({"registration_summary", "border_corridors", "corridor_periods", "capacity",
                              "capacity_parameters", "capacity_stock", "licence_snapshots",
                              "kp_anomalies", "verification_estimates", "threshold_report"})

#: The site-level layers every run has; activity rasters (``activity_<period>``, ``activity_<area>_<period>``)
#: are site-level too. `is_site_level` is the rule, this list is for people.
SITE_LEVEL_LAYERS = frozenset({"sites", "site_periods", "site_registration", "site_country_areas", "concessions",
                               "quarantine", "activity_quarantine", "verification_visits", "verification_feedback"})

#: The dashboard's name, on every page and the login form.
APP_NAME = N_("MRU mining monitor")

#: Paths anyone may ask for: the login page and its stylesheet.
PUBLIC_PATHS = frozenset({"/login", "/logout", "/login.css"})
#: Routes anyone may ask for, by endpoint: the language switch (the login page has it), the subscriptions' feeds
#: (`feeds`). A feed reader cannot log in: the token in the address is the credential (like a private calendar
#: address), checked by the route.
PUBLIC_ENDPOINTS = frozenset({"feeds", "feeds_unknown", LANGUAGE_ENDPOINT})

#: Path prefix of the OGC API - Features (`ogcapi`). GIS clients cannot fill in the login form: there a GET may
#: carry HTTP Basic credentials instead of a session (`_BasicLogins`), and a refusal is an OGC API exception.
API_PREFIX = "/ogcapi"

#: Path prefixes of data requests (Dash's own endpoints all start with "/_"), refused with 401 (not redirected)
#: when there is no session; as is any request but a GET.
DATA_PREFIXES = ("/_", "/assets/", "/download/", "/overlay/", "/reference/", "/dossier/", "/tiles/", API_PREFIX)

#: How long HTTP Basic credentials that passed are trusted without hashing the password again, in seconds: a
#: GIS client sends them with every page it asks for, and a password check costs about 0.2 s of CPU.
BASIC_TRUST_S = 300.0
#: The realm GIS clients are asked to log in to.
API_REALM = "mrumonitor"

#: A secret key shorter than this many characters is refused.
MIN_SECRET_LENGTH = 32
#: ... and one with fewer different characters ("aaaa...", "changemechangeme...").
MIN_SECRET_CHARACTERS = 8
#: ... and one holding any of these words (examples and defaults people copy).
WEAK_SECRET_WORDS = ("changeme", "change-me", "change_me", "secret", "password", "default", "example", "mrumonitor",
                     "dashboard", "12345", "qwerty", "letmein", "dev-key", "devkey", "testkey")

log = logging.getLogger(__name__)

_STYLESHEET = Path(__file__).with_name("login.css")
_CSRF_KEY = "login_csrf"
_SESSION_ID = "sid"
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
            asked = ", ".join(sorted(_countries(country))) or _("the whole region")
            raise AccessDenied(_("user %(user)s (%(country)s agency) may see site-level data of %(country)s only, "
                                 "not of %(asked)s; choose %(country)s, or ask the regional team for an aggregate.",
                                 user=repr(self.user), country=self.country, asked=asked))


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


def _session_user(auth: DashboardAuth, record: SessionRecord, name: str | None) -> _User | None:
    """The user `name` of the session cookie, if the cookie's login is still recorded on the server."""
    return _user(auth, name) if record.holds(flask.session.get(_SESSION_ID), name) else None


def current_access() -> Access:
    """The access of the user of the current request.

    Regional when auth is off, and outside a request (callbacks called as plain functions). With auth on,
    a request without a session never reaches a route (the guard answers it), so this raises AccessDenied
    only if a route is reached some other way.
    """
    if not flask.has_request_context() or "mrumonitor_auth" not in flask.current_app.extensions:
        return REGIONAL
    if not current_user.is_authenticated:
        raise AccessDenied(_("log in first: this dashboard needs a user name and password."))
    return current_user.access


def hash_password(password: str) -> str:
    """A werkzeug hash of `password` for ``password_hash`` in the configuration."""
    return generate_password_hash(password)


def install_access(app: dash.Dash, settings: Settings) -> None:
    """Add login, logout and the guard to `app` when ``[dashboard.auth] enabled``; nothing otherwise.

    Raises
    ------
    ConfigError
        When auth is on and the environment variable named by ``secret_key_env`` is unset, short or guessable
        (see `check_secret`), or the work folder cannot hold the record of logins.
    """
    auth = settings.dashboard.auth
    if not auth.enabled:
        return
    server = app.server
    secret = os.environ.get(auth.secret_key_env, "")
    check_secret(secret, auth.secret_key_env)
    secure = settings.dashboard.https
    server.config.update(SECRET_KEY=secret, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_HTTPONLY=True,
                         REMEMBER_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_SECURE=secure)
    server.extensions["mrumonitor_auth"] = auth
    record = SessionRecord(settings.paths.work / SESSIONS_FILE, settings.dashboard.session_hours * 3600)
    throttle = _LoginThrottle(settings.dashboard)
    manager = LoginManager(server)
    manager.user_loader(lambda name: _session_user(auth, record, name))
    manager.request_loader(_BasicLogins(auth, throttle).user)
    # first of all hooks: Dash's own (server set-up, the pages router) may render layouts, which need a user
    server.before_request_funcs.setdefault(None, []).insert(0, _guard)
    server.add_url_rule("/login", "login", lambda: _login(auth, record, throttle), methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", lambda: _logout(record), methods=["GET", "POST"])
    server.add_url_rule("/login.css", "login_css", lambda: flask.send_file(_STYLESHEET, mimetype="text/css"))


def check_secret(secret: str, variable: str) -> None:
    """Refuse a session key that is missing, shorter than `MIN_SECRET_LENGTH`, made of fewer than
    `MIN_SECRET_CHARACTERS` different characters or holding a word of `WEAK_SECRET_WORDS`: whoever guesses the
    key can sign a session cookie of any user.

    Raises
    ------
    ConfigError
        Saying what is wrong and how to make a good key.
    """
    make = (f"set it to a long random text, e.g. `export {variable}=$(python -c 'import secrets; "
            "print(secrets.token_hex(32))')`, and keep it out of configuration files")
    if not secret:
        raise ConfigError(f"[dashboard.auth] is enabled but the environment variable {variable} (secret_key_env) "
                          f"is not set; {make}.")
    weak = [word for word in WEAK_SECRET_WORDS if word in secret.lower()]
    problem = (f"is {len(secret)} characters long, fewer than {MIN_SECRET_LENGTH}" if len(secret) < MIN_SECRET_LENGTH
               else f"holds the guessable word {weak[0]!r}" if weak
               else f"uses only {len(set(secret))} different characters" if len(set(secret)) < MIN_SECRET_CHARACTERS
               else None)
    if problem:
        raise ConfigError(f"the session key in {variable} {problem}: anyone who guesses it can forge a login. "
                          f"The dashboard does not start with it; {make}.")


class _LoginThrottle:
    """Failed logins per client address, in a moving window (``[dashboard] login_attempts``)."""

    def __init__(self, dashboard: DashboardSettings):
        self.limits = parse_many(dashboard.login_attempts)
        self.text = dashboard.login_attempts
        try:
            self.counter = MovingWindowRateLimiter(storage_from_string(dashboard.login_attempts_storage))
        except ConfigurationError as exc:
            raise ConfigError(f"[dashboard] login_attempts_storage = {dashboard.login_attempts_storage!r} cannot "
                              f"be used ({exc}); use \"memory://\" or a redis:// address.") from None

    def allows(self, address: str) -> bool:
        """Whether `address` may try to log in now."""
        return all(self.counter.test(limit, address) for limit in self.limits)

    def failed(self, address: str) -> None:
        """Count a failed login from `address`."""
        for limit in self.limits:
            self.counter.hit(limit, address)


def _guard():
    """Answer a request without a session: data requests get 401, pages (a GET accepting HTML) a redirect to
    the login page."""
    path = flask.request.path
    if (path in PUBLIC_PATHS and flask.request.endpoint) or flask.request.endpoint in PUBLIC_ENDPOINTS:
        # answered here, before Dash's own hooks: its first-request set-up renders the layout, which needs a user
        return flask.current_app.view_functions[flask.request.endpoint](**(flask.request.view_args or {}))
    if current_user.is_authenticated:
        return None
    if path.startswith(API_PREFIX):
        return _api_refusal()
    accepts = flask.request.accept_mimetypes  # none stated: anything, HTML included
    if path.startswith(DATA_PREFIXES) or flask.request.method != "GET" or (accepts and not accepts.accept_html):
        return flask.Response(_("Log in first: this request needs a dashboard session.") + "\n", 401,
                              mimetype="text/plain")
    return flask.redirect("/login?" + urlencode({"next": flask.request.full_path.rstrip("?")}))


#: A password hash to check against when the user name is unknown, so both cases take the same time.
_NOBODY_HASH = generate_password_hash(secrets.token_hex(16))


class _BasicLogins:
    """HTTP Basic logins of GIS clients: only on the API's paths and only for a GET (or HEAD), checked against the
    same password hashes and counted by the same failed-login throttle as the login form. Credentials that passed
    are trusted for `BASIC_TRUST_S` without hashing again; they are kept only as an HMAC under a key made at start.
    No session is opened."""

    def __init__(self, auth: DashboardAuth, throttle: _LoginThrottle):
        self.auth, self.throttle = auth, throttle
        self.key = secrets.token_bytes(32)
        self.passed: dict[bytes, float] = {}
        self.lock = threading.Lock()

    def user(self, request: flask.Request) -> _User | None:
        """The user of the request's Basic credentials (Flask-Login's request loader); None otherwise."""
        given = request.authorization
        if (not request.path.startswith(API_PREFIX) or request.method not in ("GET", "HEAD") or given is None
                or given.type != "basic"):
            return None
        name, password = given.username or "", given.password or ""
        digest = hmac.digest(self.key, f"{name}\0{password}".encode(), "sha256")
        now = time.monotonic()
        with self.lock:
            if now - self.passed.get(digest, -BASIC_TRUST_S) < BASIC_TRUST_S:
                return _user(self.auth, name)
        address = request.remote_addr or "unknown"
        if not self.throttle.allows(address):
            flask.g.login_throttled = True
            return None
        known = self.auth.users.get(name)
        if check_password_hash(known.password_hash if known else _NOBODY_HASH, password) and known:
            with self.lock:
                self.passed = {key: when for key, when in self.passed.items() if now - when < BASIC_TRUST_S}
                self.passed[digest] = now
            return _user(self.auth, name)
        log.warning("API login refused for %r from %s", name[:40], address)
        self.throttle.failed(address)
        return None


def _api_refusal() -> flask.Response:
    """The answer to an API request without a session or valid Basic credentials: 401 asking for them (429 beyond
    the failed-login limit), as an OGC API exception."""
    if flask.g.get("login_throttled"):
        status, code, headers = 429, "TooManyRequests", {"Retry-After": "60"}
        text = "Too many failed logins from your address; wait a minute, then try again."
    else:
        status, code, headers = 401, "Unauthorized", {"WWW-Authenticate": f'Basic realm="{API_REALM}"'}
        text = ("Log in first: send your dashboard user name and password with HTTP Basic authentication (or "
                "use a dashboard session).")
    return flask.Response(json.dumps({"code": code, "description": text}), status, mimetype="application/json",
                          headers=headers)


def _login(auth: DashboardAuth, record: SessionRecord, throttle: _LoginThrottle):
    """The login form (GET) and its check (POST)."""
    next_page = local_path(flask.request.values.get("next", "/"))
    message, status = "", 200
    if flask.request.method == "POST":
        address = flask.request.remote_addr or "unknown"
        if not throttle.allows(address):
            log.warning("login refused: too many failed logins from %s", address)
            text = _("Too many failed logins from your address (the limit is %(limit)s). Wait a minute, then log "
                     "in again.", limit=throttle.text)
            return flask.Response(text + "\n", 429, mimetype="text/plain", headers={"Retry-After": "60"})
        form = flask.request.form
        name, password = form.get("username", ""), form.get("password", "")
        user = auth.users.get(name)
        ok_password = check_password_hash(user.password_hash if user else _NOBODY_HASH, password)
        if not _token_matches(form.get("csrf", "")):
            message = _("The form expired; please log in again.")
        elif user and ok_password:
            flask.session.clear()  # nothing of the anonymous session carries over into the login
            flask.session[_SESSION_ID] = record.open(name)
            flask.session[_CSRF_KEY] = secrets.token_urlsafe(24)
            login_user(_user(auth, name))
            return flask.redirect(next_page)
        else:
            message = _("Unknown user name or wrong password.")
        throttle.failed(address)
        status = 401
    return flask.Response(_login_page(message, next_page), status, mimetype="text/html")


def csrf_token() -> str:
    """The form token of the current session (made on first use): one per session, so a second tab (or the
    browser's favicon request redirected to the login page) does not invalidate a form already shown."""
    return flask.session.setdefault(_CSRF_KEY, secrets.token_urlsafe(24))


def _token_matches(sent: str) -> bool:
    expected = flask.session.get(_CSRF_KEY)
    return bool(expected) and hmac.compare_digest(expected.encode(), sent.encode())


def _logout(record: SessionRecord):
    """Log out by POST with the session's form token; a GET shows the button that does it."""
    if flask.request.method == "POST":
        if not _token_matches(flask.request.form.get("csrf", "")):
            return flask.Response(_("This log-out form expired or did not come from this dashboard; open /logout "
                                    "and press the button again.") + "\n", 400, mimetype="text/plain")
        record.close(flask.session.get(_SESSION_ID))
        logout_user()
        flask.session.clear()
        return flask.redirect("/login")
    return flask.Response(_logout_page(), 200, mimetype="text/html")


def _page(title: str, body: str) -> str:
    """A login or logout page in the request's language: the project's name over `body` and the language switch,
    styled by /login.css (no script)."""
    switch = " | ".join(
        f'<a href="{escape(href)}" lang="{code}" id="language-{code}"'
        + (' class="current" aria-current="true">' if current else ">") + f"{escape(name)}</a>"
        for code, name, href, current in switch_links(flask.request.full_path.rstrip("?")))
    return f"""<!doctype html>
<html lang="{current_language()}"><head><meta charset="utf-8"><title>{escape(title)} — {escape(_(APP_NAME))}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/login.css"></head>
<body><main class="login">
<nav class="language-switch">{switch}</nav>
<h1>{escape(_(APP_NAME))}</h1>
{body}
</main></body></html>
"""


def _login_page(message: str, next_page: str) -> str:
    error = f'<p class="error">{escape(message)}</p>' if message else ""
    about = _("Kimberley Process Regional Approach — Mano River Union. Log in with the user name and password "
              "given by the regional team.")
    # (messages outside the f-string: Babel's extractor does not look inside one)
    user, password, log_in = escape(_("User name")), escape(_("Password")), escape(_("Log in"))
    return _page(_("Log in"), f"""<p>{escape(about)}</p>
{error}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{csrf_token()}"><input type="hidden" name="next" value="{escape(next_page)}">
<label for="username">{user}</label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">{password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="login-button" type="submit">{log_in}</button>
</form>""")


def _logout_page() -> str:
    log_out = _("Log out")
    return _page(log_out, f"""<form method="post" action="/logout">
<input type="hidden" name="csrf" value="{csrf_token()}">
<button id="logout-button" type="submit">{escape(log_out)}</button>
</form>""")
