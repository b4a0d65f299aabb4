"""Dashboard access: the roles' rules, the login page, sessions, and the guard in front of every route.

The guard and login run first on a bare Flask server (install_access uses nothing but `app.server`), through
Flask's test client and HTTP to a real waitress server; then on the whole dashboard of a demo run served by
waitress: HTTP with a session cookie against every route, Dash callbacks posted directly, and headless
Chromium logging in through the login page and downloading a GeoPackage.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import flask
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from click.testing import CliRunner
from conftest import (
    DASHBOARD_RUN,
    DASHBOARD_USERS,
    TEST_SECRET_ENV,
    FlaskClient,
    HttpClient,
    callback_body,
    log_in,
    log_out,
)
from werkzeug.security import check_password_hash

from mrumonitor.cli import cli
from mrumonitor.config import load_settings
from mrumonitor.dashboard.access import (
    AGGREGATE_LAYERS,
    REGIONAL,
    SITE_LEVEL_LAYERS,
    Access,
    current_access,
    install_access,
    is_site_level,
)
from mrumonitor.dashboard.routes import download_url, install_routes, overlay_url, reference_url
from mrumonitor.errors import AccessDenied, ConfigError
from mrumonitor.runfolder import RunFolder
from mrumonitor.store.runs import resolve_run

AGENCY = Access("nma_sle", "agency", "SLE")


@pytest.mark.unit
@pytest.mark.parametrize(("countries", "agency_sees"), [
    ("SLE", True), ("sle", True), ("GIN", False), (None, False), ("", False), ("GIN;SLE", True),
    ("CIV;GHA", False), ("GIN, SLE", True), (["GIN", "SLE"], True), (("LBR",), False), (["GIN;SLE"], True)])
def test_agency_sees_sites_of_its_country_and_those_crossing_into_it(countries, agency_sees):
    assert AGENCY.sees_sites(countries) is agency_sees
    assert REGIONAL.sees_sites(countries) and REGIONAL.regional and not AGENCY.regional
    if agency_sees:
        AGENCY.require_sites(countries)
    else:
        with pytest.raises(AccessDenied, match="site-level data of SLE only"):
            AGENCY.require_sites(countries)


@pytest.mark.unit
@pytest.mark.parametrize("layer", sorted(SITE_LEVEL_LAYERS) + ["activity_2026H1", "activity_scenes_koidu_2025H2"])
def test_site_level_layers(layer):
    assert is_site_level(layer)


@pytest.mark.unit
@pytest.mark.parametrize("layer", sorted(AGGREGATE_LAYERS))
def test_aggregate_layers(layer):
    assert not is_site_level(layer)


@pytest.mark.integration
def test_everyone_is_regional_when_auth_is_off(dashboard_store, tmp_path):
    settings = load_settings().model_copy(update={"paths": load_settings().paths.model_copy(
        update={"store": dashboard_store})})
    app = SimpleNamespace(server=flask.Flask("no-auth"))
    install_access(app, settings)
    install_routes(app, settings)
    assert current_access() == REGIONAL  # outside a request
    client = app.server.test_client()
    assert client.get("/login").status_code == 404  # no login page
    with app.server.test_request_context("/"):
        assert current_access() == REGIONAL
    reply = client.get(download_url(DASHBOARD_RUN, "sites", "csv", "GIN"))
    assert reply.status_code == 200 and b"GIN-1" in reply.data
    assert client.get(overlay_url(DASHBOARD_RUN, "2025H2")).status_code == 200


@pytest.mark.unit
def test_auth_without_its_secret_key_is_a_clear_error(auth_settings, monkeypatch):
    monkeypatch.delenv(TEST_SECRET_ENV, raising=False)
    with pytest.raises(ConfigError, match=f"environment variable {TEST_SECRET_ENV}"):
        install_access(SimpleNamespace(server=flask.Flask("no-secret")), auth_settings)


# --- the login page and the guard, through both clients ------------------------------------------------

@pytest.fixture(scope="module")
def server(auth_settings, secret_key) -> flask.Flask:
    app = SimpleNamespace(server=flask.Flask("access-test"))
    install_access(app, auth_settings)
    install_routes(app, auth_settings)

    @app.server.route("/whoami")
    def whoami():
        access = current_access()
        return f"{access.user} {access.role} {access.country}"

    return app.server


@pytest.fixture(params=["flask", "http"])
def client(request, server):
    return FlaskClient(server) if request.param == "flask" else HttpClient(request.getfixturevalue("base_url"))


DATA_REQUESTS = [
    ("POST", "/_dash-update-component"), ("GET", "/_dash-layout"), ("GET", "/_dash-dependencies"),
    ("GET", "/_dash-component-suites/dash/deps/react@18.3.1.min.js"), ("GET", "/_reload-hash"),
    ("GET", "/assets/style.css"),
    ("GET", download_url(DASHBOARD_RUN, "capacity", "csv")), ("GET", download_url("latest", "sites", "gpkg", "SLE")),
    ("GET", overlay_url(DASHBOARD_RUN, "2025H2")), ("GET", reference_url(DASHBOARD_RUN, "countries")),
    ("GET", "/dossier/SLE-1.html"), ("POST", "/whoami"),
    ("GET", "/download/..%2F..%2Fetc%2Fpasswd")]


@pytest.mark.integration
@pytest.mark.parametrize(("method", "path"), DATA_REQUESTS)
def test_data_requests_without_a_session_get_401(client, method, path):
    reply = client.request(method, path)
    assert reply.status == 401
    assert "Log in first" in reply.text


@pytest.mark.integration
@pytest.mark.parametrize("path", ["/", "/map", "/downloads?country=GIN", "/whoami"])
def test_pages_without_a_session_redirect_to_the_login_page(client, path):
    reply = client.request("GET", path)
    assert reply.status == 302
    location = reply.headers["Location"]
    assert re.match(r"^(http://[^/]+)?/login\?next=", location)
    assert path.split("?")[0] in location.replace("%2F", "/")


@pytest.mark.integration
def test_login_page_and_its_stylesheet_are_public_and_local(client):
    page = client.request("GET", "/login")
    assert page.status == 200 and '<form method="post" action="/login">' in page.text
    assert 'href="/login.css"' in page.text and "http" not in re.sub(r"<a [^>]+>", "", page.text).split("<body>")[1]
    style = client.request("GET", "/login.css")
    assert style.status == 200 and style.headers["Content-Type"].startswith("text/css")


@pytest.mark.integration
@pytest.mark.parametrize("user", sorted(DASHBOARD_USERS))
def test_a_user_logs_in_and_out(client, user):
    reply = log_in(client, user, next_page="/whoami")
    assert reply.status == 302 and reply.headers["Location"].endswith("/whoami")
    role, country, _ = DASHBOARD_USERS[user]
    assert client.request("GET", "/whoami").text == f"{user} {role} {country}"
    assert log_out(client).status == 302
    assert client.request("GET", "/whoami").status == 302
    assert client.request("GET", download_url(DASHBOARD_RUN, "capacity", "csv")).status == 401


@pytest.mark.integration
def test_session_cookie_is_http_only_and_same_site(client):
    reply = log_in(client, "nma_sle")
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.integration
@pytest.mark.parametrize(("user", "password"), [("nma_sle", "wrong"), ("nobody", "koidu-2026"),
                                                ("nma_sle", ""), ("kp_team", "koidu-2026")])
def test_wrong_credentials_are_refused(client, user, password):
    reply = log_in(client, user, password)
    assert reply.status == 401 and "Unknown user name or wrong password." in reply.text
    assert client.request("GET", "/whoami").status == 302


@pytest.mark.integration
def test_login_without_the_form_token_is_refused(client):
    client.request("GET", "/login")
    reply = client.request("POST", "/login", data={"username": "nma_sle", "password": "koidu-2026", "csrf": "forged"})
    assert reply.status == 401 and "The form expired" in reply.text
    assert client.request("GET", "/whoami").status == 302


@pytest.mark.integration
def test_a_second_login_page_keeps_the_first_forms_token(client):
    """The browser's favicon request, redirected to /login, or a second tab must not expire the form shown."""
    first = client.request("GET", "/login")
    client.request("GET", "/login?next=%2Fmap")
    token = re.search(r'name="csrf" value="([^"]+)"', first.text).group(1)
    reply = client.request("POST", "/login", data={"username": "nma_sle", "password": "koidu-2026", "csrf": token})
    assert reply.status == 302


@pytest.mark.integration
@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_login_never_redirects_to_another_site(client, target):
    reply = log_in(client, "nma_sle", next_page=target.replace("/", "%2F").replace("\\", "%5C"))
    assert reply.status == 302
    assert re.sub(r"^http://[^/]+", "", reply.headers["Location"]) == "/"


@pytest.mark.unit
def test_hash_password_prints_a_hash_that_checks():
    result = CliRunner().invoke(cli, ["serve", "--hash-password"], input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    hashed = re.search(r'password_hash = "([^"]+)"', result.output).group(1)
    assert check_password_hash(hashed, "s3cret-pass") and not check_password_hash(hashed, "other")
    assert "s3cret-pass" not in result.output.split("Paste")[1]


# --- the whole dashboard of a demo run, served by waitress ----------------------------------------------

@pytest.fixture(scope="module")
def demo_run(demo_settings) -> Path:
    return resolve_run(demo_settings.paths.store)


@pytest.fixture(scope="module")
def site_countries(demo_run) -> dict[str, set[str]]:
    """site_id -> the countries the site lies in."""
    sites = pd.read_parquet(RunFolder(demo_run).layer("sites"), columns=["site_id", "countries"])
    return {site: set(str(countries).split(";")) for site, countries in zip(sites["site_id"], sites["countries"])}


def user_client(url: str, user: str | None) -> HttpClient:
    client = HttpClient(url)
    if user:
        assert log_in(client, user).status == 302
    return client


#: The filter bar's values, the country left to each test.
FILTERS = {"filter-period.value": "2026H1", "filter-commodity.value": "", "filter-registration.value": [],
           "filter-border-only.value": []}
#: A view of the map over south-eastern Guinea (Guinea-only sites), at a zoom showing single sites.
GUINEA_VIEW = {"mainmap-map.zoom": 12, "mainmap-map.bounds": [[9.5, -10.0], [9.8, -9.5]]}
TABLE = {"unreg-table.page_current": 0, "unreg-table.page_size": 500, "unreg-table.sort_by": [],
         "unreg-table.filter_query": ""}


def site_callbacks(client: HttpClient, country: str) -> dict[str, list[str]]:
    """The site ids the table callback answers for `country`, posted as the browser would (the map's sites come as
    vector tiles, no callback: test_dashboard_map_tiles.py)."""
    dependencies = json.loads(client.request("GET", "/_dash-dependencies").body)
    values = {**FILTERS, "filter-country.value": country, **GUINEA_VIEW, **TABLE}
    answers = {}
    for output, component in (("unreg-table.data", "unreg-table"),):
        reply = client.request("POST", "/_dash-update-component", json=callback_body(dependencies, output, values))
        assert reply.status == 200, reply.text
        data = json.loads(reply.body)["response"][component]["data"]
        rows = data["features"] if isinstance(data, dict) else data
        answers[output] = [row.get("properties", row).get("site_id") for row in rows]
    return answers


@pytest.mark.demo
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/_dash-layout"), ("GET", "/_dash-dependencies"), ("POST", "/_dash-update-component"),
    ("GET", "/assets/style.css"), ("GET", "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js"),
    ("GET", "/download/latest/capacity.csv"), ("GET", "/download/latest/sites.gpkg?country=SLE"),
    ("GET", "/overlay/latest/2026H1.png"), ("GET", "/reference/latest/borders.geojson"),
    ("GET", "/dossier/latest/MS-25335fbe20.html")])
def test_full_app_refuses_data_without_a_session(demo_url, method, path):
    reply = user_client(demo_url, None).request(method, path)
    assert reply.status == 401, reply.text


@pytest.mark.demo
@pytest.mark.parametrize("path", ["/", "/map", "/unregistered", "/border", "/downloads", "/runs", "/site/x"])
def test_full_app_pages_redirect_to_login_without_a_session(demo_url, path):
    reply = user_client(demo_url, None).request("GET", path)
    assert reply.status == 302 and "/login?next=" in reply.headers["Location"]


@pytest.mark.demo
def test_agency_gets_no_other_countrys_sites_from_the_dash_callbacks(demo_url, site_countries):
    guinea_only = {site for site, countries in site_countries.items() if "SLE" not in countries}
    regional = site_callbacks(user_client(demo_url, "kp_team"), "GIN")
    for output, sites in regional.items():  # the same requests do carry Guinea's sites for the regional team
        assert set(sites) & guinea_only, output
    agency = user_client(demo_url, "nma_sle")
    for country in ("GIN", ""):
        for output, sites in site_callbacks(agency, country).items():
            assert not set(sites) & guinea_only, (output, country)
    own = site_callbacks(agency, "SLE")["unreg-table.data"]
    assert own and all("SLE" in site_countries[site] for site in own)


@pytest.mark.demo
def test_the_agencys_status_line_says_whose_sites_it_shows(demo_url):
    """"All four countries" chosen, an agency user is told the table holds its own country's sites only."""
    lines = {}
    for user in ("nma_sle", "kp_team"):
        client = user_client(demo_url, user)
        dependencies = json.loads(client.request("GET", "/_dash-dependencies").body)
        body = callback_body(dependencies, "unreg-table.data", {**FILTERS, "filter-country.value": "", **TABLE})
        reply = client.request("POST", "/_dash-update-component", json=body)
        lines[user] = json.loads(reply.body)["response"]["unreg-count"]["children"]
    assert "Sierra Leone only (the sites your role may see)" in lines["nma_sle"] and "all four" not in lines["nma_sle"]
    assert "all four countries" in lines["kp_team"]


@pytest.mark.demo
def test_agency_gets_no_other_countrys_sites_from_any_route(demo_url, demo_run, site_countries):
    agency, regional = user_client(demo_url, "nma_sle"), user_client(demo_url, "kp_team")
    run_id = demo_run.name
    for layer in ("sites", "site_periods", "site_registration", "concessions", "activity_2026H1"):
        fmt = "cog" if layer.startswith("activity") else "gpkg"
        for country in ("GIN", "LBR", None):
            assert agency.request("GET", download_url(run_id, layer, fmt, country)).status == 403, (layer, country)
    guinea_site = next(site for site, countries in site_countries.items() if countries == {"GIN"})
    assert agency.request("GET", f"/dossier/{run_id}/{guinea_site}.html").status == 403
    assert regional.request("GET", f"/dossier/{run_id}/{guinea_site}.html").status == 200
    mine, everyone = (client.request("GET", overlay_url(run_id, "2026H1")) for client in (agency, regional))
    assert mine.status == everyone.status == 200
    with rasterio.MemoryFile(mine.body) as a, a.open() as agency_png, rasterio.MemoryFile(everyone.body) as b, \
            b.open() as regional_png:
        shown_to_agency, shown_to_all = agency_png.read(4) > 0, regional_png.read(4) > 0
    assert 0 < shown_to_agency.sum() < shown_to_all.sum() / 3  # SLE holds under a tenth of the region's sites
    assert not (shown_to_agency & ~shown_to_all).any()


def page_components(client: HttpClient, path: str, search: str = "") -> dict[str, dict]:
    """The components (by id: their props) of the page at `path`?`search`, asked as the browser asks Dash for a
    page: the callback of the page container, fed the address."""
    dependencies = json.loads(client.request("GET", "/_dash-dependencies").body)
    body = callback_body(dependencies, "_pages_content", {"_pages_location.pathname": path,
                                                          "_pages_location.search": search})
    reply = client.request("POST", "/_dash-update-component", json=body)
    assert reply.status == 200, reply.text
    found = {}

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("props"), dict) and isinstance(node["props"].get("id"), str):
                found[node["props"]["id"]] = node["props"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(reply.body)["response"])
    return found


def border_answer(client: HttpClient, values: dict[str, object]) -> dict:
    """The border page's callback answer for the filter bar's `values`, posted as the browser posts it."""
    dependencies = json.loads(client.request("GET", "/_dash-dependencies").body)
    reply = client.request("POST", "/_dash-update-component",
                           json=callback_body(dependencies, "border-showing", values))
    assert reply.status == 200, reply.text
    return json.loads(reply.body)["response"]


@pytest.mark.demo
def test_border_page_opens_on_diamonds_and_the_mru_borders_and_takes_filters_from_its_address(demo_url):
    client = user_client(demo_url, "kp_team")
    bar = page_components(client, "/border")
    assert (bar["filter-commodity"]["value"], bar["filter-scope"]["value"]) == ("diamond", "mru")
    assert bar["filter-scope"]["options"][0]["label"].strip().startswith("MRU internal borders (")
    assert "CIV–GHA" in bar["filter-scope"]["options"][1]["label"]
    asked = page_components(client, "/border", "?scope=external&commodity=gold&country=SLE")
    assert [asked[f"filter-{name}"]["value"] for name in ("scope", "commodity", "country")] == [
        "external", "gold", "SLE"]
    values = {f"{key}.value": props["value"] for key, props in bar.items() if key.startswith("filter-")}
    answer = border_answer(client, values)
    assert answer["border-showing"]["children"].startswith("Showing diamond sites, MRU internal borders")
    pairs = {row["border_pair"] for row in answer["border-corridors"]["data"]}
    assert pairs and "CIV-GHA" not in pairs
    external = border_answer(client, {**values, "filter-scope.value": "external", "filter-commodity.value": ""})
    assert {row["border_pair"] for row in external["border-corridors"]["data"]} == {"CIV-GHA"}


@pytest.mark.demo
def test_agency_border_page_carries_no_other_countrys_site_rows(demo_url, site_countries):
    agency, regional = user_client(demo_url, "nma_sle"), user_client(demo_url, "kp_team")
    for commodity, scope in (("diamond", "mru"), ("", "mru"), ("", "external")):
        values = {**FILTERS, "filter-country.value": "", "filter-commodity.value": commodity,
                  "filter-scope.value": scope}
        rows = border_answer(agency, values)["border-transboundary"]["data"]
        assert all("SLE" in site_countries[row["site_id"]] for row in rows), (commodity, scope)
    everyone = border_answer(regional, {**FILTERS, "filter-country.value": "", "filter-scope.value": "mru"})
    assert {row["site_id"] for row in everyone["border-transboundary"]["data"]} - {
        site for site, countries in site_countries.items() if "SLE" in countries}  # others' rows exist


def wait_for_file(folder: Path, suffix: str, timeout: float = 60.0) -> Path:
    """The file ending with `suffix` the browser finished downloading into `folder`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}")]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} arrived in {folder}: {sorted(p.name for p in folder.iterdir())}")


@pytest.mark.browser
def test_browser_logs_in_and_downloads_its_countrys_geopackage(dash_br, demo_url, demo_run, site_countries):
    """Headless Chromium: the login page, then the Downloads page's GeoPackage button; the file opens."""
    driver = dash_br.driver
    driver.get(demo_url + "/downloads")
    assert "/login" in driver.current_url  # no session: the login page
    dash_br.wait_for_element("#username").send_keys("nma_sle")
    dash_br.find_element("#password").send_keys(DASHBOARD_USERS["nma_sle"][2])
    dash_br.find_element("#login-button").click()
    dash_br.wait_for_element("#download-sites-gpkg", timeout=30).click()
    path = wait_for_file(Path(dash_br.download_path), ".gpkg")
    assert path.name == f"sites_SLE_{demo_run.name}.gpkg"
    sites = pyogrio.read_dataframe(path, layer="sites")
    assert len(sites) > 100 and all("SLE" in site_countries[site] for site in sites["site_id"])
    assert np.asarray(sites["clipped"]).any()  # transboundary sites cut at the border
    assert dash_br.get_logs() == []
