"""Field checks (`/verification`): what field verification measured of the run's map, and where visits are entered.

The estimates (overall, per registration class, per stratum, with 95 % intervals, or why there is no number),
the detection-threshold report, what the visits changed in this run (site-level: an agency sees its own
country's rows), the ledger's visits read live (newest first, cut to the role too), and an entry form for
users whose login has ``field_entry = true``. The form's callback checks everything again on the server
(`record_visit`): a request may come from anywhere, not only from the form shown. Everything is said in the
request's language.
"""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html

from mrumonitor.config import Settings
from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.components import frame_table, graph, page_header, page_title
from mrumonitor.dashboard.figures import axis, figure, values
from mrumonitor.dashboard.run import RunData
from mrumonitor.dashboard.verification_data import (
    NOT_IN_RUN,
    NOT_YET,
    RunVerification,
    VisitForm,
    checked_visit,
    estimates_table,
    feedback_table,
    ledger_visits,
    outcome_words,
    run_verification,
    sample_sentence,
    threshold_sentence,
    verification_caveats,
    visits_table,
)
from mrumonitor.errors import AccessDenied, MruError, VerificationError
from mrumonitor.i18n import N_, _, day, plotly_separators
from mrumonitor.i18n.messages import translate_text
from mrumonitor.i18n.vocabulary import word
from mrumonitor.schema import COMMODITIES_SEEN, VISIT_OUTCOMES
from mrumonitor.verification.ledger import Ledger

dash.register_page(__name__, path="/verification", name="Field checks", title=page_title("verification"))

ESTIMATES = "verification-estimates"
SAMPLE = "verification-sample"
THRESHOLD_CHART = "verification-threshold-chart"
THRESHOLD_TEXT = "verification-threshold-text"
FEEDBACK = "verification-feedback"
VISITS = "verification-visits"
ENTRY = "verification-entry"
SUBMIT = "visit-submit"
MESSAGE = "visit-message"
#: The entry form's fields: component id -> (label, the `VisitForm` field it fills).
FIELDS = {
    "visit-site": (N_("Site id"), "site_id"), "visit-date": (N_("Visit date (YYYY-MM-DD)"), "visited_on"),
    "visit-team": (N_("Team"), "team"), "visit-outcome": (N_("What the team found"), "outcome"),
    "visit-commodity": (N_("Commodity seen"), "commodity_seen"),
    "visit-licence": (N_("Licence shown on site"), "licence_seen"),
    "visit-notes": (N_("Notes"), "notes"), "visit-lon": (N_("Longitude (WGS84)"), "lon"),
    "visit-lat": (N_("Latitude (WGS84)"), "lat"), "visit-photos": (N_("Photo file names (comma-separated)"), "photos"),
}
#: Why the dashboard takes no visit when logins are off (everyone would be anonymous).
AUTH_OFF = N_("Field visits are recorded from the dashboard only when logins are on, since a visit must say who "
              "entered it. Send the forms to the regional team, who import them.")


@context.page("verification")
def layout(view, **_query):
    data = context.run_data()
    verification = run_verification(data)
    access = current_access()
    settings = context.settings()
    return html.Div([
        page_header(view, _("What field teams found at a stratified random sample of the run's sites, and what it "
                            "says of the map's accuracy and areas (Olofsson et al. 2014).")),
        html.Div(className="card", children=[html.H2(_("Accuracy and area estimates")),
                                             *estimates_section(verification, settings, data.manifest)]),
        html.Div(className="card", children=[html.H2(_("Which detection threshold does best on the verified sample")),
                                             *threshold_section(verification)]),
        html.Div(className="card", children=[html.H2(_("What the visits changed in this run")),
                                             feedback_section(verification, access)]),
        html.Div(className="grid-2-even", children=[
            html.Div(className="card", children=[html.H2(_("Record a field visit")), entry_section(settings)]),
            html.Div(className="card", children=[html.H2(_("Visits in the ledger (newest first)")),
                                                 html.Div(visits_section(settings, data), id=VISITS)])]),
    ])


# --- what the run measured ---------------------------------------------------------------------------------

def estimates_section(verification: RunVerification, settings: Settings, manifest: dict) -> list:
    """The estimates table with the sample's design in words and the caveats of field verification, or why
    there is none."""
    if not verification.present:
        return [html.P(_(NOT_IN_RUN) + ".", id=ESTIMATES)]
    if verification.estimates.empty:
        return [html.P(_(NOT_YET) + ". " + _("Once a sample of sites has been drawn, visited by field teams and their "
                                             "visits recorded, the next run measures the map's accuracy."),
                       id=ESTIMATES)]
    caveats = [translate_text(caveat) for caveat in verification_caveats(manifest, verification.section)]
    return [html.P(sample_sentence(verification, Ledger(settings.ledger)), id=SAMPLE),
            frame_table(ESTIMATES, _one_sample_shown(estimates_table(verification.estimates)), page_size=20,
                        style_data={"whiteSpace": "normal", "height": "auto"}),
            *([html.Ul([html.Li(caveat) for caveat in caveats], className="caveats")] if caveats else [])]


def _one_sample_shown(table: pd.DataFrame) -> pd.DataFrame:
    """The estimates table without its sample and period columns when it holds one sample (the sentence above
    it names them)."""
    if table[_("Sample")].nunique() > 1:
        return table
    return table.drop(columns=[_("Sample"), _("Map period")])


def threshold_section(verification: RunVerification) -> list:
    """The precision, recall and F1 of each threshold on the verified sample, the run's and the best marked."""
    report, summary = verification.threshold, verification.section.get("threshold") or {}
    if report.empty:
        note = (_(NOT_IN_RUN) + "." if not verification.present
                else translate_text(summary["message"]) if summary.get("message") else _(NOT_YET) + ".")
        return [html.P(note, id=THRESHOLD_TEXT)]
    return [html.P(threshold_sentence(report, summary), id=THRESHOLD_TEXT),
            graph(THRESHOLD_CHART, threshold_figure(report))]


def threshold_figure(report: pd.DataFrame) -> dict:
    traces = [{"type": "scatter", "mode": "lines+markers", "name": name, "x": values(report["threshold"]),
               "y": values(report[column])} for column, name in (("precision", _("Precision")),
                                                                  ("recall", _("Recall")), ("f1", "F1"))]
    marks = [(report[report["current"]], _("run's threshold"), "dash"),
             (report[report["best"]], _("best F1"), "dot")]
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": t, "x1": t, "y0": 0, "y1": 1,
               "line": {"dash": dash_style, "color": "#555"}}
              for rows, _label, dash_style in marks for t in values(rows["threshold"])]
    notes = [{"x": t, "y": 1.02, "xref": "x", "yref": "paper", "text": label, "showarrow": False,
              "yanchor": "bottom"} for rows, label, _style in marks for t in values(rows["threshold"])]
    return figure(traces, shapes=shapes, annotations=notes, height=300, margin={"l": 50, "r": 10, "t": 30, "b": 40},
                  xaxis=axis(_("detection threshold (activity %)")),
                  yaxis=axis(_("on the verified sample"), range=[0, 1.05]), legend={"orientation": "h", "y": -0.25},
                  separators=plotly_separators())


def feedback_section(verification: RunVerification, access) -> html.Div:
    if not verification.present:
        return html.P(_(NOT_IN_RUN) + ".", id=FEEDBACK)
    table = feedback_table(verification.feedback, access)
    if table.empty:
        return html.P(_("No verified site changed this run.") if access.regional else
                      _("No verified site in %(country)s changed this run.", country=word("country", access.country)),
                      id=FEEDBACK)
    return frame_table(FEEDBACK, table, style_data={"whiteSpace": "normal", "height": "auto"})


# --- the ledger: visits and their entry --------------------------------------------------------------------

def visits_section(settings: Settings, data: RunData) -> html.Div:
    """The ledger's visits the user may see, newest first (read live: a visit just recorded is there)."""
    try:
        visits = ledger_visits(Ledger(settings.ledger), data, current_access())
    except VerificationError as exc:
        return html.P(str(exc), className="page-error")
    if visits.empty:
        return html.P(_("No visit recorded yet.") if current_access().regional
                      else _("No visit recorded yet for your country."))
    return frame_table(f"{VISITS}-table", visits_table(visits), page_size=10,
                       style_data={"whiteSpace": "normal", "height": "auto"})


def entry_user(settings: Settings) -> str:
    """The login name of the request's user, who may record visits.

    Raises
    ------
    AccessDenied
        Logins are off (a visit must say who entered it), or the user's login lacks ``field_entry``.
    """
    auth = settings.dashboard.auth
    if not auth.enabled:
        raise AccessDenied(_(AUTH_OFF))
    access = current_access()
    user = auth.users.get(access.user or "")
    if user is None or not user.field_entry:
        raise AccessDenied(_("user %(user)r may not record field visits: ask the regional team to set field_entry = "
                             "true for your login, or send your forms to them to import.", user=access.user))
    return access.user


def entry_section(settings: Settings) -> html.Div:
    """The entry form for a user allowed to record visits; why not, for the others."""
    try:
        entry_user(settings)
    except AccessDenied as exc:
        return html.P(str(exc), id=ENTRY, className="layer-note")
    access = current_access()
    where = (_("You may record visits at any site of the run.") if access.regional else
             _("You may record visits at sites in %(country)s only.", country=word("country", access.country)))
    inputs = {
        "visit-outcome": dcc.Dropdown(id="visit-outcome", clearable=False,
                                      options=[{"label": outcome_words(o), "value": o} for o in VISIT_OUTCOMES]),
        "visit-commodity": dcc.Dropdown(id="visit-commodity", clearable=False, value="unknown",
                                        options=[{"label": word("commodity_seen", c), "value": c}
                                                 for c in COMMODITIES_SEEN]),
        "visit-notes": dcc.Textarea(id="visit-notes", style={"width": "100%"}),
        "visit-lon": dcc.Input(id="visit-lon", type="number", step="any", min=-180, max=180),
        "visit-lat": dcc.Input(id="visit-lat", type="number", step="any", min=-90, max=90),
    }
    # (a component without children is falsy: `inputs.get(id) or ...` would never take it)
    fields = [html.Div(className="filter", children=[
        html.Label(_(label), htmlFor=field_id),
        inputs[field_id] if field_id in inputs else dcc.Input(id=field_id, type="text")])
        for field_id, (label, _name) in FIELDS.items()]
    return html.Div(id=ENTRY, children=[
        html.P(_("Recorded in the verification ledger under your login.") + " " + where + " "
               + _("A visit is never changed afterwards: a correction is a later visit."), className="layer-note"),
        *fields, html.Button(_("Record the visit"), id=SUBMIT, className="button", n_clicks=0),
        html.Div(id=MESSAGE, role="status")])


@dash.callback(Output(MESSAGE, "children"), Output(VISITS, "children"), Input(SUBMIT, "n_clicks"),
               *[State(field_id, "value") for field_id in FIELDS], prevent_initial_call=True)
def record_visit(n_clicks, *form_values):
    """Record the form's visit in the ledger, after checking on the server everything the request claims: a
    login with field_entry, a site of the run the user may see, the outcome, date and GPS point. A refusal says
    why in words and writes nothing."""
    if not n_clicks:
        return dash.no_update, dash.no_update
    settings = context.settings()
    data = context.run_data()
    form = VisitForm(**{name: value for (_label, name), value in zip(FIELDS.values(), form_values)})
    try:
        user = entry_user(settings)
        visit = checked_visit(form, data, current_access(), settings.verification.max_gps_km)
        added = Ledger(settings.ledger).append_visits(visit, entered_by=user, source="dashboard").added
    except MruError as exc:
        return html.P(_("Not recorded: %(why)s", why=exc), className="error"), dash.no_update
    row = added.iloc[0]
    message = html.P(_("Recorded visit %(visit)s: %(site)s on %(day)s, %(outcome)s, entered by %(user)s. The next run "
                       "takes it into account.", visit=row["visit_id"], site=row["site_id"], day=day(row["visited_on"]),
                       outcome=outcome_words(row["outcome"]), user=user), className="ok")
    return message, visits_section(settings, data)
