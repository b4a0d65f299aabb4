"""The dashboard's data and callbacks as plain functions, on a demo run: the figures are the command line's,
filters change them, site-level outputs follow the user's access, the views file is checked."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import orjson
import pandas as pd
import plotly.graph_objects as go
import pytest
from conftest import callback_body

from mrumonitor.analysis.summary import country_overview
from mrumonitor.dashboard.access import REGIONAL, Access
from mrumonitor.dashboard.aggregates import kpis, overview
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.dossier import dossier_html, site_dossier
from mrumonitor.dashboard.filters import default_filters
from mrumonitor.dashboard.routes import reference_url
from mrumonitor.dashboard.run import load_run
from mrumonitor.dashboard.site_level import concession_layer, site_layer, site_table
from mrumonitor.dashboard.views import load_views
from mrumonitor.errors import AccessDenied, ConfigError, UnknownSite
from mrumonitor.runfolder import RunFolder

SLE_AGENCY = Access("nma_sle", "agency", "SLE")


@pytest.fixture(scope="module")
def run(demo_settings):
    return load_run(demo_settings)


@pytest.mark.demo
def test_overview_is_what_the_command_line_prints(run):
    layers = {name: pd.read_parquet(RunFolder(run.run_dir).layer(name)) for name in ("registration_summary", "sites")}
    printed = country_overview(layers["registration_summary"], layers["sites"], run.last_period)
    pd.testing.assert_frame_equal(overview(run, default_filters(run, commodity="")), printed)  # every commodity


@pytest.mark.demo
def test_kpis_follow_the_filters(run):
    region = kpis(run, default_filters(run))
    sle = kpis(run, default_filters(run, countries=["SLE"]))
    table = overview(run, default_filters(run)).set_index("country")
    assert sle["active_ha"] == pytest.approx(table.loc["SLE", "active ha"])
    assert region["active_ha"] == pytest.approx(table.loc[list(run.countries), "active ha"].sum())
    border = kpis(run, default_filters(run, border_only=True))
    assert border["active_ha"] < region["active_ha"] and border["border_zone_sites"] == region["border_zone_sites"]
    unregistered = kpis(run, default_filters(run, classes=["no_licence"]))
    assert unregistered["unregistered_share"] == pytest.approx(100.0)


@pytest.mark.demo
def test_site_layer_is_limited_by_access_zoom_and_bounds(run):
    filters = default_filters(run, commodity="")
    region = site_layer(run, filters, REGIONAL, 6, None)
    assert region["summary"]["shape"] == "cells" and len(region["features"]) < 500
    agency = site_layer(run, filters, SLE_AGENCY, 9, None)
    assert agency["summary"]["shape"] == "points"
    shown = {f["properties"]["site_id"] for f in agency["features"]}
    countries = run.sites.set_index("site_id").loc[list(shown), "countries"]
    assert shown and all("SLE" in c for c in countries)
    gin = site_layer(run, default_filters(run, countries=["GIN"]), SLE_AGENCY, 9, None)
    assert gin["features"] == []
    site = run.sites[run.sites["last_seen"] == run.last_period].iloc[0]
    box = [[site["lat"] - 0.01, site["lon"] - 0.01], [site["lat"] + 0.01, site["lon"] + 0.01]]
    close = site_layer(run, filters, REGIONAL, 14, box)
    assert close["summary"]["shape"] == "polygons"
    assert site["site_id"] in {f["properties"]["site_id"] for f in close["features"]}


@pytest.mark.demo
def test_site_table_pages_sorts_filters_and_hides_other_countries(run):
    filters = default_filters(run)
    rows, total = site_table(run, filters, SLE_AGENCY, page=0, page_size=10,
                                sort_by=[{"column_id": "risk_score", "direction": "desc"}],
                                filter_query='{registration} contains "no licence" && {area_ha} > 5')
    assert 0 < len(rows) <= 10 < total
    assert {r["country"] for r in rows} <= {"SLE", "GIN", "LBR", "CIV", ""} and all("SLE" in r["country"] or r
                                                                                    for r in rows)
    assert [r["risk_score"] for r in rows] == sorted((r["risk_score"] for r in rows), reverse=True)
    assert all(r["registration"] == "no licence" and r["area_ha"] > 5 for r in rows)  # the class in words
    _, everyone = site_table(run, filters, REGIONAL)
    _, agency = site_table(run, filters, SLE_AGENCY)
    assert agency < everyone


@pytest.mark.demo
def test_concessions_follow_access(run):
    filters = default_filters(run)
    licences = concession_layer(run, filters, SLE_AGENCY, 9, None)["features"]
    ids = {f["properties"]["licence_id"] for f in licences}
    assert ids and set(run.concessions.set_index("licence_id").loc[list(ids), "country"]) == {"SLE"}
    assert concession_layer(run, filters, REGIONAL, 6, None)["features"] == []  # region-wide: too heavy


@pytest.mark.demo
def test_dossier_and_its_export(run):
    site = run.sites[run.sites["country"] == "GIN"].iloc[0]["site_id"]
    dossier = site_dossier(run, site, REGIONAL)
    assert list(dossier.history["period"]) == sorted(dossier.history["period"])
    assert dossier.svg.startswith("<svg") and "km</text>" in dossier.svg
    page = dossier_html(dossier)
    assert site in page and "CC BY 4.0" in page and "SYNTHETIC" in page
    with pytest.raises(AccessDenied):
        site_dossier(run, site, SLE_AGENCY)
    with pytest.raises(UnknownSite):
        site_dossier(run, "MS-nope", REGIONAL)


@pytest.mark.demo
def test_callbacks_as_plain_functions(demo_settings, run):
    app = create_app(demo_settings)
    from mrumonitor.dashboard.maplayers import click_target, map_status
    from mrumonitor.dashboard.pages import downloads, overview, unregistered

    with app.server.test_request_context():
        region = overview.overview_outputs(run, default_filters(run))
        sle = overview.overview_outputs(run, default_filters(run, countries=["SLE"]))
        assert region[0] != sle[0]  # active area KPI
        assert "not available to your role" in map_status(run, SLE_AGENCY, "GIN", None, "", [], [], 9, None)
        rows, pages, _note = unregistered.table_page(run, SLE_AGENCY, default_filters(run), 0, 20, [], "")
        assert rows and {r["country"] for r in rows} <= {"SLE", "GIN"} and pages >= 1
        links = str(downloads.download_rows(run.manifest, "GIN", SLE_AGENCY))
        assert "/download/" not in links.split("site_periods")[1].split("alerts")[0]
        assert "download-capacity-csv" in links and "download-capacity-metadata" in links
        order = downloads.layer_order(run.manifest["layers"])
        assert order[:3] == ["sites", "site_periods", "alerts"] and order[-1].startswith("activity_")
    assert click_target({"properties": {"kind": "site", "site_id": "MS-1"}})[0] == "/site/MS-1"


@pytest.mark.demo
def test_charts_are_valid_plotly_figures_and_plain_json(demo_settings, run):
    """The charts are dicts plotly's own validation accepts, and every chart callback's answer is plain JSON
    data: orjson takes it as it is, without Dash's slow path through every value of the answer."""
    app = create_app(demo_settings)
    from mrumonitor.dashboard.pages import border, overview

    with app.server.test_request_context():
        answers = [overview.overview_outputs(run, default_filters(run, classes=["no_licence"])),
                   border.border_outputs(run, REGIONAL, default_filters(run, countries=["SLE"]))]
    charts = [item for answer in answers for item in answer if isinstance(item, dict) and "data" in item]
    charts.append(border.capacity_figure(run))
    assert len(charts) == 5
    for chart in charts:
        go.Figure(chart)  # raises on any property plotly does not know
        assert chart["data"] and chart["layout"]["plot_bgcolor"] == "white"
    orjson.dumps(answers)
    assert all(trend["layout"]["yaxis"]["rangemode"] == "tozero" for trend in charts[:2])  # the overview's trends
    capacity = charts[-1]
    panels = [a["text"] for a in capacity["layout"]["annotations"]]
    assert panels and set(panels) <= set(run.countries)
    assert {trace["xaxis"] for trace in capacity["data"]} == {"x"} | {f"x{i}" for i in range(2, len(panels) + 1)}
    assert all(capacity["layout"][f"yaxis{i}"]["matches"] == "y" for i in range(2, len(panels) + 1))


@pytest.mark.demo
def test_map_reference_layers_come_by_url_once_per_run(demo_settings, run):
    client = create_app(demo_settings).server.test_client()
    reply = client.get(reference_url(run.run_id, "countries"))
    assert reply.status_code == 200 and reply.mimetype == "application/geo+json"
    assert "max-age=86400" in reply.headers["Cache-Control"]
    outlines = reply.get_json()
    assert sorted(f["properties"]["iso3"] for f in outlines["features"]) == sorted(run.reference.boundaries["iso3"])
    posts = client.get(reference_url("latest", "border_posts")).get_json()
    assert len(posts["features"]) == len(run.reference.border_posts)
    for path in (reference_url(run.run_id, "sites"), reference_url(run.run_id, "countries.json"),
                 reference_url("20990101T000000Z-ffff", "countries"), "/reference/countries.geojson"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.mimetype == "text/plain", path
    page = callback_body(client.get("/_dash-dependencies").get_json(), "_pages_content",
                         {"_pages_location.pathname": "/map", "_pages_location.search": ""})
    layout = json.dumps([client.get("/_dash-layout").get_json(),
                         client.post("/_dash-update-component", json=page).get_json()])
    assert reference_url(run.run_id, "borders") in layout
    assert '"coordinates"' not in layout  # no layer's geometry travels with a page


@pytest.mark.demo
def test_pages_add_no_warning_per_view(demo_settings):
    """`mrumonitor serve` logs warnings; a page with tables must not add one per view (Dash's DataTable
    deprecation notice came with every page served: 250 kB of log a minute under load)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # as `mrumonitor` sets it; create_app adds its filters in front
        client = create_app(demo_settings).server.test_client()
        page = callback_body(client.get("/_dash-dependencies").get_json(), "_pages_content",
                             {"_pages_location.pathname": "/unregistered", "_pages_location.search": ""})
        for _ in range(3):
            assert client.post("/_dash-update-component", json=page).status_code == 200
    assert [str(w.message) for w in caught if "DataTable" in str(w.message)] == []


@pytest.mark.demo
def test_dossier_route_refuses_other_countries(demo_settings, run, monkeypatch):
    from mrumonitor.dashboard import dossier

    app = create_app(demo_settings)
    client = app.server.test_client()
    gin = run.sites[run.sites["country"] == "GIN"].iloc[0]["site_id"]
    assert client.get(f"/dossier/{run.run_id}/{gin}.html").status_code == 200
    monkeypatch.setattr(dossier, "current_access", lambda: SLE_AGENCY)
    answer = client.get(f"/dossier/{run.run_id}/{gin}.html")
    assert answer.status_code == 403 and b"may see site-level data of SLE only" in answer.data
    assert client.get(f"/dossier/{run.run_id}/MS-nope.html").status_code == 404
    unknown_run = client.get(f"/dossier/20990101T000000Z-abcd/{gin}.html")  # a well-formed id of no run
    assert unknown_run.status_code == 404 and b"no run '20990101T000000Z-abcd'" in unknown_run.data


@pytest.mark.demo
def test_a_page_the_views_file_leaves_out_is_not_offered(demo_settings, tmp_path):
    views = Path(demo_settings.dashboard.views).read_text(encoding="utf-8")
    start = views.index("[pages.border]")
    without_border = tmp_path / "views.toml"
    without_border.write_text(views[:start] + views[views.index("[pages.", start + 1):], encoding="utf-8")
    settings = demo_settings.model_copy(update={"dashboard": demo_settings.dashboard.model_copy(
        update={"views": without_border})})
    client = create_app(settings).server.test_client()
    dependencies = client.get("/_dash-dependencies").get_json()

    def page(path):
        body = callback_body(dependencies, "_pages_content", {"_pages_location.pathname": path,
                                                              "_pages_location.search": ""})
        return json.dumps(client.post("/_dash-update-component", json=body).get_json())

    assert "This page is not part of this dashboard." in page("/border")
    assert "Border corridors" not in page("/border") and "/border" not in json.dumps(
        client.get("/_dash-layout").get_json())
    assert "not part of this dashboard" not in page("/unregistered")


@pytest.mark.unit
def test_views_file_is_checked(tmp_path):
    bad = tmp_path / "views.toml"
    bad.write_text('[pages.overview]\ntitle = "x"\nkpis = ["carats"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="carats"):
        load_views(bad)
    bad.write_text('[pages.nowhere]\ntitle = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown page"):
        load_views(bad)
