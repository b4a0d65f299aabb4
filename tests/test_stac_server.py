"""The local STAC API (`raster.stac.server.LocalStacApi`) as a STAC client and GDAL see it: a real server on
127.0.0.1 over a folder written by `stac_catalog`, searched with pystac-client (POST and GET, paging, the query and
filter extensions), its COGs read by GDAL over /vsicurl/ with range requests, and hostile parameters answered 400.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import rasterio
from pystac_client import Client
from stac_catalog import COLLECTION, ItemSpec, daily_specs, write_catalog

from mrumonitor.config import ImagerySettings
from mrumonitor.raster.io import http_options
from mrumonitor.raster.stac.server import MAX_LIMIT, LocalStacApi

pytestmark = pytest.mark.integration

#: lon/lat box around the items of stac_catalog (its 64 x 64 px UTM grid near Koidu).
AROUND = [-11.0, 8.6, -10.9, 8.7]
ELSEWHERE = [-12.0, 9.5, -11.9, 9.6]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """Eight items five days apart from 2024-01-05; cloud cover 0, 10, ... 70 %."""
    root = tmp_path_factory.mktemp("stac")
    specs = daily_specs(8)
    for n, spec in enumerate(specs):
        spec.cloud_cover = 10.0 * n
    write_catalog(root, specs)
    with LocalStacApi(root) as served:
        yield served


def ids(search) -> list[str]:
    return [item.id for item in search.items()]


def get(url: str, headers: dict | None = None) -> tuple[int, dict]:
    """Status and JSON body of a GET, error answers included."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_search_by_bbox_datetime_and_cloud_cover_across_pages(api, method):
    client = Client.open(api.url)
    api.clear_requests()
    search = client.search(collections=[COLLECTION], bbox=AROUND, datetime="2024-01-08/2024-02-02",
                           query={"eo:cloud_cover": {"lte": 50}}, limit=2, method=method)
    # in the interval: 01-10 (10 %), 01-15 (20), 01-20 (30), 01-25 (40), 01-30 (50); 02-04 is after it
    assert ids(search) == ["S2_TEST_20240110", "S2_TEST_20240115", "S2_TEST_20240120", "S2_TEST_20240125",
                           "S2_TEST_20240130"]
    assert [m for m, path, _ in api.requests if path.startswith("/search")] == [method] * 3  # pages of 2, 2, 1


def test_cql2_json_filter_and_open_interval(api):
    client = Client.open(api.url)
    search = client.search(collections=[COLLECTION], datetime="2024-01-25/..", filter_lang="cql2-json",
                           filter={"op": "and", "args": [{"op": "<=", "args": [{"property": "eo:cloud_cover"}, 60]},
                                                         {"op": ">", "args": [{"property": "eo:cloud_cover"}, 30]}]})
    assert ids(search) == ["S2_TEST_20240125", "S2_TEST_20240130", "S2_TEST_20240204"]


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_intersects_a_geometry(api, method):
    client = Client.open(api.url)
    west, south, east, north = AROUND
    inside = {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, south]]]}
    far = {"type": "Point", "coordinates": [-12.0, 9.5]}
    assert ids(client.search(intersects=inside, max_items=2, method=method)) == ["S2_TEST_20240105",
                                                                                   "S2_TEST_20240110"]
    assert ids(client.search(intersects=far, method=method)) == []


def test_bbox_elsewhere_and_ids(api):
    client = Client.open(api.url)
    assert ids(client.search(collections=[COLLECTION], bbox=ELSEWHERE)) == []
    assert ids(client.search(ids=["S2_TEST_20240130", "S2_TEST_20240105"])) == ["S2_TEST_20240105",
                                                                                "S2_TEST_20240130"]


def test_landing_page_collections_and_items(api):
    status, landing = get(api.url + "/")
    assert status == 200
    assert {"self", "root", "search", "conformance", "data"} <= {link["rel"] for link in landing["links"]}
    assert "https://api.stacspec.org/v1.0.0/item-search" in landing["conformsTo"]
    assert get(api.url + "/conformance")[1]["conformsTo"] == landing["conformsTo"]
    assert [c["id"] for c in get(api.url + "/collections")[1]["collections"]] == [COLLECTION]
    collection = Client.open(api.url).get_collection(COLLECTION)
    assert collection.extent.temporal.intervals[0][0] == dt.datetime(2024, 1, 5, 10, 30, tzinfo=dt.UTC)
    page = get(f"{api.url}/collections/{COLLECTION}/items?limit=3")[1]
    assert [f["id"] for f in page["features"]] == ["S2_TEST_20240105", "S2_TEST_20240110", "S2_TEST_20240115"]
    second = get(next(link["href"] for link in page["links"] if link["rel"] == "next"))[1]
    assert [f["id"] for f in second["features"]] == ["S2_TEST_20240120", "S2_TEST_20240125", "S2_TEST_20240130"]
    item = get(f"{api.url}/collections/{COLLECTION}/items/S2_TEST_20240110")[1]
    assert item["properties"]["eo:cloud_cover"] == 10.0
    assert item["assets"]["B04"]["href"] == f"{api.files_url}/{COLLECTION}/assets/S2_TEST_20240110/B04.tif"


def test_gdal_reads_a_served_cog_with_range_requests(api):
    item = next(Client.open(api.url).search(ids=["S2_TEST_20240115"]).items())
    api.clear_requests()
    with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"), \
            rasterio.open("/vsicurl/" + item.assets["B08"].href) as dataset:
        values = dataset.read(1)
        assert (dataset.crs.to_epsg(), dataset.shape, dataset.nodata) == (32629, (64, 64), 0)
    assert (values == 3500).all()
    ranged = [r for m, path, r in api.requests if m == "GET" and path.endswith("/S2_TEST_20240115/B08.tif")]
    assert ranged and all(r and r.startswith("bytes=") for r in ranged)
    status, headers = _range(item.assets["B08"].href, "bytes=0-15")
    assert (status, headers["Content-Range"].split("/")[0], headers["Content-Length"]) == (206, "bytes 0-15", "16")


def _range(url: str, byte_range: str):
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Range": byte_range}), timeout=10) as answer:
        return answer.status, answer.headers


def test_hrefs_follow_the_address_not_the_folder(tmp_path):
    """The same folder served on two ports: each answer's hrefs name its own port; the files keep relative hrefs."""
    write_catalog(tmp_path, daily_specs(1))
    stored = json.loads((tmp_path / COLLECTION / "items" / "S2_TEST_20240105.json").read_text())
    assert stored["assets"]["SCL"]["href"] == "../assets/S2_TEST_20240105/SCL.tif"
    with LocalStacApi(tmp_path) as one, LocalStacApi(tmp_path) as two:
        hrefs = [next(Client.open(api.url).search(max_items=1).items()).assets["SCL"].href for api in (one, two)]
        assert hrefs == [f"{api.files_url}/{COLLECTION}/assets/S2_TEST_20240105/SCL.tif" for api in (one, two)]
    assert hrefs[0] != hrefs[1]


def test_a_server_started_again_on_its_port_over_changed_files_is_read_anew(tmp_path):
    """GDAL keeps what it read of a URL for the life of the process: a server started again on the same port over
    files that changed answers under new file URLs, so the same process reads the new pixels (and the old URL is
    404, never the stale bytes)."""

    def band_values(api: LocalStacApi) -> tuple[str, int]:
        href = next(Client.open(api.url).search(max_items=1).items()).assets["B04"].href
        with rasterio.Env(**http_options(ImagerySettings(timeout_s=10))), rasterio.open("/vsicurl/" + href) as cog:
            return href, int(cog.read(1)[0, 0])

    write_catalog(tmp_path, daily_specs(1))
    with LocalStacApi(tmp_path) as first:
        old_href, old_value = band_values(first)
    write_catalog(tmp_path, daily_specs(1, values={"B04": 999}))
    with LocalStacApi(tmp_path, port=int(first.url.rsplit(":", 1)[1])) as again:
        assert again.url == first.url
        new_href, new_value = band_values(again)
        status, _ = get(old_href)
    assert (old_value, new_value) == (2200, 999) and new_href != old_href and status == 404


def test_a_rewritten_item_is_answered_as_it_is_now(tmp_path):
    write_catalog(tmp_path, daily_specs(2))
    with LocalStacApi(tmp_path) as api:
        client = Client.open(api.url)
        assert ids(client.search(query={"eo:cloud_cover": {"lte": 20}})) == ["S2_TEST_20240105", "S2_TEST_20240110"]
        path = tmp_path / COLLECTION / "items" / "S2_TEST_20240110.json"
        item = json.loads(path.read_text())
        item["properties"]["eo:cloud_cover"] = 90.0
        path.write_text(json.dumps(item))
        assert ids(client.search(query={"eo:cloud_cover": {"lte": 20}})) == ["S2_TEST_20240105"]


def test_limit_is_capped(tmp_path):
    specs = [ItemSpec(f"I{n:04d}", dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n), bands=())
             for n in range(MAX_LIMIT + 5)]
    write_catalog(tmp_path, specs)
    with LocalStacApi(tmp_path) as api:
        page = get(api.url + "/search?limit=5000")[1]
    assert (page["numberReturned"], page["numberMatched"]) == (MAX_LIMIT, MAX_LIMIT + 5)


@pytest.mark.hostile
@pytest.mark.parametrize(("query", "words"), [
    ("bbox=1,2,3", "bbox must be"),
    ("bbox=10,0,0,1", "west <= east"),
    ("datetime=yesterday", "not an RFC 3339"),
    ("datetime=2024-02-01/2024-01-01", "ends before it starts"),
    ("limit=0", "at least 1"),
    ("limit=ten", "whole number"),
    ("token=../../etc", "not one this server gave"),
    ("collections=nope", "unknown collection"),
    ("query=%7Bbroken", "query is not valid JSON"),
    ('query={"eo:cloud_cover":{"like":3}}', "not supported"),
    ("filter-lang=cql2-text&filter=eo:cloud_cover<3", "not supported"),
    ('intersects={"type":"Polygon"}', "not a GeoJSON geometry"),
])
def test_bad_parameters_get_400_with_a_reason(api, query, words):
    status, body = get(f"{api.url}/search?{query.replace(' ', '%20')}")
    assert status == 400
    assert body["code"] == "BadRequest" and words in body["description"]


@pytest.mark.hostile
@pytest.mark.parametrize("path", ["/files/../../../etc/passwd", "/files/%2e%2e/%2e%2e/etc/passwd",
                                  f"/collections/{COLLECTION}/items/..%2F..%2Fcollection", "/collections/..",
                                  f"/files/{COLLECTION}/assets"])
def test_paths_outside_the_folder_or_not_files_are_404(api, path):
    status, body = get(api.url + path)
    assert status == 404 and body["code"] == "NotFound"


@pytest.mark.hostile
@pytest.mark.parametrize(("body", "status", "code"), [
    (json.dumps({"ids": ["x" * 100] * 20_000}).encode(), 413, "RequestEntityTooLarge"),
    (b"[1, 2", 400, "BadRequest"),
    (b"[1, 2]", 400, "BadRequest"),
])
def test_post_bodies_too_large_or_not_an_object(api, body, status, code):
    request = urllib.request.Request(api.url + "/search", data=body, headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == status and json.load(refused.value)["code"] == code


@pytest.mark.hostile
def test_a_broken_item_file_is_a_500_without_traceback(tmp_path):
    write_catalog(tmp_path, daily_specs(1))
    Path(tmp_path / COLLECTION / "items" / "S2_TEST_20240105.json").write_text("{broken")
    with LocalStacApi(tmp_path) as api:
        status, body = get(api.url + "/search")
    assert status == 500
    assert body == {"code": "InternalServerError", "description": "the server failed on this request; see its log"}


def test_wrap_sees_every_request_and_the_log_records_it(tmp_path):
    write_catalog(tmp_path, daily_specs(1))

    def teapot(app):
        def answer(environ, start_response):
            if environ["PATH_INFO"] == "/search":
                start_response("418 I'M A TEAPOT", [("Content-Type", "text/plain")])
                return [b"short and stout"]
            return app(environ, start_response)
        return answer

    with LocalStacApi(tmp_path, wrap=teapot) as api:
        assert get(api.url + "/conformance")[0] == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(api.url + "/search?limit=1", timeout=10)
        assert refused.value.code == 418
        assert api.requests == [("GET", "/conformance", None), ("GET", "/search?limit=1", None)]
