"""The map (dash-leaflet) a page shows, and the callbacks that feed its layers.

Works offline: under every layer lies the built-in basemap (`reference.basemap`: sea and lakes, rivers, towns and
villages named by zoom), served by the dashboard's own `/basemap/` route; a `[dashboard] basemap_url` (a tile
server) replaces it. Reference layers (country outlines,
borders, border zone, border posts), simplified, are loaded by URL from the dashboard's own
`/reference/` route (cached by the browser per run).

Sites (cells, points, footprints by zoom) and licences are vector tiles: the browser fetches the tiles in view
from the dashboard's `/tiles/` route (`tiles_view`, which keeps to what the user's role may see) and draws them
with Leaflet.VectorGrid (`vector_layer`, assets/map.js `mru.tiles`). Moving the map is the browser's business
alone; so is a filter change: a tile holds every site of its period the user may see, with the attributes the
filters read, and the map draws the tiles it holds again with the new filters (`tile_addresses`, through the
map's tile store, gives them; only the period is in the tiles' address). A light
callback writes the status line under the map from counts alone (`map_status`). The activity overlay follows
the period; the corridors come from a callback too (small GeoJSON): those of the border scope
chosen, each with its rank for the commodity and period chosen (`aggregates.corridor_ranking`, the border
page's rank) and coloured by it (`style.corridor_colour`); one corridor may be singled out (`/map?corridor=<id>`).
Style functions live in assets/map.js (`window.mru`); the legend covers every layer the map has.

A page calls `map_panel(prefix, view, data)` in its layout and `register_map_callbacks(prefix, layers)` once
at import: the ids are `<prefix>-map`, `<prefix>-sites`, ... so several pages can have their own map.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_leaflet as dl
import numpy as np
import pandas as pd
import shapely
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.aggregates import corridor_labels, corridor_ranking
from mrumonitor.dashboard.basemap_view import VILLAGE_ZOOM, served_layers
from mrumonitor.dashboard.components import filter_inputs, filters_from, legend
from mrumonitor.dashboard.filters import Filters, showing
from mrumonitor.dashboard.geojson import POLYGON_ZOOM, feature_collection, in_view
from mrumonitor.dashboard.routes import basemap_url, overlay_bounds, overlay_url, reference_url
from mrumonitor.dashboard.run import RunData
from mrumonitor.dashboard.site_level import CONCESSION_ZOOM
from mrumonitor.dashboard.site_tiles import MAP_ZOOMS, TILE_PX, ZOOM_OFFSET, cell_level, rows_seen
from mrumonitor.dashboard.tiles_view import tile_url
from mrumonitor.dashboard.views import View
from mrumonitor.i18n import N_, _, current_language, ngettext
from mrumonitor.i18n.vocabulary import WORDS
from mrumonitor.reference.basemap import BASEMAP_CREDIT
from mrumonitor.schema import UNREGISTERED_CLASSES
from mrumonitor.style import ACTIVITY_RAMP, CORRIDOR_RANK_COLOURS, REGISTRATION_CSS, STATUS_CSS, corridor_colour, css

#: Initial view: the four countries.
REGION_CENTER, REGION_ZOOM = [8.4, -9.0], 6
#: z-index of the sites' map pane: above the overlay pane (400) of the other layers, below markers (600).
SITES_Z = 450
#: The map layers drawn from vector tiles: map layer -> (tile layer of `tiles_view`, Leaflet pane, first zoom).
VECTOR_LAYERS = {"sites": ("sites", "sites", 0), "concessions": ("concessions", "overlayPane", CONCESSION_ZOOM)}
#: The colours a cell of sites takes (`site_level.cell_features`): of its unregistered sites, of those outside any
#: cadastre held, or registered.
CELL_COLOURS = ("no_licence", "not_assessed", "registered")
#: Zoom a click on a cell of sites (or a row of the site table) zooms the map to.
DETAIL_ZOOM = 13

#: Most pixels a corridor the map opens on (`/map?corridor=<id>`) spans, and the closest zoom it opens at (the
#: villages around it named).
FOCUS_PX, FOCUS_MAX_ZOOM = 400, 11
#: z-index of the built-in basemap's pane: above the tile pane (200), under the overlay pane (400).
BASEMAP_Z = 250

_LINE_STYLES = {
    "countries": {"color": "#4d4d4d", "weight": 1.5, "fill": True, "fillOpacity": 0.03},
    "borders": {"color": "#222222", "weight": 2.5, "dashArray": "6 4"},
    "border_zone": {"color": "#8c8c8c", "weight": 0, "fillColor": "#8c8c8c", "fillOpacity": 0.15},
}
_TITLES = {"countries": N_("Country outlines"), "borders": N_("International borders"),
           "border_zone": N_("Border zone"), "concessions": N_("Licences by status"),
           "border_posts": N_("Official border posts"), "corridors": N_("Border corridors by rank"),
           "activity": N_("Activity raster (period)"), "sites": N_("Mining sites")}


def ids(prefix: str) -> dict[str, str]:
    return {name: f"{prefix}-{name}" for name in ("map", "sites", "concessions", "corridors", "activity", "status",
                                                  "nav", "towns", "villages", "focus", "tiles")}


def map_panel(prefix: str, view: View, data: RunData, center: list[float] | None = None,
              zoom: int = DETAIL_ZOOM, corridor: str | None = None) -> html.Div:
    """The map of `view` (its layers, the checked ones on) over the basemap, with its legend and a status line;
    centred on `center` at `zoom` when given, with `corridor` (an id) singled out and the corridors shown."""
    names = ids(prefix)
    checked = set(view.checked) | ({"corridors"} if corridor else set())
    overlays = [dl.Overlay(_layer(name, names, data), name=_(_TITLES[name]), checked=name in checked)
                for name in view.layers]
    position = {"center": center, "zoom": zoom} if center else {"center": REGION_CENTER, "zoom": REGION_ZOOM}
    # the map's own attribution control, so the built-in basemap's credit can be its prefix
    leaflet = dl.Map(id=names["map"], children=basemap(names, position["zoom"]) + [
        dl.LayersControl(overlays, collapsed=False), dl.ScaleControl(position="bottomleft")],
        className="leaflet-map", minZoom=MAP_ZOOMS[0], maxZoom=MAP_ZOOMS[1], attributionControl=False, **position)
    return html.Div(className="map-panel", children=[
        leaflet, legend(legend_sections(view.layers)), html.Div(id=names["status"], className="map-status"),
        dcc.Location(id=names["nav"], refresh="callback-nav"), dcc.Store(id=names["focus"], data=corridor),
        dcc.Store(id=names["tiles"])])


def basemap(names: dict[str, str], zoom: float) -> list[Any]:
    """What the map draws under its layers, with its attribution: the configured tile server, else the built-in
    basemap (water, rivers, towns; villages once zoomed in) in a pane under every other layer, taking no clicks,
    its credit in the attribution; else nothing."""
    settings = context.settings()
    if settings.dashboard.basemap_url:
        return [dl.AttributionControl(),
                dl.TileLayer(url=settings.dashboard.basemap_url, attribution=settings.dashboard.basemap_attribution)]
    served = served_layers(settings.paths.reference)
    if not served:
        return [dl.AttributionControl()]
    quiet = {"interactive": False, "bubblingMouseEvents": False}
    layers = {
        "water": dl.GeoJSON(url=basemap_url("water"), style={"variable": "mru.water"}, **quiet),
        "rivers": dl.GeoJSON(url=basemap_url("rivers"), style={"variable": "mru.river"}, **quiet),
        # towns and villages: a dot and a permanent label each, shown from the zoom of their size
        # (`mru.placeShown`); the villages' address is given once the map reaches VILLAGE_ZOOM (`mru.places`)
        "towns": dl.GeoJSON(id=names["towns"], url=basemap_url("towns"), hideout={"zoom": zoom},
                            pointToLayer={"variable": "mru.place"}, filter={"variable": "mru.placeShown"}, **quiet),
        "villages": dl.GeoJSON(id=names["villages"], pointToLayer={"variable": "mru.place"},
                               hideout={"zoom": zoom, "from": VILLAGE_ZOOM, "url": basemap_url("villages")},
                               filter={"variable": "mru.placeShown"}, **quiet),
    }
    return [dl.AttributionControl(prefix=_(BASEMAP_CREDIT)),
            dl.Pane([layers[name] for name in served], name="basemap", style={"zIndex": BASEMAP_Z})]


def legend_sections(layers: tuple[str, ...]) -> list[html.Div]:
    """The legend's sections for the map's `layers` besides the sites (`components.legend` draws those)."""
    def item(swatch: html.Span, text: str) -> html.Div:
        return html.Div(className="legend-item", children=[swatch, text])

    def section(title: str, items: list[html.Div]) -> html.Div:
        return html.Div(className="legend-section", children=[html.Strong(title), *items])

    statuses = WORDS["licence_status"]
    ranks = [(lowest, CORRIDOR_RANK_COLOURS[i + 1][0] - 1 if i + 1 < len(CORRIDOR_RANK_COLOURS) else None)
             for i, (lowest, _colour) in enumerate(CORRIDOR_RANK_COLOURS)]
    ramp = f"linear-gradient(to right, {css(ACTIVITY_RAMP[0])}, {css(ACTIVITY_RAMP[1])})"
    sections = {
        "concessions": section(_("Licences by status"), [
            item(html.Span(className="swatch licence", style={"borderColor": STATUS_CSS[code]}), _(words))
            for code, words in statuses.items()]),
        "corridors": section(_("Border corridors by rank"), [
            item(html.Span(className="swatch corridor", style={"background": corridor_colour(lowest)}),
                 _("rank %(first)s to %(last)s", first=lowest, last=last) if last
                 else _("rank %(first)s and after", first=lowest))
            for lowest, last in ranks]),
        "activity": section(_("Activity raster (period)"), [
            item(html.Span(className="swatch ramp", style={"background": ramp}), _("low to high activity"))]),
        "border_posts": item(html.Span(className="swatch post"), _("official border post")),
        "border_zone": item(html.Span(className="swatch zone"), _("border zone")),
        "sites": item(html.Span(className="swatch cell"),
                      _("cell of sites (zoom in): coloured by the class of half or more of its sites")),
    }
    return [sections[name] for name in layers if name in sections]


def _layer(name: str, names: dict[str, str], data: RunData) -> Any:
    if name in _LINE_STYLES:
        return dl.GeoJSON(url=reference_url(data.run_id, name), style=_LINE_STYLES[name],
                          interactive=name != "border_zone")
    if name == "border_posts":
        return dl.GeoJSON(url=reference_url(data.run_id, name), pointToLayer={"variable": "mru.post"})
    if name == "activity":
        return dl.ImageOverlay(id=names["activity"], url=overlay_url(data.run_id, data.last_period),
                               bounds=overlay_bounds(data.run_dir, data.last_period), opacity=0.8)
    if name == "concessions":
        return vector_layer(names[name], VECTOR_LAYERS[name][1])
    if name == "corridors":
        return dl.GeoJSON(id=names["corridors"], style={"variable": "mru.corridorStyle"})
    # the sites in a pane of their own above Leaflet's overlay pane (z-index 400): the reference layers,
    # which arrive by URL after them, would otherwise be drawn over them and take their clicks
    pane = VECTOR_LAYERS[name][1]
    return dl.Pane(vector_layer(names[name], pane), name=pane, style={"zIndex": SITES_Z})


def vector_layer(layer_id: str, pane: str) -> dl.LayerGroup:
    """A map layer drawn from vector tiles in `pane`: a LayerGroup that, once on the map, holds a Leaflet.VectorGrid
    of the address the map's tile store gives it (assets/map.js `mru.tiles.add`), so the layers control switches
    it like any other; a click on one of its features is its `clickData` (the feature's properties, and where it
    was clicked as a GeoJSON point)."""
    return dl.LayerGroup(id=layer_id, pane=pane, disableDefaultEventHandlers=True,
                         eventHandlers={"add": {"variable": "mru.tiles.add"}})


def register_map_callbacks(prefix: str, layers: tuple[str, ...]) -> None:
    """The callbacks of the map `prefix`: the addresses of its vector tiles (sites, and licences when `layers` has
    them) follow the filters, the status line the filters, zoom and bounds, the activity overlay (when there) the
    period; a click on a site opens its dossier, on a cell zooms in."""
    names = ids(prefix)
    view_inputs = [Input(names["map"], "zoom"), Input(names["map"], "bounds"), Input(names["map"], "center")]

    @dash.callback(Output(names["tiles"], "data"), *filter_inputs())
    def update_tiles(country, period, commodity, classes, border, scope):
        data = context.run_data()
        return tile_addresses(data.run_id, filters_from(data, country, period, commodity, classes, border),
                              {names[name]: name for name in VECTOR_LAYERS if name in layers})

    # the tile store to the map's vector layers, in the browser (`mru.tiles.show`): a new address redraws them
    dash.clientside_callback(ClientsideFunction("mru", "tileUrls"), Input(names["tiles"], "data"))

    @dash.callback(Output(names["status"], "children"), *filter_inputs(), *view_inputs)
    def update_status(country, period, commodity, classes, border, scope, zoom, bounds, center):
        return map_status(context.run_data(), current_access(), country, period, commodity, classes, border,
                          zoom, bounds or view_bounds(center, zoom))

    # the built-in basemap's places follow the zoom; the villages load once it reaches VILLAGE_ZOOM
    dash.clientside_callback(
        ClientsideFunction("mru", "places"), Output(names["towns"], "hideout"), Output(names["villages"], "hideout"),
        Output(names["villages"], "url"), Input(names["map"], "zoom"), State(names["villages"], "hideout"))

    @dash.callback(Output(names["nav"], "href"), Output(names["map"], "viewport"),
                   Input(names["sites"], "clickData"), prevent_initial_call=True)
    def open_site(feature):
        return click_target(feature)

    if "corridors" in layers:
        @dash.callback(Output(names["corridors"], "data"), *filter_inputs(), State(names["focus"], "data"))
        def update_corridors(country, period, commodity, classes, border, scope, focus):
            data = context.run_data()
            filters = filters_from(data, country, period, commodity, classes, border, scope)
            return context.remembered(data, "corridors", current_access(), [filters, focus],
                                      lambda: corridor_layer(data, filters, focus))

    if "activity" in layers:
        @dash.callback(Output(names["activity"], "url"), Output(names["activity"], "bounds"),
                       Input(filter_inputs()[1].component_id, "value"))
        def update_activity(period):
            data = context.run_data()
            period = period if period in data.periods else data.last_period
            return overlay_url(data.run_id, period), overlay_bounds(data.run_dir, period)


def view_bounds(center: Any, zoom: float | None, width_px: int = 1200, height_px: int = 800) -> list | None:
    """Bounds of a map of about `width_px` x `height_px` at `center` and `zoom`, for the first callback of a
    map (Leaflet reports its bounds only once it has moved)."""
    if center is None or zoom is None:
        return None
    lat, lon = (center["lat"], center["lng"]) if isinstance(center, dict) else center
    half_lon = 360.0 / 2 ** zoom * width_px / 256 / 2
    half_lat = half_lon * height_px / width_px
    return [[lat - half_lat, lon - half_lon], [lat + half_lat, lon + half_lon]]


def corridor_layer(data: RunData, filters: Filters, focus: str | None = None) -> dict:
    """The corridors of `filters.scope` on the chosen countries' borders, each with its rank, its colour by rank and
    its names as the border page gives them (`corridor_labels`) in its tooltip; the corridor `focus` (an id)
    marked `selected`."""
    ranking = corridor_ranking(data, filters)
    lines = pd.Series(list(data.corridor_lines), index=data.corridors["corridor_id"].to_numpy())
    ids_ = ranking["corridor_id"].astype(str)
    props = pd.DataFrame({"corridor_id": ids_, "rank": ranking["rank"],
                          "colour": ranking["rank"].astype(int).map(corridor_colour),
                          "selected": ids_ == (focus or ""), "tooltip": corridor_labels(ranking, filters)})
    return feature_collection(lines.reindex(ranking["corridor_id"].to_numpy()).to_numpy(), props)


def corridor_view(data: RunData, corridor_id: str) -> tuple[list[float], int, str] | None:
    """Where the map opens on a corridor: its centre, a zoom showing it whole, and its border scope (the scope the
    filter bar must choose for it to be drawn); None for an id the run does not have."""
    where = np.flatnonzero(data.corridors["corridor_id"].astype(str).to_numpy() == corridor_id)
    if not len(where):
        return None
    west, south, east, north = shapely.bounds(data.corridor_lines[where[0]])
    span = max(east - west, north - south, 0.01)
    # at zoom z the world is 256 * 2**z pixels wide: the largest z at which the corridor spans FOCUS_PX at most
    zoom = int(np.clip(np.floor(np.log2(FOCUS_PX * 360.0 / (256 * span))), 8, FOCUS_MAX_ZOOM))
    return [(south + north) / 2, (west + east) / 2], zoom, str(data.corridors["scope"].iloc[where[0]])


def tile_addresses(run_id: str, filters: Filters, layers: dict[str, str]) -> dict[str, Any]:
    """What the map's tile store holds for `filters`: per vector layer (LayerGroup id -> map layer of
    `VECTOR_LAYERS`) the URL template of its tiles (of the filters' period) and the first zoom it is drawn at; the
    filters the map applies to the tiles' features (assets/map.js `mru.tiles.shown`); what it needs to describe a
    cell of the sites they pass in the user's language (`cell`); the zoom from which sites are footprints (their
    style changes there), and the tiles' size in pixels and zoom offset (`site_tiles`)."""
    return {"polygonZoom": POLYGON_ZOOM, "tileSize": TILE_PX, "zoomOffset": ZOOM_OFFSET,
            "filters": {"countries": list(filters.countries), "commodity": filters.commodity,
                        "classes": list(filters.classes), "border": filters.border_only},
            "cell": {"language": current_language(), "unregistered": list(UNREGISTERED_CLASSES),
                     "tooltip": _("%(count)s sites, %(share)s unregistered, %(area)s ha — zoom in"),
                     "colours": {name: REGISTRATION_CSS[name] for name in CELL_COLOURS}},
            "layers": {layer_id: {"url": tile_url(run_id, VECTOR_LAYERS[name][0], filters.period),
                                  "minZoom": VECTOR_LAYERS[name][2]} for layer_id, name in layers.items()}}


def map_status(data: RunData, access: Any, country, period, commodity, classes, border, zoom, bounds) -> str:
    """The status line under the map: how many sites the filters and the user's role let it draw within `bounds`,
    and in what shape at `zoom` (cells where a tile holds too many sites, else points, or footprints)."""
    filters = filters_from(data, country, period, commodity, classes, border)
    if country and not access.sees_sites(country):
        return _("Site-level data of %(country)s is not available to your role: the map shows no sites there; "
                 "the figures above are aggregates.", country=country)
    zoom = REGION_ZOOM if zoom is None else zoom
    period_rows = data.site_views.by_period[filters.period]
    seen = rows_seen(data, filters, access)  # the tiles' rows the filters pass, kept per filters and access scope
    if bounds:  # the rows whose footprint's box meets the view (the tiles' query), then those whose point is in it
        (south, west), (north, east) = bounds
        rows = period_rows.rows_in(west, south, east, north)
        rows = rows[seen[rows]]
        rows = rows[in_view(np.column_stack([period_rows.lon[rows], period_rows.lat[rows]] * 2), bounds)]
    else:
        rows = np.flatnonzero(seen)
    shape = _("as footprints") if zoom >= POLYGON_ZOOM else _("as points")
    # cells or not as the tiles of the view decide, on all the sites they hold, whatever the filters
    level = cell_level(data, filters.period, access, max(round(zoom) - ZOOM_OFFSET, 0))
    if level.meets(*((west, south, east, north) if bounds else (-180, -85, 180, 85))):
        shape = _("grouped in cells (zoom in for single sites)")
    return ngettext("%(num)s site in view: %(showing)s, %(shape)s.", "%(num)s sites in view: %(showing)s, %(shape)s.",
                    len(rows), showing=showing(filters, sites_of=access.country), shape=shape)


def click_target(feature: dict | None) -> tuple[Any, Any]:
    """Where a click on the site layer leads: a site's dossier, or a zoom onto a cell of sites."""
    props = (feature or {}).get("properties") or {}
    if props.get("kind") == "site" and props.get("site_id"):
        return f"/site/{props['site_id']}", no_update
    if props.get("kind") == "cell":
        lon, lat = feature["geometry"]["coordinates"]
        return no_update, {"center": [lat, lon], "zoom": 10, "transition": "flyTo"}
    return no_update, no_update

