"""The demo's synthetic scene stacks as a static STAC collection: one item per acquisition, one COG per band.

`write_demo_imagery(areas, root)` turns every scene file that `demo.scenes.write_scene_stacks` wrote into what a
Sentinel-2 L2A catalogue holds, under ``root/<DEMO_COLLECTION>/``:

- ``assets/<item id>/<band>.tif``: one single-band Cloud-Optimized GeoTIFF per band of `SCENE_BANDS` (uint16
  digital numbers, nodata 0, DEFLATE), with the pixels, CRS and transform of the scene file. Like real products,
  acquisitions of processing baseline 04.00 and later (from `OFFSET_SINCE`) carry `BOA_ADD_OFFSET`: their
  reflectance bands hold DN + 1000 where the scene file holds DN, so that DN - 1000 gives the same reflectance.
- ``items/<item id>.json``: the STAC item (asset hrefs relative to it) with its datetime, ``eo:cloud_cover`` (the
  share of its SCL cloud and shadow pixels), projection, WGS84 footprint, ``s2:processing_baseline``, each
  asset's ``file:size`` and ``file:checksum``, and ``mrumonitor:synthetic`` (`raster.stac.items.SYNTHETIC_PROPERTY`), which runs turn into a caveat.
- ``collection.json``: the collection of all items.

The demo configuration names that folder as its provider's `folder`: each run serves it as a STAC API
(`raster.stac.search.served_folder`). The same seed writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pystac
import rasterio
from rasterio.warp import transform_geom
from shapely.geometry import box, mapping, shape

from mrumonitor.crs import WGS84
from mrumonitor.demo.scenes import SYNTHETIC_TAGS, SceneArea
from mrumonitor.raster.io import open_raster
from mrumonitor.raster.scenes import SCENE_BANDS, Scene, band_indexes, discover_scenes
from mrumonitor.raster.stac.items import BASELINE_04_OFFSET, OFFSET_SINCE, SYNTHETIC_PROPERTY
from mrumonitor.raster.stac.server import write_collection

#: The collection id of the demo imagery.
DEMO_COLLECTION = "demo-sentinel-2-l2a"
#: The property that marks every demo item as synthetic (the run's caveats quote it).
SYNTHETIC_ITEM = {SYNTHETIC_PROPERTY: SYNTHETIC_TAGS["SYNTHETIC"]}
#: Added to the reflectance digital numbers of acquisitions from `OFFSET_SINCE` on (BOA_ADD_OFFSET = -1000 undoes it).
BOA_ADD_OFFSET = -int(BASELINE_04_OFFSET)
#: SCL classes counted in eo:cloud_cover: cloud shadow, cloud medium and high probability, thin cirrus.
CLOUD_SCL = (3, 8, 9, 10)

COLLECTION_DESCRIPTION = ("SYNTHETIC Sentinel-2 L2A-like scenes of the mrumonitor demo, not real imagery: three 6 km "
                          "areas (Koidu, the tri-border, Séguéla) painted with pits at real Earth Index detections. "
                          "One single-band COG per band (B02 B03 B04 B08 B11 B12 SCL), digital numbers as L2A.")
_COG = {"driver": "COG", "compress": "DEFLATE", "predictor": 2, "blocksize": 256, "overview_resampling": "NEAREST"}
_COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
_EXTENSIONS = ["https://stac-extensions.github.io/eo/v1.1.0/schema.json",
               "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
               "https://stac-extensions.github.io/file/v2.1.0/schema.json"]
_ACQUISITION_TIME = dt.time(10, 30, tzinfo=dt.UTC)  # the local morning overpass of Sentinel-2 over West Africa


def processing_baseline(date: dt.date) -> str:
    """The processing baseline the demo gives an acquisition of `date`: "05.10" from `OFFSET_SINCE`, else "02.14"."""
    return "05.10" if date >= OFFSET_SINCE else "02.14"


def write_demo_imagery(areas: Sequence[SceneArea], root: str | Path) -> Path:
    """Write the scene files of `areas` as the static STAC collection under `root`; see the module docstring.

    Returns the collection folder ``root/DEMO_COLLECTION``.
    """
    assets = Path(root) / DEMO_COLLECTION / "assets"
    items = [_item(scene, area.name, assets) for area in areas for scene in discover_scenes(area.folder)]
    return write_collection(root, DEMO_COLLECTION, items, description=COLLECTION_DESCRIPTION)


def _item(scene: Scene, area: str, assets: Path) -> pystac.Item:
    """The item of one scene file, its COGs written under ``assets/<item id>/``."""
    date = scene.date
    with open_raster(scene.path, bands=len(SCENE_BANDS)) as dataset:
        offset = BOA_ADD_OFFSET if date >= OFFSET_SINCE else 0
        footprint = transform_geom(dataset.crs, WGS84, mapping(box(*dataset.bounds)), precision=6)
        epsg = dataset.crs.to_epsg()
        properties = {"platform": "sentinel-2x", "constellation": "sentinel-2", "instruments": ["msi"],
                      "proj:code": f"EPSG:{epsg}", "proj:epsg": epsg, "proj:shape": [dataset.height, dataset.width],
                      "proj:transform": list(dataset.transform)[:6],
                      "s2:processing_baseline": processing_baseline(date), "mrumonitor:area": area,
                      **SYNTHETIC_ITEM}
        item = pystac.Item(scene.path.stem, footprint, [round(v, 6) for v in shape(footprint).bounds],
                           dt.datetime.combine(date, _ACQUISITION_TIME), properties, stac_extensions=_EXTENSIONS)
        indexes = band_indexes(dataset)
        profile = {**_COG, "width": dataset.width, "height": dataset.height, "count": 1, "dtype": "uint16",
                   "crs": dataset.crs, "transform": dataset.transform, "nodata": 0}
        for band in SCENE_BANDS:
            pixels = dataset.read(indexes[band])
            if band == "SCL":
                item.properties["eo:cloud_cover"] = cloud_cover(pixels)
            elif offset:
                pixels = np.where(pixels == 0, 0, pixels + offset).astype(np.uint16)
            path = assets / item.id / f"{band}.tif"
            _write_cog(path, pixels, band, profile, date)
            item.add_asset(band, pystac.Asset(str(path), title=band, media_type=_COG_MEDIA_TYPE, roles=["data"],
                                              extra_fields=file_fields(path)))
    return item


def file_fields(path: Path) -> dict:
    """The file extension's fields of an asset: ``file:size`` and ``file:checksum`` (a SHA-256 multihash)."""
    data = path.read_bytes()
    return {"file:size": len(data), "file:checksum": "1220" + hashlib.sha256(data).hexdigest()}


def cloud_cover(scl: np.ndarray) -> float:
    """eo:cloud_cover of an SCL band: the percentage of its observed pixels (SCL > 0) in `CLOUD_SCL` (100 if none)."""
    observed = scl[scl != 0]
    return round(100.0 * float(np.isin(observed, CLOUD_SCL).mean()), 2) if observed.size else 100.0


def _write_cog(path: Path, pixels: np.ndarray, band: str, profile: dict, date: dt.date) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(pixels, 1)
        dst.set_band_description(1, band)
        dst.update_tags(**SYNTHETIC_TAGS, ACQUISITION_DATE=date.isoformat())
