"""The demo's imagery as a static STAC collection (`demo.imagery`): valid STAC, the metadata real catalogues carry,
the scene files' pixels (with the processing-baseline offset) read back over HTTP through the local STAC API, and
the same bytes for the same scenes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
import requests
from affine import Affine
from pystac.validation import JsonSchemaSTACValidator
from pystac_client import Client
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from mrumonitor.config import ImagerySettings
from mrumonitor.demo.imagery import DEMO_COLLECTION, SYNTHETIC_ITEM, write_demo_imagery
from mrumonitor.demo.scenes import SceneArea, write_scene
from mrumonitor.raster.io import http_options, open_raster
from mrumonitor.raster.region import area_grid
from mrumonitor.raster.scenes import SCENE_BANDS, Scene, read_scene_window
from mrumonitor.raster.stac.server import LocalStacApi

pytestmark = pytest.mark.integration

CRS = "EPSG:32629"
TRANSFORM = Affine(20.0, 0.0, 286_000.0, 0.0, -20.0, 955_640.0)
SHAPE = (64, 64)
#: An acquisition before processing baseline 04.00 (no offset) and one after it (DN + 1000).
DATES = (dt.date(2021, 12, 1), dt.date(2023, 10, 12))
BASE = np.array([0.05, 0.06, 0.07, 0.30, 0.20, 0.10], dtype=np.float32)  # B02 B03 B04 B08 B11 B12


def _scene_stack(folder: Path) -> SceneArea:
    """Two 64 x 64 scene files: a reflectance ramp, rows 0-15 cloud (SCL 9), rows 60-63 no data (SCL 0)."""
    ramp = np.arange(SHAPE[1], dtype=np.float32) * 0.001
    reflectance = np.broadcast_to(BASE[:, None, None] + ramp[None, None, :], (6, *SHAPE)).copy()
    scl = np.full(SHAPE, 4, np.uint16)
    scl[:16], scl[60:] = 9, 0
    for date in DATES:
        write_scene(folder / f"S2X_MSIL2A_{date:%Y%m%d}_TEST_SYNTHETIC.tif", reflectance, scl, TRANSFORM, CRS,
                    band_order=("SCL", *SCENE_BANDS[:6]))
    bounds = transform_bounds(CRS, "EPSG:4326", *rasterio.transform.array_bounds(*SHAPE, TRANSFORM))
    return SceneArea("test", folder, tuple(bounds), {})


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> tuple[SceneArea, Path]:
    root = tmp_path_factory.mktemp("demo-imagery")
    area = _scene_stack(root / "scenes")
    return area, write_demo_imagery([area], root / "imagery")


def _items(folder: Path) -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in sorted((folder / "items").glob("*.json"))}


def _scene_band(path: Path, band: str) -> np.ndarray:
    with rasterio.open(path) as dataset:
        return dataset.read(dataset.descriptions.index(band) + 1)


def test_the_collection_and_its_items_are_valid_stac(collection):
    """The static collection, and the items as the demo's STAC API serves them (core schemas: the extension
    schemas are on the web)."""
    _, folder = collection
    validator = JsonSchemaSTACValidator()
    document = json.loads((folder / "collection.json").read_text())
    validator.validate_core(document, pystac.STACObjectType.COLLECTION, document["stac_version"])
    with LocalStacApi(folder.parent) as api:
        served = [requests.get(f"{api.url}/collections/{DEMO_COLLECTION}/items/{name}", timeout=10).json()
                  for name in _items(folder)]
    assert [item["id"] for item in served] == [f"S2X_MSIL2A_{d:%Y%m%d}_TEST_SYNTHETIC" for d in DATES]
    for item in served:
        validator.validate_core(item, pystac.STACObjectType.ITEM, item["stac_version"])


def test_items_carry_date_cloud_cover_projection_baseline_sizes_and_the_synthetic_mark(collection):
    area, folder = collection
    old, new = _items(folder).values()
    assert old["properties"]["datetime"] == "2021-12-01T10:30:00Z"
    assert (old["properties"]["s2:processing_baseline"], new["properties"]["s2:processing_baseline"]) == ("02.14",
                                                                                                          "05.10")
    for item in (old, new):
        properties = item["properties"]
        assert properties["eo:cloud_cover"] == round(100 * 16 / 60, 2)  # of the observed rows 0-59, 16 are cloud
        assert (properties["proj:code"], properties["proj:epsg"]) == (CRS, 32629)
        assert properties["proj:shape"] == list(SHAPE) and properties["proj:transform"] == list(TRANSFORM)[:6]
        assert properties["mrumonitor:synthetic"] == SYNTHETIC_ITEM["mrumonitor:synthetic"] == "demo data, not real imagery"
        np.testing.assert_allclose(item["bbox"], area.bounds_wgs84, atol=1e-6)
        assert item["collection"] == DEMO_COLLECTION
        assert sorted(item["assets"]) == sorted(SCENE_BANDS)
        for band, asset in item["assets"].items():
            path = (folder / "items" / asset["href"]).resolve()
            assert asset["href"] == f"../assets/{item['id']}/{band}.tif"
            assert asset["file:size"] == path.stat().st_size
            assert asset["file:checksum"] == "1220" + hashlib.sha256(path.read_bytes()).hexdigest()
            with rasterio.open(path) as cog:
                assert cog.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
                assert (cog.count, cog.dtypes[0], cog.nodata, cog.crs, cog.transform) == (1, "uint16", 0, CRS,
                                                                                          TRANSFORM)
                assert cog.descriptions == (band,) and cog.tags()["SYNTHETIC"] == "demo data, not real imagery"


def test_items_read_over_http_give_the_scene_pixels_and_reflectance(collection):
    """Searched with pystac-client and read by GDAL over HTTP range requests: the scene file's digital numbers
    (plus 1000 for baseline 05.10, as real products), and with the item's offset the same reflectance."""
    area, folder = collection
    grid = area_grid((-11.0, 8.62, -10.99, 8.63), 20.0, "EPSG:32629")  # inside the scenes
    with LocalStacApi(folder.parent) as api, rasterio.Env(**http_options(ImagerySettings(timeout_s=10))):
        found = list(Client.open(api.url).search(collections=[DEMO_COLLECTION], bbox=area.bounds_wgs84).items())
        assert [item.datetime.date() for item in found] == list(DATES)
        for item, date in zip(found, DATES, strict=True):
            scene_file = area.folder / f"S2X_MSIL2A_{date:%Y%m%d}_TEST_SYNTHETIC.tif"
            offset = 1000 if date.year > 2021 else 0
            for band in SCENE_BANDS:
                with open_raster(item.assets[band].href) as cog:
                    served = cog.read(1)
                expected = _scene_band(scene_file, band)
                if band != "SCL":
                    expected = np.where(expected == 0, 0, expected + offset)
                np.testing.assert_array_equal(served, expected, err_msg=f"{item.id} {band}")
            assets = tuple((band, item.assets[band].href) for band in SCENE_BANDS)
            window = Window(0, 0, grid.width, grid.height)
            from_file = read_scene_window(Scene(scene_file, date), grid, window, SCENE_BANDS[:6], 10_000.0)
            from_items = read_scene_window(Scene(item.id, date, assets, offset=-offset), grid, window,
                                           SCENE_BANDS[:6], 10_000.0, offset=-offset)
            np.testing.assert_array_equal(from_items[1], from_file[1])
            np.testing.assert_allclose(from_items[0], from_file[0], atol=1e-6, equal_nan=True)


def test_the_same_scenes_write_the_same_bytes(collection, tmp_path):
    area, folder = collection
    again = write_demo_imagery([area], tmp_path)
    files = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert len(files) == 2 + 2 * len(SCENE_BANDS) + 1
    for name in files:
        assert (folder / name).read_bytes() == (again / name).read_bytes(), name
