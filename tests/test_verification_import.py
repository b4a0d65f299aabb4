"""Importing field form submissions: ODK Central CSV, KoboToolbox CSV (';', French labels) and XLSX, GeoJSON;
bad rows refused with their reason and fix, repeated visits kept, duplicates recognised, hostile files refused
with a message and nothing written — through `verify import` as a person runs it."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hostile import TRACEBACK_MARKS
from openpyxl import Workbook

from mrumonitor.config import load_settings
from mrumonitor.runfolder import RunFolder
from mrumonitor.store.runs import LATEST_FILE, runs_dir
from mrumonitor.verification import submissions
from mrumonitor.verification.form_commands import import_visits
from mrumonitor.verification.ledger import Ledger
from mrumonitor.verification.submissions import import_submissions, read_submissions

RUN_ID = "20261201T000000Z-abcd"
#: The run's sites: id -> (country, lon, lat of the centre of a 200 m square footprint, merged_into).
SITES = {
    "SLE-000001": ("SLE", -11.10, 8.70, None),
    "SLE-000002": ("SLE", -11.00, 8.70, None),
    "GIN-000003": ("GIN", -10.00, 9.50, "GIN-000004"),  # merged into GIN-000004 in a later period
    "GIN-000004": ("GIN", -10.05, 9.50, None),
}
ODK_HEADER = ["SubmissionDate", "site_id", "site_other", "visit_date", "team", "outcome", "commodity_seen",
              "licence_seen", "notes", "location-Latitude", "location-Longitude", "location-Altitude",
              "location-Accuracy", "photo_1", "photo_2", "photo_3", "meta-instanceID", "meta-instanceName", "KEY",
              "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState",
              "DeviceID", "Edits", "FormVersion"]
KOBO_HEADER = ["start", "end", "grp_site/site_id", "grp_site/site_other", "visit_date", "team", "outcome",
               "commodity_seen", "licence_seen", "notes", "location", "_location_latitude", "_location_longitude",
               "_location_altitude", "_location_precision", "photo_1", "photo_1_URL", "photo_2", "photo_3", "_id",
               "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by", "__version__",
               "_tags", "_index"]


@pytest.fixture
def config(tmp_path):
    """A configuration whose store holds one published run with the four `SITES`."""
    settings_file = tmp_path / "mrumonitor.toml"
    settings_file.write_text('[paths]\nstore = "store"\n', encoding="utf-8")
    settings = load_settings(settings_file)
    centres = gpd.GeoSeries(gpd.points_from_xy([s[1] for s in SITES.values()], [s[2] for s in SITES.values()]),
                            crs=4326).to_crs(settings.analysis_crs)
    sites = gpd.GeoDataFrame({"site_id": list(SITES), "country": [s[0] for s in SITES.values()],
                              "merged_into": [s[3] for s in SITES.values()]},
                             geometry=shapely.buffer(centres.to_numpy(), 100, cap_style="square"),
                             crs=settings.analysis_crs).astype({"site_id": "string", "country": "string",
                                                                "merged_into": "string"})
    run = RunFolder(runs_dir(settings.paths.store) / RUN_ID)
    run.path.mkdir(parents=True)
    sites.to_parquet(run.layer("sites"))
    (runs_dir(settings.paths.store) / LATEST_FILE).write_text(RUN_ID + "\n")
    return settings_file


def odk_row(instance: str, site: str, day: str = "2026-11-20", **fields: str) -> dict[str, str]:
    """An ODK Central CSV row of a visit at the centre of `site` (fields override any column)."""
    _, lon, lat, _ = SITES.get(site, ("", -11.1, 8.7, None))
    row = dict.fromkeys(ODK_HEADER, "")
    row.update({"SubmissionDate": f"{day}T16:02:11.000Z", "site_id": site, "visit_date": day, "team": "Équipe Kono",
                "outcome": "active_mining", "commodity_seen": "diamond", "location-Latitude": f"{lat:.6f}",
                "location-Longitude": f"{lon:.6f}", "location-Altitude": "312", "location-Accuracy": "4.8",
                "photo_1": "1700000000000.jpg", "meta-instanceID": instance, "meta-instanceName": f"{site}-{day}",
                "KEY": instance, "SubmitterID": "12", "SubmitterName": "kono-phone-1", "AttachmentsPresent": "1",
                "AttachmentsExpected": "1", "DeviceID": "collect:abc", "Edits": "0", "FormVersion": "20261205101500"})
    row.update(fields)
    return row


def write_csv(path, header: list[str], rows: list[dict], delimiter: str = ",", encoding: str = "utf-8"):
    with open(path, "w", newline="", encoding=encoding) as f:
        writer = csv.DictWriter(f, header, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def import_file(config, path, *args: str):
    """`verify import PATH` in a terminal 200 columns wide (rich wraps table cells to the terminal's width)."""
    return CliRunner(env={"COLUMNS": "200"}).invoke(import_visits, [str(path), "--config", str(config), "--by",
                                                                    "agent.sle", *args])


def ledger_of(config) -> Ledger:
    return Ledger(load_settings(config).ledger)


def said(result) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.mark.unit
def test_an_odk_central_export_is_imported_with_repeats_and_unknown_sites(config, tmp_path):
    export = write_csv(tmp_path / "mrumonitor_S1.csv", ODK_HEADER, [
        odk_row("uuid:a1", "SLE-000001", notes="pit with 12 diggers"),
        odk_row("uuid:a2", "SLE-000001", "2026-11-25", outcome="inactive_mining"),  # a second visit of the site
        odk_row("uuid:a3", "other", site_other="SLE-000002", outcome="not_mining", commodity_seen="none",
                **{"location-Latitude": "8.7001", "location-Longitude": "-11.0001"}),
        odk_row("uuid:a4", "SLE-999999"),
        odk_row("uuid:a5", "GIN-000003", commodity_seen="gold", **{"location-Latitude": "", "location-Longitude": ""}),
        odk_row("uuid:a1", "SLE-000001", notes="sent twice from the phone"),
    ])

    result = import_file(config, export)

    assert result.exit_code == 0, result.output
    # read, added, already in the ledger, rejected, sites visited more than once
    assert re.search(r"│\s+6 │\s+4 │\s+1 │\s+1 │\s+1 │", result.output), result.output
    visits = ledger_of(config).visits()
    assert visits["visit_id"].tolist() == ["uuid:a1", "uuid:a2", "uuid:a3", "uuid:a5"]
    assert visits["site_id"].tolist() == ["SLE-000001", "SLE-000001", "SLE-000002", "GIN-000003"]
    assert visits["country"].tolist() == ["SLE", "SLE", "SLE", "GIN"]  # the merged-away site under its own id
    assert visits["outcome"].tolist() == ["active_mining", "inactive_mining", "not_mining", "active_mining"]
    assert visits["visited_on"].dt.strftime("%Y-%m-%d").tolist() == ["2026-11-20", "2026-11-25", "2026-11-20",
                                                                      "2026-11-20"]
    first = visits.iloc[0]
    assert (first["team"], first["notes"], first["commodity_seen"]) == ("Équipe Kono", "pit with 12 diggers",
                                                                         "diamond")
    assert (round(first["lon"], 2), round(first["lat"], 2)) == (-11.10, 8.70)
    assert json.loads(first["photos"]) == ["1700000000000.jpg"]
    assert pd.isna(visits.iloc[3]["lon"])  # a visit without a GPS point is accepted
    assert set(visits["entered_by"]) == {"agent.sle"} and set(visits["source"]) == {"import mrumonitor_S1.csv"}
    rejected = ledger_of(config).rejected()
    assert rejected[["row", "site_id", "reason"]].values.tolist() == [[4, "SLE-999999", "unknown_site"]]
    assert json.loads(rejected["attributes"][0])["meta-instanceID"] == "uuid:a4"  # the row as it came
    text = said(result)
    assert "site SLE-999999 is not a site of run 20261201T000000Z-abcd" in text
    assert "visited more than once" in text and "SLE-000001 (2)" in text


@pytest.mark.unit
def test_every_row_is_accounted_for_and_a_second_import_adds_nothing(config, tmp_path):
    export = write_csv(tmp_path / "odk.csv", ODK_HEADER, [
        odk_row("uuid:b1", "SLE-000001"), odk_row("uuid:b2", "SLE-000002"), odk_row("uuid:b3", "SLE-000002",
                                                                                   outcome="maybe")])
    settings = load_settings(config)

    first = import_submissions(export, settings, "agent.sle")
    second = import_submissions(export, settings, "agent.sle")

    assert (first.read, first.added, first.duplicates, len(first.rejected)) == (3, 2, 0, 1)
    assert (second.read, second.added, second.duplicates, len(second.rejected)) == (3, 0, 2, 1)
    assert len(ledger_of(config).visits()) == 2
    assert len(ledger_of(config).rejected()) == 1  # the same refused row is not recorded twice
    assert CliRunner().invoke(import_visits, [str(export), "--config", str(config), "--by", "x"]).exit_code == 0


#: A bad row (fields of `odk_row` to override) and the reason it is refused with.
BAD_ROWS = [
    ({"site_id": ""}, "missing_site_id", "fill in the id of the site"),
    ({"site_id": "other", "site_other": ""}, "missing_site_id", "fill in the id of the site"),
    ({"visit_date": "20/13/2026"}, "bad_date", "is not a date"),
    ({"visit_date": (dt.date.today() + dt.timedelta(days=3)).isoformat()}, "bad_date", "is in the future"),
    ({"visit_date": "1999-12-31"}, "bad_date", "is before 2000"),
    ({"outcome": "maybe"}, "bad_outcome", "'maybe' is not one of active_mining"),
    ({"commodity_seen": "copper"}, "bad_commodity", "'copper' is not one of diamond"),
    ({"team": "  "}, "missing_team", "fill in the team"),
    ({"location-Latitude": "8°42'N"}, "bad_gps", "is not a coordinate"),
    ({"location-Latitude": "95.0"}, "bad_gps", "is not a coordinate"),
    ({"location-Latitude": "8.745"}, "gps_far_from_site",
     "the GPS point is 4.9 km from the footprint of site SLE-000001 (at most 2 km"),
    ({"site_id": "SLE-000404"}, "unknown_site", "site SLE-000404 is not a site of run"),
    ({"ReviewState": "rejected"}, "rejected_in_review", "approve it there"),
]


@pytest.mark.unit
@pytest.mark.parametrize(("fields", "reason", "detail"), BAD_ROWS, ids=[f"{r[1]}-{i}" for i, r in enumerate(BAD_ROWS)])
def test_a_bad_row_is_refused_with_its_reason_and_fix(config, tmp_path, fields, reason, detail):
    export = write_csv(tmp_path / "odk.csv", ODK_HEADER, [odk_row("uuid:ok", "SLE-000001"),
                                                          odk_row("uuid:bad", "SLE-000001", **fields)])

    report = import_submissions(export, load_settings(config), "agent.sle")

    assert (report.read, report.added, report.duplicates) == (2, 1, 0)
    refused = report.rejected.iloc[0]
    assert (len(report.rejected), refused["row"], refused["reason"]) == (1, 2, reason)
    assert detail in refused["detail"]
    assert refused["detail"].endswith(".")  # a sentence that ends with what to do
    assert ledger_of(config).rejected()["reason"].tolist() == [reason]


@pytest.mark.unit
def test_a_kobo_csv_with_semicolons_groups_and_french_labels(config, tmp_path):
    def kobo_row(uuid: str, site: str, outcome: str, commodity: str, location: str, **fields: str) -> dict:
        row = dict.fromkeys(KOBO_HEADER, "")
        row.update({"start": "2026-11-20T08:01:00.000+00:00", "grp_site/site_id": site, "visit_date": "2026-11-20",
                    "team": "Équipe Siguiri", "outcome": outcome, "commodity_seen": commodity, "location": location,
                    "_id": "48213", "_uuid": uuid, "_submission_time": "2026-11-20T17:22:04", "__version__": "vX"})
        row.update(fields)
        return row

    label = "SLE-000002 · près de Koidu 3 km · 8.70000, -11.00000"  # Kobo's "labels" export gives the choice label
    export = write_csv(tmp_path / "kobo.csv", KOBO_HEADER, [
        kobo_row("0f4c-1", "SLE-000001", "Exploitation active", "Or", "8.7 -11.1 312 4.5",
                 _location_latitude="8.7", _location_longitude="-11.1"),
        kobo_row("0f4c-2", label, "Pas d'exploitation (fausse détection)", "Aucun (rien n'est exploité)",
                 "8.7 -11.0 300 5"),
        kobo_row("0f4c-3", "Un autre site, absent de la liste", "Exploitation sous licence", "Diamant", "",
                 **{"grp_site/site_other": "GIN-000004", "licence_seen": "GIN/PEA/2019/0042"}),
        kobo_row("0f4c-4", "SLE-000001", "Exploitation fermée", "Or", ""),
        kobo_row("0f4c-5", "SLE-000001", "Exploitation active", "Or", "",
                 _validation_status="validation_status_not_approved"),
    ], delimiter=";")

    result = import_file(config, export)

    assert result.exit_code == 0, result.output
    visits = ledger_of(config).visits()
    assert visits["visit_id"].tolist() == ["uuid:0f4c-1", "uuid:0f4c-2", "uuid:0f4c-3"]
    assert visits["site_id"].tolist() == ["SLE-000001", "SLE-000002", "GIN-000004"]
    assert visits["outcome"].tolist() == ["active_mining", "not_mining", "licensed"]
    assert visits["commodity_seen"].tolist() == ["gold", "none", "diamond"]
    assert visits["licence_seen"].tolist()[2] == "GIN/PEA/2019/0042"
    assert (visits["lat"].round(2).tolist()[:2], visits["lon"].round(2).tolist()[:2]) == ([8.7, 8.7], [-11.1, -11.0])
    assert ledger_of(config).rejected()["reason"].tolist() == ["bad_outcome", "rejected_in_review"]


@pytest.mark.unit
def test_a_kobo_xlsx_export(config, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["grp/site_id", "visit_date", "team", "outcome", "commodity_seen", "notes", "location",
                  "_location_latitude", "_location_longitude", "_uuid", "_id"])
    sheet.append(["SLE-000001", dt.datetime(2026, 11, 20), "Team Kono", "Active mining", "Diamond",
                  "=1+1", "8.7 -11.1 312 4.5", 8.7, -11.1, "c0ffee-1", 48213])
    sheet.append(["SLE-000002", "2026-11-21", "Team Kono", "inaccessible", None, None, None, None, None, "c0ffee-2",
                  48214])
    book.save(tmp_path / "kobo.xlsx")

    result = import_file(config, tmp_path / "kobo.xlsx")

    assert result.exit_code == 0, result.output
    visits = ledger_of(config).visits()
    assert visits["visit_id"].tolist() == ["uuid:c0ffee-1", "uuid:c0ffee-2"]
    assert visits["visited_on"].dt.strftime("%Y-%m-%d").tolist() == ["2026-11-20", "2026-11-21"]
    assert visits["outcome"].tolist() == ["active_mining", "inaccessible"]
    assert visits["notes"].tolist()[0] == "=1+1"  # a formula cell is kept as the text it is, never evaluated


@pytest.mark.unit
def test_geojson_exports_of_odk_central_and_kobo(config, tmp_path):
    central = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "uuid:g1", "geometry": {"type": "Point", "coordinates": [-11.1, 8.7, 312]},
         "properties": {"site_id": "SLE-000001", "visit_date": "2026-11-20", "team": "T1", "outcome": "licensed",
                        "commodity_seen": "diamond", "meta": {"instanceID": "uuid:g1"}}},
        {"type": "Feature", "id": "uuid:g2", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
         "properties": {"site_id": "SLE-000002", "visit_date": "2026-11-20", "team": "T1", "outcome": "licensed",
                        "commodity_seen": "diamond", "meta": {"instanceID": "uuid:g2"}}},
    ]}
    kobo = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-10.05, 9.5]},
         "properties": {"grp/site_id": "GIN-000004", "visit_date": "2026-11-22", "team": "T2",
                        "outcome": "Exploitation active", "commodity_seen": "Or", "_uuid": "k1", "_id": 9,
                        "_location_latitude": float("nan")}}]}
    (tmp_path / "central.geojson").write_text(json.dumps(central), encoding="utf-8")
    (tmp_path / "kobo.geojson").write_text(json.dumps(kobo), encoding="utf-8")

    assert import_file(config, tmp_path / "central.geojson").exit_code == 0
    assert import_file(config, tmp_path / "kobo.geojson").exit_code == 0

    visits = ledger_of(config).visits()
    assert visits["visit_id"].tolist() == ["uuid:g1", "uuid:k1"]
    assert visits["country"].tolist() == ["SLE", "GIN"] and visits["lon"].tolist() == [-11.1, -10.05]
    rejected = ledger_of(config).rejected()
    assert rejected[["file", "row", "reason"]].values.tolist() == [["central.geojson", 2, "bad_gps"]]


@pytest.mark.unit
def test_read_submissions_keeps_the_export_row_and_stable_ids_without_instance_ids(tmp_path):
    header = ["site_id", "visit_date", "team", "outcome", "commodity_seen"]
    export = write_csv(tmp_path / "plain.csv", header, [
        {"site_id": "SLE-000001", "visit_date": "2026-11-20", "team": "T", "outcome": "not_mining",
         "commodity_seen": ""}])

    first, again = read_submissions(export), read_submissions(export)

    assert first.visits["row"].tolist() == [1] and first.rejected.empty
    assert first.visits["visit_id"][0].startswith("row:") and first.visits["visit_id"].equals(again.visits["visit_id"])
    assert pd.isna(first.visits["commodity_seen"][0])


def _zip_as_xlsx(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")


#: A file that cannot be used at all, and what the message says.
HOSTILE_FILES = [
    ("missing.csv", None, "file not found"),
    ("visits.txt", lambda p: p.write_text("site_id\nSLE-000001\n"), "is not a CSV, XLSX or GeoJSON file"),
    ("visits.xlsx", _zip_as_xlsx, "is not a readable XLSX workbook"),
    ("visits.xlsx", lambda p: p.write_bytes(b"PK\x03\x04 garbage"), "is not a readable zip archive"),
    ("visits.csv", lambda p: p.write_text("team,outcome\nT,not_mining\n"), "has no site_id column"),
    ("visits.csv", lambda p: p.write_text("site_id,team\n"), "holds no submissions"),
    ("visits.csv", lambda p: p.write_bytes(b""), "is not a readable CSV"),
    ("visits.csv", lambda p: p.write_bytes("site_id,team\nSLE-000001,Équipe\n".encode("cp1252")), "is not UTF-8"),
    ("visits.csv", lambda p: p.write_text('site_id,team\n"SLE-000001,T\n'), "is not a readable CSV"),
    ("visits.geojson", lambda p: p.write_text('{"type": "FeatureCollection", "features": [{"type": "Fea'),
     "is not readable JSON"),
    ("visits.geojson", lambda p: p.write_text('{"type": "Feature"}'), "is not a GeoJSON FeatureCollection"),
    ("visits.geojson", lambda p: p.write_text("[" * 100_000 + "]" * 100_000), "is not readable JSON"),
]


@pytest.mark.unit
@pytest.mark.hostile
@pytest.mark.parametrize(("name", "write", "message"), HOSTILE_FILES,
                         ids=[f"{i}-{case[2].split()[-1]}" for i, case in enumerate(HOSTILE_FILES)])
def test_a_file_that_cannot_be_used_is_refused_and_nothing_is_written(config, tmp_path, name, write, message):
    path = tmp_path / name
    if write:
        write(path)

    result = import_file(config, path)

    assert result.exit_code == 2, result.output
    assert said(result).startswith(f"error: {path}: ") and message in said(result) and "Fix:" in said(result)
    assert not load_settings(config).ledger.exists()


@pytest.mark.unit
@pytest.mark.hostile
def test_files_over_the_size_and_row_caps_are_refused(config, tmp_path, monkeypatch):
    export = write_csv(tmp_path / "odk.csv", ODK_HEADER, [odk_row(f"uuid:{i}", "SLE-000001") for i in range(5)])
    monkeypatch.setattr(submissions, "MAX_ROWS", 3)
    assert "holds more than 3 rows" in said(import_file(config, export))
    monkeypatch.setattr(submissions, "MAX_BYTES", 1000)
    assert "an export is read up to 0 MB" in said(import_file(config, export))
    book = Workbook()
    book.active.append(["site_id", "notes"])
    book.active.append(["SLE-000001", "x" * 30_000])
    book.save(tmp_path / "big.xlsx")
    monkeypatch.setattr(submissions, "MAX_BYTES", 10**6)
    monkeypatch.setattr(submissions, "MAX_XLSX_UNPACKED_BYTES", 20_000)
    assert "would unpack to 0 MB (at most 0 MB are read)" in said(import_file(config, tmp_path / "big.xlsx"))
    assert not load_settings(config).ledger.exists()


@pytest.mark.unit
@pytest.mark.hostile
def test_formula_and_markup_cells_stay_the_text_they_are(config, tmp_path):
    formula = "=cmd|' /C calc'!A0"
    export = write_csv(tmp_path / "odk.csv", ODK_HEADER, [
        odk_row("uuid:f1", "SLE-000001", notes=formula, licence_seen="+SUM(A1:A9)"),
        odk_row("uuid:f2", "[bold red]SLE-000001[/]")])

    result = import_file(config, export)

    assert result.exit_code == 0
    visit = ledger_of(config).visits().iloc[0]
    assert (visit["notes"], visit["licence_seen"]) == (formula, "+SUM(A1:A9)")
    assert "site [bold red]SLE-000001[/] is not a site" in said(result)  # shown as typed, not as rich markup


@pytest.mark.integration
@pytest.mark.slow
def test_the_command_on_its_own_exits_1_when_every_row_is_refused_and_never_shows_a_traceback(config, tmp_path):
    refused = write_csv(tmp_path / "odk.csv", ODK_HEADER, [odk_row("uuid:x1", "SLE-404"),
                                                           odk_row("uuid:x2", "SLE-000001", outcome="?")])
    broken = tmp_path / "broken.xlsx"
    _zip_as_xlsx(broken)
    command = "from mrumonitor.verification.form_commands import import_visits; import_visits()"

    def run(path):
        return subprocess.run([sys.executable, "-c", command, str(path), "--config", str(config)],
                              check=False, capture_output=True, text=True, timeout=120,
                              env={"COLUMNS": "200", "USER": "agent"})

    every_row_refused, unusable = run(refused), run(broken)

    assert every_row_refused.returncode == 1, every_row_refused.stderr
    assert "unknown_site" in every_row_refused.stdout and "bad_outcome" in every_row_refused.stdout
    assert unusable.returncode == 2 and "is not a readable XLSX workbook" in unusable.stderr
    for done in (every_row_refused, unusable):
        assert not any(mark in done.stdout + done.stderr for mark in TRACEBACK_MARKS)
    assert set(ledger_of(config).rejected()["entered_by"]) == {"agent"}  # --by defaults to the OS user
