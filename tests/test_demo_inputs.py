"""The demo inputs: four synthetic cadastres in their declared formats, with a ground truth that holds.

The inputs are generated once per module. `_judge` re-derives each record's ingest outcome from the files
alone, with the quarantine rules in their documented order, and must agree with records.csv everywhere:
that is what proves each flaw sits in a record that has no other.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from mrumonitor.config import load_settings
from mrumonitor.demo import DemoInputs, demo_config_text, write_demo_inputs
from mrumonitor.demo.cadastres import CATEGORY_REGISTRATION, STYLES, SYNTHETIC_MARK
from mrumonitor.demo.detections import SURVEY_DATE
from mrumonitor.ingest import ingest_sources
from mrumonitor.ingest.snapshots import current_licences
from mrumonitor.schema import PRODUCTION_LICENCE_TYPES, Reason

pytestmark = pytest.mark.demo

SEED = 2026
SOURCES = ("sle", "gin", "lbr", "civ")
SETTINGS = load_settings()
DRIVERS = {"sle": ("ESRI Shapefile", "EPSG:32629"), "gin": ("GeoJSON", "EPSG:32628"), "lbr": ("GPKG", "EPSG:4326")}


def _generate(workdir: Path, seed: int = SEED) -> DemoInputs:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="demo uses the raw country outlines")
        return write_demo_inputs(workdir, seed=seed)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> DemoInputs:
    return _generate(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def ingested(inputs):
    """The demo inputs through the real ingest, with the committed reference outlines."""
    inputs.config_file.write_text(demo_config_text(inputs), encoding="utf-8")
    return ingest_sources(load_settings(inputs.config_file))


@pytest.fixture(scope="module")
def records_truth(inputs) -> pd.DataFrame:
    return pd.read_csv(inputs.records_truth, dtype=str, keep_default_na=False).astype({"source_row": int})


@pytest.fixture(scope="module")
def detections_truth(inputs) -> pd.DataFrame:
    return pd.read_csv(inputs.detections_truth, dtype={"licence_id": str, "country": str}, keep_default_na=False)


@pytest.fixture(scope="module")
def tables(inputs) -> dict[str, pd.DataFrame]:
    """Each cadastre file as canonical columns: text attributes, `geometry` (shapely, or raw WKT text)."""
    return {name: _read(name, path) for name, path in inputs.cadastres.items()}


def _read(name: str, path: Path) -> pd.DataFrame:
    source = SETTINGS.sources[name]
    fields = {field: canonical for canonical, field in source.fields.model_dump().items() if field}
    fields[STYLES[name].remarks_field] = "remarks"
    if source.format == "csv":
        frame = pd.read_csv(path, sep=source.csv.delimiter, dtype=str, keep_default_na=False, encoding="utf-8")
        geometry = frame.pop(source.csv.wkt)
    else:
        frame = pyogrio.read_dataframe(path, layer=source.layer)
        geometry = frame.pop("geometry")
    frame = frame.rename(columns=fields)
    for column in ("granted", "expires"):
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    frame = frame.astype(object).where(frame.notna(), "").map(lambda v: v if isinstance(v, str) else str(v))
    frame["geometry"] = list(geometry)
    return frame


# --- the files --------------------------------------------------------------------------------------------


def test_cadastre_files_are_where_the_config_says(inputs):
    for name, path in inputs.cadastres.items():
        assert path == inputs.workdir / "inputs" / "cadastre" / SETTINGS.sources[name].file.name
        assert path.is_file()
    assert set(inputs.cadastres) == set(SOURCES)


@pytest.mark.parametrize("name", ["sle", "gin", "lbr"])
def test_spatial_files_open_in_their_declared_format_and_crs(inputs, name):
    source = SETTINGS.sources[name]
    info = pyogrio.read_info(inputs.cadastres[name], layer=source.layer)
    assert (info["driver"], info["crs"]) == DRIVERS[name]
    assert set(source.fields.model_dump().values()) <= set(info["fields"])


def test_gin_geojson_has_a_legacy_crs_member(inputs):
    collection = json.loads(inputs.cadastres["gin"].read_text(encoding="utf-8"))
    assert collection["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32628"


def test_sle_zip_holds_a_utf8_shapefile_and_accents_survive(inputs, tables):
    with zipfile.ZipFile(inputs.cadastres["sle"]) as archive:
        names = archive.namelist()
        cpg = next(n for n in names if n.endswith(".cpg"))
        assert archive.read(cpg).decode().strip().upper() in ("UTF-8", "UTF8")
    assert {Path(n).suffix for n in names} >= {".shp", ".shx", ".dbf", ".prj", ".cpg"}
    assert tables["sle"]["holder"].str.contains("é").any()


def test_lbr_dates_are_real_date_columns(inputs):
    source = SETTINGS.sources["lbr"]
    info = pyogrio.read_info(inputs.cadastres["lbr"], layer=source.layer)
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types[source.fields.granted] == types[source.fields.expires] == "OFTDate"


def test_civ_csv_is_semicolon_utf8_with_wkt_in_utm30(inputs, tables):
    header = inputs.cadastres["civ"].read_text(encoding="utf-8").splitlines()[0]
    assert header.split(";")[-1] == "geometrie_wkt"
    polygons = shapely.from_wkt(tables["civ"]["geometry"], on_invalid="ignore")
    centres = gpd.GeoSeries(polygons, crs="EPSG:32630").dropna().centroid.to_crs(4326)
    assert ((centres.x > -9) & (centres.x < -2)).mean() > 0.9  # UTM 30N metres, not degrees
    assert tables["civ"]["holder"].str.contains("é").any()


def test_every_record_is_marked_synthetic(tables):
    for table in tables.values():
        assert (table["remarks"] == SYNTHETIC_MARK).all()


def test_same_seed_same_files_other_seed_other_files(inputs, tables, tmp_path):
    again = _generate(tmp_path / "again")
    for name in ("gin", "civ"):
        assert again.cadastres[name].read_bytes() == inputs.cadastres[name].read_bytes()
    for name in SOURCES:
        table = _read(name, again.cadastres[name])
        pd.testing.assert_frame_equal(table.drop(columns="geometry"), tables[name].drop(columns="geometry"))
        assert list(map(str, table["geometry"])) == list(map(str, tables[name]["geometry"]))
    assert again.records_truth.read_bytes() == inputs.records_truth.read_bytes()
    assert again.detections_truth.read_bytes() == inputs.detections_truth.read_bytes()
    other = _generate(tmp_path / "other", seed=SEED + 1)
    assert other.cadastres["civ"].read_bytes() != inputs.cadastres["civ"].read_bytes()


# --- ground truth of the records ------------------------------------------------------------------------


def test_records_truth_has_one_row_per_record(records_truth, tables, inputs):
    for name, table in tables.items():
        rows = records_truth[records_truth["source"] == name]
        assert rows["source_row"].tolist() == list(range(1, len(table) + 1))
        assert rows["licence_id"].tolist() == table["licence_id"].tolist()
    assert set(records_truth["source"]) == set(SOURCES) | set(inputs.older)  # with the older SLE export


def test_every_flaw_is_planted(records_truth):
    # unplantable in a licence file, or reasons of detections only
    not_for_licences = {str(Reason.INVALID_GEOMETRY), str(Reason.INVALID_AREA), str(Reason.INVALID_PROBABILITY)}
    wanted = {str(r) for r in Reason} - not_for_licences | {"accepted", "repaired"}
    assert wanted <= set(records_truth["expected"])
    assert set(records_truth["expected"]) <= {str(r) for r in Reason} | {"accepted", "repaired"}
    for name in SOURCES:
        expected = set(records_truth.loc[records_truth["source"] == name, "expected"])
        assert {
            "repaired",
            "outside_country",
            "empty_geometry",
            "missing_licence_id",
            "unknown_status",
            "duplicate_licence_id",
            "conflicting_licence_id",
            "expiry_before_grant",
        } <= expected
    categories = set(records_truth["category"])
    assert {"swapped_coordinates", "wrong_crs", "bow_tie", "point_geometry", "line_geometry"} <= categories


def test_ingest_gives_every_record_its_ground_truth_outcome(ingested, records_truth):
    """The demo inputs ingest with the expected counts: each record's outcome is the planted one."""
    accepted = ingested.concessions.assign(
        expected=np.where(ingested.concessions["geometry_repaired"], "repaired", "accepted"))
    got = pd.concat([accepted[["source_name", "source_row", "expected"]],
                     ingested.quarantine[["source_name", "source_row", "reason"]].rename(columns={"reason": "expected"})])
    got = got.rename(columns={"source_name": "source"}).sort_values(["source", "source_row"], ignore_index=True)
    truth = records_truth[["source", "source_row", "expected"]].sort_values(["source", "source_row"], ignore_index=True)
    pd.testing.assert_frame_equal(got.astype(str), truth.astype(str))
    report = ingested.report.set_index("source")
    assert report.loc["sle", ["read", "accepted", "quarantined"]].tolist() == [173, 154, 19]


def test_spelling_variants_of_terms_are_accepted(tables, records_truth):
    variants = 0
    for name, table in tables.items():
        source = SETTINGS.sources[name]
        accepted = table[records_truth.loc[records_truth["source"] == name, "expected"].isin(["accepted"]).to_numpy()]
        for field in ("licence_type", "commodity", "status"):
            exact = set(getattr(source.values, field))
            variants += (~accepted[field].isin(exact) & (accepted[field] != "")).sum()
    assert variants >= 20


def test_expired_licences_include_one_lapsed_the_day_before_the_survey(ingested, records_truth):
    expired = _with_category(ingested.concessions, records_truth).query("category == 'expired'")
    for country, group in expired.groupby("country"):
        days = set(group["expires"].dt.date)
        assert SURVEY_DATE - dt.timedelta(days=1) in days, country
        assert all(day < SURVEY_DATE for day in days), country


# --- ground truth of the detections --------------------------------------------------------------------


def test_detections_truth_covers_every_detection(detections_truth):
    assert len(detections_truth) == 5026
    assert detections_truth["det_id"].is_unique
    assert set(detections_truth["commodity"]) == {"diamond", "gold"}
    assert (detections_truth["expected_registration"] == detections_truth["category"].map(CATEGORY_REGISTRATION)).all()
    assert set(detections_truth["category"]) == set(CATEGORY_REGISTRATION)
    unlicensed = (detections_truth["category"] == "none").mean()
    assert 0.4 <= unlicensed <= 0.6
    assert (detections_truth.loc[detections_truth["country"] == "", "licence_id"] == "").all()


def test_detections_lie_in_exactly_their_clean_licence(ingested, detections_truth):
    licences = current_licences(ingested.concessions)
    points = gpd.GeoSeries.from_xy(detections_truth["lon"], detections_truth["lat"], crs=4326)
    det, lic = shapely.STRtree(licences.geometry.to_numpy()).query(
        points.to_crs(licences.crs).to_numpy(), predicate="within")
    assert len(np.unique(det)) == len(det), "a detection lies in two accepted licences"
    holder = np.full(len(points), "", dtype=object)
    holder[det] = licences["licence_id"].to_numpy()[lic]
    assert (holder == detections_truth["licence_id"].to_numpy()).all()


def test_planted_licences_match_their_category(ingested, records_truth, detections_truth):
    """Canonical attributes of each licence holding detections agree with the category it was planted as."""
    licences = _with_category(current_licences(ingested.concessions), records_truth)
    merged = detections_truth[detections_truth["licence_id"] != ""].merge(
        licences, on="licence_id", suffixes=("_site", "_licence"))
    assert len(merged) == (detections_truth["licence_id"] != "").sum()
    assert (merged["category_site"] == merged["category_licence"]).all()
    category = merged["category_site"]
    production = merged["licence_type"].isin(PRODUCTION_LICENCE_TYPES)
    assert ((merged["commodity_licence"] == merged["commodity_site"]) == (category != "wrong_commodity")).all()
    assert (production == (category != "exploration")).all()
    assert ((merged["status"] == "suspended") == (category == "suspended")).all()
    assert ((merged["expires"].dt.date < SURVEY_DATE) == (category == "expired")).all()


def _with_category(concessions: gpd.GeoDataFrame, records_truth: pd.DataFrame) -> pd.DataFrame:
    truth = records_truth.rename(columns={"source": "source_name"})[["source_name", "source_row", "category"]]
    return pd.DataFrame(concessions).merge(truth, on=["source_name", "source_row"])


# --- the demo configuration -----------------------------------------------------------------------------


def test_demo_config_loads_and_points_at_the_files(inputs):
    inputs.config_file.write_text(demo_config_text(inputs), encoding="utf-8")
    settings = load_settings(inputs.config_file)
    for name, path in inputs.cadastres.items():
        assert settings.sources[name].file == path.resolve()
    assert settings.paths.store == (inputs.workdir / "layers").resolve()
    assert settings.paths.work == (inputs.workdir / "work").resolve()
    assert settings.paths.reference.is_dir()


def test_readme_says_synthetic_and_credits_the_detections(inputs):
    text = inputs.readme.read_text(encoding="utf-8")
    assert "SYNTHETIC" in text
    assert "Earth Genome" in text and "CC BY 4.0" in text
