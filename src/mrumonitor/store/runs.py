"""Published runs of a layer store: run ids, the folders they live in, which run is the latest, reading them.

Layout of a store (``<paths.store>``)::

    runs/
      LATEST                     the id of the latest run, one line, replaced atomically (os.replace)
      .lock                      flock-ed by the process writing to the store (see `store.lock`)
      20261122T101500Z-3f2a/     a published run (`mrumonitor.runfolder`): its manifest, layers and catalog
      .staging-<run_id>/         a run being built, or left by a run that died (see `store.publish`)
      .publishing-<run_id>       a publish in progress: renamed into place, LATEST not yet moved
      .trash-<run_id>/           a run being deleted by the retention rule

A run folder appears under its id only once it is complete (it is built aside and renamed), and a run
is published when LATEST names it. Readers (the dashboard, the exports) go through `resolve_run`,
`list_runs` and `read_manifest` (a run's manifest as JSON; `mrumonitor.manifest.RunManifest.read` gives it
typed) only, and never build a path from a user's text: a run id is checked against `RUN_ID` first.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from mrumonitor.errors import StoreError, UnknownRun
from mrumonitor.manifest import RunManifest, read_manifest  # noqa: F401  (read_manifest: the readers' entry)
from mrumonitor.runfolder import RunFolder

#: Folder of the runs inside a store.
RUNS_DIR = "runs"
#: File naming the latest run, inside RUNS_DIR.
LATEST_FILE = "LATEST"
#: A run id: the UTC second the run started, then 4 random hex digits. Ids sort in time order.
RUN_ID = re.compile(r"^(\d{8}T\d{6}Z)-[0-9a-f]{4}$")
#: Prefix of the marker of a publish in progress (see `store.publish`).
PUBLISHING_PREFIX = ".publishing-"

_ID_TIME = "%Y%m%dT%H%M%SZ"
#: LATEST holds one run id; more than this is not read (a damaged pointer may be anything).
_LATEST_MAX_BYTES = 256


@dataclass(frozen=True)
class RunSummary:
    """One run of a store, as `list_runs` describes it.

    Attributes
    ----------
    run_id, path
        The run's id and folder.
    created
        When the run started (ISO 8601, UTC), from its manifest ("" when the manifest cannot be read).
    latest
        Whether LATEST names this run.
    periods
        The imagery periods of its activity layers, in order.
    sites
        Rows of its `sites` layer (None when it has none).
    status
        "published", or in plain words what is wrong with it.
    """

    run_id: str
    path: Path
    created: str
    latest: bool
    periods: list[str]
    sites: int | None
    status: str


def runs_dir(store_dir: str | Path) -> Path:
    """The folder holding the runs of the store at `store_dir`."""
    return Path(store_dir) / RUNS_DIR


def new_run_id(now: dt.datetime | None = None) -> str:
    """A fresh run id for a run starting `now` (default: the current time), e.g. ``20261122T101500Z-3f2a``."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"{now.strftime(_ID_TIME)}-{secrets.token_hex(2)}"


def run_started(run_id: str) -> dt.datetime:
    """The UTC time a run started, read from its id."""
    match = RUN_ID.match(run_id)
    if not match:
        raise StoreError(f"{run_id!r} is not a run id (expected e.g. 20261122T101500Z-3f2a).")
    return dt.datetime.strptime(match.group(1), _ID_TIME).replace(tzinfo=dt.UTC)


def run_ids(store_dir: str | Path) -> list[str]:
    """Ids of the run folders of the store, oldest first (runs being built or deleted are not runs)."""
    folder = runs_dir(store_dir)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if RUN_ID.match(p.name) and p.is_dir())


def latest_run_id(store_dir: str | Path) -> str | None:
    """The id LATEST names, or None when the store has no LATEST yet."""
    pointer = runs_dir(store_dir) / LATEST_FILE
    fix = ("Write the id of the run to publish into that file, or delete the file and run `mrumonitor run` "
           "again.")
    try:
        raw = pointer.read_bytes()[:_LATEST_MAX_BYTES]
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{pointer}: the pointer to the latest run cannot be read ({exc.strerror or exc}). "
                         f"{fix}") from None
    run_id = raw.decode("ascii", errors="replace").strip()
    if not RUN_ID.match(run_id) or not (runs_dir(store_dir) / run_id).is_dir():
        named = "nothing (it is empty)" if not run_id else f"{run_id[:40]!r}"
        raise StoreError(f"{pointer} names {named}, which is not a run of this store "
                         f"(runs: {_listing(run_ids(store_dir))}). {fix}")
    return run_id


def resolve_run(store_dir: str | Path, run: str = "latest") -> Path:
    """The folder of run `run` ("latest" or a run id) of the store at `store_dir`.

    Raises
    ------
    StoreError
        When the store has no published run.
    UnknownRun
        When the store has no run of that id (the message lists the ids there are).
    """
    if run == "latest":
        run_id = latest_run_id(store_dir)
        if run_id is None:
            raise StoreError(f"the layer store {Path(store_dir)} has no published run yet. "
                             "Publish one with `mrumonitor run`.")
        return runs_dir(store_dir) / run_id
    # asked per map tile and per callback: a look at one folder, not a listing of the store (the listing only for
    # the message)
    if RUN_ID.match(run) and (runs_dir(store_dir) / run).is_dir():
        return runs_dir(store_dir) / run
    raise UnknownRun(f"no run {run!r} in the layer store {Path(store_dir)}; "
                     f"runs there: {_listing(run_ids(store_dir))} (or say latest).")


def published_run(store_dir: str | Path, run: str = "latest", latest: str = "latest") -> Path:
    """The folder of run `run` when it is "latest" or a published run of the store: `resolve_run` for a run named
    in an address from outside, which may name no failed or unfinished run.

    Raises
    ------
    UnknownRun
        When `run` names no published run (the message lists those there are, and `latest`: how the address asks
        for the latest run).
    StoreError
        When the store has no published run.
    """
    if run != "latest":
        published = [summary.run_id for summary in list_runs(store_dir) if summary.status == "published"]
        if run not in published:
            raise UnknownRun(f"no published run {run[:80]!r}; runs: {', '.join(published) or 'none'} (or {latest}).")
    return resolve_run(store_dir, run)


def list_runs(store_dir: str | Path) -> list[RunSummary]:
    """Every run folder of the store, oldest first, with what its manifest says."""
    latest = latest_run_id(store_dir)
    return [_summary(runs_dir(store_dir) / run_id, run_id == latest) for run_id in run_ids(store_dir)]


def _summary(path: Path, latest: bool) -> RunSummary:
    try:
        manifest = RunManifest.read(RunFolder(path))
    except StoreError as exc:
        return RunSummary(path.name, path, "", latest, [], None, f"damaged: {exc}")
    layers = manifest.layers
    periods = list(dict.fromkeys(layer["period"] for layer in layers.values() if layer.get("period")))
    sites = layers.get("sites", {}).get("count")
    status = "published"
    if not latest and (path.parent / f"{PUBLISHING_PREFIX}{path.name}").exists():
        status = "unpublished: its run stopped before LATEST named it; the next run removes it"
    return RunSummary(path.name, path, manifest.created, latest, periods, sites, status)


def _listing(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "none"
