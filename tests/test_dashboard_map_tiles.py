"""The map's side of the vector tiles (`maplayers`), on the demo run with logins on.

No callback of any page sends the map a site or licence layer: the map's tile store gets, from its callback posted
as the browser posts it, the addresses of its tiles (of the period) and the filters the map applies to them; those
addresses, filled in for a tile, fetch through the real
route tiles that mapbox_vector_tile decodes to the sites the user may see. The status line under the map counts
the sites in view and says in what shape the tiles draw them.
"""

from __future__ import annotations

import gzip
import json

import mapbox_vector_tile
import numpy as np
import pytest
from conftest import FlaskClient, callback_body, log_in

from mrumonitor.dashboard.access import REGIONAL, Access
from mrumonitor.dashboard.filters import default_filters
from mrumonitor.dashboard.geojson import POLYGON_ZOOM
from mrumonitor.dashboard.maplayers import REGION_ZOOM, map_status
from mrumonitor.dashboard.run import load_run
from mrumonitor.dashboard.site_level import CONCESSION_ZOOM, site_rows
from mrumonitor.dashboard.tile_cells import CELL_CAP
from mrumonitor.vectortiles import world_position

pytestmark = pytest.mark.demo

SLE_AGENCY = Access("nma_sle", "agency", "SLE")
#: A zoom at which the demo's tiles hold single sites (points), none more than `CELL_CAP`.
POINT_ZOOM = 10


@pytest.fixture(scope="module")
def app(demo_app):
    return demo_app


@pytest.fixture(scope="module")
def run(demo_settings):
    return load_run(demo_settings)


def filter_values(run) -> dict:
    """The filter bar's values as the browser posts them: the last period, every country and commodity."""
    return {"filter-country.value": "", "filter-period.value": run.last_period, "filter-commodity.value": "",
            "filter-registration.value": [], "filter-border-only.value": [], "filter-scope.value": "mru"}


def client_of(app, user: str) -> FlaskClient:
    client = FlaskClient(app.server)
    assert log_in(client, user).status == 302
    return client


def tile_store(client: FlaskClient, values: dict, **headers) -> dict:
    """What the map page's tile store gets for the filter bar's `values`, from its callback posted as the browser
    posts it (with `headers`)."""
    dependencies = json.loads(client.request("GET", "/_dash-dependencies").body)
    reply = client.request("POST", "/_dash-update-component", headers=headers,
                           json=callback_body(dependencies, "mainmap-tiles.data", values))
    assert reply.status == 200, reply.text
    return json.loads(reply.body)["response"]["mainmap-tiles"]["data"]


def site_ids_of_tile(client: FlaskClient, template: str, lon: float, lat: float, zoom: int) -> set[str]:
    """The site ids of the tile at `zoom` holding `lon`, `lat`, fetched at `template` (a Leaflet URL template)."""
    x, y = (int(np.floor(value[0])) for value in world_position(np.array([lon]), np.array([lat]), zoom))
    path = template.replace("{z}", str(zoom)).replace("{x}", str(x)).replace("{y}", str(y))
    reply = client.request("GET", path, headers={"Accept-Encoding": "gzip"})
    assert reply.status in (200, 204), reply.text
    if reply.status == 204:
        return set()
    body = gzip.decompress(reply.body) if reply.headers.get("Content-Encoding") == "gzip" else reply.body
    return {feature["properties"]["site_id"] for feature in mapbox_vector_tile.decode(body)["sites"]["features"]}


def test_no_callback_sends_the_map_sites_or_licences(app):
    dependencies = json.loads(client_of(app, "kp_team").request("GET", "/_dash-dependencies").body)
    outputs = {output.strip(".") for callback in dependencies for output in callback["output"].split("...")}
    assert not [output for output in outputs if output.endswith(("-sites.data", "-concessions.data"))]
    # each page's map has a tile store, fed by its own callback
    assert {"mainmap-tiles.data", "overview-tiles.data", "unreg-tiles.data"} <= outputs


def test_the_tile_addresses_the_map_gets_fetch_what_the_user_may_see(app, run):
    regional, agency = client_of(app, "kp_team"), client_of(app, "nma_sle")
    store = tile_store(regional, filter_values(run))
    assert store["polygonZoom"] == POLYGON_ZOOM and (store["tileSize"], store["zoomOffset"]) == (512, 1)
    layers = store["layers"]
    assert set(layers) == {"mainmap-sites", "mainmap-concessions"}
    assert layers["mainmap-concessions"]["minZoom"] == CONCESSION_ZOOM and layers["mainmap-sites"]["minZoom"] == 0
    for layer, template in (("sites", layers["mainmap-sites"]["url"]),
                            ("concessions", layers["mainmap-concessions"]["url"])):
        assert template.startswith(f"/tiles/{run.run_id}/{layer}/{{z}}/{{x}}/{{y}}.mvt?")
        assert f"period={run.last_period}" in template
    # the filters go to the map, not into the addresses: another choice of them gives the same addresses
    assert store["filters"] == {"countries": [], "commodity": None, "classes": [], "border": False}
    chosen = tile_store(regional, {**filter_values(run), "filter-country.value": "SLE",
                                   "filter-commodity.value": "gold", "filter-registration.value": ["no_licence"],
                                   "filter-border-only.value": ["border"]})
    assert chosen["layers"] == layers
    assert chosen["filters"] == {"countries": ["SLE"], "commodity": "gold", "classes": ["no_licence"], "border": True}
    assert "%(count)s" in chosen["cell"]["tooltip"] and chosen["cell"]["language"] == "en"
    french = tile_store(regional, filter_values(run), **{"Accept-Language": "fr"})["cell"]
    assert french["language"] == "fr" and "non enregistrés" in french["tooltip"] and "%(share)s" in french["tooltip"]
    agency_template = tile_store(agency, filter_values(run))["layers"]["mainmap-sites"]["url"]
    # a site of Sierra Leone only, one of Guinea only, one crossing the border between them
    rows = site_rows(run, default_filters(run, commodity=""), REGIONAL)
    countries = rows["countries"].astype(str)
    chosen = [rows[countries == "SLE"].iloc[0], rows[countries == "GIN"].iloc[0],
              rows[countries.str.contains("SLE") & countries.str.contains("GIN")].iloc[0]]
    for row in chosen:
        assert row["site_id"] in site_ids_of_tile(regional, layers["mainmap-sites"]["url"], row["lon"], row["lat"],
                                                  POINT_ZOOM)
        seen = site_ids_of_tile(agency, agency_template, row["lon"], row["lat"], POINT_ZOOM)
        assert (row["site_id"] in seen) == ("SLE" in str(row["countries"]).split(";")), row["site_id"]


def test_the_status_line_counts_the_sites_in_view_and_says_their_shape(app, run):
    every = default_filters(run, commodity="")
    regional_sites, agency_sites = len(site_rows(run, every, REGIONAL)), len(site_rows(run, every, SLE_AGENCY))
    site = site_rows(run, every, REGIONAL).iloc[0]
    around = [[site["lat"] - 0.01, site["lon"] - 0.01], [site["lat"] + 0.01, site["lon"] + 0.01]]
    inside = int(((site_rows(run, every, REGIONAL)[["lat", "lon"]] - site[["lat", "lon"]]).abs() <= 0.01)
                 .all(axis=1).sum())
    period = run.last_period
    with app.server.test_request_context():
        region = map_status(run, REGIONAL, "", period, "", [], [], REGION_ZOOM, None)
        agency = map_status(run, SLE_AGENCY, "", period, "", [], [], REGION_ZOOM, None)
        footprints = map_status(run, REGIONAL, "", period, "", [], [], POLYGON_ZOOM, around)
        points = map_status(run, REGIONAL, "", period, "", [], [], POINT_ZOOM, around)
        hidden = map_status(run, SLE_AGENCY, "GIN", period, "", [], [], REGION_ZOOM, None)
        few = map_status(run, REGIONAL, "SLE", period, "", ["no_licence"], ["border"], REGION_ZOOM, None)
    # the region's sites, more than a tile draws singly where they are densest: cells
    assert region.startswith(f"{regional_sites:,} sites in view: ") and region.endswith("grouped in cells (zoom in "
                                                                                          "for single sites).")
    # the agency's map of the whole region: only the sites it may see (its country's, and those crossing into it)
    assert agency.startswith(f"{agency_sites:,} sites in view: ") and "Sierra Leone only" in agency
    assert 0 < agency_sites < regional_sites
    assert footprints.startswith(f"{inside:,} site") and footprints.endswith("as footprints.")
    assert points.endswith("as points.")
    assert "not available to your role" in hidden
    # whether the tiles draw cells depends on all the sites they hold, not on the filters: few sites pass these,
    # and the map still shows the cells that count them
    few_sites = len(site_rows(run, default_filters(run, countries=["SLE"], commodity="", classes=["no_licence"],
                                                   border_only=True), REGIONAL))
    assert 0 < few_sites <= CELL_CAP
    assert few.startswith(f"{few_sites:,} site") and few.endswith("grouped in cells (zoom in for single sites).")
