"""The map (dash-leaflet) a page shows, and the callbacks that feed its layers.

Works offline: no tile layer unless `[dashboard] basemap_url` is set. Reference layers (country outlines,
borders, border zone, border posts), simplified, are loaded by URL from the dashboard's own
`/reference/` route (cached by the browser per run); the site layer, licences
and the activity overlay come from callbacks that read the map's zoom and bounds, so a page never receives
more than `geojson.MAX_FEATURES` sites. The corridors come from a callback too: those of the border scope
chosen, each with its rank for the commodity and period chosen (`aggregates.corridor_ranking`, the border
page's rank). Style functions live in assets/map.js (`window.mru`).

A page calls `map_panel(prefix, view, data)` in its layout and `register_map_callbacks(prefix, layers)` once
at import: the ids are `<prefix>-map`, `<prefix>-sites`, ... so several pages can have their own map.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_leaflet as dl
import pandas as pd
from dash import Input, Output, dcc, html, no_update

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.aggregates import corridor_labels, corridor_ranking
from mrumonitor.dashboard.components import filter_inputs, filters_from, legend
from mrumonitor.dashboard.filters import Filters, showing
from mrumonitor.dashboard.geojson import feature_collection
from mrumonitor.dashboard.routes import overlay_bounds, overlay_url, reference_url
from mrumonitor.dashboard.run import RunData
from mrumonitor.dashboard.site_level import concession_layer, site_layer
from mrumonitor.dashboard.views import View

#: Initial view: the four countries.
REGION_CENTER, REGION_ZOOM = [8.4, -9.0], 6
#: z-index of the sites' map pane: above the overlay pane (400) of the other layers, below markers (600).
SITES_Z = 450
#: Zoom a click on a cell of sites (or a row of the site table) zooms the map to.
DETAIL_ZOOM = 13

_LINE_STYLES = {
    "countries": {"color": "#4d4d4d", "weight": 1.5, "fill": True, "fillOpacity": 0.03},
    "borders": {"color": "#222222", "weight": 2.5, "dashArray": "6 4"},
    "border_zone": {"color": "#9e7bb5", "weight": 0, "fillColor": "#9e7bb5", "fillOpacity": 0.15},
}
_CORRIDOR_STYLE = {"color": "#b2182b", "weight": 5, "opacity": 0.6}
_TITLES = {"countries": "Country outlines", "borders": "International borders", "border_zone": "Border zone",
           "concessions": "Licences by status", "border_posts": "Official border posts",
           "corridors": "Border corridors", "activity": "Activity raster (period)", "sites": "Mining sites"}


def ids(prefix: str) -> dict[str, str]:
    return {name: f"{prefix}-{name}" for name in ("map", "sites", "concessions", "corridors", "activity", "status",
                                                  "nav")}


def map_panel(prefix: str, view: View, data: RunData, center: list[float] | None = None) -> html.Div:
    """The map of `view` (its layers, the checked ones on), with its legend and a status line."""
    names = ids(prefix)
    overlays = [dl.Overlay(_layer(name, names, data), name=_TITLES[name], checked=name in view.checked)
                for name in view.layers]
    settings = context.settings()
    base = [dl.TileLayer(url=settings.dashboard.basemap_url, attribution=settings.dashboard.basemap_attribution)
            ] if settings.dashboard.basemap_url else []
    position = {"center": center, "zoom": DETAIL_ZOOM} if center else {"center": REGION_CENTER, "zoom": REGION_ZOOM}
    leaflet = dl.Map(id=names["map"], children=base + [dl.LayersControl(overlays, collapsed=False),
                                                       dl.ScaleControl(position="bottomleft")],
                     className="leaflet-map", minZoom=5, maxZoom=17, **position)
    return html.Div(className="map-panel", children=[
        leaflet, legend(), html.Div(id=names["status"], className="map-status"),
        dcc.Location(id=names["nav"], refresh="callback-nav")])


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
        return dl.GeoJSON(id=names["concessions"], style={"variable": "mru.licenceStyle"})
    if name == "corridors":
        return dl.GeoJSON(id=names["corridors"], style=_CORRIDOR_STYLE)
    # the sites in a pane of their own above Leaflet's overlay pane (z-index 400): the reference layers,
    # which arrive by URL after them, would otherwise be drawn over them and take their clicks
    return dl.Pane(dl.GeoJSON(id=names["sites"], style={"variable": "mru.siteStyle"},
                              pointToLayer={"variable": "mru.site"}), name="sites", style={"zIndex": SITES_Z})


def register_map_callbacks(prefix: str, layers: tuple[str, ...]) -> None:
    """The callbacks of the map `prefix`: sites (and licences, the activity overlay when `layers` has them)
    follow the filters, zoom and bounds; a click on a site opens its dossier, on a cell zooms in."""
    names = ids(prefix)
    view_inputs = [Input(names["map"], "zoom"), Input(names["map"], "bounds"), Input(names["map"], "center")]

    @dash.callback(Output(names["sites"], "data"), Output(names["status"], "children"),
                   *filter_inputs(), *view_inputs)
    def update_sites(country, period, commodity, classes, border, scope, zoom, bounds, center):
        return sites_for_map(context.run_data(), current_access(), country, period, commodity, classes, border,
                             zoom, bounds or view_bounds(center, zoom))

    @dash.callback(Output(names["nav"], "href"), Output(names["map"], "viewport"),
                   Input(names["sites"], "clickData"), prevent_initial_call=True)
    def open_site(feature):
        return click_target(feature)

    if "concessions" in layers:
        @dash.callback(Output(names["concessions"], "data"), *filter_inputs(), *view_inputs)
        def update_concessions(country, period, commodity, classes, border, scope, zoom, bounds, center):
            data = context.run_data()
            filters = filters_from(data, country, period, commodity, classes, border)
            return concession_layer(data, filters, current_access(), zoom, bounds or view_bounds(center, zoom))

    if "corridors" in layers:
        @dash.callback(Output(names["corridors"], "data"), *filter_inputs())
        def update_corridors(country, period, commodity, classes, border, scope):
            data = context.run_data()
            filters = filters_from(data, country, period, commodity, classes, border, scope)
            return context.remembered(data, "corridors", current_access(), filters,
                                      lambda: corridor_layer(data, filters))

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


def corridor_layer(data: RunData, filters: Filters) -> dict:
    """The corridors of `filters.scope` on the chosen countries' borders, each with its rank and names as the
    border page gives them (`corridor_labels`) in its tooltip."""
    ranking = corridor_ranking(data, filters)
    lines = pd.Series(list(data.corridor_lines), index=data.corridors["corridor_id"].to_numpy())
    props = pd.DataFrame({"corridor_id": ranking["corridor_id"].astype(str), "rank": ranking["rank"],
                          "tooltip": corridor_labels(ranking, filters)})
    return feature_collection(lines.reindex(ranking["corridor_id"].to_numpy()).to_numpy(), props)


def sites_for_map(data: RunData, access: Any, country, period, commodity, classes, border, zoom,
                  bounds) -> tuple[dict, str]:
    """The site layer and the status line under the map (how many sites, in what shape)."""
    filters = filters_from(data, country, period, commodity, classes, border)
    layer = site_layer(data, filters, access, zoom, bounds)
    summary = layer.pop("summary")
    shape = {"cells": "grouped in cells (zoom in for single sites)", "points": "as points",
             "polygons": "as footprints"}[summary["shape"]]
    status = f"{summary['sites']:,} sites in view: {showing(filters, sites_of=access.country)}, {shape}."
    if country and not access.sees_sites(country):
        status = (f"Site-level data of {country} is not available to your role: the map shows no sites there; "
                  "the figures above are aggregates.")
    return layer, status


def click_target(feature: dict | None) -> tuple[Any, Any]:
    """Where a click on the site layer leads: a site's dossier, or a zoom onto a cell of sites."""
    props = (feature or {}).get("properties") or {}
    if props.get("kind") == "site" and props.get("site_id"):
        return f"/site/{props['site_id']}", no_update
    if props.get("kind") == "cell":
        lon, lat = feature["geometry"]["coordinates"]
        return no_update, {"center": [lat, lon], "zoom": 10, "transition": "flyTo"}
    return no_update, no_update

