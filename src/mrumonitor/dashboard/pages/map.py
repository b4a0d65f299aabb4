"""Map: every layer of the run with a layer control and legend, following the filters; click a site to open
its dossier. `/map?site=<id>` centres the map on a site (the site table links here)."""

from __future__ import annotations

import dash
from dash import html

from mrumonitor.dashboard import context
from mrumonitor.dashboard.components import filter_bar, page_header
from mrumonitor.dashboard.maplayers import map_panel, register_map_callbacks
from mrumonitor.dashboard.views import LAYERS

dash.register_page(__name__, path="/map", name="Map", title="Map — MRU mining monitor")

PREFIX = "mainmap"


@context.page("map")
def layout(view, site: str | None = None, **query):
    data = context.run_data()
    center = None
    if site and site in data.site_index:
        row = data.sites.iloc[data.site_index.get_loc(site)]
        center = [float(row["lat"]), float(row["lon"])]
    return html.Div(className="map-page", children=[
        page_header(view, "Layers on the right; sites are grouped at low zoom, drawn as footprints when zoomed in. "
                          "Click a site for its dossier."),
        filter_bar(view, data, query),
        map_panel(PREFIX, view, data, center=center)])


register_map_callbacks(PREFIX, LAYERS)
