"""Runs: the published runs of the store, the scheduler's jobs with their last status, and the alert deliveries and
operator notices (an agency user sees its own subscriptions' deliveries only)."""

from __future__ import annotations

import dash
import flask
import pandas as pd
from dash import html

from mrumonitor.alerts.deliver import delivery_status
from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.components import frame_table, page_header, warnings_card
from mrumonitor.scheduler import job_status
from mrumonitor.store.runs import list_runs, read_manifest, resolve_run

dash.register_page(__name__, path="/runs", name="Runs", title="Runs — MRU mining monitor")

RUNS = "runs-table"
JOBS = "runs-jobs"
DELIVERIES = "runs-deliveries"
NOTICES = "runs-notices"


@context.page("runs")
def layout(view, **_query):
    store = context.settings().paths.store
    jobs = job_status(store)
    manifest = read_manifest(resolve_run(store, flask.current_app.config[context.RUN_KEY]))
    return html.Div([
        page_header(view, "Each run is an immutable, complete set of layers; the latest is what the other pages "
                          "show unless the dashboard was started on another run."),
        warnings_card(manifest),
        html.Div(className="card", children=[html.H2("Published runs"), frame_table(RUNS, runs_frame(store))]),
        html.Div(className="card", children=[
            html.H2("Scheduled jobs"),
            frame_table(JOBS, jobs_frame(jobs)) if len(jobs) else
            html.P("No scheduled jobs in this store (see `mrumonitor schedule`).", id=JOBS)]),
        deliveries_card()])


def deliveries_card() -> html.Div:
    """The recent alert digests (the user's own only, for an agency user; no addresses) and operator notices."""
    status = delivery_status(context.settings())
    access = current_access()
    digests = status.digests if access.regional else status.digests[status.digests["user"] == access.user]
    digests = digests.assign(at=_when(digests["at"]))[["at", "name", "alerts", "status", "error"]]
    notices = status.notices.assign(at=_when(status.notices["at"]))[["at", "kind", "job", "due_at", "status", "error"]]
    mail = "" if status.smtp_configured else " No mail server is configured ([alerts.smtp] host): nothing is sent."
    return html.Div(className="card", children=[
        html.H2("Alert deliveries"),
        html.P("E-mail digests of new alerts to their subscribers, newest first (`mrumonitor alerts status`)." + mail),
        frame_table(DELIVERIES, digests.rename(columns={"at": "time", "name": "subscription"})) if len(digests) else
        html.P("No digest has been sent yet.", id=DELIVERIES),
        html.H3("Operator notices"),
        frame_table(NOTICES, notices.rename(columns={"at": "time"})) if len(notices) else
        html.P("No scheduled run has failed or been missed.", id=NOTICES)])


def _when(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times, utc=True).dt.strftime("%Y-%m-%d %H:%M UTC")


def runs_frame(store) -> pd.DataFrame:
    return pd.DataFrame([{"run": run.run_id, "created": run.created, "latest": "yes" if run.latest else "",
                          "periods": ", ".join(run.periods), "sites": run.sites, "status": run.status}
                         for run in reversed(list_runs(store))],
                        columns=["run", "created", "latest", "periods", "sites", "status"])


def jobs_frame(jobs: pd.DataFrame) -> pd.DataFrame:
    return jobs.assign(paused=jobs["paused"].map({True: "paused", False: ""}),
                       last_periods=jobs["last_periods"].map(lambda p: ", ".join(p) if p else ""))
