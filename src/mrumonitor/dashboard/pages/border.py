"""Border watch: corridors ranked, transboundary sites, distances to official crossings, and production
capacity against declared KP production (5–95 % interval and central estimate, declared figures, anomaly
flags with the figures each compared).

The page opens on diamond sites along the MRU internal borders (SLE–GIN, SLE–LBR, GIN–LBR, GIN–CIV, LBR–CIV);
gold, every commodity and the external borders (CIV–GHA...) are one choice away in the filter bar, and an
external corridor never enters the MRU ranking (`aggregates.corridor_ranking`). Corridors, distances and
capacity are aggregates (every role, every country); the transboundary site list is site-level and limited to
the countries the user may see.
"""

from __future__ import annotations

import dash
import pandas as pd
from dash import Output, html

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.aggregates import (
    capacity_table,
    corridor_labels,
    corridor_ranking,
    parameter_sources_table,
    post_distances,
)
from mrumonitor.dashboard.components import filter_bar, filter_inputs, filters_from, frame_table, graph, page_header
from mrumonitor.dashboard.figures import axis, columns_side_by_side, figure, values
from mrumonitor.dashboard.filters import Filters, showing
from mrumonitor.dashboard.run import RunData
from mrumonitor.dashboard.site_level import site_rows
from mrumonitor.schema import UNREGISTERED_CLASSES
from mrumonitor.style import REGISTRATION_CSS

dash.register_page(__name__, path="/border", name="Border watch", title="Border watch — MRU mining monitor")

CORRIDORS = "border-corridors"
CORRIDOR_CHART = "border-corridor-chart"
SHOWING = "border-showing"
TRANSBOUNDARY = "border-transboundary"
DISTANCES = "border-distances"
CAPACITY = "border-capacity"
ANOMALIES = "border-anomalies"
PARAMETERS = "border-capacity-parameters"
TOP = 15

@context.page("border")
def layout(view, **query):
    data = context.run_data()
    return html.Div([
        page_header(view, "Where mining hugs a border far from any official crossing, and whether declared "
                          "production makes sense against what is visible. It opens on diamond sites along the "
                          "borders between the four countries; gold, every commodity and the external borders "
                          "are one choice away above."),
        filter_bar(view, data, query),
        html.P(id=SHOWING, className="map-status"),
        html.Div(className="grid-2-even", children=[
            html.Div(className="card", children=[html.H2("Border corridors ranked by unregistered area in the border "
                                                         "zone"), graph(CORRIDOR_CHART)]),
            html.Div(className="card", children=[html.H2("Distance from border-zone sites to the nearest official "
                                                         "crossing"), graph(DISTANCES)])]),
        html.Div(className="card", children=[html.H2(f"Top {TOP} corridors"),
                                             frame_table(CORRIDORS, corridor_columns(data.corridors.iloc[0:0]))]),
        html.Div(className="card", children=[
            html.H2("Production capacity from newly mined diamond area against declared KP production"),
            html.P("Bars: the 5–95 % interval of the estimate; dot: central estimate (hollow for a partial year: "
                   "hover for the days the imagery covers and how the year's rate was made); diamond: declared "
                   "production (hollow when the figure is ILLUSTRATIVE, not a KP statistic); red: an anomaly flag. "
                   "Under the chart: the parameters of the estimate and their sources (a USGS assessment, or "
                   "ILLUSTRATIVE where none is published), when the run publishes them.",
                   className="page-note"),
            graph(CAPACITY, capacity_figure(data)),
            parameter_sources(data),
            frame_table(ANOMALIES, anomaly_table(data), style_data={"whiteSpace": "normal", "height": "auto"})]),
        html.Div(className="card", children=[html.H2("Transboundary sites"),
                                             frame_table(TRANSBOUNDARY, transboundary_columns(data.site_periods.iloc[0:0]))]),
    ])


@dash.callback(Output(SHOWING, "children"), Output(CORRIDOR_CHART, "figure"), Output(CORRIDORS, "data"),
               Output(DISTANCES, "figure"), Output(TRANSBOUNDARY, "data"), *filter_inputs())
def update_border(country, period, commodity, classes, border, scope):
    """The page follows the country, period, commodity and border scope (not the classes nor the border-zone
    switch: its charts are of every class in the border zone), so its answers are stored under those four."""
    data, access = context.run_data(), current_access()
    filters = filters_from(data, country, period, commodity, None, None, scope)
    return context.remembered(data, "border", access, filters, lambda: border_outputs(data, access, filters))


def border_outputs(data: RunData, access, filters: Filters) -> tuple:
    ranking = corridor_ranking(data, filters).head(TOP)
    corridors = figure([{"type": "bar", "orientation": "h", "x": values(ranking["unregistered_ha"]),
                         "y": values(ranking["corridor_id"]), "marker": {"color": REGISTRATION_CSS["no_licence"]},
                         "hovertext": values(corridor_labels(ranking, filters)),
                         "hovertemplate": "%{hovertext}<extra></extra>"}],
                       yaxis=axis(autorange="reversed"), xaxis=axis("unregistered ha in the border zone"), **_LAYOUT)
    distances = post_distances(data, filters)
    unregistered = distances["registration"].isin(UNREGISTERED_CLASSES)
    hist = figure([{"type": "histogram", "x": values(distances.loc[mask, "dist_post_km"]), "name": name,
                    "marker": {"color": colour}, "xbins": {"size": 10}, "opacity": 0.8}
                   for name, mask, colour in (("unregistered", unregistered, REGISTRATION_CSS["no_licence"]),
                                              ("registered or not assessed", ~unregistered,
                                               REGISTRATION_CSS["registered"]))],
                  barmode="stack", xaxis=axis("km to the nearest official crossing"), yaxis=axis("sites"), **_LAYOUT)
    rows = site_rows(data, filters, access)
    return (f"Showing {showing(filters, scope=True)}.", corridors, corridor_columns(ranking).to_dict("records"),
            hist, transboundary_columns(rows[rows["transboundary"].astype(bool)]).to_dict("records"))


_LAYOUT = {"margin": {"l": 90, "r": 10, "t": 10, "b": 40}, "height": 330, "legend": {"orientation": "h", "y": -0.25}}


def corridor_columns(table):
    return table.reindex(columns=["rank", "corridor_id", "near_places", "border_pair", "unregistered_ha", "active_ha",
                                  "sites", "nearest_post_name", "dist_post_km"]).round(1)


def transboundary_columns(rows):
    return rows.reindex(columns=["site_id", "countries", "commodity", "registration", "area_ha", "dist_border_km",
                                 "nearest_post_name", "dist_post_km"]).round(1)


def capacity_figure(data: RunData) -> dict:
    """One panel per country: the estimate's 5–95 % interval and central value (hollow for a partial year) and
    declared production per year."""
    table = capacity_table(data)
    countries = [c for c in data.countries if c in set(table["country"])]
    panels, refs = columns_side_by_side(countries, "carats per year", type="log")
    for name in [key for key in panels if key.startswith("xaxis")]:
        panels[name]["type"] = "category"  # years as labels, not 2,024.5
    traces = []
    for i, (country, (xref, yref)) in enumerate(zip(countries, refs)):
        rows = table[table["country"] == country]
        years = values(rows["year"].astype(str))
        central = rows["volume_carats_central"]
        partial = rows["partial_year"].fillna(False).astype(bool)
        traces.append({"type": "scatter", "x": years, "y": values(central), "mode": "markers", "xaxis": xref,
                       "yaxis": yref, "name": "estimate: central (median), bar: 5–95 % interval", "legendgroup": "central",
                       "showlegend": i == 0,
                       "marker": {"color": "#0b5563", "size": 8,
                                  "symbol": ["circle-open" if part else "circle" for part in partial]},
                       "text": values(coverage_words(rows)),
                       "hovertemplate": "%{x}: central %{y:,.0f} ct (%{text})<extra></extra>",
                       "error_y": {"type": "data", "symmetric": False,
                                   "array": values(rows["volume_carats_p95"] - central),
                                   "arrayminus": values(central - rows["volume_carats_p05"])}})
        illustrative = rows["declared_illustrative"].fillna(False).astype(bool)
        flagged = rows["flags"] != ""
        traces.append({"type": "scatter", "x": years, "y": values(rows["declared_production_carats"]),
                       "mode": "markers", "xaxis": xref, "yaxis": yref, "name": "declared", "legendgroup": "declared",
                       "showlegend": i == 0,
                       "marker": {"symbol": ["diamond-open" if ill else "diamond" for ill in illustrative],
                                  "size": 11, "color": ["#b2182b" if f else "#444444" for f in flagged]},
                       "text": [f"{flags or 'no flag'}{' — ILLUSTRATIVE figure' if ill else ''}"
                                for flags, ill in zip(rows["flags"], illustrative)],
                       "hovertemplate": "%{x}: declared %{y:,.0f} ct (%{text})<extra></extra>"})
    return figure(traces, **{**_LAYOUT, "margin": {"l": 60, "r": 10, "t": 30, "b": 40}}, **panels)


def coverage_words(rows: pd.DataFrame) -> pd.Series:
    """The interval of each estimate, and for a partial year how many days the imagery covers and how the
    year's rate was made (the row's caveats, as the analysis wrote them)."""
    interval = ("5–95 %: " + rows["volume_carats_p05"].map("{:,.0f}".format).astype("string") + "–"
                + rows["volume_carats_p95"].map("{:,.0f}".format).astype("string") + " ct")
    partial = ("; PARTIAL YEAR, " + rows["days_observed"].astype("string") + " days observed: "
               + rows["caveats"].astype("string").fillna("")).where(rows["partial_year"].fillna(False).astype(bool), "")
    return interval + partial


def parameter_sources(data: RunData) -> html.Div:
    """The parameters of the estimate with their sources (a USGS report and table, or ILLUSTRATIVE), or why the
    run does not show them."""
    table = parameter_sources_table(data)
    if table.empty:
        return html.P("This run does not publish the parameters of its estimate: read them in its configuration "
                      "(Downloads, the run's manifest).", className="page-note", id=PARAMETERS)
    return frame_table(PARAMETERS, table, page_size=10, style_data={"whiteSpace": "normal", "height": "auto"})


def anomaly_table(data: RunData):
    table = data.anomalies[["country", "year", "flag", "compared", "illustrative", "message"]]
    return table.assign(illustrative=table["illustrative"].map({True: "ILLUSTRATIVE", False: "published (see its source)"}))
