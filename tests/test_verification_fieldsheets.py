"""Field sheets of a sample (verification.fieldsheets), read back as a field team's devices read them: GDAL opens
the GPX waypoints and the KML placemarks, the printed list holds every site and fetches nothing."""

from __future__ import annotations

import json
import re

import pandas as pd
import pyogrio
import pytest

from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.errors import VerificationError
from mrumonitor.reference.places import PLACES_CREDIT
from mrumonitor.verification.design import STRATUM_COLUMNS, UNIT_COLUMNS, SampleDesign
from mrumonitor.verification.fieldsheets import dms, write_field_sheets

pytestmark = pytest.mark.unit

HOSTILE_ID = 'MS-<script>alert("id")</script>'
HOSTILE_PLACE = "<script>alert(1)</script>Koidu, 3.2 km NE"
CAVEATS = ["The national cadastres are SYNTHETIC demo data: fictitious licences and holders.", DETECTIONS_CREDIT]


def design() -> SampleDesign:
    """Three sites in two strata (no_licence drawn in the order 1, 2; registered 1), one with hostile text."""
    units = pd.DataFrame({
        "site_id": ["MS-a", HOSTILE_ID, "MS-c"], "stratum": ["no_licence", "no_licence", "registered"],
        "draw": [1, 2, 1], "country": ["SLE", "SLE", "GIN"],
        "registration": ["no_licence", "no_licence", "registered"], "licence_id": [None, None, "PEA/2018/0218"],
        "area_ha": [12.25, 3.0, 40.0], "lon": [-10.971234, -11.5, -9.25], "lat": [8.641111, 8.0, 10.75],
        "nearest_place": [HOSTILE_PLACE, "", "Kankan, 20.1 km SW"],
        "nearest_crossing": ["Gbalamuya (SLE-GIN-01), 12.5 km", "", "Gbéléban (CIV-GIN-02), 90.0 km"],
    }).astype(UNIT_COLUMNS)
    strata = pd.DataFrame({"stratum": ["no_licence", "registered"], "registration": ["no_licence", "registered"],
                           "population": [40, 9], "mapped_ha": [400.0, 300.0], "allocated": [2, 1]})
    return SampleDesign(sample_id="S20261205T101500Z-3f2a", run_id="20261201T080000Z-ab12", period="2026H1",
                        strata_by=("registration",), n=3, seed=7, min_per_stratum=1,
                        allocation="Each stratum gets min(its sites, 1) sites and the rest by mapped area.",
                        created="2026-12-05T10:15:00Z", created_by="tester",
                        strata=strata.astype({**STRATUM_COLUMNS, "registration": "string"}), units=units)


@pytest.fixture
def sheets(tmp_path):
    return write_field_sheets(design(), tmp_path / "sheets", CAVEATS)


def test_every_sheet_is_written_under_the_sample_id(sheets, tmp_path):
    assert sorted(sheets) == ["csv", "geojson", "gpx", "html", "kml"]
    assert {path.name for path in sheets.values()} == {f"S20261205T101500Z-3f2a.{kind}" for kind in sheets}
    assert sorted(path.name for path in (tmp_path / "sheets").iterdir()) == sorted(p.name for p in sheets.values())


def test_gdal_reads_the_gpx_waypoints_back(sheets):
    waypoints = pyogrio.read_dataframe(sheets["gpx"], layer="waypoints")
    assert waypoints["name"].tolist() == ["MS-a", HOSTILE_ID, "MS-c"]
    assert waypoints.geometry.x.tolist() == [-10.971234, -11.5, -9.25]
    assert waypoints.geometry.y.tolist() == [8.641111, 8.0, 10.75]
    first = waypoints.iloc[0]
    assert first["desc"] == ("stratum no_licence; 12.2 ha; licence on record: none; nearest town: "
                             f"{HOSTILE_PLACE}; nearest crossing: Gbalamuya (SLE-GIN-01), 12.5 km")
    assert "licence on record: PEA/2018/0218" in waypoints.iloc[2]["desc"]
    assert "nearest town: -" in waypoints.iloc[1]["desc"]
    assert first["cmt"] == "sample S20261205T101500Z-3f2a, no_licence #1" and first["sym"] == "Flag, Blue"


def test_gdal_reads_the_kml_placemarks_back(sheets):
    placemarks = pyogrio.read_dataframe(sheets["kml"])
    names = {"Name", "name"} & set(placemarks.columns)
    assert placemarks[names.pop()].tolist() == ["MS-a", HOSTILE_ID, "MS-c"]
    assert placemarks.geometry.x.round(6).tolist() == [-10.971234, -11.5, -9.25]
    assert placemarks.geometry.y.round(6).tolist() == [8.641111, 8.0, 10.75]
    description = placemarks[{"Description", "description"}.intersection(placemarks.columns).pop()]
    assert description.str.contains("stratum no_licence").sum() == 2


def test_geojson_and_csv_hold_every_unit_column(sheets):
    collection = json.loads(sheets["geojson"].read_text(encoding="utf-8"))
    assert "crs" not in collection  # RFC 7946: WGS84 implied
    properties = collection["features"][1]["properties"]
    assert set(UNIT_COLUMNS) <= set(properties) and properties["site_id"] == HOSTILE_ID
    assert collection["features"][0]["geometry"]["coordinates"] == [-10.971234, 8.641111]
    table = pd.read_csv(sheets["csv"], keep_default_na=False)
    assert list(table.columns) == list(UNIT_COLUMNS) and table["site_id"].tolist() == ["MS-a", HOSTILE_ID, "MS-c"]


def test_the_printed_list_holds_every_site_and_fetches_nothing(sheets):
    page = sheets["html"].read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Koidu, 3.2 km NE" in page
    assert "MS-&lt;script&gt;alert(&#34;id&#34;)&lt;/script&gt;" in page
    assert "MS-a" in page and "MS-c" in page
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", page, flags=re.IGNORECASE)
    assert not re.search(r"<link|@import|<img|src=", page, flags=re.IGNORECASE)
    assert "size: A4" in page and "@media print" in page
    # the header: sample, run, period, the rule, the number of sites
    for text in ("S20261205T101500Z-3f2a", "20261201T080000Z-ab12", "2026H1", "3 in 2 strata",
                 "Each stratum gets min(its sites, 1) sites"):
        assert text in page
    # the footer: the caveats given and the credits, each once
    assert CAVEATS[0] in page and page.count(DETECTIONS_CREDIT) == 1 and PLACES_CREDIT in page


def test_one_table_per_stratum_in_draw_order_with_boxes_to_fill(sheets):
    page = sheets["html"].read_text(encoding="utf-8")
    tables = pd.read_html(sheets["html"], keep_default_na=False)
    assert [len(table) for table in tables] == [2, 1]
    first = tables[0]
    assert first["#"].tolist() == [1, 2] and first["site id"].tolist() == ["MS-a", HOSTILE_ID]
    assert first["DMS"].iloc[0] == "8°38'28.0\"N 10°58'16.4\"W"
    assert first["lat, lon"].iloc[0] == "8.641111, -10.971234"
    assert first["licence on record"].tolist() == ["", ""] and tables[1]["licence on record"].iloc[0] == "PEA/2018/0218"
    assert (first[["date", "outcome", "notes"]] == "").all().all()
    assert page.index("Stratum no_licence") < page.index("Stratum registered")


@pytest.mark.parametrize(("value", "positive", "negative", "expected"), [
    (8.5, "N", "S", "8°30'00.0\"N"),
    (-10.971234, "E", "W", "10°58'16.4\"W"),
    (7.99999999, "N", "S", "8°00'00.0\"N"),  # 59.99996 s round up to the next degree, never to 60.0 s
    (-0.5, "N", "S", "0°30'00.0\"S"),
])
def test_degrees_minutes_seconds(value, positive, negative, expected):
    assert dms(value, positive, negative) == expected


@pytest.mark.hostile
def test_a_folder_that_cannot_be_written_is_a_plain_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(VerificationError, match="cannot be written.*Choose a folder you can write to"):
        write_field_sheets(design(), blocker, CAVEATS)
    assert blocker.read_text(encoding="utf-8") == "not a folder"
