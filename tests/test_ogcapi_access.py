"""Who gets what from the OGC API, over HTTP to a real server with auth on: HTTP Basic only on the API's paths and
only for GET, the same users, hashes and failed-login throttle as the login form; and an agency user (Basic or a
dashboard session) never gets another country's site-level feature, whatever it asks: a bbox elsewhere, property
filters naming another country, paging past the end, a run id of its choosing, a feature id of another country,
CRS parameters. Aggregates come whole."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from conftest import DASHBOARD_USERS, HttpClient, auth_config, log_in, running_server
from ogcapi_world import COUNTRYLESS, NEW_RUN, OLD_ONLY, OLD_RUN, SITES, api_server, write_api_store

from mrumonitor.config import load_settings

pytestmark = pytest.mark.integration

#: Sites the SLE agency may see: Sierra Leone's and those crossing into it.
SLE_SEES = {site for site, row in SITES.items() if "SLE" in row[3]} | {"SLE-L"}
#: Guinea's own sites (and the one only the older run holds).
GIN_ONLY = {site for site, row in SITES.items() if row[3] == "GIN"} | {OLD_ONLY}
#: A box around Guinea's sites (lon/lat), away from every site the SLE agency sees.
GUINEA_BOX = (-10.7, 9.95, -9.6, 10.7)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_api_store(tmp_path_factory.mktemp("ogcapi-access") / "layers")


@pytest.fixture(scope="module")
def settings(store, tmp_path_factory, secret_key):
    return load_settings(auth_config(store, tmp_path_factory.mktemp("ogcapi-access-auth")))


@pytest.fixture(scope="module")
def url(settings):
    with running_server(api_server(settings)) as base:
        yield base


def basic(user: str) -> tuple[str, str]:
    return user, DASHBOARD_USERS[user][2]


@pytest.fixture(scope="module")
def session(url):
    """The SLE agency logged in through the dashboard's login form (a session cookie, no Basic)."""
    client = HttpClient(url)
    assert log_in(client, "nma_sle").status == 302
    return client


@pytest.fixture(scope="module", params=["basic", "session"])
def agency_get(request, url, session):
    """GET as the SLE agency, by HTTP Basic or by its dashboard session: (status, JSON body)."""

    def get(path: str, **params) -> tuple[int, dict]:
        if request.param == "basic":
            answer = requests.get(url + path, params=params, auth=basic("nma_sle"), timeout=60)
            return answer.status_code, answer.json()
        query = requests.Request("GET", url + path, params=params).prepare().path_url
        reply = session.request("GET", query)
        return reply.status, json.loads(reply.body)

    return get


def site_ids(body: dict) -> set[str]:
    return {feature["properties"]["site_id"] for feature in body["features"]}


def assert_sle_only(body: dict) -> None:
    """No feature of the page is of a site the SLE agency may not see."""
    ids = site_ids(body)
    assert ids <= SLE_SEES, ids - SLE_SEES
    assert not ids & GIN_ONLY


# --- logging in -----------------------------------------------------------------------------------------------

def test_without_credentials_the_api_answers_401_asking_for_basic(url):
    answer = requests.get(f"{url}/ogcapi/collections", timeout=60)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == 'Basic realm="mrumonitor"'
    assert answer.json()["code"] == "Unauthorized" and "HTTP Basic" in answer.json()["description"]
    assert requests.get(f"{url}/ogcapi/collections", auth=("nma_sle", "wrong"), timeout=60).status_code == 401
    assert requests.get(f"{url}/ogcapi/collections", auth=("nobody", "koidu-2026"), timeout=60).status_code == 401


def test_basic_opens_no_session_and_works_only_on_the_api_for_get(url):
    answer = requests.get(f"{url}/ogcapi/collections", auth=basic("nma_sle"), timeout=60)
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    # a write is never taken on Basic alone (no form token): refused before any route
    assert requests.post(f"{url}/ogcapi/collections", auth=basic("kp_team"), timeout=60).status_code == 401
    assert requests.get(f"{url}/download/{NEW_RUN}/sites.csv", auth=basic("kp_team"), timeout=60).status_code == 401


def test_a_session_posting_to_the_api_gets_405(session):
    reply = session.request("POST", "/ogcapi/collections")
    assert reply.status == 405 and reply.headers["Allow"] == "GET, HEAD"
    assert json.loads(reply.body)["code"] == "MethodNotAllowed"


def test_basic_logins_share_the_login_forms_throttle(settings, store):
    dashboard = settings.dashboard.model_copy(update={"login_attempts": "3 per minute"})
    with running_server(api_server(settings.model_copy(update={"dashboard": dashboard}))) as base:
        for _ in range(3):
            assert requests.get(f"{base}/ogcapi", auth=("nma_sle", "guess"), timeout=60).status_code == 401
        refused = requests.get(f"{base}/ogcapi", auth=basic("nma_sle"), timeout=60)
        assert refused.status_code == 429 and refused.json()["code"] == "TooManyRequests"
        assert refused.headers["Retry-After"] == "60"
        # the login form counts the same failures
        assert log_in(HttpClient(base), "nma_sle").status == 429


def test_the_regional_team_sees_every_country(url):
    answer = requests.get(f"{url}/ogcapi/collections/sites/items", params={"bbox": ",".join(map(str, GUINEA_BOX))},
                          auth=basic("kp_team"), timeout=60)
    assert site_ids(answer.json()) >= GIN_ONLY - {OLD_ONLY}


# --- an agency, whatever it asks ------------------------------------------------------------------------------

def test_an_agency_gets_its_countrys_sites_and_those_crossing_into_it(agency_get):
    status, body = agency_get("/ogcapi/collections/sites/items", limit="1000")
    assert status == 200 and site_ids(body) == SLE_SEES and body["numberMatched"] == len(SLE_SEES)


@pytest.mark.parametrize(("params", "found"), [
    ({"bbox": ",".join(map(str, GUINEA_BOX))}, set()),
    ({"bbox": "9.95,-10.7,10.7,-9.6", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}, set()),
    ({"bbox": ",".join(map(str, GUINEA_BOX)), "crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}, set()),
    ({"countries": "GIN"}, set()), ({"site_id": "GIN-1"}, set()), ({"country": "LBR"}, set()),
    ({"site_id": OLD_ONLY}, set()), ({"transboundary": "false", "country": "GIN"}, set()),
    # Guinea's by its main country, but crossing into Sierra Leone: the agency's too
    ({"country": "GIN", "offset": "0", "limit": "10000"}, {"SLEGIN-1"}),
])
def test_an_agency_asking_for_another_country_gets_none_of_its_sites(agency_get, params, found):
    status, body = agency_get("/ogcapi/collections/sites/items", **params)
    assert status == 200 and site_ids(body) == found and body["numberMatched"] == len(found)
    assert not [link for link in body["links"] if link["rel"] == "next"]


def test_an_agency_paging_to_the_end_and_past_it_gets_only_its_sites(agency_get):
    ids, path, params = set(), "/ogcapi/collections/sites/items", {"limit": "2"}
    for _ in range(20):
        status, body = agency_get(path, **params)
        assert status == 200
        assert_sle_only(body)
        ids |= site_ids(body)
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            break
        params = dict(parse_qsl(urlsplit(following[0]).query))
    assert ids == SLE_SEES
    status, past = agency_get(path, limit="5", offset="1000")
    assert status == 200 and past["features"] == [] and past["numberMatched"] == len(SLE_SEES)
    assert not [link for link in past["links"] if link["rel"] == "next"]


@pytest.mark.parametrize("run", [OLD_RUN, NEW_RUN, "latest"])
def test_an_agency_choosing_the_run_gets_the_same_rule(agency_get, run):
    status, body = agency_get(f"/ogcapi/runs/{run}/collections/sites/items", limit="1000")
    assert status == 200
    assert_sle_only(body)
    assert agency_get(f"/ogcapi/runs/{run}/collections/sites/items/GIN-1")[0] == 404
    assert agency_get(f"/ogcapi/runs/{run}/collections/sites/items/{OLD_ONLY}")[0] == 404


def test_another_countrys_feature_is_not_found_as_if_it_did_not_exist(agency_get):
    status, other = agency_get("/ogcapi/collections/sites/items/GIN-1")
    nothing_status, nothing = agency_get("/ogcapi/collections/sites/items/NO-SUCH-SITE")
    assert status == nothing_status == 404 and other["code"] == nothing["code"] == "NotFound"
    assert other["description"].replace("GIN-1", "X") == nothing["description"].replace("NO-SUCH-SITE", "X")
    status, own = agency_get("/ogcapi/collections/sites/items/SLEGIN-1", crs="EPSG:4326")
    assert status == 200 and own["id"] == "SLEGIN-1"


@pytest.mark.parametrize("crs", ["http://www.opengis.net/def/crs/EPSG/0/4326", "EPSG:4326", "OGC:CRS84"])
def test_crs_parameters_change_coordinates_never_what_an_agency_sees(agency_get, crs):
    status, body = agency_get("/ogcapi/collections/sites/items", crs=crs, limit="1000")
    assert status == 200 and site_ids(body) == SLE_SEES


def test_layers_joined_to_sites_keep_to_the_agencys_sites(agency_get):
    status, periods = agency_get("/ogcapi/collections/site_periods/items", limit="1000")
    assert status == 200 and periods["numberMatched"] > 0
    assert_sle_only(periods)
    status, areas = agency_get("/ogcapi/collections/site_country_areas/items", limit="1000", country="GIN")
    assert status == 200 and site_ids(areas) == {"SLEGIN-1"}  # a site crossing into Sierra Leone, area in Guinea
    status, licences = agency_get("/ogcapi/collections/concessions/items", limit="1000")
    assert status == 200 and {f["properties"]["country"] for f in licences["features"]} == {"SLE"}


def test_aggregates_come_whole_and_a_countryless_site_level_table_not_at_all(agency_get):
    status, summary = agency_get("/ogcapi/collections/registration_summary/items")
    assert status == 200 and {f["properties"]["country"] for f in summary["features"]} == {"SLE", "GIN"}
    status, collections = agency_get("/ogcapi/collections")
    names = {collection["id"] for collection in collections["collections"]}
    assert COUNTRYLESS not in names and {"sites", "registration_summary"} <= names
    status, refused = agency_get(f"/ogcapi/collections/{COUNTRYLESS}/items")
    assert status == 403 and refused["code"] == "Forbidden" and "a note" not in json.dumps(refused)
    status, api = agency_get("/ogcapi/api")
    assert COUNTRYLESS not in api["paths"]["/collections/{collectionId}"]["get"]["parameters"][0]["schema"]["enum"]


def test_the_regional_team_gets_the_countryless_table(url):
    answer = requests.get(f"{url}/ogcapi/collections/{COUNTRYLESS}/items", auth=basic("kp_team"), timeout=60)
    assert answer.status_code == 200 and answer.json()["numberMatched"] == 1



def test_the_dashboard_serves_the_api_behind_its_login(auth_settings, secret_key):
    """The whole Dash dashboard (`create_app`) serves the API, its pages router taking nothing of it."""
    from mrumonitor.dashboard.app import create_app

    with running_server(create_app(auth_settings).server) as base:
        refused = requests.get(f"{base}/ogcapi/collections/sites/items", timeout=60)
        assert refused.status_code == 401 and refused.json()["code"] == "Unauthorized"
        answer = requests.get(f"{base}/ogcapi/collections/sites/items", auth=basic("nma_sle"), timeout=60)
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/geo+json"
        assert {feature["id"] for feature in answer.json()["features"]} == {"SLE-1", "SLE-2", "SLE_GIN"}
        assert requests.get(f"{base}/ogcapi/nothing", auth=basic("nma_sle"), timeout=60).json()["code"] == "NotFound"
