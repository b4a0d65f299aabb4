"""`mrumonitor scenes search` and `mrumonitor scenes serve` through a real `mrumonitor` process, against a real STAC
API on 127.0.0.1: the items, clear share and bytes a period would read, and the plain messages of its failures.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from hostile import TRACEBACK_MARKS, _environment, mrumonitor
from stac_catalog import COLLECTION, daily_specs, inner_bounds, input_block, provider_block, write_catalog

from mrumonitor.config import STAC_BANDS
from mrumonitor.raster.stac.server import LocalStacApi

#: every test runs the `mrumonitor` command in its own process (seconds each)
pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Cloud cover of the three January items and the February one (outside period P1).
CLOUD = [50.0, 60.0, 100.0, 0.0]


def config(folder: Path, api: str) -> Path:
    """Two stac inputs on the same API: `inner` inside every item's footprint, `outer` around it."""
    west, south, east, north = inner_bounds()
    inner = [west + 0.0005, south + 0.0005, east - 0.0005, north - 0.0005]
    outer = [west - 0.01, south - 0.01, east + 0.01, north + 0.01]
    path = folder / "mrumonitor.toml"
    path.write_text(f"""[paths]
work = "work"
store = "layers"
[imagery]
timeout_s = 2
retries = 1
backoff_s = 0.01
{provider_block("test", api)}[activity]
baseline = "P1"
periods = [{{ name = "P1", start = 2024-01-01, end = 2024-01-31 }}, {{ name = "P2", start = 2024-03-01, end = 2024-03-31 }}]
{input_block("inner", "test", inner, max_cloud_cover=100)}{input_block("outer", "test", outer, max_cloud_cover=100)}""",
                    encoding="utf-8")
    return path


@pytest.fixture
def catalogue(tmp_path) -> Path:
    specs = daily_specs(4, step_days=10)  # 01-05, 01-15, 01-25, 02-04
    for spec, cloud in zip(specs, CLOUD, strict=True):
        spec.cloud_cover = cloud
    write_catalog(tmp_path / "stac", specs)
    return tmp_path / "stac"


def assets_size(root: Path, item_id: str) -> int:
    return sum((root / COLLECTION / "assets" / item_id / f"{band}.tif").stat().st_size for band in STAC_BANDS)


def no_traceback(done: subprocess.CompletedProcess) -> None:
    assert not any(mark in done.stdout + done.stderr for mark in TRACEBACK_MARKS)


def test_scenes_search_json_gives_items_clear_share_and_bytes(catalogue, tmp_path):
    with LocalStacApi(catalogue) as api:
        done = mrumonitor("scenes", "search", "--config", str(config(tmp_path, api.url)), "--period", "P1", "--json")
        assert done.returncode == 0, done.stderr
        assert [m for m, path, _ in api.requests if path.startswith("/search")] == ["POST", "POST"]  # one per input
    inner, outer = json.loads(done.stdout)
    january = ["S2_TEST_20240105", "S2_TEST_20240115", "S2_TEST_20240125"]
    assert [row["id"] for row in inner["item_list"]] == january
    assert (inner["items"], inner["first"], inner["last"]) == (3, "2024-01-05", "2024-01-25")
    assert inner["cloud_cover"] == {"min": 50.0, "mean": 70.0, "max": 100.0}
    assert inner["clear_share"] == pytest.approx(1 - 0.5 * 0.6 * 1.0)  # every cell under all three items
    assert inner["clear_share_basis"] == "estimated from eo:cloud_cover"
    assert inner["countries"] == {"SLE": 3}
    assert [row["offset"] for row in inner["item_list"]] == [-1000.0] * 3
    assert outer["bytes"] == sum(assets_size(catalogue, item_id) for item_id in january)  # whole items inside
    assert inner["bytes"] < outer["bytes"]
    assert 0 < outer["clear_share"] < inner["clear_share"]


def test_scenes_search_table_and_unknown_sizes(catalogue, tmp_path):
    item_file = catalogue / COLLECTION / "items" / "S2_TEST_20240115.json"
    item = json.loads(item_file.read_text())
    del item["assets"]["B11"]["file:size"]
    item_file.write_text(json.dumps(item))
    with LocalStacApi(catalogue) as api:
        done = mrumonitor("scenes", "search", "--config", str(config(tmp_path, api.url)), "--input", "inner")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "│ inner" in line]
    assert [line.split("│")[1:8] for line in lines][:2] == [
        [" inner ", " P1     ", "     3 ", " 2024-01-05 to 2024-01-25 ", " 50-100 (mean 70) ", "         70% ",
         " unknown "],
        [" inner ", " P2     ", "     0 ", " -                        ", " -                ", "          0% ",
         "     0 B "]]
    assert "estimated from eo:cloud_cover" in done.stdout
    assert "│ inner │ P1     │   3 │" in done.stdout  # items per country (SLE)
    no_traceback(done)


@pytest.mark.hostile
def test_scenes_search_with_the_api_down_is_a_plain_message(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    done = mrumonitor("scenes", "search", "--config", str(config(tmp_path, url)))
    assert done.returncode == 2
    assert f"the STAC API {url} could not be searched for period P1" in " ".join(done.stderr.split())
    no_traceback(done)


@pytest.mark.hostile
@pytest.mark.parametrize(("args", "words"), [
    (["--period", "P9"], "--period P9: no such period; the periods are P1, P2."),
    (["--input", "nope"], "--input nope: not a stac input of the configuration; its stac inputs: inner, outer."),
])
def test_scenes_search_unknown_names(tmp_path, args, words):
    done = mrumonitor("scenes", "search", "--config", str(config(tmp_path, "http://127.0.0.1:9")), *args)
    assert done.returncode == 2
    assert words in " ".join(done.stderr.split())
    no_traceback(done)


def test_scenes_serve_answers_until_interrupted(catalogue):
    server = subprocess.Popen([sys.executable, "-m", "mrumonitor.cli", "scenes", "serve", str(catalogue), "--port",
                               "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_environment())
    try:
        first = server.stdout.readline()
        url = first.split(" at ")[1].split(" ")[0]
        assert first.startswith(f"STAC API over {catalogue} at http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/collections", timeout=10) as answer:
            assert [c["id"] for c in json.load(answer)["collections"]] == [COLLECTION]
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    finally:
        server.kill()
    assert server.returncode == 0, err
    assert out.strip() == "stopped"


#: Start the command the way a parent may leave SIGINT: ignored (a background job of a shell script) or blocked;
#: exec keeps both, as a shell's fork and exec would.
_PARENTS = {"ignored": "signal.signal(signal.SIGINT, signal.SIG_IGN)",
            "blocked": "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})", "plain": "pass"}


@pytest.mark.parametrize(("parent", "stop"), [("ignored", signal.SIGINT), ("blocked", signal.SIGINT),
                                              ("plain", signal.SIGTERM)],
                         ids=["SIGINT ignored by its parent", "SIGINT blocked by its parent", "SIGTERM"])
def test_scenes_serve_stops_on_sigint_or_sigterm_whatever_its_parent_did(catalogue, parent, stop):
    """A background job of a shell script inherits SIGINT ignored (and a test runner may leave it blocked): the
    server still stops on it, and on SIGTERM (a service manager), saying so."""
    command = [sys.executable, "-m", "mrumonitor.cli", "scenes", "serve", str(catalogue), "--port", "0"]
    launcher = f"import os, signal, sys; {_PARENTS[parent]}; os.execv(sys.executable, {command!r})"
    server = subprocess.Popen([sys.executable, "-c", launcher], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=_environment())
    try:
        assert server.stdout.readline().startswith(f"STAC API over {catalogue} at http://127.0.0.1:")
        server.send_signal(stop)
        out, err = server.communicate(timeout=30)
    finally:
        server.kill()
    assert (server.returncode, out.strip()) == (0, "stopped"), err


@pytest.mark.hostile
def test_scenes_serve_a_folder_without_collections(tmp_path):
    done = mrumonitor("scenes", "serve", str(tmp_path))
    assert done.returncode == 2
    assert "holds no collection (no */collection.json)" in " ".join(done.stderr.split())
    no_traceback(done)
