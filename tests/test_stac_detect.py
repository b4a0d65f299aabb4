"""The detect stage on a STAC input (issue 16 §1-§4): a configuration whose [activity.inputs.s2] is of kind "stac",
its provider a real STAC API on 127.0.0.1 serving single-band COGs. Forest in the baseline's items, a bare pit
over the left half in the period's: the area COG holds the detector's activity there (80: vegetation loss and
bare-soil gain) and 0 in the forest, landed on the regional grid; a second run re-uses the cached composites and
reads no asset; an asset that cannot be read leaves its window 255 and a gap row naming the item, the band and
the reason, through the real `mrumonitor detect` command.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from conftest import write_config
from hostile import assert_no_traceback, mrumonitor
from pyproj import Transformer
from stac_catalog import BAND_ASSETS, COLLECTION, SHAPE, TRANSFORM, ItemSpec, asset_requests, daily_specs, served
from test_stac_faults import Fault, server_error

from mrumonitor.config import load_settings
from mrumonitor.errors import ConfigError
from mrumonitor.raster.plan import DetectPlan
from mrumonitor.raster.run import detect
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import ACTIVITY_NODATA

pytestmark = pytest.mark.integration

#: Surface reflectance of the detector's bands.
FOREST = {"B02": 0.020, "B03": 0.045, "B04": 0.025, "B08": 0.320, "B11": 0.150}
BARE = {"B02": 0.080, "B03": 0.110, "B04": 0.160, "B08": 0.240, "B11": 0.320}
SCL_VEGETATION, SCL_BARE = 4, 5
#: The pit: the left half of the items (UTM columns 0-31).
PIT_COLUMNS = 32


def digital_numbers(reflectance: float) -> int:
    """The DN of a processing baseline 05.10 item (values carry the +1000 offset)."""
    return round(reflectance * 10_000) + 1000


def values(pit: bool) -> dict[str, np.ndarray]:
    bands = {band: np.full(SHAPE, digital_numbers(value), np.uint16) for band, value in FOREST.items()}
    bands["SCL"] = np.full(SHAPE, SCL_VEGETATION, np.uint8)
    if pit:
        for band, value in BARE.items():
            bands[band][:, :PIT_COLUMNS] = digital_numbers(value)
        bands["SCL"][:, :PIT_COLUMNS] = SCL_BARE
    return bands


def catalogue() -> list[ItemSpec]:
    """Three items in the baseline P0 (forest), three in P1 and two in P2 (the pit)."""
    baseline = daily_specs(3, dt.date(2024, 1, 5), values=values(pit=False))
    period = daily_specs(3, dt.date(2025, 1, 5), values=values(pit=True))
    later = daily_specs(2, dt.date(2025, 7, 5), values=values(pit=True))
    return baseline + period + later


def stac_config(folder: Path, api: str, bounds: list[float] | None = None) -> Path:
    """Detect only, a baseline P0 and periods P1 and P2, the STAC input over `bounds` (default: the items' footprint, a
    little inside)."""
    west, south, east, north = footprint()
    bounds = bounds or [west + 0.0005, south + 0.0005, east - 0.0005, north - 0.0005]
    assets = ", ".join(f'{band} = "{key}"' for band, key in BAND_ASSETS.items())
    return write_config(folder, f"""[paths]
work = "work"
store = "layers"
imagery_cache = "cache"
[raster]
resolution_m = 2000.0
[imagery]
timeout_s = 2
retries = 1
backoff_s = 0.01
[imagery.providers.local]
api = "{api}"
collection = "{COLLECTION}"
assets = {{ {assets} }}
[activity]
baseline = "P0"
periods = [{{ name = "P0", start = 2024-01-01, end = 2024-06-30 }}, {{ name = "P1", start = 2025-01-01, end = 2025-06-30 }},
           {{ name = "P2", start = 2025-07-01, end = 2025-12-31 }}]
[activity.inputs.s2]
kind = "stac"
provider = "local"
bounds = {bounds}
""")


def footprint() -> tuple[float, float, float, float]:
    rows, cols = SHAPE
    to_lonlat = Transformer.from_crs("EPSG:32629", "EPSG:4326", always_xy=True)
    xs, ys = [TRANSFORM.c, TRANSFORM.c + cols * TRANSFORM.a], [TRANSFORM.f, TRANSFORM.f + rows * TRANSFORM.e]
    lon, lat = to_lonlat.transform([xs[0], xs[1], xs[0], xs[1]], [ys[0], ys[0], ys[1], ys[1]])
    return max(lon[0], lon[2]), max(lat[2], lat[3]), min(lon[1], lon[3]), min(lat[0], lat[1])


def utm_columns(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The area COG's values and the UTM column (of the items' grid) under each of its pixel centres."""
    with rasterio.open(path) as dataset:
        activity = dataset.read(1)
        rows, cols = np.mgrid[0:dataset.height, 0:dataset.width] + 0.5
        x, y = dataset.transform * (cols, rows)
        utm_x, _ = Transformer.from_crs(dataset.crs, "EPSG:32629", always_xy=True).transform(x, y)
    return activity, (utm_x - TRANSFORM.c) / TRANSFORM.a


@pytest.mark.slow
def test_stac_input_detects_the_pit_and_reuses_its_composites(tmp_path):
    with served(tmp_path / "stac", catalogue()) as (api, _):
        settings = load_settings(stac_config(tmp_path, api.url))
        result = detect(settings)
        assert asset_requests(api)
        area = result.area_activity["s2"]["P1"]
        activity, column = utm_columns(area)
        assert (activity[column < PIT_COLUMNS - 3] == 80).all()
        assert (activity[(column > PIT_COLUMNS + 3) & (column < SHAPE[1] - 3)] == 0).all()
        assert (activity[(column > 3) & (column < SHAPE[1] - 3)] != ACTIVITY_NODATA).all()
        assert result.activity["P1"].is_file() and not len(result.gaps[result.gaps["reason"] != "no_observation"])
        composites = sorted(settings.imagery_cache.glob("s2/*/composite.tif"))
        assert len(composites) == 3  # P0, P1, P2

        api.clear_requests()
        again = detect(settings, out=tmp_path / "again")
        assert asset_requests(api) == [], "the second run read assets instead of the cached composites"
        with rasterio.open(again.area_activity["s2"]["P1"]) as dataset:
            np.testing.assert_array_equal(dataset.read(1), activity)


@pytest.mark.slow
def test_unreadable_asset_is_a_gap_with_its_reason_through_the_command(tmp_path):
    failing = catalogue()[5].id
    fault = Fault(server_error, f"{failing}/B04.tif")
    with served(tmp_path / "stac", catalogue(), wrap=fault) as (api, _):
        config = stac_config(tmp_path, api.url)
        done = mrumonitor("detect", "--config", str(config), cwd=tmp_path)
    assert_no_traceback(done.stdout, done.stderr)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fault.hits >= 2
    folder = RunFolder(tmp_path / "work" / "detect")
    gaps = gpd.read_parquet(folder.layer("gaps"))
    failed = gaps[gaps["reason"].str.startswith("read_failed: ")]
    assert failed[["period", "country"]].values.tolist() == [["P1", "SLE"]]
    assert failed["reason"].iloc[0].startswith(f"read_failed: {failing} B04: ")
    assert "500" in failed["reason"].iloc[0]
    with rasterio.open(folder.area_activity("s2", "P1")) as dataset:
        assert (dataset.read(1) == ACTIVITY_NODATA).all(), "a window of an unreadable asset is not no data"



def test_area_outside_the_region_is_refused_before_any_search(tmp_path):
    with served(tmp_path / "stac", catalogue()[:1]) as (api, _):
        settings = load_settings(stac_config(tmp_path, api.url, bounds=[9.0, 60.0, 9.1, 60.1]))
        with pytest.raises(ConfigError, match=r"activity.inputs.s2.bounds lie outside the region"):
            detect(settings)
        assert api.requests == []


@pytest.mark.slow
def test_a_reused_period_links_its_area_layer_and_the_processed_one_comes_from_the_cache(tmp_path):
    with served(tmp_path / "stac", catalogue()) as (api, _):
        settings = load_settings(stac_config(tmp_path, api.url))
        first = detect(settings, out=tmp_path / "first")
        gaps = gpd.read_parquet(first.written["gaps"])
        assert (gaps["reason"] == "no_observation").any()
        gaps.drop(columns="reason").to_parquet(first.written["gaps"])  # as a run from before the reasons wrote it
        api.clear_requests()
        plan = DetectPlan({"P0": "", "P1": "", "P2": ""}, reuse=("P1",), source=tmp_path / "first")
        second = detect(settings, out=tmp_path / "second", plan=plan)
        read = {path.split("/")[-2] for _, path, _ in asset_requests(api)}
    assert read == set(), "P2 and P0 composites were made by the first run: no asset is read again"
    reused_gaps = second.gaps[second.gaps["period"] == "P1"]
    assert len(reused_gaps) and (reused_gaps["reason"] == "no_observation").all()
    reused, kept = second.area_activity["s2"]["P1"], first.area_activity["s2"]["P1"]
    assert reused.stat().st_ino == kept.stat().st_ino
    with rasterio.open(second.area_activity["s2"]["P2"]) as new, rasterio.open(first.area_activity["s2"]["P2"]) as old:
        np.testing.assert_array_equal(new.read(1), old.read(1))
