"""Licence history (issue 18): a country's cadastre as several dated snapshots, each period judged by the
snapshot in force on its observation day; a period older than every snapshot by the licences' dates only."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from mrumonitor.analysis.licence_history import dates_only_caveats
from mrumonitor.analysis.registration import register
from mrumonitor.config import PeriodSettings, load_settings
from mrumonitor.demo.cadastres import OLDER_SNAPSHOTS, SNAPSHOTS, grant_between_snapshots, older_records
from mrumonitor.demo.inputs import DemoInputs, OlderSnapshot, demo_config_text
from mrumonitor.errors import ConfigError
from mrumonitor.ingest.duplicates import find_duplicates
from mrumonitor.ingest.snapshots import current_licences
from mrumonitor.schema import CONCESSION_COLUMNS, LICENCE_SNAPSHOT_COLUMNS
from mrumonitor.store import resolve_run
from tests.conftest import sle_licences, write_config, write_zipped_shapefile
from tests.hostile import assert_no_traceback, mrumonitor

CRS = "EPSG:32629"
OLD, NEW = "2025-10-01", "2026-03-01"
PERIODS = [PeriodSettings(name="2024H2", start=dt.date(2024, 7, 1), end=dt.date(2024, 12, 31)),
           PeriodSettings(name="2025H2", start=dt.date(2025, 7, 1), end=dt.date(2025, 12, 31)),
           PeriodSettings(name="2026H1", start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30),
                          observed=dt.date(2026, 6, 24))]
SITE = (0.0, 0.0, 200.0, 200.0)
LICENCE = (-100.0, -100.0, 300.0, 300.0)


def record(licence_id: str, snapshot: str | None, status: str = "active", granted: str | None = "2020-01-01",
           expires: str | None = "2030-12-31", country: str = "SLE", box=LICENCE) -> dict:
    """One canonical `concessions` record of the snapshot of day `snapshot` (None: a source with no date)."""
    return {"licence_id": licence_id, "country": country, "holder": "Kono Miners Cooperative",
            "licence_type": "artisanal", "commodity": "diamond", "status": status,
            "granted": pd.Timestamp(granted) if granted else pd.NaT,
            "expires": pd.Timestamp(expires) if expires else pd.NaT, "geometry_repaired": False,
            "source_name": f"sle_{snapshot}", "source_file": "hand-made", "source_row": 1,
            "snapshot": pd.Timestamp(snapshot) if snapshot else pd.NaT, "geometry": shapely.box(*box)}


def concessions(*rows: dict) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(list(rows) or {name: [] for name in [*CONCESSION_COLUMNS, "geometry"]},
                             geometry="geometry", crs=CRS)
    return frame[[*CONCESSION_COLUMNS, "geometry"]].astype(CONCESSION_COLUMNS)


def judged(*rows: dict):
    """Register one diamond site, seen in every period, against `rows`: (class per period, licence_snapshots)."""
    periods = [p.name for p in PERIODS]
    footprints = gpd.GeoDataFrame({"site_id": "S", "period": periods, "area_ha": 4.0},
                                  geometry=[shapely.box(*SITE)] * len(periods), crs=CRS)
    result = register(footprints, concessions(*rows), pd.Series({"S": "diamond"}), PERIODS, countries=["SLE", "GIN"])
    return dict(zip(periods, result.per_period["registration"], strict=True)), result.licence_snapshots


@pytest.mark.unit
def test_a_licence_suspended_in_the_second_snapshot_is_registered_before_it():
    classes, snapshots = judged(record("L", OLD), record("L", NEW, status="suspended"))
    assert classes["2025H2"] == "registered" and classes["2026H1"] == "suspended"
    sle = snapshots[snapshots["country"] == "SLE"].set_index("period")
    assert sle.loc["2025H2", "snapshot"] == pd.Timestamp(OLD) and sle.loc["2026H1", "snapshot"] == pd.Timestamp(NEW)
    assert (sle.loc[["2025H2", "2026H1"], "basis"] == "snapshot").all()
    assert sle.loc["2026H1", "note"] == "judged from the cadastre snapshot of 2026-03-01 (1 licences)"


@pytest.mark.unit
def test_a_period_older_than_every_snapshot_is_judged_from_the_dates_only():
    classes, snapshots = judged(record("L", OLD, status="suspended"))
    assert classes["2024H2"] == "registered"  # the suspension is not known to have held then
    assert classes["2025H2"] == "suspended"
    lapsed, _ = judged(record("L", OLD, status="active", granted="2019-01-01", expires="2024-06-30"))
    assert lapsed["2024H2"] == "expired_licence"
    row = snapshots.set_index(["period", "country"]).loc[("2024H2", "SLE")]
    assert row["basis"] == "dates_only" and row["snapshot"] == pd.Timestamp(OLD)
    assert row["note"].startswith("judged from the licences' dates only: this period is older than the first "
                                  "snapshot, 2025-10-01")
    (caveat,) = dates_only_caveats(snapshots)
    assert "2024H2" in caveat and "2025-10-01" in caveat and "2025H2" not in caveat


@pytest.mark.unit
def test_a_status_is_never_carried_back_before_the_snapshot_that_first_shows_it():
    classes, snapshots = judged(record("other", OLD, box=(5_000, 5_000, 5_100, 5_100)), record("N", NEW))
    assert classes["2025H2"] == "no_licence"  # the snapshot in force then lacks N, granted in 2020 or not
    assert classes["2026H1"] == "registered"
    assert snapshots.set_index(["period", "country"]).loc[("2025H2", "SLE"), "licences"] == 1


@pytest.mark.unit
def test_undated_sources_are_in_force_in_every_period_and_countries_without_licences_say_none():
    classes, snapshots = judged(record("U", None))
    assert set(classes.values()) == {"registered"}
    bases = snapshots.set_index(["period", "country"])["basis"]
    assert (bases.xs("SLE", level="country") == "undated").all()
    assert (bases.xs("GIN", level="country") == "none").all()
    assert list(snapshots.columns) == list(LICENCE_SNAPSHOT_COLUMNS)
    assert snapshots["period"].tolist() == [p.name for p in PERIODS for _ in ("SLE", "GIN")]


@pytest.mark.unit
def test_without_any_licence_record_every_period_says_none():
    classes, snapshots = judged()
    assert set(classes.values()) == {"no_licence"}
    assert set(snapshots["basis"]) == {"none"} and (snapshots["licences"] == 0).all()


@pytest.mark.unit
def test_the_same_licence_id_in_two_snapshots_is_history_not_a_duplicate():
    rows = concessions(record("SL-1", OLD), record("sl-1 ", NEW, status="suspended"), record("SL-2", NEW),
                       record("SL-2", NEW, status="expired"))
    reason, _ = find_duplicates(rows)
    assert reason.fillna("kept").tolist() == ["kept", "kept", "conflicting_licence_id", "conflicting_licence_id"]


@pytest.mark.unit
def test_the_licences_now_are_the_newest_snapshot_of_each_country_and_the_undated_ones():
    rows = concessions(record("A", OLD), record("A", NEW), record("U", None),
                       record("G", "2024-01-01", country="GIN"))
    assert current_licences(rows)["licence_id"].tolist() == ["A", "U", "G"]
    assert current_licences(rows)["snapshot"].iloc[0] == pd.Timestamp(NEW)
    assert len(current_licences(rows.drop(columns="snapshot"))) == 4  # a layer of a run made before snapshots


@pytest.mark.unit
def test_two_sources_may_share_a_country_but_not_a_file(tmp_path):
    dated = '[sources.sle]\nfile = "sle_2026.zip"\nsnapshot = 2026-03-01\n'
    settings = load_settings(write_config(tmp_path, dated + _older_source("sle_undated.zip", None)))
    assert settings.sources["sle_2025"].snapshot is None and settings.sources["sle"].snapshot == dt.date(2026, 3, 1)
    with pytest.raises(ConfigError, match="sources.sle and sources.sle_2025 both read .*sle_2026.zip .*"
                                          "Give each dated snapshot its own file"):
        load_settings(write_config(tmp_path, dated + _older_source("sle_2026.zip", "2025-10-01")))


def _older_source(file: str, snapshot: str | None) -> str:
    """A second SLE source in the NMA schema (the one `sle_licences` writes)."""
    day = f"snapshot = {snapshot}\n" if snapshot else ""
    return (f'[sources.sle_2025]\ncountry = "SLE"\nfile = "{file}"\nformat = "shapefile"\nencoding = "UTF-8"\n{day}'
            'date_formats = ["%d/%m/%Y"]\n'
            '[sources.sle_2025.fields]\nlicence_id = "LICENCE_NO"\nholder = "HOLDER"\nlicence_type = "LIC_TYPE"\n'
            'commodity = "MINERAL"\nstatus = "STATUS"\ngranted = "GRANTED"\nexpires = "EXPIRES"\n'
            '[sources.sle_2025.values.licence_type]\n"Artisanal Mining Licence" = "artisanal"\n'
            '[sources.sle_2025.values.commodity]\n"Diamonds" = "diamond"\n'
            '[sources.sle_2025.values.status]\n"Active" = "active"\n"Suspended" = "suspended"\n')


@pytest.mark.integration
def test_ingest_keeps_both_snapshots_of_a_country(tmp_path):
    new = sle_licences(3)
    new.loc[0, "STATUS"] = "Suspended"
    write_zipped_shapefile(new, tmp_path / "sle_2026.zip")
    write_zipped_shapefile(sle_licences(2), tmp_path / "sle_2025.zip")
    config = write_config(tmp_path, '[paths]\nwork = "work"\nstore = "layers"\n'
                                    '[sources.sle]\nfile = "sle_2026.zip"\nsnapshot = 2026-03-01\n'
                                    + _older_source("sle_2025.zip", "2025-10-01"))
    result = mrumonitor("ingest", "--config", str(config), "--source", "sle", "--source", "sle_2025", cwd=tmp_path)
    assert_no_traceback(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    layer = gpd.read_parquet(tmp_path / "work" / "ingest" / "concessions.parquet")
    assert layer.groupby("snapshot")["licence_id"].apply(sorted).to_dict() == {
        pd.Timestamp("2025-10-01"): ["SL-AML-0001", "SL-AML-0002"],
        pd.Timestamp("2026-03-01"): ["SL-AML-0001", "SL-AML-0002", "SL-AML-0003"]}
    assert gpd.read_parquet(tmp_path / "work" / "ingest" / "quarantine.parquet").empty
    by_day = layer.set_index(["snapshot", "licence_id"])["status"]
    assert by_day[(pd.Timestamp(OLD), "SL-AML-0001")] == "active"
    assert by_day[(pd.Timestamp(NEW), "SL-AML-0001")] == "suspended"


# --- the demo's older export --------------------------------------------------------------------------------


@pytest.mark.unit
def test_the_demo_older_export_lacks_later_grants_and_shows_later_suspensions_active():
    source = load_settings().sources["sle"]
    licences = pd.DataFrame({"category": ["active_right_type", "suspended", "background", "active_right_type"],
                             "granted": [dt.date(2020, 1, 1), dt.date(2021, 1, 1), None, dt.date(2020, 5, 1)]})
    licences = grant_between_snapshots(licences, dt.date(2025, 9, 1))
    assert licences["granted"].tolist() == [dt.date(2025, 9, 1), dt.date(2021, 1, 1), None, dt.date(2020, 5, 1)]
    records = pd.DataFrame({"licence_id": ["A", "S", "B", "C"], "status": ["Active", "Suspended", "", "Active"],
                            "category": licences["category"], "detail": ""})
    older = older_records(records, licences, source, dt.date(2024, 12, 1), np.random.default_rng(0))
    assert older["licence_id"].tolist() == ["S", "B", "C"]  # A was granted after the export
    assert source.values.status[older.loc[0, "status"]] == "active"


@pytest.mark.unit
def test_the_demo_config_reads_the_older_export_as_a_dated_source_of_the_same_schema(tmp_path):
    default = load_settings().sources["sle"]
    cadastre = tmp_path / "inputs" / "cadastre"
    inputs = DemoInputs(tmp_path, {"sle": cadastre / "sle_nma_licences.zip"}, tmp_path / "r.csv", tmp_path / "d.csv",
                        tmp_path / "README.md", {"sle_2024": OlderSnapshot("sle", default, dt.date(2024, 12, 1),
                                                                           cadastre / "sle_2024.zip")})
    inputs.config_file.write_text(demo_config_text(inputs), encoding="utf-8")
    sources = load_settings(inputs.config_file).sources
    assert sources["sle"].snapshot == SNAPSHOTS["sle"] < dt.date(2026, 6, 24)  # before the demo's survey
    assert sources["sle_2024"].snapshot == dt.date(2024, 12, 1)
    assert sources["sle_2024"].file == (cadastre / "sle_2024.zip").resolve()
    assert sources["sle_2024"].model_dump(exclude={"file", "snapshot"}) == default.model_dump(exclude={"file",
                                                                                                          "snapshot"})


@pytest.mark.demo
@pytest.mark.slow
def test_the_demo_run_judges_each_period_by_its_snapshot(demo_settings):
    """The demo's SLE cadastre comes as two exports: a licence suspended since the older one is registered in the
    periods it judges and suspended in the survey's; a period older than both is judged from the dates only."""
    run = resolve_run(demo_settings.paths.store)
    snapshots = pd.read_parquet(run / "licence_snapshots.parquet").set_index(["period", "country"])
    assert snapshots.loc[("2025H2", "SLE"), "snapshot"] == pd.Timestamp(OLDER_SNAPSHOTS["sle"])
    assert snapshots.loc[("2026H1", "SLE"), "snapshot"] == pd.Timestamp(SNAPSHOTS["sle"])
    assert snapshots.loc[("2023H2", "SLE"), "basis"] == "dates_only"
    concessions = gpd.read_parquet(run / "concessions.parquet")
    older = concessions[concessions["snapshot"] == pd.Timestamp(OLDER_SNAPSHOTS["sle"])]
    current = concessions[concessions["snapshot"] == pd.Timestamp(SNAPSHOTS["sle"])]
    suspended = set(current.loc[current["status"] == "suspended", "licence_id"]) & set(
        older.loc[older["status"] == "active", "licence_id"])
    pieces = gpd.read_parquet(run / "site_registration.parquet")
    history = pieces[pieces["licence_id"].isin(suspended)].groupby("period")["registration"].unique()
    assert set(history["2025H2"]) == {"registered"} and set(history["2026H1"]) == {"suspended"}
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["snapshots"]["SLE"] == [str(OLDER_SNAPSHOTS["sle"]), str(SNAPSHOTS["sle"])]
    assert any(caveat.startswith("Sierra Leone: period 2023H2 is older than the first snapshot of its cadastre")
               for caveat in manifest["caveats"])
