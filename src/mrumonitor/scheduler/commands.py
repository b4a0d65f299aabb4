"""`mrumonitor schedule ...` (the jobs) and `mrumonitor scheduler` (the process that runs them)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import click

from mrumonitor.config import Settings, load_settings
from mrumonitor.console import frame_table, out
from mrumonitor.scheduler.db import check_writable, database_errors

config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="TOML file merged over configs/default.toml; its [paths] store holds the jobs. Default: the defaults.")


class _Words(click.Option):
    """An option that takes every word after it up to the next option: ``--countries SLE GIN``.

    Click has no variable-count option; the option is declared ``multiple`` and its parser entry is made to
    take the following words too (``--countries SLE --countries GIN`` and ``--countries SLE,GIN`` work as well).
    """

    def add_to_parser(self, parser, ctx) -> None:
        super().add_to_parser(parser, ctx)
        entry = parser._long_opt[self.opts[0]]  # no public hook for this in click 8
        take = entry.process

        def take_words(value, state) -> None:
            if isinstance(value, str) and value.startswith("-"):
                raise click.UsageError(f"{self.opts[0]} needs one or more words after it (e.g. {self.opts[0]} SLE "
                                       f"GIN), not the option {value}")
            take(value, state)
            while state.rargs and not state.rargs[0].startswith("-"):
                take(state.rargs.pop(0), state)

        entry.process = take_words


#: ``--countries CODE...``, shared by `mrumonitor run` and `mrumonitor schedule add`.
countries_option = click.option(
    "--countries", cls=_Words, multiple=True, metavar="CODE...",
    help="Refresh only these countries (ISO3 codes of project.countries, e.g. --countries SLE GIN): their "
         "cadastres are read and their activity computed; the other countries keep the data of the latest run. "
         "Default: the whole region.")


def operator_notifier(settings: Settings):
    """The scheduler's `notify`: e-mail the notices of missed and failed runs to [alerts] operators."""
    from mrumonitor.alerts.operators import notify_operators

    return lambda notices: notify_operators(settings, notices)


@click.group()
def schedule() -> None:
    """Scheduled batch updates of the layer store: add, list, run, pause, resume and remove jobs.

    Jobs live in <paths.store>/scheduler.sqlite and are run by `mrumonitor scheduler`. Each run is
    incremental: only the periods whose inputs are new or changed since the last run are processed.
    """


@schedule.command("add")
@config_option
@click.argument("name")
@click.option("--cron", required=True, metavar="EXPR",
              help='When to run: a 5-field crontab expression, e.g. "0 2 * * *" (02:00 every day), read in '
                   "[scheduler] timezone.")
@countries_option
def schedule_add(config_file: Path | None, name: str, cron: str, countries: tuple[str, ...]) -> None:
    """Schedule NAME: a batch update with the configuration --config, at the times of --cron (of the countries
    of --countries only, when given)."""
    from mrumonitor.scheduler.jobs import add_job

    settings = load_settings(config_file)
    with database_errors(settings.paths.store):
        scope, first = add_job(settings, name, cron, config_file, countries)
    out.print(f"job {name} scheduled in {settings.paths.store} ({cron}, {settings.scheduler.timezone}; "
              f"{scope.label()}); first run due {first:%Y-%m-%d %H:%M} UTC. Start `mrumonitor scheduler` (or "
              "`--once` from system cron).")


@schedule.command("list")
@config_option
def schedule_list(config_file: Path | None) -> None:
    """List the jobs with their next due time and how their last run went."""
    from mrumonitor.scheduler import job_status

    store = load_settings(config_file).paths.store
    jobs = job_status(store)
    if jobs.empty:
        out.print(f"no scheduled job in {store}; add one with `mrumonitor schedule add NAME --cron EXPR`.")
        return
    shown = jobs.assign(paused=jobs["paused"].map({True: "paused", False: ""}),
                        last_periods=jobs["last_periods"].map(lambda p: " ".join(p) if p is not None else None))
    out.print(frame_table(f"Scheduled jobs of {store} (times UTC)", shown.drop(columns="last_error")))
    for row in jobs.itertuples():
        if row.last_error:
            out.print(f"[red]{row.name}[/]: {row.last_error}")


@schedule.command("history")
@config_option
@click.argument("name")
@click.option("--last", default=20, show_default=True, type=click.IntRange(min=1),
              help="Show this many attempts, newest first.")
def schedule_history(config_file: Path | None, name: str, last: int) -> None:
    """The run history of job NAME: start, end, status, periods processed, run published, error."""
    from mrumonitor.scheduler import job_status
    from mrumonitor.scheduler.jobs import require_job
    from mrumonitor.scheduler.status import job_history

    store = load_settings(config_file).paths.store
    with database_errors(store):
        require_job(store, name)
    history = job_history(store, name, last)
    countries = job_status(store).set_index("name")["countries"].get(name)
    out.print(frame_table(f"Runs of job {name}{f' ({countries})' if countries else ''}, times UTC", history))


@schedule.command("run")
@config_option
@click.argument("name")
def schedule_run(config_file: Path | None, name: str) -> None:
    """Run job NAME now and wait for it; the attempt is recorded in its history as a scheduled one is (a
    failure is not retried). Exit status 1 when the run failed."""
    from mrumonitor.scheduler.loop import Scheduler

    settings = load_settings(config_file)
    with database_errors(settings.paths.store):
        once = settings.scheduler.model_copy(update={"max_attempts": 1})
        row = Scheduler(settings.paths.store, once, notify=operator_notifier(settings)).run_now(name)
    if row["status"] != "succeeded":
        out.print(f"[red]job {name} failed[/]: {row['error']}")
        raise SystemExit(1)
    out.print(f"job {name}: run {row['run_id']} published (periods processed: "
              f"{', '.join(json.loads(row['periods'] or '[]')) or 'none'})")


def _set_paused(config_file: Path | None, name: str, paused: bool) -> None:
    from mrumonitor.scheduler.jobs import set_paused

    store = load_settings(config_file).paths.store
    with database_errors(store):
        set_paused(store, name, paused)
    out.print(f"job {name} {'paused' if paused else 'resumed'}")


@schedule.command("pause")
@config_option
@click.argument("name")
def schedule_pause(config_file: Path | None, name: str) -> None:
    """Pause job NAME: its slots are skipped until it is resumed."""
    _set_paused(config_file, name, True)


@schedule.command("resume")
@config_option
@click.argument("name")
def schedule_resume(config_file: Path | None, name: str) -> None:
    """Resume job NAME from its next slot (slots passed while paused are not run)."""
    _set_paused(config_file, name, False)


@schedule.command("remove")
@config_option
@click.argument("name")
def schedule_remove(config_file: Path | None, name: str) -> None:
    """Remove job NAME and its run history (published runs stay)."""
    from mrumonitor.scheduler.jobs import remove_job

    store = load_settings(config_file).paths.store
    with database_errors(store):
        remove_job(store, name)
    out.print(f"job {name} removed")


@click.command("scheduler")
@config_option
@click.option("--once", is_flag=True, help="Run what is due now, wait for it, and exit (for system cron or CI); "
                                           "exit status 1 when a job failed.")
@click.option("--at", "at", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]), default=None,
              hidden=True, help="Act as if the clock read AT (UTC) when the scheduler started (tests, replays).")
def scheduler(config_file: Path | None, once: bool, at: dt.datetime | None) -> None:
    """Run the scheduled jobs of the store as they come due, until stopped (SIGTERM or Ctrl-C).

    Each job runs in its own process, so a crashing job never stops the scheduler; a failed job is recorded
    with its error and retried with backoff ([scheduler] max_attempts, retry_backoff_s) while other jobs go
    on. Runs missed while no scheduler was running are coalesced: the latest runs once if it is within
    [scheduler] misfire_grace_s, else it is recorded as missed. Several schedulers may watch one store: each
    due run starts once. Log: <paths.store>/logs/scheduler.log.
    """
    from mrumonitor.scheduler.clock import clock_from
    from mrumonitor.scheduler.logs import attach_log_file, log_path
    from mrumonitor.scheduler.loop import Scheduler

    settings = load_settings(config_file)
    with database_errors(settings.paths.store):
        check_writable(settings.paths.store)
    attach_log_file(settings.paths.store, "scheduler")
    logging.getLogger(__name__).info("log: %s", log_path(settings.paths.store))
    runner = Scheduler(settings.paths.store, settings.scheduler, clock_from(at.replace(tzinfo=dt.UTC) if at else None),
                       notify=operator_notifier(settings))
    if once:
        with database_errors(settings.paths.store):
            raise SystemExit(runner.run_once())
    runner.serve()
