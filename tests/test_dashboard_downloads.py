"""The downloads page on the tiny dashboard run: each layer's count is that of the file a country's export holds
(not the region's), and the run's coordinate reference system is named, never "unknown"."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import DASHBOARD_RUN, write_dashboard_run

from mrumonitor.config import load_settings
from mrumonitor.dashboard import layer_counts
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.commands import COUNTED_RUNS, count_newest_runs
from mrumonitor.dashboard.layer_counts import count_every_layer, country_count
from mrumonitor.export.layer import export_layer
from mrumonitor.export.sidecar import crs_name
from mrumonitor.store.runs import read_manifest, resolve_run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(dashboard_store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("downloads")
    config = folder / "mrumonitor.toml"
    config.write_text(f'[paths]\nstore = "{dashboard_store}"\nwork = "{folder / "work"}"\n', encoding="utf-8")
    return create_app(load_settings(config))


@pytest.mark.parametrize("country", ["SLE", "GIN", "LBR"])
@pytest.mark.parametrize("layer", ["sites", "capacity", "registration_summary"])
def test_a_layers_count_is_that_of_the_countrys_export(dashboard_store, tmp_path, layer, country):
    run_dir = resolve_run(dashboard_store, DASHBOARD_RUN)
    result = export_layer(run_dir, read_manifest(run_dir), layer, "csv", tmp_path / f"{layer}.csv", country)
    assert country_count(run_dir, layer, country) == result.metadata["count"]


def test_the_server_counts_every_layer_before_it_listens_so_the_page_never_does(dashboard_store, tmp_path, caplog):
    run_dir = tmp_path / "run"
    shutil.copytree(resolve_run(dashboard_store, DASHBOARD_RUN), run_dir)
    layers = list(read_manifest(run_dir)["layers"])
    (run_dir / read_manifest(run_dir)["layers"]["capacity"]["path"]).write_bytes(b"PAR1 damaged")
    count_every_layer(run_dir, ["SLE", "GIN"])
    counted = layer_counts._count.cache_info()
    for layer in set(layers) - {"capacity"}:
        for country in ("SLE", "GIN"):
            country_count(run_dir, layer, country)
    asked = layer_counts._count.cache_info()
    assert asked.misses == counted.misses and asked.hits - counted.hits == 2 * (len(layers) - 1)
    assert "layer capacity cannot be counted for SLE" in caplog.text  # said, and the other layers counted


def test_the_server_counts_the_newest_runs_before_it_listens(tmp_path):
    store = tmp_path / "layers"
    runs = [f"2026030{day}T120000Z-d5a{day}" for day in range(1, COUNTED_RUNS + 2)]  # one more than it counts
    for run_id in runs:
        write_dashboard_run(store, run_id)
    config = tmp_path / "mrumonitor.toml"
    config.write_text(f'[paths]\nstore = "{store}"\nwork = "{tmp_path / "work"}"\n', encoding="utf-8")
    settings = load_settings(config)
    count_newest_runs(settings, ["SLE", "GIN"])
    before = layer_counts._count.cache_info()
    for run_id in runs:
        country_count(store / "runs" / run_id, "sites", "SLE")
    after = layer_counts._count.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (COUNTED_RUNS, 1)  # the oldest only counted now


def test_the_page_says_the_countrys_counts_and_names_the_crs(app, dashboard_store):
    from mrumonitor.dashboard.pages import downloads

    with app.server.test_request_context("/downloads"):
        region, manifest = downloads.update_downloads(DASHBOARD_RUN, "")
        sle, _ = downloads.update_downloads(DASHBOARD_RUN, "SLE")
    counts = {str(row.children[-1].id): row.children[-1].children for row in region[1:]}
    assert counts["count-sites"].endswith("(4 rows in the whole region)")
    sle_counts = {str(row.children[-1].id): row.children[-1].children for row in sle[1:]}
    assert sle_counts["count-sites"].endswith("(3 rows in Sierra Leone)")  # two inside, one crossing to Guinea
    facts = json.dumps(manifest[1].to_plotly_json(), default=lambda item: item.to_plotly_json())
    assert "Albers Equal Area" in facts and '"unknown"' not in facts and "Coordinate reference system" in facts


def test_a_custom_crs_is_named_by_its_projection():
    albers = "+proj=aea +lat_0=8.5 +lon_0=-8.8 +lat_1=5.7 +lat_2=11.3 +datum=WGS84 +units=m"
    assert crs_name(albers) == ("Albers Equal Area, World Geodetic System 1984 (Latitude of false origin 8.5°, "
                                "Longitude of false origin -8.8°, Latitude of 1st standard parallel 5.7°, "
                                "Latitude of 2nd standard parallel 11.3°)")
    assert crs_name(4326) == "WGS 84" and crs_name(32629) == "WGS 84 / UTM zone 29N"
