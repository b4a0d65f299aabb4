"""The dashboard's language: which one a request is answered in, the switch that changes it, and `<html lang>`.

flask-babel's locale selector (`select_language`) decides per request: the logged-in user's saved choice
(`i18n.preferences`), else the language cookie, else the browser's Accept-Language best match among
`LANGUAGES`, else English. ``/language/<code>?next=<path>`` is the switch: it sets the cookie for a year, saves
the choice of a logged-in user (so the next browser, and the e-mail digests, speak it too) and goes back to
`next` (a path on this site only). Every page's ``<html>`` says its language, for screen readers and
translation tools.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import dash
import flask
from dash import html
from flask_babel import Babel

from mrumonitor.config import Settings
from mrumonitor.dashboard import context
from mrumonitor.dashboard.answers import plain
from mrumonitor.dashboard.redirects import local_path
from mrumonitor.i18n import DEFAULT_LANGUAGE, LANGUAGES, _, current_language
from mrumonitor.i18n.preferences import save_language, saved_language

#: The cookie holding the browser's choice, and how long it lasts (a year).
COOKIE = "mrumonitor_language"
COOKIE_SECONDS = 365 * 24 * 3600
#: The switch's route and its endpoint (public: the login page has the switch too).
ROUTE = "/language/<code>"
ENDPOINT = "language"


def install_language(app: dash.Dash, settings: Settings) -> None:
    """Answer `app`'s requests in the chosen language: flask-babel's selector, the switch's route, `<html lang>`."""
    Babel(app.server, locale_selector=select_language)
    app.server.add_url_rule(ROUTE, ENDPOINT, lambda code: switch_language(settings, code))
    index = app.interpolate_index

    def interpolate_index(**kwargs: Any) -> str:
        return index(**kwargs).replace("<html>", f'<html lang="{current_language()}">', 1)

    app.interpolate_index = interpolate_index


def select_language() -> str:
    """The language of the current request (see the module's description)."""
    user = _user()
    if user is not None:
        saved = saved_language(context.settings().paths.store, user)
        if saved:
            return saved
    cookie = flask.request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return flask.request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def switch_language(settings: Settings, code: str) -> flask.Response:
    """Choose language `code` for this browser (and the logged-in user), then go back to `next`."""
    if code not in LANGUAGES:
        return plain(f"Unknown language {code!r}: choose one of {', '.join(LANGUAGES)}.", 404)
    user = _user()
    if user is not None:
        save_language(settings.paths.store, user, code)
    response = flask.redirect(local_path(flask.request.args.get("next") or _referrer()))
    response.set_cookie(COOKIE, code, max_age=COOKIE_SECONDS, samesite="Lax", httponly=True,
                        secure=settings.dashboard.https)
    return response


def switch_links(here: str | None = None) -> list[tuple[str, str, str, bool]]:
    """Each language's code, name in its own words, switch address (back to path `here` when given) and whether
    it is the current one."""
    back = f"?{urlencode({'next': here})}" if here else ""
    current = current_language()
    return [(code, name, f"/language/{code}{back}", code == current) for code, name in LANGUAGES.items()]


def language_switch() -> html.Nav:
    """"English | Français" in the top bar, the current one marked. The shell is built on Dash's layout request,
    which does not know the page shown: `assets/nav.js` adds it to the link pressed (else the Referer serves)."""
    links: list[Any] = []
    for code, name, href, current in switch_links():
        links += [" | "] if links else []
        links.append(html.A(name, href=href, lang=code, id=f"language-{code}",
                            className="language-link current" if current else "language-link",
                            **({"aria-current": "true"} if current else {})))
    return html.Nav(links, className="language-switch", **{"aria-label": _("Language")})


def _user() -> str | None:
    """The logged-in user's name, None without logins or a session."""
    if "mrumonitor_auth" not in flask.current_app.extensions:
        return None
    from flask_login import current_user

    return current_user.id if current_user.is_authenticated else None


def _referrer() -> str:
    """The path of the page the switch was pressed on (same-origin Referer), "/" without one."""
    parts = urlsplit(flask.request.referrer or "")
    if parts.netloc and parts.netloc != flask.request.host:
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "") or "/"
