"""The dashboard's data and callbacks as plain functions, on a demo run: the figures are the command line's,
filters change them, site-level outputs follow the user's access, the views file is checked."""

from __future__ import annotations

import pandas as pd
import pytest

from mrumonitor.analysis.summary import country_overview
from mrumonitor.dashboard import data as dd
from mrumonitor.dashboard.access import REGIONAL, Access
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.dossier import UnknownSite, dossier_html, site_dossier
from mrumonitor.dashboard.views import load_views
from mrumonitor.errors import AccessDenied, ConfigError

SLE_AGENCY = Access("nma_sle", "agency", "SLE")


@pytest.fixture(scope="module")
def run(demo_settings):
    return dd.load_run(demo_settings)


def test_overview_is_what_the_command_line_prints(run):
    layers = {name: pd.read_parquet(run.run_dir / f"{name}.parquet") for name in ("registration_summary", "sites")}
    printed = country_overview(layers["registration_summary"], layers["sites"], run.last_period)
    pd.testing.assert_frame_equal(dd.overview(run, dd.default_filters(run)), printed)


def test_kpis_follow_the_filters(run):
    region = dd.kpis(run, dd.default_filters(run))
    sle = dd.kpis(run, dd.default_filters(run, countries=["SLE"]))
    table = dd.overview(run, dd.default_filters(run)).set_index("country")
    assert sle["active_ha"] == pytest.approx(table.loc["SLE", "active ha"])
    assert region["active_ha"] == pytest.approx(table.loc[list(run.countries), "active ha"].sum())
    border = dd.kpis(run, dd.default_filters(run, border_only=True))
    assert border["active_ha"] < region["active_ha"] and border["border_zone_sites"] == region["border_zone_sites"]
    unregistered = dd.kpis(run, dd.default_filters(run, classes=["no_licence"]))
    assert unregistered["unregistered_share"] == pytest.approx(100.0)


def test_site_layer_is_limited_by_access_zoom_and_bounds(run):
    filters = dd.default_filters(run)
    region = dd.site_layer(run, filters, REGIONAL, 6, None)
    assert region["summary"]["shape"] == "cells" and len(region["features"]) < 500
    agency = dd.site_layer(run, filters, SLE_AGENCY, 9, None)
    assert agency["summary"]["shape"] == "points"
    shown = {f["properties"]["site_id"] for f in agency["features"]}
    countries = run.sites.set_index("site_id").loc[list(shown), "countries"]
    assert shown and all("SLE" in c for c in countries)
    gin = dd.site_layer(run, dd.default_filters(run, countries=["GIN"]), SLE_AGENCY, 9, None)
    assert gin["features"] == []
    site = run.sites[run.sites["last_seen"] == run.last_period].iloc[0]
    box = [[site["lat"] - 0.01, site["lon"] - 0.01], [site["lat"] + 0.01, site["lon"] + 0.01]]
    close = dd.site_layer(run, filters, REGIONAL, 14, box)
    assert close["summary"]["shape"] == "polygons"
    assert site["site_id"] in {f["properties"]["site_id"] for f in close["features"]}


def test_site_table_pages_sorts_filters_and_hides_other_countries(run):
    filters = dd.default_filters(run)
    rows, total = dd.site_table(run, filters, SLE_AGENCY, page=0, page_size=10,
                                sort_by=[{"column_id": "risk_score", "direction": "desc"}],
                                filter_query='{registration} contains "no_licence" && {area_ha} > 5')
    assert 0 < len(rows) <= 10 < total
    assert {r["country"] for r in rows} <= {"SLE", "GIN", "LBR", "CIV", ""} and all("SLE" in r["country"] or r
                                                                                    for r in rows)
    assert [r["risk_score"] for r in rows] == sorted((r["risk_score"] for r in rows), reverse=True)
    assert all(r["registration"] == "no_licence" and r["area_ha"] > 5 for r in rows)
    _, everyone = dd.site_table(run, filters, REGIONAL)
    _, agency = dd.site_table(run, filters, SLE_AGENCY)
    assert agency < everyone


def test_concessions_follow_access(run):
    filters = dd.default_filters(run)
    licences = dd.concession_layer(run, filters, SLE_AGENCY, 9, None)["features"]
    ids = {f["properties"]["licence_id"] for f in licences}
    assert ids and set(run.concessions.set_index("licence_id").loc[list(ids), "country"]) == {"SLE"}
    assert dd.concession_layer(run, filters, REGIONAL, 6, None)["features"] == []  # region-wide: too heavy


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


def test_callbacks_as_plain_functions(demo_settings, run):
    app = create_app(demo_settings)
    from mrumonitor.dashboard.maplayers import click_target, sites_for_map
    from mrumonitor.dashboard.pages import downloads, overview, unregistered

    with app.server.test_request_context():
        region = overview.overview_outputs(run, "", None, "", [], [])
        sle = overview.overview_outputs(run, "SLE", None, "", [], [])
        assert region[0] != sle[0]  # active area KPI
        layer, status = sites_for_map(run, SLE_AGENCY, "GIN", None, "", [], [], 9, None)
        assert layer["features"] == [] and "not available to your role" in status
        rows, pages, _note = unregistered.table_page(run, SLE_AGENCY, "", None, "", [], [], 0, 20, [], "")
        assert rows and {r["country"] for r in rows} <= {"SLE", "GIN"} and pages >= 1
        links = str(downloads.download_rows(run.manifest, "GIN", SLE_AGENCY))
        assert "/download/" not in links.split("site_periods")[1].split("sites")[0]
        assert "download-capacity-csv" in links
    assert click_target({"properties": {"kind": "site", "site_id": "MS-1"}})[0] == "/site/MS-1"


def test_dossier_route_refuses_other_countries(demo_settings, run, monkeypatch):
    from mrumonitor.dashboard import dossier

    app = create_app(demo_settings)
    client = app.server.test_client()
    gin = run.sites[run.sites["country"] == "GIN"].iloc[0]["site_id"]
    assert client.get(f"/dossier/{run.run_id}/{gin}.html").status_code == 200
    monkeypatch.setattr(dossier, "current_access", lambda: SLE_AGENCY)
    answer = client.get(f"/dossier/{run.run_id}/{gin}.html")
    assert answer.status_code == 403 and b"Not allowed" in answer.data
    assert client.get(f"/dossier/{run.run_id}/MS-nope.html").status_code == 404


def test_views_file_is_checked(tmp_path):
    bad = tmp_path / "views.toml"
    bad.write_text('[pages.overview]\ntitle = "x"\nkpis = ["carats"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="carats"):
        load_views(bad)
    bad.write_text('[pages.nowhere]\ntitle = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown page"):
        load_views(bad)
