"""The layer store in process: publishing, reading runs, the lock, leftovers, retention, disk failures.

The runs here are built by a tiny build callable (a vector, a table, two small COGs), not by the pipeline,
so that the store's mechanics are tested on their own; tests/test_store_faults.py kills real runs.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pystac
import pytest
import shapely
from pystac.validation import validate_dict

from mrumonitor.config import StoreSettings
from mrumonitor.errors import RunLockedError, StoreError
from mrumonitor.frames import empty_frame
from mrumonitor.layerio import write_geoparquet, write_parquet
from mrumonitor.manifest import RunBody, RunManifest
from mrumonitor.pipeline.provenance import DEMO_MARK, commodity_caveats, input_caveats
from mrumonitor.raster.blocks import on_grid
from mrumonitor.raster.cog import period_tags, write_activity_cog
from mrumonitor.raster.grid import Grid
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import LICENCE_SNAPSHOT_COLUMNS
from mrumonitor.store import (
    StoreLock,
    clean_leftovers,
    current_holder,
    leftovers,
    list_runs,
    publish_run,
    read_manifest,
    resolve_run,
)
from mrumonitor.store.faults import checkpoint
from mrumonitor.store.retention import prune_runs, runs_to_delete
from mrumonitor.store.runs import LATEST_FILE, new_run_id, run_ids, runs_dir
from mrumonitor.store.storage import storage_problem

#: A run whose licences no cadastre snapshot judged from dates only.
NO_HISTORY = empty_frame(LICENCE_SNAPSHOT_COLUMNS)

pytestmark = pytest.mark.unit

KEEP_ALL = StoreSettings(keep_last=100, keep_days=0)
GRID = Grid.covering((300_000.0, 900_000.0, 306_400.0, 906_400.0), "EPSG:32629", 100.0)


def tiny_build(context, fail: BaseException | None = None, caveat: str = "a caveat of the build") -> RunBody:
    """Write sites (2 polygons), capacity (a table), activity_P1 and a scene-area COG; optionally fail."""
    sites = gpd.GeoDataFrame({"site_id": ["MS-1", "MS-2"]}, crs=GRID.crs,
                             geometry=[shapely.box(301_000, 901_000, 302_000, 902_000), shapely.Point(303_000,
                                                                                                       903_000)])
    write_geoparquet(sites, context.staging / "sites.parquet")
    write_parquet(pd.DataFrame({"country": ["SLE"], "carats": [10.0]}), context.staging / "capacity.parquet")
    values = np.zeros(GRID.shape, dtype=np.uint8)
    values[10:20, 10:20] = 100
    tags = period_tags("P1", "2025-01-01", "2025-06-30", "test")
    for path, extra in ((context.staging / "activity_P1.tif", {}),
                        (context.staging / "areas" / "activity_zone_P1.tif", {"AREA": "zone"})):
        write_activity_cog(on_grid(da.from_array(values, chunks=32), GRID), GRID, path, {**tags, **extra})
    if fail is not None:
        raise fail
    return RunBody(counts={"sites": 2}, timings_s={"build": 0.01}, caveats=[caveat])


def publish(store, **kwargs):
    return publish_run(store, lambda context: tiny_build(context, **kwargs), KEEP_ALL, title="test")


@pytest.fixture
def store(tmp_path):
    return tmp_path / "layers"


def test_publish_writes_a_complete_run_and_moves_latest(store):
    published = publish(store)
    runs = runs_dir(store)
    assert (runs / LATEST_FILE).read_text() == published.run_id + "\n"
    assert resolve_run(store) == published.path == runs / published.run_id
    assert [p.name for p in runs.iterdir() if p.name.startswith(".") and p.name != ".lock"] == []
    manifest = read_manifest(published.path)
    assert manifest == published.manifest.as_dict() and RunManifest.read(RunFolder(published.path)) == published.manifest
    assert list(manifest)[:2] == ["manifest_version", "run_id"] and list(manifest)[-2:] == ["layers", "catalog"]
    assert manifest["run_id"] == published.run_id and manifest["previous_run"] is None
    assert manifest["created"].startswith(dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"))
    assert manifest["software"]["name"] == "mrumonitor" and manifest["counts"] == {"sites": 2}
    assert set(manifest["timings_s"]) == {"build", "publish"}
    assert manifest["caveats"][0] == "a caveat of the build"
    assert any("order of magnitude" in caveat for caveat in manifest["caveats"])  # the capacity layer's caveat


def test_layers_are_described_from_their_files(store):
    layers = publish(store).manifest.layers
    assert set(layers) == {"sites", "capacity", "activity_P1", "activity_zone_P1"}
    sites, capacity = layers["sites"], layers["capacity"]
    assert (sites["path"], sites["kind"], sites["count"], sites["crs"]) == ("sites.parquet", "vector", 2, "EPSG:32629")
    assert sites["title"] == "Mining sites" and set(sites["geometry_types"]) == {"Polygon", "Point"}
    assert (capacity["kind"], capacity["count"], capacity["crs"], capacity["columns"]) == (
        "table", 1, None, ["country", "carats"])
    raster = layers["activity_P1"]
    assert (raster["kind"], raster["period"], raster["width"], raster["height"]) == ("raster", "P1", 64, 64)
    assert (raster["period_start"], raster["period_end"], raster["crs"]) == ("2025-01-01", "2025-06-30", "EPSG:32629")
    assert layers["activity_zone_P1"]["path"] == "areas/activity_zone_P1.tif"
    assert layers["activity_zone_P1"]["area"] == "zone"
    west, south, east, north = raster["bbox_wgs84"]
    assert -11 < west < east < -10.5 and 8 < south < north < 8.3


def test_the_catalog_is_valid_stac_and_travels_with_the_run(store, tmp_path):
    published = publish(store)
    moved = shutil.copytree(published.path, tmp_path / "elsewhere")
    catalog = pystac.Catalog.from_file(str(moved / published.manifest.catalog))
    items = {item.id: item for item in catalog.get_items()}
    assert set(items) == {"activity_P1", "activity_zone_P1"}
    item = items["activity_P1"]
    validate_dict(item.to_dict(), pystac.STACObjectType.ITEM, extensions=[])
    assert item.common_metadata.start_datetime == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert item.common_metadata.end_datetime == dt.datetime(2025, 6, 30, 23, 59, 59, tzinfo=dt.UTC)
    assert item.properties["proj:code"] == "EPSG:32629" and item.properties["proj:shape"] == [64, 64]
    asset = item.assets["data"]
    assert asset.media_type == pystac.MediaType.COG
    assert asset.get_absolute_href() == str(moved / "activity_P1.tif")
    assert json.loads((moved / "stac" / "activity_P1" / "activity_P1.json").read_text())["assets"]["data"][
        "href"] == "../../activity_P1.tif"


def test_runs_are_listed_in_order_with_the_latest_marked(store):
    first, second = publish(store), publish(store)
    assert first.run_id < second.run_id  # a run started in the same second waits for the next one
    assert second.manifest.previous_run == first.run_id
    summaries = list_runs(store)
    assert [(s.run_id, s.latest, s.status) for s in summaries] == [(first.run_id, False, "published"),
                                                                  (second.run_id, True, "published")]
    assert summaries[-1].periods == ["P1"] and summaries[-1].sites == 2
    assert resolve_run(store, first.run_id) == first.path


@pytest.mark.parametrize("run, message", [
    ("20990101T000000Z-abcd", r"no run '20990101T000000Z-abcd' in the layer store .*; runs there: \d{8}T"),
    ("../../etc", r"no run '../../etc'"),
])
def test_an_unknown_run_lists_the_runs_there_are(store, run, message):
    publish(store)
    with pytest.raises(StoreError, match=message):
        resolve_run(store, run)


def test_an_empty_store_says_how_to_publish_a_run(store):
    with pytest.raises(StoreError, match=r"has no published run yet. Publish one with `mrumonitor run`"):
        resolve_run(store)
    assert list_runs(store) == []


def test_a_damaged_latest_pointer_is_a_clear_error(store):
    publish(store)
    (runs_dir(store) / LATEST_FILE).write_text("20990101T000000Z-abcd\n")
    with pytest.raises(StoreError, match=r"LATEST names '20990101T000000Z-abcd', which is not a run"):
        resolve_run(store)


def test_an_older_manifest_reads_with_defaults_for_the_keys_it_lacks(store):
    published = publish(store)
    older = {key: value for key, value in read_manifest(published.path).items() if key not in ("reference", "scope")}
    folder = RunFolder(published.path)
    folder.manifest.write_text(json.dumps(older), encoding="utf-8")
    manifest = RunManifest.read(folder)
    assert (manifest.reference, manifest.scope, manifest.run_id) == ({}, {}, published.run_id)


@pytest.mark.parametrize("damage, message", [
    ({"counts": [1, 2]}, r"wrong kind of value under counts"),
    ({"run_id": 7, "baseline": ["P1"]}, r"wrong kind of value under run_id, baseline"),
    ({"layers": None}, r"it is not a JSON object with a `layers` object"),
])
def test_a_manifest_with_garbage_is_refused_naming_the_file(store, damage, message):
    published = publish(store)
    folder = RunFolder(published.path)
    folder.manifest.write_text(json.dumps({**read_manifest(folder.path), **damage}), encoding="utf-8")
    with pytest.raises(StoreError, match=rf"{folder.name}/manifest\.json: the manifest is damaged \({message}"):
        RunManifest.read(folder)
    assert list_runs(store)[0].status.startswith("damaged: ")


@pytest.mark.parametrize("failure", [ValueError("bug in a stage"), KeyboardInterrupt()])
def test_a_failed_build_publishes_nothing_and_leaves_no_files(store, failure):
    first = publish(store)
    with pytest.raises(type(failure)):
        publish(store, fail=failure)
    assert run_ids(store) == [first.run_id] and resolve_run(store) == first.path
    assert leftovers(store) == []


@pytest.mark.parametrize("error, problem", [
    (OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
    (OSError(errno.EROFS, "Read-only file system"), "the file system is read-only"),
    (OSError("IOError: Write failed. Detail: [errno 28] No space left on device"), "the disk is full"),  # pyarrow
])
def test_a_full_or_read_only_disk_is_a_clear_error_and_publishes_nothing(store, error, problem):
    first = publish(store)
    with pytest.raises(StoreError, match=f"cannot write to the layer store {store}: {problem}") as raised:
        publish(store, fail=error)
    assert "Nothing was published; the latest run is unchanged" in str(raised.value)
    assert run_ids(store) == [first.run_id] and resolve_run(store) == first.path
    assert leftovers(store) == []


def test_an_unreadable_input_is_not_mistaken_for_a_store_problem(store, tmp_path):
    denied = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "inputs" / "sle.zip"))
    with pytest.raises(PermissionError):
        publish(store, fail=denied)
    assert storage_problem(PermissionError(errno.EACCES, "Permission denied", str(store / "runs" / "x")),
                           store) == "permission denied"


def test_a_store_that_cannot_be_a_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's parent folder should be")
    with pytest.raises(StoreError, match="part of the path is a file, not a folder"):
        publish(blocker / "layers")


def test_a_second_writer_is_refused_with_the_holder_named(store):
    refusal = rf"another scheduled run \(pid {os.getpid()} on .+, started \d\d:\d\d UTC on \d{{4}}-\d\d-\d\d\) is writing"
    with StoreLock(store, purpose="scheduled run"), pytest.raises(RunLockedError, match=refusal):
        publish(store)
    assert run_ids(store) == []
    publish(store)  # released on exit
    assert (runs_dir(store) / ".lock").read_text() == ""  # and the finished holder no longer named


def test_the_current_holder_is_read_without_taking_the_lock(store):
    assert current_holder(store) is None
    with StoreLock(store, purpose="scheduled run"):
        holder = current_holder(store)
        assert (holder.pid, holder.purpose) == (os.getpid(), "scheduled run")
    assert current_holder(store) is None
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True,
                          text=True)
    lock = runs_dir(store) / ".lock"
    lock.write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(), "purpose": "run",
                                "started": "2026-11-22T10:15:00+00:00"}))
    assert current_holder(store) is None  # a run killed before it could clear the file holds nothing


def test_a_waiting_writer_gets_the_lock_when_the_holder_finishes(store):
    first = StoreLock(store).__enter__()
    threading.Timer(0.5, first.__exit__, (None, None, None)).start()
    started = time.monotonic()
    with StoreLock(store, wait_s=10):
        assert 0.3 < time.monotonic() - started < 5


def test_leftovers_of_dead_runs_are_reported_then_removed_by_the_next_run(store):
    first = publish(store)
    runs = runs_dir(store)
    dead = shutil.copytree(first.path, runs / new_run_id(dt.datetime(2099, 1, 1)))  # renamed, LATEST not moved
    (runs / f".publishing-{dead.name}").write_text(dead.name)
    (runs / ".staging-20990101T000001Z-0000").mkdir()
    (runs / ".trash-20200101T000000Z-0000").mkdir()
    (runs / ".LATEST.4242.tmp").write_text("half")
    assert {p.name for p in leftovers(store)} == {dead.name, f".publishing-{dead.name}", ".LATEST.4242.tmp",
                                                  ".staging-20990101T000001Z-0000", ".trash-20200101T000000Z-0000"}
    assert [s.status.split(":")[0] for s in list_runs(store)] == ["published", "unpublished"]
    assert resolve_run(store) == first.path
    with StoreLock(store):
        cleaned = clean_leftovers(store)
    assert len(cleaned) == 5 and leftovers(store) == []
    assert run_ids(store) == [first.run_id]


def _runs_made_at(store, days_ago: list[float], now: dt.datetime) -> list[str]:
    ids = [new_run_id(now - dt.timedelta(days=days)) for days in days_ago]
    for run_id in ids:
        (runs_dir(store) / run_id).mkdir(parents=True)
    return ids


@pytest.mark.parametrize("keep_last, keep_days, kept", [
    (2, 0, [3, 4]),          # the newest two
    (1, 15, [2, 3, 4]),      # the newest, and those under 15 days old
    (1, 0, [0, 4]),          # run 0 is the latest (an operator moved LATEST back): never deleted
])
def test_retention_keeps_the_newest_the_young_and_the_latest(store, keep_last, keep_days, kept):
    now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    ids = _runs_made_at(store, [40, 30, 10, 5, 1], now)
    latest = ids[0] if kept[0] == 0 else ids[-1]
    (runs_dir(store) / LATEST_FILE).write_text(latest)
    expected = [run_id for i, run_id in enumerate(ids) if i not in kept]
    assert runs_to_delete(store, keep_last, keep_days, now) == expected
    assert prune_runs(store, keep_last, keep_days, now) == expected
    assert run_ids(store) == [ids[i] for i in kept]


def test_retention_runs_after_each_publish(store):
    ids = [publish_run(store, tiny_build, StoreSettings(keep_last=2, keep_days=0)).run_id for _ in range(3)]
    assert run_ids(store) == ids[1:]


def test_a_checkpoint_does_nothing_unless_named_and_refuses_unknown_names(tmp_path, monkeypatch):
    monkeypatch.setenv("MRUMONITOR_PAUSE_AT", "rasters")
    checkpoint("vectors", tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="unknown checkpoint 'vector'; checkpoints: vectors, rasters"):
        checkpoint("vector", tmp_path)


def test_demo_inputs_bring_their_caveats_and_attribution(tmp_path, sle_settings):
    readme = tmp_path / "inputs" / "README.md"
    readme.parent.mkdir()
    readme.write_text(f"# Demo inputs {DEMO_MARK}\n")
    (tmp_path / "inputs" / "activity").mkdir()
    inputs = [{"role": "cadastre", "path": str(tmp_path / "inputs" / "cadastre" / "sle.zip")},
              {"role": "activity", "kind": "detections", "path": str(tmp_path / "inputs" / "activity" / "d.csv")}]
    caveats = input_caveats(sle_settings("sle.zip"), inputs, NO_HISTORY)
    assert "The national cadastres are SYNTHETIC demo data" in caveats[0] and str(tmp_path) not in caveats[0]
    assert "growth over the earlier periods is SYNTHETIC" in caveats[1]
    assert caveats[2].endswith("Derived from Earth Index mining detections (Earth Genome). CC BY 4.0.")
    real = input_caveats(sle_settings("sle.zip"), [{**inputs[0], "path": str(tmp_path / "real.zip")}], NO_HISTORY)
    assert real == commodity_caveats(sle_settings("sle.zip"))  # nothing synthetic: only how commodities are inferred


def test_the_commodity_rule_and_the_diamond_fields_credit_are_published(sle_settings):
    committed = commodity_caveats(sle_settings("sle.zip"))
    assert "within 10 km of a mapped alluvial diamond field it is taken as diamond" in committed[0]
    assert committed[1].startswith("The diamond fields are approximate outlines")
    assert "GeoNames (geonames.org), CC BY 4.0" in committed[2] and "USGS reports are public domain" in committed[2]
    settings = sle_settings("sle.zip")
    own = settings.model_copy(update={"analysis": settings.analysis.model_copy(
        update={"commodity_zones": Path("national_geology.gpkg")})})
    assert len(commodity_caveats(own)) == 1  # a national layer of its own: no credit of the committed one


def test_a_source_without_snapshot_date_and_configured_caveats_are_published(tmp_path, sle_settings):
    settings = sle_settings("sle.zip")
    settings = settings.model_copy(update={
        "sources": {"sle": settings.sources["sle"].model_copy(update={"snapshot": None})},
        "store": StoreSettings(keep_last=1, keep_days=0, caveats=["Detections: CC BY 4.0, credit the provider."])})
    missing = ("The cadastre of Sierra Leone (source sle) has no export date, so the run cannot say how current its "
               "licences are: give it as the snapshot date of [sources.sle] in the configuration.")
    assert input_caveats(settings, [], NO_HISTORY) == [missing, *commodity_caveats(settings),
                                           "Detections: CC BY 4.0, credit the provider."]
