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
from mrumonitor.alerts.sentences import area_in_words
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
    headers,
    kind_counts,
    subscriptions_table,
    visible_alerts,
)
from mrumonitor.dashboard.components import frame_table, page_header, page_title
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
from mrumonitor.i18n import N_, _, number
from mrumonitor.i18n.vocabulary import word
from mrumonitor.schema import ALERT_KINDS, CONFIDENCE_LEVELS

dash.register_page(__name__, path="/alerts", name="Alerts", title=page_title("alerts"))

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
NAMED_KINDS = {"country": N_("Country"), "corridor": N_("Border corridor"), "admin": N_("Admin area"),
               "licence": N_("Licence")}


@context.page("alerts")
def layout(view, **_query):
    run_dir = shown_run()
    settings = context.settings()
    access = current_access()
    return html.Div([
        page_header(view, _("Alerts of run %(run)s: what changed at the sites between consecutive periods. Watch an "
                            "area to receive its new alerts by e-mail or feed.", run=run_dir.name)),
        html.Div(className="card", children=[
            html.H2(_("Alerts of this run") if access.regional
                    else _("Alerts of this run in %(country)s", country=word("country", access.country))),
            html.Div(className="filter-bar", children=[
                html.Div(className="filter", children=[html.Label(_("Kind"), htmlFor=FILTER_KINDS), dcc.Dropdown(
                    id=FILTER_KINDS, multi=True, value=[], placeholder=_("All kinds"),
                    options=[{"label": word("alert_kind", kind), "value": kind} for kind in ALERT_KINDS])]),
                html.Div(className="filter", children=[html.Label(_("Confidence"), htmlFor=FILTER_CONFIDENCE),
                                                       dcc.Dropdown(id=FILTER_CONFIDENCE, clearable=False, value="low",
                                                                    options=[{"label": _(CONFIDENCE_LABELS[c]),
                                                                              "value": c} for c in CONFIDENCE_LEVELS])]),
                html.Div(className="filter", children=[dcc.Checklist(
                    id=FILTER_NEW, value=[], options=[{"label": " " + _("New in this run only"), "value": NEW}])])]),
            html.Div(id=COUNTS),
            link_table(TABLE, [], headers(ALERT_HEADERS), ("site",))]),
        html.Div(className="grid-2-even", children=[
            html.Div(className="card", children=[html.H2(_("My subscriptions")),
                                                 html.Div(subscriptions_section(settings, access), id=SUBSCRIPTIONS),
                                                 html.Div(id=REMOVE_MESSAGE, role="status")]),
            html.Div(className="card", children=[
                html.H2(_("Watch a named area")),
                html.Div(className="filter", children=[html.Label(_("Area kind"), htmlFor=AREA_KIND), dcc.Dropdown(
                    id=AREA_KIND, clearable=False, value="country",
                    options=[{"label": _(label), "value": kind} for kind, label in NAMED_KINDS.items()])]),
                html.Div(className="filter", children=[html.Label(_("Area"), htmlFor=AREA_REF),
                                                       dcc.Dropdown(id=AREA_REF, options=[])]),
                *watch_fields(WATCH, settings, access),
                html.Button(_("Watch this area"), id=WATCH_SUBMIT, className="button", n_clicks=0),
                html.Div(id=WATCH_MESSAGE, role="status")])]),
    ])


# --- the run's alerts --------------------------------------------------------------------------------------

@dash.callback(Output(TABLE, "data"), Output(COUNTS, "children"), Input(FILTER_KINDS, "value"),
               Input(FILTER_CONFIDENCE, "value"), Input(FILTER_NEW, "value"))
def update_alerts(kinds, confidence, new):
    alerts = visible_alerts(run_alerts(shown_run()), current_access())
    shown = filtered(alerts, kinds, confidence, NEW in (new or []))
    cut = (_("The table shows the first %(shown)s of %(count)s alerts: narrow the filters to see the others.",
             shown=number(MAX_ROWS), count=number(len(shown))) if len(shown) > MAX_ROWS else "")
    return alerts_table(shown.head(MAX_ROWS)), [frame_table(f"{COUNTS}-table", kind_counts(shown)),
                                                html.P(cut, className="layer-note")]


# --- subscriptions -----------------------------------------------------------------------------------------

def subscriptions_section(settings: Settings, access: Access) -> list:
    """The user's subscriptions with their feeds, and the choice of one to remove."""
    rows = subscriptions_table(Subscriptions(settings.subscriptions), access.user or "")
    if not rows:
        return [html.P(_("None yet: watch an area here or on the Area statistics page."), id=f"{SUBSCRIPTIONS}-none")]
    return [
        link_table(f"{SUBSCRIPTIONS}-table", rows, headers(SUBSCRIPTION_HEADERS), ("feeds",), page_size=10),
        html.Div(className="filter", children=[
            html.Label(_("Remove a subscription"), htmlFor=REMOVE_CHOICE),
            dcc.Dropdown(id=REMOVE_CHOICE, options=[{"label": f"{row['name']} ({row['area']})", "value": row["id"]}
                                                    for row in rows])]),
        html.Button(_("Remove"), id=REMOVE, className="button", n_clicks=0)]


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
        return html.P(_("Not removed: %(why)s", why=exc), className="error"), dash.no_update
    message = html.P(_("Removed subscription %(id)s.", id=int(subscription_id)), className="ok")
    return message, subscriptions_section(settings, access)


@dash.callback(Output(AREA_REF, "options"), Output(AREA_REF, "value"), Input(AREA_KIND, "value"))
def update_choices(kind):
    choices = area_choices(shown_run(), current_access().country).get(kind, [])
    return [{"label": area_in_words(label), "value": ref} for ref, label in choices], None


def chosen_area(run_dir: Path, access: Access, kind: str | None, ref: str | None):
    """The named area `kind`/`ref`, if `access` may watch it (checked here: the request may not come from the form).

    Raises
    ------
    AreaError
        Not an area of the list the user is offered.
    """
    refs = [choice for choice, _label in area_choices(run_dir, access.country).get(kind or "", [])]
    if ref not in refs:
        what = _(NAMED_KINDS[kind]) if kind in NAMED_KINDS else str(kind)
        if access.regional:
            raise AreaError(_("%(what)s %(ref)r is not one you may watch in run %(run)s; choose one of the list.",
                              what=what, ref=ref, run=run_dir.name))
        raise AreaError(_("%(what)s %(ref)r is not one you may watch in run %(run)s; choose one of the list: the areas "
                          "of %(country)s (your role).", what=what, ref=ref, run=run_dir.name,
                          country=word("country", access.country)))
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
        return html.P(_("Not watched: %(why)s", why=exc), className="error"), dash.no_update
    return subscribed_message(subscription), subscriptions_section(settings, access)
