"""Hostile and careless cadastre files: each is refused naming the file and the fix, or its bad records go to
quarantine with their reason, or the run carries a warning — never a traceback, never a silent wrong result.

Every case builds its own file in tmp_path. Where the ingest completes, records in = accepted + quarantined is
checked against the number of records the case wrote. The last cases run the real `mrumonitor ingest` command.
"""

from __future__ import annotations

import codecs
import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely

from conftest import sle_licences, write_config, write_zipped_shapefile
from hostile import assert_no_traceback, assert_refused, mrumonitor
from run_inputs import write_run_inputs
from mrumonitor.errors import MruError
from mrumonitor.ingest import ingest_sources, write_ingest
from mrumonitor.runwarnings import collecting_warnings
from mrumonitor.store.runs import read_manifest, resolve_run

pytestmark = [pytest.mark.hostile, pytest.mark.integration]

#: The SLE attribute columns of `sle_licences`, in order, for CSV files written by hand.
HEADER = "LICENCE_NO,HOLDER,LIC_TYPE,MINERAL,STATUS,GRANTED,EXPIRES"
GOOD = "Artisanal Mining Licence,Diamonds,Active,15/01/2024,14/01/2027"
SQUARE = "POLYGON ((-12 8, -11.98 8, -11.98 8.02, -12 8.02, -12 8))"
CSV_WKT = {"format": '"csv"', "crs": '"EPSG:4326"', "csv": '{ wkt = "WKT" }'}
CSV_XY = {"format": '"csv"', "crs": '"EPSG:4326"', "csv": '{ x = "x", y = "y", delimiter = ";" }'}
GPKG = {"format": '"gpkg"'}


def _truncate(path, share=0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * share)])


def _zero(path, at, size):
    data = bytearray(path.read_bytes())
    data[at:at + size] = bytes(size)
    path.write_bytes(bytes(data))


def _csv(tmp_path, *rows, header=f"{HEADER},WKT", encoding="utf-8", name="sle.csv"):
    (tmp_path / name).write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))


def _wkt_row(licence, wkt, dates="15/01/2024,14/01/2027"):
    return f'{licence},Holder,Artisanal Mining Licence,Diamonds,Active,{dates},"{wkt}"'


def _shapefile(tmp_path, n=3, encoding="UTF-8", cpg=True, frame=None):
    frame = sle_licences(n) if frame is None else frame
    frame.to_file(tmp_path / "sle.shp", encoding=encoding)
    if not cpg:
        (tmp_path / "sle.cpg").unlink()


def _two_layers(tmp_path):
    sle_licences(2).to_file(tmp_path / "sle.gpkg", layer="licences_2019", driver="GPKG")
    sle_licences(5).to_file(tmp_path / "sle.gpkg", layer="licences_2026", driver="GPKG")


def _zip_of(tmp_path, members):
    with zipfile.ZipFile(tmp_path / "sle.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _encrypted_zip(tmp_path):
    write_zipped_shapefile(sle_licences(1), tmp_path / "sle.zip")
    data = bytearray((tmp_path / "sle.zip").read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set "encrypted" in every header
        at = data.find(signature)
        while at >= 0:
            data[at + flag_at] |= 1
            at = data.find(signature, at + 4)
    (tmp_path / "sle.zip").write_bytes(bytes(data))


# --- files refused as a whole: (build the file in tmp_path, source file, config overrides, words) ----------

REFUSED = {
    "empty GeoPackage (0 licences)": (
        lambda p: sle_licences(1).iloc[:0].to_file(p / "sle.gpkg", driver="GPKG"), "sle.gpkg", GPKG,
        ["holds no licence records", "every mining site in SLE would count as unregistered"]),
    "empty GeoJSON FeatureCollection": (
        lambda p: (p / "sle.geojson").write_text('{"type": "FeatureCollection", "features": []}'), "sle.geojson",
        {"format": '"geojson"'}, ["holds no licence records"]),
    "CSV with a header and no rows": (
        lambda p: _csv(p), "sle.csv", CSV_WKT, ["holds no licence records"]),
    "GeoPackage with a stale first layer and no layer configured": (
        _two_layers, "sle.gpkg", GPKG,
        ["holds 2 layers with geometry (licences_2019, licences_2026)", "sources.sle.layer"]),
    "GeoPackage with a configured layer it does not hold": (
        _two_layers, "sle.gpkg", {**GPKG, "layer": '"licences"'},
        ["has no layer 'licences'", "its layers are: licences_2019, licences_2026", "set sources.sle.layer"]),
    "GeoPackage with only a table, no geometry": (
        lambda p: pyogrio.write_dataframe(pd.DataFrame({"LICENCE_NO": ["A"]}), p / "sle.gpkg", layer="licences"),
        "sle.gpkg", GPKG, ["has no layer with geometry (its tables: licences)"]),
    "truncated FlatGeobuf": (
        lambda p: (sle_licences(40).to_file(p / "sle.fgb", driver="FlatGeobuf"), _truncate(p / "sle.fgb")),
        "sle.fgb", {"format": '"flatgeobuf"'}, ["failed while reading near record", "export or download it again"]),
    "truncated .shp (GDAL would return None geometries)": (
        lambda p: (_shapefile(p, 5), _truncate(p / "sle.shp", 0.7)), "sle.shp", {},
        ["the .shp file is truncated"]),
    "truncated .dbf (GDAL would return the first records only)": (
        lambda p: (_shapefile(p, 20), _truncate(p / "sle.dbf")), "sle.shp", {},
        ["the .dbf file is truncated: its header declares 20 records"]),
    "truncated .shx": (lambda p: (_shapefile(p, 20), _truncate(p / "sle.shx")), "sle.shp", {},
                       ["the .shx file indexes 3 geometries but the .dbf holds 20 records"]),
    ".shx with a zeroed entry (GDAL would read a record without geometry)": (
        lambda p: (_shapefile(p, 20), _zero(p / "sle.shx", 100 + 8 * 7, 8)), "sle.shp", {},
        ["the .shx file is damaged: geometry 8 points outside the .shp file"]),
    "Shapefile without .cpg and no encoding configured": (
        lambda p: _shapefile(p, cpg=False), "sle.shp", {"encoding": '""'},
        ["no .cpg file", "set sources.sle.encoding"]),
    "Shapefile without .dbf": (
        lambda p: (_shapefile(p), (p / "sle.dbf").unlink()), "sle.shp", {}, ["has no .dbf file"]),
    ".cpg says UTF-8 but the text is Latin-1": (
        lambda p: (_shapefile(p, encoding="ISO-8859-1"), (p / "sle.cpg").write_text("UTF-8")), "sle.shp",
        {"encoding": '""'}, ["column 'HOLDER' near record 1 is not valid UTF-8 text", "sources.sle.encoding"]),
    "zip holding two Shapefiles": (
        lambda p: _zip_of(p, {"a.shp": b"x", "b.shp": b"x"}), "sle.zip", {}, ["exactly one .shp file, found 2"]),
    "password-protected zip": (_encrypted_zip, "sle.zip", {}, ["password-protected"]),
    "zip bomb": (lambda p: _zip_of(p, {"sle.shp": b"\0" * 20_000_000}), "sle.zip", {}, ["a zip bomb?"]),
    "garbage bytes named .gpkg": (
        lambda p: (p / "sle.gpkg").write_bytes(b"SQLite format 3\0" + bytes(range(256)) * 20), "sle.gpkg", GPKG,
        ["cannot be opened as gpkg"]),
    "truncated GeoPackage": (
        lambda p: (sle_licences(300).to_file(p / "sle.gpkg", driver="GPKG"), _truncate(p / "sle.gpkg")),
        "sle.gpkg", GPKG, ["sle.gpkg"]),
    "0-byte GeoJSON": (lambda p: (p / "sle.geojson").write_bytes(b""), "sle.geojson", {"format": '"geojson"'},
                       ["cannot be opened as geojson"]),
    "CSV with decimal-comma coordinates": (
        lambda p: _csv(p, f"A;Holder;{GOOD.replace(',', ';')};-11,25;8,5", header=f"{HEADER.replace(',', ';')};x;y"),
        "sle.csv", CSV_XY, ["decimal comma (row 1: '-11,25')", 'set sources.sle.csv.decimal = ","']),
    "semicolon CSV read with the default delimiter": (
        lambda p: _csv(p, f"A;Holder;{GOOD.replace(',', ';')};{SQUARE}", header=f"{HEADER.replace(',', ';')};WKT"),
        "sle.csv", CSV_WKT, ["reads as a single column", "separated by ';'", 'delimiter = ";"']),
    "UTF-8 BOM while the encoding says cp1252": (
        lambda p: _csv(p, _wkt_row("A", SQUARE), encoding="utf-8-sig"), "sle.csv", {**CSV_WKT, "encoding": '"cp1252"'},
        ["starts with a UTF-8 byte-order mark", "set sources.sle.encoding = 'UTF-8'"]),
    "UTF-16 CSV read as UTF-8": (
        lambda p: _csv(p, _wkt_row("A", SQUARE), encoding="utf-16"), "sle.csv", CSV_WKT,
        ["UTF-16 byte-order mark", "set sources.sle.encoding = 'UTF-16'"]),
    "CSV without its coordinate column": (
        lambda p: _csv(p, "A;1", header="LICENCE_NO;x"), "sle.csv", CSV_XY,
        ["has no column", "'y'", "its columns are: LICENCE_NO, x"]),
    "CSV of random bytes": (
        lambda p: (p / "sle.csv").write_bytes(bytes(range(128, 256)) * 30), "sle.csv", CSV_WKT,
        ["is not valid UTF-8 text", "set sources.sle.encoding"]),
    "CSV with an unclosed quote": (
        lambda p: _csv(p, _wkt_row("A", SQUARE), 'B,"Holder,' + GOOD), "sle.csv", CSV_WKT, ["malformed line"]),
    "source file that does not exist": (lambda p: None, "sle.gpkg", GPKG, ["file not found", "sources.sle.file"]),
    "source file that is a folder": (lambda p: (p / "sle.gpkg").mkdir(), "sle.gpkg", GPKG, ["is a folder"]),
    "Shapefile declared as GeoJSON": (
        lambda p: _shapefile(p), "sle.shp", {"format": '"geojson"', "encoding": '""'},
        ["is a ESRI Shapefile file, not geojson", "sources.sle.format"]),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_unusable_cadastre_file_is_refused_naming_file_and_fix(case, tmp_path, sle_settings, outlines):
    build, file, overrides, words = REFUSED[case]
    build(tmp_path)
    with pytest.raises(MruError) as error:
        ingest_sources(sle_settings(file, **overrides), outlines=outlines)
    message = " ".join(str(error.value).split())
    assert_no_traceback(message)
    assert file in message and "Fix:" in message, message
    for word in words:
        assert word in message, f"{word!r} not in: {message}"


# --- records sent to quarantine with their reason: (rows of a WKT CSV or a file builder, reason, words) -----

def _nan_vertex_fgb(tmp_path):
    frame = sle_licences(2)
    frame.loc[1, "geometry"] = shapely.Polygon([(-12, 8), (-11.98, 8), (np.nan, 8.02), (-12, 8.02)])
    frame.to_file(tmp_path / "sle.fgb", driver="FlatGeobuf")
    return "sle.fgb", {"format": '"flatgeobuf"'}, 2


def _numeric_dates(tmp_path):
    frame = sle_licences(2)
    frame["GRANTED"] = [20240115, 20240116]
    frame.to_file(tmp_path / "sle.gpkg", driver="GPKG")
    return "sle.gpkg", GPKG, 2


def _points_in_gpkg(tmp_path):
    frame = sle_licences(2)
    frame.loc[1, "geometry"] = shapely.Point(-12, 8)
    frame.to_file(tmp_path / "sle.gpkg", driver="GPKG")
    return "sle.gpkg", GPKG, 2


def _bad_coordinates(tmp_path):
    rows = [f"A;Holder;{GOOD.replace(',', ';')};-11.25;8.5", f"B;Holder;{GOOD.replace(',', ';')};n/a;8.5"]
    _csv(tmp_path, *rows, header=f"{HEADER.replace(',', ';')};x;y")
    return "sle.csv", CSV_XY, 2


QUARANTINED = {
    "WKT with a NaN vertex (not repaired into a triangle)": (
        _wkt_row("B", "POLYGON ((-12 8, -11.98 8, NaN 8.02, -12 8.02, -12 8))"), "invalid_geometry",
        ["not a number (NaN) or is infinite", "not repaired"]),
    "WKT with an infinite vertex": (
        _wkt_row("B", "POLYGON ((-12 8, -11.98 8, inf 8.02, -12 8.02, -12 8))"), "invalid_geometry",
        ["is infinite"]),
    "WKT POLYGON EMPTY": (_wkt_row("B", "POLYGON EMPTY"), "empty_geometry", ["has no geometry"]),
    "WKT line instead of a polygon": (_wkt_row("B", "LINESTRING (-12 8, -11.9 8)"), "not_polygon", ["is a line"]),
    "WKT point instead of a polygon": (_wkt_row("B", "POINT (-12 8)"), "not_polygon", ["is a point"]),
    "WKT with a misspelt type": (_wkt_row("B", "POLYGN ((-12 8, -11 8, -11 9, -12 8))"), "unparseable_geometry",
                                 ["the WKT 'POLYGN", "Unknown type: 'POLYGN'"]),
    "WKT ring that is not closed": (_wkt_row("B", "POLYGON ((-12 8, -11 8, -11 9, -12 9))"), "unparseable_geometry",
                                    ["do not form a closed linestring"]),
    "31 February": (_wkt_row("B", SQUARE, "31/02/2024,14/01/2027"), "unparseable_date",
                    ["'31/02/2024' (GRANTED) is not a real calendar date", "day is out of range for month"]),
    "29 February of a common year": (_wkt_row("B", SQUARE, "15/01/2024,29/02/2027"), "unparseable_date",
                                     ["'29/02/2027' (EXPIRES) is not a real calendar date"]),
    "month 13": (_wkt_row("B", SQUARE, "15/13/2024,14/01/2027"), "unparseable_date", ["'15/13/2024'"]),
    "NaN vertex in a FlatGeobuf": (_nan_vertex_fgb, "invalid_geometry", ["not a number (NaN)"]),
    "date column that is numeric": (_numeric_dates, "unparseable_date",
                                    ["column GRANTED holds numbers, not dates", "'%Y%m%d'"]),
    "a point in a GeoPackage of licences": (_points_in_gpkg, "not_polygon", ["is a point"]),
    "coordinate that is text": (_bad_coordinates, "unparseable_geometry",
                                ["x = 'n/a' and y = '8.5' are not both numbers"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", QUARANTINED, ids=list(QUARANTINED))
def test_bad_record_is_quarantined_with_its_reason(case, tmp_path, sle_settings, outlines):
    given, reason, words = QUARANTINED[case]
    if callable(given):
        file, overrides, records = given(tmp_path)
    else:  # one good and one bad row of a WKT CSV
        _csv(tmp_path, _wkt_row("A", SQUARE), given)
        file, overrides, records = "sle.csv", CSV_WKT, 2
    result = ingest_sources(sle_settings(file, **overrides), outlines=outlines)

    _assert_nothing_lost(result, records)
    row = result.quarantine.set_index("source_row").loc[2]  # the bad record; row 1 may be flawless
    assert row["reason"] == reason, row["detail"]
    for word in words:
        assert word in row["detail"], f"{word!r} not in: {row['detail']}"
    assert_no_traceback(row["detail"])


def _assert_nothing_lost(result, records: int) -> None:
    report = result.report.set_index("source").loc["sle"]
    assert report["read"] == records == report["accepted"] + report["quarantined"]
    assert len(result.concessions) + len(result.quarantine) == records


# --- read right: the value that reaches the published layer ----------------------------------------------

def _datetime_gpkg(tz):
    def build(tmp_path):
        frame = sle_licences(2)
        granted = pd.to_datetime(["2024-01-15 09:30", "2024-01-15 00:00"])
        frame["GRANTED"] = granted.tz_localize(tz) if tz else granted
        frame.to_file(tmp_path / "sle.gpkg", driver="GPKG")
        return "sle.gpkg", GPKG
    return build


def _legacy_shapefile(gdal_encoding, configured, holder):
    def build(tmp_path):
        frame = sle_licences(2)
        frame.loc[1, "HOLDER"] = holder
        _shapefile(tmp_path, frame=frame, encoding=gdal_encoding, cpg=False)
        return "sle.shp", {"encoding": f'"{configured}"'}
    return build


def _layer_configured(tmp_path):
    _two_layers(tmp_path)
    return "sle.gpkg", {**GPKG, "layer": '"licences_2026"'}


def _layer_beside_a_style_table(tmp_path):
    sle_licences(2).to_file(tmp_path / "sle.gpkg", layer="licences", driver="GPKG")
    pyogrio.write_dataframe(pd.DataFrame({"styleQML": ["<qgis/>"]}), tmp_path / "sle.gpkg", layer="layer_styles")
    return "sle.gpkg", GPKG


def _bom_csv(tmp_path):
    _csv(tmp_path, _wkt_row("SL-AML-0001", SQUARE), _wkt_row("SL-AML-0002", SQUARE.replace("8.02", "8.03")),
         encoding="utf-8-sig")
    return "sle.csv", CSV_WKT


def _decimal_comma_option(tmp_path):
    # points are no licences (not_polygon), but their coordinates must be read right
    _csv(tmp_path, f"SL-AML-0001;Holder;{GOOD.replace(',', ';')};-11,25;8,5",
         f"SL-AML-0002;Holder;{GOOD.replace(',', ';')};-11,5;8,25", header=f"{HEADER.replace(',', ';')};x;y")
    return "sle.csv", {**CSV_XY, "csv": '{ x = "x", y = "y", delimiter = ";", decimal = "," }'}


def _yyyymmdd(tmp_path):
    path, overrides = _numeric_dates(tmp_path)[:2]
    return path, {**overrides, "date_formats": '["%d/%m/%Y", "%Y%m%d"]'}


READ_RIGHT = {
    "GeoPackage DATETIME": (_datetime_gpkg(None), lambda r: list(r.concessions["granted"].dt.strftime("%F"))
                            == ["2024-01-15"] * 2),
    "GeoPackage DATETIME with a time zone": (
        _datetime_gpkg("Africa/Freetown"), lambda r: set(r.concessions["granted"].dt.strftime("%F")) == {"2024-01-15"}),
    "Latin-1 Shapefile without .cpg, encoding = 'latin-1'": (
        _legacy_shapefile("ISO-8859-1", "latin-1", "Société minière de Kono"),
        lambda r: "Société minière de Kono" in set(r.concessions["holder"])),
    "Windows-1252 Shapefile without .cpg, encoding = 'windows-1252'": (
        _legacy_shapefile("CP1252", "windows-1252", "Société minière – Koidu"),
        lambda r: "Société minière – Koidu" in set(r.concessions["holder"])),
    "two layers, the current one configured": (_layer_configured, lambda r: len(r.concessions) == 5),
    "one layer beside a QGIS style table": (_layer_beside_a_style_table, lambda r: len(r.concessions) == 2),
    "CSV with a UTF-8 byte-order mark": (_bom_csv, lambda r: len(r.concessions) == 2),
    "decimal commas with decimal = ','": (
        _decimal_comma_option,
        lambda r: list(r.quarantine["source_wkt"]) == ["POINT (-11.25 8.5)", "POINT (-11.5 8.25)"]),
    "YYYYMMDD numbers with '%Y%m%d'": (_yyyymmdd, lambda r: list(r.concessions["granted"].dt.strftime("%F"))
                                       == ["2024-01-15", "2024-01-16"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", READ_RIGHT, ids=list(READ_RIGHT))
def test_awkward_but_valid_file_is_read_right_into_the_written_layers(case, tmp_path, sle_settings, outlines):
    build, check = READ_RIGHT[case]
    file, overrides = build(tmp_path)
    result = ingest_sources(sle_settings(file, **overrides), outlines=outlines)
    _assert_nothing_lost(result, int(result.report["read"].sum()))
    assert check(result), (result.concessions.drop(columns="geometry"), result.quarantine["detail"].tolist())
    written = write_ingest(result, tmp_path / "out")
    for path in written.values():
        pq.read_table(path).validate(full=True)  # valid UTF-8 text, readable by every later stage
    assert check(type(result)(gpd.read_parquet(written["concessions"]), gpd.read_parquet(written["quarantine"]),
                              result.report))


def test_a_cadastre_all_in_quarantine_is_published_with_a_warning(tmp_path, sle_settings, outlines):
    _csv(tmp_path, *[_wkt_row(f"A{i}", SQUARE, "31/02/2024,14/01/2027") for i in range(3)])
    with collecting_warnings() as warnings:
        result = ingest_sources(sle_settings("sle.csv", **CSV_WKT), outlines=outlines)
    _assert_nothing_lost(result, 3)
    assert len(result.concessions) == 0
    (warning,) = warnings
    assert warning.stage == "ingest" and warning.subject.endswith("sle.csv")
    assert "only 0 of 3 records could be used" in warning.message
    assert "unparseable_date (3)" in warning.message


# --- through the real command ---------------------------------------------------------------------------

def _cli_config(tmp_path, file, **overrides):
    extra = "".join(f"{key} = {value}\n" for key, value in overrides.items())
    return write_config(tmp_path, f'[paths]\nwork = "work"\nstore = "layers"\n[sources.sle]\nfile = "{file}"\n{extra}')


def _ingest_command(tmp_path, file, **overrides):
    config = _cli_config(tmp_path, file, **overrides)
    return mrumonitor("ingest", "--config", str(config), "--source", "sle", cwd=tmp_path)


CLI_REFUSED = {
    "GeoPackage with two layers": (_two_layers, "sle.gpkg", GPKG, ["licences_2019, licences_2026", "layer"]),
    "empty cadastre": (lambda p: sle_licences(1).iloc[:0].to_file(p / "sle.gpkg", driver="GPKG"), "sle.gpkg",
                       GPKG, ["holds no licence records"]),
    "truncated FlatGeobuf": (
        lambda p: (sle_licences(40).to_file(p / "sle.fgb", driver="FlatGeobuf"), _truncate(p / "sle.fgb")),
        "sle.fgb", {"format": '"flatgeobuf"'}, ["sle.fgb", "failed while reading"]),
    "decimal-comma CSV": (
        lambda p: _csv(p, f"A;Holder;{GOOD.replace(',', ';')};-11,25;8,5", header=f"{HEADER.replace(',', ';')};x;y"),
        "sle.csv", CSV_XY, ["decimal comma", "csv.decimal"]),
    "bad date format directive": (lambda p: _shapefile(p), "sle.shp", {"date_formats": '["%d/%m/%Q"]'},
                                  ["sources.sle.date_formats", "'%d/%m/%Q'", "bad directive"]),
    "unknown encoding name": (lambda p: _shapefile(p, cpg=False), "sle.shp", {"encoding": '"latin-9x"'},
                              ["sources.sle.encoding", "unknown text encoding 'latin-9x'", "'cp1252'"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CLI_REFUSED, ids=list(CLI_REFUSED))
def test_ingest_command_refuses_with_one_clear_message(case, tmp_path):
    build, file, overrides, words = CLI_REFUSED[case]
    build(tmp_path)
    result = _ingest_command(tmp_path, file, **overrides)
    assert_refused(result, *words)
    assert not (tmp_path / "work" / "ingest" / "concessions.parquet").exists()


@pytest.mark.slow
def test_ingest_command_writes_latin1_text_right_end_to_end(tmp_path):
    """The documented fix for a Shapefile without .cpg, `encoding = "latin-1"`, gives the right text in the layer."""
    frame = sle_licences(3)
    frame.loc[2, "HOLDER"] = "Société minière de Kono"
    _shapefile(tmp_path, frame=frame, encoding="ISO-8859-1", cpg=False)
    result = _ingest_command(tmp_path, "sle.shp", encoding='"latin-1"')
    assert_no_traceback(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    table = pq.read_table(tmp_path / "work" / "ingest" / "concessions.parquet")
    table.validate(full=True)
    assert sorted(table.column("holder").to_pylist()) == sorted(frame["HOLDER"])
    assert codecs.lookup("latin-1").name == "iso8859-1"  # the alias GDAL silently mis-decoded


@pytest.mark.slow
def test_ingest_command_shows_quarantined_nan_vertex(tmp_path):
    _csv(tmp_path, _wkt_row("SL-AML-0001", SQUARE),
         _wkt_row("SL-AML-0002", "POLYGON ((-12 8, -11.9 8, nan 8.1, -12 8))"))
    result = _ingest_command(tmp_path, "sle.csv", **CSV_WKT)
    assert_no_traceback(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    quarantine = gpd.read_parquet(tmp_path / "work" / "ingest" / "quarantine.parquet")
    assert quarantine["reason"].tolist() == ["invalid_geometry"]
    assert json.loads(quarantine["attributes"].iloc[0])["WKT"].startswith("POLYGON ((-12 8, -11.9 8, nan")
    assert "invalid_geometry" in " ".join(result.stdout.split())


@pytest.mark.slow
def test_run_publishes_latin1_text_right_and_warns_about_a_cadastre_mostly_in_quarantine(tmp_path):
    """`mrumonitor run` end to end: the Latin-1 Shapefile's text reaches the published run intact (it used to
    crash the run), and a cadastre whose records mostly went to quarantine is published with a warning that
    `runs show` prints."""
    config = write_run_inputs(tmp_path)
    sle = gpd.read_file(f"zip://{tmp_path / 'sle.zip'}")
    sle.loc[0, "HOLDER"] = "Société minière de Kono"
    (tmp_path / "sle.zip").unlink()
    _shapefile(tmp_path, frame=sle, encoding="ISO-8859-1", cpg=False)
    gin = gpd.read_file(tmp_path / "gin.geojson")
    flawed = pd.concat([gin.assign(code_titre=["GIN-BAD-1"], type_titre=["Permis inconnu"]),
                        gin.assign(code_titre=["GIN-BAD-2"], type_titre=["Permis inconnu"])])
    pd.concat([gin, flawed]).to_file(tmp_path / "gin.geojson", driver="GeoJSON")
    config.write_text(config.read_text().replace('[sources.sle]\nfile = "sle.zip"\n',
                                                 '[sources.sle]\nfile = "sle.shp"\nformat = "shapefile"\n'
                                                 'encoding = "latin-1"\n'))

    result = mrumonitor("run", "--config", str(config), cwd=tmp_path)
    assert_no_traceback(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    run = resolve_run(tmp_path / "layers")
    concessions = pq.read_table(run / "concessions.parquet")
    concessions.validate(full=True)
    assert "Société minière de Kono" in concessions.column("holder").to_pylist()
    warnings = [w for w in read_manifest(run)["warnings"] if w["stage"] == "ingest"]
    assert [w["subject"] for w in warnings] == [str(tmp_path / "gin.geojson")]
    assert "only 1 of 3 records could be used" in warnings[0]["message"]
    shown = mrumonitor("runs", "show", "--config", str(config), cwd=tmp_path)
    assert shown.returncode == 0 and "only 1 of 3 records could be used" in " ".join(shown.stdout.split())


# --- damaged files of every format: the project's error or a complete ingest, never another exception -------

def _write_format(fmt, tmp_path):
    frame = sle_licences(30)
    if fmt == "csv":
        table = pd.DataFrame(frame.drop(columns="geometry")).assign(WKT=frame.geometry.to_wkt())
        table.to_csv(tmp_path / "sle.csv", index=False)
        return "sle.csv", CSV_WKT, ["sle.csv"]
    if fmt == "shapefile":
        _shapefile(tmp_path, 30)
        return "sle.shp", {}, ["sle.shp", "sle.dbf", "sle.shx"]
    file = {"gpkg": "sle.gpkg", "flatgeobuf": "sle.fgb", "geojson": "sle.geojson"}[fmt]
    frame.to_file(tmp_path / file, driver={"gpkg": "GPKG", "flatgeobuf": "FlatGeobuf", "geojson": "GeoJSON"}[fmt])
    return file, {"format": f'"{fmt}"'}, [file]


def _damage(data: bytes, rng: np.random.Generator) -> bytes:
    data = bytearray(data)
    how = rng.integers(3)
    if how == 0:  # random bytes here and there
        at = rng.integers(len(data), size=rng.integers(1, 20))
        data = np.frombuffer(bytes(data), np.uint8).copy()
        data[at] = rng.integers(256, size=len(at))
        return data.tobytes()
    if how == 1:  # cut short
        return bytes(data[:rng.integers(len(data))])
    at = int(rng.integers(len(data)))  # a block of zeros
    data[at:at + 64] = bytes(len(data[at:at + 64]))
    return bytes(data)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["shapefile", "gpkg", "flatgeobuf", "geojson", "csv"])
def test_damaged_files_end_in_the_projects_error_or_a_complete_ingest(fmt, tmp_path, sle_settings, outlines):
    """Seeded random damage (bytes changed, file cut, zeros): before issue 14, IndexError and UnicodeDecodeError
    escaped from damaged FlatGeobuf files, and a zeroed .shx entry turned licences into 'no geometry'."""
    rng = np.random.default_rng(14)
    for attempt in range(12):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        file, overrides, parts = _write_format(fmt, folder)
        target = folder / parts[rng.integers(len(parts))]
        target.write_bytes(_damage(target.read_bytes(), rng))
        settings = sle_settings(str(folder / file), **overrides)
        try:
            result = ingest_sources(settings, outlines=outlines)
        except MruError as error:
            assert_no_traceback(str(error))
            continue
        _assert_nothing_lost(result, int(result.report["read"].iloc[0]))
        write_ingest(result, folder / "out")


@pytest.mark.slow
def test_ingest_command_refuses_an_output_folder_inside_a_file(tmp_path):
    _shapefile(tmp_path)
    (tmp_path / "out").write_text("a file, not a folder", encoding="utf-8")
    config = _cli_config(tmp_path, "sle.shp")
    result = mrumonitor("ingest", "--config", str(config), "--source", "sle", "--out", str(tmp_path / "out" / "x"),
                        cwd=tmp_path)
    assert_refused(result, "the ingested layers cannot be written there (Not a directory)", "writable folder")
