"""Runs: the published runs of the store, and the scheduler's jobs with their last status."""

from __future__ import annotations

import dash
import flask
import pandas as pd
from dash import html

from mrumonitor.dashboard import context
from mrumonitor.dashboard.components import frame_table, page_header, warnings_card
from mrumonitor.scheduler import job_status
from mrumonitor.store.runs import list_runs, read_manifest, resolve_run

dash.register_page(__name__, path="/runs", name="Runs", title="Runs — MRU mining monitor")

RUNS = "runs-table"
JOBS = "runs-jobs"


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
            html.P("No scheduled jobs in this store (see `mrumonitor schedule`).", id=JOBS)])])


def runs_frame(store) -> pd.DataFrame:
    return pd.DataFrame([{"run": run.run_id, "created": run.created, "latest": "yes" if run.latest else "",
                          "periods": ", ".join(run.periods), "sites": run.sites, "status": run.status}
                         for run in reversed(list_runs(store))],
                        columns=["run", "created", "latest", "periods", "sites", "status"])


def jobs_frame(jobs: pd.DataFrame) -> pd.DataFrame:
    return jobs.assign(paused=jobs["paused"].map({True: "paused", False: ""}),
                       last_periods=jobs["last_periods"].map(lambda p: ", ".join(p) if p else ""))
