"""The OGC API - Features read by real clients from a real server on 127.0.0.1: GDAL's OAPIF driver (through
pyogrio, paging with a small page size, with a bbox, with HTTP Basic through GDAL's configuration) and OWSLib's
OGC API client (conformance, collections, items with bbox and limit, next links to the end). Each gets exactly the
features of the layer as published: ids, count, attributes, geometries within 1e-6 degree."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import DASHBOARD_USERS, auth_config, running_server
from ogcapi_world import (
    L_GAP,
    L_SITE,
    NEW_RUN,
    OLD_ONLY,
    OLD_RUN,
    api_server,
    expected,
    gdal_read,
    store_settings,
    write_api_store,
)
from owslib.ogcapi.features import Features
from owslib.util import Authentication

from mrumonitor.config import load_settings

pytestmark = pytest.mark.integration

#: Coordinates must come back within this many degrees.
TOLERANCE = 1e-6
#: The attributes compared, beside the id and the geometry.
SITE_COLUMNS = ["site_id", "country", "countries", "transboundary", "first_seen", "last_seen", "periods_seen",
                "registration", "area_ha", "risk_score"]
#: GDAL's page size in these tests: the 25 sites come in 4 pages.
PAGE_SIZE = 7


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_api_store(tmp_path_factory.mktemp("ogcapi-clients") / "layers")


@pytest.fixture(scope="module")
def seen():
    """The paths and queries the open server was asked for."""
    return []


@pytest.fixture(scope="module")
def open_url(store, seen):
    """The API's server with auth off (the demo's set-up)."""
    with running_server(api_server(store_settings(store), seen)) as url:
        yield url


@pytest.fixture(scope="module")
def auth_url(store, tmp_path_factory, secret_key):
    """The API's server with auth on (`conftest.DASHBOARD_USERS`)."""
    settings = load_settings(auth_config(store, tmp_path_factory.mktemp("ogcapi-auth")))
    with running_server(api_server(settings)) as url:
        yield url


def assert_same_features(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame, columns: list[str]) -> None:
    """`got` (read by a client) holds exactly the features of `want` (as published, WGS84)."""
    got = got.sort_values("site_id").reset_index(drop=True)
    want = want.sort_values("site_id").reset_index(drop=True)
    assert got["site_id"].tolist() == want["site_id"].tolist()
    pd.testing.assert_frame_equal(pd.DataFrame(got[columns]), pd.DataFrame(want[columns]), check_dtype=False)
    assert shapely.equals_exact(np.asarray(got.geometry), np.asarray(want.geometry), tolerance=TOLERANCE).all()


def read_with_gdal(url: str, layer: str, tmp_path, env=None, **options) -> gpd.GeoDataFrame:
    out = tmp_path / f"{layer}-{len(list(tmp_path.iterdir()))}.parquet"
    done = gdal_read(f"OAPIF:{url}/ogcapi", layer, out, env, **options)
    assert done.returncode == 0, done.stderr[-2000:]
    return gpd.read_parquet(out)


def test_gdal_reads_every_site_page_by_page(open_url, store, seen, tmp_path):
    seen.clear()
    got = read_with_gdal(open_url, "sites", tmp_path, PAGE_SIZE=PAGE_SIZE)
    want = expected(store, "sites")
    assert len(got) == len(want) == 25
    assert_same_features(got, want, SITE_COLUMNS)
    assert got["id"].tolist() == got["site_id"].tolist()  # the features' ids are the sites' ids
    pages = [path for path in seen if "/collections/sites/items" in path and f"limit={PAGE_SIZE}" in path]
    assert sorted(int(re.search(r"offset=(\d+)", path).group(1)) for path in pages if "offset=" in path) == [7, 14, 21]


def test_gdal_reads_a_bbox_exactly(open_url, store, tmp_path):
    """The box holds Sierra Leone sites, two of them cut by its west side, and the L-shaped site."""
    box = (-12.09, 7.85, -11.55, 8.95)
    got = read_with_gdal(open_url, "sites", tmp_path, bbox=list(box), PAGE_SIZE=PAGE_SIZE)
    want = expected(store, "sites")
    want = want[want.intersects(shapely.box(*box))]
    assert len(want) == 4 and L_SITE in set(want["site_id"])
    assert_same_features(got, want, SITE_COLUMNS)


def test_gdal_gets_nothing_inside_the_l_shaped_sites_gap(open_url, store, tmp_path):
    """The box meets the L-shaped site's box but not its footprint: the server answers the features that meet the
    box, not their boxes."""
    gap = read_with_gdal(open_url, "sites", tmp_path, bbox=list(L_GAP))
    assert len(gap) == 0
    sites = expected(store, "sites")
    assert shapely.box(*L_GAP).intersects(shapely.box(*sites.set_index("site_id").geometry[L_SITE].bounds))


def test_gdal_reads_a_table_and_a_layer_of_a_given_run(open_url, store, tmp_path):
    table = read_with_gdal(open_url, "registration_summary", tmp_path)
    assert sorted(table["country"]) == ["GIN", "SLE", "SLE"]
    out = tmp_path / "old.parquet"
    done = gdal_read(f"OAPIF:{open_url}/ogcapi/runs/{OLD_RUN}", "sites", out, PAGE_SIZE=PAGE_SIZE)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_same_features(gpd.read_parquet(out), expected(store, "sites", OLD_RUN), SITE_COLUMNS)


@pytest.mark.parametrize(("user", "countries"), [("kp_team", None), ("nma_sle", "SLE")])
def test_gdal_logs_in_with_http_basic(auth_url, store, tmp_path, user, countries):
    env = {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"{user}:{DASHBOARD_USERS[user][2]}"}
    got = read_with_gdal(auth_url, "sites", tmp_path, env, PAGE_SIZE=PAGE_SIZE)
    want = expected(store, "sites")
    if countries:  # an agency: the sites of its country, those crossing into it included
        want = want[want["countries"].str.contains(countries)]
        assert set(got["country"]) == {"SLE", "GIN"} and not got["site_id"].str.startswith(("GIN-", "LBR-")).any()
    assert_same_features(got, want, SITE_COLUMNS)


def test_gdal_without_credentials_is_refused(auth_url, tmp_path):
    done = gdal_read(f"OAPIF:{auth_url}/ogcapi", "sites", tmp_path / "none.parquet")
    assert done.returncode != 0 and "401" in done.stderr
    wrong = gdal_read(f"OAPIF:{auth_url}/ogcapi", "sites", tmp_path / "wrong.parquet",
                      {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": "nma_sle:not-the-password"})
    assert wrong.returncode != 0 and "401" in wrong.stderr


# --- OWSLib -------------------------------------------------------------------------------------------------

def owslib_pages(api: Features, collection: str, **query) -> list[dict]:
    """Every page of `collection`'s items asked with `query`, following the next links to the end."""
    pages = [api.collection_items(collection, **query)]
    while (following := [link["href"] for link in pages[-1]["links"] if link["rel"] == "next"]):
        assert len(pages) < 50
        query = dict(parse_qsl(urlsplit(following[0]).query))
        if "bbox" in query:  # OWSLib takes the numbers of a bbox, and joins them
            query["bbox"] = query["bbox"].split(",")
        pages.append(api.collection_items(collection, **query))
    return pages


@pytest.mark.parametrize("user", ["kp_team", "nma_sle"])
def test_owslib_reads_conformance_collections_and_every_page(auth_url, store, user):
    api = Features(f"{auth_url}/ogcapi/", auth=Authentication(user, DASHBOARD_USERS[user][2]))
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    assert api.api()["paths"]["/collections/{collectionId}/items"]["get"]["parameters"][1]["schema"]["maximum"] \
        == 10_000
    names = {collection["id"] for collection in api.collections()["collections"]}
    assert {"sites", "site_periods", "concessions", "registration_summary", "capacity"} <= names
    assert api.feature_collections() == sorted(names)
    assert set(api.collection_queryables("sites")["properties"]) >= {"site_id", "country", "registration"}
    box = [-12.5, 7.5, -10.5, 10.5]  # Sierra Leone, the border with Guinea, the south of Guinea's sites
    pages = owslib_pages(api, "sites", bbox=box, limit=3)
    ids = [feature["id"] for page in pages for feature in page["features"]]
    want = expected(store, "sites")
    want = want[want.intersects(shapely.box(*box))]
    if user == "nma_sle":
        want = want[want["countries"].str.contains("SLE")]
    assert sorted(ids) == sorted(want["site_id"]) and len(ids) == len(set(ids))
    assert len(pages) == -(-len(want) // 3) and all(page["numberMatched"] == len(want) for page in pages)
    assert [page["numberReturned"] for page in pages][:-1] == [3] * (len(pages) - 1)
    assert api.collection_item("sites", "SLE-1")["properties"]["site_id"] == "SLE-1"


def test_owslib_reads_a_published_run_by_its_id(open_url):
    api = Features(f"{open_url}/ogcapi/runs/{OLD_RUN}/")
    ids = [feature["id"] for page in owslib_pages(api, "sites", limit=10) for feature in page["features"]]
    assert OLD_ONLY in ids and len(ids) == 26
    assert NEW_RUN in Features(f"{open_url}/ogcapi/").response["description"]
