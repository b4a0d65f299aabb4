"""The scheduled jobs of a store: add, pause, resume, remove (`mrumonitor schedule ...`).

A job is a name, a cron expression (read in the job's time zone), the configuration its runs use, which
must write to the store the job is scheduled in, and the countries its runs refresh (all, or some: see
`mrumonitor.pipeline.scope`). Jobs are rows of ``jobs`` in ``<store>/scheduler.sqlite``;
their history stays in ``job_runs`` until the job is removed.

A configuration whose folder holds the store (the usual layout: ``mrumonitor.toml`` beside ``layers/``) is
recorded relative to the store, so that the folder can be moved or copied with its jobs; one elsewhere is
recorded by its absolute path.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

from mrumonitor.config import Settings
from mrumonitor.errors import ConfigError
from mrumonitor.pipeline.scope import RunScope, run_scope
from mrumonitor.scheduler.clock import Clock, system_clock
from mrumonitor.scheduler.cron import first_due
from mrumonitor.scheduler.db import connect, connect_readonly, utc_text
from mrumonitor.scheduler.history import transaction

#: A job name: letters, digits, - and _.
JOB_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def add_job(settings: Settings, name: str, cron: str, config: Path | None, countries: tuple[str, ...] = (),
            clock: Clock = system_clock) -> tuple[RunScope, dt.datetime]:
    """Schedule runs of the configuration `config` (whose settings are `settings`) in its store, limited to
    `countries` when given; returns the scope of its runs and its first due time (UTC).

    Raises
    ------
    ConfigError
        A bad name, cron expression (or one that never fires) or country code, or a job of that name already
        exists.
    """
    if not JOB_NAME.match(name):
        raise ConfigError(f"job name {name!r}: use 1 to 64 letters, digits, - or _ (e.g. weekly-update).")
    timezone = settings.scheduler.timezone
    now = clock()
    first = first_due(cron, timezone, now)
    scope = run_scope(settings, countries)
    store = settings.paths.store
    conn = connect(store)
    try:
        with transaction(conn):
            if conn.execute("SELECT 1 FROM jobs WHERE name = ?", (name,)).fetchone():
                raise ConfigError(f"a job named {name!r} is already scheduled in {store}; remove it "
                                  "first (`mrumonitor schedule remove`) or choose another name.")
            conn.execute("INSERT INTO jobs (name, cron, config, countries, timezone, created_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (name, cron, _config_reference(config, store),
                                                       json.dumps(scope.countries), timezone, utc_text(now)))
    finally:
        conn.close()
    return scope, first


def set_paused(store: Path, name: str, paused: bool) -> None:
    """Pause a job (its due slots are skipped, not recorded) or resume it (from the next slot on)."""
    _update(store, name, "UPDATE jobs SET paused = ? WHERE name = ?", (int(paused), name))


def remove_job(store: Path, name: str) -> None:
    """Remove a job and its history."""
    _update(store, name, "DELETE FROM jobs WHERE name = ?", (name,))


def require_job(store: Path, name: str) -> None:
    """Check that the store has a job named `name`.

    Raises
    ------
    ConfigError
        When it has none (the message lists the jobs it has).
    """
    conn = connect_readonly(store)
    try:
        known = [row["name"] for row in conn.execute("SELECT name FROM jobs ORDER BY name")] if conn else []
    finally:
        if conn is not None:
            conn.close()
    if name not in known:
        raise _unknown(store, name, known)


def job_config(store: Path, reference: str) -> Path | None:
    """The configuration file a job's runs read, from what `add_job` recorded (None: the defaults)."""
    return (Path(store) / reference).resolve() if reference else None


def _config_reference(config: Path | None, store: Path) -> str:
    """`config` as the job records it: relative to the store when the store lies in the folder of `config`."""
    if config is None:
        return ""
    config, store = config.resolve(), Path(store).resolve()
    if store.is_relative_to(config.parent):
        return os.path.relpath(config, store)
    return str(config)


def _unknown(store: Path, name: str, known: list[str]) -> ConfigError:
    return ConfigError(f"no job named {name!r} in {store}; scheduled jobs: {', '.join(known) or 'none'} "
                       "(see `mrumonitor schedule list`).")


def _update(store: Path, name: str, statement: str, parameters: tuple) -> None:
    conn = connect(store)
    try:
        with transaction(conn):
            if conn.execute(statement, parameters).rowcount == 0:
                known = [row["name"] for row in conn.execute("SELECT name FROM jobs ORDER BY name")]
                raise _unknown(store, name, known)
    finally:
        conn.close()
