"""The dashboard's shell: `create_app` builds the multi-page Dash app; each page lives in `pages/`.

The shell is only the frame — navigation from Dash's page registry in the order of dashboards/views.toml
(each page module registers its own path, named after its view; the shell only links them), the language
switch, the page container, and a footer with the run's caveats and the detections' CC BY 4.0 credit, all in
the user's language (`language`). On a phone the navigation folds behind a menu button (`assets/nav.js`).
Pages own their layouts and callbacks; access control and the download/overlay routes come from `access` and
`routes`, the dossier export from `dossier`. Everything is served from the app itself (scripts, styles,
images, plotly's French): no CDN, no tile server.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import brotli
import dash
import flask
from dash import dcc, html

from mrumonitor.config import Settings
from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import APP_NAME, csrf_token, current_access, install_access
from mrumonitor.dashboard.dossier import install_dossier_route
from mrumonitor.dashboard.feeds import install_feed_routes
from mrumonitor.dashboard.language import install_language, language_switch
from mrumonitor.dashboard.ogcapi import install_ogcapi
from mrumonitor.dashboard.routes import install_routes
from mrumonitor.dashboard.security import install_security
from mrumonitor.dashboard.tiles_view import install_tile_route
from mrumonitor.dashboard.views import load_views
from mrumonitor.errors import MruError
from mrumonitor.i18n import _, day, ngettext
from mrumonitor.i18n.messages import translate_text
from mrumonitor.i18n.vocabulary import word
from mrumonitor.store.runs import read_manifest, resolve_run

_HERE = Path(__file__).resolve().parent
#: Assets a page loads itself when it needs them, not Dash on every page: the vector-tile plugin, which the map
#: loads once dash-leaflet has set window.L (assets/map.js `mru.tiles.load`).
ON_DEMAND_ASSETS = r"leaflet\.vectorgrid-.*\.js$"
#: Brotli quality of the script bundles, compressed once per file (plotly.js: 4.8 MB -> 1.2 MB in 0.4 s).
BUNDLE_QUALITY = 9


def create_app(settings: Settings, run: str = "latest") -> dash.Dash:
    """The dashboard for `settings`, showing run `run` ("latest" follows new runs as they are published).

    Raises
    ------
    ConfigError
        When the views file is missing or wrong.
    StoreError
        When the store has no run `run`.
    """
    load_views(settings.dashboard.views)
    resolve_run(settings.paths.store, run)
    # Said once here rather than logged for every table of every page served: ~250 kB of log a minute under
    # load. Dash's message starts with a line break, hence the leading \s* (a filter's message must match at
    # the start).
    warnings.filterwarnings("ignore", message=r"\s*The dash_table.DataTable will be removed",
                            category=DeprecationWarning)
    app = dash.Dash("mrumonitor.dashboard", use_pages=True, pages_folder=str(_HERE / "pages"),
                    assets_folder=str(_HERE / "assets"), assets_ignore=ON_DEMAND_ASSETS, title=APP_NAME,
                    update_title=None,
                    suppress_callback_exceptions=True, serve_locally=True, compress=True)
    app.server.config[context.SETTINGS_KEY] = settings
    app.server.config[context.RUN_KEY] = run
    install_language(app, settings)
    install_access(app, settings)
    install_security(app, settings.dashboard)
    install_routes(app, settings)
    install_tile_route(app, settings)
    install_ogcapi(app, settings)
    install_dossier_route(app)
    install_feed_routes(app, settings)
    install_bundle_compression(app)
    app.layout = shell
    return app


def install_bundle_compression(app: dash.Dash) -> None:
    """Send Dash's script bundles brotli-compressed at `BUNDLE_QUALITY`, compressed once per file and kept.

    Dash's `compress=True` (flask-compress) compresses every response anew at a fast level; for the bundles,
    which never change while the server runs, a stronger level once is worth it: the first page (plotly.js
    above all) shrinks by a third. Other responses, and clients that do not accept brotli, are left to it.
    """
    compressed: dict[str, bytes] = {}
    lock = threading.Lock()

    @app.server.after_request
    def compress_bundle(response: flask.Response) -> flask.Response:
        if (not flask.request.path.startswith("/_dash-component-suites/") or response.status_code != 200
                or "br" not in flask.request.headers.get("Accept-Encoding", "")
                or "Content-Encoding" in response.headers):
            return response
        path = flask.request.path
        with lock:
            body = compressed.get(path)
        if body is None:
            body = brotli.compress(response.get_data(), quality=BUNDLE_QUALITY, lgwin=24)
            with lock:
                compressed[path] = body
        response.direct_passthrough = False
        response.set_data(body)
        response.headers["Content-Encoding"] = "br"
        response.vary.add("Accept-Encoding")
        return response


def shell() -> html.Div:
    """The frame around every page (built per page load: the run, the user and the language may have changed)."""
    return html.Div([
        html.Header(className="topbar", children=[
            html.Div(className="brand", children=[_(APP_NAME), html.Small(_("Kimberley Process Regional Approach"))]),
            html.Button(_("Menu"), id=MENU_BUTTON, className="menu-button", type="button",
                        **{"aria-expanded": "false", "aria-controls": NAVIGATION}),
            html.Nav(navigation(), id=NAVIGATION, className="main-nav"), language_switch(), _who()]),
        html.Main(dash.page_container, className="content"),
        _footer()])


#: Ids of the navigation and of the button that unfolds it on a narrow screen (`assets/nav.js`).
NAVIGATION = "main-nav"
MENU_BUTTON = "menu-button"


def navigation() -> list[dcc.Link]:
    """A link to each page of the views file with ``nav = true``, in the file's order, to the path its module
    registered (`dash.page_registry`: a page module is named after its view), titled in the user's language."""
    paths = {page["module"].rpartition(".")[2]: page["path"] for page in dash.page_registry.values()}
    return [dcc.Link(_(view.title), href=paths[name], className="nav-link")
            for name, view in context.views().items() if view.nav and name in paths]


def _who() -> html.Div:
    access = current_access()
    if access.user is None:
        return html.Div(_("regional view (no login)"), className="who")
    role = (_("regional team") if access.regional
            else _("%(country)s agency", country=word("country", access.country)))
    # a POST with the session's form token: a link (a GET) could be triggered by another site
    logout = html.Form(method="post", action="/logout", className="logout", children=[
        dcc.Input(type="hidden", name="csrf", value=csrf_token()),
        html.Button(_("log out"), type="submit", id="logout-button", className="link-button")])
    return html.Div(className="who", children=[f"{access.user} · {role} · ", logout])


def _footer() -> html.Footer:
    """The credit of the detections and the caveats of the run shown (synthetic demo data is said so), in the
    user's language."""
    credit = html.Span(translate_text(DETECTIONS_CREDIT), className="credit")
    try:
        manifest = read_manifest(resolve_run(context.settings().paths.store,
                                             dash.get_app().server.config[context.RUN_KEY]))
    except MruError as exc:
        return html.Footer(className="footer", children=[html.P(credit), html.P(str(exc))])
    caveats = [translate_text(caveat) for caveat in manifest.get("caveats", []) if caveat != DETECTIONS_CREDIT]
    return html.Footer(className="footer", children=[
        html.P([_("Run %(run)s of %(date)s.", run=manifest.get("run_id", "?"), date=day(manifest.get("created"))),
                " ", credit]),
        html.Details([html.Summary(ngettext("Caveat of this run (%(num)s)", "Caveats of this run (%(num)s)",
                                            len(caveats))),
                      html.Ul([html.Li(caveat) for caveat in caveats], className="caveats")], open=True)])
