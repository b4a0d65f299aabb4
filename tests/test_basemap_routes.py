"""The built-in basemap as the dashboard serves and draws it: `/basemap/<name>.geojson` (compressed once, cached a
day, unknown names refused plainly), and the map's base: the built-in basemap, a configured tile server instead,
or nothing when the reference folder has no basemap."""

from __future__ import annotations

import gzip
import json
from types import SimpleNamespace

import dash_leaflet as dl
import flask
import pytest
from conftest import write_config

from mrumonitor.config import load_settings
from mrumonitor.dashboard.context import SETTINGS_KEY
from mrumonitor.dashboard.maplayers import basemap, ids
from mrumonitor.dashboard.routes import basemap_url, install_routes

pytestmark = pytest.mark.integration


def make_settings(tmp_path, paths: str = "", dashboard: str = ""):
    return load_settings(write_config(tmp_path, f'[paths]\nstore = "{tmp_path / "store"}"\n'
                                                f'work = "{tmp_path / "work"}"\n{paths}\n[dashboard]\n{dashboard}\n'))


@pytest.fixture
def server(tmp_path) -> flask.Flask:
    app = SimpleNamespace(server=flask.Flask("basemap-test"))
    install_routes(app, make_settings(tmp_path))
    return app.server


def test_basemap_layers_come_compressed_and_cached(server):
    client = server.test_client()
    reply = client.get(basemap_url("water"), headers={"Accept-Encoding": "gzip, br"})
    assert reply.status_code == 200 and reply.mimetype == "application/geo+json"
    assert reply.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in reply.headers["Vary"]
    assert reply.headers["Cache-Control"] == "public, max-age=86400"
    water = json.loads(gzip.decompress(reply.data))
    assert {feature["properties"]["kind"] for feature in water["features"]} == {"sea", "lake"}
    plain = client.get(basemap_url("towns"), headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert "Freetown" in {feature["properties"]["name"] for feature in plain.get_json()["features"]}


@pytest.mark.parametrize("path", ["/basemap/places.geojson", "/basemap/water.json", "/basemap/..%2Fboundaries.geojson",
                                  "/basemap/water", "/basemap/a/b.geojson"])
def test_unknown_basemap_addresses_get_a_plain_404(server, path):
    reply = server.test_client().get(path)
    assert reply.status_code == 404 and reply.mimetype == "text/plain"
    assert "/basemap/" in reply.get_data(as_text=True)


TILES = 'basemap_url = "http://127.0.0.1:8080/{z}/{x}/{y}.png"\nbasemap_attribution = "Local tiles"'


@pytest.mark.parametrize(("case", "panes", "tiles", "credit"), [
    ("built-in", ["basemap"], False, "GSHHG"), ("tile server", [], True, None), ("no basemap files", [], False, None)])
def test_the_map_draws_the_built_in_basemap_unless_a_tile_server_is_set(tmp_path, case, panes, tiles, credit):
    (tmp_path / "empty").mkdir()
    settings = make_settings(tmp_path, paths=f'reference = "{tmp_path / "empty"}"' if case == "no basemap files" else "",
                             dashboard=TILES if case == "tile server" else "")
    app = flask.Flask("panel-test")
    app.config[SETTINGS_KEY] = settings
    with app.app_context():
        children = basemap(ids("test"), 6)
    assert [child.name for child in children if isinstance(child, dl.Pane)] == panes
    assert any(isinstance(child, dl.TileLayer) for child in children) == tiles
    attribution = next(child for child in children if isinstance(child, dl.AttributionControl))
    prefix = getattr(attribution, "prefix", None)
    assert (credit in prefix) if credit else prefix is None
