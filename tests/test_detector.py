"""The built-in detector: indices, SCL masking, compositing, change, warping, bad files, chunking, demo F1.

Scenes are built in code: a 64 x 64 grid of 20 m pixels in the analysis CRS, forest everywhere, and a
known blob (a pit: bare laterite with a turbid pond) that appears after the baseline.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pytest
import rasterio
import xarray as xr
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.warp import transform_bounds
from rasterio.windows import Window
from scipy.ndimage import binary_dilation

from mrumonitor.config import PeriodSettings, load_settings
from mrumonitor.demo.scenes import SYNTHETIC_TAGS, write_scene, write_scene_stacks
from mrumonitor.errors import ConfigError, InputFileError
from mrumonitor.raster.detector import DETECTOR_BANDS, detect_scenes, detection_mask, median_composite, nanmedian
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.indices import BSI, INDICES, MNDWI, NDTI, NDVI
from mrumonitor.raster.region import area_grid
from mrumonitor.raster.scenes import SCENE_BANDS, assign_periods, discover_scenes, read_scene_window
from mrumonitor.schema import ACTIVITY_NODATA

pytestmark = pytest.mark.unit

SETTINGS = load_settings()
DETECTOR = SETTINGS.detector
CRS_ANALYSIS = SETTINGS.analysis_crs
UTM29 = CRS.from_epsg(32629)

#: Surface reflectance, bands B02 B03 B04 B08 B11 B12.
FOREST = (0.020, 0.045, 0.025, 0.320, 0.150, 0.070)
BARE = (0.080, 0.110, 0.160, 0.240, 0.320, 0.260)
POND = (0.070, 0.100, 0.120, 0.080, 0.030, 0.020)
CLOUD = (0.400, 0.400, 0.420, 0.450, 0.300, 0.220)
SCL_VEG, SCL_BARE, SCL_WATER, SCL_CLOUD = 4, 5, 6, 9

BASELINE = PeriodSettings(name="2023H2", start=dt.date(2023, 7, 1), end=dt.date(2023, 12, 31))
PERIOD = PeriodSettings(name="2024H2", start=dt.date(2024, 7, 1), end=dt.date(2024, 12, 31))
PERIODS = [BASELINE, PERIOD]
BASE_DATES = ("20231105", "20231125", "20231215")
PERIOD_DATES = ("20241104", "20241124", "20241214")

#: Blob: centre (row, col) and radius (pixels) on the 64 x 64 grid.
PIT = (20, 40, 7.0)


@pytest.fixture(scope="module")
def grid() -> Grid:
    """64 x 64 pixels of 20 m in the analysis CRS, in eastern Sierra Leone."""
    return Grid(CRS_ANALYSIS, -240_000.0, 20_000.0, 20.0, 64, 64)


# --- builders ---------------------------------------------------------------------------------------------


def disc(shape: tuple[int, int], row: float, col: float, radius: float) -> np.ndarray:
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]] + 0.5
    return np.hypot(rows - row - 0.5, cols - col - 0.5) <= radius


def paint(shape: tuple[int, int], *layers: tuple[tuple[float, ...], np.ndarray]) -> np.ndarray:
    """Forest reflectance (6, h, w) with each (spectrum, mask) painted on top, in order."""
    image = np.broadcast_to(np.array(FOREST, np.float32)[:, None, None], (6, *shape)).copy()
    for spectrum, mask in layers:
        image[:, mask] = np.array(spectrum, np.float32)[:, None]
    return image


def scl_of(image: np.ndarray) -> np.ndarray:
    """SCL classes matching a painted image: vegetation, bare soil or water by the image's indices."""
    bands = dict(zip(SCENE_BANDS[:6], image, strict=True))
    scl = np.full(image.shape[1:], SCL_VEG, np.uint8)
    scl[NDVI(bands) < 0.4] = SCL_BARE
    scl[MNDWI(bands) > 0] = SCL_WATER
    return scl


def pit_image(shape: tuple[int, int], row: float = PIT[0], col: float = PIT[1], radius: float = PIT[2]):
    pit = disc(shape, row, col, radius)
    return paint(shape, (BARE, pit), (POND, disc(shape, row, col, radius / 2)))


def write_stack(folder: Path, grid: Grid, images: dict[str, np.ndarray], clouds: dict[str, np.ndarray] | None = None,
                missing: dict[str, np.ndarray] | None = None) -> Path:
    """One scene file per date (YYYYMMDD -> image on `grid`); clouds (SCL 9) and missing data (nodata) masks."""
    for date, image in images.items():
        image, scl = image.copy(), scl_of(image)
        if clouds and date in clouds:
            image[:, clouds[date]] = np.array(CLOUD, np.float32)[:, None]
            scl[clouds[date]] = SCL_CLOUD
        if missing and date in missing:
            image[:, missing[date]] = np.nan
            scl[missing[date]] = 0
        write_scene(folder / f"S2A_MSIL2A_{date}_T29PNL.tif", image, scl, grid.transform, grid.crs)
    return folder


def planted_stack(folder: Path, grid: Grid, **kwargs) -> Path:
    """Forest in the baseline; the pit in the period."""
    images = {d: paint(grid.shape) for d in BASE_DATES} | {d: pit_image(grid.shape) for d in PERIOD_DATES}
    return write_stack(folder, grid, images, **kwargs)


def detect(folder: Path, grid: Grid, chunk: int = 64, scheduler: str = "sync", settings=DETECTOR) -> np.ndarray:
    scenes = assign_periods(discover_scenes(folder), PERIODS)
    result = detect_scenes(scenes, PERIODS, BASELINE.name, grid, settings, chunk)
    return result[PERIOD.name].compute(scheduler=scheduler).to_numpy()


# --- indices ----------------------------------------------------------------------------------------------

BANDS = {"B02": 0.05, "B03": 0.10, "B04": 0.20, "B08": 0.40, "B11": 0.30, "B12": 0.25}


@pytest.mark.parametrize(("index", "expected"), [
    (NDVI, (0.40 - 0.20) / (0.40 + 0.20)),
    (MNDWI, (0.10 - 0.30) / (0.10 + 0.30)),
    (BSI, ((0.30 + 0.20) - (0.40 + 0.05)) / ((0.30 + 0.20) + (0.40 + 0.05))),
    (NDTI, (0.20 - 0.10) / (0.20 + 0.10)),
])
def test_index_known_values(index, expected):
    bands = {name: np.full((2, 3), value, np.float64) for name, value in BANDS.items()}
    result = index(bands)
    assert result.dtype == np.float32 == index.output_dtype
    np.testing.assert_allclose(result, expected, rtol=1e-6)
    assert index.input_nbands == len(index.input_bands)


@pytest.mark.parametrize("index", list(INDICES.values()), ids=list(INDICES))
def test_index_zero_denominator_is_nan(index):
    bands = {name: np.array([0.0, 0.1]) for name in BANDS}
    result = index(bands)
    assert np.isnan(result[0]) and np.isfinite(result[1])


def test_index_on_digital_numbers_and_xarray():
    """uint16 digital numbers do not wrap around; xarray keeps its coordinates; dask stays lazy."""
    dn = {"B08": np.array([3000], np.uint16), "B04": np.array([5000], np.uint16)}
    np.testing.assert_allclose(NDVI(dn), [-0.25])
    ds = xr.Dataset({name: ("x", np.array([value, 0.0])) for name, value in BANDS.items()}, coords={"x": [10, 20]})
    result = NDVI(ds)
    assert isinstance(result, xr.DataArray) and list(result["x"].values) == [10, 20]
    assert result.dtype == np.float32 and np.isnan(result.values[1])
    lazy = NDVI({name: da.from_array(np.array([value])) for name, value in BANDS.items()})
    assert isinstance(lazy, da.Array)
    with pytest.raises(KeyError, match="B04"):
        NDVI({"B08": np.ones(1)})


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 8, 13])
def test_nanmedian_matches_numpy(n):
    stack = np.random.default_rng(n).random((n, 4, 30, 30)).astype(np.float32)
    stack[np.random.default_rng(n + 1).random(stack.shape) < 0.4] = np.nan
    stack[:, :, :3, :3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(stack, axis=0)
    np.testing.assert_array_equal(nanmedian(stack), expected)


# --- scenes: discovery and periods ------------------------------------------------------------------------


def test_discover_and_assign_periods(tmp_path, grid, caplog):
    write_stack(tmp_path, grid, {"20231105": paint(grid.shape), "20240305": paint(grid.shape),
                                 "20241104": paint(grid.shape)})
    (tmp_path / "notes.txt").write_text("not a scene")
    scenes = discover_scenes(tmp_path)
    assert [s.date for s in scenes] == [dt.date(2023, 11, 5), dt.date(2024, 3, 5), dt.date(2024, 11, 4)]
    with caplog.at_level(logging.WARNING):
        by_period = assign_periods(scenes, PERIODS)
    assert {k: [s.date.isoformat() for s in v] for k, v in by_period.items()} == {
        "2023H2": ["2023-11-05"], "2024H2": ["2024-11-04"]}
    assert "20240305" in caplog.text and "outside every period" in caplog.text


def test_scene_without_date_names_file_and_rule(tmp_path, grid):
    write_scene(tmp_path / "S2A_MSIL2A_latest.tif", paint(grid.shape), scl_of(paint(grid.shape)), grid.transform,
                grid.crs)
    with pytest.raises(InputFileError, match=r"S2A_MSIL2A_latest\.tif.*YYYYMMDD"):
        discover_scenes(tmp_path)


# --- detection --------------------------------------------------------------------------------------------


def test_result_is_lazy_uint8_on_the_grid(tmp_path, grid):
    scenes = assign_periods(discover_scenes(planted_stack(tmp_path, grid)), PERIODS)
    result = detect_scenes(scenes, PERIODS, BASELINE.name, grid, DETECTOR, chunk=32)
    assert list(result) == [PERIOD.name]
    activity = result[PERIOD.name]
    assert isinstance(activity.data, da.Array) and activity.dtype == np.uint8
    assert activity.dims == ("y", "x") and activity.data.chunks == ((32, 32), (32, 32))
    x, y = grid.coords()
    np.testing.assert_array_equal(activity["x"], x)
    np.testing.assert_array_equal(activity["y"], y)
    assert activity.attrs["period"] == PERIOD.name and activity.attrs["source"] == "scenes"
    assert activity.attrs["nodata"] == ACTIVITY_NODATA


def test_planted_pit_detected_and_forest_not(tmp_path, grid):
    activity = detect(planted_stack(tmp_path, grid), grid)
    mask = np.asarray(detection_mask(activity, DETECTOR))
    pit = disc(grid.shape, *PIT)
    assert mask[disc(grid.shape, PIT[0], PIT[1], PIT[2] - 1)].all()  # the whole pit, bar its edge
    assert activity[disc(grid.shape, PIT[0], PIT[1], 2)].min() == 100  # pond: loss + bare soil + new water
    far = ~disc(grid.shape, PIT[0], PIT[1], PIT[2] + 2)
    assert (activity[far] == 0).all()  # stable forest is observed and inactive
    assert (np.abs(mask.sum() - pit.sum()) <= 0.25 * pit.sum())


def test_reflectance_offset_of_newer_products_is_applied(tmp_path, grid):
    """Processing baseline 04.00 products store reflectance x 10000 + 1000: with offset -1000 they give the
    same activity as offset-free products."""
    plain = detect(planted_stack(tmp_path / "plain", grid), grid)
    images = {d: paint(grid.shape) for d in BASE_DATES} | {d: pit_image(grid.shape) for d in PERIOD_DATES}
    shifted = {date: image + np.float32(0.1) for date, image in images.items()}
    for date, image in shifted.items():
        write_scene(tmp_path / "pb04" / f"S2A_MSIL2A_{date}_T29PNL.tif", image, scl_of(images[date]),
                    grid.transform, grid.crs)
    with_offset = DETECTOR.model_copy(update={"reflectance_offset": -1000.0})
    np.testing.assert_array_equal(detect(tmp_path / "pb04", grid, settings=with_offset), plain)
    window = Window(0, 0, grid.width, grid.height)
    [scene] = [s for s in discover_scenes(tmp_path / "pb04") if s.date == dt.date(2024, 11, 4)]
    reflectance, _ = read_scene_window(scene, grid, window, DETECTOR_BANDS, 10000.0, None, -1000.0)
    expected = images["20241104"][[SCENE_BANDS.index(b) for b in DETECTOR_BANDS]]
    inside = np.isfinite(reflectance)
    np.testing.assert_allclose(reflectance[inside], expected[inside], atol=2e-4)


def test_cloudy_observation_excluded_from_median(tmp_path, grid):
    """A cloud over the pixel in one acquisition does not enter the composite (median of the clear two)."""
    dim = paint(grid.shape)
    bright = paint(grid.shape, ((0.02, 0.045, 0.045, 0.32, 0.15, 0.07), np.ones(grid.shape, bool)))
    cloud = disc(grid.shape, 32, 32, 6)
    folder = write_stack(tmp_path, grid, {"20231105": dim, "20231125": bright, "20231215": dim},
                         clouds={"20231215": cloud})
    scenes = discover_scenes(folder)
    median, count = median_composite(scenes, grid, Window(0, 0, 64, 64), DETECTOR)
    red = median[DETECTOR_BANDS.index("B04")]
    assert count[32, 32] == 2 and count[5, 5] == 3
    assert red[32, 32] == pytest.approx((0.025 + 0.045) / 2, abs=2e-4)  # cloud (0.42) left out
    assert red[5, 5] == pytest.approx(0.025, abs=2e-4)  # three clear: the median is the dim value
    ring = binary_dilation(cloud, np.ones((3, 3), bool)) & ~cloud  # one pixel around the cloud is dropped too
    assert (count[ring] == 2).all()


def test_fully_cloudy_period_is_no_data(tmp_path, grid):
    everywhere = np.ones(grid.shape, bool)
    folder = planted_stack(tmp_path, grid, clouds={d: everywhere for d in PERIOD_DATES})
    activity = detect(folder, grid)
    assert (activity == ACTIVITY_NODATA).all()
    assert not np.asarray(detection_mask(activity, DETECTOR)).any()


def test_pixel_never_observed_in_baseline_is_no_data(tmp_path, grid):
    corner = np.zeros(grid.shape, bool)
    corner[:10, :10] = True
    clouded = np.zeros(grid.shape, bool)
    clouded[50:, 50:] = True
    folder = planted_stack(tmp_path, grid, missing={d: corner for d in BASE_DATES},
                           clouds={d: clouded for d in BASE_DATES})
    activity = detect(folder, grid)
    assert (activity[:10, :10] == ACTIVITY_NODATA).all()
    assert (activity[51:, 51:] == ACTIVITY_NODATA).all()
    assert (activity[20:40, :10] == 0).all()


def test_period_without_scenes_is_no_data(tmp_path, grid):
    folder = write_stack(tmp_path, grid, {d: paint(grid.shape) for d in BASE_DATES})
    activity = detect(folder, grid)
    assert (activity == ACTIVITY_NODATA).all()


def test_unknown_baseline_is_a_config_error(tmp_path, grid):
    with pytest.raises(ConfigError, match="2022H2"):
        detect_scenes({}, PERIODS, "2022H2", grid, DETECTOR, 64)


def test_detection_mask_threshold_and_no_data():
    activity = np.array([0, 49, 50, 80, 100, ACTIVITY_NODATA], np.uint8)
    np.testing.assert_array_equal(detection_mask(activity, DETECTOR), [0, 0, 1, 1, 1, 0])


# --- another CRS and resolution ---------------------------------------------------------------------------


def utm_stack(folder: Path, grid: Grid, resolution: float = 10.0) -> Path:
    """The planted stack, drawn in UTM 29N at `resolution` over the grid plus 200 m."""
    west, south, east, north = transform_bounds(grid.crs, UTM29, *grid.bounds, densify_pts=21)
    west, north = np.floor((west - 200) / 10) * 10 + 3, np.ceil((north + 200) / 10) * 10 - 7  # off-lattice
    shape = (int((north - south + 200) / resolution), int((east - west + 200) / resolution))
    transform = Affine(resolution, 0, west, 0, -resolution, north)
    # the pit centre, given in the analysis CRS (centre of grid pixel PIT), found in the UTM image
    px, py = grid.transform @ (PIT[1] + 0.5, PIT[0] + 0.5)
    ux, uy = Transformer.from_crs(grid.crs, UTM29, always_xy=True).transform(px, py)
    col, row = ~transform @ (ux, uy)
    radius = PIT[2] * grid.resolution / resolution
    pit = pit_image(shape, row - 0.5, col - 0.5, radius)
    for date in BASE_DATES + PERIOD_DATES:
        image = paint(shape) if date in BASE_DATES else pit
        write_scene(folder / f"S2B_MSIL2A_{date}_T29PNL.tif", image, scl_of(image), transform, UTM29)
    return folder


def test_scene_in_another_crs_and_resolution_lands_in_place(tmp_path, grid):
    activity = detect(utm_stack(tmp_path, grid), grid)
    mask = np.asarray(detection_mask(activity, DETECTOR))
    assert (activity != ACTIVITY_NODATA).all()
    rows, cols = np.nonzero(mask)
    assert abs(rows.mean() - PIT[0]) <= 1 and abs(cols.mean() - PIT[1]) <= 1
    assert abs(mask.sum() - disc(grid.shape, *PIT).sum()) <= 0.25 * disc(grid.shape, *PIT).sum()


@pytest.mark.slow
@pytest.mark.parametrize("stack", ["aligned", "utm_10m"])
def test_chunks_of_32_equal_one_chunk_of_64(tmp_path, grid, stack):
    folder = planted_stack(tmp_path, grid, clouds={"20241124": disc(grid.shape, 30, 30, 9)}) \
        if stack == "aligned" else utm_stack(tmp_path, grid)
    whole = detect(folder, grid, chunk=64)
    np.testing.assert_array_equal(detect(folder, grid, chunk=32), whole)
    np.testing.assert_array_equal(detect(folder, grid, chunk=27, scheduler="threads"), whole)


@pytest.mark.slow
def test_threaded_run_leaves_warning_filters_alone(tmp_path, grid):
    """rasterio's in-memory datasets toggle warning filters unsafely across threads; the reader avoids them."""
    before = list(warnings.filters)
    detect(planted_stack(tmp_path, grid), grid, chunk=16, scheduler="threads")
    assert warnings.filters == before


# --- bad files --------------------------------------------------------------------------------------------


def _rename_band(path: Path, index: int, name: str) -> None:
    with rasterio.open(path, "r+") as dataset:
        dataset.set_band_description(index, name)


def _six_bands(path: Path) -> None:
    with rasterio.open(path) as src:
        profile, data, names = src.profile, src.read(list(range(1, 7))), src.descriptions[:6]
    profile.update(count=6)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        for i, name in enumerate(names, start=1):
            dst.set_band_description(i, name)


def _no_crs(path: Path) -> None:
    with rasterio.open(path) as src:
        profile, data, names = src.profile, src.read(), src.descriptions
    profile.update(crs=None)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        for i, name in enumerate(names, start=1):
            dst.set_band_description(i, name)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def _not_a_tiff(path: Path) -> None:
    path.write_text("<VRTDataset><VRTRasterBand/></VRTDataset>")


@pytest.mark.parametrize(("damage", "message"), [
    (lambda p: _rename_band(p, 5, "B8A"), r"lacks band B11.*Fix: write each band's name"),
    (_six_bands, r"has 6 bands, 7 expected"),
    (_no_crs, r"no CRS"),
    (_truncate, r"(damaged or truncated|not a readable GeoTIFF)"),
    (_not_a_tiff, r"not a GeoTIFF"),
], ids=["lacks_B11", "six_bands", "no_crs", "truncated", "not_a_tiff"])
def test_bad_scene_file_names_the_file(tmp_path, grid, damage, message):
    folder = planted_stack(tmp_path, grid)
    victim = folder / f"S2A_MSIL2A_{PERIOD_DATES[1]}_T29PNL.tif"
    damage(victim)
    with pytest.raises(InputFileError, match=message) as error:
        detect(folder, grid)
    assert error.value.path == victim and victim.name in str(error.value)


# --- the demo stacks --------------------------------------------------------------------------------------


def confusion(activity: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(true positives, false positives, false negatives) over the observed pixels."""
    observed = activity != ACTIVITY_NODATA
    mask = np.asarray(detection_mask(activity, DETECTOR)) & observed
    return np.array([(mask & truth).sum(), (mask & ~truth).sum(), (~mask & truth & observed).sum()])


@pytest.mark.slow
def test_demo_stacks_reach_f1(tmp_path, record_property):
    from mrumonitor.demo.scenes import DEMO_BASELINE, DEMO_PERIODS

    areas = write_scene_stacks(tmp_path, seed=2026, analysis_crs=CRS_ANALYSIS)
    assert {a.name for a in areas} == {"koidu", "triborder", "seguela"}
    scores = {}
    for area in areas:
        grid = area_grid(area.bounds_wgs84, DETECTOR.resolution_m, CRS_ANALYSIS)  # as `mrumonitor detect`
        scenes = assign_periods(discover_scenes(area.folder), DEMO_PERIODS)
        result = detect_scenes(scenes, DEMO_PERIODS, DEMO_BASELINE, grid, DETECTOR, 128)
        computed = dict(zip(result, dask.compute(*[r.data for r in result.values()]), strict=True))
        tp_fp_fn = np.zeros(3)
        for period, path in area.truth_paths.items():
            with rasterio.open(path) as src:
                assert src.transform == grid.transform and src.shape == grid.shape
                assert src.tags()["SYNTHETIC"] == SYNTHETIC_TAGS["SYNTHETIC"]
                truth = src.read(1).astype(bool)
            activity = computed[period]
            if period in area.fully_cloudy:
                assert (activity == ACTIVITY_NODATA).all()
                continue
            tp_fp_fn += confusion(activity, truth)
        tp, fp, fn = tp_fp_fn
        scores[area.name] = 2 * tp / (2 * tp + fp + fn)
        record_property(f"f1_{area.name}", round(scores[area.name], 3))
    print("F1 per demo area:", {k: round(v, 3) for k, v in scores.items()})
    assert all(score >= 0.8 for score in scores.values()), scores


@pytest.mark.slow
def test_demo_stacks_are_deterministic_and_tagged(tmp_path):
    first = write_scene_stacks(tmp_path / "a", seed=7, analysis_crs=CRS_ANALYSIS)
    second = write_scene_stacks(tmp_path / "b", seed=7, analysis_crs=CRS_ANALYSIS)
    for one, two in zip(first, second, strict=True):
        files = sorted(one.folder.iterdir())
        assert len(files) == 16
        assert [f.read_bytes() for f in files] == [f.read_bytes() for f in sorted(two.folder.iterdir())]
        with rasterio.open(files[0]) as src:
            assert src.tags()["SYNTHETIC"] == "demo data, not real imagery"
            assert set(src.descriptions) == set(SCENE_BANDS)
