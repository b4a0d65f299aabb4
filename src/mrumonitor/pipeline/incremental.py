"""Incremental detect: which periods of the previous run are re-used as they are, and which are processed.

What a period's activity layer depends on is summed up in its **fingerprint**, a hash of

- the detect configuration: the analysis CRS, the [raster] (but its chunk size, which changes no pixel),
  [detector] and [sites] tables, the baseline, every [activity.inputs] block (but its path: where the
  files lie changes no pixel, what they hold is in their SHA-256 below), the imagery providers' collections and
  asset names (not their URLs), and the period's dates;
- the country outlines (they make the grid, and the sites' country shares);
- the SHA-256 of the period's input files (`pipeline.provenance.describe_inputs`): the period's file of each
  detections, probability or classes input; for a scene input its scenes of the period and of the baseline;
  for a STAC input the fingerprints of its items of the period and of the baseline (`raster.stac.items`);
- for a run limited to some countries (`pipeline.scope`), the list of those countries: the layer of a
  period it processes is fresh over them only (`raster.limit`).

A run records the fingerprint of each period in its manifest (``detect.periods``, `detect_entry`). The next
run re-uses a period when the previous run holds its layers under the same fingerprint, and processes it
otherwise. Site tracking takes the periods of the previous run it does not process as history that
*precedes* the periods it processes (`sites.tracking`), so only a leading run of unchanged periods is re-used:
from the first new or changed period on, every period is processed again. Appending a period — the scheduled
update — processes that period alone, whatever the length of the history. No absolute path enters a
fingerprint: a store and its inputs moved or copied elsewhere together keep re-using their periods.

A limited run re-uses a period whose layer is up to date for its countries: made under the full fingerprint
(nothing changed) or under its own (the same limited run before). A full run re-uses only periods made under
the full fingerprint, so it recomputes every period a limited run processed.

The plan is a `raster.plan.DetectPlan`: detect executes it (linking the re-used files, `raster.plan.link_layer`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from mrumonitor.config import DETECTOR_KINDS, ActivityInput, Settings
from mrumonitor.manifest import RunManifest
from mrumonitor.raster.plan import DetectPlan
from mrumonitor.reference.files import BOUNDARIES
from mrumonitor.runfolder import RunFolder
from mrumonitor.sites import SiteLayers

log = logging.getLogger(__name__)

#: Keys of an [activity.inputs] block that only STAC inputs use.
_STAC_KEYS = ("provider", "collection", "max_cloud_cover")
#: Layers of the previous run whose rows of the re-used periods are carried over (with its site layers).
_CARRIED = ("gaps", "activity_quarantine")


def plan_detect(settings: Settings, inputs: list[dict], previous: Path | None, manifest: RunManifest,
                countries: tuple[str, ...] = ()) -> DetectPlan:
    """Plan a detect run against the previous run (see the module docstring).

    Parameters
    ----------
    inputs : list of dict
        The run's input records (`describe_inputs`): the activity files with their period and SHA-256.
    previous : Path or None
        The folder of the previous (latest) run; None: every period is processed.
    manifest : RunManifest
        The previous run's manifest (`RunManifest.previous`: empty when there is none).
    countries : tuple of str
        The countries a limited run refreshes (``()``: a full run).
    """
    full = period_fingerprints(settings, inputs)
    own = period_fingerprints(settings, inputs, countries) if countries else full
    folder = RunFolder(previous) if previous is not None else None
    published = manifest.detect.get("periods", {}) if folder is not None and _run_layers_present(folder) else {}
    reuse = []
    for name in full:
        before = published.get(name)
        if before is None or before["fingerprint"] not in (full[name], own[name]) \
                or not _layers_present(folder, name, settings):
            break
        reuse.append(name)
    fingerprints = {name: published[name]["fingerprint"] if name in reuse else own[name] for name in full}
    plan = DetectPlan(fingerprints, tuple(reuse), previous if reuse else None,
                      {name: published[name]["made_by"] for name in reuse}, tuple(countries), previous)
    log.info("detect plan: re-use %s from run %s; process %s", ", ".join(plan.reuse) or "no period",
             previous.name if previous else "-", ", ".join(plan.process) or "no period")
    return plan


def detect_entry(plan: DetectPlan, run_id: str) -> dict:
    """The ``detect`` section of the manifest of run `run_id`, which the next run plans from."""
    return {"processed": plan.process, "reused": list(plan.reuse),
            "reused_from": plan.source.name if plan.source else None,
            "limited_to": list(plan.countries) or None,
            "periods": {name: {"fingerprint": fingerprint, "made_by": plan.made_by.get(name, run_id)}
                        for name, fingerprint in plan.fingerprints.items()}}


def period_fingerprints(settings: Settings, inputs: list[dict], countries: tuple[str, ...] = ()) -> dict[str, str]:
    """Period name -> fingerprint of what its layers depend on (module docstring), in period order; with
    `countries`, that of a run limited to them."""
    raster = settings.raster.model_dump(mode="json", exclude={"chunk_size"})
    common = {"crs": settings.crs.analysis, "raster": raster, "detector": settings.detector.model_dump(mode="json"),
              "sites": settings.sites.model_dump(mode="json"), "baseline": settings.activity.baseline,
              "inputs": {name: _input_entry(settings, spec) for name, spec in settings.activity.inputs.items()},
              "outlines": sorted(r["sha256"] for r in inputs
                                 if r["role"] == "reference" and Path(r["path"]).name == BOUNDARIES)}
    if countries:
        common["limited_to"] = sorted(countries)
    activity = [r for r in inputs if r["role"] == "activity"]
    fingerprints = {}
    for period in settings.activity.periods:
        files = sorted((r["input"], r["period"], r["sha256"]) for r in activity
                       if r["period"] == period.name
                       or (r["kind"] in DETECTOR_KINDS and r["period"] == settings.activity.baseline))
        payload = {**common, "period": period.model_dump(mode="json"), "files": files}
        fingerprints[period.name] = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    return fingerprints


def _input_entry(settings: Settings, spec: ActivityInput) -> dict:
    """What an activity input block contributes to a fingerprint: its keys but the path, and for a STAC input its
    provider's collection and asset names (not its URL: the same items served elsewhere give the same pixels). The
    STAC keys of other kinds are left out, so that their fingerprints are those runs recorded before STAC inputs."""
    if spec.kind != "stac":
        return spec.model_dump(mode="json", exclude={"path", *_STAC_KEYS})
    entry = spec.model_dump(mode="json", exclude={"path"})
    entry["provider_block"] = settings.imagery.providers[spec.provider].model_dump(
        mode="json", exclude={"api", "folder", "description"})
    return entry


def _run_layers_present(folder: RunFolder) -> bool:
    """Whether the run holds the layers an incremental run carries over: sites, gaps, activity quarantine."""
    return SiteLayers.exists(folder.path) and folder.has_layers(*_CARRIED)


def _layers_present(folder: RunFolder, period: str, settings: Settings) -> bool:
    """Whether the run holds the period's activity layer and those of its scene and STAC areas. The baseline has no
    area layers, and no activity layer at all when only the detector's inputs read it."""
    inputs = settings.activity.inputs.values()
    if period == settings.activity.baseline:
        return all(spec.kind in DETECTOR_KINDS for spec in inputs) or folder.activity(period).is_file()
    areas = [folder.area_activity(name, period) for name, spec in settings.activity.inputs.items()
             if spec.kind in DETECTOR_KINDS]
    return all(path.is_file() for path in [folder.activity(period), *areas])
