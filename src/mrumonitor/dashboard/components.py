"""Pieces of layout the pages share: the filter bar, KPI cards, tables, the plain "not allowed" message.

The filter bar has the same component ids on every page and keeps its values for the browser session, so
a country chosen on the overview is still chosen on the site table. A filter a page's view does not list is
still in the layout, hidden, at its default value: every callback reads the same six inputs.

The bar opens on diamonds and the borders between the four countries (`filters.DEFAULT_COMMODITY`,
`filters.DEFAULT_SCOPE`); a page's address may set any filter (`/border?scope=external&commodity=gold`, see
`QUERY_KEYS`), which is how a link shares a view.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, dash_table, dcc, html

from mrumonitor.dashboard.filters import ALL_COMMODITIES, Filters, default_filters
from mrumonitor.dashboard.run import RunData
from mrumonitor.dashboard.views import FILTERS, View
from mrumonitor.schema import BORDER_SCOPES, COMMODITIES, NOT_MINING_CLASS, REGISTRATION_CLASSES, UNREGISTERED_CLASSES
from mrumonitor.style import REGISTRATION_CSS

#: Component ids of the filter bar, one per filter of `views.FILTERS`.
FILTER_IDS = {
    "country": "filter-country",
    "period": "filter-period",
    "commodity": "filter-commodity",
    "registration": "filter-registration",
    "border_only": "filter-border-only",
    "scope": "filter-scope",
}
ALL = ""
BORDER_ONLY = "border"

#: The query keys of a page's address that set a filter's first value: `?country=SLE&period=2025H2&
#: commodity=gold&scope=external` (commodity "" or "all": every commodity).
QUERY_KEYS = {"country": "country", "period": "period", "commodity": "commodity", "scope": "scope"}

#: Commodities as the filter bar and the pages' captions name them.
COMMODITY_LABELS = {"diamond": "Diamonds (the KP commodity)", "gold": "Gold (not a KP commodity)",
                    "other": "Other minerals"}

#: KPI titles and how their values are written.
KPI_TITLES = {
    "active_ha": ("Active mined area", "{:,.0f} ha"),
    "unregistered_share": ("Share unregistered", "{:.1f} %"),
    "border_zone_sites": ("Sites in the border zone", "{:,d}"),
    "new_sites": ("New sites this period", "{:,d}"),
    "transboundary_sites": ("Transboundary sites", "{:,d}"),
    "sites": ("Current sites", "{:,d}"),
}


#: The KPIs that field verification qualifies: each card has a line under its value (id `accuracy_id`).
ACCURACY_KPIS = ("active_ha", "unregistered_share")

#: Registration classes as people read them (legend, filters).
CLASS_LABELS = {name: name.replace("_", " ") for name in REGISTRATION_CLASSES} | {
    NOT_MINING_CLASS: "verified not mining (field-checked false positive)"}


def accuracy_id(prefix: str, name: str) -> str:
    """The id of the accuracy line under KPI `name` of a page's cards."""
    return f"{prefix}-kpi-{name}-accuracy"


def filter_inputs() -> list[Input]:
    """The six filter values, in the order `filters_from` takes them."""
    return [Input(FILTER_IDS[name], "value") for name in FILTERS]


def filters_from(data: RunData, country: str | None, period: str | None, commodity: str | None,
                 classes: list[str] | None, border: list[str] | None, scope: str | None = None) -> Filters:
    """Filters from the filter bar's values (unknown values fall back to the defaults)."""
    return default_filters(data, countries=[country] if country else [], period=period, commodity=commodity,
                           classes=classes or [], border_only=BORDER_ONLY in (border or []), scope=scope)


def scope_label(data: RunData, scope: str) -> str:
    """The filter bar's label of a border scope, with the border pairs of the run in it, each side and pair in the
    order of the run's countries: "MRU internal borders (SLE–GIN, SLE–LBR, GIN–LBR, GIN–CIV, LBR–CIV)"."""
    order = {code: i for i, code in enumerate(data.countries)}

    def place(code: str) -> tuple[int, str]:  # the run's countries first, in their order, then the others
        return order.get(code, len(order)), code

    sides = [sorted(pair.split("-"), key=place) for pair in data.scope_pairs[scope]]
    pairs = ", ".join("–".join(two) for two in sorted(sides, key=lambda two: [place(c) for c in two]))
    pairs = pairs or "none in this run"
    if scope == "mru":
        return f"MRU internal borders ({pairs})"
    return f"External borders, outside the Regional Approach ({pairs})"


def _query_filters(data: RunData, query: dict[str, Any]) -> Filters:
    """The filters a page's address sets (`QUERY_KEYS`); the defaults for the others."""
    given = {key: query.get(name) for name, key in QUERY_KEYS.items()}
    if str(given["commodity"]).lower() == "all":
        given["commodity"] = ALL_COMMODITIES
    return filters_from(data, given["country"] if given["country"] in data.countries else None, given["period"],
                        given["commodity"], None, None, given["scope"])


def filter_bar(view: View, data: RunData, query: dict[str, Any] | None = None) -> html.Div:
    """The filter controls of `view`; the others hidden at their defaults. `query` (the page's address) may set
    the first values of the country, period, commodity and scope (`QUERY_KEYS`)."""
    persist = {"persistence": True, "persistence_type": "session"}
    first = _query_filters(data, query or {})
    controls = {
        "country": dcc.Dropdown(
            id=FILTER_IDS["country"], clearable=False, value=first.countries[0] if first.countries else ALL,
            **persist, options=[{"label": "All four countries", "value": ALL}]
            + [{"label": f"{data.country_names.get(code, code)} ({code})", "value": code} for code in data.countries]),
        "period": dcc.Dropdown(id=FILTER_IDS["period"], clearable=False, value=first.period, **persist,
                               options=[{"label": period, "value": period} for period in data.periods]),
        "commodity": dcc.Dropdown(id=FILTER_IDS["commodity"], clearable=False, value=first.commodity or ALL_COMMODITIES,
                                  **persist, options=[{"label": COMMODITY_LABELS[name], "value": name}
                                                      for name in COMMODITIES]
                                  + [{"label": "All commodities", "value": ALL_COMMODITIES}]),
        "registration": dcc.Dropdown(id=FILTER_IDS["registration"], multi=True, value=[], **persist,
                                     placeholder="All registration classes",
                                     options=[{"label": CLASS_LABELS[name], "value": name}
                                              for name in REGISTRATION_CLASSES]),
        "border_only": dcc.Checklist(id=FILTER_IDS["border_only"], value=[], **persist,
                                     options=[{"label": " Border zone only", "value": BORDER_ONLY}]),
        "scope": dcc.RadioItems(id=FILTER_IDS["scope"], value=first.scope, inline=True, **persist,
                                labelStyle={"marginRight": "14px"},
                                options=[{"label": " " + scope_label(data, scope), "value": scope}
                                         for scope in BORDER_SCOPES]),
    }
    labels = {"country": "Country", "period": "Period", "commodity": "Commodity", "registration": "Registration",
              "border_only": "Border", "scope": "Borders"}
    return html.Div(className="filter-bar", children=[
        html.Div(className="filter" if name in view.filters else "filter hidden",
                 children=[html.Label(labels[name], htmlFor=FILTER_IDS[name]), controls[name]])
        for name in FILTERS])


def page_header(view: View, note: str = "") -> html.Div:
    return html.Div(className="page-header", children=[html.H1(view.title)]
                    + ([html.P(note, className="page-note")] if note else []))


def kpi_cards(view: View, prefix: str) -> html.Div:
    """Empty KPI cards (values filled by the page's callback; ids `<prefix>-kpi-<name>`); those `view` does not
    list are hidden. The `ACCURACY_KPIS` have a line under the value for their measured accuracy (`accuracy_id`)."""
    def card(name: str) -> list:
        children = [html.Div(KPI_TITLES[name][0], className="kpi-title"),
                    html.Div("…", id=f"{prefix}-kpi-{name}", className="kpi-value")]
        if name in ACCURACY_KPIS:
            children.append(html.Div("", id=accuracy_id(prefix, name), className="kpi-accuracy",
                                     style={"fontSize": "12px", "color": "#555", "marginTop": "4px"}))
        return children

    return html.Div(className="kpis", children=[html.Div(className="kpi" if name in view.kpis else "kpi hidden",
                                                         children=card(name)) for name in KPI_TITLES])


def kpi_text(name: str, value: Any) -> str:
    return KPI_TITLES[name][1].format(value)


def legend() -> html.Div:
    """The map legend: site colours by registration class, and what the other symbols are."""
    items = [html.Div(className="legend-item", children=[
        html.Span(className="swatch", style={"background": REGISTRATION_CSS[name]}),
        CLASS_LABELS[name] + (" (unregistered)" if name in UNREGISTERED_CLASSES else "")])
        for name in REGISTRATION_CLASSES]
    items += [html.Div(className="legend-item", children=[html.Span(className="swatch post"), "official border post"]),
              html.Div(className="legend-item", children=[html.Span(className="swatch zone"), "border zone"]),
              html.Div(className="legend-item", children=[html.Span(className="swatch cell"),
                                                          "cell of sites (red: mostly unregistered)"])]
    return html.Div(className="legend", children=[html.Strong("Sites by registration class")] + items)


def frame_table(table_id: str, frame: pd.DataFrame, page_size: int = 15, **kwargs: Any) -> dash_table.DataTable:
    """A plain sortable table of a small frame (server-side tables use `dash_table.DataTable` directly)."""
    return dash_table.DataTable(
        id=table_id, columns=[{"name": str(c), "id": str(c)} for c in frame.columns],
        data=frame.astype(object).where(frame.notna(), None).to_dict("records"), page_size=page_size,
        sort_action="native", style_table={"overflowX": "auto"}, style_cell={"textAlign": "left"},
        style_header={"fontWeight": "bold"}, **kwargs)


#: Id of the runs page's table of warnings.
WARNINGS = "runs-warnings"


def warnings_card(manifest: dict) -> html.Div:
    """The warnings the run shown recorded (implausible inputs it used anyway, see `runwarnings`), or that it
    has none."""
    warnings = [entry for entry in manifest.get("warnings", []) if isinstance(entry, dict)]
    title = f"Warnings of run {manifest.get('run_id', '?')} ({len(warnings)})"
    if not warnings:
        return html.Div(className="card", children=[html.H2(title), html.P("None: every input looked plausible.",
                                                                          id=WARNINGS)])
    frame = pd.DataFrame(warnings, columns=["stage", "subject", "message"]).fillna("")
    return html.Div(className="card", children=[html.H2(title), frame_table(
        WARNINGS, frame, style_data={"whiteSpace": "normal", "height": "auto"})])


def not_allowed(message: str) -> html.Div:
    """The plain answer to a request the user's role may not see."""
    return html.Div(className="not-allowed", children=[html.H2("Not allowed"), html.P(message)])


def graph(graph_id: str, figure: Any = None) -> dcc.Graph:
    """A plotly chart with no mode bar logo and no request outside the app."""
    return dcc.Graph(id=graph_id, figure=figure or {}, config={"displaylogo": False, "showTips": False},
                     className="chart")
