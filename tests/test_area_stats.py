"""Statistics of an area (`mrumonitor.areas.stats`) on the published area world, and `mrumonitor stats --area FILE`
in a real process with a GeoJSON, a GeoPackage and a zipped Shapefile: known clipped hectares, an agency user's
country only, licences in force, borders and crossings, caveats, the sites written out."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from area_world import SYNTHETIC_CAVEAT, write_area_run
from conftest import write_config, write_zipped_shapefile
from hostile import assert_refused, mrumonitor

from mrumonitor.areas.resolve import WatchedArea, named_area
from mrumonitor.areas.stats import OUTSIDE, area_statistics, write_area_sites
from mrumonitor.runfolder import RunFolder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def area_run(tmp_path_factory):
    return write_area_run(tmp_path_factory.mktemp("area-stats") / "layers", synthetic=True)


def west_half_of_sle_reg(run_dir) -> gpd.GeoDataFrame:
    """A box (WGS84) that covers exactly the west half of site SLE-REG's 1 x 1 km footprint."""
    footprints = gpd.read_parquet(RunFolder(run_dir).layer("site_periods"))
    x0, y0, x1, y1 = footprints[footprints["site_id"] == "SLE-REG"].total_bounds
    box = shapely.box(x0 - 200, y0 - 200, (x0 + x1) / 2, y1 + 200)
    return gpd.GeoDataFrame({"name": ["west half"]}, geometry=[box], crs=footprints.crs).to_crs(4326)


def watched(frame: gpd.GeoDataFrame) -> WatchedArea:
    return WatchedArea("drawn", "drawn", "a test area", frame.geometry.iloc[0])


def test_an_area_cutting_a_site_in_half_counts_half_its_hectares(area_run):
    stats = area_statistics(area_run, watched(west_half_of_sle_reg(area_run)))

    periods = stats.periods.set_index("period")
    assert periods.index.tolist() == ["2025H1", "2025H2"]
    assert periods["sites"].tolist() == [1, 1]
    assert periods["active_ha"].tolist() == pytest.approx([25.0, 50.0])  # the south half, then the whole square
    assert periods["registered_ha"].tolist() == pytest.approx([25.0, 50.0])
    assert periods["unregistered_share"].tolist() == pytest.approx([0.0, 0.0])
    assert stats.sites["site_id"].tolist() == ["SLE-REG"]
    assert stats.licences[["licence_id", "holder"]].values.tolist() == [["SL-L-0001", "Koidu Diamonds Ltd"]]
    assert stats.borders["border_pair"].iloc[0] == "GIN-SLE" and 6 < stats.borders["dist_km"].iloc[0] < 8


def test_a_corridor_counts_each_registration_class_and_reaches_its_border(area_run):
    stats = area_statistics(area_run, named_area(area_run, "corridor", "SLE-GIN-004"))

    last = stats.periods.set_index("period").loc["2025H2"]
    assert (last["sites"], last["active_ha"]) == (3, pytest.approx(216.0))
    assert (last["registered_ha"], last["unregistered_ha"]) == (pytest.approx(150.0), pytest.approx(66.0))
    assert (last["no_licence_ha"], last["expired_licence_ha"]) == (pytest.approx(16.0), pytest.approx(50.0))
    assert last["unregistered_share"] == pytest.approx(66 / 216)
    assert stats.licences["licence_id"].tolist() == ["SL-L-0001", "GN-L-0001"]  # largest overlap first
    assert stats.licences["overlap_ha"].tolist() == pytest.approx([900.0, 50.0])
    assert stats.borders.iloc[0].tolist() == ["GIN-SLE", 0.0]
    assert len(stats.crossings) == 5 and stats.crossings["dist_km"].is_monotonic_increasing
    assert SYNTHETIC_CAVEAT in stats.caveats and any("Earth Index" in caveat for caveat in stats.caveats)


def test_an_agency_user_sees_only_its_country(area_run):
    stats = area_statistics(area_run, named_area(area_run, "corridor", "SLE-GIN-004"), country="SLE")

    assert sorted(stats.sites["site_id"]) == ["SLE-BORDER", "SLE-REG"]
    assert stats.periods.set_index("period")["active_ha"].tolist() == pytest.approx([50.0, 116.0])
    assert stats.periods["expired_licence_ha"].sum() == 0  # GIN-SITE's expired half is Guinea's
    assert stats.licences["licence_id"].tolist() == ["SL-L-0001"]
    assert stats.caveats[0].startswith("Only the sites and licences of Sierra Leone are counted")


@pytest.mark.hostile
def test_an_area_outside_the_region_says_so_and_counts_nothing(area_run):
    at_sea = WatchedArea("drawn", "drawn", "at sea", shapely.box(-20.0, 4.0, -19.9, 4.1))

    stats = area_statistics(area_run, at_sea)

    assert OUTSIDE in stats.caveats
    assert stats.periods["active_ha"].sum() == 0 and stats.sites.empty and stats.licences.empty


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".csv", ".parquet"])
def test_the_sites_of_an_area_are_written_in_each_format(area_run, tmp_path, suffix):
    stats = area_statistics(area_run, named_area(area_run, "corridor", "SLE-GIN-004"))

    path = write_area_sites(stats, tmp_path / f"sites{suffix}")

    read = {".csv": pd.read_csv, ".parquet": gpd.read_parquet}.get(suffix, gpd.read_file)(path)
    assert sorted(read["site_id"]) == ["GIN-SITE", "SLE-BORDER", "SLE-REG"]
    if suffix == ".csv":
        assert read["geometry"].str.startswith("POLYGON").all()
    else:
        assert read.crs.to_epsg() == 4326
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # nothing left aside


# ---------------------------------------------------------------------------------------------------------
# `mrumonitor stats --area FILE` in a real process

@pytest.fixture(scope="module")
def stats_config(area_run, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stats-config")
    return write_config(folder, f'[paths]\nstore = "{area_run.parent.parent}"\nwork = "{folder / "work"}"\n')


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".zip"])
def test_stats_prints_an_area_file_s_figures_and_writes_its_sites(area_run, stats_config, tmp_path, suffix):
    bow_tie = shapely.Polygon([(-11.3, 9.8), (-11.2, 9.9), (-11.2, 9.8), (-11.3, 9.9)])
    area = west_half_of_sle_reg(area_run)
    area = pd.concat([area, gpd.GeoDataFrame({"name": ["bow tie"]}, geometry=[bow_tie], crs=4326)],
                     ignore_index=True)
    path = tmp_path / f"west half{suffix}"
    if suffix == ".zip":
        write_zipped_shapefile(area, path)
    else:
        area.to_file(path)

    result = mrumonitor("stats", "--area", str(path), "--config", str(stats_config),
                        "--sites-out", str(tmp_path / "sites.gpkg"))

    assert result.returncode == 0, result.stdout + result.stderr
    text = " ".join(result.stdout.split())
    assert "Features left out of west half" in text and "the outline crosses itself at -11.25000, 9.85000" in text
    assert "2025H1 │ 1 │ 25.0" in text and "2025H2 │ 1 │ 50.0" in text
    assert "SL-L-0001" in text and "Koidu Diamonds Ltd" in text and "GIN-SLE" in text
    assert "Note: The national cadastres are SYNTHETIC" in text
    assert "1 site(s) written to" in text
    assert gpd.read_file(tmp_path / "sites.gpkg")["site_id"].tolist() == ["SLE-REG"]


@pytest.mark.hostile
@pytest.mark.parametrize(("name", "content", "words"), [
    ("only a bow tie.geojson", ('{"type": "Polygon", "coordinates": [[[-11.3, 9.8], [-11.2, 9.9], [-11.2, 9.8], '
                                '[-11.3, 9.9], [-11.3, 9.8]]]}'),
     ["only a bow tie.geojson: no feature is a usable area", "feature 1: the outline crosses itself"]),
    ("area.kml", "<kml/>", ["area.kml: not an area file this reads"]),
    ("empty.geojson", '{"type": "FeatureCollection", "features": []}', ["empty.geojson: holds no feature at all"]),
], ids=["self-intersecting", "kml", "empty"])
def test_stats_refuses_a_bad_area_file_with_a_clear_message(stats_config, tmp_path, name, content, words):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    assert_refused(mrumonitor("stats", "--area", str(path), "--config", str(stats_config)), *words)
