"""Sites from activity rasters: vectorising planted blobs, stable ids across periods and runs, countries.

Every raster is a 64 x 64 grid of 100 m pixels built here, so one pixel is exactly 1 ha. Rows count from the
top (row r spans y = 6400 - 100 (r + 1) .. 6400 - 100 r), columns from the left.
"""

from __future__ import annotations

import warnings

import dask
import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr
from geopandas.testing import assert_geodataframe_equal
from pyproj import CRS

from mrumonitor.raster.grid import Grid
from mrumonitor.raster.vectorise import _label_block, vectorise
from mrumonitor.schema import ACTIVITY_NODATA
from mrumonitor.sites import (
    SITE_COLUMNS,
    SITE_COUNTRY_AREA_COLUMNS,
    SITE_LINEAGE_COLUMNS,
    SITE_PERIOD_COLUMNS,
    SiteLayers,
    country_shares,
    track_sites,
)
from mrumonitor.sites.tracking import _new_ids

# GDAL's in-memory datasets warn spuriously when shapes() runs in dask worker threads.
pytestmark = [pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning"), pytest.mark.unit]

CRS_M = CRS.from_epsg(32629)
GRID = Grid(CRS_M, left=0.0, top=6400.0, resolution=100.0, width=64, height=64)
ON = 90


def raster(*blobs: tuple[slice, slice], value: int = ON, shape=(64, 64)) -> np.ndarray:
    """A uint8 activity raster, 0 everywhere except `value` in each (rows, cols) blob."""
    values = np.zeros(shape, np.uint8)
    for rows, cols in blobs:
        values[rows, cols] = value
    return values


def patches(values: np.ndarray, chunk: int = 16, connectivity: int = 8, min_area_ha: float = 0.0,
            threshold: int = 50, grid: Grid = GRID) -> gpd.GeoDataFrame:
    activity = xr.DataArray(da.from_array(values, chunks=chunk), dims=("y", "x"))
    return vectorise(activity, grid, threshold, min_area_ha, connectivity, chunk)


@pytest.fixture
def halves() -> gpd.GeoDataFrame:
    """Country AAA west of x = 3200 m (columns 0-31), BBB east of it, both over the whole grid."""
    return gpd.GeoDataFrame({"iso3": ["AAA", "BBB"]},
                            geometry=[shapely.box(0, 0, 3200, 6400), shapely.box(3200, 0, 6400, 6400)], crs=CRS_M)


def track(boundaries, *rasters: np.ndarray, previous: SiteLayers | None = None, first: int = 1) -> SiteLayers:
    by_period = {f"p{first + i}": patches(values) for i, values in enumerate(rasters)}
    return track_sites(by_period, boundaries, previous)


def site_of(layers: SiteLayers, period: str, row: int, col: int) -> str:
    """Id of the site whose footprint in `period` covers the centre of pixel (row, col)."""
    point = shapely.Point(GRID.left + 100 * col + 50, GRID.top - 100 * row - 50)
    rows = layers.site_periods[(layers.site_periods["period"] == period) & layers.site_periods.covers(point)]
    assert len(rows) == 1
    return rows["site_id"].iloc[0]


# --- vectorise --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("connectivity", [4, 8])
def test_planted_blobs_give_exact_patches_and_areas(connectivity):
    values = raster((slice(2, 7), slice(3, 9)), (slice(20, 30), slice(40, 42)), (slice(50, 53), slice(5, 8)))
    found = patches(values, connectivity=connectivity)
    assert sorted(found["area_ha"]) == [9.0, 20.0, 30.0]
    np.testing.assert_allclose(found.area / 10_000, found["area_ha"])
    assert found.crs == CRS_M and found.geometry.geom_type.eq("MultiPolygon").all()
    assert found.geometry.is_valid.all()
    first = found.geometry.iloc[0]
    assert first.equals(shapely.box(300, 6400 - 700, 900, 6400 - 200))


def test_patch_under_min_area_is_dropped_and_one_at_it_kept():
    values = raster((slice(2, 4), slice(2, 4)), (slice(10, 12), slice(10, 13)), (slice(30, 33), slice(30, 33)))
    found = patches(values, min_area_ha=6.0)
    assert sorted(found["area_ha"]) == [6.0, 9.0]


@pytest.mark.parametrize(("connectivity", "expected"), [(4, [9.0, 9.0]), (8, [18.0])])
def test_blobs_touching_by_a_corner_merge_only_with_connectivity_8(connectivity, expected):
    values = raster((slice(10, 13), slice(10, 13)), (slice(13, 16), slice(13, 16)))
    assert sorted(patches(values, connectivity=connectivity)["area_ha"]) == expected


@pytest.mark.parametrize("connectivity", [4, 8])
def test_diagonal_touch_across_a_block_corner(connectivity):
    # Pixel (15, 15) is the last of block (0, 0) at chunk 16, pixel (16, 16) the first of block (1, 1).
    values = raster((slice(12, 16), slice(12, 16)), (slice(16, 20), slice(16, 20)))
    found = patches(values, chunk=16, connectivity=connectivity)
    assert sorted(found["area_ha"]) == ([16.0, 16.0] if connectivity == 4 else [32.0])


@pytest.mark.parametrize("connectivity", [4, 8])
def test_blob_straddling_chunk_edges_is_one_patch(connectivity):
    # A ring around the corner where four 16-pixel blocks meet: it crosses every edge, twice.
    values = raster((slice(10, 22), slice(10, 22)))
    values[13:19, 13:19] = 0
    found = patches(values, chunk=16, connectivity=connectivity)
    assert found["area_ha"].tolist() == [144.0 - 36.0]
    assert len(shapely.get_interior_ring(found.geometry.iloc[0].geoms[0], 0).coords) == 5  # no seam vertices


def random_activity(shape=(64, 64), seed=3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = (rng.random(shape) < 0.45).astype(np.uint8) * ON
    values[rng.random(shape) < 0.05] = ACTIVITY_NODATA
    return values


@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("grid", [GRID, Grid(CRS_M, 500.0, 9100.0, 100.0, width=70, height=50)],
                         ids=["64x64", "ragged 50x70"])
def test_patches_identical_whatever_the_chunk_size(connectivity, grid):
    values = random_activity(grid.shape)
    results = [patches(values, chunk=chunk, connectivity=connectivity, min_area_ha=2.0, grid=grid)
               for chunk in (16, 32, 64, 7)]
    assert len(results[0]) > 20
    for other in results[1:]:
        assert_geodataframe_equal(other, results[0])
        assert (shapely.to_wkb(other.geometry.values) == shapely.to_wkb(results[0].geometry.values)).all()
    active = (values >= 50) & (values != ACTIVITY_NODATA)
    every = patches(values, chunk=16, connectivity=connectivity, grid=grid)
    assert every["area_ha"].sum() == active.sum()
    np.testing.assert_allclose(every.area / 10_000, every["area_ha"])
    assert every.geometry.is_valid.all()


def test_vectorising_in_threads_leaves_the_warnings_filters_as_they_were():
    values = random_activity()
    before = list(warnings.filters)
    with dask.config.set(scheduler="threads", num_workers=8):
        threaded = patches(values, chunk=8)
    assert warnings.filters == before
    with dask.config.set(scheduler="synchronous"):
        assert threaded.geometry.equals(patches(values, chunk=8).geometry)


def test_no_data_is_never_active_even_with_threshold_1():
    values = np.full((64, 64), ACTIVITY_NODATA, np.uint8)
    assert patches(values, threshold=1).empty
    values[10:13, 10:13] = 1  # active at threshold 1; the no-data all around must not join it
    assert patches(values, threshold=1)["area_ha"].tolist() == [9.0]
    assert patches(values, threshold=2).empty


def test_numpy_backed_activity_is_accepted():
    values = raster((slice(2, 5), slice(2, 5)))
    found = vectorise(xr.DataArray(values, dims=("y", "x")), GRID, 50, 0.0, 8, 16)
    assert found["area_ha"].tolist() == [9.0]


def test_activity_not_on_the_grid_is_refused():
    with pytest.raises(ValueError, match="shape"):
        patches(np.zeros((32, 64), np.uint8))


# --- tracking ---------------------------------------------------------------------------------------------

BLOB_A = (slice(10, 15), slice(5, 10))  # 25 ha in AAA


def test_layers_follow_the_schema(halves):
    layers = track(halves, raster(BLOB_A))
    assert list(layers.sites.columns) == [*SITE_COLUMNS, *SITE_LINEAGE_COLUMNS, "geometry"]
    assert list(layers.site_periods.columns) == [*SITE_PERIOD_COLUMNS, "geometry"]
    assert list(layers.site_country_areas.columns) == list(SITE_COUNTRY_AREA_COLUMNS)
    assert layers.sites.dtypes.drop("geometry").astype(str).to_dict() == {**SITE_COLUMNS, **SITE_LINEAGE_COLUMNS}
    assert layers.sites.crs == CRS_M and layers.sites["site_id"].str.startswith("MS-").all()


def test_growing_site_keeps_its_id(halves):
    grown = raster((slice(10, 18), slice(5, 12)))
    layers = track(halves, raster(BLOB_A), grown, raster(BLOB_A))
    assert len(layers.sites) == 1
    site = layers.sites.iloc[0]
    assert (site["first_seen"], site["last_seen"], site["periods_seen"]) == ("p1", "p3", 3)
    assert site[["area_ha", "max_area_ha", "country", "transboundary"]].tolist() == [25.0, 56.0, "AAA", False]
    assert layers.site_periods["area_ha"].tolist() == [25.0, 56.0, 25.0]


def test_new_blob_gets_a_new_id_first_seen_in_its_period(halves):
    layers = track(halves, raster(BLOB_A), raster(BLOB_A, (slice(40, 44), slice(40, 44))))
    new = site_of(layers, "p2", 41, 41)
    assert new != site_of(layers, "p2", 11, 6)
    row = layers.sites.set_index("site_id").loc[new]
    assert (row["first_seen"], row["last_seen"], row["area_ha"], row["country"]) == ("p2", "p2", 16.0, "BBB")


def test_site_missing_for_a_period_keeps_its_id(halves):
    cloudy = np.full((64, 64), ACTIVITY_NODATA, np.uint8)
    layers = track(halves, raster(BLOB_A), cloudy, raster(BLOB_A))
    assert len(layers.sites) == 1
    assert layers.sites[["first_seen", "last_seen", "periods_seen"]].iloc[0].tolist() == ["p1", "p3", 2]


SCENE = [raster(BLOB_A, (slice(30, 34), slice(30, 36))),
         raster((slice(10, 16), slice(5, 10)), (slice(30, 34), slice(30, 36)), (slice(50, 55), slice(50, 60))),
         raster((slice(10, 16), slice(5, 12)), (slice(50, 55), slice(45, 60)))]


def test_ids_are_identical_in_fresh_runs_and_with_the_previous_run(halves):
    first = track(halves, *SCENE)
    assert_layers_equal(track(halves, *SCENE), first)
    assert_layers_equal(track(halves, *SCENE, previous=first), first)


def test_ids_carry_over_through_layers_written_and_read_back(halves, tmp_path):
    first = track(halves, *SCENE)
    assert set(first.write(tmp_path)) == {"sites", "site_periods", "site_country_areas"}
    assert SiteLayers.exists(tmp_path) and not SiteLayers.exists(tmp_path / "none")
    assert_layers_equal(track(halves, *SCENE, previous=SiteLayers.read(tmp_path)), first)
    later = track(halves, SCENE[2], previous=SiteLayers.read(tmp_path), first=4)
    assert set(later.sites["site_id"]) == set(first.sites["site_id"])


def test_previous_run_is_kept_as_history_when_only_a_new_period_runs(halves):
    first = track(halves, *SCENE)
    later = track(halves, SCENE[2], previous=first, first=4)
    assert set(later.site_periods["period"]) == {"p1", "p2", "p3", "p4"}
    expected = first.sites.set_index("site_id")
    got = later.sites.set_index("site_id")
    assert got.index.tolist() == expected.index.tolist()
    assert (got["first_seen"] == expected["first_seen"]).all()
    alive = expected["last_seen"] == "p3"
    assert (got.loc[alive, "last_seen"] == "p4").all() and (got.loc[~alive, "last_seen"] == "p2").all()
    assert len(later.site_country_areas) == len(first.site_country_areas) + alive.sum()


def assert_layers_equal(got: SiteLayers, expected: SiteLayers) -> None:
    assert_geodataframe_equal(got.sites, expected.sites)
    assert_geodataframe_equal(got.site_periods, expected.site_periods)
    pd.testing.assert_frame_equal(got.site_country_areas, expected.site_country_areas)


def test_merging_sites_keep_the_larger_id(halves):
    big, small = (slice(10, 16), slice(10, 16)), (slice(10, 13), slice(18, 21))
    bridge = (slice(10, 13), slice(16, 18))
    layers = track(halves, raster(big, small), raster(big, small, bridge), raster(big, small, bridge))
    big_id, small_id = site_of(layers, "p1", 10, 10), site_of(layers, "p1", 10, 18)
    assert site_of(layers, "p2", 10, 18) == big_id == site_of(layers, "p3", 10, 18)
    sites = layers.sites.set_index("site_id")
    assert sites.loc[small_id, "merged_into"] == big_id and sites.loc[small_id, "last_seen"] == "p1"
    assert pd.isna(sites.loc[big_id, "merged_into"]) and sites.loc[big_id, "area_ha"] == 36 + 9 + 6


def test_a_merged_site_is_not_revived_in_a_later_run(halves):
    big, small = (slice(10, 16), slice(10, 16)), (slice(10, 13), slice(18, 21))
    first = track(halves, raster(big, small), raster(big, small, (slice(10, 13), slice(16, 18))))
    big_id, small_id = site_of(first, "p1", 10, 10), site_of(first, "p1", 10, 18)
    later = track(halves, raster(big, small), previous=first, first=3)  # apart again
    part = site_of(later, "p3", 10, 18)
    assert site_of(later, "p3", 10, 10) == big_id and part not in (big_id, small_id)
    sites = later.sites.set_index("site_id")
    assert sites.loc[part, "split_from"] == big_id and sites.loc[small_id, "merged_into"] == big_id


def test_a_rerun_on_slightly_changed_data_keeps_the_published_ids(halves):
    first = track(halves, *SCENE)
    shifted = [np.roll(values, 1, axis=1) for values in SCENE]
    again = track(halves, *shifted, previous=first)
    assert again.sites["site_id"].tolist() == first.sites["site_id"].tolist()
    assert again.sites["merged_into"].isna().all() and again.sites["split_from"].isna().all()


def test_split_site_keeps_its_id_on_the_largest_part(halves):
    whole = raster((slice(10, 15), slice(5, 25)))
    split = whole.copy()
    split[:, 19:21] = 0
    layers = track(halves, whole, split)
    old, large, part = site_of(layers, "p1", 10, 5), site_of(layers, "p2", 10, 5), site_of(layers, "p2", 10, 22)
    assert old == large != part
    sites = layers.sites.set_index("site_id")
    assert sites.loc[part, "split_from"] == old and sites.loc[part, "first_seen"] == "p2"
    assert sites.loc[large, "area_ha"] == 70.0 and sites.loc[part, "area_ha"] == 20.0


def test_hash_collisions_get_distinct_deterministic_ids(halves):
    ring = raster((slice(10, 21), slice(10, 21)))
    ring[12:19, 12:19] = 0
    ring[14:17, 14:17] = ON  # a blob in the ring's hole: same country, same centroid
    first, again = track(halves, ring), track(halves, ring)
    assert len(set(first.sites["site_id"])) == 2
    assert_layers_equal(again, first)
    taken = _new_ids(patches(raster(BLOB_A)), np.array(["AAA"]), set())
    assert _new_ids(patches(raster(BLOB_A)), np.array(["AAA"]), set(taken))[0] not in taken


def test_site_straddling_a_border_is_one_transboundary_site_split_exactly(halves):
    # Columns 29-35: 3 columns in AAA (29-31), 4 in BBB (32-35), rows 20-24.
    layers = track(halves, raster((slice(20, 25), slice(29, 36)), BLOB_A))
    sites = layers.sites.set_index("site_id")
    crossing = site_of(layers, "p1", 20, 29)
    assert len(sites) == 2
    assert sites.loc[crossing, ["country", "countries", "transboundary", "area_ha"]].tolist() == [
        "BBB", "AAA;BBB", True, 35.0]
    shares = layers.site_country_areas.set_index(["site_id", "country"])["area_ha"]
    assert shares[(crossing, "AAA")] == 15.0 and shares[(crossing, "BBB")] == 20.0
    by_country = layers.site_country_areas.groupby("country")["area_ha"].sum()
    assert by_country.to_dict() == {"AAA": 15.0 + 25.0, "BBB": 20.0}
    assert by_country.sum() == layers.site_periods["area_ha"].sum()


def test_part_outside_every_outline_is_kept_as_no_country():
    # AAA: the west half; BBB: the north-east quarter; the south-east quarter is "sea".
    boundaries = gpd.GeoDataFrame({"iso3": ["AAA", "BBB"]}, crs=CRS_M, geometry=[
        shapely.box(0, 0, 3200, 6400), shapely.box(3200, 3200, 6400, 6400)])
    layers = track(boundaries, raster((slice(30, 34), slice(40, 45)), (slice(50, 55), slice(50, 55))))
    shares = layers.site_country_areas.groupby(["site_id", "country"])["area_ha"].sum()
    coast, sea = site_of(layers, "p1", 30, 40), site_of(layers, "p1", 50, 50)
    assert shares[coast].to_dict() == {"": 10.0, "BBB": 10.0} and shares[sea].to_dict() == {"": 25.0}
    sites = layers.sites.set_index("site_id")
    assert sites.loc[coast, ["country", "countries", "transboundary"]].tolist() == ["BBB", "BBB", False]
    assert sites.loc[sea, ["country", "countries", "transboundary"]].tolist() == ["", "", False]


def test_country_shares_sum_to_the_area_on_a_ragged_border():
    border = shapely.Polygon([(0, 0), (3170, 0), (3230, 6400), (0, 6400)])
    east = shapely.box(0, 0, 6400, 6400).difference(border)
    boundaries = gpd.GeoDataFrame({"iso3": ["AAA", "BBB"]}, geometry=[border, east], crs=CRS_M)
    found = patches(random_activity(), min_area_ha=2.0)
    shares = country_shares(np.asarray(found.geometry), found["area_ha"].to_numpy(), boundaries)
    total = shares.groupby("item")["area_ha"].sum().to_numpy()
    np.testing.assert_allclose(total, found["area_ha"].to_numpy(), rtol=0, atol=1e-9)
    assert (shares["area_ha"] > 0).all() and not (shares["country"] == "").any()


def test_patches_in_another_crs_are_refused(halves):
    with pytest.raises(ValueError, match="analysis CRS"):
        track_sites({"p1": patches(raster(BLOB_A)).to_crs(4326)}, halves)


@pytest.mark.parametrize("periods", [{}, {"p1": raster()}], ids=["no period", "no patch"])
def test_periods_without_patches_give_empty_layers(halves, periods):
    empty = track_sites({name: patches(values) for name, values in periods.items()}, halves)
    assert empty.sites.empty and empty.site_periods.empty and empty.site_country_areas.empty
    assert list(empty.sites.columns) == [*SITE_COLUMNS, *SITE_LINEAGE_COLUMNS, "geometry"]


def test_no_new_period_gives_back_the_previous_layers(halves):
    first = track(halves, *SCENE)
    assert_layers_equal(track_sites({}, halves, previous=first), first)


def test_speckle_under_the_minimum_area_is_dropped_in_its_block_with_the_same_patches():
    grid = Grid(CRS.from_epsg(32629), 0.0, 0.0, 100.0, 300, 300)
    speckle = np.where(np.random.default_rng(11).random(grid.shape) < 0.08, ON, 0).astype("uint8")
    activity = xr.DataArray(da.from_array(speckle, chunks=64), dims=("y", "x"))
    everything = vectorise(activity, grid, 50, 0.0, 8, 64)
    kept = vectorise(activity, grid, 50, 3.0, 8, 64)  # 3 pixels of 1 ha
    expected = everything[everything["area_ha"] >= 3.0].reset_index(drop=True)
    assert_geodataframe_equal(kept, expected, check_less_precise=False)
    block = speckle[:64, :64]
    assert len(_label_block(block, 50, 8, 0, 0, 3.0).geoms) < len(_label_block(block, 50, 8, 0, 0, 0.0).geoms) / 2
