"""Reference layers: the consistency rule on hand-made squares, then the committed files themselves."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from mrumonitor.config import load_settings
from mrumonitor.errors import ReferenceDataError
from mrumonitor.reference import (
    build_reference,
    derive_borders,
    load_border_posts,
    load_borders,
    load_boundaries,
    make_consistent,
    snap_posts,
)
from mrumonitor.reference.commodity import COMMODITY_ZONES, DIAMOND_FIELDS_LOCALITIES, DIAMOND_FIELDS_SOURCE
from mrumonitor.reference.files import BORDER_POSTS, BORDER_POSTS_SOURCE, BORDERS, BOUNDARIES, SOURCE_OUTLINES
from mrumonitor.reference.places import PLACES
from mrumonitor.reference.posts import POST_KINDS, read_post_sources

pytestmark = pytest.mark.unit

#: A projected CRS in metres for the hand-made squares.
UTM = "EPSG:32629"
#: A transverse Mercator on the meridian 0°, along which the snapping tests draw their border line.
TM0 = "+proj=tmerc +lon_0=0 +datum=WGS84 +units=m +type=crs"
KM = 1000.0


def square(x0: float, x1: float, y0: float = 0, y1: float = 10) -> shapely.Polygon:
    """A box given in kilometres."""
    return shapely.box(x0 * KM, y0 * KM, x1 * KM, y1 * KM)


def outlines(a: shapely.Geometry, b: shapely.Geometry) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"iso3": ["AAA", "BBB"], "name": ["A", "B"]}, geometry=[a, b], crs=UTM)


def _cores(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Each outline minus every other one, computed here independently of the library."""
    return gpd.GeoSeries(
        [geom.difference(shapely.union_all(geoms.drop(key).to_numpy())) for key, geom in geoms.items()],
        index=geoms.index,
        crs=geoms.crs,
    )


# Two 10 km x 10 km countries side by side, in the configurations the rule must handle. Areas (km²) and the
# position of the border (x, km) are worked out by hand: an overlap or gap between x0 and x1 is split at the
# middle; a bay or lagoon touching one country stays outside; an enclosed gap wider than the 2 km closing
# (8 km x 6 km, between x = 6 and 14) is still split at the middle, x = 10.
CASES = {
    "overlap 2 km split on the mid line": (square(0, 10), square(8, 18), (90.0, 90.0), 9.0),
    "gap 1 km closed and split in half": (square(0, 10), square(11, 21), (105.0, 105.0), 10.5),
    "bay touching one country not filled": (
        square(0, 10).difference(square(4, 5, 9, 10)),
        square(10, 20),
        (99.0, 100.0),
        10.0,
    ),
    "wide enclosed gap filled, lagoon kept": (
        square(0, 10).difference(square(6, 10, 2, 8)).difference(square(2, 3, 2, 3)),
        square(10, 20).difference(square(10, 14, 2, 8)),
        (99.0, 100.0),
        10.0,
    ),
}


@pytest.mark.parametrize(("a", "b", "areas_km2", "border_x_km"), CASES.values(), ids=CASES.keys())
def test_two_squares_made_consistent(a, b, areas_km2, border_x_km):
    consistent = make_consistent(outlines(a, b), UTM)
    final = consistent.boundaries.set_index("iso3").geometry
    np.testing.assert_allclose(final.area / 1e6, areas_km2, rtol=1e-3)
    assert final["AAA"].intersection(final["BBB"]).area < 1.0
    assert all(final.buffer(0.01).contains(_cores(outlines(a, b).set_index("iso3").geometry)))
    border = derive_borders(consistent.boundaries, UTM)
    assert border["pair"].tolist() == ["AAA-BBB"]
    np.testing.assert_allclose(shapely.get_coordinates(border.geometry)[:, 0], border_x_km * KM, atol=1.0)


def test_overlap_and_gap_are_measured():
    overlap = make_consistent(outlines(square(0, 10), square(8, 18)), UTM)
    assert overlap.overlaps[["pair", "area_km2"]].values.tolist() == [["AAA-BBB", pytest.approx(20.0)]]
    assert overlap.gaps.empty
    gap = make_consistent(outlines(square(0, 10), square(11, 21)), UTM)
    assert gap.gaps["countries"].tolist() == ["AAA-BBB"]
    assert gap.gaps["area_km2"].sum() == pytest.approx(10.0, rel=0.02)  # round buffers nibble the ends
    assert gap.overlaps.empty


# --- the committed files --------------------------------------------------------------------------------

EXPECTED_PAIRS = {  # border length range (km): the real borders are longer; the outlines are simplified
    "CIV-GHA": (550, 800),
    "CIV-GIN": (500, 800),
    "CIV-LBR": (500, 800),
    "GIN-LBR": (380, 600),
    "GIN-SLE": (550, 800),
    "LBR-SLE": (220, 330),
}
KNOWN_OVERLAPS_KM2 = {"GIN-SLE": 387, "CIV-LBR": 264, "CIV-GIN": 234, "GIN-LBR": 173}


@pytest.fixture(scope="module")
def settings():
    return load_settings()


@pytest.fixture(scope="module")
def crs(settings):
    return settings.analysis_crs


@pytest.fixture(scope="module")
def reference_dir(settings) -> Path:
    return settings.paths.reference


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory, reference_dir, crs):
    """The committed sources built afresh in a scratch folder: (folder, summary)."""
    folder = tmp_path_factory.mktemp("reference")
    for name in (SOURCE_OUTLINES, BORDER_POSTS_SOURCE, DIAMOND_FIELDS_SOURCE, DIAMOND_FIELDS_LOCALITIES, PLACES):
        shutil.copy(reference_dir / name, folder / name)
    return folder, build_reference(folder, crs)


@pytest.fixture(scope="module")
def boundaries(reference_dir, crs):
    return load_boundaries(reference_dir, crs).set_index("iso3").geometry


@pytest.fixture(scope="module")
def borders(reference_dir, crs):
    return load_borders(reference_dir, crs)


@pytest.fixture(scope="module")
def sources(reference_dir, crs):
    return gpd.read_file(reference_dir / SOURCE_OUTLINES).to_crs(crs).set_index("iso_a3").geometry


@pytest.mark.slow
@pytest.mark.parametrize("name", [BOUNDARIES, BORDERS, BORDER_POSTS, COMMODITY_ZONES])
def test_committed_files_are_up_to_date(rebuilt, reference_dir, name):
    folder, _ = rebuilt
    assert (folder / name).read_bytes() == (reference_dir / name).read_bytes(), (
        f"{name} is stale: run `mrumonitor reference build` and commit the result"
    )
    assert (reference_dir / name).stat().st_size < 1_000_000


def test_committed_boundaries_do_not_overlap(boundaries):
    geoms = boundaries.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]]))
    assert overlap.max() < 1.0
    assert shapely.coverage_is_valid(geoms)


def test_committed_boundaries_leave_no_enclosed_gap(boundaries):
    """Every hole left in the union is a lagoon of one country, not a gap between two."""
    union = shapely.union_all(boundaries.to_numpy())
    holes = shapely.polygons(_interior_rings(union))
    touching = [int(shapely.dwithin(boundaries.to_numpy(), hole, 1.0).sum()) for hole in holes]
    assert touching and set(touching) == {1}


def _interior_rings(geom: shapely.Geometry) -> list[shapely.LinearRing]:
    return [ring for polygon in shapely.get_parts(geom) for ring in polygon.interiors]


def test_each_country_keeps_its_core(boundaries, sources):
    cores = _cores(sources)
    # 0.5 m: the committed coordinates are rounded to 1e-6 degree (about 0.1 m)
    assert all(boundaries.loc[cores.index].buffer(0.5).contains(cores))


def test_six_pairs_with_plausible_lengths(borders):
    lengths = dict(zip(borders["pair"], borders["length_km"], strict=True))
    assert set(lengths) == set(EXPECTED_PAIRS)
    for pair, (low, high) in EXPECTED_PAIRS.items():
        assert low < lengths[pair] < high, pair
    assert (borders["pair"] == borders["country_a"] + "-" + borders["country_b"]).all()


@pytest.mark.slow
def test_border_lines_are_the_shared_edges(borders, boundaries):
    for a, b, line in zip(borders["country_a"], borders["country_b"], borders.geometry, strict=True):
        assert line.buffer(0.5).contains(boundaries[a].intersection(boundaries[b]))


def test_known_overlaps_measured_and_resolved(rebuilt, sources, boundaries):
    _, summary = rebuilt
    measured = {row["pair"]: row["overlap_km2"] for row in summary["pairs"]}
    for pair, expected in KNOWN_OVERLAPS_KM2.items():
        assert measured[pair] == pytest.approx(expected, rel=0.15), pair
        a, b = pair.split("-")
        overlap = sources[a].intersection(sources[b])
        shares = boundaries.intersection(overlap).area  # near a tripoint, a third core may be nearest
        assert shares.sum() == pytest.approx(overlap.area, rel=1e-6), f"{pair}: part of the overlap is lost"
        assert shares[a] > 0 and shares[b] > 0, f"{pair}: the overlap should be split, not given to one side"
        assert shares[a] + shares[b] > 0.99 * overlap.area


def test_summary_reports_gaps_and_posts(rebuilt):
    _, summary = rebuilt
    assert all(row["gap_km2"] > 0 for row in summary["pairs"])
    assert summary["contested_km2"] > sum(KNOWN_OVERLAPS_KM2.values())
    assert {row["post_id"] for row in summary["posts"]} >= {"SLE-GIN-01", "LBR-SLE-01", "LBR-CIV-03"}
    assert all(0 <= row["snap_km"] <= 15 for row in summary["posts"])


def test_posts_lie_on_their_border_line(reference_dir, crs, borders):
    posts = load_border_posts(reference_dir, crs)
    assert list(posts.columns) == [
        "post_id", "name", "country", "neighbour", "kind", "operational", "position_note", "source", "geometry"
    ]
    pairs = ["-".join(sorted(pair)) for pair in zip(posts["country"], posts["neighbour"], strict=True)]
    lines = borders.set_index("pair").geometry.loc[pairs].to_numpy()
    assert shapely.distance(posts.geometry.to_numpy(), lines).max() < 1.0
    assert posts["position_note"].str.contains("snapped").all()
    assert posts["kind"].isin(POST_KINDS).all()
    assert {"Guéckédou", "Pamelap", "Gbalamuya", "Loguatuo"} <= set(posts["name"])
    assert (posts["source"].str.len() > 0).all()


def test_the_civ_gha_border_has_its_documented_crossings(reference_dir, crs):
    posts = load_border_posts(reference_dir, crs)
    civ_gha = posts[posts["country"].isin(["CIV", "GHA"]) & posts["neighbour"].isin(["CIV", "GHA"])]
    assert {"Noé", "Elubo", "Takikro", "Sampa", "Jewi Wharf (Jawey Wharf)", "Half Assini Newtown"} <= set(
        civ_gha["name"])
    places = shapely.get_coordinates(civ_gha.geometry.to_numpy()).round(1)
    assert len({tuple(xy) for xy in places}) >= 5  # distinct crossings along the border, not one post per side
    assert civ_gha["source"].str.contains("https://").all()


def _posts_frame(**changes) -> pd.DataFrame:
    row = {
        "post_id": "AAA-BBB-01", "name": "Somewhere", "country": "AAA", "neighbour": "BBB", "kind": "official",
        "operational": True, "lon": 0.0, "lat": 0.0, "position_note": "approximate", "source": "a report, p. 1",
    }
    return pd.DataFrame([row | changes])


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"lon": 0.2}, "AAA-BBB-01 \\(Somewhere\\) 22.\\d km"), ({"neighbour": "CCC"}, "no derived border")],
    ids=["too far", "unknown pair"],
)
def test_snap_refuses_bad_posts(changes, message):
    line = gpd.GeoDataFrame(
        {"pair": ["AAA-BBB"], "country_a": ["AAA"], "country_b": ["BBB"]},
        geometry=[shapely.LineString([(0, -1), (0, 1)])],
        crs="EPSG:4326",
    )
    with pytest.raises(ReferenceDataError, match=message):
        snap_posts(_posts_frame(**changes), line, TM0)


def test_snap_moves_a_near_post_onto_the_line():
    line = gpd.GeoDataFrame({"pair": ["AAA-BBB"]}, geometry=[shapely.LineString([(0, -1), (0, 1)])], crs=4326)
    snapped = snap_posts(_posts_frame(lon=0.02), line, TM0)
    assert snapped.geometry.iloc[0].x == 0.0
    assert snapped["snap_km"].iloc[0] == pytest.approx(2.2, abs=0.1)
    assert snapped["position_note"].iloc[0] == "approximate, snapped 2.2 km to the derived AAA-BBB border line"


def test_bad_source_rows_are_refused(tmp_path, reference_dir):
    source = pd.read_csv(reference_dir / BORDER_POSTS_SOURCE, dtype=str, keep_default_na=False)
    source.loc[0, "kind"] = "smuggling_route"
    source.loc[1, "operational"] = "maybe"
    source.loc[2, "source"] = ""
    source.to_csv(tmp_path / BORDER_POSTS_SOURCE, index=False)
    with pytest.raises(ReferenceDataError, match="kind not one of .*; operational not true or false.*empty name, "
                                                 "position_note or source: " + source.loc[2, "post_id"]):
        read_post_sources(tmp_path / BORDER_POSTS_SOURCE)


@pytest.mark.parametrize("loader", [load_boundaries, load_borders, load_border_posts])
def test_loaders_say_how_to_rebuild_a_missing_file(tmp_path, crs, loader):
    with pytest.raises(ReferenceDataError, match="run `mrumonitor reference build`"):
        loader(tmp_path, crs)

