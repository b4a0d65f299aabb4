"""Unregistered production: the site table (server-side paging, sorting and filtering), linked to a map.

Rows are site-level: an agency user gets its own country's sites only (`data.site_table` with the request's
access). Each row carries its site's growth since a period the user picks (by default the one before the
period shown); "Growing fastest" sorts the table by the hectares gained. Numbers stay numbers (sorted and
filtered as numbers) and are written the user's way. Selecting a row zooms the map onto the site and offers
its dossier.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, dash_table, dcc, html, no_update

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.change import compare_control, compared_period
from mrumonitor.dashboard.components import filter_bar, filter_inputs, filters_from, page_header, page_title
from mrumonitor.dashboard.filters import Filters, showing
from mrumonitor.dashboard.link_table import locale_format, number_column, share_column, text_column
from mrumonitor.dashboard.maplayers import DETAIL_ZOOM, ids, map_panel, register_map_callbacks
from mrumonitor.dashboard.prepared import TABLE_COLUMNS
from mrumonitor.dashboard.run import RunData
from mrumonitor.dashboard.site_level import site_table
from mrumonitor.dashboard.views import LAYERS
from mrumonitor.i18n import _, ngettext, number
from mrumonitor.i18n.vocabulary import word

dash.register_page(__name__, path="/unregistered", name="Unregistered production",
                   title=page_title("unregistered"))

PREFIX = "unreg"
TABLE = "unreg-table"
COUNT = "unreg-count"
SELECTED = "unreg-selected"
SINCE = "unreg-since"
FASTEST = "unreg-fastest"
PAGE_SIZE = 20
#: The table's order for "Growing fastest": the most hectares gained first.
GROWING_FASTEST = [{"column_id": "change_ha", "direction": "desc"}]


@context.page("unregistered")
def layout(view, **query):
    data = context.run_data()
    return html.Div([
        page_header(view, _("Every site of the period with its registration class and its growth since the period "
                            "compared; filter a column by typing in the row under its title (e.g. licence, > 10).")),
        filter_bar(view, data, query),
        html.Div(className="filter-bar", children=[
            html.Div(className="filter", children=[html.Label(_("Change since"), htmlFor=SINCE),
                                                   compare_control(SINCE, data.periods)]),
            html.Div(className="filter", children=[html.Button(_("Growing fastest"), id=FASTEST, n_clicks=0,
                                                               className="button")])]),
        html.Div(className="grid-2", children=[
            html.Div(className="card", children=[
                html.Div(id=COUNT, className="map-status"),
                dash_table.DataTable(
                    id=TABLE, columns=table_columns(), locale_format=locale_format(),
                    page_current=0, page_size=PAGE_SIZE, page_action="custom", sort_action="custom",
                    sort_mode="multi", sort_by=[], filter_action="custom", filter_query="",
                    # typed values match in any case (the filter row writes icontains, i=...); "Aa" toggles it
                    filter_options={"case": "insensitive"},
                    style_table={"overflowX": "auto"}, style_cell={"textAlign": "left", "fontSize": "12px"},
                    style_header={"fontWeight": "bold"})]),
            html.Div(className="card small-map", children=[
                html.H2(_("Selected site")), html.Div(id=SELECTED, children=_("Select a row to see the site on the map.")),
                map_panel(PREFIX, view, data)])])])


def table_columns() -> list[dict]:
    """The site table's columns (`TABLE_COLUMNS`, then the growth), headed in the current language."""
    columns = [text_column(column, _(header)) if digits is None else number_column(column, _(header), digits)
               for column, header, digits in TABLE_COLUMNS]
    return columns + [number_column("change_ha", _("Change (ha)"), signed=True),
                      share_column("change_pct", _("Change (%)"), missing=_("new"), signed=True)]


@dash.callback(Output(TABLE, "sort_by"), Output(TABLE, "page_current"), Input(FASTEST, "n_clicks"),
               prevent_initial_call=True)
def sort_growing_fastest(_clicks):
    """"Growing fastest": the table sorted by the hectares gained, from its first page."""
    return GROWING_FASTEST, 0


@dash.callback(Output(TABLE, "data"), Output(TABLE, "page_count"), Output(COUNT, "children"), *filter_inputs(),
               Input(TABLE, "page_current"), Input(TABLE, "page_size"), Input(TABLE, "sort_by"),
               Input(TABLE, "filter_query"), Input(SINCE, "value"))
def update_table(country, period, commodity, classes, border, _scope, page, page_size, sort_by, filter_query, since):
    """One page of the site table for the filters, limited to the sites the user may see."""
    data, access = context.run_data(), current_access()
    filters = filters_from(data, country, period, commodity, classes, border)
    inputs = (filters, page, page_size, sort_by, filter_query, compared_period(data.periods, filters.period, since))
    return context.remembered(data, "site table", access, inputs, lambda: table_page(data, access, *inputs))


def table_page(data: RunData, access, filters: Filters, page, page_size, sort_by, filter_query, since=None):
    """One page of the site table, the number of pages, and the line above it (how many sites match, what they are,
    the period compared)."""
    rows, total = site_table(data, filters, access, page or 0, page_size or PAGE_SIZE, sort_by, filter_query or "",
                             since)
    pages = max(1, -(-total // (page_size or PAGE_SIZE)))
    compared = (_("change since %(period)s", period=since) if since else _("no earlier period to compare with"))
    note = ngettext("%(num)s site matches: %(what)s; %(compared)s.", "%(num)s sites match: %(what)s; %(compared)s.",
                    total, what=showing(filters, sites_of=access.country), compared=compared)
    hidden = [country for country in filters.countries if not access.sees_sites(country)]
    if hidden:
        note = _("Site-level data of %(countries)s is not available to your role.", countries=", ".join(hidden))
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
    facts = _(" · %(registration)s · %(area)s ha · ", registration=word("registration", site["registration"]),
              area=number(site["area_ha"], 1))
    return viewport, html.Div([html.Strong(site_id), facts,
                               dcc.Link(_("open dossier"), href=f"/site/{site_id}", id="unreg-dossier-link"), " · ",
                               dcc.Link(_("on the full map"), href=f"/map?site={site_id}")])


register_map_callbacks(PREFIX, LAYERS)
