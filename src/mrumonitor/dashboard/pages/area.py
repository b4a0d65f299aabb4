"""Area statistics (`/area`): draw an area on the map or upload a file, and read what the run holds inside it.

For every period: the active mined area and its sites, the unregistered share by class, the licences in force,
the nearest borders and crossings, and a download of the sites (`mrumonitor.areas`; the same as `mrumonitor
stats --area FILE`). The area can be watched from here: its alerts come by e-mail and feed.

Every callback checks the area again on the server (a drawn shape, an upload, or the area the page holds, which
the browser sends back) and cuts the figures to the user's role: an agency user gets its own country's figures
and sites only. A bad area (empty, self-intersecting, too large, a file that is not one) is said in words, in the
request's language like the rest of the page.
"""

from __future__ import annotations

import base64
import binascii

import dash
import dash_leaflet as dl
import shapely
from dash import Input, Output, State, dcc, html

from mrumonitor.areas.files import AreaUpload, area_from_geojson, read_area_bytes
from mrumonitor.areas.resolve import WatchedArea, uploaded_area
from mrumonitor.areas.stats import AreaStatistics, area_statistics
from mrumonitor.config import Settings
from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.area_view import sites_download, statistics_section, upload_limit
from mrumonitor.dashboard.components import filter_bar, page_header, page_title
from mrumonitor.dashboard.maplayers import map_panel, register_map_callbacks
from mrumonitor.dashboard.watch_form import (
    WatchForm,
    shown_run,
    subscribe,
    subscribed_message,
    watch_fields,
    watch_states,
)
from mrumonitor.errors import AreaError, MruError
from mrumonitor.i18n import _, number

dash.register_page(__name__, path="/area", name="Area statistics", title=page_title("area"))

PREFIX = "areamap"
DRAW = "area-draw"
UPLOAD = "area-upload"
#: The area shown, as the page holds it: {"kind": "drawn"|"upload", "name": ..., "geometry": GeoJSON (WGS84)}.
SHAPE = "area-shape"
MESSAGE = "area-message"
RESULT = "area-result"
ACTIONS = "area-actions"
DOWNLOAD = "area-download"
DOWNLOAD_MESSAGE = "area-download-message"
DOWNLOAD_BUTTONS = {"geojson": "area-download-geojson", "csv": "area-download-csv"}
WATCH = "area"
WATCH_SUBMIT = "area-watch-submit"
WATCH_MESSAGE = "area-watch-message"


@context.page("area")
def layout(view, **_query):
    data = context.run_data()
    settings = context.settings()
    panel = map_panel(PREFIX, view, data)
    # the drawing tools join the map's own controls: polygons and rectangles only
    panel.children[0].children.append(dl.FeatureGroup([dl.EditControl(
        id=DRAW, position="topleft", edit={"edit": False},
        draw={"polygon": True, "rectangle": True, "polyline": False, "circle": False, "marker": False,
              "circlemarker": False})]))
    limit = upload_limit(settings)
    return html.Div([
        page_header(view, _("Draw a polygon or a rectangle on the map (tools at its top left), or upload a GeoJSON, "
                            "GeoPackage or zipped Shapefile, and read what the run holds inside the area.")),
        filter_bar(view, data),
        html.Div(className="grid-2", children=[
            panel,
            html.Div(className="card", children=[
                html.H2(_("Or upload an area")),
                dcc.Upload(id=UPLOAD, max_size=limit, multiple=False, className="upload",
                           children=html.Div([_("Drop a file here or"), " ", html.A(_("choose one"))])),
                html.P(_("GeoJSON (.geojson, .json), GeoPackage (.gpkg) or a zipped Shapefile (.zip) of up to "
                         "%(size)s MB, in any coordinate reference system it states.",
                         size=number(limit / 1024 / 1024, 1)), className="layer-note"),
                html.Div(id=MESSAGE, role="status")])]),
        dcc.Store(id=SHAPE),
        dcc.Loading(html.Div(id=RESULT)),
        html.Div(id=ACTIONS, className="card", style={"display": "none"}, children=[
            html.H2(_("Download the sites")),
            html.Button("GeoJSON", id=DOWNLOAD_BUTTONS["geojson"], className="button", n_clicks=0),
            " ", html.Button("CSV", id=DOWNLOAD_BUTTONS["csv"], className="button", n_clicks=0),
            dcc.Download(id=DOWNLOAD), html.Div(id=DOWNLOAD_MESSAGE, role="status"),
            html.H2(_("Watch this area")),
            *watch_fields(WATCH, settings, current_access()),
            html.Button(_("Watch this area"), id=WATCH_SUBMIT, className="button", n_clicks=0),
            html.Div(id=WATCH_MESSAGE, role="status")]),
    ])


register_map_callbacks(PREFIX, ("countries", "borders", "border_posts", "sites"))


# --- the area, checked on the server -----------------------------------------------------------------------

def drawn_or_uploaded(settings: Settings, trigger: str | None, drawn: dict | None, contents: str | None,
                      filename: str | None) -> tuple[AreaUpload, str] | None:
    """The area the user gave last (`trigger`: which input changed), and its kind; None when there is none.

    Raises
    ------
    AreaError, InputFileError
        The drawing or the file is no usable area (the message says why and what to do).
    """
    if trigger == UPLOAD and contents:
        return read_area_bytes(_decoded(contents, filename), filename or "upload", settings), "upload"
    if drawn and drawn.get("features"):
        return area_from_geojson(drawn, settings), "drawn"
    return None


def _decoded(contents: str, filename: str | None) -> bytes:
    """The bytes of a `dcc.Upload` content ("data:<type>;base64,<text>")."""
    try:
        return base64.b64decode(contents.partition(",")[2], validate=True)
    except (binascii.Error, ValueError):
        raise AreaError(_("%(name)s: the browser sent the file in a form that cannot be read; upload it again.",
                          name=filename or _("the upload"))) from None


def stored_area(settings: Settings, shape: dict | None) -> tuple[AreaUpload, WatchedArea]:
    """The area the page holds, checked again (the browser sends it back: it may have been changed).

    Raises
    ------
    AreaError
        There is no area yet, or it is no usable area.
    """
    if not isinstance(shape, dict) or not shape.get("geometry") or shape.get("kind") not in ("drawn", "upload"):
        raise AreaError(_("no area yet: draw one on the map or upload a file first."))
    upload = area_from_geojson(shape["geometry"], settings, name=str(shape.get("name") or _("uploaded area")))
    return upload, uploaded_area(upload, kind=shape["kind"])


def statistics(area: WatchedArea) -> AreaStatistics:
    """The statistics of `area` on the run shown, cut to the request's user's country (an agency user)."""
    return area_statistics(shown_run(), area, country=current_access().country)


# --- callbacks ---------------------------------------------------------------------------------------------

@dash.callback(Output(SHAPE, "data"), Output(MESSAGE, "children"), Output(RESULT, "children"),
               Output(ACTIONS, "style"), Input(DRAW, "geojson"), Input(UPLOAD, "contents"), State(UPLOAD, "filename"),
               prevent_initial_call=True)
def show_area(drawn, contents, filename):
    """Check the area drawn or uploaded and show its statistics; a bad area is said in words."""
    hidden = {"display": "none"}
    settings = context.settings()
    try:
        given = drawn_or_uploaded(settings, dash.ctx.triggered_id, drawn, contents, filename)
        if given is None:
            return None, _("Draw a polygon or a rectangle on the map, or upload a file."), [], hidden
        upload, kind = given
        area = uploaded_area(upload, kind=kind)
        stats = statistics(area)
    except MruError as exc:
        return None, html.P(str(exc), className="error"), [], hidden
    shape = {"kind": kind, "name": upload.name, "geometry": shapely.geometry.mapping(area.geometry)}
    return shape, "", statistics_section(upload, stats), {}


@dash.callback(Output(DOWNLOAD, "data"), Output(DOWNLOAD_MESSAGE, "children"),
               *[Input(button, "n_clicks") for button in DOWNLOAD_BUTTONS.values()], State(SHAPE, "data"),
               prevent_initial_call=True)
def download_sites(geojson_clicks, csv_clicks, shape):
    """The sites of the area the page holds (an agency user's country only), as GeoJSON or CSV."""
    fmt = next((name for name, button in DOWNLOAD_BUTTONS.items() if button == dash.ctx.triggered_id), None)
    if fmt is None or not (geojson_clicks or csv_clicks):
        return dash.no_update, dash.no_update
    try:
        _upload, area = stored_area(context.settings(), shape)
        return sites_download(statistics(area), fmt), dash.no_update
    except MruError as exc:
        return dash.no_update, html.P(_("No download: %(why)s", why=exc), className="error")


@dash.callback(Output(WATCH_MESSAGE, "children"), Input(WATCH_SUBMIT, "n_clicks"),
               State(SHAPE, "data"), *watch_states(WATCH), prevent_initial_call=True)
def watch_area(n_clicks, shape, *form):
    """Subscribe the user to the alerts of the area the page holds (checked again here), from the run shown."""
    if not n_clicks:
        return dash.no_update
    settings = context.settings()
    try:
        _upload, area = stored_area(settings, shape)
        subscription = subscribe(settings, current_access(), area, WatchForm(*form), shown_run().name)
    except MruError as exc:
        return html.P(_("Not watched: %(why)s", why=exc), className="error")
    return subscribed_message(subscription)
