"""The manifest of a run (``manifest.json``), typed: everything needed to read the run, trust it and reproduce it.

Layout (top-level keys; the store writes those of `RunManifest`, the build of the run gives those of `RunBody`)::

    manifest_version   1
    run_id             "20261122T101500Z-3f2a"
    created            when the run started, ISO 8601 UTC
    previous_run       id of the run that was latest when this one started, or null
    software           name, version, python, and the versions of the geospatial libraries
    config             files (path, bytes, sha256), fingerprint (Settings.fingerprint), effective (all keys)
    thresholds         the parameter tables that shape the figures (ingest, raster, detector, sites, analysis)
    reference          the reference layers the run was computed with: name -> path in the run folder
                       (boundaries, borders, border_zone, border_posts, commodity_zones, admin_<level>;
                       `reference.layers.ReferenceLayers`)
    periods            imagery periods: name, start, end, observed, layer (null when no input covered it)
    baseline           the baseline period of the scene detector (or null)
    detect             per period: its fingerprint, processed or re-used (and the run that made it)
    scope              the countries a run was limited to (`--countries`), what it read and what it kept
    gaps               per period and country, the area with no valid observation (the `gaps` layer)
    inputs             every file read: role, path, bytes, sha256 (+ source/country/snapshot, input/kind/period)
    snapshots          cadastre snapshot date per country
    reproduce          the command and software that reproduce the run from those inputs
    timings_s          seconds per stage (ingest, detect, analyse) and for publishing (the store's)
    counts             records read/accepted/repaired/quarantined, sites, per source and per country
    caveats            plain sentences that go with the figures (the build's, then the layers')
    warnings           implausible inputs the run used anyway: stage, subject, message (`mrumonitor.runwarnings`)
    verification       the field verification the run read and made (`verification.run`): the ledger's state,
                       the samples, their headline estimates with confidence intervals, what the visits changed
                       and the detection-threshold report
    layers             name -> path, kind, title, description, crs, count or raster size, period...
                       (see `store.layers.describe_layers`)
    catalog            "stac/catalog.json"

The top-level keys are typed; the sections inside them stay the free-form JSON objects described above.
`RunManifest.read` reads a published run's manifest: keys an older run did not write take their defaults,
and a manifest that is not what a run writes is refused with a `StoreError` that names the file.
"""

from __future__ import annotations

import json
import logging
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mrumonitor.errors import StoreError
from mrumonitor.runfolder import CATALOG_PATH, RunFolder

log = logging.getLogger(__name__)

#: Version of the manifest layout; bumped when a key changes meaning.
MANIFEST_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class RunBody:
    """What the build of a run gives the store for its manifest (keys: the module docstring)."""

    config: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)
    reference: dict = field(default_factory=dict)
    periods: list = field(default_factory=list)
    baseline: str | None = None
    detect: dict = field(default_factory=dict)
    scope: dict = field(default_factory=dict)
    gaps: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    snapshots: dict = field(default_factory=dict)
    reproduce: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    caveats: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    verification: dict = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RunManifest(RunBody):
    """The manifest of a published run: the build's `RunBody` and the keys the store adds."""

    manifest_version: int = MANIFEST_VERSION
    run_id: str = ""
    created: str = ""
    previous_run: str | None = None
    software: dict = field(default_factory=dict)
    layers: dict = field(default_factory=dict)
    catalog: str = CATALOG_PATH

    @classmethod
    def read(cls, folder: RunFolder) -> RunManifest:
        """The manifest of the run in `folder`; keys it lacks (an older run) take their defaults.

        Raises
        ------
        StoreError
            The run has no manifest, or it is unreadable, not JSON, or a key holds the wrong kind of value.
        """
        manifest = read_manifest(folder.path)
        known = {item.name: item for item in fields(cls)}
        wrong = [name for name, value in manifest.items() if name in known and not _fits(value, known[name])]
        if wrong:
            raise StoreError(f"{folder.manifest}: the manifest is damaged (wrong kind of value under "
                             f"{', '.join(wrong)}). Publish a new run with `mrumonitor run`.")
        return cls(**{name: value for name, value in manifest.items() if name in known})

    @classmethod
    def previous(cls, folder: Path | None) -> RunManifest:
        """The manifest of the previous run at `folder`, to plan from; an empty one when there is none, or
        when it cannot be read (logged: the run then re-does what it would have re-used)."""
        if folder is None:
            return cls()
        try:
            return cls.read(RunFolder(folder))
        except StoreError as exc:
            log.warning("%s; the run re-uses nothing of the previous run", exc)
            return cls()

    def as_dict(self) -> dict[str, Any]:
        """The manifest as its JSON object, in the order of the module docstring."""
        values = asdict(self)
        head = ("manifest_version", "run_id", "created", "previous_run", "software")
        return {**{name: values.pop(name) for name in head}, **values}

    def write(self, folder: RunFolder) -> Path:
        """Write the manifest as ``manifest.json`` into the run `folder`."""
        folder.manifest.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return folder.manifest


def read_manifest(run_dir: str | Path) -> dict:
    """The manifest of the run in `run_dir` as its JSON object (the module docstring gives its keys).

    Raises
    ------
    StoreError
        The run has no manifest, or it is unreadable, not JSON, or not an object with a `layers` object.
    """
    path = RunFolder(run_dir).manifest
    damaged = f"{path}: the manifest is damaged ({{}}). Publish a new run with `mrumonitor run`."
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{path}: the run has no manifest; it is not a complete run of mrumonitor. "
                         "Delete the folder, or publish a new run with `mrumonitor run`.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(damaged.format(exc)) from None
    except OSError as exc:
        raise StoreError(f"{path}: the manifest cannot be read ({exc.strerror or exc}).") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("layers"), dict) or not all(
            isinstance(entry, dict) for entry in manifest["layers"].values()):
        raise StoreError(damaged.format("it is not a JSON object with a `layers` object of layer entries"))
    return manifest


def _fits(value: Any, item) -> bool:
    """Whether a JSON value is of the kind the field `item` holds (None only where its default is None)."""
    if value is None:
        return item.default is None
    kind = type(item.default_factory()) if item.default_factory is not MISSING else type(item.default)
    kind = str if kind is type(None) else kind
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))
