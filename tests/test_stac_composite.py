"""Per-period composites of STAC items read over HTTP (issue 16 §2-§3): a real STAC API on 127.0.0.1 serving
single-band COGs (`raster.stac.server.LocalStacApi`), GDAL reading them with range requests, exact reflectance
through the chain: the median of odd and even counts, the offset per item, SCL masking, the cache that a
second run re-uses without reading any asset, and a run killed with SIGKILL that resumes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pystac
import pytest
from pyproj import CRS
from rasterio.windows import Window
from stac_catalog import BAND_ASSETS, COLLECTION, ItemSpec, asset_requests, daily_specs, served

from mrumonitor.config import ImagerySettings, StacProvider, load_settings
from mrumonitor.raster.detector import DETECTOR_BANDS
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.stac.composite import LAYERS, Composite, period_composite

pytestmark = pytest.mark.integration

DETECTOR = load_settings().detector
#: The items' own 10 m UTM grid (stac_catalog.TRANSFORM, 64 x 64): no resampling, so values come out exact.
UTM_GRID = Grid(CRS.from_epsg(32629), 286_000.0, 955_640.0, 10.0, 64, 64)
PROVIDER = StacProvider(api="http://127.0.0.1", collection=COLLECTION, assets=BAND_ASSETS)
#: Short timeout and tiny retry delays, so that the fault tests take seconds.
IMAGERY = ImagerySettings(timeout_s=1.0, retries=2, backoff_s=0.01)
B04 = DETECTOR_BANDS.index("B04")


def composite_of(items, cache: Path, grid: Grid = UTM_GRID, chunk: int = 32, imagery=IMAGERY, **kwargs) -> Composite:
    return period_composite("P1", items, PROVIDER, grid, chunk, DETECTOR, imagery, cache, **kwargs)


def whole(composite: Composite) -> np.ndarray:
    """The composite's layers over its whole grid, read back window by window."""
    out = np.empty((len(LAYERS), *composite.grid.shape), np.float32)
    for window in composite.grid.windows(composite.chunk):
        rows, cols = window.toslices()
        out[:, rows, cols] = composite.read(window)
    return out


def reflectance(dn: float, offset: float = -1000.0) -> np.float32:
    """What the composite holds for digital number `dn` of a baseline 04.00+ item, in float32 as computed."""
    return (np.float32(dn) / np.float32(10_000)) + np.float32(offset / 10_000)


@pytest.mark.parametrize(("values", "expected"), [
    ((2000, 7000, 3000), reflectance(3000)),                           # odd count: the middle one
    ((2000, 7000, 3000, 5000), (reflectance(3000) + reflectance(5000)) / 2),  # even: the mean of the middle two
])
def test_median_of_odd_and_even_counts(tmp_path, values, expected):
    specs = [ItemSpec(spec.id, spec.datetime, values={"B04": value})
             for spec, value in zip(daily_specs(len(values)), values, strict=True)]
    with served(tmp_path / "stac", specs) as (api, items):
        composite = composite_of(items, tmp_path / "cache")
        assert asset_requests(api), "the assets were not read over HTTP"
    layers = whole(composite)
    assert composite.failures == ()
    assert layers[B04] == pytest.approx(np.full(UTM_GRID.shape, expected), abs=1e-7)
    assert (layers[-1] == len(values)).all()
    green = DETECTOR_BANDS.index("B03")
    assert layers[green] == pytest.approx(np.full(UTM_GRID.shape, reflectance(1800)), abs=1e-7)


def test_offset_is_each_items_own(tmp_path):
    """A baseline-05.10 item at DN + 1000 and a baseline-03.00 item (no offset) give the same reflectance."""
    new, old = daily_specs(2)
    specs = [ItemSpec(new.id, new.datetime, baseline="05.10", values={"B04": 3200}),
             ItemSpec(old.id, old.datetime, baseline="03.00", values={"B04": 2200})]
    with served(tmp_path / "stac", specs) as (_, items):
        by_id = {item.id: item for item in items}
        alone = [whole(composite_of([by_id[spec.id]], tmp_path / "cache")) for spec in specs]
        both = whole(composite_of(items, tmp_path / "cache"))
    assert alone[0][B04] == pytest.approx(np.full(UTM_GRID.shape, 0.22), abs=1e-6)
    np.testing.assert_array_equal(alone[1][B04], np.float32(0.22))
    assert both[B04] == pytest.approx(np.full(UTM_GRID.shape, 0.22), abs=1e-6)
    assert (both[-1] == 2).all()


def test_scl_masks_cloud_shadow_and_saturation(tmp_path):
    """Where the second item's SCL says cloud (9), shadow (3) or saturated (1), only the first item counts,
    and one pixel around (bilinear mixing); elsewhere both do."""
    scl = np.full(UTM_GRID.shape, 4, np.uint8)
    scl[4:12, 4:12], scl[4:12, 40:48], scl[40:48, 4:12] = 9, 3, 1
    clear, masked = daily_specs(2)
    specs = [ItemSpec(clear.id, clear.datetime, values={"B04": 2000}),
             ItemSpec(masked.id, masked.datetime, values={"B04": 6000, "SCL": scl})]
    with served(tmp_path / "stac", specs) as (_, items):
        layers = whole(composite_of(items, tmp_path / "cache"))
    for rows, cols in ((slice(3, 13), slice(3, 13)), (slice(3, 13), slice(39, 49)), (slice(39, 49), slice(3, 13))):
        assert (layers[-1][rows, cols] == 1).all()
        assert layers[B04][rows, cols] == pytest.approx(np.full((10, 10), reflectance(2000)), abs=1e-7)
    assert layers[-1][20:30, 20:30].min() == 2 and layers[-1][2, 20] == 2
    assert layers[B04][20, 20] == pytest.approx((reflectance(2000) + reflectance(6000)) / 2, abs=1e-7)
    assert (layers[-1] == 1).sum() == 3 * 10 * 10


def test_second_run_reads_no_asset_and_gives_the_same_composite(tmp_path):
    specs = daily_specs(3)
    with served(tmp_path / "stac", specs) as (api, items):
        first = composite_of(items, tmp_path / "cache")
        assert asset_requests(api)
    saved = first.cog.read_bytes()
    assert first.cog.is_file() and not (first.folder / "windows").exists()
    assert [item["id"] for item in json.loads((first.folder / "items.json").read_text())["features"]] == \
        [spec.id for spec in specs]
    with served(tmp_path / "again", specs) as (api, items):  # new URLs: GDAL's own cache cannot hide a read
        second = composite_of(items, tmp_path / "cache")
        assert asset_requests(api) == []
    assert second.folder == first.folder and second.cog.read_bytes() == saved
    np.testing.assert_array_equal(whole(second), whole(first))


def test_changed_item_makes_a_new_composite(tmp_path):
    specs = daily_specs(2)
    with served(tmp_path / "stac", specs) as (_, items):
        first = composite_of(items, tmp_path / "cache")
    changed = [specs[0], ItemSpec(specs[1].id, specs[1].datetime, baseline="03.00")]
    with served(tmp_path / "changed", changed) as (api, items):
        second = composite_of(items, tmp_path / "cache")
        assert asset_requests(api)
    assert second.folder != first.folder and first.cog.is_file() and second.cog.is_file()


#: Computes one composite of the items in argv[1] into the cache argv[2], one window at a time, slowly: the window
#: files saved tell how far it got. Prints the number of windows it computed.
RESUMABLE = """
import sys, time
import dask, pystac
from test_stac_composite import composite_of
items = list(pystac.ItemCollection.from_file(sys.argv[1]))
computed = []
def slowly(done, total):
    computed.append(done)
    time.sleep(float(sys.argv[3]))
with dask.config.set(scheduler="sync"):
    composite_of(items, __import__("pathlib").Path(sys.argv[2]), chunk=16, on_window=slowly)
print(len(computed))
"""


def run_resumable(items_file: Path, cache: Path, pause_s: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", RESUMABLE, str(items_file), str(cache), str(pause_s)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_run_killed_mid_period_resumes_with_the_saved_windows(tmp_path):
    """SIGKILL after some of the 16 windows were saved; the next run computes only the others and makes the same
    composite as a run never interrupted."""
    specs = daily_specs(3)
    with served(tmp_path / "stac", specs) as (_, items):
        items_file = tmp_path / "items.json"
        items_file.write_text(json.dumps(pystac.ItemCollection(items).to_dict(transform_hrefs=False)))
        killed = run_resumable(items_file, tmp_path / "cache", 1.0)
        windows = tmp_path / "cache"
        deadline = time.monotonic() + 120
        while len(list(windows.glob("*/windows/*.npy"))) < 3 and time.monotonic() < deadline:
            assert killed.poll() is None, killed.communicate()
            time.sleep(0.05)
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        saved = {path.name: path.read_bytes() for path in windows.glob("*/windows/*.npy")}
        assert 3 <= len(saved) < 16
        assert not list(windows.glob("*/composite.tif"))
        resumed = run_resumable(items_file, tmp_path / "cache", 0.0)
        out, err = resumed.communicate(timeout=300)
        assert resumed.returncode == 0, err
        assert int(out.split()[-1]) == 16 - len(saved)
        uninterrupted = composite_of(items, tmp_path / "fresh", chunk=16)
    (folder,) = windows.iterdir()
    resumed_composite = Composite(folder, UTM_GRID, 16)
    assert resumed_composite.cog.is_file()
    np.testing.assert_array_equal(whole(resumed_composite), whole(uninterrupted))
    assert whole(uninterrupted)[-1].min() == 3


def test_window_outside_every_item_has_no_observation(tmp_path):
    """A grid reaching beyond the items: count 0 and NaN reflectance there, never zeros."""
    grid = Grid(UTM_GRID.crs, UTM_GRID.left, UTM_GRID.top, 10.0, 96, 64)
    with served(tmp_path / "stac", daily_specs(2)) as (_, items):
        layers = whole(composite_of(items, tmp_path / "cache", grid=grid))
    assert (layers[-1][:, :64] == 2).all() and (layers[-1][:, 64:] == 0).all()
    assert np.isnan(layers[:-1, :, 64:]).all()
    assert composite_of([], tmp_path / "empty").read(Window(0, 0, 32, 32))[-1].max() == 0
