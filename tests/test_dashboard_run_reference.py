"""A published run is drawn with what it was computed with: after the configuration's border zone and the
reference files change, the dashboard serves the old run's map layers and figures exactly as before; a run
published before runs carried their reference layers is refused in plain words."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import pandas as pd
import pytest
from conftest import DASHBOARD_PERIOD, DASHBOARD_RUN, callback_body, write_dashboard_run

from mrumonitor.config import load_settings
from mrumonitor.dashboard.aggregates import kpis, overview
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.filters import default_filters
from mrumonitor.dashboard.routes import download_url, overlay_url, reference_url
from mrumonitor.dashboard.run import load_run
from mrumonitor.runfolder import RunFolder


@pytest.fixture
def changed_settings(demo_settings, tmp_path):
    """The demo's settings with the demo run copied into a new store, the border zone 7 km wider and the
    country outlines and borders moved 50 km east in the reference files."""
    run = load_run(demo_settings)
    store = tmp_path / "layers"
    shutil.copytree(run.run_dir, store / "runs" / run.run_id)
    (store / "runs" / "LATEST").write_text(run.run_id, encoding="utf-8")
    reference = shutil.copytree(demo_settings.paths.reference, tmp_path / "reference")
    for name in ("boundaries", "borders"):
        path = reference / f"{name}.geojson"
        layer = gpd.read_file(path)
        moved = layer.to_crs(demo_settings.analysis_crs).translate(xoff=50_000).to_crs(layer.crs)
        layer.set_geometry(moved).to_file(path, driver="GeoJSON")
    analysis = demo_settings.analysis.model_copy(update={"border_zone_km": demo_settings.analysis.border_zone_km + 7})
    return demo_settings.model_copy(update={
        "paths": demo_settings.paths.model_copy(update={"store": store, "reference": reference}),
        "analysis": analysis})


@pytest.mark.demo
def test_an_old_run_is_drawn_and_counted_as_it_was_computed(demo_settings, changed_settings):
    before, after = load_run(demo_settings), load_run(changed_settings)
    assert after is not before  # read again, from the copied run, under the changed settings
    client = create_app(changed_settings).server.test_client()
    for name, layer in before.map_layers.items():
        reply = client.get(reference_url(before.run_id, name))
        assert reply.status_code == 200 and json.loads(reply.data) == json.loads(json.dumps(layer)), name
    zone = json.loads(client.get(reference_url(before.run_id, "border_zone")).data)
    width = demo_settings.analysis.border_zone_km
    assert zone["features"][0]["properties"]["tooltip"] == f"Border zone ({width:g} km)"
    for values in ({}, {"border_only": True}, {"countries": ["SLE"], "commodity": "diamond"}):
        assert kpis(after, default_filters(after, **values)) == kpis(before, default_filters(before, **values))
        pd.testing.assert_frame_equal(overview(after, default_filters(after, **values)),
                                      overview(before, default_filters(before, **values)))
    pd.testing.assert_frame_equal(after.site_views.table_rows, before.site_views.table_rows)  # admin areas too


@pytest.mark.integration
def test_a_run_without_reference_layers_is_refused_in_plain_words(tmp_path):
    store = tmp_path / "layers"
    manifest_path = RunFolder(write_dashboard_run(store)).manifest
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["reference"]  # as a run published before runs carried them
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    settings = load_settings()
    settings = settings.model_copy(update={"paths": settings.paths.model_copy(update={"store": store})})
    client = create_app(settings).server.test_client()
    for url in (reference_url(DASHBOARD_RUN, "countries"), download_url(DASHBOARD_RUN, "sites", "csv", "GIN")):
        reply = client.get(url)
        assert reply.status_code == 503 and reply.mimetype == "text/plain", url
        assert "holds no reference layer boundaries" in reply.text and "Publish a new run" in reply.text, url
    assert client.get(download_url(DASHBOARD_RUN, "sites", "csv")).status_code == 200  # the region: no outline
    assert client.get(overlay_url(DASHBOARD_RUN, DASHBOARD_PERIOD)).status_code == 200
    body = callback_body(client.get("/_dash-dependencies").get_json(), "_pages_content",
                         {"_pages_location.pathname": "/", "_pages_location.search": ""})
    page = client.post("/_dash-update-component", json=body)
    assert page.status_code == 200 and "This page cannot be shown" in page.text and "Publish a new run" in page.text
