"""Every page of the dashboard in French, in headless Chromium: no English message is left on a page.

A message is "left in English" when a visible text of the page is exactly the English of a catalogue entry whose
French differs (so ids, numbers, place names and words French shares with English never count). The texts are
the page's visible text nodes, its SVG chart texts included, once its data is in.
"""

from __future__ import annotations

import pytest
from dash.testing.wait import until
from dashboard_pages import PAGES, SCREENSHOTS
from french_catalogue import english_shown_in_french

from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.run import load_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]


#: The visible text nodes of the page, trimmed (hidden elements, scripts and styles left out).
VISIBLE_TEXTS = """
const texts = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const text = node.textContent.trim();
  const parent = node.parentElement;
  if (!text || !parent || parent.closest('script, style, noscript')) continue;
  if (parent.getClientRects().length === 0 || getComputedStyle(parent).visibility === 'hidden') continue;
  texts.push(text);
}
return texts;
"""


#: The pages whose French screenshot the README shows (written beside the English ones).
FRENCH_SCREENSHOTS = ("border",)


@pytest.fixture
def french(dash_duo, demo_settings):
    dash_duo.start_server(create_app(demo_settings))
    dash_duo.driver.get(dash_duo.server_url + "/language/fr")
    return dash_duo


def english_left(duo, path: str, ready: str, english: set[str]) -> list[str]:
    duo.driver.get(duo.server_url + path)
    duo.wait_for_element(ready, timeout=60)
    until(lambda: duo.driver.execute_script(
        "return !document.querySelector('[data-dash-is-loading=\"true\"]')"
        " && [...document.querySelectorAll('.dash-graph')].every(g => g.querySelector('.main-svg'))"), timeout=60)
    assert duo.driver.execute_script("return document.documentElement.lang") == "fr", path
    texts = [*duo.driver.execute_script(VISIBLE_TEXTS), *duo.driver.title.split(" — ")]  # the tab's title too
    return sorted({text for text in texts if text in english})


def test_every_page_is_in_french(french, demo_settings):
    english = english_shown_in_french()
    assert {"Border watch", "Downloads", "Per-country picture"} <= english  # the test would see them
    site = load_run(demo_settings).sites.sort_values("risk_score").iloc[-1]["site_id"]
    left = {}
    for name, (path, ready) in {**PAGES, "site": (f"/site/{site}", "#dossier-facts")}.items():
        left[name] = english_left(french, path, ready, english)
        if name in FRENCH_SCREENSHOTS:
            french.driver.save_screenshot(str(SCREENSHOTS / f"{name}_fr.png"))
    assert {name: texts for name, texts in left.items() if texts} == {}
