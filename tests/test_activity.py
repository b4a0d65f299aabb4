"""Activity layers on the common grid: detections, probability and class rasters, landing, combining,
bad raster inputs, the regional grid and the demo's per-period detections. All data is made here."""

from __future__ import annotations

import itertools
import json
import warnings

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.shutil
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin
from rasterio.warp import transform_bounds

from mrumonitor.config import ActivityInput, load_settings
from mrumonitor.errors import ConfigError, InputFileError, MissingCRSError
from mrumonitor.raster import warp
from mrumonitor.raster.activity import (
    combine,
    detection_footprints,
    input_activity,
    land_on_grid,
    on_grid,
    rasterize_detections,
    warp_classes,
    warp_probability,
)
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.region import area_grid, regional_grid
from mrumonitor.raster.testing import write_sparse_raster

pytestmark = pytest.mark.unit

#: The test grid: 100 x 90 pixels of 100 m near the origin of the analysis CRS (about 8.8 W, 8.5 N).
GRID_BOUNDS = (0.0, 0.0, 10_000.0, 9_000.0)


@pytest.fixture(scope="module")
def crs():
    return load_settings().analysis_crs


@pytest.fixture(scope="module")
def grid(crs) -> Grid:
    return Grid.covering(GRID_BOUNDS, crs, 100.0)


def pixel_centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    x, y = grid.coords()
    return np.meshgrid(x, y)


def write_raster(path, array, crs, transform, nodata=None, **options):
    """A single-band GeoTIFF of `array` (2-D) or a multi-band one (3-D)."""
    array = array[None] if array.ndim == 2 else array
    with rasterio.open(path, "w", driver="GTiff", width=array.shape[2], height=array.shape[1], count=array.shape[0],
                       dtype=array.dtype, crs=crs, transform=transform, nodata=nodata, **options) as dataset:
        dataset.write(array)
    return path


def covering_source(grid: Grid, crs, resolution: float, margin: int = 5):
    """Transform and shape of a raster in `crs` at `resolution` covering `grid` with a margin of pixels."""
    west, south, east, north = transform_bounds(grid.crs, crs, *grid.bounds, densify_pts=21)
    transform = from_origin(west - margin * resolution, north + margin * resolution, resolution, resolution)
    shape = (int((north - south) / resolution) + 2 * margin, int((east - west) / resolution) + 2 * margin)
    return transform, shape


# --- detections ------------------------------------------------------------------------------------------

BOXES = [shapely.box(1000, 2000, 2000, 2500),  # 10 x 5 pixels, edges on pixel edges: 50 ha exactly
         shapely.box(5000, 5000, 5300, 5300)]  # 3 x 3 = 9 ha


def footprints(crs, geoms=None):
    import geopandas as gpd
    geoms = BOXES + [shapely.Point(7040, 3020).buffer(420)] if geoms is None else geoms
    return gpd.GeoDataFrame({"det_id": range(len(geoms))}, geometry=geoms, crs=crs)


def test_footprints_rasterise_to_the_pixels_whose_centres_they_hold(crs, grid):
    frame = footprints(crs)
    activity = rasterize_detections(frame, grid, chunk=32)
    assert isinstance(activity.data, da.Array) and activity.dtype == np.uint8
    values = activity.values
    assert set(np.unique(values)) == {0, 100}  # outside every footprint: observed, no activity (not 255)
    x, y = pixel_centres(grid)
    expected = shapely.contains_xy(shapely.union_all(frame.geometry.to_numpy()), x, y)
    np.testing.assert_array_equal(values == 100, expected)
    inside_boxes = shapely.contains_xy(shapely.union_all(BOXES), x, y)
    assert (values[inside_boxes] == 100).sum() * grid.pixel_area_ha == 59.0  # 50 + 9 ha exactly


def test_footprints_in_another_crs_are_transformed(crs, grid):
    in_wgs84 = footprints(crs).to_crs(4326)
    np.testing.assert_array_equal(rasterize_detections(in_wgs84, grid, 64).values,
                                  rasterize_detections(footprints(crs), grid, 64).values)


def write_points_csv(path, rows):
    pd.DataFrame(rows, columns=["det_id", "lon", "lat", "area_ha"]).to_csv(path, index=False)
    return path


POINTS_SPEC = ActivityInput(kind="detections", path="unused", x="lon", y="lat", area_ha="area_ha", crs="EPSG:4326")


def lonlat_of(crs, x, y):
    return Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)


def test_detection_points_become_footprints_of_their_area(tmp_path, crs, grid):
    lon1, lat1 = lonlat_of(crs, 2550.0, 6550.0)
    lon2, lat2 = lonlat_of(crs, 7000.0, 2000.0)
    path = write_points_csv(tmp_path / "d.csv", [[1, lon1, lat1, 12.5], [2, lon2, lat2, 3.0]])
    found, quarantine = detection_footprints(path, POINTS_SPEC, crs)
    assert len(quarantine) == 0 and list(found["det_id"]) == ["1", "2"]
    np.testing.assert_allclose(found["footprint_ha"], [12.5, 3.0], rtol=1e-9)
    np.testing.assert_allclose(found.area / 10_000, [12.5, 3.0], rtol=1e-9)
    centres = found.geometry.centroid
    np.testing.assert_allclose(np.c_[centres.x, centres.y], [[2550, 6550], [7000, 2000]], atol=1e-6)
    pixels = (rasterize_detections(found, grid, 64).values == 100).sum()
    assert abs(pixels * grid.pixel_area_ha - 15.5) <= 3  # a 100 m grid draws a 12.5 ha disc to within a few pixels


def test_bad_detection_records_go_to_quarantine_with_file_row_and_reason(tmp_path, crs):
    lon, lat = lonlat_of(crs, 5000.0, 5000.0)
    rows = [[1, lon, lat, 4.0], [2, lon, lat, 0], [3, "", "", 5.0], [4, lon, lat, -2], [5, "abc", lat, 1.0],
            [6, lon, lat, ""], [7, lon, 200.0, 1.0], [8, lon, lat, 1.5]]
    path = write_points_csv(tmp_path / "d.csv", rows)
    found, quarantine = detection_footprints(path, POINTS_SPEC, crs, source_name="earth_index")
    assert list(found["det_id"]) == ["1", "8"] and list(found["source_row"]) == [1, 8]
    by_row = quarantine.set_index("source_row")
    assert by_row["reason"].to_dict() == {2: "invalid_area", 3: "empty_geometry", 4: "invalid_area",
                                          5: "unparseable_geometry", 6: "invalid_area", 7: "invalid_geometry"}
    assert (quarantine["source_file"] == str(path)).all() and (quarantine["layer"] == "detections").all()
    assert (quarantine["source_name"] == "earth_index").all()
    assert "area_ha is '0'" in by_row.loc[2, "detail"]
    assert json.loads(by_row.loc[4, "attributes"])["det_id"] == "4"


def test_polygon_detections_are_kept_as_they_are_and_lines_quarantined(tmp_path, crs):
    polygons = footprints(crs, BOXES + [shapely.LineString([(0, 0), (500, 500)])]).to_crs(4326)
    polygons.to_file(tmp_path / "d.geojson")
    spec = ActivityInput(kind="detections", path="unused")
    found, quarantine = detection_footprints(tmp_path / "d.geojson", spec, crs)
    np.testing.assert_allclose(found.area, [b.area for b in BOXES], rtol=1e-6)
    assert quarantine[["source_row", "reason"]].values.tolist() == [[3, "not_polygon"]]


def test_csv_detections_without_a_crs_fail_naming_the_file_and_the_key(tmp_path, crs):
    path = write_points_csv(tmp_path / "d.csv", [[1, -8.8, 8.5, 1.0]])
    spec = POINTS_SPEC.model_copy(update={"crs": None})
    with pytest.raises(MissingCRSError, match=r"d\.csv.*activity\.inputs\.earth_index\.crs"):
        detection_footprints(path, spec, crs, source_name="earth_index")


def test_input_activity_reads_the_file_of_the_period(tmp_path, crs, grid):
    lon, lat = lonlat_of(crs, 5000.0, 5000.0)
    write_points_csv(tmp_path / "d_2025H2.csv", [[1, lon, lat, 4.0], [2, lon, lat, 0]])
    spec = POINTS_SPEC.model_copy(update={"path": str(tmp_path / "d_{period}.csv")})
    activity, quarantine = input_activity("earth_index", spec, "2025H2", grid, 64)
    assert (activity.values == 100).sum() > 0 and len(quarantine) == 1
    scenes = ActivityInput(kind="scenes", path=str(tmp_path), bounds=(-9, 8, -8, 9))
    with pytest.raises(ConfigError, match="built-in detector"):
        input_activity("s2", scenes, "2025H2", grid, 64)


# --- probability and class rasters -----------------------------------------------------------------------

BLOB_CENTRE = (3050.0, 5950.0)  # grid coordinates (a pixel centre)
BLOB_RADIUS = 800.0


def blob_raster(path, grid: Grid, crs, resolution, value=0.8, nodata=None):
    """A raster in `crs` covering `grid` with a disc of `value` (radius BLOB_RADIUS in grid metres), 0 around."""
    transform, shape = covering_source(grid, crs, resolution)
    cols, rows = np.meshgrid(np.arange(shape[1]) + 0.5, np.arange(shape[0]) + 0.5)
    sx, sy = transform @ (cols, rows)
    gx, gy = Transformer.from_crs(crs, grid.crs, always_xy=True).transform(sx, sy)
    disc = np.hypot(gx - BLOB_CENTRE[0], gy - BLOB_CENTRE[1]) < BLOB_RADIUS
    return write_raster(path, np.where(disc, value, 0).astype("float32"), crs, transform, nodata=nodata)


@pytest.mark.parametrize("source_crs, resolution", [
    ("EPSG:4326", 0.0003),  # geographic, ~33 m: finer than the grid (average)
    ("EPSG:32629", 30.0),  # UTM 29N, finer (average)
    ("EPSG:32629", 250.0),  # UTM 29N, coarser (bilinear)
])
@pytest.mark.parametrize("value, scale", [(0.8, 1.0), (80.0, 100.0)])
def test_probability_in_another_crs_and_resolution_lands_where_it_should(tmp_path, grid, source_crs, resolution,
                                                                         value, scale):
    path = blob_raster(tmp_path / "p.tif", grid, source_crs, resolution, value=value)
    values = warp_probability(path, grid, 32, scale=scale).values.astype(float)
    assert values.max() == 80 and values.min() == 0
    x, y = pixel_centres(grid)
    centroid = np.array([(x * values).sum(), (y * values).sum()]) / values.sum()
    assert np.hypot(*(centroid - BLOB_CENTRE)) < grid.resolution
    assert values[np.hypot(x - BLOB_CENTRE[0], y - BLOB_CENTRE[1]) < BLOB_RADIUS - 300].min() == 80


def test_source_nodata_becomes_255_and_zero_stays_zero(tmp_path, crs, grid):
    # the source covers only the top-left 60 x 50 pixels of the grid: the rest is "not observed" (255)
    source = np.zeros((50, 60), dtype="float32")
    source[10:20, 10:20] = -1  # nodata
    source[30:40, 30:40] = 0.5
    source[0, :] = np.nan
    path = write_raster(tmp_path / "p.tif", source, crs, grid.transform, nodata=-1)
    values = warp_probability(path, grid, 16).values
    expected = np.full(grid.shape, 255, dtype=np.uint8)
    expected[:50, :60] = np.where(source == -1, 255, np.where(np.isnan(source), 255, source * 100))
    np.testing.assert_array_equal(values, expected)


def test_a_source_beside_the_grid_gives_no_data_everywhere(tmp_path, crs, grid):
    path = write_raster(tmp_path / "p.tif", np.ones((20, 20), dtype="float32"), crs,
                        from_origin(grid.left + 50_000, grid.top, 100.0, 100.0))
    assert (warp_probability(path, grid, 64).values == 255).all()


def test_percent_rasters_with_uint8_nodata(tmp_path, crs, grid):
    source = np.array([[0, 37, 100, 255]] * 3, dtype="uint8")
    path = write_raster(tmp_path / "p.tif", source, crs, grid.transform, nodata=255)
    assert warp_probability(path, grid, 64, scale=100).values[:3, :4].tolist() == [[0, 37, 100, 255]] * 3


def test_classes_become_the_share_of_active_pixels_per_cell(tmp_path, crs, grid):
    rng = np.random.default_rng(3)
    fine = rng.choice(np.array([1, 2, 3, 7], dtype="uint8"), size=(grid.height * 5, grid.width * 5))
    fine[:5, :5] = 0  # a whole cell of nodata -> 255
    fine[5:10, 5:10][0, :] = 0  # 5 of 25 pixels nodata -> share of the 20 valid ones
    path = write_raster(tmp_path / "c.tif", fine, crs, from_origin(grid.left, grid.top, 20.0, 20.0), nodata=0)
    values = warp_classes(path, grid, 32, active_classes=[3, 7]).values
    cells = fine.reshape(grid.height, 5, grid.width, 5)
    active = np.isin(cells, [3, 7]).sum(axis=(1, 3))
    valid = (cells != 0).sum(axis=(1, 3))
    expected = np.where(valid > 0, np.floor(100 * active / np.maximum(valid, 1) + 0.5), 255)
    np.testing.assert_array_equal(values, expected)
    assert values[0, 0] == 255 and valid[1, 1] == 20


@pytest.mark.slow
@pytest.mark.parametrize("read_side", [64, 4096])
def test_a_much_finer_source_is_averaged_in_bounded_pieces(tmp_path, crs, grid, monkeypatch, read_side):
    # 5 m classes on the 100 m grid: averaged into 20 m cells (factor 4 x 4), read in pieces of at most read_side²
    monkeypatch.setattr(warp, "READ_SIDE", read_side)
    fine = np.random.default_rng(4).choice(np.array([1, 3], dtype="uint8"), size=(grid.height * 20, grid.width * 20))
    path = write_raster(tmp_path / "c.tif", fine, crs, from_origin(grid.left, grid.top, 5.0, 5.0))
    reads, read_checked = [], warp.read_checked
    monkeypatch.setattr(warp, "read_checked", lambda *a, window, **k: reads.append(window) or read_checked(
        *a, window=window, **k))
    values = warp_classes(path, grid, 32, active_classes=[3]).values.astype(int)
    share = np.isin(fine, [3]).reshape(grid.height, 20, grid.width, 20).mean(axis=(1, 3))
    assert np.abs(values - np.floor(100 * share + 0.5)).max() <= 1  # the share of active pixels, to rounding
    assert max(max(w.width, w.height) for w in reads) <= read_side


@pytest.mark.slow
@pytest.mark.parametrize("nodata", [None, 255])
def test_unwritten_blocks_of_a_sparse_raster_are_not_read_and_give_what_reading_gives(tmp_path, crs, grid, monkeypatch,
                                                                                      nodata):
    bounds = transform_bounds(grid.crs, "EPSG:4326", *grid.bounds)
    sparse = write_sparse_raster(tmp_path / "sparse.tif", 4096, bounds, "EPSG:4326", [(1500, 2000, 200, 90)],
                                 nodata=nodata)
    with rasterio.open(sparse) as dataset:
        profile = {**dataset.profile, "sparse_ok": False}
        dense = tmp_path / "dense.tif"
        with rasterio.open(dense, "w", **profile) as out:
            out.write(dataset.read())
    monkeypatch.setattr(warp, "READ_SIDE", 512)
    reads, read_checked = [], warp.read_checked
    monkeypatch.setattr(warp, "read_checked", lambda *a, **k: reads.append(1) or read_checked(*a, **k))
    from_dense = warp_probability(dense, grid, 64, scale=100).values
    dense_reads = len(reads)
    from_sparse = warp_probability(sparse, grid, 64, scale=100).values
    np.testing.assert_array_equal(from_sparse, from_dense)
    assert (from_sparse == 90).any() and len(reads) - dense_reads < dense_reads / 4


def test_coarser_classes_take_the_nearest_class(tmp_path, crs, grid):
    coarse = np.tile(np.array([[3, 1], [1, 3]], dtype="uint8"), (grid.height // 4 + 1, grid.width // 4 + 1))
    path = write_raster(tmp_path / "c.tif", coarse, crs, from_origin(grid.left, grid.top, 200.0, 200.0))
    values = warp_classes(path, grid, 64, active_classes=[3]).values
    expected = np.kron(np.isin(coarse, [3]), np.ones((2, 2), dtype=bool))[:grid.height, :grid.width] * 100
    np.testing.assert_array_equal(values, expected)


def test_a_raster_without_crs_is_warped_when_a_crs_is_assumed(tmp_path, crs, grid):
    path = write_raster(tmp_path / "p.tif", np.full((10, 10), 0.25, dtype="float32"), None, grid.transform)
    with pytest.raises(MissingCRSError, match=r"p\.tif.*no CRS"):
        warp_probability(path, grid, 64)
    assert (warp_probability(path, grid, 64, crs=crs).values[:10, :10] == 25).all()


@pytest.mark.slow
def test_warping_in_threads_leaves_the_warnings_filters_as_they_were(tmp_path, crs):
    # rasterio's reproject of arrays sets a process-wide "ignore" filter per call; dask threads left one behind
    grid = Grid.covering((0.0, 0.0, 51_200.0, 51_200.0), crs, 100.0)  # 2 x 2 warp tiles
    classes = np.random.default_rng(7).integers(0, 4, size=(1024, 1024)).astype("uint8")
    path = write_raster(tmp_path / "c.tif", classes, crs, from_origin(grid.left, grid.top, 50.0, 50.0), nodata=0)
    layer = warp_classes(path, grid, 64, [2, 3])
    before = list(warnings.filters)
    with dask.config.set(scheduler="threads", num_workers=8):
        values = layer.values
    assert warnings.filters == before
    np.testing.assert_array_equal(values, layer.compute(scheduler="synchronous").values)


def test_rasterising_in_threads_leaves_the_warnings_filters_as_they_were(crs, grid):
    layer = rasterize_detections(footprints(crs), grid, 16)
    before = list(warnings.filters)
    with dask.config.set(scheduler="threads", num_workers=8):
        values = layer.values
    assert warnings.filters == before
    np.testing.assert_array_equal(values, layer.compute(scheduler="synchronous").values)


# --- the same result whatever the chunk size ---------------------------------------------------------------


def _layers(tmp_path, crs, grid):
    blob = blob_raster(tmp_path / "p.tif", grid, "EPSG:4326", 0.0003)
    classes = np.random.default_rng(5).integers(0, 4, size=(grid.height * 3 + 7, grid.width * 3 + 7)).astype("uint8")
    classes_path = write_raster(tmp_path / "c.tif", classes, "EPSG:32629",
                                covering_source(grid, "EPSG:32629", 30.0)[0], nodata=0)
    fine_grid, fine = _fine_layer(grid)
    return {
        "detections": lambda chunk: rasterize_detections(footprints(crs), grid, chunk),
        "probability": lambda chunk: warp_probability(blob, grid, chunk),
        "classes": lambda chunk: warp_classes(classes_path, grid, chunk, [2, 3]),
        "landed": lambda chunk: land_on_grid(on_grid(da.from_array(fine, chunks=chunk), fine_grid), fine_grid, grid),
    }


@pytest.mark.parametrize("kind", ["detections", "probability", "classes", "landed"])
def test_chunk_size_does_not_change_the_result(tmp_path, crs, grid, kind):
    build = _layers(tmp_path, crs, grid)[kind]
    small, large = build(16), build(64)
    assert small.data.chunksize == (16, 16) and large.data.chunksize == (64, 64)
    np.testing.assert_array_equal(small.values, large.values)
    assert small.dtype == np.uint8


# --- landing a fine layer and combining layers -------------------------------------------------------------


def _fine_layer(grid: Grid):
    """A 20 m layer over part of `grid`, starting mid-cell and running past its right edge."""
    fine_grid = Grid.covering((1_040.0, 2_020.0, 10_500.0, 6_000.0), grid.crs, 20.0)
    rng = np.random.default_rng(11)
    fine = rng.choice(np.array([0, 0, 40, 100, 255], dtype=np.uint8), size=fine_grid.shape)
    return fine_grid, fine


def test_land_on_grid_averages_the_valid_fine_pixels(grid):
    fine_grid, fine = _fine_layer(grid)
    fine[:, :] = np.where(fine == 255, 0, fine)
    fine[10:15, 3:8] = 255  # one whole coarse cell of no data (fine grid starts 2 px into a 100 m cell)
    landed = land_on_grid(on_grid(da.from_array(fine, chunks=50), fine_grid), fine_grid, grid, chunk=32)
    assert landed.data.chunksize == (32, 32)
    values = landed.values
    # expected: pad the fine layer to whole cells with 255, then mean of the valid values per cell
    col0, row0 = round((fine_grid.left - grid.left) / 20), round((grid.top - fine_grid.top) / 20)
    canvas = np.full((grid.height * 5, grid.width * 5 + 50), 255, dtype=np.int64)
    canvas[row0:row0 + fine_grid.height, col0:col0 + fine_grid.width] = fine
    cells = canvas[:, : grid.width * 5].reshape(grid.height, 5, grid.width, 5)
    valid = cells != 255
    total = np.where(valid, cells, 0).sum(axis=(1, 3))
    count = valid.sum(axis=(1, 3))
    expected = np.where(count > 0, np.floor(total / np.maximum(count, 1) + 0.5), 255)
    np.testing.assert_array_equal(values, expected)
    assert values[(row0 + 10) // 5, (col0 + 3) // 5] == 255  # all fine pixels no data
    assert (values[:row0 // 5, :] == 255).all() and (values[:, : col0 // 5] == 255).all()  # outside the area
    assert values[(row0 + 20) // 5, (col0 + 20) // 5] <= 100


def test_land_on_grid_refuses_a_grid_that_does_not_nest(grid):
    odd = Grid(grid.crs, 7.0, grid.top, 30.0, 10, 10)
    with pytest.raises(ValueError, match="does not nest"):
        land_on_grid(on_grid(da.zeros((10, 10), dtype=np.uint8, chunks=5), odd), odd, grid)


@pytest.mark.parametrize("inputs, expected", [
    ((0, 255), 0),
    ((255, 255), 255),
    ((30, 70), 70),
    ((255, 40), 40),
    ((100, 0), 100),
    ((255, 0, 20), 20),
    ((255, 255, 255), 255),
])
def test_combine_takes_the_highest_value_among_layers_with_data(grid, inputs, expected):
    layers = [on_grid(da.full(grid.shape, value, dtype=np.uint8, chunks=32), grid) for value in inputs]
    combined = combine(layers)
    assert combined.dtype == np.uint8 and isinstance(combined.data, da.Array)
    assert (combined.values == expected).all()


def test_combine_refuses_layers_on_different_grids(grid):
    other = Grid(grid.crs, grid.left + 100, grid.top, grid.resolution, grid.width, grid.height)
    layers = [on_grid(da.zeros(grid.shape, dtype=np.uint8), g) for g in (grid, other)]
    with pytest.raises(ValueError):
        combine(layers)


# --- bad raster inputs --------------------------------------------------------------------------------------


def _garbage(path, crs, grid):
    path.write_bytes(np.random.default_rng(0).bytes(4096))


def _garbage_after_tiff_header(path, crs, grid):
    path.write_bytes(b"II*\x00" + np.random.default_rng(0).bytes(4096))


def _no_crs(path, crs, grid):
    write_raster(path, np.zeros((10, 10), dtype="float32"), None, grid.transform)


def _renamed_vrt(path, crs, grid):
    target = write_raster(path.with_name("elsewhere.tif"), np.ones((10, 10), dtype="float32"), crs, grid.transform)
    path.write_text(f"""<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand dataType="Float32" band="1">
<SimpleSource><SourceFilename relativeToVRT="0">{target}</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
</VRTRasterBand></VRTDataset>""")


def _two_bands(path, crs, grid):
    write_raster(path, np.zeros((2, 10, 10), dtype="float32"), crs, grid.transform)


@pytest.mark.parametrize("make, message", [
    (_garbage, "not a GeoTIFF"),
    (_garbage_after_tiff_header, "not a readable GeoTIFF"),
    (_no_crs, "no CRS"),
    (_renamed_vrt, "not a GeoTIFF"),
    (_two_bands, "2 bands, 1 expected"),
])
@pytest.mark.parametrize("warp", [
    lambda path, grid: warp_probability(path, grid, 64),
    lambda path, grid: warp_classes(path, grid, 64, [1]),
], ids=["probability", "classes"])
def test_bad_rasters_fail_naming_the_file(tmp_path, crs, grid, make, message, warp):
    path = tmp_path / "input.tif"
    make(path, crs, grid)
    with pytest.raises(InputFileError, match=rf"input\.tif: .*{message}"):
        warp(path, grid)


def test_a_truncated_geotiff_opens_but_fails_naming_the_file_when_read(tmp_path, crs, grid):
    noise = np.random.default_rng(2).random((1024, 1024), dtype="float32")  # incompressible: data to the end
    whole = write_raster(tmp_path / "whole.tif", noise, crs, from_origin(grid.left, grid.top, 10.0, 10.0),
                         tiled=True, blockxsize=256, blockysize=256)
    path = tmp_path / "cut.tif"
    rasterio.shutil.copy(whole, path, driver="COG", blocksize=256)  # header first, blocks after it
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    activity = warp_probability(path, grid, 64)  # opening and checking the header succeed
    with pytest.raises(InputFileError, match=r"cut\.tif: is damaged or truncated"):
        activity.compute()


# --- grids --------------------------------------------------------------------------------------------------


def test_regional_grid_covers_the_project_countries_and_the_margin():
    from mrumonitor.reference import load_boundaries

    settings = load_settings()
    grid = regional_grid(settings)
    outlines = load_boundaries(settings.paths.reference, settings.analysis_crs)
    minx, miny, maxx, maxy = outlines[outlines["iso3"].isin(settings.project.countries)].total_bounds
    margin = settings.raster.margin_km * 1000
    left, bottom, right, top = grid.bounds
    assert grid.crs == settings.analysis_crs and grid.resolution == settings.raster.resolution_m
    assert left <= minx - margin < left + grid.resolution and top - grid.resolution < maxy + margin <= top
    assert right - grid.resolution < maxx + margin <= right and bottom <= miny - margin < bottom + grid.resolution


def test_area_grid_covers_the_box_and_nests_in_the_regional_grid(crs):
    fine = area_grid((-11.1, 8.5, -10.8, 8.8), 20.0, crs)
    corners = Transformer.from_crs(4326, crs, always_xy=True).transform([-11.1, -10.8, -11.1, -10.8],
                                                                        [8.5, 8.5, 8.8, 8.8])
    left, bottom, right, top = fine.bounds
    assert left <= min(corners[0]) and max(corners[0]) <= right and bottom <= min(corners[1])
    assert max(corners[1]) <= top and top - max(corners[1]) < 20 + 1e-6
    assert fine.left % 20 == 0 and fine.top % 20 == 0  # on the lattice of every grid whose resolution 20 divides
    with pytest.raises(ValueError, match="west < east"):
        area_grid((-10.8, 8.5, -11.1, 8.8), 20.0, crs)


# --- the demo's detections over periods ---------------------------------------------------------------------


def test_demo_activity_grows_real_detections_over_the_periods(tmp_path):
    from mrumonitor.demo.activity import write_demo_activity
    from mrumonitor.demo.detections import load_detections

    workdir = tmp_path / "demo"
    result = write_demo_activity(workdir / "inputs" / "activity", seed=2026)
    again = write_demo_activity(tmp_path / "again", seed=2026)
    names = [period["name"] for period in result["periods"]]
    assert names == ["2023H2", "2024H2", "2025H2", "2026H1"] and result["baseline"] == "2023H2"
    tables = {name: pd.read_csv(result["files"][name]) for name in names}
    assert all(result["files"][n].read_bytes() == again["files"][n].read_bytes() for n in names)
    real = load_detections().set_index("det_id")
    last = tables["2026H1"].set_index("det_id")
    assert len(last) == len(real) and np.allclose(last["area_ha"], real.loc[last.index, "area_ha"])
    for earlier, later in itertools.pairwise(names):  # sites appear and grow, never vanish
        before, after = tables[earlier].set_index("det_id"), tables[later].set_index("det_id")
        assert set(before.index) < set(after.index)
        assert (after.loc[before.index, "area_ha"] >= before["area_ha"]).all()
    assert (tables["2023H2"]["area_ha"] > 0).all()
    readme = result["readme"].read_text()
    assert "SYNTHETIC" in readme and "REAL" in readme and "CC BY 4.0" in readme

    config = workdir / "mrumonitor.toml"
    config.write_text('[paths]\nwork = "work"\nstore = "layers"\n' + result["config"], encoding="utf-8")
    settings = load_settings(config)
    assert [p.name for p in settings.activity.periods] == names and settings.activity.baseline == "2023H2"
    spec = settings.activity.inputs["earth_index"]
    found, quarantine = detection_footprints(spec.path.replace("{period}", "2024H2"), spec, settings.analysis_crs)
    assert len(found) == len(tables["2024H2"]) and len(quarantine) == 0
