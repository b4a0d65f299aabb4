"""The OGC API's parts on their own: the ``datetime`` parameter and the features' time spans, the CRS names it
takes and the axis order it sends, and a feature collection's text (ids, null geometries of a table, texts
holding line breaks)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS

from mrumonitor.dashboard.ogcapi.crs_options import CRS84, EPSG_4326, bbox_to_crs84, crs_uri, offered_crs, to_crs
from mrumonitor.dashboard.ogcapi.timespans import feature_spans, meets, parse_datetime, time_columns
from mrumonitor.errors import UnknownOption

pytestmark = pytest.mark.unit

PERIODS = [{"name": "2025H2", "start": "2025-07-01", "end": "2025-12-31"},
           {"name": "2026H1", "start": "2026-01-01", "end": "2026-06-30"}]


def second(text: str) -> np.datetime64:
    return np.datetime64(text, "s")


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2025-08-01", "2025-08-01T00:00:00", "2025-08-01T23:59:59"),
    ("2025-08-01T12:30:00Z", "2025-08-01T12:30:00", "2025-08-01T12:30:00"),
    ("2025-08-01t12:30:00+02:00", "2025-08-01T10:30:00", "2025-08-01T10:30:00"),
    ("2025-07-01/2025-12-31", "2025-07-01T00:00:00", "2025-12-31T23:59:59"),
    ("../2025-12-31", None, "2025-12-31T23:59:59"),
    ("2025-07-01/..", "2025-07-01T00:00:00", None),
    ("2025-07-01/", "2025-07-01T00:00:00", None),
])
def test_datetime_instants_and_intervals(text, first, last):
    start, end = parse_datetime(text)
    assert (np.isnat(start) if first is None else start == second(first))
    assert (np.isnat(end) if last is None else end == second(last))


@pytest.mark.parametrize("text", ["", "..", "../..", "/", "yesterday", "2025-13-01", "2025-02-30", "2025-08-01T25:00Z",
                                  "2025-01-01/2024-01-01", "2025-01-01/2025-02-01/2025-03-01", "2025-W31"])
def test_bad_datetimes_say_how_to_write_one(text):
    with pytest.raises(UnknownOption, match="datetime"):
        parse_datetime(text)


def test_features_hold_for_the_days_of_their_periods_dates_or_years():
    frame = pd.DataFrame({"first_seen": ["2025H2", "2026H1", None, "1999H1"],
                          "last_seen": ["2026H1", "2026H1", None, None],
                          "year": [2025, None, 2026, 2024]})
    spec = time_columns(list(frame.columns))
    assert (spec.start, spec.end, spec.kind) == ("first_seen", "last_seen", "period")
    starts, ends = feature_spans(frame, spec, PERIODS)
    assert starts[0] == second("2025-07-01T00:00:00") and ends[0] == second("2026-06-30T23:59:59")
    assert np.isnat(starts[2]) and np.isnat(ends[2]) and np.isnat(starts[3])  # unknown periods: open
    hits = meets(starts, ends, *parse_datetime("2025-12-31T23:59:59Z"))
    assert hits.tolist() == [True, False, False, False]  # no time at all: never selected
    years = feature_spans(frame, time_columns(["year"]), PERIODS)
    assert meets(*years, *parse_datetime("2026-12-31")).tolist() == [False, False, True, False]
    assert time_columns(["site_id", "area_ha"]) is None


@pytest.mark.parametrize(("text", "uri"), [
    (CRS84, CRS84), ("OGC:CRS84", CRS84), ("[ogc:crs84]", CRS84), ("EPSG:4326", EPSG_4326), (EPSG_4326, EPSG_4326),
    ("https://www.opengis.net/def/crs/EPSG/0/32629", "http://www.opengis.net/def/crs/EPSG/0/32629"),
])
def test_crs_names_taken(text, uri):
    assert crs_uri(text, offered_crs(CRS("EPSG:32629")), "crs") == uri


@pytest.mark.parametrize("text", ["EPSG:3857", "EPSG:32629", "4326", "WGS84", "http://example.com/crs/4326", ""])
def test_a_crs_the_run_does_not_offer_is_refused_with_the_list(text):
    offered = offered_crs(CRS("+proj=aea +lat_0=8.5 +lon_0=-8.8 +lat_1=5.7 +lat_2=11.3 +datum=WGS84 +units=m"))
    assert offered == [CRS84, EPSG_4326]  # a custom projection has no EPSG code: not offered
    with pytest.raises(UnknownOption, match="use one of: .*CRS84.*4326"):
        crs_uri(text, offered, "crs")


def test_coordinates_go_out_in_the_crs_axis_order():
    point = np.array([shapely.Point(-11.5, 8.25)])
    assert shapely.get_coordinates(to_crs(point, CRS84)).tolist() == [[-11.5, 8.25]]
    assert shapely.get_coordinates(to_crs(point, EPSG_4326)).tolist() == [[8.25, -11.5]]
    easting, northing = shapely.get_coordinates(to_crs(point, "http://www.opengis.net/def/crs/EPSG/0/32629"))[0]
    assert 200_000 < easting < 250_000 and 900_000 < northing < 925_000  # UTM 29N
    assert bbox_to_crs84((8.0, -12.0, 9.0, -11.0), EPSG_4326) == pytest.approx((-12.0, 8.0, -11.0, 9.0))


def test_a_page_of_features_is_valid_geojson_whatever_its_texts(tmp_path):
    from types import SimpleNamespace

    from mrumonitor.dashboard.ogcapi.responses import feature_collection

    attributes = pd.DataFrame({"note": ["line one\nline two", "paragraph\u2028separator", None],
                               "day": pd.to_datetime(["2025-01-02", None, "2025-03-04"])})
    loaded = SimpleNamespace(collection=SimpleNamespace(name="notes"), attributes=attributes, geoms=None,
                             ids=np.arange(3))
    text = feature_collection("http://host/ogcapi", loaded, np.array([0, 1, 2]), 3, 0, 100, CRS84, {})
    features = json.loads(text)["features"]
    assert [f["id"] for f in features] == [0, 1, 2] and all(f["geometry"] is None for f in features)
    assert [f["properties"]["note"] for f in features] == ["line one\nline two", "paragraph\u2028separator", None]
    assert features[0]["properties"]["day"].startswith("2025-01-02")
