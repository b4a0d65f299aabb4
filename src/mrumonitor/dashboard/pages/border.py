"""Border watch: which border corridors hold the most unregistered mining, which are growing fastest, where
they are (the towns on each side) and the nearest official crossing; transboundary sites, distances to
official crossings, and production capacity against declared KP production (5–95 % interval and central
estimate, declared figures, anomaly flags with the figures each compared).

The page opens on diamond sites along the MRU internal borders (SLE–GIN, SLE–LBR, GIN–LBR, GIN–CIV, LBR–CIV),
the latest period compared with the one before it; one border (SLE–GIN), another period to compare with and
the order "growing fastest" are one choice each, and each corridor's row links it on the map. Gold, every
commodity and the external borders are one choice away in the filter bar; an external corridor never enters
the MRU ranking (`aggregates.corridor_ranking`), and the rank shown is that ranking's whatever the order or the
border chosen. Corridors, distances and capacity are aggregates (every role, every country); the transboundary
site list is site-level and limited to the countries the user may see.
"""

from __future__ import annotations

from urllib.parse import urlencode

import dash
import pandas as pd
from dash import Input, Output, dcc, html

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.aggregates import (
    capacity_table,
    corridor_changes,
    corridor_labels,
    parameter_sources_table,
    post_distances,
)
from mrumonitor.dashboard.change import compare_control, compared_period, growing_fastest
from mrumonitor.dashboard.components import filter_bar, filter_inputs, filters_from, graph, page_header, page_title
from mrumonitor.dashboard.figures import axis, columns_side_by_side, figure, values
from mrumonitor.dashboard.filters import Filters, showing
from mrumonitor.dashboard.link_table import number_column, share_column, table, text_column
from mrumonitor.dashboard.run import RunData
from mrumonitor.dashboard.site_level import site_rows
from mrumonitor.i18n import N_, _, number
from mrumonitor.i18n.messages import translate_text
from mrumonitor.i18n.vocabulary import word
from mrumonitor.schema import UNREGISTERED_CLASSES
from mrumonitor.style import REGISTRATION_CSS

dash.register_page(__name__, path="/border", name="Border watch", title=page_title("border"))

CORRIDORS = "border-corridors"
CORRIDOR_CHART = "border-corridor-chart"
SHOWING = "border-showing"
TRANSBOUNDARY = "border-transboundary"
DISTANCES = "border-distances"
CAPACITY = "border-capacity"
ANOMALIES = "border-anomalies"
PARAMETERS = "border-capacity-parameters"
PAIR = "border-pair"
SINCE = "border-since"
ORDER = "border-order"
#: Corridors drawn in the chart.
TOP = 15
#: The orders of the corridor table: by rank (unregistered area) or by the hectares gained.
RANK, GROWTH = "rank", "growth"
ORDERS = {RANK: N_("Most unregistered area"), GROWTH: N_("Growing fastest")}
ALL_BORDERS = ""


@context.page("border")
def layout(view, **query):
    data = context.run_data()
    pairs = border_pairs(data)
    return html.Div([
        page_header(view, _("Where unregistered mining near a border is largest and growing, the towns on each side "
                            "and the nearest official crossing; and whether declared production makes sense "
                            "against what is visible. It opens on diamond sites along the borders between the "
                            "four countries; gold, every commodity and the external borders are one choice away "
                            "above.")),
        filter_bar(view, data, query),
        html.Div(className="filter-bar", children=[
            html.Div(className="filter", children=[
                html.Label(_("Border"), htmlFor=PAIR),
                dcc.RadioItems(id=PAIR, inline=True, labelStyle={"marginRight": "14px"},
                               value=query.get("pair") if query.get("pair") in pairs else ALL_BORDERS,
                               options=[{"label": " " + _("All"), "value": ALL_BORDERS}]
                               + [{"label": html.Span(" " + short, title=names), "value": pair}
                                  for pair, (short, names) in pairs.items()])]),
            html.Div(className="filter", children=[html.Label(_("Change since"), htmlFor=SINCE),
                                                   compare_control(SINCE, data.periods)]),
            html.Div(className="filter", children=[
                html.Label(_("Order"), htmlFor=ORDER),
                dcc.RadioItems(id=ORDER, value=RANK, inline=True, labelStyle={"marginRight": "14px"},
                               options=[{"label": " " + _(label), "value": name} for name, label in ORDERS.items()])]),
        ]),
        html.P(id=SHOWING, className="map-status"),
        html.Div(className="card", children=[
            html.H2(_("Border corridors: unregistered area, its change and the nearest official crossing")),
            table(CORRIDORS, [], corridor_columns())]),
        html.Div(className="grid-2-even", children=[
            html.Div(className="card", children=[html.H2(_("Unregistered area in the border zone, by corridor "
                                                           "(the first %(count)s in the order chosen)", count=TOP)),
                                                 graph(CORRIDOR_CHART)]),
            html.Div(className="card", children=[html.H2(_("Distance from border-zone sites to the nearest official "
                                                           "crossing")), graph(DISTANCES)])]),
        html.Div(className="card", children=[
            html.H2(_("Production capacity from newly mined diamond area against declared KP production")),
            html.P(_("Bars: the 5–95 % interval of the estimate; dot: central estimate (hollow for a partial year: "
                     "hover for the days the imagery covers and how the year's rate was made); diamond: declared "
                     "production (hollow when the figure is ILLUSTRATIVE, not a KP statistic); red: an anomaly "
                     "flag. Under the chart: the parameters of the estimate and their sources (a USGS assessment, "
                     "or ILLUSTRATIVE where none is published), when the run publishes them."),
                   className="page-note"),
            graph(CAPACITY, capacity_figure(data)),
            parameter_sources(data),
            anomaly_table(data)]),
        html.Div(className="card", children=[html.H2(_("Transboundary sites")),
                                             table(TRANSBOUNDARY, [], transboundary_columns())]),
    ])


def border_pairs(data: RunData) -> dict[str, tuple[str, str]]:
    """Every border pair of the run's corridors ("GIN-SLE"), each side in the order of the run's countries: its
    short name ("SLE–GIN") and its countries' names ("Sierra Leone – Guinea"), in that order."""
    order = {code: i for i, code in enumerate(data.countries)}

    def sides(pair: str) -> list[str]:
        return sorted(pair.split("-"), key=lambda code: (order.get(code, len(order)), code))

    pairs = sorted({pair for scope in data.scope_pairs.values() for pair in scope},
                   key=lambda pair: [(order.get(code, len(order)), code) for code in sides(pair)])
    return {pair: ("–".join(sides(pair)), " – ".join(word("country", code) for code in sides(pair))) for pair in pairs}


@dash.callback(Output(SHOWING, "children"), Output(CORRIDOR_CHART, "figure"), Output(CORRIDORS, "data"),
               Output(DISTANCES, "figure"), Output(TRANSBOUNDARY, "data"), *filter_inputs(), Input(PAIR, "value"),
               Input(SINCE, "value"), Input(ORDER, "value"))
def update_border(country, period, commodity, classes, border, scope, pair, since, order):
    """The page follows the country, period, commodity and border scope (not the classes nor the border-zone
    switch: its charts are of every class in the border zone), the border, the period compared with and the
    order chosen, so its answers are stored under those."""
    data, access = context.run_data(), current_access()
    filters = filters_from(data, country, period, commodity, None, None, scope)
    choice = (pair if pair in border_pairs(data) else ALL_BORDERS, compared_period(data.periods, filters.period, since),
              order if order in ORDERS else RANK)
    return context.remembered(data, "border", access, (filters, *choice),
                              lambda: border_outputs(data, access, filters, *choice))


def border_outputs(data: RunData, access, filters: Filters, pair: str = ALL_BORDERS, since: str | None = None,
                   order: str = RANK) -> tuple:
    """The page's answers: what it shows, the corridor chart and table (in `order`, of border `pair` or all),
    the distances to crossings and the transboundary sites."""
    rows = corridor_rows(data, filters, pair, since, order)
    top = rows.head(TOP)
    corridors = figure([{"type": "bar", "orientation": "h", "x": values(top["unregistered_ha"]),
                         "y": values(top["corridor_id"]), "marker": {"color": REGISTRATION_CSS["no_licence"]},
                         "hovertext": values(corridor_labels(top, filters)),
                         "hovertemplate": "%{hovertext}<extra></extra>"}],
                       yaxis=axis(autorange="reversed"), xaxis=axis(_("unregistered ha in the border zone")), **_LAYOUT)
    distances = post_distances(data, filters, pair or None)
    unregistered = distances["registration"].isin(UNREGISTERED_CLASSES)
    hist = figure([{"type": "histogram", "x": values(distances.loc[mask, "dist_post_km"]), "name": name,
                    "marker": {"color": colour}, "xbins": {"size": 10}, "opacity": 0.8}
                   for name, mask, colour in ((_("unregistered"), unregistered, REGISTRATION_CSS["no_licence"]),
                                              (_("registered or not assessed"), ~unregistered,
                                               REGISTRATION_CSS["registered"]))],
                  barmode="stack", xaxis=axis(_("km to the nearest official crossing")), yaxis=axis(_("sites")),
                  **_LAYOUT)
    sites = site_rows(data, filters, access)
    sites = sites[sites["transboundary"].astype(bool) & (sites["border_pair"] == pair if pair else True)]
    compared = (_("change since %(period)s", period=since) if since
                else _("no earlier period to compare with"))
    shown = _("Showing %(what)s; %(compared)s.", what=showing(filters, scope=True), compared=compared)
    return (shown, corridors, records(rows, corridor_columns()), hist,
            records(sites.assign(registration=[word("registration", code) for code in sites["registration"]]),
                    transboundary_columns()))


_LAYOUT = {"margin": {"l": 90, "r": 10, "t": 10, "b": 40}, "height": 330, "legend": {"orientation": "h", "y": -0.25}}


def corridor_rows(data: RunData, filters: Filters, pair: str, since: str | None, order: str) -> pd.DataFrame:
    """The corridors of `filters` (of border `pair` only, if one) with their rank, place, crossing, growth since
    `since` and a link showing each on the map, by rank or growing fastest (`order`)."""
    rows = corridor_changes(data, filters, since)
    if pair:
        rows = rows[rows["border_pair"] == pair]
    if order == GROWTH:
        rows = growing_fastest(rows)
    shared = {"period": filters.period, "commodity": filters.commodity or "all", "scope": filters.scope}
    link = "[" + _("Show on map") + "](/map?"
    return rows.assign(map=[link + urlencode({"corridor": corridor, **shared}) + ")" for corridor in rows["corridor_id"]])


def corridor_columns() -> list[dict]:
    """The corridor table's columns, headed in the current language."""
    return [number_column("rank", _("Rank"), 0), text_column("place", _("Corridor")),
            text_column("corridor_id", _("Code")), text_column("border_pair", _("Border")),
            number_column("unregistered_ha", _("Unregistered (ha)")),
            number_column("change_ha", _("Change (ha)"), signed=True),
            share_column("change_pct", _("Change (%)"), missing=_("new"), signed=True),
            number_column("sites", _("Sites"), 0), text_column("nearest_post_name", _("Nearest official crossing")),
            number_column("dist_post_km", _("To crossing (km)")), text_column("map", _("Map"), link=True)]


def transboundary_columns() -> list[dict]:
    """The transboundary site table's columns, headed in the current language."""
    return [text_column("site_id", _("Site")), text_column("countries", _("Countries")),
            text_column("commodity", _("Commodity")), text_column("registration", _("Class")),
            number_column("area_ha", _("Area (ha)")), number_column("dist_border_km", _("To border (km)")),
            text_column("nearest_post_name", _("Nearest official crossing")),
            number_column("dist_post_km", _("To crossing (km)"))]


def records(frame: pd.DataFrame, columns: list[dict]) -> list[dict]:
    """The rows of `frame` for a table of `columns` (missing values as None)."""
    shown = frame[[column["id"] for column in columns]]
    return shown.astype(object).where(shown.notna(), None).to_dict("records")


def capacity_figure(data: RunData) -> dict:
    """One panel per country: the estimate's 5–95 % interval and central value (hollow for a partial year) and
    declared production per year."""
    table = capacity_table(data)
    countries = [c for c in data.countries if c in set(table["country"])]
    panels, refs = columns_side_by_side(countries, _("carats per year"), type="log")
    for name in [key for key in panels if key.startswith("xaxis")]:
        panels[name]["type"] = "category"  # years as labels, not 2,024.5
    traces = []
    for i, (country, (xref, yref)) in enumerate(zip(countries, refs)):
        rows = table[table["country"] == country]
        years = values(rows["year"].astype(str))
        central = rows["volume_carats_central"]
        partial = rows["partial_year"].fillna(False).astype(bool)
        traces.append({"type": "scatter", "x": years, "y": values(central), "mode": "markers", "xaxis": xref,
                       "yaxis": yref, "name": _("estimate: central (median), bar: 5–95 % interval"),
                       "legendgroup": "central", "showlegend": i == 0,
                       "marker": {"color": "#0b5563", "size": 8,
                                  "symbol": ["circle-open" if part else "circle" for part in partial]},
                       "text": coverage_words(rows),
                       "hovertemplate": "%{x}: " + _("central %(carats)s ct", carats="%{y:,.0f}")
                       + " (%{text})<extra></extra>",
                       "error_y": {"type": "data", "symmetric": False,
                                   "array": values(rows["volume_carats_p95"] - central),
                                   "arrayminus": values(central - rows["volume_carats_p05"])}})
        illustrative = rows["declared_illustrative"].fillna(False).astype(bool)
        flagged = rows["flags"] != ""
        traces.append({"type": "scatter", "x": years, "y": values(rows["declared_production_carats"]),
                       "mode": "markers", "xaxis": xref, "yaxis": yref, "name": _("declared"),
                       "legendgroup": "declared", "showlegend": i == 0,
                       "marker": {"symbol": ["diamond-open" if ill else "diamond" for ill in illustrative],
                                  "size": 11, "color": ["#b2182b" if f else "#444444" for f in flagged]},
                       "text": [(flags or _("no flag")) + (_(" — ILLUSTRATIVE figure") if ill else "")
                                for flags, ill in zip(rows["flags"], illustrative)],
                       "hovertemplate": "%{x}: " + _("declared %(carats)s ct", carats="%{y:,.0f}")
                       + " (%{text})<extra></extra>"})
    return figure(traces, **{**_LAYOUT, "margin": {"l": 60, "r": 10, "t": 30, "b": 40}}, **panels)


def coverage_words(rows: pd.DataFrame) -> list[str]:
    """The interval of each estimate, and for a partial year how many days the imagery covers and how the
    year's rate was made (the row's caveats, as the analysis wrote them, in the current language)."""
    words = []
    for row in rows.itertuples(index=False):
        text = _("5–95 %%: %(low)s–%(high)s ct", low=number(row.volume_carats_p05), high=number(row.volume_carats_p95))
        if not pd.isna(row.partial_year) and row.partial_year:
            text += _("; PARTIAL YEAR, %(days)s days observed: %(caveats)s", days=number(row.days_observed),
                      caveats=translate_text("" if pd.isna(row.caveats) else str(row.caveats)))
        words.append(text)
    return words


#: The headers of the capacity parameters' table.
PARAMETER_HEADERS = {"country": N_("Country"), "method": N_("Method"), "parameter": N_("Parameter"),
                     "distribution": N_("Distribution"), "source": N_("Source"), "basis": N_("Basis")}


def parameter_sources(data: RunData) -> html.Div:
    """The parameters of the estimate with their sources (a USGS report and table, or ILLUSTRATIVE), or why the
    run does not show them."""
    frame = parameter_sources_table(data)
    if frame.empty:
        return html.P(_("This run does not publish the parameters of its estimate: read them in its configuration "
                        "(Downloads, the run's manifest)."), className="page-note", id=PARAMETERS)
    columns = [text_column(name, _(PARAMETER_HEADERS[name])) for name in ("country", "method", "parameter")]
    columns += [number_column(name, header, 2) for name, header in (("low", _("Low")), ("central", _("Central")),
                                                                     ("high", _("High")))]
    columns += [text_column(name, _(PARAMETER_HEADERS[name])) for name in ("distribution", "source", "basis")]
    return table(PARAMETERS, records(frame, columns), columns, page_size=10)


def anomaly_table(data: RunData):
    """The anomaly flags of declared production, each with the figures it compared and whether they are
    ILLUSTRATIVE."""
    frame = data.anomalies.assign(
        year=data.anomalies["year"].astype(str),
        illustrative=data.anomalies["illustrative"].map({True: "ILLUSTRATIVE", False: _("published (see its source)")}),
        compared=data.anomalies["compared"].map(translate_text), message=data.anomalies["message"].map(translate_text))
    columns = [text_column("country", _("Country")), text_column("year", _("Year")), text_column("flag", _("Flag")),
               text_column("compared", _("Compared")), text_column("illustrative", _("Figure")),
               text_column("message", _("Message"))]
    return table(ANOMALIES, records(frame, columns), columns, page_size=15)
