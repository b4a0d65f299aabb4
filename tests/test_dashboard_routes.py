"""The dashboard's download and overlay routes, with auth on: what each role gets, and path tricks refused.

The routes are mounted on a bare Flask server (install_access + install_routes), spoken to through Flask's
test client and through HTTP to a real waitress server; test_dashboard_access.py drives the whole app.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import flask
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from conftest import (
    DASHBOARD_PERIOD,
    DASHBOARD_RUN,
    DASHBOARD_SITES,
    FlaskClient,
    HttpClient,
    log_in,
    routes_server,
)
from pyproj import Transformer

from mrumonitor.crs import WGS84
from mrumonitor.dashboard.overlay import MAX_WIDTH, RAMP, WEB_MERCATOR, encode_png
from mrumonitor.dashboard.routes import download_url, overlay_bounds, overlay_url
from mrumonitor.export.run_reference import run_reference
from mrumonitor.runfolder import activity_layer
from mrumonitor.store.runs import read_manifest, resolve_run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(auth_settings, secret_key) -> flask.Flask:
    """A Flask server holding only the access layer and the routes (install_* use nothing but `app.server`)."""
    return routes_server(auth_settings, "routes-test")


@pytest.fixture(params=["flask", "http"])
def make_client(request, server):
    """A fresh client (no session) of either kind."""
    return (lambda: FlaskClient(server)) if request.param == "flask" else (
        lambda: HttpClient(request.getfixturevalue("base_url")))


@pytest.fixture
def agency(make_client):
    client = make_client()
    assert log_in(client, "nma_sle").status == 302
    return client


@pytest.fixture
def regional(make_client):
    client = make_client()
    assert log_in(client, "kp_team").status == 302
    return client


@pytest.fixture(scope="module")
def outlines(auth_settings) -> gpd.GeoDataFrame:
    """The country outlines the dashboard run carries (what its downloads are cut at, its overlays masked to)."""
    run_dir = resolve_run(auth_settings.paths.store, DASHBOARD_RUN)
    return run_reference(run_dir, read_manifest(run_dir)).boundaries.set_index("iso3")


def gpkg_sites(reply, tmp_path) -> gpd.GeoDataFrame:
    path = tmp_path / "download.gpkg"
    path.write_bytes(reply.body)
    return pyogrio.read_dataframe(path, layer="sites")


def attachment_name(reply) -> str:
    return re.search(r'filename="?([^";]+)', reply.headers["Content-Disposition"]).group(1)


def test_urls_quote_their_parts():
    assert download_url("latest", "sites", "gpkg", "SLE") == "/download/latest/sites.gpkg?country=SLE"
    assert download_url(DASHBOARD_RUN, "capacity", "csv") == f"/download/{DASHBOARD_RUN}/capacity.csv"
    assert download_url("r", "sites", "shp", None, part="metadata") == "/download/r/sites.shp?part=metadata"
    assert download_url("../x", "a/b", "gpkg") == "/download/..%2Fx/a%2Fb.gpkg"
    assert overlay_url(DASHBOARD_RUN, DASHBOARD_PERIOD) == f"/overlay/{DASHBOARD_RUN}/{DASHBOARD_PERIOD}.png"


# --- downloads ------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_agency_gets_its_own_sites_clipped_at_its_border(agency, outlines, tmp_path):
    reply = agency.request("GET", download_url(DASHBOARD_RUN, "sites", "gpkg", "SLE"))
    assert reply.status == 200, reply.text
    assert attachment_name(reply) == f"sites_SLE_{DASHBOARD_RUN}.gpkg"
    sites = gpkg_sites(reply, tmp_path)
    assert sorted(sites["site_id"]) == ["SLE-1", "SLE-2", "SLE_GIN"]
    assert sites.set_index("site_id")["clipped"].to_dict() == {"SLE-1": False, "SLE-2": False, "SLE_GIN": True}
    sle = outlines.loc["SLE", "geometry"]
    assert shapely.covered_by(sites.to_crs(outlines.crs).geometry.values, sle.buffer(1.0)).all()
    across = sites.set_index("site_id").loc["SLE_GIN"]
    assert 0 < across["area_ha"] < 900  # the part inside SLE of a 900 ha square cut by the border


@pytest.mark.slow
def test_agency_gets_the_metadata_of_its_export(agency):
    reply = agency.request("GET", download_url(DASHBOARD_RUN, "sites", "gpkg", "SLE", part="metadata"))
    assert reply.status == 200, reply.text
    assert attachment_name(reply) == f"sites_SLE_{DASHBOARD_RUN}.gpkg.metadata.json"
    metadata = json.loads(reply.body)
    assert (metadata["country"], metadata["count"], metadata["run"]["run_id"]) == ("SLE", 3, DASHBOARD_RUN)
    assert metadata["caveats"] == ["A test run: four square sites, one uniform activity raster."]


@pytest.mark.slow
@pytest.mark.parametrize("url", [
    download_url(DASHBOARD_RUN, "sites", "gpkg", "GIN"),
    download_url(DASHBOARD_RUN, "sites", "gpkg"),
    download_url("latest", "sites", "geojson", "GIN"),
    download_url(DASHBOARD_RUN, "sites", "csv", "GIN", part="metadata"),
    download_url(DASHBOARD_RUN, activity_layer(DASHBOARD_PERIOD), "cog", "GIN"),
    download_url(DASHBOARD_RUN, activity_layer(DASHBOARD_PERIOD), "cog"),
    f"/download/{DASHBOARD_RUN}/sites.gpkg?country=gin",
    f"/download/{DASHBOARD_RUN}/sites.gpkg?country=SLE&country=GIN",
], ids=["gin", "region", "latest-gin", "metadata-gin", "raster-gin", "raster-region", "lower-case", "twice"])
def test_agency_is_refused_other_countries_site_layers(agency, url):
    reply = agency.request("GET", url)
    if "country=SLE&country=GIN" in url:  # the first value counts: SLE, allowed; never GIN's data
        assert reply.status == 200 and attachment_name(reply).startswith("sites_SLE_")
        return
    assert reply.status == 403, reply.text
    assert "SLE" in reply.text and reply.headers["Content-Type"].startswith("text/plain")


@pytest.mark.slow
@pytest.mark.parametrize(("layer", "country", "rows"), [
    ("capacity", None, 4), ("capacity", "GIN", 1), ("registration_summary", "GIN", 1),
    ("registration_summary", None, 3)])
def test_agency_gets_aggregates_of_any_country(agency, layer, country, rows):
    reply = agency.request("GET", download_url(DASHBOARD_RUN, layer, "csv", country))
    assert reply.status == 200, reply.text
    assert attachment_name(reply) == f"{layer}_{country or 'region'}_{DASHBOARD_RUN}.csv"
    assert len(pd.read_csv(io.BytesIO(reply.body), encoding="utf-8-sig")) == rows


@pytest.mark.slow
@pytest.mark.parametrize(("layer", "fmt", "country"), [
    ("sites", "gpkg", None), ("sites", "gpkg", "GIN"), ("sites", "shp", "SLE"), ("sites", "geojson", None),
    (activity_layer(DASHBOARD_PERIOD), "cog", None), (activity_layer(DASHBOARD_PERIOD), "cog", "GIN")])
def test_regional_gets_every_layer(regional, layer, fmt, country, tmp_path):
    reply = regional.request("GET", download_url("latest", layer, fmt, country))
    assert reply.status == 200, reply.text
    name = attachment_name(reply)
    assert name.startswith(f"{layer}_{country or 'region'}_{DASHBOARD_RUN}.")
    path = tmp_path / name
    path.write_bytes(reply.body)
    if fmt == "cog":
        with rasterio.open(path) as raster:
            assert set(np.unique(raster.read(1))) <= {0, 60, 255} and (raster.read(1) == 60).any()
    elif fmt == "shp":
        assert any(n.endswith(".shp") for n in zipfile.ZipFile(path).namelist())
    else:
        expected = {"GIN": {"GIN-1", "SLE_GIN"}, None: set(DASHBOARD_SITES)}[country]
        assert set(pyogrio.read_dataframe(path, layer="sites" if fmt == "gpkg" else None)["site_id"]) == expected


@pytest.mark.slow
@pytest.mark.parametrize(("path", "status"), [
    (f"/download/{DASHBOARD_RUN}/../../manifest.json", 404),
    (f"/download/{DASHBOARD_RUN}/..%2F..%2Fmanifest.json", 404),
    (f"/download/{DASHBOARD_RUN}/%2e%2e%2f%2e%2e%2fetc%2fpasswd", 404),
    (f"/download/..%2F{DASHBOARD_RUN}/sites.gpkg?country=SLE", 404),
    ("/download/%2Fetc%2Fpasswd/sites.gpkg?country=SLE", 404),
    ("/download/%2Fetc/passwd.csv", 404),
    (f"/download/{DASHBOARD_RUN}/%2Fetc%2Fpasswd", 404),
    (f"/download/{DASHBOARD_RUN}/sites.gpkg%00.csv?country=SLE", 404),
    (f"/download/{DASHBOARD_RUN}/manifest.json", 404),
    (f"/download/{DASHBOARD_RUN}/sites", 404),
    (f"/download/{DASHBOARD_RUN}/sites.gpkg/../../sites.gpkg", 404),
    ("/download/20990101T000000Z-ffff/sites.gpkg?country=SLE", 404),
    ("/download/runs/sites.gpkg?country=SLE", 404),
    (f"/download/{DASHBOARD_RUN}/nosuch.gpkg?country=SLE", 404),
    (f"/download/{DASHBOARD_RUN}/sites.exe?country=SLE", 400),
    (f"/download/{DASHBOARD_RUN}/capacity.shp", 400),
    (f"/download/{DASHBOARD_RUN}/sites.gpkg?country=..%2F..%2Fetc", 400),
    (f"/download/{DASHBOARD_RUN}/sites.gpkg?country=SLE&part=..%2Fmanifest.json", 400),
    (f"/overlay/{DASHBOARD_RUN}/..%2F..%2Fmanifest.json", 404),
    (f"/overlay/{DASHBOARD_RUN}/../{DASHBOARD_RUN}/{DASHBOARD_PERIOD}.png", 404),
    (f"/overlay/{DASHBOARD_RUN}/{DASHBOARD_PERIOD}.tif", 404),
    (f"/overlay/{DASHBOARD_RUN}/2099H1.png", 404),
    (f"/overlay/%2Ftmp/{DASHBOARD_PERIOD}.png", 404),
])
def test_path_tricks_are_refused_with_a_plain_message(agency, path, status):
    reply = agency.request("GET", path)
    assert reply.status == status, reply.text
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert "root:" not in reply.text and '"layers"' not in reply.text


# --- overlay --------------------------------------------------------------------------------------------

def png_pixels(body: bytes) -> np.ndarray:
    with rasterio.MemoryFile(body) as memory, memory.open() as png:
        return np.moveaxis(png.read(), 0, 2)


def pixel_at(rgba: np.ndarray, bounds, lon: float, lat: float) -> np.ndarray:
    """The pixel of the overlay image under (lon, lat): the image spans `bounds` linearly in Web Mercator."""
    (south, west), (north, east) = bounds
    to_mercator = Transformer.from_crs(WGS84, WEB_MERCATOR, always_xy=True)
    (left, right), (bottom, top) = to_mercator.transform([west, east], [south, north])
    x, y = to_mercator.transform(lon, lat)
    height, width, _ = rgba.shape
    return rgba[int((top - y) / (top - bottom) * height), int((x - left) / (right - left) * width)]


@pytest.fixture(scope="module")
def bounds(dashboard_store):
    return overlay_bounds(dashboard_store / "runs" / DASHBOARD_RUN, DASHBOARD_PERIOD)


def test_overlay_bounds_are_the_raster_extent_in_lat_lon(bounds):
    (south, west), (north, east) = bounds
    # the raster covers (-13.5, 6.8, -9.0, 10.5) snapped to 2 km cells of the Albers, then its Mercator box
    assert -13.6 < west < -13.5 and -9.0 < east < -8.9 and 6.7 < south < 6.8 and 10.5 < north < 10.6


@pytest.mark.slow
def test_regional_overlay_colours_activity_and_leaves_no_data_transparent(regional, bounds):
    reply = regional.request("GET", overlay_url(DASHBOARD_RUN, DASHBOARD_PERIOD))
    assert reply.status == 200 and reply.headers["Content-Type"] == "image/png"
    assert "private" in reply.headers["Cache-Control"]
    rgba = png_pixels(reply.body)
    assert rgba.shape[1] <= MAX_WIDTH and rgba.shape[2] == 4
    assert rgba.shape[0] / rgba.shape[1] == pytest.approx(_aspect(bounds), rel=0.01)
    assert (pixel_at(rgba, bounds, -11.886, 8.457) == RAMP[60]).all()  # inside SLE: 60 %
    assert (pixel_at(rgba, bounds, -9.66, 9.94) == RAMP[60]).all()  # inside GIN
    assert pixel_at(rgba, bounds, -13.45, 8.5)[3] == 0  # the no-data strip on the west
    assert pixel_at(rgba, bounds, -9.05, 6.85)[3] == 0  # the patch of 0 % in the south-east corner


def _aspect(bounds) -> float:
    (south, west), (north, east) = bounds
    (left, right), (bottom, top) = Transformer.from_crs(WGS84, WEB_MERCATOR, always_xy=True).transform(
        [west, east], [south, north])
    return (top - bottom) / (right - left)


@pytest.mark.slow
def test_agency_overlay_is_transparent_outside_its_country(agency, bounds):
    reply = agency.request("GET", overlay_url("latest", DASHBOARD_PERIOD))
    assert reply.status == 200
    rgba = png_pixels(reply.body)
    assert (pixel_at(rgba, bounds, -11.886, 8.457) == RAMP[60]).all()  # inside SLE
    assert pixel_at(rgba, bounds, -9.66, 9.94)[3] == 0  # inside GIN: hidden from the SLE agency
    assert pixel_at(rgba, bounds, -10.0, 7.0)[3] == 0  # inside LBR
    assert 0 < (rgba[..., 3] > 0).mean() < 0.5


@pytest.mark.slow
def test_overlay_is_cached_per_run_period_and_country(server, agency):
    cache = server.extensions["mrumonitor_routes"].overlays
    first = agency.request("GET", overlay_url(DASHBOARD_RUN, DASHBOARD_PERIOD)).body
    assert (DASHBOARD_RUN, DASHBOARD_PERIOD, "SLE") in cache._items
    assert agency.request("GET", overlay_url("latest", DASHBOARD_PERIOD)).body == first


def test_encode_png_round_trips():
    rgba = np.random.default_rng(1).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    assert (png_pixels(encode_png(rgba)) == rgba).all()


# --- the runs page's warnings ---------------------------------------------------------------------------

def test_runs_page_lists_the_runs_warnings():
    from mrumonitor.dashboard.components import WARNINGS, warnings_card

    warning = {"stage": "detect", "subject": "inputs/activity/a.tif",
               "message": "values look like 0-255 where 0-1 was declared; read as 0-255."}
    card = warnings_card({"run_id": DASHBOARD_RUN, "warnings": [warning, "not a warning"]})
    assert card.children[0].children == f"Warnings of run {DASHBOARD_RUN} (1)"
    table = card.children[1]
    assert table.id == WARNINGS and table.data == [warning]
    none = warnings_card({"run_id": DASHBOARD_RUN, "layers": {}})
    assert none.children[0].children.endswith("(0)") and "None" in none.children[1].children
