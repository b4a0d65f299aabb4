"""The registration at scale (issue 21): chunked in spatial order, licences judged once per record and period,
no overlay where a licence covers what is left of a footprint; the answers those of one pass, and of a plain
footprint-by-footprint reference.

The world is seeded and built here, in metres: a 4 x 4 grid of 1 km cadastral blocks sharing their edges, 40
rotated rectangles of every status, type and commodity over them, and 300 sites seen in one or two periods,
each a union of two 20 m-grid boxes; the assessed area leaves out the east quarter.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from mrumonitor.analysis import registration, threads
from mrumonitor.analysis.registration import licence_classes, register
from mrumonitor.analysis.threads import PreparedCopies, in_threads
from mrumonitor.config import PeriodSettings
from mrumonitor.schema import COMMODITIES, CONCESSION_COLUMNS, LICENCE_STATUSES, LICENCE_TYPES, REGISTRATION_CLASSES

pytestmark = pytest.mark.unit

CRS = "EPSG:32629"
SIDE = 4_000.0
PERIODS = [PeriodSettings(name="2025H2", start=dt.date(2025, 7, 1), end=dt.date(2025, 12, 31)),
           PeriodSettings(name="2026H1", start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30))]
ASSESSED = shapely.box(-1_000.0, -1_000.0, 0.75 * SIDE, SIDE + 1_000.0)


def licences(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Edge-sharing blocks, then rotated rectangles; statuses, types, commodities and dates at random."""
    blocks = [shapely.box(x, y, x + 1_000.0, y + 1_000.0) for x in range(0, 4_000, 1_000)
              for y in range(0, 4_000, 1_000)]
    centres, half = rng.uniform(0, SIDE, (40, 2)), rng.uniform(100, 700, (40, 2))
    rotated = [shapely.affinity.rotate(shapely.box(*(c - h), *(c + h)), angle) for c, h, angle in
               zip(centres, half, rng.uniform(0, 90, 40), strict=True)]
    n = len(blocks) + len(rotated)
    granted = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 2_500, n), unit="D")
    frame = gpd.GeoDataFrame({
        "licence_id": [f"L{i:03d}" for i in rng.permutation(n)], "country": "SLE", "holder": "Holder",
        "licence_type": rng.choice(LICENCE_TYPES, n), "commodity": rng.choice(COMMODITIES, n),
        "status": rng.choice(LICENCE_STATUSES, n), "granted": granted,
        "expires": granted + pd.to_timedelta(rng.integers(200, 3_000, n), unit="D"), "geometry_repaired": False,
        "source_name": "test", "source_file": "built", "source_row": np.arange(n), "snapshot": pd.NaT,
    }, geometry=blocks + rotated, crs=CRS)
    return frame[[*CONCESSION_COLUMNS, "geometry"]].astype(CONCESSION_COLUMNS)


def sites(rng: np.random.Generator, n: int = 300) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Footprints (two overlapping 20 m-grid boxes each) seen in the first, the second or both periods."""
    corner = np.round(rng.uniform(-200, SIDE + 200, (n, 2)) / 20) * 20
    size = np.round(rng.uniform(40, 400, (n, 2)) / 20) * 20
    shift = np.round(rng.uniform(-100, 200, (n, 2)) / 20) * 20
    shapes = shapely.union(shapely.box(*corner.T, *(corner + size).T),
                           shapely.box(*(corner + shift).T, *(corner + shift + size / 2).T))
    seen = rng.integers(0, 3, n)
    ids = np.array([f"S{i:04d}" for i in range(n)], dtype=object)
    frames = [gpd.GeoDataFrame({"site_id": ids[keep], "period": period.name}, geometry=shapes[keep], crs=CRS)
              for period, keep in zip(PERIODS, (seen != 1, seen != 0), strict=True)]
    layer = pd.concat(frames, ignore_index=True)
    layer.insert(2, "area_ha", layer.area / 10_000.0)
    return layer, pd.Series(rng.choice(COMMODITIES, n), index=ids)


@pytest.fixture(scope="module")
def world() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    rng = np.random.default_rng(21)
    layer, commodity = sites(rng)
    return layer, licences(rng), commodity


def test_chunks_give_the_answers_of_one_pass(world, monkeypatch, caplog):
    layer, concessions, commodity = world
    one_pass = register(layer, concessions, commodity, PERIODS, ASSESSED)
    monkeypatch.setattr(registration, "CHUNK_FOOTPRINTS", 37)
    with caplog.at_level(logging.DEBUG, logger=registration.__name__):
        chunked = register(layer, concessions, commodity, PERIODS, ASSESSED)
    assert sum(record.getMessage().startswith("registration chunk") for record in caplog.records) == \
        -(-len(layer) // 37)
    assert_geodataframe_equal(chunked.pieces, one_pass.pieces)
    assert shapely.equals_exact(chunked.pieces.geometry.to_numpy(), one_pass.pieces.geometry.to_numpy(), 0).all()
    pd.testing.assert_frame_equal(chunked.per_period, one_pass.per_period)
    assert one_pass.pieces["registration"].nunique() >= 6  # the world exercises nearly every class


def test_pieces_match_a_footprint_by_footprint_reference(world, monkeypatch):
    layer, concessions, commodity = world
    monkeypatch.setattr(registration, "CHUNK_FOOTPRINTS", 50)
    pieces = register(layer, concessions, commodity, PERIODS, ASSESSED).pieces
    got = pieces.groupby(["site_id", "period", "registration"])["area_ha"].sum().to_dict()
    expected = reference_areas(layer, concessions, commodity)
    assert got.keys() == expected.keys()
    assert list(got.values()) == pytest.approx([expected[key] for key in got], abs=2e-6)
    sums = pieces.groupby(["site_id", "period"])["area_ha"].sum()
    assert sums.to_numpy() == pytest.approx(layer.set_index(["site_id", "period"])["area_ha"].reindex(sums.index))


def reference_areas(layer: gpd.GeoDataFrame, concessions: gpd.GeoDataFrame, commodity: pd.Series) -> dict:
    """Area per (site, period, class), one footprint at a time: each licence, in precedence order, takes what it
    covers of the footprint minus the licences before it; the rest splits at the assessed area."""
    observed = {period.name: np.datetime64(period.observed_on, "D") for period in PERIODS}
    areas = defaultdict(float)
    for site_id, period, footprint in zip(layer["site_id"], layer["period"], layer.geometry, strict=True):
        hits = concessions[concessions.intersects(footprint)]
        classes = licence_classes(hits, np.full(len(hits), observed[period]),
                                  np.full(len(hits), commodity[site_id], dtype=object))
        order = sorted(range(len(hits)), key=lambda i: (REGISTRATION_CLASSES.index(classes[i]),
                                                        hits["licence_id"].iloc[i]))
        covered = shapely.Polygon()
        for i in order:
            piece = footprint.intersection(hits.geometry.iloc[i]).difference(covered)
            covered = covered.union(hits.geometry.iloc[i])
            if piece.area / 10_000.0 > 1e-6:
                areas[(site_id, period, classes[i])] += piece.area / 10_000.0
        rest = footprint.difference(covered)
        for name, part in (("no_licence", rest.intersection(ASSESSED)), ("not_assessed", rest.difference(ASSESSED))):
            if part.area / 10_000.0 > 1e-6:
                areas[(site_id, period, name)] += part.area / 10_000.0
    return dict(areas)


def test_pieces_are_sorted_by_period_site_class_and_licence(world):
    layer, concessions, commodity = world
    pieces = register(layer, concessions, commodity, PERIODS, ASSESSED).pieces
    rank = pieces["registration"].map({name: i for i, name in enumerate(REGISTRATION_CLASSES)})
    expected = pieces.assign(rank=rank).sort_values(["period", "site_id", "rank", "licence_id"], kind="stable",
                                                    na_position="last")
    assert list(expected.index) == list(range(len(pieces)))


def licence(licence_id: str, geometry: shapely.Geometry, licence_type: str = "artisanal") -> dict:
    return {"licence_id": licence_id, "country": "SLE", "holder": "Holder", "licence_type": licence_type,
            "commodity": "gold", "status": "active", "granted": pd.Timestamp("2020-01-01"),
            "expires": pd.Timestamp("2030-01-01"), "geometry_repaired": False, "source_name": "test",
            "source_file": "built", "source_row": 1, "snapshot": pd.NaT, "geometry": geometry}


def one_site(*rows: dict) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.Series]:
    layer = gpd.GeoDataFrame({"site_id": ["S"], "period": ["2026H1"], "area_ha": [4.0]},
                             geometry=[shapely.box(0, 0, 200, 200)], crs=CRS)
    frame = gpd.GeoDataFrame(list(rows), geometry="geometry", crs=CRS)
    return layer, frame[[*CONCESSION_COLUMNS, "geometry"]].astype(CONCESSION_COLUMNS), pd.Series({"S": "gold"})


def test_a_licence_whose_envelope_meets_a_footprint_but_not_its_shape_gives_no_piece():
    # a thin diagonal licence whose envelope holds the whole site but which passes 1 km away from it
    diagonal = shapely.Polygon([(-2_000, 1_200), (1_200, -2_000), (1_300, -1_900), (-1_900, 1_300)])
    half = shapely.box(-100, -100, 100, 300)
    result = register(*one_site(licence("D", diagonal), licence("H", half, "exploration")), PERIODS)
    assert result.pieces["licence_id"].fillna("").tolist() == ["H", ""]
    assert result.pieces["area_ha"].tolist() == pytest.approx([2.0, 2.0])


def test_no_overlay_once_a_licence_covers_the_footprint(monkeypatch):
    """The valid licence covers the site whole: the three exploration licences under it are never overlaid."""
    overlays = []

    def counted(overlay):
        def spy(a, b, **kwargs):
            overlays.extend([overlay.__name__] * np.size(a))
            return overlay(a, b, **kwargs)
        return spy

    for overlay in (shapely.intersection, shapely.difference):
        monkeypatch.setattr(shapely, overlay.__name__, counted(overlay))
    partial = [licence(f"E{i}", shapely.box(-50 + 60 * i, -50, 90 + 60 * i, 250), "exploration") for i in range(3)]
    result = register(*one_site(licence("V", shapely.box(-10, -10, 210, 210)), *partial), PERIODS)
    assert result.pieces[["registration", "licence_id"]].values.tolist() == [["registered", "V"]]
    assert overlays == []
    half = register(*one_site(licence("H", shapely.box(-10, -10, 100, 210))), PERIODS)
    assert half.pieces["area_ha"].tolist() == pytest.approx([2.0, 2.0]) and overlays == ["intersection", "difference"]


def test_each_thread_gets_its_own_prepared_copy(monkeypatch):
    """Two chunks registered at once never share a prepared licence: GEOS builds its indexes on first use."""
    monkeypatch.setattr(threads, "workers", lambda: 2)
    licences = np.array([shapely.box(0, 0, 1_000, 1_000), shapely.box(500, 500, 2_000, 900)])
    copies, both_running = PreparedCopies(licences), threading.Barrier(2)

    def grab(_):
        both_running.wait(timeout=10)
        return copies.prepared()

    first, second = in_threads(grab, [1, 2])
    assert first is not second and not np.intersect1d([id(g) for g in first], [id(g) for g in second]).size
    assert shapely.is_prepared(first).all() and shapely.is_prepared(second).all()
    assert shapely.equals_exact(first, licences, 0).all() and shapely.equals_exact(second, licences, 0).all()


def test_no_footprints_no_licences_and_an_empty_footprint():
    layer, concessions, _ = one_site(licence("L", shapely.box(0, 0, 100, 100)))
    none = register(layer.iloc[:0], concessions, pd.Series(dtype="string"), PERIODS)
    assert none.pieces.empty and none.per_period.empty
    empty = pd.concat([layer, layer.assign(site_id="E", area_ha=0.0, geometry=[shapely.Polygon()])], ignore_index=True)
    result = register(empty, concessions.iloc[:0], pd.Series({"S": "gold", "E": "gold"}), PERIODS,
                      shapely.box(0, 0, 100, 1_000))
    assert result.pieces[["site_id", "registration"]].values.tolist() == [["S", "no_licence"], ["S", "not_assessed"]]
    assert result.per_period["registered_ha"].dtype == "float64"
    assert result.per_period["unregistered_ha"].tolist() == pytest.approx([2.0, 0.0])
    assert result.per_period["registration"].isna().tolist() == [False, True]
