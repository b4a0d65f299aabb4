"""The detect stage end to end on inputs the test writes: detections over two periods -> COGs -> sites."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import rasterio
import shapely
from conftest import write_config
from pyproj import CRS

from mrumonitor.config import load_settings
from mrumonitor.errors import ConfigError, InputFileError, ReferenceDataError
from mrumonitor.raster.run import detect
from mrumonitor.reference import load_borders, load_boundaries

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PERIODS = """
[activity]
periods = [{ name = "P1", start = 2025-01-01, end = 2025-06-30 },
           { name = "P2", start = 2025-07-01, end = 2025-12-31 }]
[activity.inputs.survey]
kind = "detections"
path = "detections_{period}.csv"
x = "lon"
y = "lat"
area_ha = "area_ha"
crs = "EPSG:4326"
[raster]
resolution_m = 500.0
[sites]
min_area_ha = 50.0
"""


@pytest.fixture(scope="module")
def border_point():
    """A point on the Sierra Leone - Guinea border line, in lon/lat."""
    borders = load_borders(load_settings().paths.reference, 4326)
    line = borders.set_index("pair").geometry["GIN-SLE"]
    return line.interpolate(0.5, normalized=True)


def _write_detections(folder, rows_by_period):
    for period, rows in rows_by_period.items():
        pd.DataFrame(rows, columns=["det_id", "lon", "lat", "area_ha"]).to_csv(folder / f"detections_{period}.csv",
                                                                             index=False)


@pytest.fixture
def run(tmp_path, border_point):
    """Two periods: a site inland in Sierra Leone that grows, a transboundary one, a new one in P2, a bad row."""
    inland = (-11.0, 8.6)
    _write_detections(tmp_path, {
        "P1": [(1, *inland, 100.0), (2, border_point.x, border_point.y, 400.0)],
        "P2": [(1, *inland, 300.0), (2, border_point.x, border_point.y, 400.0), (3, -9.47, 7.0, 200.0),
               (4, "", 8.0, 100.0)],
    })
    settings = load_settings(write_config(tmp_path, '[paths]\nwork = "work"\n' + PERIODS))
    return settings, detect(settings)


def test_one_activity_cog_per_period_with_its_metadata(run):
    settings, result = run
    assert list(result.activity) == ["P1", "P2"]
    with rasterio.open(result.activity["P2"]) as cog:
        assert cog.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG" and cog.overviews(1)
        assert cog.nodata == 255 and cog.dtypes[0] == "uint8"
        assert cog.res == (500.0, 500.0)
        assert CRS.from_user_input(cog.crs).equals(settings.analysis_crs, ignore_axis_order=True)
        tags = cog.tags()
        assert (tags["PERIOD"], tags["PERIOD_START"], tags["PERIOD_END"]) == ("P2", "2025-07-01", "2025-12-31")
        assert "survey (detections)" in tags["SOURCE"]


def test_sites_keep_ids_grow_and_straddle_the_border(run):
    _, result = run
    assert len(result.sites.sites) == 3
    periods = result.sites.site_periods
    grown = periods.groupby("site_id")["area_ha"].apply(list)
    assert any(len(a) == 2 and a[1] > 2 * a[0] for a in grown)  # the inland site kept its id and grew
    new = result.sites.sites.query("first_seen == 'P2'")
    assert len(new) == 1 and new["country"].iloc[0] == "LBR"
    cross = result.sites.sites.query("transboundary")
    assert len(cross) == 1 and cross["countries"].iloc[0] == "GIN;SLE"
    shares = result.sites.site_country_areas.query("site_id == @cross.site_id.iloc[0] and period == 'P2'")
    assert set(shares["country"]) == {"GIN", "SLE"}
    assert shares["area_ha"].sum() == pytest.approx(cross["area_ha"].iloc[0])


def test_bad_detection_rows_are_quarantined_not_dropped(run):
    _, result = run
    assert result.quarantine[["source_row", "reason"]].values.tolist() == [[4, "unparseable_geometry"]]


def test_a_second_run_gives_the_same_site_ids(run):
    settings, first = run
    second = detect(settings)
    pd.testing.assert_frame_equal(first.sites.sites.drop(columns="geometry"),
                                  second.sites.sites.drop(columns="geometry"))


def test_detect_takes_the_outlines_it_is_given_and_reads_none(run, tmp_path):
    """The pipeline hands detect the run's outlines: given them, detect never opens paths.reference."""
    settings, first = run
    outlines = load_boundaries(settings.paths.reference, settings.analysis_crs)
    nowhere = settings.model_copy(update={"paths": settings.paths.model_copy(update={"reference": tmp_path / "none"})})
    with pytest.raises(ReferenceDataError):
        detect(nowhere, out=tmp_path / "without")
    again = detect(nowhere, out=tmp_path / "with", boundaries=outlines)
    assert list(again.activity) == list(first.activity)
    pd.testing.assert_frame_equal(first.sites.sites[["countries", "area_ha"]], again.sites.sites[["countries", "area_ha"]])


def test_no_periods_is_a_clear_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match=r"set \[activity\] periods"):
        detect(load_settings(write_config(tmp_path, '[paths]\nwork = "work"\n')))


def test_a_missing_period_file_names_the_file(tmp_path):
    _write_detections(tmp_path, {"P1": [(1, -11.0, 8.6, 100.0)]})
    settings = load_settings(write_config(tmp_path, '[paths]\nwork = "work"\n' + PERIODS))
    with pytest.raises(InputFileError, match="detections_P2.csv"):
        detect(settings)


def test_sites_are_in_the_analysis_crs_and_valid(run):
    settings, result = run
    sites = result.sites.sites
    assert sites.crs == settings.analysis_crs
    assert shapely.is_valid(sites.geometry.to_numpy()).all()
    assert isinstance(sites, gpd.GeoDataFrame)
