"""Hostile activity inputs (issue 14 §2-§4): raster files and detections a careless analyst or a damaged copy
gives the detect stage. Each case builds its input here and asserts the clear refusal (the project's error,
exit 2 through the real `mrumonitor detect`/`mrumonitor run` for several), the quarantine reason (records in =
accepted + quarantined), or the warning recorded in the manifest; and that no traceback reaches the user.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from conftest import write_config
from hostile import assert_no_traceback, assert_refused, mrumonitor, mrumonitor_peak
from rasterio.transform import from_bounds
from run_inputs import write_run_inputs

from mrumonitor.config import load_settings
from mrumonitor.errors import MruError
from mrumonitor.raster.run import detect
from mrumonitor.raster.testing import write_sparse_raster
from mrumonitor.runwarnings import collecting_warnings
from mrumonitor.store import read_manifest, resolve_run

pytestmark = [pytest.mark.hostile, pytest.mark.integration]

#: A one-degree box in Sierra Leone (west, south, east, north), where the small rasters lie.
SIERRA_LEONE = (-12.0, 7.5, -11.0, 8.5)
#: The same in Norway, far outside the region.
NORWAY = (9.0, 60.0, 10.0, 61.0)
#: Pixels of the small rasters, a side.
SIDE = 64


# --- building inputs ---------------------------------------------------------------------------------------


def write_raster(path: Path, data, bounds=SIERRA_LEONE, crs="EPSG:4326", nodata=None) -> Path:
    """A GeoTIFF of `data` ((bands,) rows, cols) over `bounds` in `crs` (None: no CRS)."""
    data = np.asarray(data)
    data = data[None] if data.ndim == 2 else data
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype=data.dtype, crs=crs, transform=from_bounds(*bounds, data.shape[2], data.shape[1]),
                       nodata=nodata) as dataset:
        dataset.write(data)
    return path


def blob(value, dtype="float32", background=0) -> np.ndarray:
    """A SIDE² raster of `background` with a 16 x 16 square of `value` in the middle."""
    data = np.full((SIDE, SIDE), background, dtype=dtype)
    data[24:40, 24:40] = value
    return data


def detect_config(folder: Path, inputs: str, resolution: float = 2000.0, periods: str = "", extra: str = "") -> Path:
    """A detect-only configuration (no cadastre) with the given [activity.inputs.*] blocks, one period P1."""
    periods = periods or '{ name = "P1", start = 2025-01-01, end = 2025-06-30 }'
    return write_config(folder, f"""[paths]
work = "work"
store = "layers"
[raster]
resolution_m = {resolution}
{extra}[activity]
periods = [{periods}]
{inputs}""")


def raster_input(path: Path, kind: str = "probability", **keys) -> str:
    lines = "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in keys.items())
    if kind == "classes" and "active_classes" not in keys:
        lines += "active_classes = [3]\n"
    return f'[activity.inputs.model]\nkind = "{kind}"\npath = "{path}"\n{lines}'


def run_detect(config: Path):
    """The detect stage in this process: (result, warnings recorded)."""
    with collecting_warnings() as warnings:
        result = detect(load_settings(config))
    return result, warnings


# --- raster files refused: each builds its file in `folder` and returns the [activity.inputs] block -------------


def _scaled_255(folder):
    return raster_input(write_raster(folder / "p255.tif", blob(255, "uint8")))


def _percent_as_01(folder):
    return raster_input(write_raster(folder / "p100.tif", blob(87, "uint8")))


def _negative(folder):
    return raster_input(write_raster(folder / "neg.tif", blob(-1.0, background=0.5)))


def _all_nodata(folder):
    return raster_input(write_raster(folder / "empty.tif", np.zeros((SIDE, SIDE), "uint8"), nodata=0))


def _all_nan(folder):
    return raster_input(write_raster(folder / "nan.tif", np.full((SIDE, SIDE), np.nan, "float32")))


def _classes_all_nodata(folder):
    return raster_input(write_raster(folder / "cls.tif", np.full((SIDE, SIDE), 255, "uint8"), nodata=255), "classes")


def _norway_wgs84(folder):
    return raster_input(write_raster(folder / "norway.tif", blob(0.9), bounds=NORWAY))


def _norway_utm(folder):
    return raster_input(write_raster(folder / "norway_utm.tif", blob(0.9), crs="EPSG:32633",
                                     bounds=(500_000.0, 6_650_000.0, 560_000.0, 6_710_000.0)))


def _utm_declared_degrees(folder):
    return raster_input(write_raster(folder / "wrongcrs.tif", blob(0.9), crs="EPSG:4326",
                                     bounds=(600_000.0, 800_000.0, 660_000.0, 860_000.0)))


def _no_crs(folder):
    return raster_input(write_raster(folder / "nocrs.tif", blob(0.9), crs=None))


def _garbage_tiff(folder):
    path = folder / "garbage.tif"
    path.write_bytes(b"II*\x00" + np.random.default_rng(1).bytes(4096))
    return raster_input(path)


def _text_as_tif(folder):
    path = folder / "notes.tif"
    path.write_text("probability of mining\n0.5,0.7\n")
    return raster_input(path)


def _empty_file(folder):
    path = folder / "zero.tif"
    path.write_bytes(b"")
    return raster_input(path)


def _missing_file(folder):
    return raster_input(folder / "nowhere.tif")


def _three_bands(folder):
    return raster_input(write_raster(folder / "rgb.tif", np.stack([blob(0.5)] * 3)))


def _vrt_renamed(folder):
    secret = write_raster(folder / "secret.tif", blob(0.9))
    path = folder / "model.tif"
    path.write_text(f"""<VRTDataset rasterXSize="{SIDE}" rasterYSize="{SIDE}">
  <SRS>EPSG:4326</SRS><GeoTransform>-12.0, 0.015625, 0, 8.5, 0, -0.015625</GeoTransform>
  <VRTRasterBand dataType="Float32" band="1"><SimpleSource>
    <SourceFilename relativeToVRT="0">{secret}</SourceFilename><SourceBand>1</SourceBand>
  </SimpleSource></VRTRasterBand></VRTDataset>""")
    return raster_input(path)


def _truncated_cog(folder):
    data = np.random.default_rng(2).random((1024, 1024)).astype("float32")
    path = folder / "truncated.tif"
    with rasterio.open(path, "w", driver="COG", width=1024, height=1024, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_bounds(*SIERRA_LEONE, 1024, 1024), compress="deflate",
                       blocksize=256) as dataset:
        dataset.write(data, 1)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return raster_input(path)


def _scene_folder(folder, name: str, bands: int = 7, scene_bounds=SIERRA_LEONE, more: tuple[str, ...] = ()) -> str:
    """A scene folder with scene `name` (and `more`, in Norway) and the [activity.inputs.s2] block reading it."""
    scenes = folder / "scenes"
    scenes.mkdir()
    for file, bounds in ((name, scene_bounds), *((extra, NORWAY) for extra in more)):
        path = write_raster(scenes / file, np.stack([blob(1000, "uint16", 500)] * (bands - 1) + [
            np.full((SIDE, SIDE), 4, "uint16")]), bounds)
        with rasterio.open(path, "r+") as dataset:
            dataset.descriptions = ("B02", "B03", "B04", "B08", "B11", "B12", "SCL")[:bands]
    return f"""[activity.inputs.s2]
kind = "scenes"
path = "{scenes}"
bounds = [-11.2, 8.0, -11.0, 8.2]
"""


def scene_config(folder: Path, inputs: str, resolution: float = 2000.0) -> Path:
    """A detect-only configuration with a baseline period P0 and a period P1 (scene inputs need both)."""
    config = detect_config(folder, inputs, resolution, SCENE_PERIODS)
    config.write_text(config.read_text().replace("[activity]\n", '[activity]\nbaseline = "P0"\n'))
    return config


SCENE_PERIODS = ('{ name = "P0", start = 2024-01-01, end = 2024-06-30 }, '
                 '{ name = "P1", start = 2025-01-01, end = 2025-06-30 }')

#: (case, input builder, words of the message, through the real CLI)
REFUSED = [
    ("0-255 raster declared 0-1", _scaled_255, ["p255.tif", "values up to 255", "scale = 255"], True),
    ("percent raster declared 0-1", _percent_as_01, ["values up to 87", "scale = 100"], False),
    ("negative probability", _negative, ["values down to -1", "cannot be negative"], False),
    ("all-nodata raster", _all_nodata, ["empty.tif", "holds no valid pixel"], True),
    ("all-NaN raster", _all_nan, ["holds no valid pixel", "NaN"], False),
    ("class raster all nodata", _classes_all_nodata, ["cls.tif", "holds no valid pixel"], False),
    ("raster over Norway, WGS84", _norway_wgs84, ["norway.tif", "covers none of the region"], True),
    ("raster over Norway, UTM 33N", _norway_utm, ["covers none of the region", "UTM zone 33N"], False),
    ("UTM coordinates declared as degrees", _utm_declared_degrees, ["not coordinates of its CRS"], False),
    ("raster with no CRS", _no_crs, ["nocrs.tif", "no CRS", "gdal_edit.py"], True),
    ("garbage TIFF", _garbage_tiff, ["garbage.tif", "not a readable GeoTIFF"], False),
    ("text file named .tif", _text_as_tif, ["notes.tif", "not a GeoTIFF"], False),
    ("empty file", _empty_file, ["zero.tif", "not a GeoTIFF"], False),
    ("missing file", _missing_file, ["nowhere.tif", "not found"], False),
    ("three bands where one is expected", _three_bands, ["rgb.tif", "has 3 bands, 1 expected"], False),
    ("VRT renamed .tif", _vrt_renamed, ["model.tif", "not a GeoTIFF"], True),
    ("truncated COG", _truncated_cog, ["truncated.tif", "damaged or truncated"], True),
]


@pytest.mark.slow
@pytest.mark.parametrize(("builder", "words", "cli"), [case[1:] for case in REFUSED],
                         ids=[case[0] for case in REFUSED])
def test_a_bad_raster_input_is_refused_naming_the_file(tmp_path, builder, words, cli):
    config = detect_config(tmp_path, builder(tmp_path))
    if cli:
        assert_refused(mrumonitor("detect", "--config", str(config), cwd=tmp_path), *words)
        assert not list((tmp_path / "work" / "detect").glob("activity_*.tif"))
        return
    with pytest.raises(MruError) as caught:
        run_detect(config)
    message = " ".join(str(caught.value).split())
    assert_no_traceback(message)
    for word in words:
        assert word in message, message


def test_a_large_sparse_raster_of_no_data_is_refused_after_a_scan(tmp_path):
    path = write_sparse_raster(tmp_path / "nothing.tif", 8192, SIERRA_LEONE, "EPSG:4326", [], nodata=255)
    with pytest.raises(MruError, match=r"nothing.tif: holds no valid pixel"):
        run_detect(detect_config(tmp_path, raster_input(path, scale=100.0)))


@pytest.mark.slow
def test_valid_pixels_too_few_for_the_sample_are_found_by_the_scan(tmp_path):
    path = write_sparse_raster(tmp_path / "speck.tif", 8192, SIERRA_LEONE, "EPSG:4326", [(4001, 4001, 2, 90)],
                               nodata=255)
    result, warnings = run_detect(detect_config(tmp_path, raster_input(path, scale=100.0)))
    assert "P1" in result.activity and not warnings


SCENE_REFUSED = [
    ("resolution the detector's does not divide", "S2A_20250105_T29PNL.tif", 7, 150.0,
     ["raster.resolution_m = 150", "detector.resolution_m = 20", "140 or 160"]),
    ("scene named with an impossible date", "S2A_20251345_T29PNL.tif", 7, 2000.0,
     ["S2A_20251345_T29PNL.tif", "no acquisition date", "YYYYMMDD"]),
    ("scene named without a date", "S2A_latest_T29PNL.tif", 7, 2000.0, ["S2A_latest_T29PNL.tif", "no acquisition date"]),
    ("scene with three bands", "S2A_20250105_T29PNL.tif", 3, 2000.0, ["has 3 bands, 7 expected"]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "bands", "resolution", "words"), [case[1:] for case in SCENE_REFUSED],
                         ids=[case[0] for case in SCENE_REFUSED])
def test_a_bad_scene_input_is_refused_through_the_cli(tmp_path, name, bands, resolution, words):
    config = scene_config(tmp_path, _scene_folder(tmp_path, name, bands), resolution)
    assert_refused(mrumonitor("detect", "--config", str(config), cwd=tmp_path), *words)


def test_a_scene_area_outside_the_region_is_refused(tmp_path):
    inputs = _scene_folder(tmp_path, "S2A_20250105_T29PNL.tif").replace("[-11.2, 8.0, -11.0, 8.2]",
                                                                        "[9.2, 60.2, 9.4, 60.4]")
    with pytest.raises(MruError, match=r"activity.inputs.s2.bounds lie outside the region"):
        run_detect(scene_config(tmp_path, inputs))


def test_a_scene_folder_whose_scenes_miss_the_area_is_refused(tmp_path):
    inputs = _scene_folder(tmp_path, "S2A_20250105_T29PNL.tif", scene_bounds=NORWAY)
    with pytest.raises(MruError, match=r"scenes: holds no scene that reaches the detection area of activity.inputs.s2"):
        run_detect(scene_config(tmp_path, inputs))


@pytest.mark.slow
def test_a_scene_that_misses_the_area_is_used_with_a_warning(tmp_path):
    inputs = _scene_folder(tmp_path, "S2A_20250105_T29PNL.tif", more=("S2A_20240105_T32VNM.tif",))
    result, warnings = run_detect(scene_config(tmp_path, inputs))
    assert "P1" in result.activity
    assert [Path(w.subject).name for w in warnings if "covers none of the detection area" in w.message] == [
        "S2A_20240105_T32VNM.tif"]


GRID_REFUSED = [
    ("regional resolution of 5 m", 5.0, None,
     ["the regional grid would be", "gigapixels", "raster.resolution_m = 5", "raster.max_grid_pixels"]),
    ("scene area as large as the region", 2000.0, "[-15.4, 4.0, -2.1, 13.0]",
     ["scene area s2", "gigapixels", "detector.resolution_m = 20", "raster.max_grid_pixels"]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("resolution", "bounds", "words"), [case[1:] for case in GRID_REFUSED],
                         ids=[case[0] for case in GRID_REFUSED])
def test_a_grid_too_large_is_refused_with_its_size_and_the_limit(tmp_path, resolution, bounds, words):
    if bounds is None:
        config = detect_config(tmp_path, raster_input(write_raster(tmp_path / "p.tif", blob(0.9))), resolution)
    else:
        inputs = _scene_folder(tmp_path, "S2A_20250105_T29PNL.tif").replace("[-11.2, 8.0, -11.0, 8.2]", bounds)
        config = scene_config(tmp_path, inputs, resolution)
    assert_refused(mrumonitor("detect", "--config", str(config), cwd=tmp_path), *words)


def test_a_raster_active_over_the_whole_region_is_refused(tmp_path):
    path = write_raster(tmp_path / "everywhere.tif", np.full((200, 200), 0.9, "float32"), (-15.4, 4.03, -2.14, 12.98))
    with pytest.raises(MruError, match=r"period P1: \d+% of the regional grid is active.*model \(probability"):
        run_detect(detect_config(tmp_path, raster_input(path)))


# --- raster files used with a recorded warning ---------------------------------------------------------------


WARNED = [
    ("NaN values its nodata does not declare", lambda f: raster_input(
        write_raster(f / "holes.tif", np.where(blob(1, "uint8") == 1, np.nan, 0.8).astype("float32"), nodata=-1)),
     "NaN or infinite values"),
    ("infinite values", lambda f: raster_input(write_raster(f / "inf.tif", blob(np.inf, background=0.2))),
     "NaN or infinite values"),
    ("0-1 raster declared percent", lambda f: raster_input(write_raster(f / "p01.tif", blob(0.9)), scale=100.0),
     "all values lie within 0-1"),
    ("class raster without any active class", lambda f: raster_input(
        write_raster(f / "cls.tif", blob(2, "uint8", 1)), "classes", active_classes=[7]),
     "none of activity.inputs.model.active_classes (7)"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("builder", "words"), [case[1:] for case in WARNED], ids=[case[0] for case in WARNED])
def test_a_suspicious_raster_is_used_with_a_recorded_warning(tmp_path, builder, words):
    result, warnings = run_detect(detect_config(tmp_path, builder(tmp_path)))
    assert "P1" in result.activity
    assert any(words in warning.message for warning in warnings), warnings
    assert all(warning.stage == "detect" for warning in warnings)


@pytest.mark.slow
def test_nan_and_inf_become_no_data_not_activity(tmp_path):
    config = detect_config(tmp_path, raster_input(write_raster(tmp_path / "inf.tif", blob(np.inf, background=0.2))),
                           resolution=1000.0)
    result, _ = run_detect(config)
    assert result.sites.sites.empty  # an infinite probability is not 100 % activity


@pytest.mark.slow
def test_rounding_beyond_one_is_clipped_not_refused(tmp_path):
    result, warnings = run_detect(detect_config(tmp_path, raster_input(write_raster(tmp_path / "p.tif",
                                                                                    blob(1.004)))))
    assert len(result.sites.sites) == 1 and not warnings


@pytest.mark.slow
def test_the_warning_is_in_the_published_manifest_and_runs_show(tmp_path):
    config = write_run_inputs(tmp_path)
    write_raster(tmp_path / "p01.tif", blob(0.9))
    config.write_text(config.read_text().replace("[activity.inputs.survey]", raster_input(
        tmp_path / "p01.tif", scale=100.0) + "[activity.inputs.survey]"))
    result = mrumonitor("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_no_traceback(result.stdout, result.stderr)
    warnings = read_manifest(resolve_run(tmp_path / "layers"))["warnings"]
    assert [w["subject"] for w in warnings if "all values lie within 0-1" in w["message"]] == [str(tmp_path / "p01.tif")]
    shown = mrumonitor("runs", "show", "--config", str(config), cwd=tmp_path)
    assert shown.returncode == 0
    assert "Warnings (" in shown.stdout and "all values lie within 0-1" in " ".join(shown.stdout.split())


@pytest.mark.slow
def test_a_huge_sparse_raster_is_processed_in_bounded_memory(tmp_path):
    """A 24,000² sparse raster (a few hundred KB) over the region at a 2 km grid: before issue 14 a tile read its
    whole source window at once (about 2 GB here; 26.8 GiB for 60,000² at 1 km)."""
    path = write_sparse_raster(tmp_path / "sparse.tif", 24_000, (-15.4, 4.03, -2.14, 12.98), "EPSG:4326",
                               [(12_000, 9_000, 60, 90), (8_000, 10_000, 40, 80)])
    config = detect_config(tmp_path, raster_input(path, scale=100.0))
    result, peak_gb = mrumonitor_peak("detect", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert peak_gb < 1.0, f"peak resident memory {peak_gb:.2f} GB"
    sites = gpd.read_parquet(tmp_path / "work" / "detect" / "sites.parquet")
    assert len(sites) == 2


# --- detections ----------------------------------------------------------------------------------------------


def detections_config(folder: Path, rows: list[tuple], probability: bool = True, **keys) -> Path:
    """A detections CSV (det_id, lon, lat, area_ha[, probability]) and a config reading it as input `survey`."""
    columns = ["det_id", "lon", "lat", "area_ha", "probability"][: 4 + probability]
    pd.DataFrame(rows, columns=columns).to_csv(folder / "detections.csv", index=False)
    lines = "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in keys.items())
    return detect_config(folder, f"""[activity.inputs.survey]
kind = "detections"
path = "{folder / 'detections.csv'}"
x = "lon"
y = "lat"
area_ha = "area_ha"
crs = "EPSG:4326"
{'probability = "probability"' if probability else ''}
{lines}""", resolution=1000.0)


#: Two plausible detections in Sierra Leone, far apart.
GOOD = [(1, -11.5, 8.0, 500.0, 0.9), (2, -11.0, 9.0, 800.0, 0.8)]

#: (case, the hostile row, quarantine reason, words of its detail)
QUARANTINED = [
    ("area of 1e12 ha", (9, -11.2, 8.5, 1e12, 0.9), "invalid_area", "larger than any mine"),
    ("area just above max_area_ha", (9, -11.2, 8.5, 100_001.0, 0.9), "invalid_area", "max_area_ha (100000 ha)"),
    ("negative area", (9, -11.2, 8.5, -5.0, 0.9), "invalid_area", "area_ha is '-5.0'"),
    ("NaN area", (9, -11.2, 8.5, float("nan"), 0.9), "invalid_area", "positive area"),
    ("area that is text", (9, -11.2, 8.5, "ten", 0.9), "invalid_area", "area_ha is 'ten'"),
    ("probability of 255", (9, -11.2, 8.5, 20.0, 255), "invalid_probability", "probability is '255"),
    ("probability of -1", (9, -11.2, 8.5, 20.0, -1), "invalid_probability", "probability is '-1"),
    ("missing probability", (9, -11.2, 8.5, 20.0, None), "invalid_probability", "must be a number in 0-1"),
    ("point in Norway", (9, 10.0, 60.0, 20.0, 0.9), "outside_country", "outside the region"),
    ("point off the coast of Brazil", (9, -40.0, -5.0, 20.0, 0.9), "outside_country", "outside the region"),
    ("missing geometry", (9, None, None, 20.0, 0.9), "empty_geometry", "no coordinates"),
    ("coordinates that are text", (9, "west", "north", 20.0, 0.9), "unparseable_geometry", "not numbers"),
    ("latitude beyond the pole", (9, -11.2, 95.0, 20.0, 0.9), "invalid_geometry", "valid range"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("row", "reason", "detail"), [case[1:] for case in QUARANTINED],
                         ids=[case[0] for case in QUARANTINED])
def test_an_implausible_detection_is_quarantined_with_its_reason(tmp_path, row, reason, detail):
    result, _ = run_detect(detections_config(tmp_path, [*GOOD, row]))
    quarantine = result.quarantine
    assert len(quarantine) == 1 and len(result.sites.sites) == len(GOOD)  # records in = accepted + quarantined
    assert quarantine["reason"].iloc[0] == reason
    assert detail in quarantine["detail"].iloc[0], quarantine["detail"].iloc[0]
    assert quarantine["source_file"].iloc[0].endswith("detections.csv")


@pytest.mark.slow
def test_a_detection_of_1e12_ha_does_not_make_the_grid_one_site_through_the_cli(tmp_path):
    config = detections_config(tmp_path, [*GOOD, (9, -11.2, 8.5, 1e12, 0.9)])
    result = mrumonitor("detect", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_no_traceback(result.stdout, result.stderr)
    detect_dir = tmp_path / "work" / "detect"
    sites = gpd.read_parquet(detect_dir / "sites.parquet")
    quarantine = gpd.read_parquet(detect_dir / "activity_quarantine.parquet")
    assert len(sites) == 2 and sites["area_ha"].max() < 2000
    assert quarantine["reason"].tolist() == ["invalid_area"]


@pytest.mark.slow
def test_a_detection_of_1e12_ha_under_a_raised_max_area_is_refused_through_the_cli(tmp_path):
    config = detections_config(tmp_path, [*GOOD, (9, -11.2, 8.5, 1e12, 0.9)], max_area_ha=1e13)
    assert_refused(mrumonitor("detect", "--config", str(config), cwd=tmp_path),
                   "of the regional grid is active", "survey (detections", "detections.csv")


@pytest.mark.slow
def test_a_polygon_the_size_of_a_country_is_quarantined(tmp_path):
    country = gpd.GeoDataFrame({"det_id": [1, 2]}, geometry=[shapely.box(-12.5, 7.0, -10.5, 9.5),
                                                             shapely.box(-11.51, 7.99, -11.49, 8.01)], crs=4326)
    country.to_file(tmp_path / "footprints.geojson")
    config = detect_config(tmp_path, f'[activity.inputs.survey]\nkind = "detections"\n'
                                     f'path = "{tmp_path / "footprints.geojson"}"\n')
    result, _ = run_detect(config)
    assert result.quarantine["reason"].tolist() == ["invalid_area"] and len(result.sites.sites) == 1


def _garbage_geojson(folder):
    (folder / "detections.geojson").write_text('{"type": "FeatureCollection", "features": [{"type": "Feat')
    return "detections.geojson"


def _binary_csv(folder):
    (folder / "detections.csv").write_bytes(np.random.default_rng(3).bytes(2048))
    return "detections.csv"


def _unknown_suffix(folder):
    (folder / "detections.xlsx").write_bytes(b"PK\x03\x04")
    return "detections.xlsx"


#: (case, file builder returning its name, words of the message)
DETECTION_FILES_REFUSED = [
    ("truncated GeoJSON", _garbage_geojson, ["detections.geojson"]),
    ("binary garbage named .csv", _binary_csv, ["detections.csv", "activity.inputs.survey.encoding"]),
    ("spreadsheet", _unknown_suffix, ["detections.xlsx", "unknown suffix"]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("builder", "words"), [case[1:] for case in DETECTION_FILES_REFUSED],
                         ids=[case[0] for case in DETECTION_FILES_REFUSED])
def test_a_detections_file_that_cannot_be_read_is_refused_through_the_cli(tmp_path, builder, words):
    config = detections_config(tmp_path, GOOD)
    config.write_text(config.read_text().replace("detections.csv", builder(tmp_path)))
    assert_refused(mrumonitor("detect", "--config", str(config), cwd=tmp_path), *words)


@pytest.mark.slow
def test_a_detections_csv_in_latin_1_is_read_with_its_encoding(tmp_path):
    config = detections_config(tmp_path, GOOD, encoding="latin-1")
    table = pd.read_csv(tmp_path / "detections.csv").assign(site=["Kpévé", "Bô"])
    table.to_csv(tmp_path / "detections.csv", index=False, encoding="latin-1")
    result, _ = run_detect(config)
    assert len(result.sites.sites) == 2 and result.quarantine.empty


@pytest.mark.slow
def test_an_unknown_encoding_of_detections_is_refused_when_the_configuration_is_loaded(tmp_path):
    config = detections_config(tmp_path, GOOD, encoding="klingon")
    assert_refused(mrumonitor("detect", "--config", str(config), cwd=tmp_path), "klingon", "cp1252")


@pytest.mark.slow
def test_a_geopackage_of_detections_with_two_layers_needs_its_layer(tmp_path):
    points = gpd.GeoDataFrame({"area_ha": [500.0, 800.0]}, geometry=gpd.points_from_xy([-11.5, -11.0], [8.0, 9.0]),
                              crs=4326)
    points.iloc[:1].to_file(tmp_path / "d.gpkg", layer="old_survey")
    points.to_file(tmp_path / "d.gpkg", layer="survey_2025")
    block = f'[activity.inputs.survey]\nkind = "detections"\npath = "{tmp_path / "d.gpkg"}"\narea_ha = "area_ha"\n'
    with pytest.raises(MruError, match="old_survey.*survey_2025"):
        run_detect(detect_config(tmp_path, block, 1000.0))
    result, _ = run_detect(detect_config(tmp_path, block + 'layer = "survey_2025"\n', 1000.0))
    assert len(result.sites.sites) == 2


@pytest.mark.slow
def test_a_detections_file_with_no_usable_record_is_used_with_a_warning(tmp_path):
    result, warnings = run_detect(detections_config(tmp_path, [(9, None, None, 20.0, 0.9)]))
    assert result.sites.sites.empty and len(result.quarantine) == 1
    assert any("gives no usable detection (1 records, all quarantined)" in w.message for w in warnings)


@pytest.mark.slow
def test_a_detection_probability_sets_its_activity(tmp_path):
    config = detections_config(tmp_path, [(1, -11.5, 8.0, 900.0, 0.3), (2, -11.0, 9.0, 900.0, 0.8)])
    result, _ = run_detect(config)
    with rasterio.open(result.activity["P1"]) as dataset:
        assert sorted(set(np.unique(dataset.read(1))) - {0, 255}) == [30, 80]
    assert len(result.sites.sites) == 1  # 30 % is under the activity threshold (50)


@pytest.mark.slow
def test_a_probability_column_the_file_lacks_is_refused_naming_it(tmp_path):
    config = detections_config(tmp_path, [(1, -11.5, 8.0, 50.0)], probability=False)
    config.write_text(config.read_text().replace("area_ha = \"area_ha\"\n", 'area_ha = "area_ha"\nprobability = "p"\n'))
    assert_refused(mrumonitor("detect", "--config", str(config), cwd=tmp_path),
                   "detections.csv", "has no column 'p'", "activity.inputs.survey.probability")
