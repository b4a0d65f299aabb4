"""The dashboard in real headless Chromium (dash_duo): every page loads with no console error and is
screenshotted into docs/screenshots/; the country filter changes the KPIs, the map layer and the site table;
a click on a site opens its dossier."""

from __future__ import annotations

import time

import pytest
from dash.testing.wait import until
from dashboard_pages import PAGES, SCREENSHOTS
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.run import load_run

pytestmark = pytest.mark.browser


@pytest.fixture
def dashboard(dash_duo, demo_settings):
    dash_duo.start_server(create_app(demo_settings))
    return dash_duo


def _visit(duo, path: str, ready: str) -> None:
    """Open `path` and wait for its data: the `ready` element, every chart drawn, no callback pending."""
    duo.driver.get(duo.server_url + path)
    duo.wait_for_element(ready, timeout=30)
    until(lambda: _settled(duo.driver), timeout=30)


def _settled(driver) -> bool:
    """Every chart drawn and no callback pending (asked in one script: the page may re-render meanwhile)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('.dash-graph')].every(g => g.querySelector('.main-svg'))"
        " && !document.querySelector('[data-dash-is-loading=\"true\"]');")


def test_every_page_loads_without_console_errors(dashboard, demo_settings):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    site = load_run(demo_settings).sites.sort_values("risk_score").iloc[-1]["site_id"]
    for name, (path, ready) in {**PAGES, "site": (f"/site/{site}", "#dossier-facts")}.items():
        _visit(dashboard, path, ready)
        assert dashboard.get_logs() == [], name
        dashboard.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    assert (SCREENSHOTS / "overview.png").stat().st_size > 10_000


def _choose_country(duo, label: str) -> None:
    duo.select_dcc_dropdown("#filter-country", value=label)


def test_country_filter_changes_kpis_map_and_table(dashboard):
    _visit(dashboard, "/", "#overview-table td")
    dashboard.wait_for_contains_text("#overview-status", "all four countries", timeout=30)
    region_area = dashboard.find_element("#overview-kpi-active_ha").text
    _choose_country(dashboard, "Sierra Leone (SLE)")
    dashboard.wait_for_contains_text("#overview-status", "Sierra Leone", timeout=30)
    until(lambda: dashboard.find_element("#overview-kpi-active_ha").text != region_area, timeout=30)
    dashboard.driver.find_element(By.LINK_TEXT, "Unregistered production").click()
    dashboard.wait_for_element("#unreg-table td", timeout=30)
    dashboard.wait_for_contains_text("#unreg-count", "sites match", timeout=30)
    countries = {cell.text for cell in dashboard.find_elements("#unreg-table td[data-dash-column=country]")}
    assert countries == {"SLE"}
    assert dashboard.get_logs() == []


def test_clicking_a_site_opens_its_dossier(dashboard, demo_settings):
    data = load_run(demo_settings)
    site = data.sites[(data.sites["last_seen"] == data.last_period) & (data.sites["area_ha"] > 20)].iloc[0]
    _visit(dashboard, f"/map?site={site['site_id']}&commodity=all", "#mainmap-map")  # a site of any commodity
    dashboard.wait_for_contains_text("#mainmap-status", "as footprints", timeout=30)
    # a person looks before clicking: a click within about 3 s of the map's first drawing changes the address but
    # does not open the dossier (a race left open, see the closing note of issue 20)
    time.sleep(5)
    leaflet = dashboard.find_element("#mainmap-map")
    # the whole map in view, so the pointer goes to its centre (the site), not to the centre of its visible part
    dashboard.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", leaflet)
    ActionChains(dashboard.driver).move_to_element(leaflet).click().perform()
    dashboard.wait_for_element("#dossier-facts", timeout=30)
    assert dashboard.driver.current_url.endswith(f"/site/{site['site_id']}")
    assert site["site_id"] in dashboard.find_element(".page-note").text
    assert dashboard.get_logs() == []


def _corridor_table(duo) -> dict[str, tuple[int, str]]:
    """The border page's corridor table: corridor id -> (rank, border pair)."""
    cells = {column: [cell.text for cell in duo.find_elements(f"#border-corridors td[data-dash-column={column}]")]
             for column in ("rank", "corridor_id", "border_pair")}
    return {corridor: (int(rank), pair) for rank, corridor, pair in zip(cells["rank"], cells["corridor_id"],
                                                                          cells["border_pair"])}


#: Opens the tooltip of every corridor drawn on the map (its lines are the only ones 5 px wide, 10 for the one singled
#: out: assets/map.js) with a mouseover at the middle of its line, as a pointer would, and returns the tooltips' texts.
_CORRIDOR_TOOLTIPS = """
const texts = [];
for (const path of document.querySelectorAll('#mainmap-map path.leaflet-interactive:is([stroke-width="5"], [stroke-width="10"])')) {
    const box = path.getBoundingClientRect();
    const at = {bubbles: true, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2};
    path.dispatchEvent(new MouseEvent('mouseover', at));
    const tip = document.querySelector('.leaflet-tooltip:not(.place-label)');  // not a town's name
    if (tip) texts.push(tip.textContent);
    path.dispatchEvent(new MouseEvent('mouseout', at));
}
return texts;
"""


def test_border_page_opens_on_the_mru_diamond_ranking_and_the_map_gives_the_same_rank(dashboard):
    _visit(dashboard, "/border", "#border-corridors td")
    dashboard.wait_for_contains_text("#border-showing", "diamond sites, MRU internal borders", timeout=30)
    mru = _corridor_table(dashboard)
    assert mru and not any(pair == "CIV-GHA" for _, pair in mru.values())
    external = dashboard.driver.find_element(By.XPATH, "//label[contains(., 'External borders, outside the "
                                                       "Regional Approach')]")
    assert "CIV–GHA" in external.text
    external.click()
    dashboard.wait_for_contains_text("#border-showing", "external borders", timeout=30)
    until(lambda: {pair for _, pair in _corridor_table(dashboard).values()} == {"CIV-GHA"}, timeout=30)
    dashboard.driver.find_element(By.XPATH, "//label[contains(., 'MRU internal borders (')]").click()
    dashboard.wait_for_contains_text("#border-showing", "MRU internal borders", timeout=30)
    _visit(dashboard, "/map", "#mainmap-map .leaflet-interactive")
    dashboard.driver.find_element(By.XPATH, "//label[contains(., 'Border corridors')]//input").click()
    until(lambda: dashboard.driver.execute_script(_CORRIDOR_TOOLTIPS), timeout=30)
    tooltips = dashboard.driver.execute_script(_CORRIDOR_TOOLTIPS)
    assert all(" of MRU internal borders (diamond sites, " in text for text in tooltips)
    ranked = {text.split(": ")[1].split(",")[0]: int(text[1:].split(" ")[0]) for text in tooltips}
    shared = set(ranked) & set(mru)
    assert shared and all(ranked[corridor] == mru[corridor][0] for corridor in shared)
    assert dashboard.get_logs() == []


def _type_filter(duo, column: str, text: str) -> None:
    """Type `text` into the filter cell of `column` of the site table and press Enter, as a user does."""
    cell = duo.find_element(f"#unreg-table th.dash-filter[data-dash-column={column}] input")
    cell.click()
    cell.send_keys(text + "\n")


def test_the_site_tables_text_filters_match_what_a_user_types(dashboard):
    _visit(dashboard, "/unregistered?commodity=all", "#unreg-table td")
    dashboard.wait_for_contains_text("#unreg-count", "sites match", timeout=30)
    _type_filter(dashboard, "registration", "No Lic")  # the words shown, in any case (case-insensitive filters)
    until(lambda: dashboard.find_element("#unreg-table").get_attribute("data-dash-is-loading") is None, timeout=30)
    until(lambda: {c.text for c in dashboard.find_elements("#unreg-table td[data-dash-column=registration]")}
          == {"no licence"}, timeout=30)
    _type_filter(dashboard, "area_ha", "> 20")
    until(lambda: all(float(c.text.replace(",", "")) > 20
                      for c in dashboard.find_elements("#unreg-table td[data-dash-column=area_ha]")), timeout=30)
    query = dashboard.driver.execute_script(
        "return document.querySelector('#unreg-table th.dash-filter[data-dash-column=registration] input').value")
    assert query == "No Lic"
    assert dashboard.find_elements("#unreg-table td[data-dash-column=site_id]")  # rows left, not none
    assert dashboard.get_logs() == []
