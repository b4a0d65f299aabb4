"""The Area statistics page's callbacks, posted as the browser posts them, on the tiny area world (tests/area_world):
a drawn rectangle gives the world's known figures period by period, its licences in force, its border and its
sites' download; an upload gives the same; bad areas (self-intersecting, empty, too large, not an area file) get a
plain message in the page; watching the drawn area records a subscription from the run shown."""

from __future__ import annotations

import base64
import json

import geopandas as gpd
import pytest
import shapely
from area_draw import download, drawn, post, show_drawn, table, world_box
from area_world import AREA_RUN, SITES, write_area_run
from conftest import FlaskClient, write_config

from mrumonitor.alerts.subscriptions import Subscriptions
from mrumonitor.config import load_settings
from mrumonitor.crs import WGS84
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.area_view import upload_limit

pytestmark = pytest.mark.integration

#: The area file limit of these tests' configuration (MB).
HUGE_MB = 0.05


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("area-page")
    write_area_run(folder / "layers")
    # a small file limit, so that a "huge" file fits in a request to the dashboard (whose own cap is 1 MB)
    return load_settings(write_config(folder, f'[paths]\nstore = "{folder / "layers"}"\nwork = "{folder / "work"}"\n'
                                              f'[alerts]\nmax_area_file_mb = {HUGE_MB}\n'))


@pytest.fixture(scope="module")
def client(settings):
    return FlaskClient(create_app(settings).server)


def show(client, geojson=None, contents=None, filename=None) -> dict:
    """The page's answer to a drawing, or to an upload when `contents` is given."""
    if contents is None:
        return show_drawn(client, geojson)
    return post(client, "area-shape.data", {"area-draw.geojson": None, "area-upload.contents": contents,
                                            "area-upload.filename": filename}, ["area-upload.contents"])


def test_a_drawn_rectangle_gives_the_worlds_known_figures(client):
    answer = show(client, drawn(world_box()))
    assert answer["area-shape"]["data"]["kind"] == "drawn"
    rows = {row["Period"]: row for row in table(answer, "area-periods")}
    assert rows["2025H1"]["Sites"] == 2 and rows["2025H1"]["Active mined area (ha)"] == pytest.approx(150.0)
    assert rows["2025H1"]["Unregistered (ha)"] == pytest.approx(0.0)
    second = rows["2025H2"]
    assert second["Sites"] == 3 and second["Active mined area (ha)"] == pytest.approx(216.0)
    assert second["Registered (ha)"] == pytest.approx(150.0) and second["Unregistered (ha)"] == pytest.approx(66.0)
    assert second["Unregistered share (%)"] == pytest.approx(30.6)
    assert second["no licence (ha)"] == pytest.approx(16.0) and second["expired licence (ha)"] == pytest.approx(50.0)
    licences = {row["Licence"] for row in table(answer, "area-licences")}
    assert licences == {"SL-L-0001", "GN-L-0001"}  # SL-L-0002 is only in the older snapshot: not in force
    borders = table(answer, "area-borders")
    assert borders[0]["Border"] == "GIN-SLE" and borders[0]["Distance (km)"] == 0
    chart = json.dumps(answer)
    assert '"barmode": "stack"' in chart and '"rangemode": "tozero"' in chart


def test_a_rectangle_around_one_site_counts_that_site_only(client):
    rows = table(show(client, drawn(world_box(["SLE-BORDER"], margin_deg=0.001))), "area-periods")
    second = next(row for row in rows if row["Period"] == "2025H2")
    assert second["Sites"] == 1 and second["Unregistered (ha)"] == pytest.approx(16.0)


def test_an_uploaded_geojson_gives_the_same_figures_and_the_sites_download(client):
    text = gpd.GeoDataFrame(geometry=[world_box()], crs=WGS84).to_json().encode()
    contents = "data:application/geo+json;base64," + base64.b64encode(text).decode()
    answer = show(client, contents=contents, filename="watch.geojson")
    assert answer["area-shape"]["data"]["kind"] == "upload"
    assert "watch.geojson" in json.dumps(answer["area-result"])
    second = next(row for row in table(answer, "area-periods") if row["Period"] == "2025H2")
    assert second["Active mined area (ha)"] == pytest.approx(216.0)
    for button, suffix in (("area-download-csv", ".csv"), ("area-download-geojson", ".geojson")):
        filename, content = download(client, button, answer["area-shape"]["data"])
        assert filename.endswith(suffix) and all(site in content for site in SITES)


@pytest.mark.hostile
@pytest.mark.parametrize("case, geojson, says", [
    ("self-intersecting", drawn(shapely.Polygon([(-10.6, 8.4), (-10.5, 8.5), (-10.5, 8.4), (-10.6, 8.5)])),
     "crosses itself"),
    ("too large", drawn(shapely.box(-40, -30, 40, 40)), "km"),
    ("not an area", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [-10.5, 8.4]}}]}, "not an area (a point)"),
])
def test_a_bad_drawn_area_is_said_in_words(client, case, geojson, says):
    answer = show(client, geojson)
    message = json.dumps(answer["area-message"]["children"])
    assert says in message.lower(), (case, message)
    assert answer["area-shape"]["data"] is None and answer["area-result"]["children"] == []
    assert "Traceback" not in message


@pytest.mark.hostile
def test_an_empty_drawing_a_wrong_file_and_a_huge_file_get_a_message(client, settings):
    answer = show(client, {"type": "FeatureCollection", "features": []})
    assert "Draw a polygon or a rectangle" in json.dumps(answer["area-message"]["children"])
    wrong = show(client, contents="data:text/plain;base64," + base64.b64encode(b"hello").decode(),
                 filename="notes.txt")
    assert "notes.txt" in json.dumps(wrong["area-message"]["children"])
    assert upload_limit(settings) == int(HUGE_MB * 1024 * 1024)  # the page's upload control stops a larger file
    huge = b" " * (upload_limit(settings) + 1)  # ... and the server one posted by hand
    answer = show(client, contents="data:application/json;base64," + base64.b64encode(huge).decode(),
                  filename="huge.geojson")
    assert "huge.geojson" in json.dumps(answer["area-message"]["children"]) and answer["area-shape"]["data"] is None


def test_watching_the_drawn_area_records_a_subscription_from_the_run_shown(client, settings):
    shape = show(client, drawn(world_box()))["area-shape"]["data"]
    values = {"area-watch-submit.n_clicks": 1, "area-shape.data": shape, "area-watch-name.value": "Koindu pits",
              "area-watch-email.value": "watcher@example.org", "area-watch-kinds.value": ["new_site", "growth"],
              "area-watch-confidence.value": "medium", "area-watch-frequency.value": "weekly"}
    answer = post(client, "area-watch-message.children", values)
    assert "Watching" in json.dumps(answer), answer
    subscription = next(s for s in Subscriptions(settings.subscriptions).list("") if s.name == "Koindu pits")
    assert (subscription.area_kind, subscription.since_run, subscription.kinds) == ("drawn", AREA_RUN,
                                                                                    ("new_site", "growth"))
    assert shapely.from_geojson(subscription.area_geojson).equals_exact(world_box(), 1e-9)
    refused = post(client, "area-watch-message.children", {**values, "area-watch-email.value": "not-an-address"})
    assert "Not watched" in json.dumps(refused)
    missing = post(client, "area-watch-message.children", {**values, "area-shape.data": None})
    assert "no area yet" in json.dumps(missing)
