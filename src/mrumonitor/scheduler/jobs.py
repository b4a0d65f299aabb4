"""The scheduled jobs of a store: add, pause, resume, remove (`mrumonitor schedule ...`).

A job is a name, a cron expression (read in the job's time zone), the configuration its runs use, which
must write to the store the job is scheduled in, and the countries its runs refresh (all, or some: see
`mrumonitor.scope`). Jobs are rows of ``jobs`` in ``<store>/scheduler.sqlite``;
their history stays in ``job_runs`` until the job is removed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from mrumonitor.config import Settings, load_settings
from mrumonitor.errors import ConfigError
from mrumonitor.scheduler.clock import Clock, system_clock
from mrumonitor.scheduler.cron import trigger
from mrumonitor.scheduler.db import connect, utc_text
from mrumonitor.scheduler.history import transaction
from mrumonitor.scope import RunScope, run_scope

#: A job name: letters, digits, - and _.
JOB_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def add_job(settings: Settings, name: str, cron: str, config: Path | None, countries: tuple[str, ...] = (),
            clock: Clock = system_clock) -> RunScope:
    """Schedule runs of the configuration `config` (whose settings are `settings`) in its store, limited to
    `countries` when given; returns the scope of its runs.

    Raises
    ------
    ConfigError
        A bad name, cron expression or country code, or a job of that name already exists.
    """
    if not JOB_NAME.match(name):
        raise ConfigError(f"job name {name!r}: use 1 to 64 letters, digits, - or _ (e.g. weekly-update).")
    timezone = settings.scheduler.timezone
    trigger(cron, timezone)
    scope = run_scope(settings, countries)
    conn = connect(settings.paths.store)
    try:
        with transaction(conn):
            if conn.execute("SELECT 1 FROM jobs WHERE name = ?", (name,)).fetchone():
                raise ConfigError(f"a job named {name!r} is already scheduled in {settings.paths.store}; remove it "
                                  "first (`mrumonitor schedule remove`) or choose another name.")
            conn.execute("INSERT INTO jobs (name, cron, config, countries, timezone, created_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (name, cron, str(config.resolve()) if config else "",
                                                       json.dumps(scope.countries), timezone, utc_text(clock())))
    finally:
        conn.close()
    return scope


def set_paused(store: Path, name: str, paused: bool) -> None:
    """Pause a job (its due slots are skipped, not recorded) or resume it (from the next slot on)."""
    _update(store, name, "UPDATE jobs SET paused = ? WHERE name = ?", (int(paused), name))


def remove_job(store: Path, name: str) -> None:
    """Remove a job and its history."""
    _update(store, name, "DELETE FROM jobs WHERE name = ?", (name,))


def job_settings(config: str | None) -> Settings:
    """The settings a job runs with ("" or None: the defaults)."""
    return load_settings(config or None)


def _update(store: Path, name: str, statement: str, parameters: tuple) -> None:
    conn = connect(store)
    try:
        with transaction(conn):
            if conn.execute(statement, parameters).rowcount == 0:
                known = [row["name"] for row in conn.execute("SELECT name FROM jobs ORDER BY name")]
                raise ConfigError(f"no job named {name!r} in {store}; scheduled jobs: {', '.join(known) or 'none'}.")
    finally:
        conn.close()
