"""The language switch in headless Chromium: "Français" turns the page French (`<html lang="fr">`, the navigation,
plotly's locale) and stays on the page it was pressed on; the choice survives a reload (the cookie) and, with
logins on, follows the user into another browser session (saved per user)."""

from __future__ import annotations

import pytest
from conftest import DASHBOARD_USERS, running_server, with_auth
from dash.testing.wait import until

from mrumonitor.dashboard.app import create_app
from mrumonitor.i18n.preferences import saved_language

pytestmark = [pytest.mark.browser, pytest.mark.slow]

READY = "#download-sites-gpkg"


@pytest.fixture
def own_store(demo_settings, tmp_path):
    """The demo's settings with a layer store of the test's own that holds the demo's runs (a link), so the
    users' saved languages of this test stay out of the demo other tests read."""
    store = tmp_path / "layers"
    store.mkdir()
    (store / "runs").symlink_to(demo_settings.paths.store / "runs", target_is_directory=True)
    return demo_settings.model_copy(update={"paths": demo_settings.paths.model_copy(update={"store": store})})


def language(duo) -> str:
    return duo.driver.execute_script("return document.documentElement.lang")


def open_page(duo, path: str) -> None:
    duo.driver.get(duo.server_url + path)
    duo.wait_for_element(READY, timeout=60)


def test_the_switch_turns_the_page_french_and_the_choice_survives_a_reload(dash_duo, own_store):
    dash_duo.start_server(create_app(own_store))
    open_page(dash_duo, "/downloads")
    assert language(dash_duo) == "en" and "Downloads" in dash_duo.find_element("#main-nav").get_attribute("textContent")
    dash_duo.find_element("#language-fr").click()
    until(lambda: language(dash_duo) == "fr", timeout=30)
    dash_duo.wait_for_element(READY, timeout=60)
    assert dash_duo.driver.current_url.endswith("/downloads")  # back on the page the switch was pressed on
    assert "Téléchargements" in dash_duo.find_element("#main-nav").get_attribute("textContent")
    assert dash_duo.find_element("#language-fr").get_attribute("aria-current") == "true"
    dash_duo.driver.refresh()
    dash_duo.wait_for_element(READY, timeout=60)
    assert language(dash_duo) == "fr"
    dash_duo.find_element("#language-en").click()
    until(lambda: language(dash_duo) == "en", timeout=30)
    assert dash_duo.get_logs() == []


def test_a_users_choice_follows_the_user_into_another_browser_session(dash_br, own_store, secret_key):
    settings = with_auth(own_store)
    with running_server(create_app(settings).server) as url:
        def log_in(user: str) -> None:
            dash_br.driver.get(url + "/login?next=/downloads")
            dash_br.wait_for_element("#username").send_keys(user)
            dash_br.find_element("#password").send_keys(DASHBOARD_USERS[user][2])
            dash_br.find_element("#login-button").click()
            dash_br.wait_for_element(READY, timeout=60)

        log_in("kp_team")
        assert language(dash_br) == "en"
        dash_br.find_element("#language-fr").click()
        until(lambda: language(dash_br) == "fr", timeout=30)
        dash_br.wait_for_element(READY, timeout=60)
        assert saved_language(settings.paths.store, "kp_team") == "fr"
        dash_br.driver.delete_all_cookies()  # another browser: no session, no language cookie
        dash_br.driver.get(url + "/login")
        assert language(dash_br) == "en" and dash_br.find_element("#language-fr").is_displayed()
        log_in("kp_team")
        assert language(dash_br) == "fr"
        assert dash_br.find_element("#logout-button").text == "se déconnecter"
