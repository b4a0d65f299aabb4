"""Uploaded and drawn areas (`mrumonitor.areas.files`) and the named areas of a run (`mrumonitor.areas.resolve`):
each format read the same, bad features quarantined with their reason while the good ones are used, and every
refusal a clear message naming the file, the feature and the fix."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from area_world import write_area_run
from conftest import write_zipped_shapefile

from mrumonitor.areas.files import area_from_geojson, read_area_bytes, read_area_file
from mrumonitor.areas.resolve import area_choices, named_area, uploaded_area
from mrumonitor.config import load_settings
from mrumonitor.errors import AreaError

pytestmark = pytest.mark.unit

#: Two squares by the GIN-SLE border (lon/lat) and a bow tie between them (its outline crosses itself).
SQUARE_A = shapely.box(-11.25, 9.90, -11.20, 9.95)
SQUARE_B = shapely.box(-11.20, 9.95, -11.15, 10.00)
BOW_TIE = shapely.Polygon([(-11.3, 9.8), (-11.2, 9.9), (-11.2, 9.8), (-11.3, 9.9)])


@pytest.fixture(scope="module")
def settings():
    return load_settings()


@pytest.fixture(scope="module")
def area_run(tmp_path_factory):
    return write_area_run(tmp_path_factory.mktemp("areas") / "layers")


def limited(settings, **limits):
    """`settings` with the [alerts] area limits `limits`."""
    return settings.model_copy(update={"alerts": settings.alerts.model_copy(update=limits)})


def features(*shapes) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [f"part {i}" for i in range(len(shapes))]}, geometry=list(shapes), crs=4326)


def write(frame: gpd.GeoDataFrame, path):
    """`frame` written as the format of `path`'s suffix (.geojson, .gpkg after a layer of points, .zip)."""
    if path.suffix == ".zip":
        return write_zipped_shapefile(frame, path)
    if path.suffix == ".gpkg":
        gpd.GeoDataFrame({"name": ["a mine"]}, geometry=[shapely.Point(-11.2, 9.9)], crs=4326).to_file(
            path, layer="mines")
        frame.to_file(path, layer="watched")
        return path
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".zip"])
def test_every_format_gives_the_union_of_its_good_features_and_quarantines_the_bow_tie(tmp_path, settings, suffix):
    path = write(features(SQUARE_A, BOW_TIE, SQUARE_B).to_crs(32629), tmp_path / f"watch{suffix}")

    upload = read_area_file(path, settings)

    assert upload.features == 3
    assert upload.geometry.symmetric_difference(shapely.union_all([SQUARE_A, SQUARE_B])).area < 1e-9
    assert upload.quarantine["feature"].tolist() == [2]
    assert upload.quarantine["reason"].iloc[0].startswith("the outline crosses itself at -11.25000, 9.85000")
    assert "Fix geometries" in upload.quarantine["fix"].iloc[0]
    assert 60 < upload.area_km2 < 65  # two 0.05° squares at 10°N: 2 x 5.5 km x 5.5 km
    assert upload.name == ("watch.gpkg, layer 'watched' of 2" if suffix == ".gpkg" else path.name)


def test_an_upload_is_read_from_its_bytes_under_its_own_name(settings):
    content = features(SQUARE_A).to_json().encode()

    area = uploaded_area(read_area_bytes(content, "Kailahun mines.geojson", settings))

    assert (area.kind, area.ref) == ("upload", "Kailahun mines.geojson")
    assert area.label.startswith("Kailahun mines.geojson (30.")


def test_a_drawn_rectangle_is_an_area(settings):
    drawn = {"type": "FeatureCollection",
             "features": [{"type": "Feature", "properties": {"type": "rectangle"},
                           "geometry": shapely.geometry.mapping(SQUARE_A)}]}

    area = uploaded_area(area_from_geojson(drawn, settings), kind="drawn")

    assert (area.kind, area.ref) == ("drawn", "drawn")
    assert area.geometry.equals(SQUARE_A)


@pytest.mark.hostile
@pytest.mark.parametrize(("shapes", "words"), [
    ([BOW_TIE], ["feature 1: the outline crosses itself at -11.25000, 9.85000", "Fix geometries"]),
    ([shapely.Polygon(), shapely.Point(-11.2, 9.9)],
     ["feature 1: empty geometry", "feature 2: not an area (a Point)", "buffer it"]),
    ([], ["holds no feature at all"]),
], ids=["self-intersecting", "empty-and-point", "no-feature"])
def test_a_file_without_any_usable_area_is_refused_with_each_reason(tmp_path, settings, shapes, words):
    path = write(features(*shapes), tmp_path / "bad.geojson")

    with pytest.raises(AreaError) as refused:
        read_area_file(path, settings)

    assert str(refused.value).startswith("bad.geojson: ")
    for word in words:
        assert word in str(refused.value)


@pytest.mark.hostile
@pytest.mark.parametrize(("limits", "words"), [
    ({"max_area_km2": 10.0}, ["covers 30 km²", "more than the 10 km² allowed", "alerts.max_area_km2"]),
    ({"max_area_vertices": 8}, ["10 vertices, more than the 8 allowed", "Simplify"]),
    ({"max_area_features": 1}, ["2 features, more than the 1 allowed"]),
    ({"max_area_file_mb": 0.0001}, ["MB, more than the 0.0001 MB allowed", "alerts.max_area_file_mb"]),
], ids=["area", "vertices", "features", "file-size"])
def test_a_file_beyond_a_limit_is_refused_with_its_size_and_the_limit(tmp_path, settings, limits, words):
    shapes = [SQUARE_A] if "max_area_km2" in limits else [SQUARE_A, SQUARE_B]
    path = write(features(*shapes), tmp_path / "big.geojson")

    with pytest.raises(AreaError) as refused:
        read_area_file(path, limited(settings, **limits))

    for word in words:
        assert word in str(refused.value)


@pytest.mark.hostile
def test_a_geopackage_without_a_polygon_layer_is_refused_with_its_layers(tmp_path, settings):
    path = tmp_path / "mines.gpkg"
    features(shapely.Point(-11.2, 9.9)).to_file(path, layer="mines")

    with pytest.raises(AreaError, match=r"mines.gpkg: no layer holds polygons \(its layers: mines \(Point\)\)"):
        read_area_file(path, settings)


@pytest.mark.hostile
@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_a_shapefile_without_its_crs_is_refused_with_the_fix(tmp_path, settings):
    path = write(features(SQUARE_A).set_crs(None, allow_override=True), tmp_path / "no_prj.zip")

    with pytest.raises(AreaError, match=r"no_prj.zip: the file does not say which coordinate reference system.*"
                                        r"\.prj inside the zip"):
        read_area_file(path, settings)


@pytest.mark.hostile
@pytest.mark.parametrize(("content", "filename", "words"), [
    (b"<kml/>", "area.kml", ["area.kml: not an area file this reads (.kml)", ".geojson", ".gpkg", ".zip"]),
    (b"{not json", "drawn", ["drawn: not a GeoJSON area"]),
], ids=["kml-upload", "broken-drawing"])
def test_an_unreadable_upload_or_drawing_is_refused(settings, content, filename, words):
    with pytest.raises(AreaError) as refused:
        if filename.endswith(".kml"):
            read_area_bytes(content, filename, settings)
        else:
            area_from_geojson(content.decode(), settings, name=filename)

    for word in words:
        assert word in str(refused.value)


@pytest.mark.parametrize(("kind", "ref", "label"), [
    ("country", "SLE", "Sierra Leone"),
    ("corridor", "SLE-GIN-004", "Border corridor SLE-GIN-004 (near Koindu, SLE, 4 km · Gueckedou, GIN, 12 km)"),
    ("admin", "district:Kailahun", "Kailahun (district, SLE)"),
    ("licence", "SL-L-0001", "Licence SL-L-0001 (Koidu Diamonds Ltd, SLE)"),
])
def test_a_named_area_is_read_from_the_run(area_run, kind, ref, label):
    area = named_area(area_run, kind, ref)

    assert (area.kind, area.ref, area.label) == (kind, ref, label)
    assert area.geometry.geom_type in ("Polygon", "MultiPolygon") and area.geometry.is_valid


def test_a_corridor_is_its_line_buffered_by_the_border_zone(area_run):
    corridor = named_area(area_run, "corridor", "SLE-GIN-004").geometry
    line = gpd.read_parquet(area_run / "border_corridors.parquet").set_index("corridor_id").geometry["SLE-GIN-004"]
    crs = gpd.read_parquet(area_run / "border_corridors.parquet").crs

    area_km2 = gpd.GeoSeries([corridor], crs=4326).to_crs(crs).area.iloc[0] / 1e6

    assert area_km2 == pytest.approx(line.buffer(15_000).area / 1e6, rel=0.01)  # 15 km: the run's border zone


@pytest.mark.hostile
@pytest.mark.parametrize(("kind", "ref", "words"), [
    ("licence", "SL-L-0003", ["has no licence 'SL-L-0003'", "close choices: SL-L-0001"]),
    ("licence", "sl l 0001 ", ["has no licence 'sl l 0001 '", "close choices: SL-L-0001."]),  # spaced, lower case
    ("licence", "SL-L-0002", ["'SL-L-0002' is not in the latest cadastre snapshot"]),
    ("corridor", "SLE-GIN-094", ["has no corridor 'SLE-GIN-094'", "SLE-GIN-004"]),
    ("admin", "district:Kenema", ["has no admin 'district:Kenema'", "district:Kailahun"]),
    ("river", "Moa", ["'river' is not a kind of named area"]),
], ids=["unknown-licence", "licence-misspelt", "licence-no-longer-in-force", "unknown-corridor", "unknown-admin", "unknown-kind"])
def test_an_unknown_named_area_is_refused_with_close_choices(area_run, kind, ref, words):
    with pytest.raises(AreaError) as refused:
        named_area(area_run, kind, ref)

    for word in words:
        assert word in str(refused.value)


def test_an_agency_user_is_offered_its_own_country_only(area_run):
    everything, guinea = area_choices(area_run), area_choices(area_run, "GIN")

    assert [ref for ref, _ in everything["country"]] == ["CIV", "GIN", "LBR", "SLE"]
    assert [ref for ref, _ in everything["licence"]] == ["GN-L-0001", "SL-L-0001"]
    assert guinea == {"country": [("GIN", "Guinea")], "corridor": everything["corridor"],
                      "admin": [("district:Gueckedou", "Gueckedou (district, GIN)")],
                      "licence": [("GN-L-0001", "Licence GN-L-0001 (Société Macenta, GIN)")]}


def test_a_geojson_text_counts_against_the_file_size_limit(settings):
    text = json.dumps(shapely.geometry.mapping(SQUARE_A))

    with pytest.raises(AreaError, match="MB, more than"):
        area_from_geojson(text, limited(settings, max_area_file_mb=len(text) / 2 / 1024 / 1024))
