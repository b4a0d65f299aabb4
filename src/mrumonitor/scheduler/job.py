"""One attempt at a scheduled job, in its own process: ``python -m mrumonitor.scheduler.job``.

The scheduler starts this process for every attempt, so that whatever the run does — raise, run out of
memory, crash the interpreter — the scheduler goes on. The process loads the job's configuration, runs the
pipeline as a "scheduled run" for the job's countries (all, or those it was added with), waiting for the store
lock when another run holds it (waiting is not a failure), and records in the scheduler database how the
attempt ended: the run published and the periods processed, or the error and when it will be retried. If it
dies before recording, the scheduler records it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from pathlib import Path

from mrumonitor.config import Settings, load_settings
from mrumonitor.errors import ConfigError, MruError
from mrumonitor.scheduler.clock import offset_clock
from mrumonitor.scheduler.db import connect
from mrumonitor.scheduler.history import RetryPolicy, mark_started, record_failure, record_success
from mrumonitor.scheduler.jobs import job_config
from mrumonitor.scheduler.logs import attach_log_file, log_path

log = logging.getLogger("mrumonitor.scheduler.job")


def main(argv: list[str] | None = None) -> int:
    """Run the attempt `row id` of the store's scheduler database; exit status 0 when it published a run."""
    args = _parser().parse_args(argv)
    store, clock = Path(args.store), offset_clock(args.clock_offset)
    policy = RetryPolicy(args.max_attempts, args.backoff, args.backoff_max)
    conn = connect(store)
    row = conn.execute("SELECT r.attempt, j.name, j.config, j.countries FROM job_runs r JOIN jobs j ON "
                       "j.name = r.job WHERE r.id = ?", (args.row_id,)).fetchone()
    if row is None:
        print(f"no job attempt {args.row_id} in {store}", file=sys.stderr)
        return 2
    attach_log_file(store, f"job {row['name']} #{row['attempt']}")
    mark_started(conn, args.row_id, socket.gethostname(), os.getpid())
    log.info("started (pid %d): run of job %s, attempt %d", os.getpid(), row["name"], row["attempt"])
    config = job_config(store, row["config"])
    try:
        settings = job_settings(store, config)
        published = run_job(settings, args.lock_wait, json.loads(row["countries"]))
    except Exception as exc:  # every failure of the run is recorded, with its traceback logged
        log.exception("failed")
        message = str(exc) if isinstance(exc, MruError) else \
            f"{type(exc).__name__}: {exc} (a bug: the traceback is in {log_path(store)})"
        record_failure(conn, args.row_id, message, policy, clock())
        return 1
    periods = published.manifest.detect.get("processed", [])
    record_success(conn, args.row_id, published.run_id, periods, clock())
    log.info("succeeded: run %s published (periods processed: %s)", published.run_id, ", ".join(periods) or "none")
    from mrumonitor.alerts.deliver import deliver_after_publish

    delivered = deliver_after_publish(settings).summary()
    if delivered:
        log.info("%s", delivered)
    return 0


def job_settings(store: Path, config: Path | None) -> Settings:
    """The job's configuration, which must write to the scheduler's store (ConfigError otherwise)."""
    settings = load_settings(config)
    if settings.paths.store.resolve() != store.resolve():
        raise ConfigError(f"{config or 'the default configuration'} writes to the store {settings.paths.store}, "
                          f"but this job is scheduled in {store}; schedule it again with a configuration whose "
                          "[paths] store is this store.")
    return settings


def run_job(settings: Settings, lock_wait_s: float, countries: list[str] | None = None):
    """Run the pipeline with the job's settings (`job_settings`) for the job's countries (None or empty: all)."""
    from mrumonitor.pipeline import run_pipeline

    return run_pipeline(settings, lock_purpose="scheduled run", lock_wait_s=lock_wait_s, countries=countries)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mrumonitor.scheduler.job", description=__doc__.splitlines()[0])
    parser.add_argument("row_id", type=int, help="the attempt's row in job_runs")
    parser.add_argument("--store", required=True)
    parser.add_argument("--lock-wait", type=float, default=0.0)
    parser.add_argument("--clock-offset", type=float, default=0.0)
    parser.add_argument("--max-attempts", type=int, default=1)
    parser.add_argument("--backoff", type=float, default=0.0)
    parser.add_argument("--backoff-max", type=float, default=0.0)
    return parser


if __name__ == "__main__":
    sys.exit(main())
