"""Alerts (`/alerts`): the run's alerts the user may see, the user's subscriptions, and watching a named area.

The alerts table (new in this run first; filters by kind, confidence and "new in this run"; each row links to
its site's dossier) and the counts by kind are cut to the user's role: an agency user sees its own country's
alerts only. "My subscriptions" lists the user's watches with their Atom and GeoJSON feeds; one can be removed.
The form watches a country, a border corridor, an admin area or a licence of the run.

Every callback checks on the server what the request claims: a named area must be one the user may watch
(`area_choices` for its country), and a subscription is removed only by its owner (`Subscriptions.remove`).
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Input, Output, State, dcc, html

from mrumonitor.alerts.select import run_alerts
from mrumonitor.alerts.subscriptions import Subscriptions
from mrumonitor.areas.resolve import area_choices, named_area
from mrumonitor.config import Settings
from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import Access, current_access
from mrumonitor.dashboard.alerts_view import (
    ALERT_HEADERS,
    SUBSCRIPTION_HEADERS,
    alerts_table,
    filtered,
    kind_counts,
    subscriptions_table,
    visible_alerts,
)
from mrumonitor.dashboard.components import frame_table, page_header
from mrumonitor.dashboard.link_table import link_table
from mrumonitor.dashboard.watch_form import (
    CONFIDENCE_LABELS,
    WatchForm,
    shown_run,
    subscribe,
    subscribed_message,
    watch_fields,
    watch_states,
)
from mrumonitor.errors import AreaError, MruError
from mrumonitor.schema import ALERT_KIND_WORDS, ALERT_KINDS, CONFIDENCE_LEVELS

dash.register_page(__name__, path="/alerts", name="Alerts", title="Alerts — MRU mining monitor")

TABLE = "alerts-table"
COUNTS = "alerts-counts"
FILTER_KINDS = "alerts-filter-kinds"
FILTER_CONFIDENCE = "alerts-filter-confidence"
FILTER_NEW = "alerts-filter-new"
NEW = "new"
SUBSCRIPTIONS = "alerts-subscriptions"
REMOVE_CHOICE = "alerts-remove-choice"
REMOVE = "alerts-remove"
REMOVE_MESSAGE = "alerts-remove-message"
AREA_KIND = "alerts-area-kind"
AREA_REF = "alerts-area-ref"
WATCH = "alerts"
WATCH_SUBMIT = "alerts-watch-submit"
WATCH_MESSAGE = "alerts-watch-message"
#: The most rows the alerts table receives (the counts cover them all): a first run raises thousands.
MAX_ROWS = 500
#: The named areas one may watch here, in words.
NAMED_KINDS = {"country": "Country", "corridor": "Border corridor", "admin": "Admin area", "licence": "Licence"}


@context.page("alerts")
def layout(view, **_query):
    run_dir = shown_run()
    settings = context.settings()
    access = current_access()
    return html.Div([
        page_header(view, f"Alerts of run {run_dir.name}: what changed at the sites between consecutive periods. "
                          "Watch an area to receive its new alerts by e-mail or feed."),
        html.Div(className="card", children=[
            html.H2("Alerts of this run" + ("" if access.regional else f" in {access.country}")),
            html.Div(className="filter-bar", children=[
                html.Div(className="filter", children=[html.Label("Kind", htmlFor=FILTER_KINDS), dcc.Dropdown(
                    id=FILTER_KINDS, multi=True, value=[], placeholder="All kinds",
                    options=[{"label": ALERT_KIND_WORDS[kind], "value": kind} for kind in ALERT_KINDS])]),
                html.Div(className="filter", children=[html.Label("Confidence", htmlFor=FILTER_CONFIDENCE),
                                                       dcc.Dropdown(id=FILTER_CONFIDENCE, clearable=False, value="low",
                                                                    options=[{"label": CONFIDENCE_LABELS[c], "value": c}
                                                                             for c in CONFIDENCE_LEVELS])]),
                html.Div(className="filter", children=[dcc.Checklist(
                    id=FILTER_NEW, value=[], options=[{"label": " New in this run only", "value": NEW}])])]),
            html.Div(id=COUNTS),
            link_table(TABLE, [], ALERT_HEADERS, ("site",))]),
        html.Div(className="grid-2-even", children=[
            html.Div(className="card", children=[html.H2("My subscriptions"),
                                                 html.Div(subscriptions_section(settings, access), id=SUBSCRIPTIONS),
                                                 html.Div(id=REMOVE_MESSAGE, role="status")]),
            html.Div(className="card", children=[
                html.H2("Watch a named area"),
                html.Div(className="filter", children=[html.Label("Area kind", htmlFor=AREA_KIND), dcc.Dropdown(
                    id=AREA_KIND, clearable=False, value="country",
                    options=[{"label": label, "value": kind} for kind, label in NAMED_KINDS.items()])]),
                html.Div(className="filter", children=[html.Label("Area", htmlFor=AREA_REF),
                                                       dcc.Dropdown(id=AREA_REF, options=[])]),
                *watch_fields(WATCH, settings, access),
                html.Button("Watch this area", id=WATCH_SUBMIT, className="button", n_clicks=0),
                html.Div(id=WATCH_MESSAGE, role="status")])]),
    ])


# --- the run's alerts --------------------------------------------------------------------------------------

@dash.callback(Output(TABLE, "data"), Output(COUNTS, "children"), Input(FILTER_KINDS, "value"),
               Input(FILTER_CONFIDENCE, "value"), Input(FILTER_NEW, "value"))
def update_alerts(kinds, confidence, new):
    alerts = visible_alerts(run_alerts(shown_run()), current_access())
    shown = filtered(alerts, kinds, confidence, NEW in (new or []))
    cut = (f"The table shows the first {MAX_ROWS:,} of {len(shown):,} alerts: narrow the filters to see the others."
           if len(shown) > MAX_ROWS else "")
    return alerts_table(shown.head(MAX_ROWS)), [frame_table(f"{COUNTS}-table", kind_counts(shown)),
                                                html.P(cut, className="layer-note")]


# --- subscriptions -----------------------------------------------------------------------------------------

def subscriptions_section(settings: Settings, access: Access) -> list:
    """The user's subscriptions with their feeds, and the choice of one to remove."""
    rows = subscriptions_table(Subscriptions(settings.subscriptions), access.user or "")
    if not rows:
        return [html.P("None yet: watch an area here or on the Area statistics page.", id=f"{SUBSCRIPTIONS}-none")]
    return [
        link_table(f"{SUBSCRIPTIONS}-table", rows, SUBSCRIPTION_HEADERS, ("feeds",), page_size=10),
        html.Div(className="filter", children=[
            html.Label("Remove a subscription", htmlFor=REMOVE_CHOICE),
            dcc.Dropdown(id=REMOVE_CHOICE, options=[{"label": f"{row['name']} ({row['area']})", "value": row["id"]}
                                                    for row in rows])]),
        html.Button("Remove", id=REMOVE, className="button", n_clicks=0)]


@dash.callback(Output(REMOVE_MESSAGE, "children"), Output(SUBSCRIPTIONS, "children", allow_duplicate=True),
               Input(REMOVE, "n_clicks"), State(REMOVE_CHOICE, "value"), prevent_initial_call=True)
def remove_subscription(n_clicks, subscription_id):
    """Remove (deactivate) a subscription of the request's user; another user's is refused."""
    if not n_clicks or subscription_id is None:
        return dash.no_update, dash.no_update
    settings, access = context.settings(), current_access()
    try:
        Subscriptions(settings.subscriptions).remove(int(subscription_id), user=access.user or "")
    except (MruError, TypeError, ValueError) as exc:
        return html.P(f"Not removed: {exc}", className="error"), dash.no_update
    return html.P(f"Removed subscription {int(subscription_id)}.", className="ok"), subscriptions_section(settings,
                                                                                                          access)


@dash.callback(Output(AREA_REF, "options"), Output(AREA_REF, "value"), Input(AREA_KIND, "value"))
def update_choices(kind):
    choices = area_choices(shown_run(), current_access().country).get(kind, [])
    return [{"label": label, "value": ref} for ref, label in choices], None


def chosen_area(run_dir: Path, access: Access, kind: str | None, ref: str | None):
    """The named area `kind`/`ref`, if `access` may watch it (checked here: the request may not come from the form).

    Raises
    ------
    AreaError
        Not an area of the list the user is offered.
    """
    refs = [choice for choice, _ in area_choices(run_dir, access.country).get(kind or "", [])]
    if ref not in refs:
        whose = "" if access.regional else f" of {access.country} (your role)"
        raise AreaError(f"{NAMED_KINDS.get(kind or '', kind)} {ref!r} is not one you may watch in run {run_dir.name}; "
                        f"choose one of the list: the {kind} areas{whose}.")
    return named_area(run_dir, kind, ref)


@dash.callback(Output(WATCH_MESSAGE, "children"), Output(SUBSCRIPTIONS, "children", allow_duplicate=True),
               Input(WATCH_SUBMIT, "n_clicks"), State(AREA_KIND, "value"), State(AREA_REF, "value"),
               *watch_states(WATCH), prevent_initial_call=True)
def watch_named_area(n_clicks, kind, ref, *form):
    """Subscribe the request's user to the alerts of a named area it may watch, from the run shown."""
    if not n_clicks:
        return dash.no_update, dash.no_update
    settings, access, run_dir = context.settings(), current_access(), shown_run()
    try:
        area = chosen_area(run_dir, access, kind, ref)
        subscription = subscribe(settings, access, area, WatchForm(*form), run_dir.name)
    except MruError as exc:
        return html.P(f"Not watched: {exc}", className="error"), dash.no_update
    return subscribed_message(subscription), subscriptions_section(settings, access)
