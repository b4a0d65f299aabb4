"""Border watch: corridors ranked, transboundary sites, distances to official crossings, and production
capacity against declared KP figures (low/central/high estimate bands, declared figures, anomaly flags).

Corridors, distances and capacity are aggregates (every role, every country); the transboundary site list is
site-level and limited to the countries the user may see.
"""

from __future__ import annotations

import dash
from dash import Output, html

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.aggregates import capacity_table, corridor_ranking, post_distances
from mrumonitor.dashboard.components import filter_bar, filter_inputs, filters_from, frame_table, graph, page_header
from mrumonitor.dashboard.figures import axis, columns_side_by_side, figure, values
from mrumonitor.dashboard.filters import Filters
from mrumonitor.dashboard.run import RunData
from mrumonitor.dashboard.site_level import site_rows
from mrumonitor.schema import UNREGISTERED_CLASSES
from mrumonitor.style import REGISTRATION_CSS

dash.register_page(__name__, path="/border", name="Border watch", title="Border watch — MRU mining monitor")

CORRIDORS = "border-corridors"
CORRIDOR_CHART = "border-corridor-chart"
TRANSBOUNDARY = "border-transboundary"
DISTANCES = "border-distances"
CAPACITY = "border-capacity"
ANOMALIES = "border-anomalies"
TOP = 15


@context.page("border")
def layout(view, **_query):
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
    """The page follows the country and the period only (its charts are of all sites), so its answers are
    stored under those two."""
    data, access = context.run_data(), current_access()
    filters = filters_from(data, country, period, None, None, None)
    return context.remembered(data, "border", access, filters, lambda: border_outputs(data, access, filters))


def border_outputs(data: RunData, access, filters: Filters) -> tuple:
    ranking = corridor_ranking(data, filters).head(TOP)
    corridors = figure([{"type": "bar", "orientation": "h", "x": values(ranking["unregistered_ha"]),
                         "y": values(ranking["corridor_id"]), "marker": {"color": REGISTRATION_CSS["no_licence"]},
                         "customdata": ranking[["dist_post_km", "sites"]].to_numpy().tolist(),
                         "hovertemplate": "%{y}: %{x:,.0f} ha unregistered, %{customdata[1]} sites, "
                                          "%{customdata[0]:.0f} km to a crossing<extra></extra>"}],
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
    return (corridors, corridor_columns(ranking).to_dict("records"), hist,
            transboundary_columns(rows[rows["transboundary"].astype(bool)]).to_dict("records"))


_LAYOUT = {"margin": {"l": 90, "r": 10, "t": 10, "b": 40}, "height": 330, "legend": {"orientation": "h", "y": -0.25}}


def corridor_columns(table):
    return table.reindex(columns=["rank", "corridor_id", "near_places", "border_pair", "unregistered_ha", "active_ha",
                                  "sites", "nearest_post_id", "dist_post_km"]).round(1)


def transboundary_columns(rows):
    return rows.reindex(columns=["site_id", "countries", "registration", "area_ha", "dist_border_km",
                                 "nearest_post_id", "dist_post_km"]).round(1)


def capacity_figure(data: RunData) -> dict:
    """One panel per country: estimate bands (low-high, central) and declared production per year."""
    table = capacity_table(data)
    countries = [c for c in data.countries if c in set(table["country"])]
    panels, refs = columns_side_by_side(countries, "carats", type="log")
    traces = []
    for i, (country, (xref, yref)) in enumerate(zip(countries, refs)):
        rows = table[table["country"] == country]
        years = values(rows["year"].astype(str))
        central = rows["volume_carats_central"]
        traces.append({"type": "scatter", "x": years, "y": values(central), "mode": "markers", "xaxis": xref,
                       "yaxis": yref, "marker": {"color": "#0b5563", "size": 8}, "name": "estimate (central)",
                       "legendgroup": "central", "showlegend": i == 0,
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


def anomaly_table(data: RunData):
    table = data.anomalies[["country", "year", "flag", "illustrative", "message"]]
    return table.assign(illustrative=table["illustrative"].map({True: "ILLUSTRATIVE", False: "KP statistic"}))
