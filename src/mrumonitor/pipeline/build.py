"""One batch update: ingest -> detect -> analyse into a staging folder, published as a new run of the store.

`run_pipeline` is what `mrumonitor run` and the scheduler call. The reference layers are read once
(`reference.layers.ReferenceLayers`) and handed to the stages as data; each stage returns what it made and
the run's staging folder (`mrumonitor.runfolder`) receives it: ingest's concessions and quarantine, detect's
activity COGs and site layers (detect writes its rasters chunk by chunk), analyse's layers (its enriched
``sites`` and ``site_periods`` replace detect's), then the reference layers themselves, the field
verification's layers and the ``alerts`` the run raises against the previous one (`mrumonitor.alerts`: the
previous run's alerts keep their ids and first run, so the same change is never raised twice). The site layers of
the previous run are handed to detect, so site ids carry over from run to run. The store then describes the
layers, writes the catalog and manifest and publishes the run atomically (`store.publish`).

A run limited to some countries (``countries``) refreshes their data only and keeps the other countries'
from the previous run (`pipeline.scope`); the manifest's ``scope`` section and a caveat say so.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path

import geopandas as gpd
import pandas as pd

from mrumonitor import __version__
from mrumonitor.alerts.derive import derive_alerts
from mrumonitor.analysis.run import analyse
from mrumonitor.config import Settings
from mrumonitor.errors import StageInputError
from mrumonitor.ingest import ingest_sources, write_ingest
from mrumonitor.ingest.run import IngestResult, ProgressHook, country_outlines
from mrumonitor.layerio import write_geoparquet
from mrumonitor.manifest import RunBody, RunManifest
from mrumonitor.pipeline.incremental import detect_entry, plan_detect
from mrumonitor.pipeline.provenance import describe_inputs, input_caveats, snapshots, thresholds
from mrumonitor.pipeline.scope import (
    RunScope,
    keep_other_countries,
    kept_inputs,
    run_scope,
    scope_caveat,
    scope_entry,
)
from mrumonitor.raster.gaps import gap_summary
from mrumonitor.raster.run import ChunkHook, DetectResult, detect
from mrumonitor.raster.summary import country_summary
from mrumonitor.reference.layers import ReferenceLayers
from mrumonitor.runfolder import RunFolder, activity_layer
from mrumonitor.runwarnings import collecting_warnings
from mrumonitor.schema import CONFIDENCE_LEVELS
from mrumonitor.sites import SiteLayers
from mrumonitor.store.checksum import file_record, records_by_path
from mrumonitor.store.faults import checkpoint
from mrumonitor.store.publish import PublishedRun, RunContext, publish_run
from mrumonitor.verification.ledger import Ledger
from mrumonitor.verification.run import verify_run

log = logging.getLogger(__name__)


def run_pipeline(settings: Settings, on_records: ProgressHook | None = None,
                 on_chunk: ChunkHook | None = None, lock_purpose: str = "run", lock_wait_s: float = 0.0,
                 countries: list[str] | tuple[str, ...] | None = None) -> PublishedRun:
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
    countries : list of str, optional
        Refresh only these countries (ISO3 codes of ``project.countries``), keeping the others' data from
        the latest run (`pipeline.scope`). Default: the whole region.

    Raises
    ------
    ConfigError
        A country code is not one of ``project.countries``.
    StageInputError
        The run is limited to some countries, but the store has no published run to keep the others' data from.
    RunLockedError
        Another run is writing to the store (still, after `lock_wait_s`).
    StoreError
        The store cannot be written; nothing was published.
    """
    build = partial(build_run, settings, on_records=on_records, on_chunk=on_chunk,
                    scope=run_scope(settings, countries))
    return publish_run(settings.paths.store, build, settings.store, title=settings.project.name,
                       lock_purpose=lock_purpose, lock_wait_s=lock_wait_s)


def build_run(settings: Settings, context: RunContext, on_records: ProgressHook | None = None,
              on_chunk: ChunkHook | None = None, scope: RunScope | None = None) -> RunBody:
    """Run ingest, detect and analyse into ``context.staging``; return the manifest body (`mrumonitor.manifest`).

    The reference layers are read once (`ReferenceLayers.load`), handed to the stages and written into the
    run. Every warning recorded while it runs (`mrumonitor.runwarnings`) goes into the manifest's ``warnings``.
    Detect is incremental: the periods whose inputs and configuration are those of the previous run are
    re-used from it (`pipeline.incremental`), the others processed; the manifest's ``detect`` section says which.
    A limited `scope` reads the sources of its countries only and computes activity over them only.
    """
    with collecting_warnings() as warnings:
        body = _build(settings, context, on_records, on_chunk, scope or RunScope())
    return replace(body, warnings=[warning.as_dict() for warning in warnings])


def _build(settings: Settings, context: RunContext, on_records: ProgressHook | None, on_chunk: ChunkHook | None,
           scope: RunScope) -> RunBody:
    staging, timings = RunFolder(context.staging), {}
    previous = RunManifest.previous(context.previous)
    if scope.limited and not (context.previous and RunFolder(context.previous).has_layers("concessions",
                                                                                           "quarantine")):
        raise StageInputError(f"a run limited to {scope.label()} keeps the other countries' data from the latest "
                              f"run, and the store {settings.paths.store} has none that holds them: run "
                              "`mrumonitor run` without --countries first.")
    reference = ReferenceLayers.load(settings)
    with _timed(timings, "ingest"):
        ingested = ingest_sources(settings, country_outlines(reference.boundaries), on_progress=on_records,
                                  only=scope.sources(settings))
        if scope.limited:
            ingested = keep_other_countries(ingested, RunFolder(context.previous), previous, scope, settings)
        write_ingest(ingested, staging.path)
    checkpoint("vectors", staging.path)
    with _timed(timings, "detect"):
        inputs = describe_inputs(_read_by(settings, scope), known=records_by_path(previous.inputs))
        inputs = kept_inputs(inputs, previous, scope) if scope.limited else inputs
        plan = plan_detect(settings, inputs, context.previous, previous, scope.countries)
        detected = detect(settings, out=staging.path, previous=_previous_sites(context.previous), on_chunk=on_chunk,
                          plan=plan, boundaries=reference.boundaries)
    checkpoint("rasters", staging.path)
    ledger = Ledger(settings.ledger)
    with _timed(timings, "analyse"):
        visits, samples = ledger.visits(), ledger.samples()
        analysed = analyse(settings, ingested.concessions, detected.sites, reference, visits)
        analysed.write(staging)
        written = reference.write(staging)
        verified = verify_run(settings, visits, samples, analysed.sites, analysed.site_periods, analysed.feedback,
                              detected.activity, ledger.state() if ledger.exists() else None)
        verified.write(staging)
        alerts = derive_alerts(analysed.sites, analysed.site_periods, detected.gaps, visits,
                               list(settings.activity.periods), settings.alerts, _previous_alerts(context.previous),
                               context.run_id)
        write_geoparquet(alerts, staging.layer("alerts"))
    scoped = scope_entry(scope, settings, previous.run_id or None, detected.limit)
    return RunBody(
        config={"files": [file_record(path) for path in settings.config_files],
                "fingerprint": settings.fingerprint(), "effective": settings.model_dump(mode="json")},
        thresholds=thresholds(settings),
        reference=written,
        periods=[{**period.model_dump(mode="json"),
                  "layer": activity_layer(period.name) if period.name in detected.activity else None}
                 for period in settings.activity.periods],
        baseline=settings.activity.baseline,
        detect=detect_entry(plan, context.run_id),
        scope=scoped,
        gaps=gap_summary(detected.gaps),
        inputs=inputs,
        snapshots={**snapshots(settings), **_kept_snapshots(previous, scope)},
        reproduce=_reproduce(settings, scope),
        timings_s=timings,
        counts={**_counts(ingested, detected), "alerts_new": _new_alerts(alerts)},
        caveats=(input_caveats(settings, inputs, analysed.licence_snapshots) + [c for c in [scope_caveat(scoped, plan.process)] if c]
                 + verified.caveats),
        verification=verified.section,
    )


def _read_by(settings: Settings, scope: RunScope) -> Settings:
    """The settings whose inputs the run reads: for a limited run, without the other countries' sources."""
    if not scope.limited:
        return settings
    return settings.model_copy(update={"sources": {name: settings.sources[name] for name in scope.sources(settings)}})


def _kept_snapshots(previous: RunManifest, scope: RunScope) -> dict:
    """The cadastre snapshot dates a limited run keeps from the previous run (of the countries it did not read)."""
    return {country: day for country, day in previous.snapshots.items()
            if scope.limited and not scope.covers(country)}


def _previous_sites(previous: Path | None) -> SiteLayers | None:
    """The site layers of the previous run, so that detect gives its sites the same ids."""
    return SiteLayers.read(previous) if previous is not None and SiteLayers.exists(previous) else None


def _previous_alerts(previous: Path | None) -> gpd.GeoDataFrame | None:
    """The alerts the previous run published (None without a previous run, or one of a version without alerts)."""
    if previous is None or not RunFolder(previous).has_layers("alerts"):
        return None
    return gpd.read_parquet(RunFolder(previous).layer("alerts"))


def _new_alerts(alerts: gpd.GeoDataFrame) -> dict:
    """How many alerts the run raised first, in all and per confidence level."""
    new = alerts[alerts["new_in_run"]]
    return {"total": len(new), **{level: int((new["confidence"] == level).sum()) for level in CONFIDENCE_LEVELS}}


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


def _reproduce(settings: Settings, scope: RunScope) -> dict:
    config = settings.config_files[-1].absolute() if len(settings.config_files) > 1 else None
    limited = f" --countries {' '.join(scope.countries)}" if scope.limited else ""
    note = ("Put the files listed under inputs (same sha256) at their paths, or edit the paths of the "
            "configuration; config.effective holds every key the run used.")
    if scope.limited:
        note += " A limited run starts from the run named in scope.kept_from: publish that run first."
    return {"software": f"mrumonitor=={__version__}",
            "command": "mrumonitor run" + (f" --config {config}" if config else "") + limited, "note": note}


def _records(frame: pd.DataFrame) -> list[dict]:
    """A table as JSON records (numpy numbers become plain ones)."""
    return json.loads(frame.to_json(orient="records"))


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    timings[stage] = round(time.monotonic() - started, 3)
    log.info("stage %s done in %.1f s", stage, timings[stage])
