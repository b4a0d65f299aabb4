"""The dashboard on a phone (412 px wide, Chromium's device emulation): no page scrolls sideways (tables scroll
inside their box), the navigation folds behind the menu button, which unfolds it, and the map's layer control
folds behind its icon."""

from __future__ import annotations

import pytest
from dash.testing.wait import until
from dashboard_pages import PAGES
from selenium.webdriver.common.by import By

from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.run import load_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The width of a common phone's screen, in CSS pixels.
PHONE_WIDTH = 412



@pytest.fixture
def phone(dash_duo, demo_settings):
    dash_duo.start_server(create_app(demo_settings))
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": PHONE_WIDTH, "height": 915, "deviceScaleFactor": 1, "mobile": True})
    return dash_duo


def visit(duo, path: str, ready: str) -> None:
    """Open `path` and wait for its data and for every callback to settle."""
    duo.driver.get(duo.server_url + path)
    duo.wait_for_element(ready, timeout=60)
    until(lambda: duo.driver.execute_script(
        "return !document.querySelector('[data-dash-is-loading=\"true\"]')"), timeout=60)


def page_width(duo) -> int:
    return duo.driver.execute_script("return document.documentElement.scrollWidth")


def test_no_page_is_wider_than_a_phone(phone, demo_settings):
    site = load_run(demo_settings).sites.sort_values("risk_score").iloc[-1]["site_id"]
    widths = {}
    for name, (path, ready) in {**PAGES, "site": (f"/site/{site}", "#dossier-facts")}.items():
        visit(phone, path, ready)
        widths[name] = page_width(phone)
    assert phone.driver.execute_script("return window.innerWidth") == PHONE_WIDTH
    assert {name: width for name, width in widths.items() if width > PHONE_WIDTH} == {}


def test_the_menu_button_unfolds_the_navigation_and_a_link_folds_it(phone):
    visit(phone, *PAGES["downloads"])
    nav = phone.find_element("#main-nav")
    assert not nav.is_displayed()
    phone.find_element("#menu-button").click()
    until(nav.is_displayed, timeout=5)
    assert phone.find_element("#menu-button").get_attribute("aria-expanded") == "true"
    nav.find_element(By.LINK_TEXT, "Runs").click()
    phone.wait_for_element(PAGES["runs"][1], timeout=60)
    until(lambda: not phone.find_element("#main-nav").is_displayed(), timeout=5)
    assert page_width(phone) <= PHONE_WIDTH


def test_the_layer_control_folds_behind_its_icon(phone):
    visit(phone, "/map", "#mainmap-map .leaflet-control-layers-toggle")
    toggle = phone.find_element("#mainmap-map .leaflet-control-layers-toggle")
    layers = phone.find_element("#mainmap-map .leaflet-control-layers-list")
    assert toggle.is_displayed() and not layers.is_displayed()
    assert toggle.size["width"] < 60  # the icon, not the list over the map
    toggle.click()
    until(layers.is_displayed, timeout=5)
