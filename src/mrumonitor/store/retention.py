"""Retention of published runs: which old runs a store keeps, applied after each publish.

A run is kept when it is among the newest `keep_last` runs, or younger than `keep_days` days (its age read
from its id), or is the latest; every other run is deleted. A run is first renamed to ``.trash-<run_id>``
(one atomic step, so it never shows half-deleted under its id) and then removed; a ``.trash-*`` folder
left by a process that died meanwhile is removed by the next run (`store.publish.clean_leftovers`).
Call it only while holding the store lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from pathlib import Path

from mrumonitor.store.runs import latest_run_id, run_ids, run_started, runs_dir

log = logging.getLogger(__name__)

#: Prefix of a run folder being deleted.
TRASH_PREFIX = ".trash-"


def runs_to_delete(store_dir: str | Path, keep_last: int, keep_days: float,
                   now: dt.datetime | None = None) -> list[str]:
    """Ids of the runs the rule does not keep, oldest first."""
    now = now or dt.datetime.now(dt.UTC)
    ids = run_ids(store_dir)
    keep = set(ids[-keep_last:]) | {latest_run_id(store_dir)}
    young = {run_id for run_id in ids if now - run_started(run_id) < dt.timedelta(days=keep_days)}
    return [run_id for run_id in ids if run_id not in keep | young]


def prune_runs(store_dir: str | Path, keep_last: int, keep_days: float, now: dt.datetime | None = None) -> list[str]:
    """Delete the runs the rule does not keep (see the module docstring); returns their ids."""
    deleted = runs_to_delete(store_dir, keep_last, keep_days, now)
    for run_id in deleted:
        trash = runs_dir(store_dir) / f"{TRASH_PREFIX}{run_id}"
        os.replace(runs_dir(store_dir) / run_id, trash)
        shutil.rmtree(trash)
        log.info("run %s deleted by the retention rule (keep the last %d, and those under %g days)", run_id,
                 keep_last, keep_days)
    return deleted
