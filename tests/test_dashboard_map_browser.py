"""The map page of the demo run in real headless Chromium: the built-in basemap is drawn (sea, a river, town
names by zoom) with no request leaving 127.0.0.1; sites, cells and licences are drawn from the dashboard's vector
tiles (`/tiles/`), with their colours and tooltips, and no Dash callback carries a site; a filter change draws the
tiles held again by the features' attributes, fetching none; the period slider changes the sites drawn (and the
tiles' address); `/map?corridor=<id>` opens on that corridor; a click on a site at the
first zoom opens its dossier, on a cell zooms in; an agency user's map draws no other country's site.

Chromium is driven here (not through dash_duo) so that its DevTools log lists every request the page makes:
a request anywhere but the test server fails the test.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from conftest import DASHBOARD_USERS, running_server, with_auth
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from mrumonitor.dashboard.access import REGIONAL
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.filters import default_filters
from mrumonitor.dashboard.maplayers import REGION_ZOOM
from mrumonitor.dashboard.run import load_run
from mrumonitor.dashboard.site_level import site_rows
from mrumonitor.dashboard.site_tiles import ZOOM_OFFSET
from mrumonitor.reference.basemap import load_basemap
from mrumonitor.style import REGISTRATION_CSS, STATUS_CSS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
#: How long a page may take to draw its map (two shared cores).
WAIT_S = 40


@pytest.fixture(scope="module")
def url(demo_settings):
    with running_server(create_app(demo_settings).server, threads=8) as base:
        yield base


@pytest.fixture(scope="module")
def run(demo_settings):
    return load_run(demo_settings)


def chromium() -> webdriver.Chrome:
    """Headless Chromium logging every request (DevTools) and the console."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options)
    driver.set_script_timeout(WAIT_S)  # a script waits for a busy page as long as a test does
    return driver


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def network(driver) -> list[dict]:
    """The DevTools network events of the browser since the last call (its performance log)."""
    return [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]


def requested(driver, events: list[dict] | None = None) -> list[str]:
    """The URLs of every request among `events` (by default, the browser's since the last call)."""
    events = network(driver) if events is None else events
    return [entry["params"]["request"]["url"] for entry in events if entry["method"] == "Network.requestWillBeSent"]


def callback_answers(driver, events: list[dict]) -> list[str]:
    """The bodies of the answers to Dash callbacks among `events`."""
    answered = [entry["params"]["requestId"] for entry in events if entry["method"] == "Network.responseReceived"
                and "/_dash-update-component" in entry["params"]["response"]["url"]]
    return [driver.execute_cdp_cmd("Network.getResponseBody", {"requestId": request})["body"] for request in answered]


def outside(urls: list[str], base: str) -> list[str]:
    return [address for address in urls if not address.startswith((base, "data:", "blob:"))]


def wait(driver, test, timeout: float = WAIT_S):
    return WebDriverWait(driver, timeout, poll_frequency=0.25).until(lambda d: test(d))


def js(driver, script: str, *args):
    return driver.execute_script(script, *args)


def open_map(driver, address: str) -> None:
    driver.get(address)
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#mainmap-map .leaflet-sites-pane .leaflet-interactive"))
    wait(driver, lambda d: "in view" in d.find_element(By.ID, "mainmap-status").text)


#: The features of the map's vector-tile layer `arguments[0]` (a LayerGroup id) drawn at the zoom shown (Leaflet keeps
#: the tiles of the zoom before a moment longer, in another level): each path's properties (the tile's attributes:
#: Leaflet keeps the layer of each interactive path by its stamp), its fill and dashes.
_DRAWN = """
var entry = window.mru.tiles.grids[arguments[0]];
return [...entry.grid._level.el.querySelectorAll('path.leaflet-interactive')].map(p =>
    Object.assign({fill: p.getAttribute('fill'), dashes: p.getAttribute('stroke-dasharray')},
                  entry.map._targets[p._leaflet_id].properties));
"""


#: The first feature of kind `arguments[0]` ("site", "cell") of the map's sites whose middle is on top there, inside
#: the map and clear of its controls (zoom buttons, layers, legend): [its path, its properties]; null if none.
_ON_TOP = """
var entry = window.mru.tiles.grids['mainmap-sites'], box = entry.map.getContainer().getBoundingClientRect();
for (const path of entry.grid._level.el.querySelectorAll('path.leaflet-interactive')) {
    const r = path.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
    const properties = entry.map._targets[path._leaflet_id].properties;
    if (properties.kind === arguments[0] && x > box.left + 60 && x < box.right - 300 && y > box.top + 20
            && y < box.bottom - 20 && document.elementFromPoint(x, y) === path) {
        return [path, properties];
    }
}
return null;
"""


def on_top(driver, kind: str) -> tuple:
    """A feature of kind `kind` of the map's sites a pointer can reach (`_ON_TOP`), the map scrolled into view:
    (its path, its properties)."""
    js(driver, "document.querySelector('#mainmap-map').scrollIntoView({block: 'center'});")
    found = js(driver, _ON_TOP, kind)
    assert found, f"no {kind} a pointer can reach"
    return tuple(found)


def tooltips(driver) -> list[str]:
    """The texts of the map's tooltips open now (not the places' names)."""
    return js(driver, "return [...document.querySelectorAll('#mainmap-map .leaflet-tooltip')].map(e => e.textContent)")


def tiles_loaded(driver, layer: str = "mainmap-sites") -> bool:
    """Whether the map's vector-tile layer `layer` has a grid that has loaded every tile in view."""
    return js(driver, "var e = window.mru && window.mru.tiles.grids[arguments[0]];"
                      "return !!(e && e.grid && e.grid._map && !e.grid.isLoading());", layer)


def drawn(driver, layer: str = "mainmap-sites") -> list[dict]:
    """The features of the map's vector-tile layer `layer` drawn once its tiles in view have loaded."""
    wait(driver, lambda d: tiles_loaded(d, layer))
    return js(driver, _DRAWN, layer)


def tile_addresses(urls: list[str], layer: str) -> list[str]:
    """The addresses among `urls` of tiles of map layer `layer` ("sites", "concessions")."""
    return [address for address in urls if "/tiles/" in address and f"/{layer}/" in address]


def map_zoom(driver) -> float:
    return js(driver, "return window.mru.tiles.grids['mainmap-sites'].map.getZoom()")


def labels(driver) -> list[str]:
    return js(driver, "return [...document.querySelectorAll('#mainmap-map .place-label')].map(e => e.textContent)")


def test_basemap_is_drawn_with_no_request_leaving_localhost(browser, url, demo_settings):
    requested(browser)
    open_map(browser, url + "/map")
    pane = "#mainmap-map .leaflet-basemap-pane"
    # the sea and lakes, and the rivers: paths of the basemap's pane, filled blue and stroked blue
    wait(browser, lambda d: js(d, f"return document.querySelectorAll('{pane} path').length") > 100)
    fills = js(browser, f"return [...document.querySelectorAll('{pane} path')].map(p => p.getAttribute('fill'))")
    strokes = js(browser, f"return [...document.querySelectorAll('{pane} path')].map(p => p.getAttribute('stroke'))")
    assert "#a9cbe0" in fills and "#6fa6cc" in strokes
    # at the region's zoom only the large towns are named
    wait(browser, lambda d: "Conakry" in labels(d))
    first = labels(browser)
    places = load_basemap(demo_settings.paths.reference, "places")
    assert {"Conakry", "Freetown", "Monrovia"} <= set(first) <= set(places.loc[places["minzoom"] <= REGION_ZOOM, "name"])
    assert "GSHHG" in browser.find_element(By.CSS_SELECTOR, "#mainmap-map .leaflet-control-attribution").text
    # zoomed in three steps (zoom 9): more towns named, villages loaded by then. Each step waits until the map is
    # at its new zoom: Leaflet ignores a zoom asked for while the last one is still animating
    for _ in range(3):
        before = map_zoom(browser)
        browser.find_element(By.CSS_SELECTOR, "#mainmap-map .leaflet-control-zoom-in").click()
        wait(browser, lambda d, before=before: map_zoom(d) == before + 1
             and not d.find_elements(By.CSS_SELECTOR, "#mainmap-map .leaflet-zoom-anim"))
    wait(browser, lambda d: len(labels(d)) > len(first))
    urls = []
    wait(browser, lambda d: urls.extend(requested(d)) or any(address.endswith("/basemap/villages.geojson")
                                                             for address in urls))
    assert outside(urls, url) == [], "requests left 127.0.0.1"
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []


def test_sites_cells_and_licences_are_drawn_from_vector_tiles(browser, url, run):
    network(browser)
    open_map(browser, url + "/map?commodity=all")  # every commodity: cells where a tile holds too many sites
    features = drawn(browser)
    events = network(browser)
    sites = [feature for feature in features if feature["kind"] == "site"]
    cells = [feature for feature in features if feature["kind"] == "cell"]
    assert sites and cells
    assert {feature["site_id"] for feature in sites} <= set(run.sites["site_id"])
    # drawn in their class's colour (points below the footprints' zoom: filled circles), their tooltip their own
    assert all(feature["fill"] == feature["colour"] == REGISTRATION_CSS[feature["registration"]] for feature in sites)
    assert all(feature["tooltip"].startswith(feature["site_id"]) for feature in sites)
    assert all(feature["count"] > 0 and feature["fill"] == feature["colour"] for feature in cells)
    first = tile_addresses(requested(browser, events), "sites")
    # tiles of 512 pixels, addressed a zoom below the map's (MapLibre's convention)
    assert first and all(f"/tiles/{run.run_id}/sites/{REGION_ZOOM - ZOOM_OFFSET}/" in address for address in first)
    # a filter change (the border zone only) draws the tiles the map holds again, fetching none: sites outside
    # the zone are left out, cells count the sites it passes (a cell's figures in its `_cell`), then all are back
    events += network(browser)
    border_only = browser.find_element(By.CSS_SELECTOR, "#filter-border-only input")
    border_only.click()
    wait(browser, lambda d: js(d, "return window.mru.tiles.filters.border") is True)
    bordered = drawn(browser)
    assert bordered and all(feature["border"] is True for feature in bordered if feature["kind"] == "site")
    assert all(0 < feature["_cell"]["count"] <= feature["count"] for feature in bordered if feature["kind"] == "cell")
    assert (len([f for f in bordered if f["kind"] == "site"]) + sum(f["_cell"]["count"] for f in bordered
            if f["kind"] == "cell")) < len(sites) + sum(feature["count"] for feature in cells)
    filtered = network(browser)
    assert any("/_dash-update-component" in address for address in requested(browser, filtered))
    assert tile_addresses(requested(browser, filtered), "sites") == []
    border_only.click()
    wait(browser, lambda d: js(d, "return window.mru.tiles.filters.border") is False)
    assert sorted(f.get("site_id", "") for f in drawn(browser)) == sorted(f.get("site_id", "") for f in features)
    events += filtered + network(browser)
    # the tooltip of the site, then of the cell, under the pointer (the cell's written by the map for the filters:
    # with none, the tile's own)
    for kind in ("site", "cell"):
        path, properties = on_top(browser, kind)
        ActionChains(browser).move_to_element(path).perform()
        wait(browser, lambda d, text=properties["tooltip"]: tooltips(d) == [text])
    # a click on the cell flies to zoom 10 around it, where the tiles hold single sites
    ActionChains(browser).click().perform()
    wait(browser, lambda d: map_zoom(d) == 10)
    assert {feature["kind"] for feature in drawn(browser)} == {"site"}
    events += network(browser)
    assert any(f"/sites/{10 - ZOOM_OFFSET}/" in address for address in tile_addresses(requested(browser, events), "sites"))
    # the licences, switched on in the layers control: dashed outlines coloured by status, from their own tiles
    browser.find_element(By.XPATH, "//label[contains(., 'Licences by status')]//input").click()
    licences = drawn(browser, "mainmap-concessions")
    assert licences and all(feature["dashes"] == "3 3" and feature["fill"] == STATUS_CSS[feature["status"]]
                            for feature in licences)
    events += network(browser)
    assert any(f"/tiles/{run.run_id}/concessions/{10 - ZOOM_OFFSET}/" in address
               for address in tile_addresses(requested(browser, events), "concessions"))
    # no Dash callback answered with a site or a licence: the tiles carry them
    answers = callback_answers(browser, events)
    assert answers and not [answer for answer in answers if '"site_id"' in answer or '"licence_id"' in answer]
    assert outside(requested(browser, events), url) == []
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []


@pytest.mark.parametrize("values", [{"classes": ["no_licence", "expired_licence"]}, {"commodity": "diamond"},
                                    {"countries": ["SLE"], "commodity": "gold"}, {"border_only": True}])
def test_the_maps_filters_pass_the_sites_the_servers_filters_choose(browser, url, run, values):
    """`mru.tiles.shown`, the filter the map applies to the sites of its tiles, run in the page on the sites a view
    of zoom 11 draws with no filter: it keeps exactly those the server's filters choose (`site_rows`)."""
    filters = default_filters(run, **{"commodity": "", **values})
    chosen = site_rows(run, filters, REGIONAL)  # the view: where most of them are
    densest = chosen.groupby([chosen["lon"].round(1), chosen["lat"].round(1)]).size().idxmax()
    open_map(browser, url + "/map?commodity=all")
    js(browser, "window.mru.tiles.grids['mainmap-sites'].map.setView([arguments[1], arguments[0]], 11)", *densest)
    wait(browser, lambda d: map_zoom(d) == 11)
    features = drawn(browser)
    assert features and {feature["kind"] for feature in features} == {"site"}
    bar = {"countries": list(filters.countries), "commodity": filters.commodity, "classes": list(filters.classes),
           "border": filters.border_only}
    kept = js(browser, "return arguments[0].filter(p => window.mru.tiles.shown.call({filters: arguments[1]}, p))"
                       ".map(p => p.site_id)", features, bar)
    drawn_ids = {feature["site_id"] for feature in features}
    assert set(kept) == drawn_ids & set(chosen["site_id"]) and 0 < len(kept) < len(drawn_ids)


def test_period_slider_changes_the_sites_drawn(browser, url, run):
    open_map(browser, url + "/map?commodity=all")
    last = browser.find_element(By.ID, "mainmap-status").text
    assert run.last_period in last
    thumb = browser.find_element(By.CSS_SELECTOR, ".period-slider [role=slider]")
    thumb.send_keys(Keys.HOME)  # the first period
    first = run.periods[0]
    wait(browser, lambda d: first in d.find_element(By.ID, "mainmap-status").text)
    assert browser.find_element(By.ID, "mainmap-status").text.split(":")[0] != last.split(":")[0]  # the count
    assert first in browser.find_element(By.ID, "filter-period").text  # the filter bar follows the slider
    # the tiles follow: fetched again for the first period
    urls = []
    wait(browser, lambda d: urls.extend(requested(d)) or any(f"period={first}" in address
                                                             for address in tile_addresses(urls, "sites")))
    assert outside(urls + requested(browser), url) == []


def test_map_opens_on_a_corridor(browser, url, run):
    corridor = run.corridors.iloc[0]["corridor_id"]
    line = run.corridor_lines[0]
    open_map(browser, url + f"/map?corridor={corridor}&commodity=all")
    wide = "#mainmap-map path[stroke-width='10']"
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, wide))
    box = js(browser, f"var r = document.querySelector(\"{wide}\").getBoundingClientRect();"
                      "var m = document.querySelector('#mainmap-map').getBoundingClientRect();"
                      "return [r.x + r.width / 2 - m.x, r.y + r.height / 2 - m.y, m.width, m.height];")
    x, y, width, height = box
    assert abs(x - width / 2) < width / 4 and abs(y - height / 2) < height / 4  # the corridor in the middle
    assert shapely.length(line) > 0 and np.isfinite(shapely.bounds(line)).all()
    assert outside(requested(browser), url) == []


def test_a_click_on_a_site_at_the_first_zoom_opens_its_dossier(browser, url):
    open_map(browser, url + "/map?country=LBR&commodity=all")  # few enough sites to be drawn one by one
    wait(browser, lambda d: "as points" in d.find_element(By.ID, "mainmap-status").text)
    marker = browser.find_elements(By.CSS_SELECTOR, "#mainmap-map .leaflet-sites-pane path.leaflet-interactive")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", marker)
    # what is under the pointer at the marker is the marker itself (not an outline or the border zone)
    on_top = js(browser, "var r = arguments[0].getBoundingClientRect();"
                         "return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)"
                         ".closest('.leaflet-sites-pane') !== null;", marker)
    assert on_top
    ActionChains(browser).move_to_element(marker).click().perform()
    wait(browser, lambda d: "/site/" in d.current_url)
    wait(browser, lambda d: d.find_elements(By.ID, "dossier-facts"))


@pytest.fixture
def agency_url(demo_settings, secret_key):
    """The demo dashboard with logins on (`conftest.DASHBOARD_USERS`)."""
    with running_server(create_app(with_auth(demo_settings)).server, threads=8) as base:
        yield base


def test_an_agency_users_map_draws_no_other_countrys_site(agency_url, run):
    user = "nma_sle"
    country = DASHBOARD_USERS[user][1]
    driver = chromium()
    try:
        driver.get(agency_url + "/login?next=/map%3Fcommodity%3Dall")
        driver.find_element(By.ID, "username").send_keys(user)
        driver.find_element(By.ID, "password").send_keys(DASHBOARD_USERS[user][2])
        driver.find_element(By.ID, "login-button").click()
        open_map(driver, agency_url + "/map?commodity=all")  # the whole region in view, every commodity
        features = drawn(driver)
        countries = run.sites.set_index("site_id")["countries"].astype(str)
        sites = [feature["site_id"] for feature in features if feature["kind"] == "site"]
        assert sites and all(country in countries[site] for site in sites)  # the region's other sites not drawn
        assert sum(feature["count"] for feature in features if feature["kind"] == "cell") <= len(
            countries[countries.str.contains(country)])  # cells count only its sites
        # another country chosen: the status line says why, and the map draws none of the sites its tiles hold (those
        # the agency may see, the same tiles whatever the country chosen)
        network(driver)
        driver.get(agency_url + "/map?country=GIN&commodity=all")
        wait(driver, lambda d: "not available to your role" in d.find_element(By.ID, "mainmap-status").text)
        assert drawn(driver) == []
        assert not any("country=" in address for address in tile_addresses(requested(driver), "sites"))
    finally:
        driver.quit()
