"""`mrumonitor demo` without --no-serve, as the README's first command runs it: it publishes the demo run and
then serves the dashboard of that very run until stopped."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from mrumonitor.config import load_settings
from mrumonitor.store.runs import read_manifest, resolve_run

pytestmark = pytest.mark.demo


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, seconds: float) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the demo stopped (exit {process.returncode}) instead of serving"
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            time.sleep(1)
    raise AssertionError(f"nothing answered at {url} within {seconds:.0f} s")


def test_demo_publishes_then_serves_the_dashboard_of_its_run(session_demo, tmp_path):
    port = _free_port()
    # a copy of the session's demo folder: the command rebuilds the same inputs there and, as a user's second
    # `mrumonitor demo` does, re-uses the periods already computed, then publishes a new run and serves it
    workdir = shutil.copytree(session_demo[0], tmp_path / "demo", symlinks=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "mrumonitor.cli", "demo", "--workdir", str(workdir), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"})
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/", process, seconds=600)
        assert page.status_code == 200
        layout = requests.get(f"http://127.0.0.1:{port}/_dash-layout", timeout=30)
        assert layout.status_code == 200
        run_id = resolve_run(load_settings(workdir / "mrumonitor.toml").paths.store).name
        assert run_id in layout.text, "the dashboard does not show the run the demo published"
        assert_answers_while_browsers_hold_connections(port, browsers=25)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert f"Demo run {run_id} published" in output
    # its imagery came from a server on another port (the run's own), yet every period was re-used: where items are
    # served from is not in their fingerprints
    assert read_manifest(resolve_run(workdir / "layers"))["detect"]["processed"] == []
    assert re.search(rf"open http://127\.0\.0\.1:{port}/", output), output[-2000:]


def assert_answers_while_browsers_hold_connections(port: int, browsers: int) -> None:
    """A browser keeps up to 6 connections open to a server: with `browsers` of them holding theirs idle, a
    new request is still answered at once (waitress's default limit of 100 connections left it waiting)."""
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(6 * browsers)]
    try:
        started = time.monotonic()
        reply = requests.get(f"http://127.0.0.1:{port}/_dash-dependencies", timeout=15)
        assert reply.status_code == 200 and time.monotonic() - started < 10
    finally:
        for connection in held:
            connection.close()
