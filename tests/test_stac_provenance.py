"""What a run records about the STAC items it reads (issue 16): one input record per item and period, with the offset
its own metadata gave and how; an item whose offset had to be inferred from its date is a run warning; imagery the
demo marks synthetic gets its caveat."""

from __future__ import annotations

import datetime as dt

import pytest
from stac_catalog import ItemSpec, served
from test_stac_pipeline import run_config

from mrumonitor.config import load_settings
from mrumonitor.frames import empty_frame
from mrumonitor.pipeline.provenance import describe_inputs, input_caveats
from mrumonitor.raster.stac.items import SYNTHETIC_PROPERTY
from mrumonitor.runwarnings import collecting_warnings
from mrumonitor.schema import LICENCE_SNAPSHOT_COLUMNS

#: A run whose licences no cadastre snapshot judged from dates only.
NO_HISTORY = empty_frame(LICENCE_SNAPSHOT_COLUMNS)

pytestmark = pytest.mark.integration

MORNING = dt.datetime(2025, 2, 1, 10, 30, tzinfo=dt.UTC)


def stac_records(tmp_path, specs):
    with served(tmp_path / "stac", specs) as (api, _):
        settings = load_settings(run_config(tmp_path, api.url))
        with collecting_warnings() as warnings:
            records = [r for r in describe_inputs(settings) if r.get("kind") == "stac"]
    return settings, records, warnings


def test_each_item_is_an_input_record_with_its_offset_and_an_inferred_offset_is_a_warning(tmp_path):
    specs = [ItemSpec("S2_BASELINE", MORNING), ItemSpec("S2_BARE", MORNING + dt.timedelta(days=5), baseline=None),
             ItemSpec("S2_HARMONISED", MORNING + dt.timedelta(days=10), boa_offset_applied=True)]
    _, records, warnings = stac_records(tmp_path, specs)
    assert [(r["item"], r["period"], r["offset"]) for r in records] == [
        ("S2_BASELINE", "P1", -1000.0), ("S2_BARE", "P1", -1000.0), ("S2_HARMONISED", "P1", 0.0)]
    assert records[1]["offset_rule"].startswith("no metadata: inferred from the date")
    assert len({r["sha256"] for r in records}) == 3 and all(r["bytes"] > 0 for r in records)
    assert [w.subject.rsplit("/", 1)[-1] for w in warnings] == ["S2_BARE"]
    assert "states neither a processing baseline nor a reflectance offset" in warnings[0].message


def test_synthetic_imagery_is_said_so_in_the_caveats(tmp_path):
    specs = [ItemSpec("S2_DEMO", MORNING, properties={SYNTHETIC_PROPERTY: "demo data, not real imagery"})]
    settings, records, _ = stac_records(tmp_path, specs)
    caveats = input_caveats(settings, records, NO_HISTORY)
    assert any("imagery of s2 is SYNTHETIC" in caveat for caveat in caveats)
    real = [{**r, "synthetic": None} for r in records]
    assert not any("SYNTHETIC" in caveat for caveat in input_caveats(settings, real, NO_HISTORY))
