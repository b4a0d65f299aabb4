"""The dashboard's language on its server (Flask's test client, the tiny dashboard run): the saved choice per user,
the selector's order (the user's choice, the cookie, Accept-Language, English), the switch's route (a year's
cookie, back to a local page only), `<html lang>`, the login page in French with its switch, and charts and
tables in the user's language."""

from __future__ import annotations

import re

import pytest
from conftest import FlaskClient, log_in

from mrumonitor.config import load_settings
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.components import table_locale
from mrumonitor.dashboard.figures import figure, graph_config
from mrumonitor.dashboard.language import COOKIE, COOKIE_SECONDS
from mrumonitor.errors import UnknownOption
from mrumonitor.i18n import use_language
from mrumonitor.i18n.preferences import PREFERENCES_FILE, save_language, saved_language

pytestmark = pytest.mark.integration

FRENCH = "fr-CI,fr;q=0.9,en;q=0.5"


def html_lang(page: str) -> str:
    """The language a page's `<html>` element states."""
    return re.search(r'<html lang="(\w+)"', page).group(1)


@pytest.fixture(scope="module")
def open_app(dashboard_store, tmp_path_factory):
    """The whole dashboard of the tiny run, no logins."""
    folder = tmp_path_factory.mktemp("open")
    config = folder / "mrumonitor.toml"
    config.write_text(f'[paths]\nstore = "{dashboard_store}"\nwork = "{folder / "work"}"\n', encoding="utf-8")
    return create_app(load_settings(config)).server


@pytest.fixture(scope="module")
def guarded_settings(auth_settings, tmp_path_factory):
    """The tiny run's settings with logins on (`DASHBOARD_USERS`) and a layer store of the module's own holding
    the run (a link): the languages the users save here stay out of the store other tests read."""
    store = tmp_path_factory.mktemp("guarded") / "layers"
    store.mkdir()
    (store / "runs").symlink_to(auth_settings.paths.store / "runs", target_is_directory=True)
    return auth_settings.model_copy(update={"paths": auth_settings.paths.model_copy(update={"store": store})})


@pytest.fixture(scope="module")
def guarded_app(guarded_settings, secret_key):
    """The dashboard of the tiny run with logins on."""
    return create_app(guarded_settings).server


def test_a_users_choice_is_saved_per_user(tmp_path):
    assert saved_language(tmp_path, "kp_team") is None  # no file yet: nobody chose
    save_language(tmp_path, "kp_team", "fr")
    save_language(tmp_path, "nma_sle", "en")
    save_language(tmp_path, "kp_team", "en")
    save_language(tmp_path, "kp_team", "fr")
    assert (saved_language(tmp_path, "kp_team"), saved_language(tmp_path, "nma_sle")) == ("fr", "en")
    assert saved_language(tmp_path, "someone_else") is None
    assert (tmp_path / PREFERENCES_FILE).is_file()
    with pytest.raises(UnknownOption, match="unknown language 'de'; choose one of en, fr"):
        save_language(tmp_path, "kp_team", "de")


@pytest.mark.parametrize(("headers", "cookie", "language"), [
    ({}, None, "en"),
    ({"Accept-Language": FRENCH}, None, "fr"),
    ({"Accept-Language": "de-DE,de;q=0.9"}, None, "en"),
    ({"Accept-Language": FRENCH}, "en", "en"),  # the cookie (the switch pressed) wins over the browser
    ({}, "fr", "fr"),
    ({}, "klingon", "en"),
])
def test_the_page_is_in_the_chosen_language_and_says_so(open_app, headers, cookie, language):
    client = open_app.test_client()
    if cookie:
        client.set_cookie(COOKIE, cookie)
    answer = client.get("/", headers=headers)
    assert answer.status_code == 200 and html_lang(answer.get_data(as_text=True)) == language


def test_the_switch_sets_a_years_cookie_and_goes_back_to_a_local_page_only(open_app):
    client = open_app.test_client()
    answer = client.get("/language/fr?next=/border%3Fscope%3Dexternal")
    assert answer.status_code == 302 and answer.headers["Location"] == "/border?scope=external"
    cookie = answer.headers["Set-Cookie"]
    assert f"{COOKIE}=fr" in cookie and f"Max-Age={COOKIE_SECONDS}" in cookie and "SameSite=Lax" in cookie
    assert html_lang(client.get("/border").get_data(as_text=True)) == "fr"
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example"):
        assert client.get("/language/en", query_string={"next": elsewhere}).headers["Location"] == "/"
    back = client.get("/language/en", headers={"Referer": "http://localhost/runs"})
    assert back.headers["Location"] == "/runs"  # the page the switch was pressed on
    unknown = client.get("/language/xx")
    assert unknown.status_code == 404 and "choose one of en, fr" in unknown.get_data(as_text=True)


def test_the_login_page_speaks_the_browsers_language_and_has_the_switch(guarded_app):
    client = FlaskClient(guarded_app)
    page = client.request("GET", "/login?next=/runs", headers={"Accept-Language": FRENCH})
    assert html_lang(page.text) == "fr" and "Mot de passe" in page.text and "Se connecter" in page.text
    assert 'href="/language/en?next=%2Flogin%3Fnext%3D%2Fruns"' in page.text
    assert 'class="current" aria-current="true">Français' in page.text
    english = client.request("GET", "/login")
    assert html_lang(english.text) == "en" and "Password" in english.text


def test_a_logged_in_users_choice_follows_the_user_to_another_browser(guarded_app, guarded_settings):
    first = FlaskClient(guarded_app)
    log_in(first, "nma_sle")
    assert first.request("GET", "/language/fr?next=/").status == 302
    assert saved_language(guarded_settings.paths.store, "nma_sle") == "fr"
    second = FlaskClient(guarded_app)  # no cookie of the switch, an English browser
    log_in(second, "nma_sle")
    assert html_lang(second.request("GET", "/", headers={"Accept-Language": "en"}).text) == "fr"
    other = FlaskClient(guarded_app)
    log_in(other, "kp_team")
    assert html_lang(other.request("GET", "/").text) == "en"  # another user keeps its own language


def test_charts_and_tables_write_numbers_the_languages_way():
    with use_language("fr"):
        assert graph_config()["locale"] == "fr" and figure([])["layout"]["separators"] == ", "
        assert table_locale() == {"decimal": ",", "group": " "}
    with use_language("en"):
        assert graph_config()["locale"] == "en" and figure([])["layout"]["separators"] == ".,"
