"""The store's part of a run's manifest (`mrumonitor.manifest` gives its layout): the software, the layers,
the catalog and the publish time, added to the body the build of the run gives."""

from __future__ import annotations

import platform
from dataclasses import asdict

import geopandas
import pyproj
import pystac
import rasterio
import shapely

from mrumonitor import __version__
from mrumonitor.manifest import RunBody, RunManifest
from mrumonitor.store.layers import layer_caveats


def software() -> dict[str, str]:
    """mrumonitor's version and those of Python and the libraries the layers depend on."""
    return {"name": "mrumonitor", "version": __version__, "python": platform.python_version(),
            "gdal": rasterio.__gdal_version__, "rasterio": rasterio.__version__, "geopandas": geopandas.__version__,
            "shapely": shapely.__version__, "pyproj": pyproj.__version__, "proj": pyproj.proj_version_str,
            "pystac": pystac.__version__}


def assemble_manifest(run_id: str, created: str, previous_run: str | None, body: RunBody, layers: dict[str, dict],
                      publish_s: float) -> RunManifest:
    """The manifest of a run from the build's `body` and the store's own keys: the layers' caveats follow the
    build's, and the publish time joins the build's timings."""
    return RunManifest(**{**asdict(body), "caveats": list(dict.fromkeys([*body.caveats, *layer_caveats(layers)])),
                          "timings_s": {**body.timings_s, "publish": round(publish_s, 3)}},
                       run_id=run_id, created=created, previous_run=previous_run, software=software(), layers=layers)
