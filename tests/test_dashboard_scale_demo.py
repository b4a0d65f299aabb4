"""The dashboard's memory and speed savings at scale change no answer, on the demo run (issue 21).

The loaded run keeps its footprints as WKB and makes the map's shapes per request: they are the shapes of the
run's files, and in WGS84 the shapes the map had precomputed for every zoom band. The registration pieces, the
site table's rows and the map's properties hold the values they held as Python objects; a tile's query of sorted
boxes finds the sites a spatial index finds. A corridor ranking kept on the run is the one computed, whoever changes
a copy handed out. The downloads page's counts, read from the files' boxes first, are
those counted from every shape.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from mrumonitor.analysis.summary import corridor_ranking as ranked_corridors
from mrumonitor.dashboard import geojson
from mrumonitor.dashboard.aggregates import corridor_ranking
from mrumonitor.dashboard.filters import default_filters
from mrumonitor.dashboard.layer_counts import country_count
from mrumonitor.dashboard.prepared import TABLE_COLUMNS
from mrumonitor.dashboard.run import load_run
from mrumonitor.export.clip import country_outline
from mrumonitor.export.run_reference import run_reference

pytestmark = pytest.mark.demo


@pytest.fixture(scope="module")
def run(demo_settings):
    return load_run(demo_settings)


@pytest.fixture(scope="module")
def site_periods(run) -> gpd.GeoDataFrame:
    """The run's site rows as its file holds them."""
    return gpd.read_parquet(run.run_dir / run.manifest["layers"]["site_periods"]["path"])


def test_footprints_are_the_files_shapes(run, site_periods):
    rows = np.arange(len(site_periods))
    assert shapely.to_wkb(run.period_shapes[rows]).tolist() == shapely.to_wkb(site_periods.geometry.values).tolist()


def test_map_shapes_are_those_precomputed_before(run, site_periods):
    bands = geojson.simplified_bands(geojson.to_wgs84(site_periods.geometry))
    rows = np.random.default_rng(0).choice(len(site_periods), 2_000, replace=False)
    for tolerance, shapes in bands.items():
        assert shapely.to_wkb(run.site_views.geoms[tolerance][rows]).tolist() == shapely.to_wkb(shapes[rows]).tolist()


def test_tiles_find_the_sites_an_index_finds(run, site_periods):
    index = shapely.STRtree(geojson.to_wgs84(site_periods.geometry))
    rng = np.random.default_rng(1)
    for period, rows in run.site_views.by_period.items():
        for size in (0.02, 0.3, 3.0):
            for _ in range(20):
                west, south = rng.uniform(-15, -7), rng.uniform(4.5, 12.5)
                found = rows.positions[rows.rows_in(west, south, west + size, south + size)]
                hits = index.query(shapely.box(west, south, west + size, south + size))
                assert np.array_equal(found, np.sort(hits[np.isin(hits, rows.positions)])), period


def test_pieces_rows_and_properties_keep_their_values(run, site_periods):
    pieces = pd.read_parquet(run.run_dir / run.manifest["layers"]["site_registration"]["path"]).drop(
        columns=["geometry", "bbox"], errors="ignore")
    pd.testing.assert_frame_equal(run.pieces[pieces.columns].astype(object), pieces.astype(object))
    joined = run.site_periods.join(run.sites.set_index("site_id")[["admin_area"]], on="site_id")
    for column in [column for column, _, digits in TABLE_COLUMNS if digits is None and column != "commodity_basis"]:
        # the table's text as the browser gets it: never null
        expected = joined[column].astype("string").fillna("").astype(object).tolist()
        assert run.site_views.table_rows[column].astype(object).tolist() == expected, column
    features = run.site_views.features
    assert features["registration"].astype(object).tolist() == site_periods["registration"].astype(str).tolist()
    assert features["site_id"].astype(object).tolist() == site_periods["site_id"].astype(str).tolist()
    assert set(features["kind"]) == {"site"}


def counted_by_shapes(run, layer: str, country: str) -> int:
    """The downloads page's count as it was made before (every shape read; kept: covered by the outline, or not
    merely touching it)."""
    frame = gpd.read_parquet(run.run_dir / run.manifest["layers"][layer]["path"], columns=["geometry"])
    outline = country_outline(run_reference(run.run_dir, run.manifest).boundaries, country, frame.crs)
    geoms = frame.geometry.values[frame.sindex.query(outline, predicate="intersects")]
    return int((shapely.covered_by(geoms, outline) | ~shapely.touches(geoms, outline)).sum())


@pytest.mark.parametrize("country", ["SLE", "GIN", "LBR", "CIV"])
@pytest.mark.parametrize("layer", ["sites", "site_periods", "site_registration", "concessions", "border_corridors"])
def test_download_counts_are_those_counted_from_every_shape(run, layer, country):
    assert country_count(run.run_dir, layer, country) == counted_by_shapes(run, layer, country)


def test_kept_corridor_rankings_are_those_computed(run):
    for period in run.periods:
        for commodity in ("", "diamond", "gold"):
            for scope in ("mru", "external"):
                filters = default_filters(run, period=period, commodity=commodity, scope=scope)
                expected = ranked_corridors(run.corridors, run.corridor_periods, filters.period, filters.commodity,
                                            scope)
                first = corridor_ranking(run, filters)
                first["rank"] = -1  # a caller changing its copy
                pd.testing.assert_frame_equal(corridor_ranking(run, filters), expected)
                gin = corridor_ranking(run, default_filters(run, period=period, commodity=commodity, scope=scope,
                                                            countries=["GIN"]))
                assert set(gin["corridor_id"]) <= set(expected["corridor_id"])
