"""One batch update: ingest -> detect -> analyse into a staging folder, published as a new run of the store.

`run_pipeline` is what `mrumonitor run` (and later the scheduler) calls. The stages write flat into the
run's staging folder: ingest its concessions and quarantine, detect its activity COGs and site layers,
analyse its layers (its enriched ``sites`` and ``site_periods`` replace detect's). The site layers of the
previous run are handed to detect, so site ids carry over from run to run. The store then describes the
layers, writes the catalog and manifest and publishes the run atomically (`store.publish`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pandas as pd

from mrumonitor import __version__
from mrumonitor.analysis.run import analyse
from mrumonitor.config import Settings
from mrumonitor.errors import StoreError
from mrumonitor.ingest import ingest_sources, write_ingest
from mrumonitor.ingest.run import IngestResult, ProgressHook
from mrumonitor.raster.gaps import gap_summary
from mrumonitor.raster.incremental import plan_detect
from mrumonitor.raster.run import ChunkHook, DetectResult, detect
from mrumonitor.raster.sites import SiteLayers
from mrumonitor.raster.summary import country_summary
from mrumonitor.store.checksum import file_record, records_by_path
from mrumonitor.store.faults import checkpoint
from mrumonitor.store.provenance import describe_inputs, input_caveats, snapshots, thresholds
from mrumonitor.store.publish import PublishedRun, RunContext, publish_run
from mrumonitor.store.runs import read_manifest

log = logging.getLogger(__name__)


def run_pipeline(settings: Settings, on_records: ProgressHook | None = None,
                 on_chunk: ChunkHook | None = None, lock_purpose: str = "run", lock_wait_s: float = 0.0
                 ) -> PublishedRun:
    """Run every stage and publish the result as the latest run of the store at ``paths.store``.

    Parameters
    ----------
    settings : Settings
    on_records, on_chunk : callable, optional
        Progress hooks of the ingest (records read per source) and detect (chunks written per raster) stages.
    lock_purpose : str
        How the store lock names this writer to a process it refuses ("run", "scheduled run").
    lock_wait_s : float
        How long to wait for another run holding the store lock (default: refuse at once).

    Raises
    ------
    RunLockedError
        Another run is writing to the store (still, after `lock_wait_s`).
    StoreError
        The store cannot be written; nothing was published.
    """
    build = partial(build_run, settings, on_records=on_records, on_chunk=on_chunk)
    return publish_run(settings.paths.store, build, settings.store, title=settings.project.name,
                       lock_purpose=lock_purpose, lock_wait_s=lock_wait_s)


def build_run(settings: Settings, context: RunContext, on_records: ProgressHook | None = None,
              on_chunk: ChunkHook | None = None) -> dict:
    """Run ingest, detect and analyse into ``context.staging``; return the manifest body (`store.manifest`).

    Detect is incremental: the periods whose inputs and configuration are those of the previous run are
    re-used from it (`raster.incremental`), the others processed; the manifest's ``detect`` section says which.
    """
    staging, timings = context.staging, {}
    with _timed(timings, "ingest"):
        ingested = ingest_sources(settings, on_progress=on_records)
        write_ingest(ingested, staging)
    checkpoint("vectors", staging)
    with _timed(timings, "detect"):
        inputs = describe_inputs(settings, known=records_by_path(_previous_manifest(context.previous).get("inputs")))
        plan = plan_detect(settings, inputs, context.previous)
        detected = detect(settings, out=staging, previous=_previous_sites(context.previous), on_chunk=on_chunk,
                          plan=plan)
    checkpoint("rasters", staging)
    with _timed(timings, "analyse"):
        analyse(settings, staging, staging, staging)
    return {
        "config": {"files": [file_record(path) for path in settings.config_files],
                   "fingerprint": settings.fingerprint(), "effective": settings.model_dump(mode="json")},
        "thresholds": thresholds(settings),
        "periods": [{**period.model_dump(mode="json"),
                     "layer": f"activity_{period.name}" if period.name in detected.activity else None}
                    for period in settings.activity.periods],
        "baseline": settings.activity.baseline,
        "detect": plan.manifest_entry(context.run_id),
        "gaps": gap_summary(detected.gaps),
        "inputs": inputs,
        "snapshots": snapshots(settings),
        "reproduce": _reproduce(settings),
        "timings_s": timings,
        "counts": _counts(ingested, detected),
        "caveats": input_caveats(settings, inputs),
    }


def _previous_manifest(previous: Path | None) -> dict:
    """The manifest of the previous run ({} when there is none or it cannot be read)."""
    try:
        return read_manifest(previous) if previous is not None else {}
    except StoreError:
        return {}


def _previous_sites(previous: Path | None) -> SiteLayers | None:
    """The site layers of the previous run, so that detect gives its sites the same ids."""
    return SiteLayers.read(previous) if previous is not None and SiteLayers.exists(previous) else None


def _counts(ingested: IngestResult, detected: DetectResult) -> dict:
    """Records read, accepted, repaired and quarantined (in all and per source); sites in all and per country."""
    report = ingested.report
    sites = detected.sites.sites
    periods = list(detected.activity)
    return {
        "cadastre": {column: int(report[column].sum()) for column in ("read", "accepted", "repaired", "quarantined")},
        "cadastre_by_source": _records(report),
        "activity_quarantined": len(detected.quarantine),
        "periods_with_activity": len(periods),
        "sites": len(sites),
        "sites_transboundary": int(sites["transboundary"].sum()),
        "sites_by_country": _records(country_summary(detected.sites, periods)) if periods else [],
    }


def _reproduce(settings: Settings) -> dict:
    config = settings.config_files[-1].absolute() if len(settings.config_files) > 1 else None
    return {"software": f"mrumonitor=={__version__}",
            "command": "mrumonitor run" + (f" --config {config}" if config else ""),
            "note": "Put the files listed under inputs (same sha256) at their paths, or edit the paths of the "
                    "configuration; config.effective holds every key the run used."}


def _records(frame: pd.DataFrame) -> list[dict]:
    """A table as JSON records (numpy numbers become plain ones)."""
    return json.loads(frame.to_json(orient="records"))


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    timings[stage] = round(time.monotonic() - started, 3)
    log.info("stage %s done in %.1f s", stage, timings[stage])
