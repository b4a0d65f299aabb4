"""Activity layers as COG: round trip, COG layout, atomic writing, block-by-block computation."""

from __future__ import annotations

import threading
import time

import dask.array as da
import numpy as np
import pytest
import rasterio
import xarray as xr

from mrumonitor.errors import InputFileError
from mrumonitor.raster.activity import grid_array, on_grid
from mrumonitor.raster.cog import period_tags, read_activity, write_activity_cog
from mrumonitor.raster.grid import Grid

pytestmark = pytest.mark.unit

#: Larger than one 512 COG tile both ways, so that the COG has tiles and overviews.
SHAPE = (1100, 1300)

TAGS = period_tags("2025H2", "2025-07-01", "2025-12-31", "earth_index", model="v1")


@pytest.fixture
def grid() -> Grid:
    return Grid.covering((300_000.0, 900_000.0, 300_000.0 + 100 * SHAPE[1], 900_000.0 + 100 * SHAPE[0]),
                         "EPSG:32629", 100.0)


@pytest.fixture
def values() -> np.ndarray:
    """Percent values with 0 (observed, nothing), 100, in-betweens and a no-data corner."""
    rng = np.random.default_rng(7)
    array = rng.choice(np.array([0, 0, 0, 20, 50, 100], dtype=np.uint8), size=SHAPE)
    array[:300, :400] = 255
    return array


def as_activity(values: np.ndarray, grid: Grid, chunk: int = 256):
    return on_grid(da.from_array(values, chunks=chunk), grid)


def test_round_trip_keeps_values_nodata_grid_tags_and_description(tmp_path, grid, values):
    path = write_activity_cog(as_activity(values, grid), grid, tmp_path / "a.tif", TAGS, description="activity 2025H2")
    array, read_grid, tags = read_activity(path, chunk=300)

    assert isinstance(array.data, da.Array) and array.data.chunksize == (300, 300)
    np.testing.assert_array_equal(array.values, values)
    assert read_grid == grid
    assert tags == {**TAGS, "UNITS": "percent", "NODATA_MEANS": "no valid observation", "MODEL": "v1"}
    with rasterio.open(path) as dataset:
        assert dataset.nodata == 255
        assert dataset.crs == grid.crs
        assert dataset.transform == grid.transform
        assert dataset.descriptions == ("activity 2025H2",)
        assert dataset.units == ("percent",)


def test_written_file_is_a_cog_with_average_overviews(tmp_path, grid, values):
    path = write_activity_cog(as_activity(values, grid), grid, tmp_path / "a.tif", TAGS)
    with rasterio.open(path) as dataset:
        structure = dataset.tags(ns="IMAGE_STRUCTURE")
        assert structure["LAYOUT"] == "COG"
        assert structure["COMPRESSION"] == "DEFLATE" and structure["PREDICTOR"] == "2"
        assert dataset.block_shapes == [(512, 512)]
        assert dataset.overviews(1) == [2, 4]
        overview = dataset.read(1, out_shape=(SHAPE[0] // 4, SHAPE[1] // 4))
    # no-data stays out of the averages: an overview pixel is 255 or a percentage, nothing between
    assert not ((overview > 100) & (overview < 255)).any()
    assert (overview[: 300 // 4, : 400 // 4] == 255).all() and (overview[100:, 120:] <= 100).all()


def test_progress_is_reported_per_block(tmp_path, grid, values):
    calls = []
    write_activity_cog(as_activity(values, grid, chunk=512), grid, tmp_path / "a.tif", TAGS,
                       on_chunk=lambda done, total: calls.append((done, total)))
    assert calls == [(n, 9) for n in range(1, 10)]  # 3 x 3 blocks of 512


def test_failure_while_writing_leaves_the_existing_file_and_no_partial_files(tmp_path, grid, values):
    path = write_activity_cog(as_activity(values, grid), grid, tmp_path / "a.tif", TAGS)
    before = path.read_bytes()

    def explode(block, block_info=None):
        if block_info[0]["chunk-location"] == (2, 3):
            raise RuntimeError("disk full, say")
        return block

    failing = on_grid(da.from_array(values, chunks=256).map_blocks(explode, dtype=np.uint8), grid)
    with pytest.raises(RuntimeError, match="disk full"):
        write_activity_cog(failing, grid, path, TAGS)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif"]


def test_a_failed_first_write_leaves_nothing(tmp_path, grid, values):
    with pytest.raises(ValueError, match="PERIOD_END"):
        write_activity_cog(as_activity(values, grid), grid, tmp_path / "a.tif", {"PERIOD": "x", "PERIOD_START": "y",
                                                                                   "SOURCE": "z"})
    assert list(tmp_path.iterdir()) == []


def test_wrong_dtype_or_shape_is_refused(tmp_path, grid, values):
    with pytest.raises(ValueError, match="uint8"):
        write_activity_cog(as_activity(values.astype("float32"), grid), grid, tmp_path / "a.tif", TAGS)
    with pytest.raises(ValueError, match="does not match the grid"):
        write_activity_cog(xr.DataArray(da.from_array(values[:-1]), dims=("y", "x")), grid, tmp_path / "a.tif", TAGS)


def test_writing_computes_one_block_at_a_time(tmp_path):
    """A 4096 x 4096 lazily generated layer in blocks of 512: 64 blocks, each computed once, never two at once."""
    grid = Grid.covering((0.0, 0.0, 4096 * 10.0, 4096 * 10.0), "EPSG:32629", 10.0)
    lock, state = threading.Lock(), {"running": 0, "most": 0, "calls": 0}

    def block(window):
        with lock:
            state["running"] += 1
            state["calls"] += 1
            state["most"] = max(state["most"], state["running"])
        time.sleep(0.002)  # widen the window in which a second block could overlap
        out = np.full((window.height, window.width), (window.row_off // 512 * 8 + window.col_off // 512) % 101,
                      dtype=np.uint8)
        with lock:
            state["running"] -= 1
        return out

    activity = on_grid(grid_array(grid, 512, block), grid)
    path = write_activity_cog(activity, grid, tmp_path / "big.tif", TAGS)
    assert state == {"running": 0, "most": 1, "calls": 64}
    with rasterio.open(path) as dataset:
        assert dataset.read(1, window=((4095, 4096), (4095, 4096)))[0, 0] == 63


def test_reading_a_truncated_layer_fails_naming_the_file(tmp_path, grid):
    noisy = np.random.default_rng(1).integers(0, 101, SHAPE, dtype=np.uint8)  # incompressible: blocks everywhere
    path = write_activity_cog(as_activity(noisy, grid), grid, tmp_path / "a.tif", TAGS)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    array, _, _ = read_activity(path)  # opens fine
    with pytest.raises(InputFileError, match="a.tif.*damaged or truncated"):
        array.compute()
