"""Regional overview: KPI cards (with the measured accuracy under those field checks qualify), the map, the
per-country picture and its trend over the periods.

The per-country table is `country_overview` (the command line's picture) for the filters chosen, its headers and
countries in the user's language; the KPI cards sum its rows for the chosen countries. Aggregates: every role sees
every country's figures.
"""

from __future__ import annotations

import dash
import pandas as pd
from dash import Output, html

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.aggregates import kpis, overview, trends
from mrumonitor.dashboard.components import (
    ACCURACY_KPIS,
    accuracy_id,
    filter_bar,
    filter_inputs,
    filters_from,
    frame_table,
    graph,
    kpi_cards,
    kpi_text,
    page_header,
    page_title,
    table_columns,
)
from mrumonitor.dashboard.figures import axis, figure, period_axis, values
from mrumonitor.dashboard.filters import Filters
from mrumonitor.dashboard.maplayers import map_panel, register_map_callbacks
from mrumonitor.dashboard.run import RunData
from mrumonitor.dashboard.verification_data import accuracy_lines, run_verification
from mrumonitor.dashboard.views import KPIS, LAYERS
from mrumonitor.i18n import N_, _
from mrumonitor.i18n.vocabulary import word

dash.register_page(__name__, path="/", name="Regional overview", title=page_title("overview"))

PREFIX = "overview"
TABLE = "overview-table"
AREA_CHART = "overview-area-chart"
SHARE_CHART = "overview-share-chart"

#: The per-country table's headers (its "new in <period>" column is named per period: `country_table`).
HEADERS = {"country": N_("Country"), "active ha": N_("Active area (ha)"),
           "unregistered ha": N_("Unregistered area (ha)"), "unregistered %": N_("Unregistered (%)"),
           "sites": N_("Sites"), "in border zone": N_("In the border zone"), "transboundary": N_("Transboundary"),
           "max risk": N_("Highest risk score"),
           "verified not mining ha": N_("Verified not mining (ha)")}
#: Decimals of its number columns.
DIGITS = {"active ha": 1, "unregistered ha": 1, "unregistered %": 1, "sites": 0, "in border zone": 0,
          "transboundary": 0, "max risk": 2, "verified not mining ha": 1}


@context.page("overview")
def layout(view, **query):
    data = context.run_data()
    table, headers, digits = country_table(overview(data, filters_from(data, None, None, None, None, None)),
                                           data.last_period)
    return html.Div([
        page_header(view, _("Where mining is, how much of it is unregistered, and how it is changing. It opens on "
                            "diamonds, the KP commodity: choose all commodities or gold in the filter bar.")),
        filter_bar(view, data, query),
        kpi_cards(view, PREFIX),
        html.Div(className="grid-2", children=[
            html.Div(className="card", children=[html.H2(_("Mining sites by registration class")),
                                                 map_panel(PREFIX, view, data)]),
            html.Div([
                html.Div(className="card", children=[html.H2(_("Active mined area per country (ha)")),
                                                     graph(AREA_CHART)]),
                html.Div(className="card", children=[html.H2(_("Share unregistered per country (%)")),
                                                     graph(SHARE_CHART)])])]),
        html.Div(className="card", children=[
            html.H2(_("Per-country picture")),
            frame_table(TABLE, table, headers=headers, digits=digits)]),
    ])


@dash.callback([Output(f"{PREFIX}-kpi-{name}", "children") for name in KPIS]
               + [Output(TABLE, "data"), Output(TABLE, "columns"), Output(AREA_CHART, "figure"),
                  Output(SHARE_CHART, "figure")], *filter_inputs())
def update_overview(country, period, commodity, classes, border, _scope=None):
    """KPIs, the per-country table and the trend charts for the filters (aggregates: no access limit; the border
    scope is not one of its filters)."""
    data = context.run_data()
    filters = filters_from(data, country, period, commodity, classes, border)
    return context.remembered(data, "overview", current_access(), filters, lambda: overview_outputs(data, filters))


@dash.callback([Output(accuracy_id(PREFIX, name), "children") for name in ACCURACY_KPIS], *filter_inputs())
def update_accuracy(country, period, commodity, classes, border, _scope=None):
    """The measured accuracy under the KPIs it qualifies: the run's headline field-checked estimates (of the
    whole region, for the sample's period), or why there is none."""
    data = context.run_data()
    filters = filters_from(data, country, period, commodity, classes, border)
    whole = not (filters.countries or filters.commodity or filters.classes or filters.border_only)
    lines = context.remembered(data, "accuracy", current_access(), [filters.period, whole],
                               lambda: accuracy_lines(run_verification(data), filters.period, whole_map=whole))
    return [lines[name] for name in ACCURACY_KPIS]


def overview_outputs(data: RunData, filters: Filters) -> list:
    values = kpis(data, filters)
    table, headers, digits = country_table(overview(data, filters), filters.period)
    trend = trends(data, filters)
    return ([kpi_text(name, values[name]) for name in KPIS]
            + [table.to_dict("records"), table_columns(table.columns, headers, digits),
               trend_figure(trend, "active ha", "ha"), trend_figure(trend, "unregistered %", "%")])


def country_table(table: pd.DataFrame, period: str) -> tuple[pd.DataFrame, dict[str, str], dict[str, int]]:
    """The per-country picture as the page shows it: countries by name, and its headers and decimals."""
    new = f"new in {period}"
    shown = table.assign(country=table["country"].map(lambda code: word("country", code)))
    return shown, {**HEADERS, new: _("New in %(period)s", period=period)}, {**DIGITS, new: 0}


def trend_figure(trend: pd.DataFrame, column: str, unit: str) -> dict:
    """A line per country over the periods; the y axis starts at 0 (an axis cut at 87 % made a 2-point change look
    like a doubling)."""
    return figure([{"type": "scatter", "x": values(rows["period"]), "y": values(rows[column]),
                    "name": word("country", country), "mode": "lines+markers"}
                   for country, rows in trend.groupby("country")],
                  margin={"l": 50, "r": 10, "t": 10, "b": 30}, height=250, xaxis=period_axis(),
                  yaxis=axis(unit, rangemode="tozero"), legend={"orientation": "h", "y": -0.2})


register_map_callbacks(PREFIX, LAYERS)
