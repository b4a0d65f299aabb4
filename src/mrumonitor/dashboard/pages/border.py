"""Border watch: corridors ranked, transboundary sites, distances to official crossings, and production
capacity against declared KP figures (low/central/high estimate bands, declared figures, anomaly flags).

Corridors, distances and capacity are aggregates (every role, every country); the transboundary site list is
site-level and limited to the countries the user may see.
"""

from __future__ import annotations

import dash
import plotly.graph_objects as go
from dash import Output, html
from plotly.subplots import make_subplots

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.components import filter_bar, filter_inputs, filters_from, frame_table, graph, page_header
from mrumonitor.dashboard.data import (
    CLASS_COLOURS,
    RunData,
    capacity_table,
    corridor_ranking,
    post_distances,
    site_rows,
)
from mrumonitor.schema import UNREGISTERED_CLASSES

dash.register_page(__name__, path="/border", name="Border watch", title="Border watch — MRU mining monitor")

CORRIDORS = "border-corridors"
CORRIDOR_CHART = "border-corridor-chart"
TRANSBOUNDARY = "border-transboundary"
DISTANCES = "border-distances"
CAPACITY = "border-capacity"
ANOMALIES = "border-anomalies"
TOP = 15


def layout(**_query):
    view = context.view("border")
    if view is None:
        return html.P("This page is not part of this dashboard.")
    data = context.run_data()
    return html.Div([
        page_header(view, "Where mining hugs a border far from any official crossing, and whether declared "
                          "production makes sense against what is visible."),
        filter_bar(view, data),
        html.Div(className="grid-2-even", children=[
            html.Div(className="card", children=[html.H2("Border corridors ranked by unregistered area in the border "
                                                         "zone"), graph(CORRIDOR_CHART)]),
            html.Div(className="card", children=[html.H2("Distance from border-zone sites to the nearest official "
                                                         "crossing"), graph(DISTANCES)])]),
        html.Div(className="card", children=[html.H2(f"Top {TOP} corridors"),
                                             frame_table(CORRIDORS, corridor_columns(data.corridors.iloc[0:0]))]),
        html.Div(className="card", children=[
            html.H2("Production capacity from newly mined diamond area against declared KP production"),
            html.P("Bars: low to high estimate (orders of magnitude; parameters ILLUSTRATIVE); dot: central; "
                   "diamond: declared production (hollow when the figure is ILLUSTRATIVE, not a KP statistic); "
                   "red: an anomaly flag.", className="page-note"),
            graph(CAPACITY, capacity_figure(data)),
            frame_table(ANOMALIES, anomaly_table(data))]),
        html.Div(className="card", children=[html.H2("Transboundary sites"),
                                             frame_table(TRANSBOUNDARY, transboundary_columns(data.site_periods.iloc[0:0]))]),
    ])


@dash.callback(Output(CORRIDOR_CHART, "figure"), Output(CORRIDORS, "data"), Output(DISTANCES, "figure"),
               Output(TRANSBOUNDARY, "data"), *filter_inputs())
def update_border(country, period, commodity, classes, border):
    data, access, inputs = context.run_data(), current_access(), (country, period, commodity, classes, border)
    return context.remembered(data, "border", access, inputs, lambda: border_outputs(data, access, *inputs))


def border_outputs(data: RunData, access, country, period, commodity, classes, border) -> tuple:
    filters = filters_from(data, country, period, None, None, None)
    ranking = corridor_ranking(data, filters).head(TOP)
    corridors = go.Figure(go.Bar(x=ranking["unregistered_ha"], y=ranking["corridor_id"], orientation="h",
                                 marker_color=CLASS_COLOURS["no_licence"],
                                 customdata=ranking[["dist_post_km", "sites"]],
                                 hovertemplate="%{y}: %{x:,.0f} ha unregistered, %{customdata[1]} sites, "
                                               "%{customdata[0]:.0f} km to a crossing<extra></extra>"))
    corridors.update_layout(yaxis={"autorange": "reversed"}, xaxis_title="unregistered ha in the border zone",
                            **_LAYOUT)
    distances = post_distances(data, filters)
    unregistered = distances["registration"].isin(UNREGISTERED_CLASSES)
    hist = go.Figure([go.Histogram(x=distances.loc[mask, "dist_post_km"], name=name, marker_color=colour,
                                   xbins={"size": 10}, opacity=0.8)
                      for name, mask, colour in (("unregistered", unregistered, CLASS_COLOURS["no_licence"]),
                                                 ("registered or not assessed", ~unregistered,
                                                  CLASS_COLOURS["registered"]))])
    hist.update_layout(barmode="stack", xaxis_title="km to the nearest official crossing", yaxis_title="sites",
                       **_LAYOUT)
    rows = site_rows(data, filters, access)
    return (corridors, corridor_columns(ranking).to_dict("records"), hist,
            transboundary_columns(rows[rows["transboundary"].astype(bool)]).to_dict("records"))


_LAYOUT = {"margin": {"l": 90, "r": 10, "t": 10, "b": 40}, "height": 330, "template": "plotly_white",
           "legend": {"orientation": "h", "y": -0.25}}


def corridor_columns(table):
    return table.reindex(columns=["rank", "corridor_id", "border_pair", "unregistered_ha", "active_ha", "sites",
                                  "nearest_post_id", "dist_post_km"]).round(1)


def transboundary_columns(rows):
    return rows.reindex(columns=["site_id", "countries", "registration", "area_ha", "dist_border_km",
                                 "nearest_post_id", "dist_post_km"]).round(1)


def capacity_figure(data: RunData) -> go.Figure:
    """One panel per country: estimate bands (low-high, central) and declared production per year."""
    table = capacity_table(data)
    countries = [c for c in data.countries if c in set(table["country"])]
    figure = make_subplots(rows=1, cols=max(1, len(countries)), subplot_titles=countries, shared_yaxes=True)
    for i, country in enumerate(countries, start=1):
        rows = table[table["country"] == country]
        years = rows["year"].astype(str)
        central = rows["volume_carats_central"]
        figure.add_trace(go.Scatter(
            x=years, y=central, mode="markers", marker={"color": "#0b5563", "size": 8}, name="estimate (central)",
            showlegend=i == 1, error_y={"type": "data", "symmetric": False,
                                        "array": rows["volume_carats_high"] - central,
                                        "arrayminus": central - rows["volume_carats_low"]}), row=1, col=i)
        illustrative = rows["declared_illustrative"].fillna(False).astype(bool)
        flagged = rows["flags"] != ""
        figure.add_trace(go.Scatter(
            x=years, y=rows["declared_production_carats"], mode="markers", name="declared",
            showlegend=i == 1, marker={"symbol": ["diamond-open" if ill else "diamond" for ill in illustrative],
                                       "size": 11, "color": ["#b2182b" if f else "#444444" for f in flagged]},
            text=[f"{flags or 'no flag'}{' — ILLUSTRATIVE figure' if ill else ''}"
                  for flags, ill in zip(rows["flags"], illustrative)],
            hovertemplate="%{x}: declared %{y:,.0f} ct (%{text})<extra></extra>"), row=1, col=i)
    figure.update_yaxes(type="log", title_text="carats", row=1, col=1)
    figure.update_layout(**{**_LAYOUT, "margin": {"l": 60, "r": 10, "t": 30, "b": 40}})
    return figure


def anomaly_table(data: RunData):
    table = data.anomalies[["country", "year", "flag", "illustrative", "message"]]
    return table.assign(illustrative=table["illustrative"].map({True: "ILLUSTRATIVE", False: "KP statistic"}))
