"""Each flaw a national cadastre can carry ends in quarantine with its reason (or is repaired and flagged),
and no record is ever lost: records in = concessions + quarantine."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from conftest import sle_licences, write_zipped_shapefile
from mrumonitor.ingest import ingest_sources

pytestmark = pytest.mark.unit

BOWTIE = shapely.Polygon([(-11.5, 8.5), (-11.4, 8.6), (-11.4, 8.5), (-11.5, 8.6)])


def _set(**changes):
    return lambda record: record.update(changes)


def _swap_lat_lon(record):
    record["geometry"] = shapely.transform(record["geometry"], lambda xy: xy[:, ::-1])


FLAWS = {
    # name: (change to a flawless record, expected outcome, words the detail must contain)
    "flawless": (lambda r: None, "accepted", None),
    "self-intersecting polygon": (_set(geometry=BOWTIE), "repaired", None),
    "polygon collapsed to a line": (_set(geometry=shapely.Polygon([(-11.5, 8.5), (-11.4, 8.5), (-11.3, 8.5)])),
                                    "invalid_geometry", "could not be repaired"),
    "no geometry": (_set(geometry=None), "empty_geometry", "no geometry"),
    "empty geometry": (_set(geometry=shapely.Polygon()), "empty_geometry", "no geometry"),
    "a point instead of a polygon": (_set(geometry=shapely.Point(-11.5, 8.5)), "not_polygon", "is a point"),
    "lat/lon swapped": (_swap_lat_lon, "outside_country", "x and y swapped"),
    "coordinates in another CRS": (_set(geometry=shapely.box(400000, 900000, 401000, 901000)), "outside_country",
                                   "another CRS"),
    "missing licence id": (_set(LICENCE_NO=""), "missing_licence_id", "LICENCE_NO"),
    "unknown licence type": (_set(LIC_TYPE="Mining Lease"), "unknown_licence_type",
                             "'Mining Lease' is not in sources.sle.values.licence_type"),
    "empty licence type": (_set(LIC_TYPE=""), "unknown_licence_type", "(empty)"),
    "unknown commodity": (_set(MINERAL="Coltan"), "unknown_commodity", "'Coltan'"),
    "unknown status": (_set(STATUS="Revoked"), "unknown_status", "'Revoked'"),
    "impossible date": (_set(GRANTED="31/02/2024"), "unparseable_date", "'31/02/2024' (GRANTED) is not a real calendar date"),
    "text in a date": (_set(EXPIRES="N/A"), "unparseable_date", "'N/A'"),
    "expiry before grant": (_set(GRANTED="01/06/2025", EXPIRES="01/06/2024"), "expiry_before_grant",
                            "2024-06-01 is before grant date 2025-06-01"),
    "terms in other case, accents and spacing": (_set(LIC_TYPE="  artisanal   MINING licence", MINERAL="DIAMONDS"),
                                                 "accepted", None),
    "empty status and dates": (_set(STATUS="", GRANTED="", EXPIRES=""), "accepted", None),
}


def _ingest(records, tmp_path, sle_settings, outlines, batch_size=5000):
    frame = gpd.GeoDataFrame(records, crs=4326)
    frame.to_file(tmp_path / "sle.geojson", driver="GeoJSON")
    settings = sle_settings("sle.geojson", format='"geojson"')
    settings = settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"batch_size": batch_size})})
    return ingest_sources(settings, outlines=outlines)


@pytest.mark.parametrize("flaw", FLAWS, ids=list(FLAWS))
def test_flaw_gets_its_outcome(flaw, tmp_path, sle_settings, outlines):
    change, expected, words = FLAWS[flaw]
    record = sle_licences(1).iloc[0].to_dict()
    change(record)
    result = _ingest([record], tmp_path, sle_settings, outlines)

    if expected in ("accepted", "repaired"):
        assert len(result.concessions) == 1 and len(result.quarantine) == 0
        licence = result.concessions.iloc[0]
        assert licence["geometry_repaired"] == (expected == "repaired")
        assert licence.geometry.is_valid and licence.geometry.geom_type == "MultiPolygon"
    else:
        assert len(result.concessions) == 0
        row = result.quarantine.iloc[0]
        assert (row["reason"], row["source_row"], row["source_name"]) == (expected, 1, "sle")
        assert row["source_file"].endswith("sle.geojson")
        assert words in row["detail"]
        assert json.loads(row["attributes"])["HOLDER"] == "Coopérative de Guéckédou"  # nothing lost


def test_repaired_bowtie_keeps_both_lobes():
    # the bow-tie of FLAWS has two triangles of 0.0025 square degrees each
    assert shapely.make_valid(BOWTIE, method="structure").area == pytest.approx(0.005)


def test_polygon_in_a_neighbouring_utm_zone_is_caught(tmp_path, sle_settings, outlines):
    """UTM 30N coordinates in a file that declares UTM 29N land hundreds of km away."""
    to_30n = Transformer.from_crs(4326, 32630, always_xy=True)
    frame = sle_licences(2)
    frame.loc[1, "geometry"] = shapely.transform(frame.geometry[1], to_30n.transform, interleaved=False)
    frame.loc[0, "geometry"] = frame.to_crs(32629).geometry[0]
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=32629)
    write_zipped_shapefile(frame, tmp_path / "sle.zip")
    result = ingest_sources(sle_settings("sle.zip"), outlines=outlines)
    assert list(result.concessions["licence_id"]) == ["SL-AML-0001"]
    assert result.quarantine["reason"].tolist() == ["outside_country"]
    assert "EPSG:32629" in result.quarantine["detail"].iloc[0]


def test_duplicates_identical_copies_collapse_conflicting_ones_all_go(tmp_path, sle_settings, outlines):
    records = sle_licences(4).to_dict("records")
    records.append(dict(records[1]))  # exact copy of row 2 -> row 5
    conflict = dict(records[2], HOLDER="Another holder")  # same id as row 3, other holder -> row 6
    records.append(conflict)
    records.append(dict(records[3], LICENCE_NO=" sl-aml-0004 "))  # row 7: same id once trimmed, same content
    result = _ingest(records, tmp_path, sle_settings, outlines, batch_size=2)

    assert sorted(result.concessions["source_row"]) == [1, 2, 4]
    reasons = result.quarantine.set_index("source_row")["reason"].sort_index()
    assert reasons.to_dict() == {3: "conflicting_licence_id", 5: "duplicate_licence_id",
                                 6: "conflicting_licence_id", 7: "duplicate_licence_id"}
    assert "first listed at sle row 2" in result.quarantine.set_index("source_row").loc[5, "detail"]


def test_records_in_equal_concessions_plus_quarantine(tmp_path, sle_settings, outlines):
    """Every flaw of the table in one file, read in small batches: each row ends up exactly once."""
    records = []
    for change, _, _ in FLAWS.values():
        record = sle_licences(1).iloc[0].to_dict()
        change(record)
        record["LICENCE_NO"] = record["LICENCE_NO"] and f"SL-{len(records):03d}"
        records.append(record)
    result = _ingest(records, tmp_path, sle_settings, outlines, batch_size=3)

    rows = pd.concat([result.concessions["source_row"], result.quarantine["source_row"]])
    assert sorted(rows) == list(range(1, len(records) + 1))
    report = result.report.set_index("source").loc["sle"]
    assert report["read"] == len(records) == report["accepted"] + report["quarantined"]
    expected = pd.Series([outcome for _, outcome, _ in FLAWS.values()]).value_counts()
    assert report["repaired"] == expected["repaired"]
    assert report["accepted"] == expected["accepted"] + expected["repaired"]
    for reason, count in expected.drop(["accepted", "repaired"]).items():
        assert report[reason] == count, reason
