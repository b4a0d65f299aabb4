"""Every reader yields the same canonical licences; files that cannot be read fail naming file and fix."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import sle_licences, write_zipped_shapefile
from mrumonitor.errors import InputFileError, MissingCRSError
from mrumonitor.ingest import ingest_sources, open_source

pytestmark = pytest.mark.unit


def _write_shapefile(frame, tmp_path):
    frame.to_crs(32629).to_file(tmp_path / "sle.shp", encoding="UTF-8")
    return "sle.shp", {}


def _write_zip(frame, tmp_path):
    write_zipped_shapefile(frame.to_crs(32629), tmp_path / "sle.zip")
    return "sle.zip", {}


def _write_gpkg(frame, tmp_path):
    frame.to_crs(32629).to_file(tmp_path / "sle.gpkg", layer="licences", driver="GPKG")
    gpd.GeoDataFrame({"x": [1]}, geometry=[shapely.Point(0, 0)], crs=4326).to_file(
        tmp_path / "sle.gpkg", layer="other", driver="GPKG")
    return "sle.gpkg", {"format": '"gpkg"', "layer": '"licences"'}


def _write_geojson(frame, tmp_path):
    frame.to_file(tmp_path / "sle.geojson", driver="GeoJSON")
    return "sle.geojson", {"format": '"geojson"'}


def _write_flatgeobuf(frame, tmp_path):
    frame.to_crs(32629).to_file(tmp_path / "sle.fgb", driver="FlatGeobuf")
    return "sle.fgb", {"format": '"flatgeobuf"'}


def _write_csv_wkt(frame, tmp_path):
    table = pd.DataFrame(frame.drop(columns="geometry"))
    table["WKT"] = frame.to_crs(32629).geometry.to_wkt()
    table.to_csv(tmp_path / "sle.csv", sep=";", index=False, encoding="utf-8")
    return "sle.csv", {"format": '"csv"', "crs": '"EPSG:32629"', "csv": '{ wkt = "WKT", delimiter = ";" }'}


WRITERS = [_write_shapefile, _write_zip, _write_gpkg, _write_geojson, _write_flatgeobuf, _write_csv_wkt]


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.__name__.removeprefix("_write_"))
def test_every_format_gives_the_same_canonical_licences(writer, tmp_path, sle_settings, outlines):
    original = sle_licences(5)
    file, overrides = writer(original, tmp_path)
    result = ingest_sources(sle_settings(file, **overrides), outlines=outlines)

    got = result.concessions.sort_values("licence_id")
    assert list(got["licence_id"]) == list(original["LICENCE_NO"])
    assert got["holder"].iloc[0] == "Coopérative de Guéckédou"  # accents survive every format
    assert set(got["licence_type"]) == {"artisanal"} and set(got["commodity"]) == {"diamond"}
    assert (got["granted"] == pd.Timestamp("2024-01-15")).all()
    assert (got["expires"] == pd.Timestamp("2027-01-14")).all()
    assert sorted(got["source_row"]) == [1, 2, 3, 4, 5]  # FlatGeobuf stores features in spatial order
    assert got.crs == result.concessions.crs and got.crs.is_projected
    assert set(got.geom_type) == {"MultiPolygon"}
    expected_area = original.to_crs(got.crs).area.to_numpy()
    assert got.area.to_numpy() == pytest.approx(expected_area, rel=1e-6)
    assert len(result.quarantine) == 0


def test_csv_with_coordinate_columns_reads_points_in_the_configured_crs(tmp_path, sle_settings):
    pd.DataFrame({"LICENCE_NO": ["A"], "x": ["-11.5"], "y": ["8.5"]}).to_csv(tmp_path / "p.csv", index=False)
    settings = sle_settings("p.csv", format='"csv"', crs='"EPSG:4326"', csv='{ x = "x", y = "y" }',
                            fields='{ licence_id = "LICENCE_NO", licence_type = "LICENCE_NO", commodity = "x", holder = "", '
                                   'status = "", granted = "", expires = "" }')
    stream = open_source("sle", settings.sources["sle"])
    batch = next(stream.batches(10))
    assert stream.crs.to_epsg() == 4326
    assert batch.geometry.iloc[0].equals(shapely.Point(-11.5, 8.5))


def test_batches_stream_long_files_and_report_progress(tmp_path, sle_settings, outlines):
    write_zipped_shapefile(sle_licences(25).to_crs(32629), tmp_path / "sle.zip")
    settings = sle_settings("sle.zip")
    settings = settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"batch_size": 10})})
    calls = []
    result = ingest_sources(settings, outlines=outlines, on_progress=lambda *a: calls.append(a))
    assert calls == [("sle", 10, 25), ("sle", 20, 25), ("sle", 25, 25)]
    assert len(result.concessions) == 25


# --- files that cannot be read at all --------------------------------------------------------------


def test_missing_crs_is_an_error_unless_configured(tmp_path, sle_settings, outlines):
    frame = sle_licences(2).to_crs(32629)
    frame.to_file(tmp_path / "sle.shp", encoding="UTF-8")
    (tmp_path / "sle.prj").unlink()
    with pytest.raises(MissingCRSError, match=r"sle\.shp: declares no coordinate reference system.*sources\.sle\.crs"):
        ingest_sources(sle_settings("sle.shp"), outlines=outlines)
    result = ingest_sources(sle_settings("sle.shp", crs='"EPSG:32629"'), outlines=outlines)
    assert len(result.concessions) == 2


def test_file_crs_wins_over_configured_crs_with_a_warning(tmp_path, sle_settings, outlines):
    write_zipped_shapefile(sle_licences(1).to_crs(32629), tmp_path / "sle.zip")
    with pytest.warns(UserWarning, match="is ignored"):
        result = ingest_sources(sle_settings("sle.zip", crs='"EPSG:32628"'), outlines=outlines)
    assert len(result.concessions) == 1


def _truncate(path, keep):
    path.write_bytes(path.read_bytes()[:keep])


BAD_FILES = {
    "missing file": (lambda p: None, "sle.zip", {}, "file not found"),
    "truncated .shp": (lambda p: (sle_licences(3).to_crs(32629).to_file(p / "sle.shp"),
                                  _truncate(p / "sle.shp", 300)), "sle.shp", {}, "truncated"),
    "shapefile without .shx": (lambda p: (sle_licences(1).to_file(p / "sle.shp"), (p / "sle.shx").unlink()),
                               "sle.shp", {}, r"no \.shx"),
    "shapefile without .cpg nor encoding": (
        lambda p: write_zipped_shapefile(sle_licences(1), p / "sle.zip", with_cpg=False), "sle.zip",
        {"encoding": '""'}, r"no \.cpg.*sources\.sle\.encoding"),
    "zip with a ../ member": (lambda p: zipfile.ZipFile(p / "sle.zip", "w").writestr("../evil.shp", b"x"),
                              "sle.zip", {}, "unsafe member name"),
    "truncated GeoJSON": (lambda p: (p / "sle.geojson").write_text('{"type": "FeatureCollection", "featu'),
                          "sle.geojson", {"format": '"geojson"'}, "cannot be opened as geojson"),
    "a Shapefile declared as GeoPackage": (lambda p: sle_licences(1).to_file(p / "sle.gpkg.shp"),
                                           "sle.gpkg.shp", {"format": '"gpkg"'}, "is a ESRI Shapefile file, not gpkg"),
    "CSV in another encoding": (lambda p: (p / "sle.csv").write_bytes("LICENCE_NO;WKT\nGuéckédou;POINT (1 1)\n"
                                                                      .encode("cp1252")),
                                "sle.csv", {"format": '"csv"', "crs": '"EPSG:4326"', "encoding": '"UTF-8"',
                                            "csv": '{ wkt = "WKT", delimiter = ";" }'},
                                r"not valid UTF-8 text.*sources\.sle\.encoding"),
    "mapped column absent": (lambda p: sle_licences(1).rename(columns={"LIC_TYPE": "TYPE"}).to_file(p / "sle.shp"),
                             "sle.shp", {}, r"has no column 'LIC_TYPE'.*its columns are: LICENCE_NO, HOLDER, TYPE"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_unreadable_file_fails_naming_file_and_fix(case, tmp_path, sle_settings, outlines):
    make, file, overrides, message = BAD_FILES[case]
    make(tmp_path)
    with pytest.raises(InputFileError, match=message) as error:
        ingest_sources(sle_settings(file, **overrides), outlines=outlines)
    assert error.value.path.name == file
    assert "Fix:" in str(error.value)
