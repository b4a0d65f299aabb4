"""The map page of the demo run in real headless Chromium: the built-in basemap is drawn (sea, a river, town
names by zoom) with no request leaving 127.0.0.1; the period slider changes the sites drawn; `/map?corridor=<id>`
opens on that corridor; a click on a site at the first zoom opens its dossier.

Chromium is driven here (not through dash_duo) so that its DevTools log lists every request the page makes:
a request anywhere but the test server fails the test.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from conftest import running_server
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.maplayers import REGION_ZOOM
from mrumonitor.dashboard.run import load_run
from mrumonitor.reference.basemap import load_basemap

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


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options)
    yield driver
    driver.quit()


def requested(driver) -> list[str]:
    """The URLs of every request the browser sent since the last call (its DevTools log)."""
    entries = (json.loads(entry["message"])["message"] for entry in driver.get_log("performance"))
    return [entry["params"]["request"]["url"] for entry in entries if entry["method"] == "Network.requestWillBeSent"]


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
    # zoomed in three steps (zoom 9): more towns named, villages loaded by then
    for _ in range(3):
        browser.find_element(By.CSS_SELECTOR, "#mainmap-map .leaflet-control-zoom-in").click()
        browser.implicitly_wait(0)
        wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "#mainmap-map .leaflet-zoom-anim"))
    wait(browser, lambda d: len(labels(d)) > len(first))
    urls = requested(browser)
    assert any(address.endswith("/basemap/villages.geojson") for address in urls)
    assert outside(urls, url) == [], "requests left 127.0.0.1"
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []


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
    assert outside(requested(browser), url) == []


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
