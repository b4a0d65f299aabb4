"""The Area statistics page in real headless Chromium on the demo run: a rectangle drawn with the mouse on the
map (the draw-rectangle button, then a drag) gives the statistics `area_statistics` computes for the area the page
holds; nothing is fetched from outside the app, the browser console stays clean, and the page is screenshotted
into docs/screenshots/area-statistics.png."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from mrumonitor.areas.files import area_from_geojson
from mrumonitor.areas.resolve import uploaded_area
from mrumonitor.areas.stats import area_statistics
from mrumonitor.dashboard.app import create_app
from mrumonitor.store.runs import resolve_run

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "screenshots" / "area-statistics.png"

#: The props of the component with id `arguments[0]`, as the Dash renderer holds them (its layout, and the path
#: of each component id in it).
_PROPS = """
const state = window.store.getState();
const path = state.paths.strs[arguments[0]];
return path ? path.reduce((node, key) => node[key], state.layout).props : null;
"""

#: The rows of a Dash DataTable as the page shows them (header row first).
_ROWS = """
const table = document.querySelector(arguments[0] + ' table');
return [...table.querySelectorAll('tr')].map(r => [...r.querySelectorAll('th, td')].map(c => c.innerText.trim()))
  .filter(r => r.length);
"""


def test_a_rectangle_drawn_on_the_map_gives_its_statistics(dash_duo, demo_settings):
    dash_duo.start_server(create_app(demo_settings))
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/area")
    button = dash_duo.wait_for_element(".leaflet-draw-draw-rectangle", timeout=30)
    icon = driver.execute_script("return getComputedStyle(arguments[0]).backgroundImage", button)
    assert "url(" in icon  # the drawing tools' icons are served by the app
    button.click()
    map_element = driver.find_element(By.CSS_SELECTOR, "#areamap-map")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", map_element)
    # from 60 x 40 px north-west of the map's centre to as far south-east of it, in two moves as a hand drags
    ActionChains(driver).move_to_element(map_element).move_by_offset(-60, -40).click_and_hold() \
        .move_by_offset(60, 40).move_by_offset(60, 40).release().perform()
    dash_duo.wait_for_element("#area-periods td", timeout=60)
    until(lambda: (driver.execute_script(_PROPS, "area-shape") or {}).get("data"), timeout=30)

    shape = driver.execute_script(_PROPS, "area-shape")["data"]
    assert shape["kind"] == "drawn" and shapely.from_geojson(json.dumps(shape["geometry"])).area > 0
    area = uploaded_area(area_from_geojson(shape["geometry"], demo_settings), kind="drawn")
    expected = area_statistics(resolve_run(demo_settings.paths.store), area).periods.set_index("period")
    header, *rows = driver.execute_script(_ROWS, "#area-periods")
    shown = {row[0]: dict(zip(header, row)) for row in rows}
    assert set(shown) == set(expected.index)
    assert expected["sites"].sum() > 0, "draw where the demo has sites"
    for period, row in shown.items():
        assert int(row["Sites"].replace(",", "")) == expected.loc[period, "sites"], period
        for column, header_text in (("active_ha", "Active mined area (ha)"), ("unregistered_ha", "Unregistered (ha)")):
            assert float(row[header_text].replace(",", "")) == pytest.approx(expected.loc[period, column], abs=0.051)

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(1400, 1600)  # the map, the period table and its chart in one picture
    until(lambda: driver.find_elements(By.CSS_SELECTOR, "#area-chart .main-svg .bars"), timeout=30)
    driver.save_screenshot(str(SCREENSHOT))
    fetched = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    outside = [url for url in fetched if not url.startswith((dash_duo.server_url, "data:", "blob:"))]
    assert outside == []
    assert dash_duo.get_logs() == []


def test_the_alerts_page_lists_the_runs_alerts_and_watches_a_country(dash_duo, demo_settings, tmp_path):
    settings = demo_settings.model_copy(update={"alerts": demo_settings.alerts.model_copy(
        update={"subscriptions": tmp_path / "subscriptions.sqlite"})})  # the demo's store stays read-only
    dash_duo.start_server(create_app(settings))
    dash_duo.driver.get(dash_duo.server_url + "/alerts")
    dash_duo.wait_for_element("#alerts-table td", timeout=30)
    assert "/site/" in dash_duo.find_element("#alerts-table a").get_attribute("href")
    dash_duo.select_dcc_dropdown("#alerts-area-ref", index=0)
    dash_duo.find_element("#alerts-watch-email").send_keys("watcher@example.org")
    dash_duo.find_element("#alerts-watch-submit").click()
    dash_duo.wait_for_contains_text("#alerts-watch-message", "Watching", timeout=30)
    dash_duo.wait_for_element("#alerts-subscriptions a[href$='.atom']", timeout=30)
    dash_duo.driver.set_window_size(1400, 1400)
    dash_duo.driver.execute_script("window.scrollTo(0, 0)")
    dash_duo.driver.save_screenshot(str(SCREENSHOT.with_name("alerts.png")))
    assert dash_duo.get_logs() == []
