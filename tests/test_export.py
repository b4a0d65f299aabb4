"""Layer exports: every format round-trips, accents survive, per-country clipping is exact at the border.

The run folder, its manifest and two adjacent countries are made by hand: "GIN" (a square with a notch cut
out of its north-west corner) and "CIV" (a square) share the border x = 0 of the analysis CRS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely

from mrumonitor.config import load_settings
from mrumonitor.crs import WGS84
from mrumonitor.errors import ExportError, StoreError
from mrumonitor.export import export_layer, format_for_path, formats_for
from mrumonitor.export.clip import clip_vector
from mrumonitor.export.qgis_style import layer_qml
from mrumonitor.export.shapefile_fields import MAX_FIELD_NAME, field_names
from mrumonitor.export.sidecar import DETECTIONS_CREDIT
from mrumonitor.raster.blocks import on_grid
from mrumonitor.raster.cog import period_tags, write_activity_cog
from mrumonitor.raster.grid import Grid
from mrumonitor.reference.layers import ReferenceLayers, border_zone
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import LICENCE_STATUSES, REGISTRATION_CLASSES
from mrumonitor.style import REGISTRATION_COLOURS, STATUS_COLOURS

RUN_ID = "20260301T120000Z-3f2a"
HOLDER = "Coopérative de Guéckédou"
CIV_NAME = "Côte d'Ivoire"

#: The notch of GIN: its corner lies inside a pixel, so the centre rule decides which pixels are outside.
GIN = shapely.Polygon([(-20_000, 0), (0, 0), (0, 20_000), (-10_300, 20_000), (-10_300, 10_300), (-20_000, 10_300)])
CIV = shapely.box(0, 0, 20_000, 20_000)

#: S2 straddles the border: 100 ha in GIN, 300 ha in CIV. S4 lies in CIV along the border; S5 in neither.
SITES = {
    "S1": shapely.box(-15_000, 2_000, -13_000, 4_000),
    "S2": shapely.box(-1_000, 5_000, 3_000, 6_000),
    "S3": shapely.box(10_000, 10_000, 11_000, 11_000),
    "S4": shapely.box(0, 15_000, 500, 15_500),
    "S5": shapely.box(5_000, -3_000, 6_000, -2_000),
}

#: The hand-made run's folder layout (file names only through `RunFolder`).
FOLDER = RunFolder("run")

LAYERS = {
    "sites": {"path": FOLDER.relative(FOLDER.layer("sites")), "kind": "vector", "title": "Mining sites",
              "description": f"Sites in {CIV_NAME} and Guinée"},
    "capacity": {"path": FOLDER.relative(FOLDER.layer("capacity")), "kind": "table", "title": "Estimated production capacity",
                 "description": "Carats per country and year"},
    "notes": {"path": FOLDER.relative(FOLDER.layer("notes")), "kind": "table", "title": "Notes", "description": "No country column"},
    "activity_2025H2": {"path": FOLDER.relative(FOLDER.activity("2025H2")), "kind": "raster", "title": "Mining activity 2025H2",
                        "description": "Percent", "period": "2025H2"},
}

CAVEATS = ["A site is a ground scar that a model flagged, not a mining operation verified on the ground.",
           f"Licences of {CIV_NAME} are synthetic."]


@pytest.fixture(scope="module")
def crs():
    return load_settings().analysis_crs


def outlines(crs) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"iso3": ["GIN", "CIV"], "name": ["Guinée", CIV_NAME]}, geometry=[GIN, CIV], crs=crs)


def sites_frame(crs) -> gpd.GeoDataFrame:
    """Five sites with a registration class, accents, a datetime, a bool and long colliding column names."""
    geoms = list(SITES.values())
    return gpd.GeoDataFrame({
        "site_id": list(SITES),
        "country": ["GIN", "CIV", "CIV", "CIV", ""],
        "country_name": ["Guinée", CIV_NAME, CIV_NAME, CIV_NAME, ""],
        "holder": [HOLDER, "Société d'Exploitation", HOLDER, "N'Zérékoré Mining", "—"],
        "registration": ["registered", "no_licence", "expired_licence", "exploration_only", "wrong_commodity"],
        "registration_licence_id": ["GN-1", "", "CI-7", "CI-9", ""],
        "area_ha": shapely.area(geoms) / 10_000,
        "first_detected": pd.to_datetime(["2024-01-15 00:00:00", "2024-07-01 12:30:00", "2025-01-01 00:00:00", "2025-02-03 08:00:00",
                                          "2025-03-04 00:00:00"]).astype("datetime64[ms]"),
        "transboundary": [False, True, False, False, False],
        "distance_to_border_km": [13.0, 0.0, 10.0, 0.0, 2.0],
        "distance_to_border_post_km": [20.5, 3.25, 12.0, 8.0, 9.5],
    }, geometry=geoms, crs=crs)


def capacity_frame() -> pd.DataFrame:
    return pd.DataFrame({"country": ["GIN", "CIV", "CIV"], "country_name": ["Guinée", CIV_NAME, CIV_NAME],
                         "year": [2025, 2024, 2025], "carats_central": [1200.5, 300.0, 450.25]})


@pytest.fixture(scope="module")
def activity(crs) -> tuple[np.ndarray, Grid]:
    """Activity percent on a 1 km grid over both countries and beyond, with a no-data strip."""
    grid = Grid.covering((-20_000, -5_000, 20_000, 25_000), crs, 1_000.0)
    values = np.random.default_rng(5).integers(0, 101, size=grid.shape, dtype=np.uint8)
    values[:, 25] = 255
    return values, grid


@pytest.fixture(scope="module")
def run(tmp_path_factory, crs, activity):
    """A published run folder written by hand, and its manifest."""
    run_dir = tmp_path_factory.mktemp("store") / "runs" / RUN_ID
    run_dir.mkdir(parents=True)
    folder = RunFolder(run_dir)
    sites_frame(crs).to_parquet(folder.layer("sites"))
    capacity_frame().to_parquet(folder.layer("capacity"))
    pd.DataFrame({"note": ["aucune"]}).to_parquet(folder.layer("notes"))
    values, grid = activity
    tags = period_tags("2025H2", "2025-07-01", "2025-12-31", "earth_index", region=f"{CIV_NAME} et Guinée")
    write_activity_cog(on_grid(da.from_array(values, chunks=16), grid), grid, folder.activity("2025H2"), tags,
                       description="activity 2025H2")
    manifest = {"run_id": RUN_ID, "created": "2026-03-01T12:00:00Z", "caveats": CAVEATS, "layers": LAYERS,
                **carried_reference(run_dir, outlines(crs))}
    RunFolder(run_dir).manifest.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return run_dir, manifest


def carried_reference(run_dir, boundaries) -> dict:
    """Write `boundaries` (and one border, no posts or zones) into the run as the reference layers it carries;
    the manifest keys that name them and the run's CRS and countries."""
    crs = boundaries.crs
    borders = gpd.GeoDataFrame({"pair": ["CIV-GIN"], "a": ["CIV"], "b": ["GIN"], "length_km": [20.0]},
                               geometry=[shapely.LineString([(0, 0), (0, 20_000)])], crs=crs)
    nothing = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs))
    layers = ReferenceLayers(boundaries=boundaries, borders=borders, border_zone=border_zone(borders, 5),
                             border_posts=nothing, commodity_zones=nothing, admin={}, places=nothing)
    return {"reference": layers.write(RunFolder(run_dir)),
            "config": {"effective": {"crs": {"analysis": crs.to_wkt()},
                                     "project": {"countries": sorted(boundaries["iso3"])}}}}


SUFFIX = {"gpkg": ".gpkg", "shp": ".zip", "geojson": ".geojson", "csv": ".csv", "parquet": ".parquet", "cog": ".tif"}
#: The vector formats that hold features whole, at full precision: vector tiles (pmtiles) cut them per tile and snap
#: them to the tiles' pixels, read back in test_export_pmtiles.py.
WHOLE_VECTOR_FORMATS = [fmt for fmt in formats_for("vector") if fmt != "pmtiles"]


def export(run, layer, fmt, tmp_path, country=None, name=None):
    run_dir, manifest = run
    out = tmp_path / f"{name or layer}{SUFFIX[fmt]}"
    return export_layer(run_dir, manifest, layer, fmt, out, country=country)


def reopen(result, fmt: str, layer: str, kind: str) -> pd.DataFrame:
    """Read an export back with pyogrio (Parquet with pyarrow: the GDAL of pyogrio has no Parquet driver)."""
    path = result.file
    if fmt == "parquet":
        return gpd.read_parquet(path) if kind == "vector" else pd.read_parquet(path)
    if fmt == "csv":
        if kind == "table":
            return pyogrio.read_dataframe(path, read_geometry=False)
        frame = pyogrio.read_dataframe(path, GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO")
        return frame.set_crs(WGS84)
    frame = pyogrio.read_dataframe(path, layer=layer if fmt == "gpkg" else None)
    if fmt == "shp":
        fields = {row["field"]: row["column"] for row in result.metadata["shapefile_fields"]}
        frame = frame.rename(columns=fields)
    return frame


def as_bool(values: pd.Series) -> pd.Series:
    return values.map(lambda v: str(v).strip().lower() in ("true", "1"))


def assert_same_values(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Each attribute column of `expected` is in `got` with the same values, whatever the format's types."""
    for column in [column for column in expected.columns if column != "geometry"]:
        want, have = expected[column].reset_index(drop=True), got[column].reset_index(drop=True)
        if pd.api.types.is_bool_dtype(want):
            assert as_bool(have).tolist() == want.tolist(), column
        elif pd.api.types.is_datetime64_any_dtype(want):
            assert pd.to_datetime(have).astype("datetime64[ms]").tolist() == want.tolist(), column
        elif pd.api.types.is_numeric_dtype(want):
            np.testing.assert_allclose(have.astype(float), want.astype(float), rtol=1e-12, err_msg=column)
        else:
            assert have.fillna("").astype(str).tolist() == want.tolist(), column


def file_crs(fmt, crs):
    return WGS84 if fmt in ("geojson", "csv") else crs


# --- every format round-trips --------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("fmt", WHOLE_VECTOR_FORMATS)
def test_vector_export_round_trips_features_attributes_crs_and_accents(run, fmt, tmp_path, crs):
    result = export(run, "sites", fmt, tmp_path)
    got = reopen(result, fmt, "sites", "vector")
    expected = sites_frame(crs)

    assert len(got) == len(expected)
    extra = {"lon", "lat"} if fmt == "csv" else set()
    assert set(got.columns) - {got.geometry.name} == set(expected.columns) - {"geometry"} | extra
    assert_same_values(got, expected)
    assert got.crs.equals(file_crs(fmt, crs), ignore_axis_order=True)
    assert result.metadata["crs"]["code"] == ("EPSG:4326" if fmt in ("geojson", "csv") else None)
    want = np.asarray(expected.to_crs(got.crs).geometry)
    tolerance = 1e-6 if fmt in ("geojson", "csv") else 0.0  # degrees (7 decimals are written), or exact
    assert (shapely.hausdorff_distance(np.asarray(got.geometry), want) <= tolerance).all()
    assert HOLDER in set(got["holder"]) and CIV_NAME in set(got["country_name"])


@pytest.mark.unit
@pytest.mark.parametrize("fmt", formats_for("table"))
def test_table_export_round_trips_rows_and_accents(run, fmt, tmp_path):
    got = reopen(export(run, "capacity", fmt, tmp_path), fmt, "capacity", "table")
    assert list(got.columns) == list(capacity_frame().columns)
    assert_same_values(got, capacity_frame())
    assert CIV_NAME in set(got["country_name"])


@pytest.mark.unit
def test_raster_export_round_trips_values_grid_tags_as_a_cog(run, tmp_path, activity, crs):
    values, grid = activity
    result = export(run, "activity_2025H2", "cog", tmp_path)
    with rasterio.open(result.file) as dataset:
        assert dataset.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert dataset.tags(ns="IMAGE_STRUCTURE")["COMPRESSION"] == "DEFLATE"
        assert dataset.nodata == 255 and dataset.crs == crs and dataset.transform == grid.transform
        assert dataset.tags()["REGION"] == f"{CIV_NAME} et Guinée" and "COUNTRY" not in dataset.tags()
        assert dataset.descriptions == ("activity 2025H2",)
        np.testing.assert_array_equal(dataset.read(1), values)
    assert result.metadata["size"] == [grid.width, grid.height]


# --- per-country exports -------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("fmt", WHOLE_VECTOR_FORMATS)
@pytest.mark.parametrize("country, ids, straddling_ha", [("GIN", ["S1", "S2"], 100.0),
                                                         ("CIV", ["S2", "S3", "S4"], 300.0)])
def test_country_export_cuts_a_transboundary_site_exactly_at_the_border(run, fmt, country, ids,
                                                                        straddling_ha, tmp_path, crs):
    result = export(run, "sites", fmt, tmp_path, country=country)
    got = reopen(result, fmt, "sites", "vector").to_crs(crs)
    outline = GIN if country == "GIN" else CIV

    assert got["site_id"].tolist() == ids  # outside, or only touching the border: dropped
    assert as_bool(got["clipped"]).tolist() == [site == "S2" for site in ids]
    straddling = got[got["site_id"] == "S2"]
    assert straddling["area_ha"].astype(float).iloc[0] == pytest.approx(straddling_ha, rel=1e-12)
    exact = fmt not in ("geojson", "csv")  # those went through WGS84 at 7 decimals
    part = straddling.geometry.iloc[0]
    assert part.area / 10_000 == pytest.approx(straddling_ha, rel=1e-12 if exact else 1e-5)
    if exact:
        assert part.equals(SITES["S2"].intersection(outline))
    assert shapely.area(shapely.difference(np.asarray(got.geometry), outline.buffer(0 if exact else 0.05))).max() == 0
    kept = got[got["site_id"] != "S2"]  # sites wholly inside keep their geometry and area
    assert (shapely.hausdorff_distance(np.asarray(kept.geometry), [SITES[i] for i in kept["site_id"]])
            <= (0 if exact else 0.05)).all()
    np.testing.assert_allclose(kept["area_ha"].astype(float), [SITES[i].area / 10_000 for i in kept["site_id"]])
    assert HOLDER in set(got["holder"])


@pytest.mark.unit
def test_a_site_crossing_the_border_twice_keeps_both_parts_inside(crs):
    u_shaped = shapely.Polygon([(0, 0), (10, 0), (10, 10), (6, 10), (6, 5), (4, 5), (4, 10), (0, 10)])
    frame = gpd.GeoDataFrame({"area_ha": [9.0, 9.0]}, crs=crs,
                             geometry=[shapely.box(2, 7, 8, 12), shapely.box(4, 6, 6, 9)])  # 2nd: in the notch
    got = clip_vector(frame, u_shaped)
    assert len(got) == 1 and got.geometry.iloc[0].equals(shapely.MultiPolygon([shapely.box(2, 7, 4, 10),
                                                                               shapely.box(6, 7, 8, 10)]))
    assert got["area_ha"].iloc[0] == pytest.approx(12 / 10_000) and got["clipped"].tolist() == [True]


@pytest.mark.unit
def test_both_sides_of_the_border_add_up_to_the_whole_site(run, tmp_path):
    parts = [gpd.read_parquet(export(run, "sites", "parquet", tmp_path, c, name=c).file)
             for c in ("GIN", "CIV")]
    s2 = [part.loc[part["site_id"] == "S2", "area_ha"].iloc[0] for part in parts]
    assert sum(s2) == pytest.approx(SITES["S2"].area / 10_000, rel=1e-12)


@pytest.mark.unit
def test_country_table_export_keeps_the_country_rows(run, tmp_path):
    got = pd.read_csv(export(run, "capacity", "csv", tmp_path, country="civ").file, encoding="utf-8-sig")
    assert got["country"].tolist() == ["CIV", "CIV"] and got["year"].tolist() == [2024, 2025]
    assert set(got["country_name"]) == {CIV_NAME}


@pytest.mark.unit
@pytest.mark.parametrize("country, outline, col_off", [("GIN", GIN, 0), ("CIV", CIV, 20)])
def test_country_raster_export_sets_pixels_outside_to_nodata(run, activity, country, outline, col_off,
                                                             tmp_path):
    values, _ = activity
    result = export(run, "activity_2025H2", "cog", tmp_path, country=country)
    with rasterio.open(result.file) as dataset:
        data, transform, tags = dataset.read(1), dataset.transform, dataset.tags()
        assert dataset.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
    # the window is the country's bounding box on the layer's grid: 20 x 20 pixels, rows from y = 20 km
    assert data.shape == (20, 20) and (transform.c, transform.f) == outline.bounds[0:1] + (20_000.0,)
    source = values[5:25, col_off:col_off + 20]
    x = transform.c + 500.0 + 1_000.0 * np.arange(20)
    y = transform.f - 500.0 - 1_000.0 * np.arange(20)
    inside = shapely.contains_xy(outline, *np.meshgrid(x, y))
    np.testing.assert_array_equal(data[inside], source[inside])
    assert (data[~inside] == 255).all()
    assert inside.all() if country == "CIV" else (~inside).sum() == 10 * 10  # the notch's pixel centres
    assert tags["COUNTRY"] == country and tags["PERIOD"] == "2025H2" and tags["REGION"] == f"{CIV_NAME} et Guinée"
    assert result.metadata["size"] == [20, 20]


# --- GeoPackage style, Shapefile fields, sidecar ---------------------------------------------------------


@pytest.mark.unit
def test_geopackage_opens_styled_by_registration_class(run, tmp_path):
    result = export(run, "sites", "gpkg", tmp_path)
    styles = pyogrio.read_dataframe(result.file, layer="layer_styles")
    assert styles["f_table_name"].tolist() == ["sites"] and styles["useAsDefault"].tolist() == [True]
    assert styles["f_geometry_column"].iloc[0] == pyogrio.read_info(result.file, layer="sites")["geometry_name"]
    renderer = ET.fromstring(styles["styleQML"].iloc[0]).find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "registration"
    values = [category.get("value") for category in renderer.iter("category")]
    assert values == [*REGISTRATION_COLOURS, ""]  # "" = all other values
    assert {symbol.get("type") for symbol in renderer.iter("symbol")} == {"fill"}


@pytest.mark.unit
def test_styles_cover_every_class_and_fall_back_to_one_symbol(crs):
    assert set(REGISTRATION_COLOURS) == set(REGISTRATION_CLASSES)
    assert set(STATUS_COLOURS) == set(LICENCE_STATUSES)
    concessions = gpd.GeoDataFrame({"status": ["active"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=crs)
    assert ET.fromstring(layer_qml(concessions)).find("renderer-v2").get("attr") == "status"
    posts = gpd.GeoDataFrame({"name": ["Guéckédou"]}, geometry=[shapely.Point(0, 0)], crs=crs)
    renderer = ET.fromstring(layer_qml(posts)).find("renderer-v2")
    assert renderer.get("type") == "singleSymbol" and renderer.find("symbols/symbol").get("type") == "marker"


@pytest.mark.unit
def test_field_names_are_short_unique_ascii_and_deterministic():
    columns = ["site_id", "registration", "registration_licence_id", "distance_to_border_km",
               "distance_to_border_post_km", "Région", "area_ha", "AREA_HA", "2nd_source", "été à Guéckédou"]
    names = field_names(columns)
    assert names == {"site_id": "site_id", "registration": "registrati", "registration_licence_id": "registra_1",
                     "distance_to_border_km": "distance_t", "distance_to_border_post_km": "distance_1",
                     "Région": "Region", "area_ha": "area_ha", "AREA_HA": "AREA_HA_1", "2nd_source": "f2nd_sourc",
                     "été à Guéckédou": "ete_a_Guec"}
    assert all(len(name) <= MAX_FIELD_NAME and name.isascii() for name in names.values())
    assert len({name.lower() for name in names.values()}) == len(columns)
    assert field_names(columns) == names


@pytest.mark.unit
def test_zipped_shapefile_holds_utf8_cpg_field_mapping_and_metadata(run, tmp_path):
    result = export(run, "sites", "shp", tmp_path)
    with zipfile.ZipFile(result.file) as archive:
        assert sorted(archive.namelist()) == ["fields.csv", "sites.cpg", "sites.dbf", "sites.metadata.json",
                                              "sites.prj", "sites.shp", "sites.shx"]
        assert archive.read("sites.cpg").decode().strip() == "UTF-8"
        inner = json.loads(archive.read("sites.metadata.json").decode("utf-8"))
        fields = pd.read_csv(archive.open("fields.csv"), keep_default_na=False).to_dict("records")
    assert inner == result.metadata == json.loads(result.sidecar.read_text(encoding="utf-8"))
    assert fields == result.metadata["shapefile_fields"]
    by_column = {row["column"]: row for row in fields}
    assert by_column["registration_licence_id"]["field"] == "registra_1"
    assert by_column["first_detected"]["conversion"].startswith("datetime written as ISO 8601 text")
    assert by_column["transboundary"]["conversion"].startswith("boolean written as integer")


@pytest.mark.unit
def test_sidecar_says_what_where_from_and_how_to_credit(run, tmp_path, crs):
    result = export(run, "sites", "gpkg", tmp_path, country="CIV")
    assert result.sidecar == tmp_path / "sites.gpkg.metadata.json"
    assert result.paths == (result.file, result.sidecar)
    metadata = json.loads(result.sidecar.read_text(encoding="utf-8"))
    assert metadata == result.metadata
    assert metadata["file"] == "sites.gpkg" and metadata["format"] == "gpkg" and metadata["count"] == 3
    assert metadata["layer"] == {"name": "sites", "kind": "vector", "title": "Mining sites",
                                 "description": f"Sites in {CIV_NAME} and Guinée"}
    assert metadata["run"] == {"run_id": RUN_ID, "created": "2026-03-01T12:00:00Z"}
    assert metadata["country"] == "CIV" and "cut there" in metadata["clipping"]
    assert pd.Timestamp(metadata["exported"]).tzname() == "UTC"
    assert metadata["attribution"] == [DETECTIONS_CREDIT] and metadata["caveats"] == CAVEATS
    assert metadata["crs"]["code"] is None and crs.equals(metadata["crs"]["wkt"])
    run_dir, manifest = run
    credited = export_layer(run_dir, {**manifest, "attribution": "Cadastre minier de Guinée."}, "sites", "csv",
                            tmp_path / "credited.csv").metadata
    assert credited["attribution"] == ["Cadastre minier de Guinée.", DETECTIONS_CREDIT]
    table = export(run, "capacity", "parquet", tmp_path).metadata
    assert table["crs"] is None and table["country"] is None and table["clipping"] is None
    raster = export(run, "activity_2025H2", "cog", tmp_path).metadata
    assert raster["layer"]["period"] == "2025H2" and raster["size"] == [40, 30]


# --- refusals --------------------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("layer, fmt, out, country, message", [
    ("mines", "gpkg", "x.gpkg", None, "has no layer 'mines'; its layers are: activity_2025H2, capacity, notes, sites"),
    ("sites", "kml", "x.kml", None, "unknown export format 'kml'; formats: gpkg, shp, geojson, csv, parquet, cog"),
    ("sites", "cog", "x.tif", None, "'sites' is a vector layer; it can be exported as gpkg, shp, geojson"),
    ("activity_2025H2", "gpkg", "x.gpkg", None, "is a raster layer; it can be exported as cog, not gpkg"),
    ("capacity", "shp", "x.zip", None, "is a table layer; it can be exported as gpkg, csv, parquet, not shp"),
    ("sites", "gpkg", "x.shp", None, "x.shp: a GeoPackage export must be a file ending with .gpkg"),
    ("sites", "gpkg", "x.gpkg", "LBR", "no country outline for 'LBR'; outlines exist for: CIV, GIN"),
    ("notes", "csv", "x.csv", "GIN", "'notes' has no country column"),
])
def test_bad_requests_are_refused_with_the_choices(run, tmp_path, layer, fmt, out, country, message):
    run_dir, manifest = run
    with pytest.raises(ExportError) as error:
        export_layer(run_dir, manifest, layer, fmt, tmp_path / out, country=country)
    assert message in str(error.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.unit
def test_exports_are_never_written_into_the_run(run):
    run_dir, _ = run
    before = RunFolder(run_dir).layer("sites").read_bytes()
    with pytest.raises(ExportError, match="never written inside the run folder"):
        export(run, "sites", "parquet", run_dir)
    assert RunFolder(run_dir).layer("sites").read_bytes() == before


@pytest.mark.unit
def test_country_export_of_a_run_without_reference_layers_says_to_publish_a_new_run(run, tmp_path):
    run_dir, manifest = run
    older = {key: value for key, value in manifest.items() if key != "reference"}
    with pytest.raises(StoreError, match="holds no reference layer boundaries.*Publish a new run"):
        export_layer(run_dir, older, "sites", "gpkg", tmp_path / "x.gpkg", country="GIN")
    assert export_layer(run_dir, older, "sites", "gpkg", tmp_path / "x.gpkg").file.is_file()  # the region: fine


@pytest.mark.unit
@pytest.mark.parametrize("path, message", [
    ("../outside.parquet", "leads out of the run folder"),
    ("/etc/passwd", "is not a path relative to the run folder"),
    ("link.parquet", "leads out of the run folder"),
    ("gone.parquet", "is missing from the run"),
])
def test_manifest_paths_never_lead_out_of_the_run(run, tmp_path, path, message):
    run_dir, manifest = run
    (run_dir.parent / "outside.parquet").write_bytes(RunFolder(run_dir).layer("sites").read_bytes())
    (run_dir / "link.parquet").unlink(missing_ok=True)
    (run_dir / "link.parquet").symlink_to(run_dir.parent / "outside.parquet")
    tampered = {**manifest, "layers": {"sites": {**LAYERS["sites"], "path": path}}}
    with pytest.raises(ExportError, match=message):
        export_layer(run_dir, tampered, "sites", "gpkg", tmp_path / "x.gpkg")


@pytest.mark.unit
def test_a_failed_export_leaves_the_earlier_file_and_nothing_aside(run, tmp_path, monkeypatch):
    first = export(run, "sites", "gpkg", tmp_path)
    before = first.file.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("mrumonitor.export.formats.add_default_style", broken)
    with pytest.raises(ExportError, match="could not be written: disk full. Nothing was left half-written"):
        export(run, "sites", "gpkg", tmp_path)
    assert first.file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sites.gpkg", "sites.gpkg.metadata.json"]


@pytest.mark.unit
def test_format_follows_the_file_name():
    assert format_for_path("sites_SLE.shp.zip") == "shp" and format_for_path("A.GPKG") == "gpkg"
    with pytest.raises(ExportError, match="cannot tell the export format.*--format"):
        format_for_path("sites.kml")


# --- the command ---------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.integration
def test_export_command_cuts_a_country_file_from_the_latest_run_at_the_outline_it_carries(run, tmp_path, crs):
    run_dir, _ = run
    reference = tmp_path / "reference"
    reference.mkdir()
    moved = outlines(crs).translate(xoff=100_000)  # today's configured outlines: far from every site of the run
    moved.to_crs(WGS84).to_file(reference / "boundaries.geojson", engine="pyogrio")
    (run_dir.parent / "LATEST").write_text(RUN_ID, encoding="utf-8")
    config = tmp_path / "mrumonitor.toml"
    config.write_text(f'[paths]\nstore = "{run_dir.parent.parent}"\nreference = "reference"\n', encoding="utf-8")

    def mrumonitor(*args):
        return subprocess.run([sys.executable, "-m", "mrumonitor.cli", "export", "--config", str(config), *args],
                              check=False, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "COLUMNS": "200"})

    done = mrumonitor("sites", "--country", "CIV", "-o", str(tmp_path / "out" / "sites_CIV.geojson"))
    assert done.returncode == 0, done.stderr
    got = pyogrio.read_dataframe(tmp_path / "out" / "sites_CIV.geojson")
    assert got["site_id"].tolist() == ["S2", "S3", "S4"] and HOLDER in set(got["holder"])
    assert (tmp_path / "out" / "sites_CIV.geojson.metadata.json").is_file()
    refused = mrumonitor("mines", "--run", RUN_ID, "-o", str(tmp_path / "x.gpkg"))
    assert refused.returncode == 2 and "its layers are: activity_2025H2" in refused.stderr
    assert "Traceback" not in refused.stderr
