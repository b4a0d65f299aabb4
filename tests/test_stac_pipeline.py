"""A STAC input through the whole batch update, as an analyst runs it: `mrumonitor run` in its own process against a
real STAC API on 127.0.0.1 (issue 16). The run publishes the items it read as its inputs, each with the reflectance
offset its own metadata gave; the next run re-uses every period without reading an asset; with the API down, the run
stops with a plain message naming it, and the latest published run stays as it was."""

from __future__ import annotations

import json

import pytest
from hostile import assert_refused, mrumonitor
from run_inputs import write_run_inputs
from stac_catalog import COLLECTION, asset_requests, served
from test_stac_detect import catalogue, stac_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def run_config(folder, api: str):
    """The small world of `run_inputs` (a licence per national cadastre) with the STAC input of `test_stac_detect`."""
    sources = write_run_inputs(folder).read_text()
    config = stac_config(folder, api)
    config.write_text(config.read_text() + sources[sources.index("[sources."):])
    return config


def latest(folder) -> tuple[str, dict]:
    runs = folder / "layers" / "runs"
    run_id = (runs / "LATEST").read_text().strip()
    return run_id, json.loads((runs / run_id / "manifest.json").read_text())


def test_a_run_publishes_its_items_reuses_them_and_survives_the_api_going_down(tmp_path):
    items = catalogue()
    with served(tmp_path / "stac", items) as (api, _):
        config = run_config(tmp_path, api.url)
        first = mrumonitor("run", "--config", str(config))
        assert first.returncode == 0, first.stdout + first.stderr
        run_id, manifest = latest(tmp_path)
        read = [record for record in manifest["inputs"] if record.get("kind") == "stac"]
        assert sorted(record["item"] for record in read) == sorted(item.id for item in items)
        assert {record["offset"] for record in read} == {-1000.0}
        assert all("baseline" in record["offset_rule"] for record in read)
        assert all(record["path"].startswith(f"{api.url}/collections/{COLLECTION}/items/") for record in read)
        assert manifest["detect"]["processed"] == ["P0", "P1", "P2"]

        api.clear_requests()
        second = mrumonitor("run", "--config", str(config))
        assert second.returncode == 0, second.stdout + second.stderr
        assert asset_requests(api) == [], "the second run read imagery although nothing changed"
        second_id, manifest = latest(tmp_path)
        assert second_id != run_id and manifest["detect"]["reused"] == ["P0", "P1", "P2"]

    down = mrumonitor("run", "--config", str(config))
    message = assert_refused(down, api.url)
    assert "latest published run" in message
    assert latest(tmp_path)[0] == second_id
