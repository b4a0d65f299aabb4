"""Pieces of layout the pages share: the filter bar, KPI cards, tables, the plain "not allowed" message.

The filter bar has the same component ids on every page and keeps its values for the browser session, so
a country chosen on the overview is still chosen on the site table. A filter a page's view does not list is
still in the layout, hidden, at its default value: every callback reads the same six inputs.

The bar opens on diamonds and the borders between the four countries (`filters.DEFAULT_COMMODITY`,
`filters.DEFAULT_SCOPE`); a page's address may set any filter (`/border?scope=external&commodity=gold`, see
`QUERY_KEYS`), which is how a link shares a view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from dash import Input, dash_table, dcc, html
from dash.dash_table.Format import Format, Group, Scheme

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import APP_NAME
from mrumonitor.dashboard.figures import graph_config
from mrumonitor.dashboard.filters import ALL_COMMODITIES, Filters, default_filters
from mrumonitor.dashboard.run import RunData
from mrumonitor.dashboard.views import FILTERS, View
from mrumonitor.i18n import N_, _, number, percent, plotly_separators
from mrumonitor.i18n.messages import translate_text
from mrumonitor.i18n.vocabulary import WORDS, word
from mrumonitor.schema import BORDER_SCOPES, COMMODITIES, REGISTRATION_CLASSES, UNREGISTERED_CLASSES
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

#: Commodities as the filter bar and the pages' captions name them (translated where shown).
COMMODITY_LABELS = {"diamond": N_("Diamonds (the KP commodity)"), "gold": N_("Gold (not a KP commodity)"),
                    "other": N_("Other minerals")}

#: KPI titles (translated where shown); `kpi_text` writes their values.
KPI_TITLES = {
    "active_ha": N_("Active mined area"),
    "unregistered_share": N_("Share unregistered"),
    "border_zone_sites": N_("Sites in the border zone"),
    "new_sites": N_("New sites this period"),
    "transboundary_sites": N_("Transboundary sites"),
    "sites": N_("Current sites"),
}


#: The KPIs that field verification qualifies: each card has a line under its value (id `accuracy_id`).
ACCURACY_KPIS = ("active_ha", "unregistered_share")

#: Registration classes as people read them (legend, filters), in English: `_(CLASS_LABELS[name])` where shown.
CLASS_LABELS = WORDS["registration"]


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
    pairs = pairs or _("none in this run")
    if scope == "mru":
        return _("MRU internal borders (%(pairs)s)", pairs=pairs)
    return _("External borders, outside the Regional Approach (%(pairs)s)", pairs=pairs)


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
            **persist, options=[{"label": _("All four countries"), "value": ALL}]
            + [{"label": f"{_country_name(data, code)} ({code})", "value": code} for code in data.countries]),
        "period": dcc.Dropdown(id=FILTER_IDS["period"], clearable=False, value=first.period, **persist,
                               options=[{"label": period, "value": period} for period in data.periods]),
        "commodity": dcc.Dropdown(id=FILTER_IDS["commodity"], clearable=False, value=first.commodity or ALL_COMMODITIES,
                                  **persist, options=[{"label": _(COMMODITY_LABELS[name]), "value": name}
                                                      for name in COMMODITIES]
                                  + [{"label": _("All commodities"), "value": ALL_COMMODITIES}]),
        "registration": dcc.Dropdown(id=FILTER_IDS["registration"], multi=True, value=[], **persist,
                                     placeholder=_("All registration classes"),
                                     options=[{"label": word("registration", name), "value": name}
                                              for name in REGISTRATION_CLASSES]),
        "border_only": dcc.Checklist(id=FILTER_IDS["border_only"], value=[], **persist,
                                     options=[{"label": " " + _("Border zone only"), "value": BORDER_ONLY}]),
        "scope": dcc.RadioItems(id=FILTER_IDS["scope"], value=first.scope, inline=True, **persist,
                                labelStyle={"marginRight": "14px"},
                                options=[{"label": " " + scope_label(data, scope), "value": scope}
                                         for scope in BORDER_SCOPES]),
    }
    return html.Div(className="filter-bar", children=[
        html.Div(className="filter" if name in view.filters else "filter hidden",
                 children=[html.Label(_(FILTER_LABELS[name]), htmlFor=FILTER_IDS[name]), controls[name]])
        for name in FILTERS])


#: The filter bar's labels (translated where shown).
FILTER_LABELS = {"country": N_("Country"), "period": N_("Period"), "commodity": N_("Commodity"),
                 "registration": N_("Registration"), "border_only": N_("Border"), "scope": N_("Borders")}


def _country_name(data: RunData, code: str) -> str:
    """A country of the run by name in the user's language (the run's own name for one the vocabulary lacks)."""
    return _(WORDS["country"][code]) if code in WORDS["country"] else data.country_names.get(code, code)


def page_title(name: str) -> Callable[..., str]:
    """The browser tab's title of page `name` (a `dash.register_page` title), in the user's language: made per
    request, as the views file and the language are known only then."""
    def title(**_path: Any) -> str:
        view = context.view(name)
        return _("%(page)s — %(app)s", page=_(view.title) if view else name, app=_(APP_NAME))

    return title


def page_header(view: View, note: str = "") -> html.Div:
    """The page's title (its view's, translated: a deployment's own title shows as written) and a note under it."""
    return html.Div(className="page-header", children=[html.H1(_(view.title))]
                    + ([html.P(note, className="page-note")] if note else []))


def kpi_cards(view: View, prefix: str) -> html.Div:
    """Empty KPI cards (values filled by the page's callback; ids `<prefix>-kpi-<name>`); those `view` does not
    list are hidden. The `ACCURACY_KPIS` have a line under the value for their measured accuracy (`accuracy_id`)."""
    def card(name: str) -> list:
        children = [html.Div(_(KPI_TITLES[name]), className="kpi-title"),
                    html.Div("…", id=f"{prefix}-kpi-{name}", className="kpi-value")]
        if name in ACCURACY_KPIS:
            children.append(html.Div("", id=accuracy_id(prefix, name), className="kpi-accuracy",
                                     style={"fontSize": "12px", "color": "#555", "marginTop": "4px"}))
        return children

    return html.Div(className="kpis", children=[html.Div(className="kpi" if name in view.kpis else "kpi hidden",
                                                         children=card(name)) for name in KPI_TITLES])


def kpi_text(name: str, value: Any) -> str:
    """The value of KPI `name` as its card writes it: hectares, a share (`value` in %) or a count."""
    if name == "active_ha":
        return _("%(area)s ha", area=number(value))
    if name == "unregistered_share":
        return percent(None if value is None else value / 100, 1)
    return number(value)


def legend(sections: tuple[html.Div, ...] | list[html.Div] = ()) -> html.Details:
    """The map legend, folded into a "Legend" summary: site colours by registration class, then `sections` (one
    per other layer of the map: `maplayers.legend_sections`). Beside the map on a wide screen, under it on a
    phone (assets/map.css)."""
    items = [html.Div(className="legend-item", children=[
        html.Span(className="swatch", style={"background": REGISTRATION_CSS[name]}),
        _(CLASS_LABELS[name]) + (" " + _("(unregistered)") if name in UNREGISTERED_CLASSES else "")])
        for name in REGISTRATION_CLASSES]
    sites = html.Div(className="legend-section", children=[html.Strong(_("Sites by registration class"))] + items)
    return html.Details(className="legend", open=True, children=[html.Summary(_("Legend")), sites, *sections])


def table_columns(columns: Any, headers: dict[str, str] | None = None,
                  digits: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """A DataTable's columns: each column's id; as its name its header of `headers` (English, marked `N_`) in the
    user's language, else the column's own name; the columns of `digits` as numbers with that many decimals and
    the language's separators (`table_locale`), still sorted as numbers."""
    headers, digits = headers or {}, digits or {}

    def column(name: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": _(headers[name]) if name in headers else name, "id": name}
        if name in digits:
            spec |= {"type": "numeric", "format": Format(precision=digits[name], scheme=Scheme.fixed,
                                                         group=Group.yes).to_plotly_json()}
        return spec

    return [column(str(c)) for c in columns]


def table_locale() -> dict[str, str]:
    """A DataTable's `locale_format`: the current language's decimal and thousands separators."""
    decimal, group = plotly_separators()
    return {"decimal": decimal, "group": group}


def frame_table(table_id: str, frame: pd.DataFrame, page_size: int = 15, headers: dict[str, str] | None = None,
                digits: dict[str, int] | None = None, **kwargs: Any) -> dash_table.DataTable:
    """A plain sortable table of a small frame (server-side tables use `dash_table.DataTable` directly), its
    headers as `headers` names them (translated; a column it does not name keeps its name), scrolling sideways
    inside its box on a narrow screen."""
    return dash_table.DataTable(
        id=table_id, columns=table_columns(frame.columns, headers, digits), locale_format=table_locale(),
        data=frame.astype(object).where(frame.notna(), None).to_dict("records"), page_size=page_size,
        sort_action="native", style_table={"overflowX": "auto", "maxWidth": "100%"},
        style_cell={"textAlign": "left"},
        style_header={"fontWeight": "bold"}, **kwargs)


#: Id of the runs page's table of warnings.
WARNINGS = "runs-warnings"


def warnings_card(manifest: dict) -> html.Div:
    """The warnings the run shown recorded (implausible inputs it used anyway, see `runwarnings`), or that it
    has none."""
    warnings = [entry for entry in manifest.get("warnings", []) if isinstance(entry, dict)]
    title = _("Warnings of run %(run)s (%(count)s)", run=manifest.get("run_id", "?"), count=number(len(warnings)))
    if not warnings:
        return html.Div(className="card", children=[html.H2(title), html.P(_("None: every input looked plausible."),
                                                                          id=WARNINGS)])
    frame = pd.DataFrame(warnings, columns=["stage", "subject", "message"]).fillna("")
    frame["message"] = frame["message"].map(translate_text)
    return html.Div(className="card", children=[html.H2(title), frame_table(
        WARNINGS, frame, headers=WARNING_HEADERS, style_data={"whiteSpace": "normal", "height": "auto"})])


#: Headers of the table of a run's warnings.
WARNING_HEADERS = {"stage": N_("Stage"), "subject": N_("Subject"), "message": N_("Message")}


def not_allowed(message: str) -> html.Div:
    """The plain answer to a request the user's role may not see."""
    return html.Div(className="not-allowed", children=[html.H2(_("Not allowed")), html.P(message)])


def graph(graph_id: str, figure: Any = None) -> dcc.Graph:
    """A plotly chart in the user's language, with no mode bar logo and no request outside the app."""
    return dcc.Graph(id=graph_id, figure=figure or {}, config=graph_config(), className="chart")
