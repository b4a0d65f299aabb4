"""Incremental detect: which periods of the previous run are re-used as they are, and which are processed.

What a period's activity layer depends on is summed up in its **fingerprint**, a hash of

- the detect configuration: the analysis CRS, the [raster] (but its chunk size, which changes no pixel),
  [detector] and [sites] tables, the baseline and every [activity.inputs] block (but its path: where the
  files lie changes no pixel, what they hold is in their SHA-256 below), and the period's dates;
- the country outlines (they make the grid, and the sites' country shares);
- the SHA-256 of the period's input files (`store.provenance.describe_inputs`): the period's file of each
  detections, probability or classes input; for a scene input its scenes of the period and of the baseline;
- for a run limited to some countries (`mrumonitor.scope`), the list of those countries: the layer of a
  period it processes is fresh over them only (`raster.limit`).

A run records the fingerprint of each period in its manifest (``detect.periods``). The next run re-uses a
period when the previous run holds its layers under the same fingerprint, and processes it otherwise. Site
tracking takes the periods of the previous run it does not process as history that *precedes* the periods
it processes (`sites.tracking`), so only a leading run of unchanged periods is re-used: from the first new or
changed period on, every period is processed again. Appending a period — the scheduled update — processes
that period alone, whatever the length of the history. No absolute path enters a fingerprint: a store and
its inputs moved or copied elsewhere together keep re-using their periods.

A limited run re-uses a period whose layer is up to date for its countries: made under the full fingerprint
(nothing changed) or under its own (the same limited run before). A full run re-uses only periods made under
the full fingerprint, so it recomputes every period a limited run processed.

Re-used files (activity COGs, scene-area COGs) are hard-linked from the previous run into the new one
(copied across file systems): runs never change after publishing, and every writer replaces a file by a
new one (`os.replace`), so a link is never written through.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from mrumonitor.config import Settings
from mrumonitor.reference.files import BOUNDARIES
from mrumonitor.sites import SiteLayers
from mrumonitor.store.runs import MANIFEST_FILE

log = logging.getLogger(__name__)

#: Key of the manifest section an incremental run reads back.
MANIFEST_KEY = "detect"
#: Layers of the previous run whose rows of the re-used periods are carried over.
_CARRIED = ("gaps.parquet", "activity_quarantine.parquet")


@dataclass(frozen=True)
class DetectPlan:
    """Which periods a detect run re-uses from the previous run and which it processes.

    Attributes
    ----------
    fingerprints : dict
        Period name -> fingerprint, for every configured period, in period order.
    reuse : tuple of str
        Periods whose layers are taken from `source` (a leading run of the periods).
    source : Path or None
        The previous run's folder.
    made_by : dict
        Re-used period -> id of the run that computed its layers.
    countries : tuple of str
        The countries a limited run refreshes (``()``: the whole region).
    previous : Path or None
        The previous run's folder, whose layers fill a limited run's periods outside its countries.
    """

    fingerprints: dict[str, str]
    reuse: tuple[str, ...] = ()
    source: Path | None = None
    made_by: dict[str, str] = field(default_factory=dict)
    countries: tuple[str, ...] = ()
    previous: Path | None = None

    @property
    def process(self) -> list[str]:
        """The periods to process, in period order."""
        return [name for name in self.fingerprints if name not in self.reuse]

    def manifest_entry(self, run_id: str) -> dict:
        """The ``detect`` section of the manifest of run `run_id`, which the next run plans from."""
        return {"processed": self.process, "reused": list(self.reuse),
                "reused_from": self.source.name if self.source else None,
                "limited_to": list(self.countries) or None,
                "periods": {name: {"fingerprint": fingerprint, "made_by": self.made_by.get(name, run_id)}
                            for name, fingerprint in self.fingerprints.items()}}


def plan_detect(settings: Settings, inputs: list[dict], previous: Path | None,
                countries: tuple[str, ...] = ()) -> DetectPlan:
    """Plan a detect run against the previous run (see the module docstring).

    Parameters
    ----------
    inputs : list of dict
        The run's input records (`describe_inputs`): the activity files with their period and SHA-256.
    previous : Path or None
        The folder of the previous (latest) run; None: every period is processed.
    countries : tuple of str
        The countries a limited run refreshes (``()``: a full run).
    """
    full = period_fingerprints(settings, inputs)
    own = period_fingerprints(settings, inputs, countries) if countries else full
    published = _published_periods(previous) if previous is not None and _run_layers_present(previous) else {}
    reuse = []
    for name in full:
        before = published.get(name)
        if before is None or before["fingerprint"] not in (full[name], own[name]) \
                or not _layers_present(previous, name, settings):
            break
        reuse.append(name)
    fingerprints = {name: published[name]["fingerprint"] if name in reuse else own[name] for name in full}
    plan = DetectPlan(fingerprints, tuple(reuse), previous if reuse else None,
                      {name: published[name]["made_by"] for name in reuse}, tuple(countries), previous)
    log.info("detect plan: re-use %s from run %s; process %s", ", ".join(plan.reuse) or "no period",
             previous.name if previous else "-", ", ".join(plan.process) or "no period")
    return plan


def period_fingerprints(settings: Settings, inputs: list[dict], countries: tuple[str, ...] = ()) -> dict[str, str]:
    """Period name -> fingerprint of what its layers depend on (module docstring), in period order; with
    `countries`, that of a run limited to them."""
    raster = settings.raster.model_dump(mode="json", exclude={"chunk_size"})
    common = {"crs": settings.crs.analysis, "raster": raster, "detector": settings.detector.model_dump(mode="json"),
              "sites": settings.sites.model_dump(mode="json"), "baseline": settings.activity.baseline,
              "inputs": {name: spec.model_dump(mode="json", exclude={"path"})
                         for name, spec in settings.activity.inputs.items()},
              "outlines": sorted(r["sha256"] for r in inputs
                                 if r["role"] == "reference" and Path(r["path"]).name == BOUNDARIES)}
    if countries:
        common["limited_to"] = sorted(countries)
    activity = [r for r in inputs if r["role"] == "activity"]
    fingerprints = {}
    for period in settings.activity.periods:
        files = sorted((r["input"], r["period"], r["sha256"]) for r in activity
                       if r["period"] == period.name
                       or (r["kind"] == "scenes" and r["period"] == settings.activity.baseline))
        payload = {**common, "period": period.model_dump(mode="json"), "files": files}
        fingerprints[period.name] = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    return fingerprints


def link_layer(source: Path, target: Path) -> Path:
    """Put the published file `source` at `target`: a hard link, or a copy where linking is impossible."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


def _published_periods(run_dir: Path | None) -> dict[str, dict]:
    """The ``detect.periods`` of a run's manifest ({} for no run, or a run made before incremental detect)."""
    if run_dir is None:
        return {}
    try:
        manifest = json.loads((run_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("%s: manifest unreadable; every period is processed again", run_dir)
        return {}
    return (manifest.get(MANIFEST_KEY) or {}).get("periods", {})


def _run_layers_present(run_dir: Path) -> bool:
    """Whether the run holds the layers an incremental run carries over: sites, gaps, activity quarantine."""
    return SiteLayers.exists(run_dir) and all((run_dir / name).is_file() for name in _CARRIED)


def _layers_present(run_dir: Path, period: str, settings: Settings) -> bool:
    """Whether the run holds the period's activity layer and those of its scene areas (but the baseline's)."""
    areas = [run_dir / "areas" / f"activity_{name}_{period}.tif" for name, spec in settings.activity.inputs.items()
             if spec.kind == "scenes" and period != settings.activity.baseline]
    return all(path.is_file() for path in [run_dir / f"activity_{period}.tif", *areas])
