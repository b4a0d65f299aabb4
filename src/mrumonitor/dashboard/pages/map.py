"""Map: every layer of the run over the built-in basemap, with a layer control and legend, following the filters;
click a site to open its dossier. A period slider over the map steps through the run's periods: it and the filter
bar's period are one control (each moves the other), so the sites, the activity raster, the licences and the
corridors are all of the period it shows.

`/map?site=<id>` centres the map on a site (the site table links here); `/map?corridor=<id>` on a border corridor,
drawn thicker than the others, with the corridors and its border scope chosen (the border page links here).
"""

from __future__ import annotations

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html

from mrumonitor.dashboard import context
from mrumonitor.dashboard.components import FILTER_IDS, filter_bar, page_header, page_title
from mrumonitor.dashboard.maplayers import corridor_view, map_panel, register_map_callbacks
from mrumonitor.dashboard.views import LAYERS
from mrumonitor.i18n import _

dash.register_page(__name__, path="/map", name="Map", title=page_title("map"))

PREFIX = "mainmap"
#: Id of the period slider, and the pattern that matches it in the callback shared with every page.
SLIDER = {"type": "period-slider", "page": "map"}
SLIDER_OF_ANY_PAGE = {"type": "period-slider", "page": ALL}


@context.page("map")
def layout(view, site: str | None = None, corridor: str | None = None, **query):
    data = context.run_data()
    position = {}
    if site and site in data.site_index:
        row = data.sites.iloc[data.site_index.get_loc(site)]
        position = {"center": [float(row["lat"]), float(row["lon"])]}
    focus = corridor_view(data, corridor) if corridor else None
    if focus:
        centre, zoom, scope = focus
        position = {"center": centre, "zoom": zoom, "corridor": corridor}
        query.setdefault("scope", scope)
    bar = filter_bar(view, data, query)
    return html.Div(className="map-page", children=[
        page_header(view, _("Layers on the right; sites are grouped at low zoom, drawn as footprints when zoomed "
                            "in. Click a site for its dossier.")),
        bar, period_slider(data.periods),
        map_panel(PREFIX, view, data, **position)])


def period_slider(periods: list[str]) -> html.Div:
    """A slider over the run's `periods` (oldest first), one control with the filter bar's period."""
    return html.Div(className="period-slider", children=[
        html.Label(_("Period shown on the map")),
        dcc.Slider(id=SLIDER, min=0, max=max(len(periods) - 1, 0), step=1, value=len(periods) - 1, included=False,
                   allow_direct_input=False, marks={i: period for i, period in enumerate(periods)})])


# The slider and the filter bar's period as one control: the one the user moved sets the other (`mru.syncPeriod`,
# assets/map.js). The slider is matched by pattern: on a page without it (every page has the filter bar) the
# callback finds none and changes nothing, where a plain id would be an error.
dash.clientside_callback(
    ClientsideFunction("mru", "syncPeriod"), Output(FILTER_IDS["period"], "value"), Output(SLIDER_OF_ANY_PAGE, "value"),
    Input(FILTER_IDS["period"], "value"), Input(SLIDER_OF_ANY_PAGE, "value"), State(SLIDER_OF_ANY_PAGE, "marks"))


register_map_callbacks(PREFIX, LAYERS)
