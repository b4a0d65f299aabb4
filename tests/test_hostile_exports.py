"""Hostile and careless exports: formula injection in CSV, writes that cannot happen, damaged stores.

Each case builds its store or folder in the test, runs the real ``mrumonitor`` command (or speaks HTTP to a
real waitress server for the dashboard's side) and asserts the plain message, exit 2, no traceback and
nothing half-written.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import flask
import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import (
    DASHBOARD_RUN,
    HttpClient,
    callback_body,
    log_in,
    running_server,
    with_auth,
    write_config,
    write_dashboard_run,
)
from hostile import assert_no_traceback, assert_refused, mrumonitor

from mrumonitor.config import load_settings
from mrumonitor.dashboard.access import install_access
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.routes import download_url, install_routes, overlay_url
from mrumonitor.dashboard.security import install_security
from mrumonitor.errors import ExportError
from mrumonitor.export import export_layer
from mrumonitor.runfolder import RunFolder
from mrumonitor.store.runs import read_manifest, resolve_run

pytestmark = pytest.mark.hostile

#: Holder names a hostile or careless cadastre clerk could type: each would run as a formula in Excel.
FORMULAS = ['=HYPERLINK("http://evil.example","Click")', "@SUM(1+1)*cmd|' /C calc'!A0", "+41 22 000",
            "-2+3", "\tTabbed Holder", "\rReturn Holder", "=1+1"]
#: Holder names that are fine as they are.
HARMLESS = ["Coopérative de Guéckédou", "Holder = partner", "", "O'Brien & Sons"]


def store_with_holders(root: Path) -> tuple[Path, Path]:
    """A store whose latest run has a `licences` vector layer with `FORMULAS` and `HARMLESS` holder names and a
    `holders` table of them; returns the config file and the run folder."""
    store = root / "layers"
    run_dir = write_dashboard_run(store)
    folder = RunFolder(run_dir)
    names = FORMULAS + HARMLESS
    crs = load_settings().analysis_crs
    boxes = gpd.GeoSeries([shapely.box(-12.0 + 0.05 * i, 8.0, -11.98 + 0.05 * i, 8.02) for i in range(len(names))],
                          crs=4326).to_crs(crs)
    gpd.GeoDataFrame({"licence_id": [f"L-{i}" for i in range(len(names))], "holder": names,
                      "area_ha": [-1.5 + i for i in range(len(names))], "country": "SLE"},
                     geometry=boxes, crs=crs).to_parquet(folder.layer("licences"))
    pd.DataFrame({"country": "SLE", "holder": names, "carats": [-3.0] * len(names)}).to_parquet(
        folder.layer("holders"))
    manifest = read_manifest(run_dir)
    manifest["layers"]["licences"] = {"path": folder.relative(folder.layer("licences")), "kind": "vector",
                                      "title": "Licences"}
    manifest["layers"]["holders"] = {"path": folder.relative(folder.layer("holders")), "kind": "table",
                                     "title": "Holders"}
    folder.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    config = write_config(root, f'[paths]\nstore = "{store}"\nwork = "{root / "work"}"\n')
    return config, run_dir


@pytest.fixture(scope="module")
def holders(tmp_path_factory) -> tuple[Path, Path]:
    return store_with_holders(tmp_path_factory.mktemp("holders"))


def exported(config: Path, layer: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    result = mrumonitor("export", layer, "--config", str(config), "-o", str(out), *extra)
    assert_no_traceback(result.stdout, result.stderr)
    return result


# --- formula injection ----------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("layer", ["licences", "holders"])
def test_csv_export_neutralises_formulas_and_keeps_everything_else(holders, layer, tmp_path):
    config, _ = holders
    out = tmp_path / f"{layer}.csv"
    assert exported(config, layer, out).returncode == 0
    table = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    by_text = dict(zip(FORMULAS + HARMLESS, table["holder"]))
    for name in FORMULAS:
        assert by_text[name] == "'" + name, by_text[name]
    for name in HARMLESS:
        assert by_text[name] == name
    number = "area_ha" if layer == "licences" else "carats"
    assert (table[number].astype(float) < 0).any()  # negative numbers are numbers, not formulas
    raw = out.read_text(encoding="utf-8-sig")
    assert "\n=HYPERLINK" not in raw and ",=HYPERLINK" not in raw and ",@SUM" not in raw


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize(("fmt", "suffix"), [("gpkg", ".gpkg"), ("geojson", ".geojson"), ("parquet", ".parquet"),
                                             ("shp", ".zip")])
def test_other_formats_keep_holder_names_exactly(holders, fmt, suffix, tmp_path):
    config, _ = holders
    out = tmp_path / f"licences{suffix}"
    assert exported(config, "licences", out).returncode == 0
    if fmt == "parquet":
        holders_read = gpd.read_parquet(out)["holder"]
    else:
        path = f"/vsizip/{out}/licences.shp" if fmt == "shp" else out
        holders_read = pyogrio.read_dataframe(path, layer="licences")["holder"].fillna("")
    assert sorted(holders_read) == sorted(FORMULAS + HARMLESS)


# --- writes that cannot happen --------------------------------------------------------------------------

def protect(path: Path, request) -> None:
    """Make `path` (a folder or a file) impossible to write, even for root: the immutable flag (chattr +i)
    as root, plain permissions otherwise; undone when the test ends."""
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"chattr +i is not possible here: {done.stderr.decode().strip()}")
        request.addfinalizer(lambda: subprocess.run(["chattr", "-i", str(path)], check=False))
    else:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        request.addfinalizer(lambda: path.chmod(mode))


@pytest.fixture
def tiny_disk(tmp_path, request) -> Path:
    """A 64 KiB tmpfs, nearly full (root only)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    request.addfinalizer(lambda: subprocess.run(["umount", str(folder)], check=False))
    try:
        with (folder / "filler").open("wb") as filler:
            filler.write(b"\0" * 60 * 1024)
    except OSError:
        pass
    return folder


def assert_nothing_left(folder: Path, *expected: str) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize(("layer", "name"), [("licences", "out.gpkg"), ("licences", "out.csv"),
                                             ("licences", "out.zip"), ("activity_2025H2", "out.tif")])
def test_export_to_a_read_only_folder_is_refused_plainly(holders, layer, name, tmp_path, request):
    config, _ = holders
    folder = tmp_path / "shared"
    folder.mkdir()
    protect(folder, request)
    result = exported(config, layer, folder / name)
    assert_refused(result, "could not be written", "choose a folder you may write to")
    assert_nothing_left(folder)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize(("layer", "name"), [("licences", "out.gpkg"), ("licences", "out.geojson"),
                                             ("holders", "out.csv"), ("licences", "out.parquet"),
                                             ("licences", "out.zip"), ("activity_2025H2", "out.tif")])
def test_export_to_a_full_disk_is_refused_and_leaves_nothing(holders, layer, name, tiny_disk):
    config, _ = holders
    result = exported(config, layer, tiny_disk / name)
    assert_refused(result, "could not be written")
    assert_nothing_left(tiny_disk, "filler")


@pytest.mark.unit
def test_a_full_disk_while_the_sidecar_is_written_puts_the_earlier_export_back(holders, tmp_path, monkeypatch):
    _, run_dir = holders
    out = tmp_path / "licences.gpkg"
    out.write_bytes(b"the earlier export")

    def disk_full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("mrumonitor.export.layer.write_sidecar", disk_full)
    with pytest.raises(ExportError, match="the disk is full"):
        export_layer(run_dir, read_manifest(run_dir), "licences", "gpkg", out)
    assert out.read_bytes() == b"the earlier export"
    assert_nothing_left(tmp_path, "licences.gpkg")


@pytest.mark.slow
@pytest.mark.integration
def test_export_onto_a_protected_file_keeps_it(holders, tmp_path, request):
    config, _ = holders
    out = tmp_path / "licences.csv"
    out.write_text("the earlier export", encoding="utf-8")
    protect(out, request)
    assert_refused(exported(config, "licences", out), "could not be written")
    assert out.read_text(encoding="utf-8") == "the earlier export"


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("name", ["licences.gpkg", "licences.csv"])
def test_export_to_a_path_that_is_a_folder_is_refused(holders, tmp_path, name):
    config, run_dir = holders
    (tmp_path / name).mkdir()
    assert_refused(exported(config, "licences", tmp_path / name), name, "is a directory")
    with pytest.raises(ExportError, match="is a folder; name the file"):  # the library, as the dashboard calls it
        export_layer(run_dir, read_manifest(run_dir), "licences", name.split(".")[1], tmp_path / name)
    assert_nothing_left(tmp_path / name)


@pytest.mark.slow
@pytest.mark.integration
def test_export_under_a_file_is_refused(holders, tmp_path):
    config, _ = holders
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    assert_refused(exported(config, "licences", tmp_path / "notes.txt" / "licences.gpkg"), "could not be written")


# --- damaged stores: the command line -------------------------------------------------------------------

@pytest.fixture
def damaged(tmp_path) -> tuple[Path, Path]:
    """A store of its own (the tiny run), to damage; its config and run folder."""
    store = tmp_path / "layers"
    run_dir = write_dashboard_run(store)
    return write_config(tmp_path, f'[paths]\nstore = "{store}"\nwork = "{tmp_path / "work"}"\n'), run_dir


def write_latest(run_dir: Path, content: bytes | None) -> None:
    latest = run_dir.parent / "LATEST"
    latest.unlink()
    if content is None:
        latest.mkdir()
    else:
        latest.write_bytes(content)


LATEST_CASES = {"garbage bytes": b"\xff\xfe\x00\x89PNG\r\n\x1a\n\x00\x00", "empty": b"", "blank": b"  \n\n",
                "another store's run": b"20990101T000000Z-ffff", "a path": b"../../../etc", "a folder": None,
                "a megabyte": b"2" * 1_000_000}


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("case", sorted(LATEST_CASES))
def test_a_damaged_latest_pointer_is_a_plain_message(damaged, case, tmp_path):
    config, run_dir = damaged
    write_latest(run_dir, LATEST_CASES[case])
    for args in (("runs", "show", "--config", str(config)), ("serve", "--config", str(config)),
                 ("export", "sites", "--config", str(config), "-o", str(tmp_path / "s.gpkg"))):
        flat = assert_refused(mrumonitor(*args), "LATEST")
        assert "Traceback" not in flat and len(flat) < 2000
    assert not (tmp_path / "s.gpkg").exists()


MANIFEST_CASES = {"not JSON": b'{"run_id": "x", "layers": {', "binary": b"\x00\xff\x00\xff",
                  "a JSON list": b"[]", "layers not an object": b'{"run_id": "x", "layers": []}',
                  "a layer not an object": b'{"run_id": "x", "layers": {"sites": 3}}'}


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("case", sorted(MANIFEST_CASES))
def test_a_broken_manifest_is_a_plain_message(damaged, case, tmp_path):
    config, run_dir = damaged
    RunFolder(run_dir).manifest.write_bytes(MANIFEST_CASES[case])
    assert_refused(mrumonitor("export", "sites", "--config", str(config), "-o", str(tmp_path / "s.gpkg")),
                   "manifest", "mrumonitor run")
    assert not (tmp_path / "s.gpkg").exists()


# --- damaged stores: the dashboard's routes -------------------------------------------------------------

DAMAGE = {
    "LATEST garbage": lambda run_dir: write_latest(run_dir, b"\xff\xfe garbage"),
    "LATEST empty": lambda run_dir: write_latest(run_dir, b""),
    "manifest broken": lambda run_dir: RunFolder(run_dir).manifest.write_bytes(b"{broken"),
    "layer files gone": lambda run_dir: [path.unlink() for path in run_dir.glob("*.*") if path.suffix != ".json"],
    "store deleted": lambda run_dir: shutil.rmtree(run_dir.parent.parent),
}


@pytest.fixture
def damaged_server(damaged, secret_key):
    """A guarded server (access, security, routes) on a store of its own, logged in as the regional team."""
    config, run_dir = damaged
    settings = with_auth(load_settings(config))
    app = SimpleNamespace(server=flask.Flask("damaged"))
    install_access(app, settings)
    install_security(app, settings.dashboard)
    install_routes(app, settings)
    with running_server(app.server) as base:
        client = HttpClient(base)
        assert log_in(client, "kp_team").status == 302
        yield client, run_dir


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("path", [download_url("latest", "sites", "gpkg", "SLE"), overlay_url("latest", "2025H2"),
                                  download_url(DASHBOARD_RUN, "sites", "csv")])
def test_routes_of_a_damaged_store_answer_plainly(damaged_server, damage, path):
    client, run_dir = damaged_server
    DAMAGE[damage](run_dir)
    reply = client.request("GET", path)
    assert reply.status in (400, 404, 503), (reply.status, reply.text[:300])
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert_no_traceback(reply.text)
    assert len(reply.text) < 2000


# --- damaged stores: the dashboard's pages --------------------------------------------------------------

@pytest.fixture
def damaged_dashboard(demo_settings, tmp_path):
    """The whole dashboard (auth off) on a copy of the demo's store, to damage; its client and run folder."""
    store = tmp_path / "layers"
    shutil.copytree(demo_settings.paths.store, store)
    config = write_config(tmp_path, f'[paths]\nstore = "{store}"\nwork = "{tmp_path / "work"}"\n'
                                    f'reference = "{demo_settings.paths.reference}"\n')
    app = create_app(load_settings(config))
    with running_server(app.server) as base:
        client = HttpClient(base)
        dependencies = json.loads(client.request("GET", "/_dash-dependencies").body)
        yield client, dependencies, resolve_run(store)


def page_content(client: HttpClient, dependencies, path: str):
    body = callback_body(dependencies, "_pages_content.children", {"_pages_location.pathname": path,
                                                                   "_pages_location.search": ""})
    return client.request("POST", "/_dash-update-component", json=body)


#: Damage to a run the dashboard has loaded already: it may go on showing the run from memory.
KEPT_IN_MEMORY = {"manifest broken", "layer files gone"}


@pytest.mark.demo
@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("path", ["/", "/runs", "/map", "/downloads"])
def test_pages_of_a_damaged_store_say_what_is_wrong(damaged_dashboard, damage, path):
    client, dependencies, run_dir = damaged_dashboard
    assert page_content(client, dependencies, path).status == 200
    DAMAGE[damage](run_dir)
    reply = page_content(client, dependencies, path)
    assert_no_traceback(reply.text)
    if reply.status == 200:  # the page itself, saying what is wrong (or drawn from the run loaded before)
        assert "This page cannot be shown" in reply.text or damage in KEPT_IN_MEMORY, reply.text[:500]
    else:  # a data request: the plain answer of answers.STATUS
        plain = reply.headers["Content-Type"].startswith("text/plain")
        assert reply.status == 503 and plain, (reply.status, reply.text[:300])
    layout = client.request("GET", "/_dash-layout")  # the frame still renders, its footer says why
    assert layout.status == 200
    assert_no_traceback(layout.text)


@pytest.mark.demo
def test_a_callback_on_a_deleted_store_is_a_plain_503(damaged_dashboard):
    client, dependencies, run_dir = damaged_dashboard
    body = callback_body(dependencies, "unreg-table.data", {
        "filter-country.value": "", "filter-period.value": "", "filter-commodity.value": "",
        "filter-registration.value": [], "filter-border-only.value": [], "unreg-table.page_current": 0,
        "unreg-table.page_size": 20, "unreg-table.sort_by": [], "unreg-table.filter_query": ""})
    shutil.rmtree(run_dir.parent.parent)
    reply = client.request("POST", "/_dash-update-component", json=body)
    assert reply.status == 503 and reply.headers["Content-Type"].startswith("text/plain"), reply.text[:300]
    assert "has no published run" in reply.text
    assert_no_traceback(reply.text)
