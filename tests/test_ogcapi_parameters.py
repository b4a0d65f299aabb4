"""The OGC API's resources and parameters over HTTP to a real server (auth off, as in the demo): the landing
page, conformance, the API definition, collections and their metadata, paging links that keep every other
parameter, ``datetime``, ``crs`` and ``bbox-crs``, property filters; and every bad parameter, unknown
collection, run, feature or address answered with the standard's status and an OGC exception, never a
traceback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from conftest import running_server
from ogcapi_world import NEW_RUN, OLD_RUN, SITES, api_server, store_settings, write_api_store

pytestmark = pytest.mark.integration

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
ITEMS = "/ogcapi/collections/sites/items"


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    store = write_api_store(tmp_path_factory.mktemp("ogcapi-parameters") / "layers")
    with running_server(api_server(store_settings(store))) as base:
        yield base


def get(url: str, path: str, **params) -> requests.Response:
    return requests.get(url + path, params=params, timeout=60)


def test_the_landing_page_links_the_api_conformance_and_collections(url):
    for path in ("/ogcapi", "/ogcapi/", f"/ogcapi/runs/{OLD_RUN}", "/ogcapi?f=json", "/ogcapi?f=html"):
        answer = get(url, path)
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
        rels = {link["rel"]: link for link in answer.json()["links"]}
        assert {"self", "service-desc", "conformance", "data"} <= set(rels)
        assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
        assert all(link["href"].startswith(url + "/ogcapi") for link in rels.values())
    assert f"/ogcapi/runs/{OLD_RUN}/api" in get(url, f"/ogcapi/runs/{OLD_RUN}").text
    conformance = get(url, "/ogcapi/conformance").json()["conformsTo"]
    assert {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"} <= set(conformance)


def test_the_api_definition_states_the_paths_and_the_limits(url):
    answer = get(url, "/ogcapi/api")
    assert answer.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = answer.json()
    assert document["openapi"].startswith("3.0") and document["servers"] == [{"url": url + "/ogcapi"}]
    items = document["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    limit = next(parameter for parameter in items if parameter["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 100}
    assert {parameter["name"] for parameter in items} >= {"bbox", "bbox-crs", "crs", "datetime", "offset"}


def test_a_collection_says_its_extent_time_crs_and_links(url):
    collections = get(url, "/ogcapi/collections").json()["collections"]
    assert [collection["id"] for collection in collections] == sorted(collection["id"] for collection in collections)
    assert not {"activity_2025H2"} & {collection["id"] for collection in collections}  # rasters are not features
    sites = get(url, "/ogcapi/collections/sites").json()
    west, south, east, north = sites["extent"]["spatial"]["bbox"][0]
    # the sites span (-12.4, 6.6) to (-9.68, 10.62): the extent (from the file's metadata, in the analysis CRS)
    # holds them, and little more
    assert -12.9 < west <= -12.4 and 6.1 < south <= 6.6 and -9.68 <= east < -9.18 and 10.62 <= north < 11.12
    assert sites["extent"]["temporal"]["interval"] == [["2025-07-01T00:00:00Z", "2026-06-30T23:59:59Z"]]
    assert "first_seen to last_seen" in sites["description"] and sites["itemType"] == "feature"
    assert sites["crs"][:2] == [CRS84, EPSG_4326] and sites["storageCrs"] == CRS84
    assert {link["rel"] for link in sites["links"]} >= {"self", "items"}
    assert "spatial" not in get(url, "/ogcapi/collections/registration_summary").json()["extent"]  # a table
    queryables = get(url, "/ogcapi/collections/sites/queryables")
    assert queryables.headers["Content-Type"] == "application/schema+json"
    properties = queryables.json()["properties"]
    assert properties["periods_seen"]["type"] == "integer" and properties["transboundary"]["type"] == "boolean"
    assert properties["country"]["type"] == "string" and "area_ha" not in properties  # numbers: no exact match


def test_pages_link_to_the_next_and_previous_keeping_every_other_parameter(url):
    first = get(url, ITEMS, limit="4", country="SLE", crs=EPSG_4326)
    assert first.headers["Content-Type"] == "application/geo+json" and first.headers["Content-Crs"] == f"<{EPSG_4326}>"
    body = first.json()
    assert body["type"] == "FeatureCollection" and body["numberMatched"] == 12 and body["numberReturned"] == 4
    assert body["timeStamp"].endswith("Z")
    links = {link["rel"]: link["href"] for link in body["links"]}
    assert "prev" not in links
    following = parse_qs(urlsplit(links["next"]).query)
    assert following == {"limit": ["4"], "country": ["SLE"], "crs": [EPSG_4326], "offset": ["4"]}
    last = get(url, ITEMS, limit="4", country="SLE", crs=EPSG_4326, offset="8").json()
    assert last["numberReturned"] == 4 and "next" not in {link["rel"] for link in last["links"]}
    assert parse_qs(urlsplit(next(link["href"] for link in last["links"] if link["rel"] == "prev")).query)[
        "offset"] == ["4"]
    assert get(url, ITEMS, limit="20000").json()["numberReturned"] == 25  # above the maximum: lowered to it


def test_crs_sets_the_axis_order_and_bbox_crs_reads_it(url):
    lon_lat = get(url, f"{ITEMS}/SLE-1").json()["geometry"]["coordinates"][0][0]
    lat_lon = get(url, f"{ITEMS}/SLE-1", crs="EPSG:4326").json()["geometry"]["coordinates"][0][0]
    assert lat_lon == pytest.approx(lon_lat[::-1])
    default = {f["id"] for f in get(url, ITEMS, bbox="-12.5,7.5,-11.5,8.5").json()["features"]}
    swapped = {f["id"] for f in get(url, ITEMS, bbox="7.5,-12.5,8.5,-11.5", **{"bbox-crs": EPSG_4326}).json()[
        "features"]}
    assert default == swapped == {f"SLE-{i}" for i in range(10)}


@pytest.mark.parametrize(("when", "sites"), [
    ("2025-08-01", {site for site, row in SITES.items() if row[4] == "2025H2"} | {"SLE-L"}),
    ("2026-03-01T10:00:00Z", {site for site, row in SITES.items() if row[5] == "2026H1"} | {"SLE-L"}),
    ("../2025-06-30", set()),
    ("2026-01-01/..", {site for site, row in SITES.items() if row[5] == "2026H1"} | {"SLE-L"}),
])
def test_datetime_selects_sites_by_the_periods_they_were_seen(url, when, sites):
    body = get(url, ITEMS, datetime=when, limit="100").json()
    assert {feature["id"] for feature in body["features"]} == sites


def test_datetime_selects_footprints_by_their_period_and_licences_by_their_days(url):
    footprints = get(url, "/ogcapi/collections/site_periods/items", datetime="2026-02-01", limit="1000").json()
    assert {f["properties"]["period"] for f in footprints["features"]} == {"2026H1"}
    licences = get(url, "/ogcapi/collections/concessions/items", datetime="2022-01-01").json()["features"]
    assert sorted(f["properties"]["licence_id"] for f in licences) == ["GN/01", "SL/01"]


def test_property_filters_combine(url):
    body = get(url, ITEMS, country="GIN", transboundary="true").json()
    assert {feature["id"] for feature in body["features"]} == {"SLEGIN-1"}
    assert get(url, ITEMS, periods_seen="2", country="LBR").json()["numberMatched"] == 0


def test_a_feature_has_its_links_and_a_published_run_its_own_features(url):
    feature = get(url, f"/ogcapi/runs/{OLD_RUN}/collections/sites/items/GIN-OLD").json()
    assert feature["type"] == "Feature" and feature["properties"]["site_id"] == "GIN-OLD"
    assert {link["rel"] for link in feature["links"]} == {"self", "collection"}
    assert get(url, f"/ogcapi/runs/{NEW_RUN}/collections/sites/items/GIN-OLD").status_code == 404
    licence = get(url, "/ogcapi/collections/concessions/items/SL%2F01").json()
    assert licence["id"] == "SL/01" and licence["links"][0]["href"].endswith("/items/SL%2F01")
    footprint = get(url, "/ogcapi/collections/site_periods/items/0").json()  # site ids repeat there: row numbers
    assert footprint["id"] == 0 and footprint["properties"]["site_id"] == "SLE-0"


@pytest.mark.parametrize(("path", "params", "status", "words"), [
    (ITEMS, {"limit": "-1"}, 400, "limit"),
    (ITEMS, {"limit": "0"}, 400, "limit"),
    (ITEMS, {"limit": "abc"}, 400, "limit"),
    (ITEMS, {"offset": "-3"}, 400, "offset"),
    (ITEMS, {"bbox": "1,2,3"}, 400, "four finite numbers"),
    (ITEMS, {"bbox": "-12,7,0,-11,8,100"}, 400, "3D"),
    (ITEMS, {"bbox": "nan,7,-11,8"}, 400, "finite"),
    (ITEMS, {"bbox": "-12,inf,-11,8"}, 400, "finite"),
    (ITEMS, {"bbox": "-12,9,-11,8"}, 400, "lower corner"),
    (ITEMS, {"bbox": "a,b,c,d"}, 400, "four finite numbers"),
    (ITEMS, {"bbox": "-12,7,-11,8", "bbox-crs": "EPSG:3857"}, 400, "bbox-crs"),
    (ITEMS, {"crs": "EPSG:99999"}, 400, "crs"),
    (ITEMS, {"crs": "<script>"}, 400, "crs"),
    (ITEMS, {"datetime": "garbage"}, 400, "RFC 3339"),
    (ITEMS, {"datetime": "2026-02-30"}, 400, "RFC 3339"),
    (ITEMS, {"datetime": "../.."}, 400, "RFC 3339"),
    (ITEMS, {"datetime": "2026-01-01/2025-01-01"}, 400, "before it starts"),
    (ITEMS, {"colour": "red"}, 400, "unknown parameter"),
    (ITEMS, {"periods_seen": "two"}, 400, "whole numbers"),
    (ITEMS, {"transboundary": "maybe"}, 400, "true or false"),
    (ITEMS, {"f": "xml"}, 400, "JSON"),
    ("/ogcapi/collections/registration_summary/items", {"bbox": "-12,7,-11,8"}, 400, "without geometry"),
    ("/ogcapi/collections/field_notes/items", {"datetime": "2025-01-01"}, 400, "has no time"),
    ("/ogcapi/collections/no_such_layer/items", {}, 404, "no collection"),
    ("/ogcapi/collections/activity_2025H2", {}, 404, "no collection"),
    ("/ogcapi/collections/sites/items/NO-SUCH-SITE", {}, 404, "no feature"),
    ("/ogcapi/collections/site_periods/items/999", {}, 404, "no feature"),
    ("/ogcapi/collections/site_periods/items/-1", {}, 404, "no feature"),
    ("/ogcapi/runs/20990101T000000Z-ffff/collections", {}, 404, "no published run"),
    ("/ogcapi/runs/..%2F..%2Fetc/collections", {}, 404, "no such address"),
    ("/ogcapi/runs/20990101T000000Z-ffff/collections/sites/items/SLE-1", {}, 404, "no published run"),
    ("/ogcapi/collections/sites/nothing", {}, 404, "no such address"),
    ("/ogcapi/runs", {}, 404, "no such address"),
])
def test_bad_requests_get_the_standards_answer(url, path, params, status, words):
    answer = get(url, path, **params)
    assert answer.status_code == status and answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert set(body) == {"code", "description"} and words in body["description"]
    assert body["code"] == {400: "InvalidParameterValue", 404: "NotFound"}[status]
    assert "Traceback" not in answer.text and 'File "' not in answer.text


def test_a_parameter_given_twice_is_refused(url):
    answer = requests.get(f"{url}{ITEMS}?limit=1&limit=2", timeout=60)
    assert answer.status_code == 400 and "given 2 times" in answer.json()["description"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_the_api_is_read_only(url, method):
    answer = requests.request(method, f"{url}{ITEMS}", json={"type": "Feature"}, timeout=60)
    assert answer.status_code == 405 and answer.json()["code"] == "MethodNotAllowed"
    assert answer.headers["Allow"] == "GET, HEAD"


def test_a_damaged_run_and_a_bug_are_said_without_a_traceback(tmp_path, monkeypatch):
    store = tmp_path / "layers"
    write_api_store(store)
    (store / "runs" / OLD_RUN / "concessions.parquet").unlink()  # a store edited by hand
    server = api_server(store_settings(store))
    with running_server(server) as base:
        damaged = get(base, f"/ogcapi/runs/{OLD_RUN}/collections")
        assert damaged.status_code == 503 and damaged.json()["code"] == "ServiceUnavailable"
        assert "concessions" in damaged.json()["description"]
        assert get(base, "/ogcapi/collections").status_code == 200  # the latest run is whole

        def fails(*args, **kwargs):
            raise RuntimeError("a bug")

        monkeypatch.setattr("mrumonitor.dashboard.ogcapi.service.select", fails)
        bug = get(base, ITEMS)
        assert bug.status_code == 500 and bug.json()["code"] == "NoApplicableCode"
        assert "a bug" not in bug.text and "Traceback" not in bug.text
