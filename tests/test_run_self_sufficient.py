"""A published run stands on its own: after the configuration and the reference files change, the old run is
still drawn, exported and clipped exactly as before, with the reference layers and thresholds it was computed with.

Everything goes through what a user runs: `mrumonitor run` publishes, `mrumonitor serve` draws (a real server
process, so nothing is cached from before the change), `mrumonitor export --country` clips.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import rasterio
import requests
import shapely
from hostile import mrumonitor
from run_inputs import PERIODS, write_run_inputs

from mrumonitor.config import load_settings
from mrumonitor.reference.layers import ReferenceLayers

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: The map layers every run serves from what it carries.
MAP_LAYERS = ("countries", "borders", "border_zone", "border_posts")
#: How far the changed reference files move every outline, border and post (degrees).
SHIFT_DEG = 0.3


def test_an_old_run_is_drawn_exported_and_clipped_as_published_after_the_configuration_changes(tmp_path):
    config = _world_with_admin_areas(tmp_path)
    published = mrumonitor("run", "--config", str(config), timeout=600)
    assert published.returncode == 0, published.stdout[-2000:] + published.stderr[-2000:]
    before = _what_users_get(config, tmp_path / "before")

    _change_reference_files(tmp_path / "reference")
    _change_configuration(config, border_zone_km=2.0, admin_name="Renamed")
    changed = ReferenceLayers.load(load_settings(config))
    assert changed.border_zone["width_km"].iat[0] == 2.0  # the change is real: today's zone is another one
    assert changed.admin["admin1"]["name"].eq("Renamed").all()

    after = _what_users_get(config, tmp_path / "after")
    assert after == before
    assert "Border zone (15 km)" in before["border_zone"]  # the run's own width, not the configured 2 km
    assert ("North" in before["dossier"] or "South" in before["dossier"]) and "Renamed" not in after["dossier"]


def _world_with_admin_areas(folder: Path) -> Path:
    """The smallest whole-pipeline world (`run_inputs`), with its own copy of the reference files and an admin
    layer splitting Sierra Leone into North and South."""
    config = write_run_inputs(folder)
    settings = load_settings(config)
    reference = folder / "reference"
    shutil.copytree(settings.paths.reference, reference)
    _write_admin(folder / "admin1.gpkg", settings.paths.reference, "North", "South")
    config.write_text(config.read_text(encoding="utf-8").replace(
        "[paths]\n", f'[paths]\nreference = "{reference}"\n') + """
[analysis]
border_zone_km = 15.0
[analysis.admin.admin1]
file = "admin1.gpkg"
name_field = "name"
country_field = "iso3"
""", encoding="utf-8")
    return config


def _write_admin(path: Path, reference: Path, north: str, south: str) -> None:
    """Sierra Leone cut at 8.5 N into two admin areas."""
    sle = gpd.read_file(reference / "boundaries.geojson").set_index("iso3").geometry["SLE"]
    cut = shapely.box(-14.0, 8.5, -10.0, 10.5)
    gpd.GeoDataFrame({"name": [north, south], "iso3": ["SLE", "SLE"]},
                     geometry=[sle.intersection(cut), sle.difference(cut)], crs=4326).to_file(path)


def _change_reference_files(reference: Path) -> None:
    """Move every outline, border line and border post of the reference folder by `SHIFT_DEG`."""
    for name in ("boundaries.geojson", "borders.geojson", "border_posts.geojson"):
        frame = gpd.read_file(reference / name)
        frame.geometry = frame.geometry.translate(SHIFT_DEG, SHIFT_DEG)
        (reference / name).unlink()
        frame.to_file(reference / name, driver="GeoJSON")


def _change_configuration(config: Path, border_zone_km: float, admin_name: str) -> None:
    text = config.read_text(encoding="utf-8").replace("border_zone_km = 15.0", f"border_zone_km = {border_zone_km}")
    config.write_text(text, encoding="utf-8")
    settings = load_settings(config)
    (config.parent / "admin1.gpkg").unlink()
    _write_admin(config.parent / "admin1.gpkg", settings.paths.reference, admin_name, admin_name)


def _what_users_get(config: Path, out: Path) -> dict[str, str]:
    """What the dashboard serves and what `export --country SLE` writes, from the latest run."""
    out.mkdir()
    run_id = (load_settings(config).paths.store / "runs" / "LATEST").read_text(encoding="utf-8").strip()
    got = {}
    with _served(config) as base:
        for name in MAP_LAYERS:
            got[name] = _get(f"{base}/reference/{run_id}/{name}.geojson")
        got["download_sle"] = _get(f"{base}/download/{run_id}/sites.geojson?country=SLE")
        site = gpd.read_parquet(load_settings(config).paths.store / "runs" / run_id / "sites.parquet")
        sle_site = site.loc[site["country"] == "SLE", "site_id"].iat[0]
        got["dossier"] = _get(f"{base}/dossier/{run_id}/{sle_site}.html")
    for layer, suffix in (("sites", "geojson"), ("border_corridors", "geojson"), (f"activity_{PERIODS[-1]}", "tif")):
        path = out / f"{layer}_sle.{suffix}"
        done = mrumonitor("export", layer, "--country", "SLE", "--config", str(config), "-o", str(path), timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        got[f"export_{layer}"] = _raster_digest(path) if suffix == "tif" else path.read_text(encoding="utf-8")
    return got


def _raster_digest(path: Path) -> str:
    """The pixels, grid and CRS of a raster (a GeoTIFF's bytes also hold the time it was written)."""
    with rasterio.open(path) as dataset:
        return hashlib.sha256(dataset.read().tobytes() + repr((dataset.transform, dataset.crs.to_wkt())).encode()
                              ).hexdigest()


def _get(url: str) -> str:
    answer = requests.get(url, timeout=120)
    assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:500]}"
    return answer.text


@contextlib.contextmanager
def _served(config: Path) -> Iterator[str]:
    """`mrumonitor serve` of the configuration, as a real process; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "mrumonitor.cli", "serve", "--config", str(config), "--port",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True, env={**os.environ})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, "mrumonitor serve stopped"
            assert time.monotonic() < deadline, "mrumonitor serve did not answer within 180 s"
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{base}/", timeout=30).status_code == 200:
                    break
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)

