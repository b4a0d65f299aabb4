"""The manifest of a run (``manifest.json``): everything needed to read the run, trust it and reproduce it.

Layout (top-level keys; the store writes those marked *, the build of the run gives the others)::

    manifest_version*  1
    run_id*            "20261122T101500Z-3f2a"
    created*           when the run started, ISO 8601 UTC
    previous_run*      id of the run that was latest when this one started, or null
    software*          name, version, python, and the versions of the geospatial libraries
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
    timings_s          seconds per stage (ingest, detect, analyse) and for publishing*
    counts             records read/accepted/repaired/quarantined, sites, per source and per country
    warnings           implausible inputs the run used anyway: stage, subject, message (`mrumonitor.runwarnings`)
    caveats            plain sentences that go with the figures (the build's, then the layers'*)
    layers*            name -> path, kind, title, description, crs, count or raster size, period...
                       (see `store.layers.describe_layers`)
    catalog*           "stac/catalog.json"
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import geopandas
import pyproj
import pystac
import rasterio
import shapely

from mrumonitor import __version__
from mrumonitor.store.catalog import CATALOG_PATH
from mrumonitor.store.layers import layer_caveats
from mrumonitor.store.runs import MANIFEST_FILE

#: Version of the manifest layout; bumped when a key changes meaning.
MANIFEST_VERSION = 1


def software() -> dict[str, str]:
    """mrumonitor's version and those of Python and the libraries the layers depend on."""
    return {"name": "mrumonitor", "version": __version__, "python": platform.python_version(),
            "gdal": rasterio.__gdal_version__, "rasterio": rasterio.__version__, "geopandas": geopandas.__version__,
            "shapely": shapely.__version__, "pyproj": pyproj.__version__, "proj": pyproj.proj_version_str,
            "pystac": pystac.__version__}


def assemble_manifest(run_id: str, created: str, previous_run: str | None, body: dict, layers: dict[str, dict],
                      publish_s: float) -> dict:
    """The manifest of a run from the build's `body` (see the module docstring) and the store's own keys."""
    caveats = list(dict.fromkeys([*body.get("caveats", []), *layer_caveats(layers)]))
    timings = {**body.get("timings_s", {}), "publish": round(publish_s, 3)}
    return {"manifest_version": MANIFEST_VERSION, "run_id": run_id, "created": created,
            "previous_run": previous_run, "software": software(), **body, "timings_s": timings,
            "caveats": caveats, "layers": layers, "catalog": CATALOG_PATH}


def write_manifest(run_dir: Path, manifest: dict) -> Path:
    """Write `manifest` as ``manifest.json`` in `run_dir` (a staging folder, synced whole before publishing)."""
    path = Path(run_dir) / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
