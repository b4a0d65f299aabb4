"""Hostile HTTP requests to the dashboard's server: a careless or hostile logged-in user, and forged sessions.

Every case speaks HTTP to a real waitress server on 127.0.0.1 (the `requests` library, through `HttpClient`)
and asserts the clear status, a plain-text answer and no traceback. Two servers: the access layer, security
checks and routes on a bare Flask server over the tiny dashboard run (logins, sessions, throttling, request
size, routes), and the whole Dash dashboard of the demo run (callback bodies, pages, headers).
"""

from __future__ import annotations

import html
import io
import json
import re
import secrets
import socket
import time
from types import SimpleNamespace
from urllib.parse import unquote

import flask
import pytest
from conftest import (
    DASHBOARD_RUN,
    DASHBOARD_USERS,
    TEST_SECRET_ENV,
    FlaskClient,
    HttpClient,
    callback_body,
    log_in,
    log_out,
    running_server,
)
from flask.sessions import SecureCookieSessionInterface
from hostile import assert_no_traceback, mrumonitor

from mrumonitor.dashboard.access import check_secret, current_access, install_access
from mrumonitor.dashboard.routes import download_url, install_routes, overlay_url
from mrumonitor.dashboard.security import install_security
from mrumonitor.errors import ConfigError

pytestmark = pytest.mark.hostile

#: The cap of the test servers: the default, 1 MiB.
LIMIT = 1024 * 1024


def guarded_server(settings) -> flask.Flask:
    """The access layer, the security checks and the routes on a bare Flask server, as create_app adds them."""
    app = SimpleNamespace(server=flask.Flask("hostile-http"))
    install_access(app, settings)
    install_security(app, settings.dashboard)
    install_routes(app, settings)

    @app.server.route("/whoami", methods=["GET", "POST"])
    def whoami():
        access = current_access()
        return f"{access.user} {access.role} {access.country}"

    return app.server


def with_dashboard(settings, **values):
    return settings.model_copy(update={"dashboard": settings.dashboard.model_copy(update=values)})


@pytest.fixture(scope="module")
def url(auth_settings, secret_key):
    """A guarded server with the default login limit (10 failures a minute per address)."""
    with running_server(guarded_server(with_dashboard(auth_settings, login_attempts="10 per minute"))) as base:
        yield base


def plain_refusal(reply, status: int, *words: str) -> str:
    """`reply` is a plain-text `status` holding `words`, without a traceback."""
    assert reply.status == status, (reply.status, reply.text[:500])
    assert reply.headers.get("Content-Type", "").startswith("text/plain"), reply.headers
    assert_no_traceback(reply.text)
    for word in words:
        assert word in reply.text, (word, reply.text)
    return reply.text


def logged_in(base: str, user: str = "nma_sle") -> HttpClient:
    client = HttpClient(base)
    assert log_in(client, user).status == 302
    return client


# --- login throttling -----------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.integration
def test_forty_wrong_passwords_in_four_seconds_are_throttled_and_the_right_one_does_not_get_in(
        auth_settings, secret_key):
    with running_server(guarded_server(with_dashboard(auth_settings, login_attempts="10 per minute"))) as base:
        client = HttpClient(base)
        started, statuses = time.monotonic(), []
        for attempt in range(40):
            statuses.append(log_in(client, "nma_sle", f"guess-{attempt}").status)
        assert time.monotonic() - started < 20
        assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
        reply = log_in(client, "nma_sle")  # the right password, during the lock-out
        plain_refusal(reply, 429, "Too many failed logins", "10 per minute")
        assert reply.headers["Retry-After"] == "60"
        assert client.request("GET", "/whoami").status == 302


# --- next= after login ----------------------------------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("target", [
    "/%09/evil.example", "//evil.example", "https://evil.example/", "%5C%5Cevil.example", "/%5Cevil.example",
    "javascript:alert(1)", "/%0D%0A/evil.example", "http:/evil.example", "%20//evil.example", "%2F%2Fevil.example",
    "/%09%09/evil.example/x"])
def test_login_follows_only_same_site_paths(url, target):
    """The form shown for ``/login?next=<target>`` carries "/" instead, and a login posting the target itself
    (as the query decodes it: tabs, line breaks, backslashes) goes to "/" as well."""
    client = HttpClient(url)
    form = client.request("GET", "/login?next=" + target).text
    assert html.unescape(re.search(r'name="next" value="([^"]*)"', form).group(1)) == "/"
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    reply = client.request("POST", "/login", data={"username": "nma_sle", "password": "koidu-2026", "csrf": token,
                                                   "next": unquote(target)})
    assert reply.status == 302
    assert re.sub(r"^http://[^/]+", "", reply.headers["Location"]) == "/", reply.headers["Location"]


@pytest.mark.integration
def test_login_follows_a_same_site_path(url):
    reply = log_in(HttpClient(url), "nma_sle", next_page="/map?site=SLE-1")
    assert re.sub(r"^http://[^/]+", "", reply.headers["Location"]) == "/map?site=SLE-1"


# --- logout and sessions --------------------------------------------------------------------------------

@pytest.mark.integration
def test_a_cookie_captured_before_logout_no_longer_works_after_it(url):
    victim = logged_in(url)
    thief = HttpClient(url)
    thief.session.cookies.update(victim.session.cookies)  # the cookie, copied before logging out
    assert thief.request("GET", "/whoami").text == "nma_sle agency SLE"
    assert log_out(victim).status == 302
    for client in (thief, victim):
        assert client.request("GET", "/whoami").status == 302
        plain_refusal(client.request("GET", download_url(DASHBOARD_RUN, "sites", "csv", "SLE")), 401, "Log in")


@pytest.mark.integration
def test_logout_by_a_link_from_another_site_does_not_log_out(url):
    client = logged_in(url)
    assert client.request("GET", "/logout").status == 200  # the page with the button, nothing else
    plain_refusal(client.request("POST", "/logout", data={"csrf": "forged"}), 400, "log-out form")
    assert client.request("GET", "/whoami").text == "nma_sle agency SLE"


@pytest.mark.integration
def test_a_login_form_token_from_another_session_is_refused(url):
    attacker = HttpClient(url)
    token = re.search(r'name="csrf" value="([^"]+)"', attacker.request("GET", "/login").text).group(1)
    victim = HttpClient(url)
    victim.request("GET", "/login")
    reply = victim.request("POST", "/login", data={"username": "nma_sle", "password": "koidu-2026", "csrf": token})
    assert reply.status == 401 and "The form expired" in reply.text
    assert victim.request("GET", "/whoami").status == 302


def forged_cookie(key: str, session: dict) -> str:
    """A Flask session cookie holding `session`, signed with `key` as Flask signs it."""
    app = flask.Flask("forger")
    app.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(app).dumps(session)


@pytest.mark.integration
@pytest.mark.parametrize("key", ["changeme", "secret", "test-secret-" + "0" * 32, "<the server's own key>"])
def test_a_forged_regional_session_is_refused(url, key, monkeypatch):
    import os

    real_key = os.environ[TEST_SECRET_ENV]
    cookie = forged_cookie(real_key if key.startswith("<") else key,
                           {"_user_id": "kp_team", "_fresh": True, "sid": secrets.token_urlsafe(32)})
    client = HttpClient(url)
    client.session.cookies.set("session", cookie)
    assert client.request("GET", "/whoami").status == 302
    plain_refusal(client.request("GET", download_url(DASHBOARD_RUN, "sites", "gpkg", "GIN")), 401, "Log in")


@pytest.mark.unit
@pytest.mark.parametrize("key", ["changeme", "secret", "x" * 31, "changeme" * 4, "a" * 64, "ab" * 40,
                                 "my-dashboard-password-0123456789abcdef", "default-key-" + "0123456789" * 3])
def test_a_short_or_guessable_secret_is_refused(key):
    with pytest.raises(ConfigError, match="token_hex"):
        check_secret(key, "MRUMONITOR_SECRET_KEY")


@pytest.mark.slow
@pytest.mark.integration
def test_serve_refuses_to_start_with_a_guessable_secret(auth_settings, tmp_path):
    from conftest import auth_config

    config = auth_config(auth_settings.paths.store, tmp_path)
    result = mrumonitor("serve", "--config", str(config), "--port", str(free_port()), timeout=120,
                        env={TEST_SECRET_ENV: "changeme"})
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert_no_traceback(output)
    assert "secrets.token_hex(32)" in output and TEST_SECRET_ENV in output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- request size ---------------------------------------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("path", ["/login", "/_dash-update-component", "/whoami", "/logout",
                                  download_url(DASHBOARD_RUN, "capacity", "csv")])
def test_an_oversized_body_is_answered_413_by_every_route(url, path):
    client = logged_in(url)
    reply = client.request("POST", path, data=b"x" * (LIMIT + 1), headers={"Content-Type": "application/json"})
    assert reply.status == 413, reply.text[:300]
    assert_no_traceback(reply.text)
    assert client.request("GET", "/whoami").text == "nma_sle agency SLE"  # the server goes on


@pytest.mark.integration
def test_an_oversized_body_without_a_length_is_answered_413(url):
    """Sent in chunks (no Content-Length): the cap holds while the body is read."""
    client = logged_in(url)

    def chunks():
        for _ in range(2 * LIMIT // 65536 + 1):
            yield b"y" * 65536

    reply = client.request("POST", "/whoami", data=chunks())
    assert reply.status == 413
    assert_no_traceback(reply.text)


@pytest.mark.integration
def test_flask_itself_caps_the_body_with_a_plain_message(auth_settings, secret_key):
    """Where no WSGI server caps the body (gunicorn has no such limit), Flask's 413 is plain words."""
    server = guarded_server(auth_settings)
    client = server.test_client()
    reply = client.post("/login", data=b"x" * (LIMIT + 1), content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 413 and reply.mimetype == "text/plain"
    assert b"at most 1024 KiB" in reply.data and b"max_request_kb" in reply.data


@pytest.mark.slow
@pytest.mark.integration
def test_a_huge_query_string_gets_a_clear_answer(url):
    client = logged_in(url)
    reply = client.request("GET", download_url(DASHBOARD_RUN, "capacity", "csv") + "?country=" + "A" * 200_000)
    assert reply.status in (400, 414, 431), reply.status
    assert_no_traceback(reply.text)


# --- routes: other countries, path tricks, methods ------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("path", [
    download_url(DASHBOARD_RUN, "sites", "gpkg", "GIN"), download_url("latest", "sites", "csv"),
    download_url(DASHBOARD_RUN, "activity_2025H2", "cog", "GIN"), download_url("latest", "sites", "geojson", "gin"),
    download_url(DASHBOARD_RUN, "sites", "shp", "GIN", part="metadata")])
def test_an_agency_gets_no_other_countrys_site_layer(url, path):
    plain_refusal(logged_in(url).request("GET", path), 403, "site-level data of SLE only")


@pytest.mark.integration
@pytest.mark.parametrize(("path", "status"), [
    ("/download/..%2F..%2Fetc/passwd", 404), ("/download/latest/..%2Fmanifest.json", 404),
    ("/download/latest/manifest.json", 404), ("/download/latest/..manifest.gpkg", 404),
    ("/download/latest/..%2F..%2F..%2Fetc%2Fpasswd.csv", 404), ("/download/%2E%2E/sites.csv", 404),
    ("/overlay/latest/..%2F..%2Fetc%2Fpasswd.png", 404), ("/reference/latest/..%2Fmanifest.geojson", 404),
    ("/download/latest/sites.csv?country=..%2F..%2Fetc", 400), ("/download/latest/sites%00.csv", 404),
    (f"/overlay/{DASHBOARD_RUN}/2025H2.png%00.tif", 404)])
def test_path_traversal_in_ids_is_refused(url, path, status):
    text = plain_refusal(logged_in(url).request("GET", path), status)
    assert "root:" not in text and '"layers"' not in text


@pytest.mark.integration
@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/login"), ("DELETE", download_url(DASHBOARD_RUN, "capacity", "csv")), ("PATCH", "/logout"),
    ("POST", overlay_url(DASHBOARD_RUN, "2025H2"))])
def test_a_wrong_method_is_a_plain_405(url, method, path):
    plain_refusal(logged_in(url).request(method, path), 405, "is not answered at this address")


# --- headers --------------------------------------------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("path", ["/login", "/whoami", download_url(DASHBOARD_RUN, "capacity", "csv"), "/nowhere"])
def test_every_answer_carries_the_security_headers(url, path):
    reply = logged_in(url).request("GET", path)
    headers = reply.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # not over plain HTTP unless configured


@pytest.mark.integration
def test_behind_https_cookies_are_secure_and_browsers_told_to_stay_on_https(auth_settings, secret_key):
    with running_server(guarded_server(with_dashboard(auth_settings, https=True))) as base:
        client = HttpClient(base)
        reply = log_in(client, "kp_team")
        assert "Secure" in reply.headers["Set-Cookie"] and "HttpOnly" in reply.headers["Set-Cookie"]
        assert reply.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# --- the whole Dash dashboard ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dependencies(demo_url):
    return json.loads(logged_in(demo_url).request("GET", "/_dash-dependencies").body)


TABLE_VALUES = {"filter-country.value": "SLE", "filter-period.value": "2026H1", "filter-commodity.value": "",
                "filter-registration.value": [], "filter-border-only.value": [], "unreg-table.page_current": 0,
                "unreg-table.page_size": 20, "unreg-table.sort_by": [], "unreg-table.filter_query": ""}


def table_body(dependencies) -> dict:
    return callback_body(dependencies, "unreg-table.data", TABLE_VALUES)


def select_body(dependencies, rows: list[dict]) -> dict:
    """The body posted when a row of the site table is selected: the table's page of rows comes with it."""
    return callback_body(dependencies, "unreg-map.viewport@", {
        "unreg-table.active_cell": {"row": 0, "column": 0}, "unreg-table.data": rows})


def with_state(body: dict, **change) -> dict:
    return {**body, "state": [{**body["state"][0], **change}]}


def with_input(body: dict, index: int, **change) -> dict:
    inputs = [dict(item) for item in body["inputs"]]
    inputs[index].update(change)
    return {**body, "inputs": inputs}


CALLBACK_CASES = {
    "malformed JSON": lambda deps: b'{"output": "unreg-table.data", "inputs": [',
    "a JSON array": lambda deps: b"[1, 2, 3]",
    "a JSON string": lambda deps: b'"unreg-table.data"',
    "an output that does not exist": lambda deps: {**table_body(deps), "output": "nosuch.children"},
    "an output that is a number": lambda deps: {**table_body(deps), "output": 12},
    "an input that does not exist": lambda deps: with_input(table_body(deps), 0, id="nosuch"),
    "an input property that does not exist": lambda deps: with_input(table_body(deps), 1, property="__class__"),
    "inputs missing": lambda deps: {**table_body(deps), "inputs": table_body(deps)["inputs"][:2]},
    "inputs not a list": lambda deps: {**table_body(deps), "inputs": {"id": "x"}},
    "state naming another component": lambda deps: with_state(select_body(deps, []), id="mainmap-sites"),
    "state naming another property": lambda deps: with_state(select_body(deps, []), property="derived_viewport"),
}


@pytest.mark.demo
@pytest.mark.parametrize("case", sorted(CALLBACK_CASES))
def test_a_broken_callback_request_is_a_plain_400(demo_url, dependencies, case):
    body = CALLBACK_CASES[case](dependencies)
    client = logged_in(demo_url)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = client.request("POST", "/_dash-update-component", data=data, headers={"Content-Type": "application/json"})
    plain_refusal(reply, 400)
    good = client.request("POST", "/_dash-update-component", json=table_body(dependencies))
    assert good.status == 200  # the same user's next request is answered


@pytest.mark.demo
def test_the_largest_callback_body_of_the_dashboard_is_far_under_the_cap(demo_url, dependencies):
    """A table row selected sends its whole page of rows: the largest body the dashboard's pages post."""
    client = logged_in(demo_url)
    rows = json.loads(client.request("POST", "/_dash-update-component", json=table_body(dependencies)).body)
    body = select_body(dependencies, rows["response"]["unreg-table"]["data"])
    size = len(json.dumps(body).encode())
    assert client.request("POST", "/_dash-update-component", json=body).status == 200
    assert size < LIMIT / 50, size


@pytest.mark.demo
def test_an_oversized_callback_body_is_413_on_the_dashboard(demo_url):
    client = logged_in(demo_url)
    reply = client.request("POST", "/_dash-update-component", data=b"[" + b"0," * LIMIT + b"0]",
                           headers={"Content-Type": "application/json"})
    assert reply.status == 413
    assert_no_traceback(reply.text)


@pytest.mark.demo
def test_a_chunked_oversized_callback_body_is_413_where_no_server_caps_it(demo_app):
    """gunicorn passes a body sent without a length on to the app, and werkzeug stops reading it at the cap
    without a word: the callback check says 413 rather than parse what was cut."""
    client = FlaskClient(demo_app.server)
    assert log_in(client, "kp_team").status == 302
    reply = client.request("POST", "/_dash-update-component", input_stream=io.BytesIO(b"[" + b"0," * LIMIT + b"0]"),
                           headers={"Content-Type": "application/json"},
                           environ_overrides={"wsgi.input_terminated": True})
    plain_refusal(reply, 413, "max_request_kb")


@pytest.mark.demo
@pytest.mark.parametrize("path", ["/site/..%2F..%2Fetc%2Fpasswd", "/site/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                                  "/map?site=" + "x" * 5000, "/dossier/latest/..%2F..%2Fetc%2Fpasswd.html"])
def test_tricks_in_page_and_dossier_addresses_get_a_clear_answer(demo_url, path):
    reply = logged_in(demo_url).request("GET", path)
    assert reply.status in (200, 400, 403, 404), reply.status
    assert_no_traceback(reply.text)
    assert "root:" not in reply.text and "<script>alert" not in reply.text


@pytest.mark.demo
def test_dashboard_pages_carry_a_policy_allowing_dashs_own_script_only(demo_url):
    reply = logged_in(demo_url).request("GET", "/")
    policy = reply.headers["Content-Security-Policy"]
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", reply.text)
    assert inline and "'sha256-" in policy and "'unsafe-eval'" not in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


def components(node):
    """Every component of a Dash layout (as JSON), depth first."""
    if isinstance(node, list):
        for item in node:
            yield from components(item)
    elif isinstance(node, dict) and "props" in node:
        yield node
        yield from components(node["props"].get("children"))


@pytest.mark.demo
def test_logout_button_posts_the_session_token(demo_url):
    client = logged_in(demo_url)
    layout = json.loads(client.request("GET", "/_dash-layout").body)
    form = next(c for c in components(layout) if c["type"] == "Form" and c["props"].get("action") == "/logout")
    assert form["props"]["method"] == "post"
    token = next(c["props"]["value"] for c in components(form["props"]["children"]) if c["props"].get("name") == "csrf")
    assert client.request("POST", "/logout", data={"csrf": token}).status == 302
    assert client.request("GET", "/_dash-layout").status == 401


@pytest.mark.integration
def test_a_users_passwords_are_never_in_an_answer(url):
    client = logged_in(url, "kp_team")
    for path in ("/login", "/whoami", "/logout"):
        text = client.request("GET", path).text
        assert all(password not in text for _, _, password in DASHBOARD_USERS.values())


@pytest.mark.demo
def test_logout_ends_the_session_in_every_gunicorn_worker(demo_settings, tmp_path):
    """The real `mrumonitor serve --workers 2`: a cookie copied before logging out is refused by both workers
    (the logins are recorded in one SQLite file that every worker reads)."""
    import os
    import signal
    import subprocess
    import sys

    from conftest import auth_config

    port = free_port()
    env = {**os.environ, TEST_SECRET_ENV: secrets.token_hex(32)}
    server = subprocess.Popen([sys.executable, "-m", "mrumonitor.cli", "serve", "--config",
                               str(auth_config(demo_settings.paths.store, tmp_path)), "--port", str(port),
                               "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if HttpClient(base).request("GET", "/login").status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        victim = logged_in(base)
        thief = HttpClient(base)
        thief.session.cookies.update(victim.session.cookies)
        assert all(thief.request("GET", "/_dash-layout").status == 200 for _ in range(6))
        assert log_out(victim).status == 302
        # new connections each time: requests spread over both workers
        answers = {HttpClient(base).request("GET", "/_dash-layout", cookies=dict(thief.session.cookies)).status
                   for _ in range(12)}
        assert answers == {401}
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # a loaded machine: the test is over, the server must not outlive it
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize(("setting", "words"), [
    ('login_attempts = "ten a minute"', ("login_attempts", "10 per minute")),
    ("max_request_kb = 4", ("max_request_kb", "16")),
    ("session_hours = 0", ("session_hours",)),
    ('login_attempts_storage = "bogus://here"', ("login_attempts_storage", "memory://"))])
def test_serve_refuses_a_wrong_security_setting(auth_settings, tmp_path, setting, words):
    users = "".join(f'[dashboard.auth.users.{name}]\nrole = "{role}"\n' + (f'country = "{country}"\n' if country else "")
                    + 'password_hash = "scrypt:32768:8:1$x$y"\n' for name, (role, country, _) in DASHBOARD_USERS.items())
    config = tmp_path / "mrumonitor.toml"
    config.write_text(f'[paths]\nstore = "{auth_settings.paths.store}"\nwork = "{tmp_path / "work"}"\n'
                      f'[dashboard]\n{setting}\n[dashboard.auth]\nenabled = true\n'
                      f'secret_key_env = "{TEST_SECRET_ENV}"\n{users}', encoding="utf-8")
    result = mrumonitor("serve", "--config", str(config), "--port", str(free_port()), timeout=120,
                        env={TEST_SECRET_ENV: secrets.token_hex(32)})
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output
    assert_no_traceback(output)
    for word in words:
        assert word in output, (word, output)
