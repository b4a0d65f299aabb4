"""The PMTiles export, downloaded through the dashboard's real /download route (logins on) from the tiny dashboard
run and read back with the pmtiles package's reader and mapbox_vector_tile's decoder, and with GDAL: an agency's archive holds
its country's sites only, cut at the border as every export is; the sidecar says what the file is; the downloads
page offers the format beside the others."""

from __future__ import annotations

import gzip
import json

import flask
import mapbox_vector_tile
import pyogrio
import pytest
from conftest import DASHBOARD_RUN, DASHBOARD_SITES, FlaskClient, log_in, routes_server
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from mrumonitor.dashboard.routes import download_url
from mrumonitor.export.formats import PMTILES_ZOOMS, formats_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(auth_settings, secret_key) -> flask.Flask:
    """A Flask server holding only the access layer and the routes."""
    return routes_server(auth_settings, "pmtiles-test")


def client_of(server, user: str) -> FlaskClient:
    client = FlaskClient(server)
    assert log_in(client, user).status == 302
    return client


def download(client, tmp_path, country: str | None) -> tuple[dict, dict[tuple[int, int, int], list[dict]]]:
    """The sites' PMTiles archive for `country`: its header and metadata, and every tile's decoded features."""
    reply = client.request("GET", download_url(DASHBOARD_RUN, "sites", "pmtiles", country))
    assert reply.status == 200, reply.text
    assert reply.headers["Content-Type"] == "application/vnd.pmtiles"
    assert reply.headers["Content-Disposition"].endswith(f'sites_{country or "region"}_{DASHBOARD_RUN}.pmtiles')
    path = tmp_path / f"sites_{country}.pmtiles"
    path.write_bytes(reply.body)
    with path.open("rb") as file:
        reader = Reader(MmapSource(file))
        about = {"header": reader.header(), "metadata": reader.metadata()}
        tiles = {zxy: mapbox_vector_tile.decode(gzip.decompress(body))["sites"]["features"]
                 for zxy, body in all_tiles(reader.get_bytes)}
    return about, tiles


def test_an_agency_gets_its_countrys_sites_as_pmtiles(server, tmp_path):
    about, tiles = download(client_of(server, "nma_sle"), tmp_path, "SLE")
    header, metadata = about["header"], about["metadata"]
    assert header["tile_type"] == TileType.MVT and header["tile_compression"] == Compression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (PMTILES_ZOOMS.start, PMTILES_ZOOMS.stop - 1)
    assert {z for z, _, _ in tiles} == set(PMTILES_ZOOMS)
    # every zoom holds each of the country's sites, the one across the border cut there; none of Guinea's
    for z in PMTILES_ZOOMS:
        ids = {f["properties"]["site_id"] for (zoom, _, _), features in tiles.items() if zoom == z for f in features}
        assert ids == {"SLE-1", "SLE-2", "SLE_GIN"}
    features = [f for (z, _, _), found in tiles.items() for f in found]
    assert {f["properties"]["clipped"] for f in features if f["properties"]["site_id"] == "SLE_GIN"} == {True}
    assert {f["properties"]["country"] for f in features} == {"SLE"}
    # a 3 km square: a point while under a screen pixel, its footprint from there
    kinds = {z: {f["geometry"]["type"] for (zoom, _, _), found in tiles.items() if zoom == z for f in found}
             for z in PMTILES_ZOOMS}
    assert kinds[5] == {"Point"} and kinds[14] == {"Polygon"}
    # the header's bounds are the sites', in WGS84
    west, south = header["min_lon_e7"] / 1e7, header["min_lat_e7"] / 1e7
    assert -12.3 < west < -12.2 and 8.4 < south < 8.45
    layer = metadata["vector_layers"][0]
    assert layer["id"] == "sites" and layer["fields"]["site_id"] == "String" and layer["fields"]["area_ha"] == "Number"
    assert metadata["mrumonitor"]["country"] == "SLE" and metadata["mrumonitor"]["run"]["run_id"] == DASHBOARD_RUN


def test_gdal_reads_the_archive(server, tmp_path):
    """GDAL's PMTiles driver (what QGIS opens it with) sees one layer of the country's sites in Web Mercator."""
    client = client_of(server, "nma_sle")
    path = tmp_path / "sites.pmtiles"
    path.write_bytes(client.request("GET", download_url(DASHBOARD_RUN, "sites", "pmtiles", "SLE")).body)
    assert pyogrio.list_layers(path)[:, 0].tolist() == ["sites"]
    frame = pyogrio.read_dataframe(path, layer="sites")
    assert frame.crs.to_epsg() == 3857 and set(frame["site_id"]) == {"SLE-1", "SLE-2", "SLE_GIN"}


def test_the_region_holds_every_site_for_the_regional_team(server, tmp_path):
    _, tiles = download(client_of(server, "kp_team"), tmp_path, None)
    assert {f["properties"]["site_id"] for features in tiles.values() for f in features} == set(DASHBOARD_SITES)


@pytest.mark.parametrize("country", ["GIN", None])
def test_an_agency_gets_no_other_countrys_archive(server, country):
    reply = client_of(server, "nma_sle").request("GET", download_url(DASHBOARD_RUN, "sites", "pmtiles", country))
    assert reply.status == 403 and b"PK" not in reply.body[:2]


def test_the_sidecar_says_what_the_archive_is(server):
    reply = client_of(server, "nma_sle").request(
        "GET", download_url(DASHBOARD_RUN, "sites", "pmtiles", "SLE", part="metadata"))
    sidecar = json.loads(reply.body)
    assert sidecar["format"] == "pmtiles" and sidecar["file"] == f"sites_SLE_{DASHBOARD_RUN}.pmtiles"
    assert sidecar["crs"]["code"] == "EPSG:3857" and sidecar["count"] == 3 and sidecar["country"] == "SLE"
    tiles = sidecar["vector_tiles"]
    assert (tiles["min_zoom"], tiles["max_zoom"]) == (5, 14) and tiles["tiles"] > 10
    assert "Mapbox Vector Tiles" in tiles["note"] and "site_id" in sidecar["columns"]


def test_only_vector_layers_take_pmtiles(server):
    assert "pmtiles" in formats_for("vector") and "pmtiles" not in formats_for("table") + formats_for("raster")
    reply = client_of(server, "kp_team").request("GET", download_url(DASHBOARD_RUN, "capacity", "pmtiles"))
    assert reply.status == 400 and "cannot be downloaded as 'pmtiles'" in reply.text


def test_the_downloads_page_offers_pmtiles(dashboard_store, tmp_path_factory):
    from mrumonitor.config import load_settings
    from mrumonitor.dashboard.app import create_app

    folder = tmp_path_factory.mktemp("pmtiles-page")
    config = folder / "mrumonitor.toml"
    config.write_text(f'[paths]\nstore = "{dashboard_store}"\nwork = "{folder / "work"}"\n', encoding="utf-8")
    app = create_app(load_settings(config))
    from mrumonitor.dashboard.pages import downloads  # registers its page: after the app exists

    with app.server.test_request_context("/downloads"):
        rows, _ = downloads.update_downloads(DASHBOARD_RUN, "SLE")
    links = {str(link.id): link.href for row in rows[1:] for link in row.children if hasattr(link, "href")}
    assert links["download-sites-pmtiles"] == download_url(DASHBOARD_RUN, "sites", "pmtiles", "SLE")
    assert "download-capacity-pmtiles" not in links
