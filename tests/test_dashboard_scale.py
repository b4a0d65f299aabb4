"""The dashboard's memory savings at scale change no answer (issue 21, bench/bench_dashboard_scale.py).

On data built here: coded columns give the masks `numpy.isin` gives; footprints kept as WKB give back the very
shapes, in WGS84 and simplified as the map had them precomputed; the tile query of sorted boxes finds what a
spatial index of the footprints finds; text in one Arrow piece or in categories keeps its values, and the country
overview of categories is the overview of text.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely

from mrumonitor.analysis.summary import country_overview
from mrumonitor.config import load_settings
from mrumonitor.crs import WGS84
from mrumonitor.dashboard import geojson
from mrumonitor.dashboard.prepared import (
    Codes,
    Footprints,
    PeriodRows,
    Wgs84Band,
    categories,
    contiguous,
    footprint_boxes,
)

pytestmark = pytest.mark.unit

#: Footprints built here: how many, and the lon/lat box they are spread over (West Africa).
COUNT, AREA = 3_000, (-15.0, 4.5, -7.0, 12.5)


@pytest.fixture(scope="module")
def footprints() -> gpd.GeoSeries:
    """Pixel-like footprints (unions of 20 m blocks, some of two parts) and a few large ones, in the analysis CRS."""
    rng = np.random.default_rng(21)
    centres = gpd.GeoSeries(shapely.points(rng.uniform(*AREA[::2], COUNT), rng.uniform(*AREA[1::2], COUNT)),
                            crs=WGS84).to_crs(load_settings().analysis_crs)
    x, y = shapely.get_x(centres.values), shapely.get_y(centres.values)
    shapes = []
    for i, (cx, cy) in enumerate(zip(x, y)):
        blocks = [shapely.box(cx + 20 * dx, cy + 20 * dy, cx + 20 * dx + 20, cy + 20 * dy + 20)
                  for dx, dy in rng.integers(0, 12, size=(int(rng.integers(1, 30)), 2))]
        if i % 7 == 0:  # a second part away from the first
            blocks.append(shapely.box(cx + 900, cy, cx + 960, cy + 40))
        if i % 500 == 0:  # a large footprint, wider than a tile at high zoom
            blocks.append(shapely.box(cx, cy, cx + 30_000, cy + 5_000))
        shapes.append(shapely.MultiPolygon(list(shapely.get_parts(shapely.union_all(blocks)))))
    return gpd.GeoSeries(shapes, crs=centres.crs)


def test_codes_give_the_masks_of_isin():
    values = pd.Series(["SLE", "GIN", None, "SLE;GIN", "LBR", None, "GIN"] * 50, dtype="string")
    codes = Codes.of(values)
    assert codes.codes.dtype == np.int8
    for wanted in [("SLE",), ("GIN", "LBR"), (), ("CIV",), ("SLE", "GIN", "SLE;GIN", "LBR")]:
        expected = values.isin(wanted).to_numpy(dtype=bool)
        assert np.array_equal(codes.isin(wanted), expected)
    def sees_guinea(value: str) -> bool:  # a test as `Access.sees_sites` is one
        return "GIN" in value

    assert np.array_equal(codes.where(sees_guinea),
                          values.map(lambda v: v is not pd.NA and "GIN" in v).to_numpy(bool))
    numbers = np.arange(40_000) % 33_000
    many = Codes.of(pd.Series(numbers))
    assert many.codes.dtype == np.int32
    for wanted in [(5, 32_999), tuple(range(0, 33_000, 100))]:  # compared one by one, looked up
        assert np.array_equal(many.isin(wanted), np.isin(numbers, wanted))


def test_footprints_give_back_the_shapes(footprints):
    kept = Footprints.of(footprints)
    shapes = np.asarray(footprints)
    rows = np.array([5, 0, COUNT - 1, 5])
    assert len(kept) == COUNT
    assert all(shapely.equals_exact(kept[rows], shapes[rows], tolerance=0))
    assert shapely.to_wkb(kept[rows]).tolist() == shapely.to_wkb(shapes[rows]).tolist()
    mask = np.zeros(COUNT, dtype=bool)
    mask[[3, 70, 2_000]] = True
    assert shapely.to_wkb(kept[mask]).tolist() == shapely.to_wkb(shapes[mask]).tolist()
    assert shapely.equals_exact(kept[np.array([-1])][0], shapes[-1], tolerance=0)
    assert len(kept[np.array([], dtype=int)]) == 0


@pytest.mark.parametrize("tolerance", [tol for _, tol in geojson.SIMPLIFY_BANDS])
def test_wgs84_bands_are_the_shapes_the_map_had_precomputed(footprints, tolerance):
    precomputed = geojson.simplified_bands(geojson.to_wgs84(footprints))[tolerance]
    band = Wgs84Band(Footprints.of(footprints), tolerance)
    rows = np.random.default_rng(1).choice(COUNT, 400, replace=False)
    assert shapely.to_wkb(band[rows]).tolist() == shapely.to_wkb(precomputed[rows]).tolist()


def test_tile_query_finds_what_an_index_of_the_footprints_finds(footprints):
    boxes = footprint_boxes(Footprints.of(footprints))
    assert np.array_equal(boxes, shapely.bounds(geojson.to_wgs84(footprints)))
    by_west = np.argsort(boxes[:, 0], kind="stable")
    none = Codes.of(pd.Series(["SLE"] * COUNT))
    period = PeriodRows(positions=np.arange(COUNT), visible=none, country=none, commodity=none, registration=none,
                        border=np.zeros(COUNT, bool), lon=boxes[:, 0], lat=boxes[:, 1], table_order=np.arange(COUNT),
                        by_west=by_west, edges=np.ascontiguousarray(boxes[by_west].T),
                        widest=float((boxes[:, 2] - boxes[:, 0]).max()))
    index = shapely.STRtree(geojson.to_wgs84(footprints))
    rng = np.random.default_rng(2)
    for size in (0.01, 0.1, 1.0, 8.0):
        for _ in range(25):
            west, south = rng.uniform(AREA[0] - 0.5, AREA[2]), rng.uniform(AREA[1] - 0.5, AREA[3])
            found = period.rows_in(west, south, west + size, south + size)
            assert np.array_equal(found, np.sort(index.query(shapely.box(west, south, west + size, south + size))))
    west, south, east, north = boxes[7]  # a box touching a footprint's own box on its edges finds it
    assert 7 in period.rows_in(east, north, east + 1, north + 1)


def test_contiguous_text_keeps_its_values_in_one_piece():
    chunked = pa.chunked_array([pa.array(["a", None, "b"], pa.large_string()), pa.array(["c"], pa.large_string())])
    frame = pd.DataFrame({"text": pd.Series(chunked, dtype=pd.StringDtype("pyarrow")), "number": [1.0, 2, 3, 4]})
    whole = contiguous(frame)
    assert isinstance(pa.array(whole["text"]), pa.Array) and not isinstance(pa.array(frame["text"]), pa.Array)
    assert whole.equals(frame) and whole.dtypes.equals(frame.dtypes)


def test_country_overview_of_categories_is_the_overview_of_text():
    rng = np.random.default_rng(3)
    n = 5_000
    sites = pd.DataFrame({
        "country": pd.Series(rng.choice(["SLE", "GIN", "LBR", "CIV", ""], n), dtype="string"),
        "registration": pd.Series(rng.choice(["registered", "no_licence", "verified_not_mining"], n), dtype="string"),
        "commodity": pd.Series(rng.choice(["diamond", "gold"], n), dtype="string"),
        "in_border_zone": rng.random(n) < 0.3, "transboundary": rng.random(n) < 0.05,
        "first_seen": pd.Series(rng.choice(["2025H2", "2026H1"], n), dtype="string"),
        "last_seen": pd.Series("2026H1", index=range(n), dtype="string"),
        "merged_into": pd.Series([pd.NA] * n, dtype="string"), "risk_score": rng.random(n)})
    summary = pd.DataFrame({"level": "country", "period": "2026H1", "country": ["SLE", "GIN", "GIN"],
                            "registration": ["registered", "no_licence", "verified_not_mining"],
                            "area_ha": [3.0, 4.0, 1.0]})
    coded = categories(sites)
    assert all(isinstance(dtype, pd.CategoricalDtype) for name, dtype in coded.dtypes.items()
               if name not in ("in_border_zone", "transboundary", "risk_score"))
    plain, fast = country_overview(summary, sites, "2026H1"), country_overview(summary, coded, "2026H1")
    pd.testing.assert_frame_equal(fast, plain)
    chosen = (coded["registration"].isin(["no_licence"])) & (coded["commodity"] == "gold")
    pd.testing.assert_frame_equal(country_overview(summary, coded[chosen], "2026H1"),
                                  country_overview(summary, sites[chosen.to_numpy()], "2026H1"))
