"""The dashboard's vector tiles, fetched from the whole demo app (logins on) and decoded with mapbox_vector_tile.

At three zooms (cells at 6, points at 10, footprints at 13) a tile holds what the GeoJSON path of the map
(`site_level.site_layer`) gives for the same place, period and user, with the same ids, classes, colours and
tooltips; the period changes the tiles, and the filter bar's other filters are the map's: the features whose
attributes pass them (as assets/map.js `mru.tiles.shown` reads them, `passes` here) are the sites the GeoJSON path
gives for those filters, and a cell's groups count the sites each filter passes; an agency user's tiles hold no
other country's site or licence, and its cells count only its sites; a request without a session gets 401, a bad
address a plain 4xx.
"""

from __future__ import annotations

import gzip
import json

import mapbox_vector_tile
import numpy as np
import pytest
from conftest import FlaskClient, log_in

from mrumonitor.dashboard import site_tiles, tile_cells
from mrumonitor.dashboard.access import REGIONAL, Access
from mrumonitor.dashboard.filters import default_filters
from mrumonitor.dashboard.geojson import POLYGON_ZOOM
from mrumonitor.dashboard.run import load_run
from mrumonitor.dashboard.site_level import CONCESSION_ZOOM, site_layer
from mrumonitor.dashboard.tiles_view import TILE_MEDIA_TYPE, tile_url
from mrumonitor.style import REGISTRATION_CSS, STATUS_CSS
from mrumonitor.vectortiles import BUFFER, EXTENT, buffered_bounds, tile_bounds, world_position

pytestmark = pytest.mark.demo

SLE_AGENCY = Access("nma_sle", "agency", "SLE")


@pytest.fixture(scope="module")
def run(demo_settings):
    return load_run(demo_settings)


@pytest.fixture(scope="module")
def regional(demo_app):
    client = FlaskClient(demo_app.server)
    assert log_in(client, "kp_team").status == 302
    return client


@pytest.fixture(scope="module")
def agency(demo_app):
    client = FlaskClient(demo_app.server)
    assert log_in(client, "nma_sle").status == 302
    return client


def address(run_id: str, layer: str, filters, z: int, x: int, y: int) -> str:
    """The address of tile `z`/`x`/`y` as the map has it for `filters` (only their period is in it)."""
    template = tile_url(run_id, layer, filters.period)
    return template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def passes(props: dict, filters) -> bool:
    """Whether a site of a tile (its attributes) passes `filters`, as the map decides (assets/map.js
    `mru.tiles.shown`)."""
    return ((not filters.countries or props["country"] in filters.countries)
            and (not filters.commodity or props["commodity"] == filters.commodity)
            and (not filters.classes or props["registration"] in filters.classes)
            and (not filters.border_only or props["border"] is True))


def fetch(client, path: str, **headers) -> tuple[int, dict, list[dict]]:
    """Status, headers and the decoded features (tile pixels, y down) of the tile at `path`."""
    reply = client.request("GET", path, headers={"Accept-Encoding": "gzip", **headers})
    features = []
    if reply.status == 200:
        layers = mapbox_vector_tile.decode(gzip.decompress(reply.body), default_options={"y_coord_down": True})
        assert len(layers) == 1
        features = next(iter(layers.values()))["features"]
    return reply.status, reply.headers, features


def seen_rows(run, filters, access) -> np.ndarray:
    """The rows of the period that pass `filters` and `access`."""
    return np.flatnonzero(run.site_views.by_period[filters.period].mask(filters, access))


def densest(run, filters, access, z: int) -> tuple[int, int, int]:
    """The tile of zoom `z` holding the most sites that pass `filters` and `access`: x, y, and how many."""
    period = run.site_views.by_period[filters.period]
    rows = seen_rows(run, filters, access)
    tx, ty = world_position(period.lon[rows], period.lat[rows], z)
    tiles, counts = np.unique(np.column_stack([np.floor(tx), np.floor(ty)]).astype(int), axis=0, return_counts=True)
    best = int(np.argmax(counts))
    return int(tiles[best][0]), int(tiles[best][1]), int(counts[best])


def leaflet_bounds(z: int, x: int, y: int, buffered: bool = True) -> list[list[float]]:
    west, south, east, north = (buffered_bounds(z, x, y, BUFFER / EXTENT) if buffered
                                else tile_bounds(z, x, y).wgs84)
    return [[south, west], [north, east]]


def geojson_sites(run, filters, access, z: int, x: int, y: int, buffered: bool = True) -> dict[str, dict]:
    """Today's path: the site layer's features (by site id) for the tile's place at the map zoom it is drawn at."""
    layer = site_layer(run, filters, access, z + site_tiles.ZOOM_OFFSET, leaflet_bounds(z, x, y, buffered))
    assert layer["summary"]["shape"] != "cells"
    return {f["properties"]["site_id"]: f["properties"] for f in layer["features"]}


def test_cells_at_zoom_5_count_the_sites_of_the_tile(run, regional):
    filters = default_filters(run, commodity="")
    x, y, count = densest(run, filters, REGIONAL, 5)  # drawn at the region's map zoom, 6
    assert count > tile_cells.CELL_CAP
    status, headers, features = fetch(regional, address(run.run_id, "sites", filters, 5, x, y))
    assert status == 200 and headers["Content-Type"] == TILE_MEDIA_TYPE and headers["Content-Encoding"] == "gzip"
    assert {f["properties"]["kind"] for f in features} == {"cell"}
    assert {f["geometry"]["type"] for f in features} == {"Point"}
    assert sum(f["properties"]["count"] for f in features) == count
    assert 1 < len(features) <= tile_cells.TILE_CELLS ** 2
    assert {f["properties"]["colour"] for f in features} <= set(REGISTRATION_CSS.values())
    assert all("zoom in" in f["properties"]["tooltip"] for f in features)
    # each cell's groups count its sites once, by country, commodity, class and border zone
    for f in features:
        groups = json.loads(f["properties"]["groups"])
        assert sum(g[4] for g in groups) == f["properties"]["count"]
        assert len({tuple(g[:4]) for g in groups}) == len(groups)
    french = fetch(regional, address(run.run_id, "sites", filters, 5, x, y), **{"Accept-Language": "fr"})[2]
    assert all("non enregistrés" in f["properties"]["tooltip"] for f in french)


def test_points_at_zoom_10_are_the_geojson_paths_sites(run, regional):
    filters = default_filters(run, commodity="")
    x, y, count = densest(run, filters, REGIONAL, 10)
    assert 0 < count <= tile_cells.CELL_CAP
    features = fetch(regional, address(run.run_id, "sites", filters, 10, x, y))[2]
    expected = geojson_sites(run, filters, REGIONAL, 10, x, y)
    assert {f["geometry"]["type"] for f in features} == {"Point"}
    got = {f["properties"]["site_id"]: f["properties"] for f in features}
    assert set(got) == set(expected) and len(got) == len(features) >= count
    for site_id, props in got.items():
        assert props["kind"] == "site"
        assert {key: props[key] for key in ("registration", "colour", "tooltip")} == {
            key: expected[site_id][key] for key in ("registration", "colour", "tooltip")}
        assert props["colour"] == REGISTRATION_CSS[props["registration"]]
    # the attributes the map's filters read are those of the site in that period
    rows = run.site_periods[run.site_periods["period"] == filters.period].set_index("site_id")
    for site_id, props in got.items():
        row = rows.loc[site_id]
        assert (props["country"], props["commodity"], props["border"]) == (
            row["country"], row["commodity"], bool(row["in_border_zone"]))
    # a site's point is where its lon/lat falls on the tile
    period = run.site_views.by_period[filters.period]
    ids = run.site_views.features["site_id"].to_numpy()[period.positions]
    row = int(np.flatnonzero(ids == features[0]["properties"]["site_id"])[0])
    tx, ty = world_position(period.lon[[row]], period.lat[[row]], 10)
    assert features[0]["geometry"]["coordinates"] == pytest.approx([(tx[0] - x) * EXTENT, (ty[0] - y) * EXTENT],
                                                                  abs=0.51)


def test_footprints_at_zoom_13(run, regional):
    filters = default_filters(run, commodity="")
    x, y, _ = densest(run, filters, REGIONAL, 13)
    assert 13 + site_tiles.ZOOM_OFFSET >= POLYGON_ZOOM > 10 + site_tiles.ZOOM_OFFSET  # where zoom 10 has points
    features = fetch(regional, address(run.run_id, "sites", filters, 13, x, y))[2]
    assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"} and features
    got = {f["properties"]["site_id"]: f["properties"] for f in features}
    inside = geojson_sites(run, filters, REGIONAL, 13, x, y, buffered=False)
    assert set(inside) <= set(got)  # and the footprints reaching into its buffer from around it
    for site_id, props in inside.items():
        assert (got[site_id]["colour"], got[site_id]["registration"]) == (props["colour"], props["registration"])
        assert got[site_id]["area_ha"] > 0


def telling_tile(run, filters, z: int) -> tuple[int, int]:
    """The tile of zoom `z` holding the most sites that pass `filters` among those that hold other sites too (of
    the last period, every commodity, no filter): where the filters must choose."""
    def counts(chosen) -> dict[tuple[int, int], int]:
        period = run.site_views.by_period[chosen.period]
        rows = seen_rows(run, chosen, REGIONAL)
        tx, ty = world_position(period.lon[rows], period.lat[rows], z)
        tiles, n = np.unique(np.column_stack([np.floor(tx), np.floor(ty)]).astype(int), axis=0, return_counts=True)
        return {(int(a), int(b)): int(c) for (a, b), c in zip(tiles, n)}

    some, every = counts(filters), counts(default_filters(run, commodity=""))
    return max((tile for tile in some if every.get(tile, 0) != some[tile]), key=some.get)


@pytest.mark.parametrize("values", [{"classes": ["no_licence"], "commodity": ""}, {"commodity": "diamond"},
                                    {"commodity": "gold", "countries": ["CIV"]}, {"commodity": "", "period": 0},
                                    {"commodity": "", "border_only": True}])
def test_the_features_the_filters_pass_are_the_sites_they_choose(run, regional, values):
    if values.get("period") == 0:
        values = {**values, "period": run.periods[0]}
    filters = default_filters(run, **values)
    x, y = telling_tile(run, filters, 10)
    features = fetch(regional, address(run.run_id, "sites", filters, 10, x, y))[2]
    kept = {f["properties"]["site_id"] for f in features if passes(f["properties"], filters)}
    assert kept and kept == set(geojson_sites(run, filters, REGIONAL, 10, x, y))
    if "period" not in values:  # the tile holds others, that the filters leave out
        assert kept != {f["properties"]["site_id"] for f in features}
    # only the period is in the address: the tile of every other choice of filters is the same
    if "period" in values:
        assert address(run.run_id, "sites", filters, 10, x, y) != address(
            run.run_id, "sites", default_filters(run), 10, x, y)
    else:
        assert address(run.run_id, "sites", filters, 10, x, y) == address(
            run.run_id, "sites", default_filters(run, commodity=""), 10, x, y)
    sites = run.sites.set_index("site_id")
    rows = run.site_periods[run.site_periods["period"] == filters.period].set_index("site_id")
    if "classes" in values:
        assert {f["properties"]["registration"] for f in features if f["properties"]["site_id"] in kept} == {
            "no_licence"}
    if values.get("commodity"):
        assert set(sites["commodity"].reindex(list(kept))) == {values["commodity"]}
    if "countries" in values:
        assert set(sites["country"].reindex(list(kept))) == set(values["countries"])
    if "period" in values:
        assert {f["properties"]["site_id"] for f in features} <= set(rows.index)
    if "border_only" in values:
        assert rows["in_border_zone"].reindex(list(kept)).all()


@pytest.mark.parametrize("values", [{"classes": ["no_licence"], "commodity": ""}, {"commodity": "gold"},
                                    {"commodity": "", "countries": ["SLE"], "border_only": True}])
def test_a_cells_groups_count_the_sites_the_filters_pass(run, regional, values):
    everything, filters = default_filters(run, commodity=""), default_filters(run, **values)
    x, y, _ = densest(run, everything, REGIONAL, 5)
    cells = fetch(regional, address(run.run_id, "sites", filters, 5, x, y))[2]
    assert {f["properties"]["kind"] for f in cells} == {"cell"}
    counted = sum(g[4] for f in cells for g in json.loads(f["properties"]["groups"])
                  if passes(dict(zip(site_tiles.FILTER_ATTRIBUTES, g)), filters))
    period = run.site_views.by_period[filters.period]
    rows = seen_rows(run, filters, REGIONAL)
    tx, ty = world_position(period.lon[rows], period.lat[rows], 5)
    assert counted == ((np.floor(tx) == x) & (np.floor(ty) == y)).sum() > 0


def test_an_agency_gets_only_what_it_may_see(run, regional, agency):
    everything = default_filters(run, commodity="")
    sees = run.sites.set_index("site_id")["countries"].map(SLE_AGENCY.sees_sites)
    # the densest tile of Guinea: the region sees its sites, the SLE agency none
    gin = default_filters(run, commodity="", countries=["GIN"])
    x, y, _ = densest(run, gin, REGIONAL, 10)
    region = {f["properties"]["site_id"] for f in fetch(regional, address(run.run_id, "sites", everything, 10, x, y))[2]}
    assert not sees[list(region)].all()
    features = fetch(agency, address(run.run_id, "sites", everything, 10, x, y))[2]
    assert all(sees[f["properties"]["site_id"]] for f in features)
    # asking for Guinea's sites, the same tile: none of them (the map's filter chooses among what it may see)
    assert address(run.run_id, "sites", gin, 10, x, y) == address(run.run_id, "sites", everything, 10, x, y)
    # at zoom 5 the region gets cells; the agency the sites of its country in that tile, no more
    x, y, _ = densest(run, everything, REGIONAL, 5)
    agency_features = fetch(agency, address(run.run_id, "sites", everything, 5, x, y))[2]
    period = run.site_views.by_period[everything.period]
    rows = seen_rows(run, everything, SLE_AGENCY)
    tx, ty = world_position(period.lon[rows], period.lat[rows], 5)
    own = rows[(np.floor(tx) == x) & (np.floor(ty) == y)]
    ids = {f["properties"]["site_id"] for f in agency_features if f["properties"]["kind"] == "site"}
    assert ids >= set(run.site_views.features["site_id"].to_numpy()[period.positions[own]]) and own.size
    assert all(sees[site_id] for site_id in ids)


def test_an_agencys_cells_count_only_its_sites(run, monkeypatch):
    everything = default_filters(run, commodity="")
    x, y, _ = densest(run, everything, SLE_AGENCY, 6)
    monkeypatch.setattr(tile_cells, "CELL_CAP", 10)
    _, cells = site_tiles.site_tile(run, everything.period, SLE_AGENCY, 6, x, y)
    _, regional_cells = site_tiles.site_tile(run, everything.period, REGIONAL, 6, x, y)
    period = run.site_views.by_period[everything.period]
    rows = seen_rows(run, everything, SLE_AGENCY)
    tx, ty = world_position(period.lon[rows], period.lat[rows], 6)
    assert set(cells["kind"]) == {"cell"}
    assert cells["count"].sum() == ((np.floor(tx) == x) & (np.floor(ty) == y)).sum() < regional_cells["count"].sum()


def test_the_cells_of_every_zoom_and_period_are_summed_before_the_server_listens(run, monkeypatch):
    made = []
    monkeypatch.setattr(site_tiles, "_LEVELS", site_tiles.Memo(site_tiles.CACHED_LEVELS))
    monkeypatch.setattr(site_tiles.CellLevel, "of", lambda *args: made.append(args[-2]) or "level")
    site_tiles.prepare_cells(run, REGIONAL)
    first, last = (zoom - site_tiles.ZOOM_OFFSET for zoom in site_tiles.MAP_ZOOMS)
    assert made == list(range(first, last + 1)) * len(run.periods)
    # a tile asks for what is made: nothing is made again
    assert site_tiles.cell_level(run, run.periods[0], REGIONAL, first) == "level" and len(made) == len(
        run.periods) * (last - first + 1)


def test_licences_from_their_zoom_and_by_role(run, regional, agency):
    everything = default_filters(run, commodity="")
    licences = run.concessions.assign(lon=[g.centroid.x for g in run.licence_views.geoms[0.0]],
                                      lat=[g.centroid.y for g in run.licence_views.geoms[0.0]])
    country = licences.set_index("licence_id")["country"]
    first = CONCESSION_ZOOM - site_tiles.ZOOM_OFFSET  # the tiles drawn at map zoom CONCESSION_ZOOM
    for client, allowed in ((regional, set(run.countries) | set(country)), (agency, {"SLE"})):
        sle = licences[licences["country"] == "SLE"].iloc[0]
        tx, ty = world_position(np.array([sle["lon"]]), np.array([sle["lat"]]), first)
        x, y = int(tx[0]), int(ty[0])
        features = fetch(client, address(run.run_id, "concessions", everything, first, x, y))[2]
        assert features and {country[f["properties"]["licence_id"]] for f in features} <= allowed
        for f in features:
            assert f["properties"]["colour"] == STATUS_CSS[f["properties"]["status"]]
            assert f["properties"]["tooltip"].startswith(f["properties"]["licence_id"])
            assert f["properties"]["country"] == country[f["properties"]["licence_id"]]  # for the map's filter
        below = address(run.run_id, "concessions", everything, first - 1, x // 2, y // 2)
        assert fetch(client, below)[0] == 204
    gin = licences[licences["country"] == "GIN"].iloc[0]
    tx, ty = world_position(np.array([gin["lon"]]), np.array([gin["lat"]]), 10)
    features = fetch(agency, address(run.run_id, "concessions", everything, 10, int(tx[0]), int(ty[0])))[2]
    assert all(country[f["properties"]["licence_id"]] == "SLE" for f in features)


def test_caching_follows_the_run_id(run, regional):
    filters = default_filters(run, commodity="")
    x, y, _ = densest(run, filters, REGIONAL, 10)
    by_id = regional.request("GET", address(run.run_id, "sites", filters, 10, x, y))
    latest = regional.request("GET", address("latest", "sites", filters, 10, x, y))
    assert by_id.headers["Cache-Control"] == "private, max-age=86400"
    assert latest.headers["Cache-Control"] == "private, max-age=60"
    assert by_id.body == latest.body and by_id.body  # not asked for gzip: the plain tile
    assert mapbox_vector_tile.decode(by_id.body)["sites"]["features"]


def test_a_tile_without_a_session_is_refused(run, demo_app):
    reply = FlaskClient(demo_app.server).request("GET", address(run.run_id, "sites", default_filters(run), 6, 30, 30))
    assert reply.status == 401 and "Log in" in reply.text


@pytest.mark.parametrize("path, status, words", [
    ("/tiles/19990101T000000Z-0000/sites/6/30/30.mvt", 404, "no published run"),
    ("/tiles/latest/roads/6/30/30.mvt", 404, "no tile layer"),
    ("/tiles/latest/sites/23/0/0.mvt", 404, "zooms run from 0 to 22"),
    ("/tiles/latest/sites/6/64/30.mvt", 404, "x and y run from 0 to 63"),
    ("/tiles/latest/sites/6/-1/30.mvt", 404, "whole numbers"),
    ("/tiles/latest/sites/six/30/30.mvt", 404, "whole numbers"),
    ("/tiles/latest/sites/6/30/30.png", 404, "whole numbers"),
    ("/tiles/latest/sites/6/30/30.mvt?period=1999H1", 400, "not a period"),
    ("/tiles/latest/sites/6/30/30.mvt?country=SLE", 400, "takes period only"),
    ("/tiles/latest/sites/6/30/30.mvt?commodity=gold&period=", 400, "the map filters them"),
    ("/tiles/latest/sites/6/30/30.mvt?bbox=1,2,3,4", 400, "takes period"),
    ("/tiles/latest/sites", 404, "no such address"),
    ("/tiles/../download/x", 404, "no such address"),
])
def test_a_bad_address_gets_a_plain_answer(regional, path, status, words):
    reply = regional.request("GET", path)
    assert reply.status == status and words in reply.text, reply.text
    assert reply.headers["Content-Type"].startswith("text/plain") and "Traceback" not in reply.text
