"""The layer store: immutable runs published atomically under ``<paths.store>/runs/``, one writer at a time.

The store knows runs, not stages: a run folder's files are named by `mrumonitor.runfolder`, and what a run
holds is the build's business (`mrumonitor.pipeline`).

- `runs`: run ids, `resolve_run`, `list_runs`, `read_manifest` (what readers use);
- `lock`: `StoreLock`, the one-writer lock a run and the scheduler share;
- `publish`: `publish_run` (staging folder, manifest, catalog, rename, LATEST) and leftovers of dead runs;
- `layers`: the registry of published layers and how a run's files are described;
- `manifest`, `catalog`: the store's keys of a run's manifest (`mrumonitor.manifest`), the STAC catalog;
- `retention`: which old runs are kept; `storage`: disk failures as clear errors; `faults`: test checkpoints.
"""

from mrumonitor.store.lock import LockHolder, StoreLock, current_holder
from mrumonitor.store.publish import BuildRun, PublishedRun, RunContext, clean_leftovers, leftovers, publish_run
from mrumonitor.store.runs import RunSummary, latest_run_id, list_runs, read_manifest, resolve_run

__all__ = [
    "BuildRun",
    "LockHolder",
    "PublishedRun",
    "RunContext",
    "RunSummary",
    "StoreLock",
    "clean_leftovers",
    "current_holder",
    "latest_run_id",
    "leftovers",
    "list_runs",
    "publish_run",
    "read_manifest",
    "resolve_run",
]
