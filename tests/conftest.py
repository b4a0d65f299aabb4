"""Shared test builders: small hand-made licences, files in every format, and settings pointing at them."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from selenium.webdriver.chrome.options import Options

from mrumonitor.config import Settings, load_settings
from mrumonitor.crs import WGS84
from mrumonitor.raster.blocks import on_grid
from mrumonitor.raster.cog import period_tags, write_activity_cog
from mrumonitor.raster.grid import Grid
from mrumonitor.reference.layers import ReferenceLayers
from mrumonitor.runfolder import RunFolder

#: A hand-made "Sierra Leone": a lon/lat box standing in for the outline in ingest tests.
SLE_BOX = (-13.3, 6.9, -10.3, 10.0)


def sle_licences(n: int = 3) -> gpd.GeoDataFrame:
    """`n` flawless Sierra Leone licences in the NMA schema of default.toml, WGS84, 10 x 10 km apart."""
    rows = []
    for i in range(n):
        lon, lat = -12.0 + 0.1 * (i % 10), 8.0 + 0.1 * (i // 10)
        rows.append({
            "LICENCE_NO": f"SL-AML-{i + 1:04d}",
            "HOLDER": "Coopérative de Guéckédou" if i == 0 else f"Holder {i}",
            "LIC_TYPE": "Artisanal Mining Licence",
            "MINERAL": "Diamonds",
            "STATUS": "Active",
            "GRANTED": "15/01/2024",
            "EXPIRES": "14/01/2027",
            "geometry": shapely.box(lon, lat, lon + 0.02, lat + 0.02),
        })
    return gpd.GeoDataFrame(rows, crs=4326)


def write_zipped_shapefile(frame: gpd.GeoDataFrame, path: Path, with_cpg: bool = True) -> Path:
    """Write `frame` as a Shapefile and zip its parts into `path`."""
    folder = path.parent / (path.stem + "_parts")
    folder.mkdir(parents=True, exist_ok=True)
    shp = folder / (path.stem + ".shp")
    frame.to_file(shp, encoding="UTF-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(folder.iterdir()):
            if with_cpg or part.suffix != ".cpg":
                archive.write(part, part.name)
    return path


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mrumonitor.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def sle_settings(tmp_path):
    """Settings whose only source is `sources.sle`, pointing at a file name the test then writes."""

    def build(file: str, **overrides: str) -> Settings:
        extra = "".join(f"{key} = {value}\n" for key, value in overrides.items())
        path = write_config(tmp_path, f'[paths]\nwork = "work"\nstore = "layers"\n'
                                      f'[sources.sle]\nfile = "{file}"\n{extra}')
        settings = load_settings(path)
        return settings.model_copy(update={"sources": {"sle": settings.sources["sle"]}})

    return build


@pytest.fixture(scope="session")
def outlines() -> dict[str, shapely.Geometry]:
    """Hand-made country outlines in the analysis CRS (only SLE, as a box)."""
    crs = load_settings().analysis_crs
    return {"SLE": gpd.GeoSeries([shapely.box(*SLE_BOX)], crs=4326).to_crs(crs).iloc[0]}


# ---------------------------------------------------------------------------------------------------------
# Browser tests: dash[testing]'s dash_duo with Debian's chromium, headless unless MRUMONITOR_HEADED=1.

#: Debian's chromium; chromedriver (/usr/bin/chromedriver) is found on PATH.
CHROMIUM = "/usr/bin/chromium"


def pytest_configure(config):
    """Browser tests run headless by default (CI and this machine have no display)."""
    if hasattr(config.option, "headless") and os.environ.get("MRUMONITOR_HEADED") != "1":
        config.option.headless = True


def pytest_setup_options():
    """Chrome options for dash_duo: Debian's chromium, a desktop-sized window."""
    options = Options()
    options.binary_location = CHROMIUM
    options.add_argument("--window-size=1400,1000")
    return options


# ---------------------------------------------------------------------------------------------------------
# A tiny published run for the dashboard's server tests: sites in SLE, in GIN and across their border,
# two aggregate tables and one activity raster over SLE and western Guinea.

DASHBOARD_RUN = "20260301T120000Z-d5a1"
DASHBOARD_PERIOD = "2025H2"

#: lon/lat of the tiny run's sites (WGS84), and their countries. SLE_GIN lies on the SLE-GIN border.
DASHBOARD_SITES = {
    "SLE-1": ((-11.886, 8.457), "SLE", "SLE"),
    "SLE-2": ((-12.200, 8.800), "SLE", "SLE"),
    "GIN-1": ((-9.660, 9.939), "GIN", "GIN"),
    "SLE_GIN": ((-11.0036, 9.7143), "SLE", "GIN;SLE"),
}

#: The tiny run's activity raster covers this lon/lat box; a strip on its west is no data, a patch is 0.
DASHBOARD_RASTER_BOX = (-13.5, 6.8, -9.0, 10.5)


def write_dashboard_run(store: Path, run_id: str = DASHBOARD_RUN) -> Path:
    """Write a small published run into the layer store `store`, make it LATEST, return its folder. Like a real
    run, it carries the reference layers it was computed with (those of the default configuration), and its
    manifest records them, its CRS and its countries."""
    settings = load_settings()
    crs = settings.analysis_crs
    run_dir = store / "runs" / run_id
    run_dir.mkdir(parents=True)
    centres = gpd.GeoSeries([shapely.Point(xy) for xy, _, _ in DASHBOARD_SITES.values()], crs=WGS84).to_crs(crs)
    gpd.GeoDataFrame({
        "site_id": list(DASHBOARD_SITES),
        "country": [country for _, country, _ in DASHBOARD_SITES.values()],
        "countries": [countries for _, _, countries in DASHBOARD_SITES.values()],
        "transboundary": [";" in countries for _, _, countries in DASHBOARD_SITES.values()],
        "area_ha": 4 * 1500.0 ** 2 / 10_000,
        "risk_score": [0.2, 0.5, 0.7, 0.9],
    }, geometry=centres.buffer(1500, cap_style="square"), crs=crs).to_parquet(run_dir / "sites.parquet")
    pd.DataFrame({"country": ["SLE", "GIN", "LBR", "CIV"], "year": 2025,
                  "volume_carats_central": [1000.0, 2000.0, 300.0, 400.0]}).to_parquet(run_dir / "capacity.parquet")
    pd.DataFrame({"country": ["SLE", "SLE", "GIN"], "period": DASHBOARD_PERIOD,
                  "registration": ["registered", "no_licence", "no_licence"],
                  "area_ha": [10.0, 20.0, 30.0], "sites": [1, 2, 1]}).to_parquet(run_dir / "registration_summary.parquet")
    bounds = gpd.GeoSeries([shapely.box(*DASHBOARD_RASTER_BOX)], crs=WGS84).to_crs(crs).total_bounds
    grid = Grid.covering(tuple(bounds), crs, 2_000.0)
    values = np.full(grid.shape, 60, dtype=np.uint8)
    values[:, :10] = 255
    values[-20:, -20:] = 0
    layer = f"activity_{DASHBOARD_PERIOD}"
    write_activity_cog(on_grid(da.from_array(values, chunks=64), grid), grid, run_dir / f"{layer}.tif",
                       period_tags(DASHBOARD_PERIOD, "2025-07-01", "2025-12-31", "test"), description=layer)
    layers = {
        "sites": {"path": "sites.parquet", "kind": "vector", "title": "Mining sites", "count": len(DASHBOARD_SITES)},
        "capacity": {"path": "capacity.parquet", "kind": "table", "title": "Estimated production capacity"},
        "registration_summary": {"path": "registration_summary.parquet", "kind": "table",
                                 "title": "Registration summary"},
        layer: {"path": f"{layer}.tif", "kind": "raster", "title": f"Mining activity {DASHBOARD_PERIOD}",
                "period": DASHBOARD_PERIOD},
    }
    manifest = {"run_id": run_id, "created": "2026-03-01T12:00:00Z", "layers": layers,
                "periods": [{"name": DASHBOARD_PERIOD, "start": "2025-07-01", "end": "2025-12-31", "layer": layer}],
                "caveats": ["A test run: four square sites, one uniform activity raster."],
                "reference": ReferenceLayers.load(settings).write(RunFolder(run_dir)),
                "config": {"effective": settings.model_dump(mode="json")}}
    RunFolder(run_dir).manifest.write_text(json.dumps(manifest), encoding="utf-8")
    (store / "runs" / "LATEST").write_text(run_id, encoding="utf-8")
    return run_dir


@pytest.fixture(scope="session")
def dashboard_store(tmp_path_factory) -> Path:
    """A layer store holding the tiny dashboard run (read-only for the tests)."""
    store = tmp_path_factory.mktemp("dashboard") / "layers"
    write_dashboard_run(store)
    return store


# ---------------------------------------------------------------------------------------------------------
# Dashboard users, and clients speaking to the dashboard's server: Flask's test client, or HTTP to a real
# waitress server on localhost. Both answer `Reply`s, so one test runs through both.

#: name: (role, country, password) of the dashboard test users.
DASHBOARD_USERS = {"kp_team": ("regional", None, "diamonds-are-forever"), "nma_sle": ("agency", "SLE", "koidu-2026")}

#: The environment variable holding the session key in the tests.
TEST_SECRET_ENV = "MRUMONITOR_TEST_SECRET_KEY"


def auth_config(store: Path, folder: Path) -> Path:
    """A config file for `store` with auth on and the `DASHBOARD_USERS` (password hashes made here)."""
    from werkzeug.security import generate_password_hash

    users = ""
    for name, (role, country, password) in DASHBOARD_USERS.items():
        users += f'[dashboard.auth.users.{name}]\nrole = "{role}"\n' + (f'country = "{country}"\n' if country else "")
        users += f'password_hash = "{generate_password_hash(password)}"\n'
    # functional tests log in and fail often from one address: the login throttle has its own tests
    text = (f'[paths]\nstore = "{store}"\nwork = "{folder / "work"}"\n'
            '[dashboard]\nlogin_attempts = "1000 per minute"\n'
            f'[dashboard.auth]\nenabled = true\nsecret_key_env = "{TEST_SECRET_ENV}"\n{users}')
    return write_config(folder, text)


@pytest.fixture(scope="session")
def auth_settings(dashboard_store, tmp_path_factory) -> Settings:
    """Settings of the tiny dashboard store with auth on, a regional and an SLE agency user."""
    return load_settings(auth_config(dashboard_store, tmp_path_factory.mktemp("auth")))


@pytest.fixture(scope="session")
def secret_key():
    """The session key in the environment, as `[dashboard.auth] secret_key_env` names it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TEST_SECRET_ENV, secrets.token_hex(32))  # a guessable key is refused
        yield


@dataclass
class Reply:
    """An HTTP answer, whichever client got it."""

    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class FlaskClient:
    """Flask's test client (no network)."""

    def __init__(self, flask_app):
        self.client = flask_app.test_client()

    def request(self, method: str, path: str, **kwargs) -> Reply:
        answer = self.client.open(path, method=method, **kwargs)
        return Reply(answer.status_code, dict(answer.headers), answer.get_data())


class HttpClient:
    """HTTP to a running server, with a cookie jar (a browser without JavaScript)."""

    def __init__(self, base_url: str):
        import requests

        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs) -> Reply:
        import requests

        prepared = self.session.prepare_request(requests.Request(method, self.base_url + path, **kwargs))
        prepared.url = self.base_url + path  # as written: requests would remove dot segments (`..`)
        answer = self.session.send(prepared, allow_redirects=False, timeout=60)
        return Reply(answer.status_code, dict(answer.headers), answer.content)


def log_in(client, user: str, password: str | None = None, next_page: str = "/") -> Reply:
    """Log `user` in through the login form (its password from `DASHBOARD_USERS` unless given)."""
    form = client.request("GET", "/login?next=" + next_page)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    password = DASHBOARD_USERS[user][2] if password is None else password
    return client.request("POST", "/login", data={"username": user, "password": password, "csrf": token,
                                                   "next": next_page})


def log_out(client) -> Reply:
    """Log out as the dashboard's button does: a POST with the session's form token (from the /logout page)."""
    page = client.request("GET", "/logout")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.request("POST", "/logout", data={"csrf": token})


def callback_body(dependencies: list[dict], output: str, values: dict[str, object]) -> dict:
    """The body the Dash renderer posts to /_dash-update-component for the callback whose output starts
    with `output`, with input and state values from `values` ("<id>.<property>": value)."""
    dep = next(d for d in dependencies if d["output"].lstrip(".").startswith(output))
    targets = [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in dep["output"].strip(".").split("...")]

    def given(items):
        return [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in items]

    return {"output": dep["output"], "outputs": targets if dep["output"].startswith("..") else targets[0],
            "inputs": given(dep["inputs"]), "state": given(dep["state"]),
            "changedPropIds": [f"{item['id']}.{item['property']}" for item in dep["inputs"]]}


def routes_server(settings: Settings, name: str):
    """A bare Flask server holding only the dashboard's access layer and routes (install_* use nothing but
    `app.server`): the downloads, overlays and reference layers without Dash."""
    import flask

    from mrumonitor.dashboard.access import install_access
    from mrumonitor.dashboard.routes import install_routes

    app = SimpleNamespace(server=flask.Flask(name))
    install_access(app, settings)
    install_routes(app, settings)
    return app.server


@contextmanager
def running_server(flask_app, threads: int = 4):
    """Serve `flask_app` with waitress on a free localhost port; yields its base URL."""
    import waitress

    # the body cap `mrumonitor serve` gives waitress (security.waitress_limits): the app's own
    limit = flask_app.config.get("MAX_CONTENT_LENGTH") or 1 << 30
    server = waitress.create_server(flask_app, host="127.0.0.1", port=0, threads=threads, max_request_body_size=limit)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # closed in the server's own thread (closing its sockets from here raced its select: EBADF), which then
        # ends as nothing is left to serve
        try:
            server.trigger.pull_trigger(lambda: [channel.close() for channel in list(server._map.values())])
        except OSError:  # the trigger is closed already: the server's loop has ended
            pass
        thread.join(10)
        server.task_dispatcher.shutdown()


@pytest.fixture(scope="module")
def base_url(server):
    """The URL of the test module's `server` fixture (a Flask app) served by waitress for the module."""
    with running_server(server) as url:
        yield url


@pytest.fixture(scope="session")
def session_demo(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The README's first command as a user runs it, once per session: `mrumonitor demo --no-serve` in a
    fresh folder, as a real process (about a minute). Returns the demo folder (`./mrumonitor-demo`) and the
    finished process. Read-only for the tests."""
    cwd = tmp_path_factory.mktemp("demo-session")
    done = subprocess.run([sys.executable, "-m", "mrumonitor.cli", "demo", "--no-serve"], cwd=cwd,
                          capture_output=True, text=True, timeout=900, check=False,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-3000:]
    return cwd / "mrumonitor-demo", done


@pytest.fixture(scope="session")
def demo_settings(request) -> Settings:
    """Settings of the session's demo region, its run published (`session_demo`). Read-only for the tests. To
    iterate on dashboard tests, MRUMONITOR_TEST_DEMO=<a demo workdir built before> reuses that one instead.
    """
    if os.environ.get("MRUMONITOR_TEST_DEMO"):
        return load_settings(Path(os.environ["MRUMONITOR_TEST_DEMO"]) / "mrumonitor.toml")
    workdir, _ = request.getfixturevalue("session_demo")
    return load_settings(workdir / "mrumonitor.toml")


def with_auth(settings: Settings) -> Settings:
    """`settings` with [dashboard.auth] on and the `DASHBOARD_USERS` (password hashes made here)."""
    from werkzeug.security import generate_password_hash

    from mrumonitor.config import DashboardAuth, DashboardUser

    users = {name: DashboardUser(role=role, country=country, password_hash=generate_password_hash(password))
             for name, (role, country, password) in DASHBOARD_USERS.items()}
    auth = DashboardAuth(enabled=True, secret_key_env=TEST_SECRET_ENV, users=users)
    return settings.model_copy(update={"dashboard": settings.dashboard.model_copy(update={"auth": auth})})


@pytest.fixture(scope="module")
def demo_app(demo_settings, secret_key):
    """The whole Dash dashboard of the demo run, logins on (`DASHBOARD_USERS`)."""
    from mrumonitor.dashboard.app import create_app

    return create_app(with_auth(demo_settings))


@pytest.fixture(scope="module")
def demo_url(demo_app):
    """The URL of `demo_app` served by waitress for the test module."""
    with running_server(demo_app.server, threads=8) as url:
        yield url


# ---------------------------------------------------------------------------------------------------------
# Test kinds (pyproject.toml's markers say what each means). Every test carries exactly one; browser and demo
# tests are slow by this rule, so `python -m pytest -m "not slow"` is the fast lane and never builds the demo.

#: The kind markers: exactly one per test.
KINDS = ("unit", "integration", "browser", "demo")

#: Kinds that are slow whatever the test: a browser start, or the session's demo (minutes).
SLOW_KINDS = ("browser", "demo")

#: dash[testing]'s fixtures that start chromium.
BROWSER_FIXTURES = {"dash_duo", "dash_br"}

#: The fixtures that build the session's demo, and the kind a test using one must carry (browser tests
#: draw the demo too).
DEMO_FIXTURES = {"session_demo", "demo_settings"}


def kind_problem(item: pytest.Item, kinds: list[str]) -> str | None:
    """Why `item`'s kind markers `kinds` are wrong, or None when they are right."""
    if len(kinds) != 1:
        found = f"{len(kinds)} kind markers ({', '.join(kinds)})" if kinds else "no kind marker"
        return f"has {found}: give it exactly one of {', '.join(KINDS)}"
    uses = set(getattr(item, "fixturenames", ()))
    if uses & BROWSER_FIXTURES and kinds != ["browser"]:
        return f"drives a browser ({', '.join(sorted(uses & BROWSER_FIXTURES))}): mark it browser"
    if uses & DEMO_FIXTURES and kinds[0] not in SLOW_KINDS:
        return f"uses the session's demo ({', '.join(sorted(uses & DEMO_FIXTURES))}): mark it demo"
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m` selects: the slow markers added here count
def pytest_collection_modifyitems(items):
    """Every test has exactly one kind marker, consistent with the fixtures it uses; browser and demo tests
    are also `slow`. A test that breaks the rule stops the collection with its name and the fix."""
    problems = []
    for item in items:
        kinds = [kind for kind in KINDS if item.get_closest_marker(kind)]
        problem = kind_problem(item, kinds)
        if problem:
            problems.append(f"{item.nodeid} {problem}")
        elif kinds[0] in SLOW_KINDS:
            item.add_marker(pytest.mark.slow)
    if problems:
        raise pytest.UsageError("tests without a valid kind marker (pyproject.toml's [tool.pytest.ini_options] "
                                "markers; a whole module takes `pytestmark = pytest.mark.<kind>`):\n  "
                                + "\n  ".join(problems))
