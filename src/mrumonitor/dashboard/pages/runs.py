"""Runs: the published runs of the store, the scheduler's jobs with their last status, and the alert deliveries and
operator notices (an agency user sees its own subscriptions' deliveries only), in the user's language: the tables
keep their column ids and show translated headers and statuses."""

from __future__ import annotations

import dash
import flask
import pandas as pd
from dash import html

from mrumonitor.alerts.deliver import delivery_status
from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.components import frame_table, page_header, page_title, warnings_card
from mrumonitor.i18n import N_, _
from mrumonitor.scheduler import job_status
from mrumonitor.store.runs import list_runs, read_manifest, resolve_run

dash.register_page(__name__, path="/runs", name="Runs", title=page_title("runs"))

RUNS = "runs-table"
JOBS = "runs-jobs"
DELIVERIES = "runs-deliveries"
NOTICES = "runs-notices"

#: Headers of the page's tables, by column id.
HEADERS = {"run": N_("Run"), "created": N_("Created"), "latest": N_("Latest"), "periods": N_("Periods"),
           "sites": N_("Sites"), "status": N_("Status"), "name": N_("Job"), "cron": N_("Schedule (cron)"),
           "countries": N_("Countries"), "paused": N_("Paused"), "next_due": N_("Next run due"),
           "last_status": N_("Last status"), "last_started": N_("Last started"), "last_finished": N_("Last finished"),
           "last_run_id": N_("Last run"), "last_error": N_("Last error"), "last_periods": N_("Last periods"),
           "time": N_("Time"), "subscription": N_("Subscription"), "alerts": N_("Alerts"), "error": N_("Error"),
           "kind": N_("Notice"), "job": N_("Job"), "due_at": N_("Due at")}
#: Statuses of runs, jobs, digests and notices in words (a status not listed is shown as it is).
STATUS_WORDS = {"published": N_("published"), "succeeded": N_("succeeded"), "failed": N_("failed"),
                "running": N_("running"), "missed": N_("missed"), "retrying": N_("retrying"), "sent": N_("sent"),
                "unsent": N_("not sent (no mail server)"), "paused": N_("paused"), "yes": N_("yes"),
                "run_failed": N_("scheduled run failed"), "run_missed": N_("scheduled run missed")}


@context.page("runs")
def layout(view, **_query):
    store = context.settings().paths.store
    jobs = job_status(store)
    manifest = read_manifest(resolve_run(store, flask.current_app.config[context.RUN_KEY]))
    return html.Div([
        page_header(view, _("Each run is an immutable, complete set of layers; the latest is what the other pages "
                            "show unless the dashboard was started on another run.")),
        warnings_card(manifest),
        html.Div(className="card", children=[
            html.H2(_("Published runs")), frame_table(RUNS, runs_frame(store), headers=HEADERS, digits={"sites": 0})]),
        html.Div(className="card", children=[
            html.H2(_("Scheduled jobs")),
            frame_table(JOBS, jobs_frame(jobs), headers=HEADERS) if len(jobs) else
            html.P(_("No scheduled jobs in this store: the operator sets them up on the server."), id=JOBS)]),
        deliveries_card()])


def deliveries_card() -> html.Div:
    """The recent alert digests (the user's own only, for an agency user; no addresses) and operator notices."""
    status = delivery_status(context.settings())
    access = current_access()
    digests = status.digests if access.regional else status.digests[status.digests["user"] == access.user]
    digests = digests.assign(at=_when(digests["at"]), status=_words(digests["status"]))
    digests = digests[["at", "name", "alerts", "status", "error"]]
    notices = status.notices.assign(at=_when(status.notices["at"]), kind=_words(status.notices["kind"]),
                                    status=_words(status.notices["status"]))
    notices = notices[["at", "kind", "job", "due_at", "status", "error"]]
    mail = "" if status.smtp_configured else " " + _("No mail server is configured: nothing is sent.")
    return html.Div(className="card", children=[
        html.H2(_("Alert deliveries")),
        html.P(_("E-mail digests of new alerts to their subscribers, newest first.") + mail),
        frame_table(DELIVERIES, digests.rename(columns={"at": "time", "name": "subscription"}), headers=HEADERS)
        if len(digests) else html.P(_("No digest has been sent yet."), id=DELIVERIES),
        html.H3(_("Operator notices")),
        frame_table(NOTICES, notices.rename(columns={"at": "time"}), headers=HEADERS) if len(notices) else
        html.P(_("No scheduled run has failed or been missed."), id=NOTICES)])


def _when(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times, utc=True).dt.strftime("%Y-%m-%d %H:%M UTC")


def _words(statuses: pd.Series) -> pd.Series:
    """Statuses in the user's language (`STATUS_WORDS`)."""
    return statuses.map(lambda status: _(STATUS_WORDS[status]) if status in STATUS_WORDS else status)


def runs_frame(store) -> pd.DataFrame:
    return pd.DataFrame([{"run": run.run_id, "created": run.created, "latest": _("yes") if run.latest else "",
                          "periods": ", ".join(run.periods), "sites": run.sites,
                          "status": _(STATUS_WORDS[run.status]) if run.status in STATUS_WORDS else _(
                              "unpublished: its run stopped before it was published; the next run removes it")}
                         for run in reversed(list_runs(store))],
                        columns=["run", "created", "latest", "periods", "sites", "status"])


def jobs_frame(jobs: pd.DataFrame) -> pd.DataFrame:
    return jobs.assign(paused=jobs["paused"].map({True: _("paused"), False: ""}),
                       last_status=_words(jobs["last_status"]),
                       last_periods=jobs["last_periods"].map(lambda p: ", ".join(p) if p else ""))
