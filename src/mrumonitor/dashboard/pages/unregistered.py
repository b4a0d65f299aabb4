"""Unregistered production: the site table (server-side paging, sorting and filtering), linked to a map.

Rows are site-level: an agency user gets its own country's sites only (`data.site_table` with the request's
access). Selecting a row zooms the map onto the site and offers its dossier.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, dash_table, dcc, html, no_update

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.components import filter_bar, filter_inputs, filters_from, page_header
from mrumonitor.dashboard.filters import Filters, showing
from mrumonitor.dashboard.maplayers import DETAIL_ZOOM, ids, map_panel, register_map_callbacks
from mrumonitor.dashboard.prepared import TABLE_COLUMNS
from mrumonitor.dashboard.run import RunData
from mrumonitor.dashboard.site_level import site_table
from mrumonitor.dashboard.views import LAYERS

dash.register_page(__name__, path="/unregistered", name="Unregistered production",
                   title="Unregistered production — MRU mining monitor")

PREFIX = "unreg"
TABLE = "unreg-table"
COUNT = "unreg-count"
SELECTED = "unreg-selected"
PAGE_SIZE = 20


@context.page("unregistered")
def layout(view, **query):
    data = context.run_data()
    return html.Div([
        page_header(view, "Every site of the period with its registration class; filter a column by typing in "
                          "the row under its title (e.g. no_licence, > 10)."),
        filter_bar(view, data, query),
        html.Div(className="grid-2", children=[
            html.Div(className="card", children=[
                html.Div(id=COUNT, className="map-status"),
                dash_table.DataTable(
                    id=TABLE, columns=[{"name": title, "id": column, "type": "numeric" if numeric else "text"}
                                       for column, title, numeric in TABLE_COLUMNS],
                    page_current=0, page_size=PAGE_SIZE, page_action="custom", sort_action="custom",
                    sort_mode="multi", sort_by=[], filter_action="custom", filter_query="",
                    # typed values match in any case (the filter row writes icontains, i=...); "Aa" toggles it
                    filter_options={"case": "insensitive"},
                    style_table={"overflowX": "auto"}, style_cell={"textAlign": "left", "fontSize": "12px"},
                    style_header={"fontWeight": "bold"})]),
            html.Div(className="card small-map", children=[
                html.H2("Selected site"), html.Div(id=SELECTED, children="Select a row to see the site on the map."),
                map_panel(PREFIX, view, data)])])])


@dash.callback(Output(TABLE, "data"), Output(TABLE, "page_count"), Output(COUNT, "children"), *filter_inputs(),
               Input(TABLE, "page_current"), Input(TABLE, "page_size"), Input(TABLE, "sort_by"),
               Input(TABLE, "filter_query"))
def update_table(country, period, commodity, classes, border, _scope, page, page_size, sort_by, filter_query):
    """One page of the site table for the filters, limited to the sites the user may see."""
    data, access = context.run_data(), current_access()
    filters = filters_from(data, country, period, commodity, classes, border)
    inputs = (filters, page, page_size, sort_by, filter_query)
    return context.remembered(data, "site table", access, inputs, lambda: table_page(data, access, *inputs))


def table_page(data: RunData, access, filters: Filters, page, page_size, sort_by, filter_query):
    rows, total = site_table(data, filters, access, page or 0, page_size or PAGE_SIZE, sort_by, filter_query or "")
    pages = max(1, -(-total // (page_size or PAGE_SIZE)))
    note = f"{total:,} sites match: {showing(filters, sites_of=access.country)}."
    hidden = [country for country in filters.countries if not access.sees_sites(country)]
    if hidden:
        note = f"Site-level data of {', '.join(hidden)} is not available to your role."
    return rows, pages, note


@dash.callback(Output(ids(PREFIX)["map"], "viewport", allow_duplicate=True), Output(SELECTED, "children"),
               Input(TABLE, "active_cell"), State(TABLE, "data"), prevent_initial_call=True)
def select_site(active_cell, rows):
    """Zoom the map onto the selected row's site and link its dossier and the full map."""
    if not active_cell or not rows or active_cell["row"] >= len(rows):
        return no_update, no_update
    site_id = rows[active_cell["row"]]["site_id"]
    data = context.run_data()
    if site_id not in data.site_index:
        return no_update, no_update
    site = data.sites.iloc[data.site_index.get_loc(site_id)]
    current_access().require_sites(str(site["countries"]))
    viewport = {"center": [float(site["lat"]), float(site["lon"])], "zoom": DETAIL_ZOOM}
    return viewport, html.Div([html.Strong(site_id), f" · {site['registration']} · {site['area_ha']:.1f} ha · ",
                               dcc.Link("open dossier", href=f"/site/{site_id}", id="unreg-dossier-link"), " · ",
                               dcc.Link("on the full map", href=f"/map?site={site_id}")])


register_map_callbacks(PREFIX, LAYERS)
