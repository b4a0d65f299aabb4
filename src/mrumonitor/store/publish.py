"""Publishing a run atomically: built aside, described, synced, renamed into place; then LATEST moves.

`publish_run` does, all under the store lock (`store.lock.StoreLock`):

1. removes what dead runs left behind (`clean_leftovers`), and says so in the log;
2. picks a run id later than every existing one, and calls the build with ``runs/.staging-<run_id>/``: on
   the same file system as the runs, so that the rename of step 5 is atomic. The build writes the layers
   there and returns the body of the manifest;
3. describes the layers, writes the STAC catalog and ``manifest.json`` (`mrumonitor.manifest`);
4. fsyncs every file and folder of the staging folder, and writes the marker ``.publishing-<run_id>``;
5. renames the staging folder to ``runs/<run_id>/`` (complete, but not yet published);
6. writes the new id to ``.LATEST.<pid>.tmp``, fsyncs it and `os.replace`s it over ``LATEST``: a reader
   sees the old id or the new one, never a partial line. Then it removes the marker. The run is published;
7. deletes the runs the retention rule no longer keeps (`store.retention`).

LATEST is a plain file rather than a symlink so that a store can be copied or synced anywhere (object
stores, zip files, Windows shares) and read the same way.

A process killed at any moment leaves LATEST naming the previous run, complete and untouched: nothing a
reader follows changes before step 6, and after it the new run is complete. The next run removes what the
dead one left (a staging folder, a run renamed but never named by LATEST, a temporary pointer, a half-deleted
old run). An error of the disk (full, read-only, not writable) becomes a `StoreError`; any failure removes
the staging folder and publishes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from mrumonitor.config import StoreSettings
from mrumonitor.errors import StoreError
from mrumonitor.manifest import RunBody, RunManifest
from mrumonitor.runfolder import RunFolder
from mrumonitor.store.catalog import write_catalog
from mrumonitor.store.faults import checkpoint
from mrumonitor.store.layers import describe_layers
from mrumonitor.store.lock import StoreLock
from mrumonitor.store.manifest import assemble_manifest
from mrumonitor.store.retention import TRASH_PREFIX, prune_runs
from mrumonitor.store.runs import (
    LATEST_FILE,
    PUBLISHING_PREFIX,
    latest_run_id,
    new_run_id,
    run_ids,
    run_started,
    runs_dir,
)
from mrumonitor.store.storage import storage_errors

log = logging.getLogger(__name__)

#: Prefix of the folder a run is built in.
STAGING_PREFIX = ".staging-"

_CLOCK_SLACK = dt.timedelta(seconds=5)


@dataclass(frozen=True)
class RunContext:
    """What the build of a run is given.

    Attributes
    ----------
    run_id : str
    staging : Path
        The (empty) folder to write the layers into, flat; it becomes the run folder.
    previous : Path or None
        The folder of the run that was latest when this one started (to re-use, e.g. its site ids).
    """

    run_id: str
    staging: Path
    previous: Path | None


#: Writes a run's layers into ``context.staging`` and returns the body of its manifest (`mrumonitor.manifest`).
BuildRun = Callable[[RunContext], RunBody]


@dataclass(frozen=True)
class PublishedRun:
    """A run `publish_run` published: id, folder, manifest, and the store housekeeping it did."""

    run_id: str
    path: Path
    manifest: RunManifest
    cleaned: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)


def publish_run(store_dir: str | Path, build: BuildRun, retention: StoreSettings, title: str = "mrumonitor",
                lock_purpose: str = "run", lock_wait_s: float = 0.0) -> PublishedRun:
    """Build a run with `build` and publish it atomically as the latest run of the store (module docstring).

    Parameters
    ----------
    store_dir : path
        The layer store (``paths.store``); runs go under ``<store_dir>/runs/``.
    build : callable
        ``build(context: RunContext) -> RunBody``: writes the layers, returns the manifest body.
    retention : StoreSettings
        keep_last and keep_days of the retention rule.
    title : str
        Title of the run's STAC catalog (the project name).
    lock_purpose : str
        What this writer is, as the lock refusal names it ("run", "scheduled run").
    lock_wait_s : float
        How long to wait for another writer to finish before refusing (default: refuse at once).

    Raises
    ------
    RunLockedError
        Another process is writing to the store.
    StoreError
        The store cannot be written (full disk, read-only, a file in the way).
    """
    store_dir = Path(store_dir)
    runs = runs_dir(store_dir)
    with StoreLock(store_dir, purpose=lock_purpose, wait_s=lock_wait_s):
        with storage_errors(store_dir):
            cleaned = clean_leftovers(store_dir)
            previous = latest_run_id(store_dir)
            run_id = _next_run_id(store_dir)
            context = RunContext(run_id, runs / f"{STAGING_PREFIX}{run_id}", runs / previous if previous else None)
            try:
                context.staging.mkdir()
                log.info("run %s: building in %s", run_id, context.staging)
                manifest = _complete(context, build(context), title, previous)
                _publish(context)
            except BaseException:
                _discard(context)
                raise
        log.info("run %s published: %s", run_id, runs / run_id)
        pruned = _apply_retention(store_dir, retention)
    return PublishedRun(run_id, runs / run_id, manifest, cleaned, pruned)


def leftovers(store_dir: str | Path) -> list[Path]:
    """What dead runs left in the store: staging and trash folders, temporary pointers, publish markers and
    runs renamed into place that LATEST never named. Nothing here is ever read as a run's content."""
    runs = runs_dir(store_dir)
    if not runs.is_dir():
        return []
    latest = _latest_text(runs)
    markers = sorted(runs.glob(f"{PUBLISHING_PREFIX}*"))
    unpublished = [runs / m.name.removeprefix(PUBLISHING_PREFIX) for m in markers]
    unpublished = [run for run in unpublished if run.name != latest and run.is_dir()]
    debris = [p for pattern in (f"{STAGING_PREFIX}*", f"{TRASH_PREFIX}*", f".{LATEST_FILE}.*.tmp")
              for p in sorted(runs.glob(pattern))]
    return unpublished + markers + debris


def clean_leftovers(store_dir: str | Path) -> list[str]:
    """Remove `leftovers` (call it holding the store lock); returns the names removed, each also logged."""
    runs = runs_dir(store_dir)
    removed = []
    for path in leftovers(store_dir):
        log.warning("removing %s, left by a run that stopped before it was published", path)
        if path.is_dir() and not path.name.startswith((STAGING_PREFIX, TRASH_PREFIX)):
            path = path.rename(runs / f"{TRASH_PREFIX}{path.name}")  # never half-deleted under a run id
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        removed.append(path.name)
    return removed


def _next_run_id(store_dir: Path) -> str:
    """A new run id later than every run of the store (waits for the next second if one started this second)."""
    newest = max(run_ids(store_dir), default=None)
    while True:
        run_id = new_run_id()
        if newest is None or run_id > newest:
            return run_id
        if run_started(newest) - run_started(run_id) > _CLOCK_SLACK:
            raise StoreError(f"the newest run of {store_dir}, {newest}, is dated after the current time "
                             f"({run_id[:16]}): check the system clock (UTC) before publishing a run.")
        time.sleep(0.2)


def _complete(context: RunContext, body: RunBody, title: str, previous: str | None) -> RunManifest:
    """Describe the built layers, write the STAC catalog and the manifest into the staging folder."""
    started = time.monotonic()
    layers = describe_layers(context.staging, context.previous)
    write_catalog(context.staging, context.run_id, layers, title)
    checkpoint("catalog", context.staging)
    created = run_started(context.run_id).isoformat().replace("+00:00", "Z")
    manifest = assemble_manifest(context.run_id, created, previous, body, layers, time.monotonic() - started)
    manifest.write(RunFolder(context.staging))
    log.info("run %s: %d layers described, catalog and manifest written", context.run_id, len(layers))
    return manifest


def _publish(context: RunContext) -> None:
    """Steps 4 to 6 of the module docstring: sync, rename into place, move LATEST."""
    runs = context.staging.parent
    _fsync_tree(context.staging)
    checkpoint("publish", context.staging)
    marker = runs / f"{PUBLISHING_PREFIX}{context.run_id}"
    _write_synced(marker, context.run_id)
    os.rename(context.staging, runs / context.run_id)
    _fsync(runs)
    pointer = runs / f".{LATEST_FILE}.{os.getpid()}.tmp"
    _write_synced(pointer, context.run_id)
    os.replace(pointer, runs / LATEST_FILE)
    _fsync(runs)
    marker.unlink()


def _discard(context: RunContext) -> None:
    """After a failure: remove the staging folder, a partial pointer, and the run folder if LATEST does not name it."""
    runs = context.staging.parent
    shutil.rmtree(context.staging, ignore_errors=True)
    with suppress(OSError):  # what cannot be removed now is a leftover the next run removes
        (runs / f".{LATEST_FILE}.{os.getpid()}.tmp").unlink(missing_ok=True)
        if _latest_text(runs) != context.run_id:
            shutil.rmtree(runs / context.run_id, ignore_errors=True)
            (runs / f"{PUBLISHING_PREFIX}{context.run_id}").unlink(missing_ok=True)
    log.warning("run %s not published; its files were removed", context.run_id)


def _apply_retention(store_dir: Path, retention: StoreSettings) -> list[str]:
    """Apply the retention rule; the run is published already, so a failure here is only a warning."""
    try:
        return prune_runs(store_dir, retention.keep_last, retention.keep_days)
    except OSError as exc:
        log.warning("old runs could not be deleted (%s); the next run tries again", exc)
        return []


def _latest_text(runs: Path) -> str | None:
    try:
        return (runs / LATEST_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            _fsync(Path(root) / name)
        _fsync(Path(root))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
