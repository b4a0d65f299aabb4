"""The site dossier's field files, downloaded through the dashboard's route and opened by their own readers: the
GPX by gpxpy, the KML by GDAL (pyogrio), the PDF by pypdf; on the tiny area world (tests/area_world), completed
into a run the dashboard loads. An agency user gets 403 for another country's site, a wrong extension 404."""

from __future__ import annotations

import json
from dataclasses import replace

import geopandas as gpd
import gpxpy
import numpy as np
import pandas as pd
import pyogrio
import pypdf
import pytest
import shapely
from area_world import AREA_RUN, write_area_run
from conftest import FlaskClient, write_config

from mrumonitor.config import load_settings
from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.crs import WGS84
from mrumonitor.dashboard import dossier
from mrumonitor.dashboard.access import Access
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.dossier_notes import field_notes
from mrumonitor.dashboard.run import load_run
from mrumonitor.frames import empty_frame
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import (
    CAPACITY_COLUMNS,
    CORRIDOR_PERIOD_COLUMNS,
    KP_ANOMALY_COLUMNS,
    SITE_ANALYSIS_COLUMNS,
    SITE_COLUMNS,
    SITE_LINEAGE_COLUMNS,
    SITE_PERIOD_ANALYSIS_COLUMNS,
    SITE_PERIOD_COLUMNS,
)
from mrumonitor.verification.fieldsheets import dms

pytestmark = pytest.mark.integration

SLE_AGENCY = Access("nma_sle", "agency", "SLE")


def dashboard_area_run(store) -> RunFolder:
    """The area world with what the dashboard reads besides: the sites' and footprints' other columns (empty), the
    pieces as geometries, and the three tables (empty)."""
    folder = RunFolder(write_area_run(store, synthetic=True))
    for name, schemas in (("sites", (SITE_COLUMNS, SITE_LINEAGE_COLUMNS, SITE_ANALYSIS_COLUMNS)),
                          ("site_periods", (SITE_PERIOD_COLUMNS, SITE_PERIOD_ANALYSIS_COLUMNS))):
        layer = gpd.read_parquet(folder.layer(name))
        for columns in schemas:
            for column, dtype in columns.items():
                if column not in layer:
                    layer[column] = pd.Series(index=layer.index, dtype=dtype)
        layer.to_parquet(folder.layer(name))
    periods = gpd.read_parquet(folder.layer("site_periods")).set_index(["site_id", "period"]).geometry
    pieces = pd.read_parquet(folder.layer("site_registration"))
    shapes = periods.reindex(pd.MultiIndex.from_frame(pieces[["site_id", "period"]])).to_numpy()
    gpd.GeoDataFrame(pieces, geometry=shapes, crs=periods.crs).to_parquet(folder.layer("site_registration"))
    manifest = json.loads(folder.manifest.read_text(encoding="utf-8"))
    for name, columns in (("corridor_periods", CORRIDOR_PERIOD_COLUMNS), ("capacity", CAPACITY_COLUMNS),
                          ("kp_anomalies", KP_ANOMALY_COLUMNS)):
        empty_frame(columns).to_parquet(folder.layer(name))
        manifest["layers"][name] = {"path": folder.relative(folder.layer(name)), "kind": "table", "title": name}
    folder.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    return dashboard_area_run(tmp_path_factory.mktemp("dossier-files") / "layers")


@pytest.fixture(scope="module")
def client(run_folder):
    root = run_folder.path.parent.parent.parent
    settings = load_settings(write_config(root, f'[paths]\nstore = "{root / "layers"}"\nwork = "{root / "work"}"\n'))
    return FlaskClient(create_app(settings).server)


def site_lonlat(run_folder, site_id: str) -> tuple[float, float]:
    """The representative point of the site's latest footprint, in WGS84."""
    periods = gpd.read_parquet(run_folder.layer("site_periods"))
    latest = periods[periods["site_id"] == site_id].sort_values("period").iloc[-1:]
    point = latest.geometry.representative_point().to_crs(WGS84).iloc[0]
    return point.x, point.y


def download(client, site_id: str, ext: str):
    reply = client.request("GET", f"/dossier/{AREA_RUN}/{site_id}.{ext}")
    assert reply.status == 200, reply.text
    assert f'filename="dossier_{site_id}_{AREA_RUN}.{ext}"' in reply.headers["Content-Disposition"]
    return reply


def test_the_gpx_holds_the_site_and_its_nearest_crossing_and_the_footprint(client, run_folder):
    gpx = gpxpy.parse(download(client, "SLE-BORDER", "gpx").text)
    site, crossing = gpx.waypoints
    lon, lat = site_lonlat(run_folder, "SLE-BORDER")
    assert site.name == "SLE-BORDER" and (site.longitude, site.latitude) == pytest.approx((lon, lat), abs=1e-5)
    assert "no licence" in site.description and "nearest official crossing" in site.description
    assert crossing.name in site.description and crossing.description.startswith("Official border crossing")
    outline = [(p.longitude, p.latitude) for p in gpx.tracks[0].segments[0].points]
    assert len(outline) == 5 and outline[0] == outline[-1]  # the closed 400 m square
    footprint = shapely.Polygon(outline)
    assert footprint.contains(shapely.Point(lon, lat))


def test_the_kml_read_by_gdal_has_the_points_and_the_footprint_polygon(client, run_folder, tmp_path):
    path = tmp_path / "dossier.kml"
    path.write_bytes(download(client, "GIN-SITE", "kml").body)
    layers = pyogrio.list_layers(path)
    frame = pd.concat([pyogrio.read_dataframe(path, layer=name) for name, _ in layers])
    frame.columns = [column if column == "geometry" else column.lower() for column in frame.columns]  # KML or LIBKML
    kinds = dict(zip(frame["name"], frame.geometry.geom_type.str.replace("3D ", "")))
    assert kinds["GIN-SITE"] == "Point" and kinds["GIN-SITE footprint 2025H2"] == "Polygon"
    assert sum(kind == "Point" for kind in kinds.values()) == 2  # the site and its nearest official crossing
    polygon = frame[frame["name"] == "GIN-SITE footprint 2025H2"].geometry.iloc[0]
    periods = gpd.read_parquet(run_folder.layer("site_periods"))
    expected = periods[periods["site_id"] == "GIN-SITE"].to_crs(WGS84).geometry.iloc[-1]
    assert shapely.equals_exact(shapely.force_2d(polygon).normalize(), expected.normalize(), tolerance=1e-5)
    assert "GN-L-0001" in frame.set_index("name").loc["GIN-SITE", "description"]


def test_the_pdf_prints_coordinates_licences_access_notes_and_credit(client, run_folder):
    reply = download(client, "GIN-SITE", "pdf")
    reader = pypdf.PdfReader(pd.io.common.BytesIO(reply.body))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    lon, lat = site_lonlat(run_folder, "GIN-SITE")
    assert "Site dossier GIN-SITE" in text and AREA_RUN in text
    assert f"{lat:.5f}° N" in text and f"{abs(lon):.5f}° W" in text
    assert dms(lat, "N", "S") in text
    assert "SYNTHETIC" in text and "Société Macenta" in text and "GN-L-0001" in text  # accents print
    assert "Gueckedou (from the run's admin layer 'district')" in text
    assert "Nearest official crossing:" in text and "Nearest town:" in text and "bearing" in text
    assert " ".join(DETECTIONS_CREDIT.split()) in text
    assert any("/XObject" in page["/Resources"] for page in reader.pages)  # the context map image


def test_the_page_links_the_files_and_shows_the_context_map(run_folder):
    root = run_folder.path.parent.parent.parent
    data = load_run(load_settings(write_config(root, f'[paths]\nstore = "{root / "layers"}"\n')), AREA_RUN)
    sheet = dossier.site_dossier(data, "SLE-BORDER", Access("kp", "regional", None))
    svg = sheet.context_svg
    assert svg.startswith("<svg") and "GIN-SLE border: 0.7 km" in svg and sheet.notes.crossing.name in svg
    assert sheet.notes.border.distance_km == pytest.approx(0.7, abs=0.01)  # from the waypoint: the square's centre
    assert np.isfinite(sheet.notes.crossing.distance_km) and sheet.notes.town is not None
    assert dict(sheet.facts)["Admin area"].startswith("Kailahun")


def test_an_agency_gets_403_for_another_countrys_site_files(client, monkeypatch):
    monkeypatch.setattr(dossier, "current_access", lambda: SLE_AGENCY)
    for ext in ("gpx", "kml", "pdf", "html"):
        answer = client.request("GET", f"/dossier/{AREA_RUN}/GIN-SITE.{ext}")
        assert answer.status == 403 and "may see site-level data of SLE only" in answer.text, ext
    assert client.request("GET", f"/dossier/{AREA_RUN}/SLE-BORDER.gpx").status == 200


@pytest.mark.hostile
@pytest.mark.parametrize("name", ["GIN-SITE.txt", "GIN-SITE.GPX", "GIN-SITE", "GIN-SITE.kmz", "MS-nope.gpx"])
def test_a_wrong_extension_or_site_is_404(client, name):
    assert client.request("GET", f"/dossier/{AREA_RUN}/{name}").status == 404


def test_without_an_admin_layer_the_admin_area_is_named_from_a_town_of_the_sites_own_country(client, run_folder):
    root = run_folder.path.parent.parent.parent
    data = load_run(load_settings(write_config(root, f'[paths]\nstore = "{root / "layers"}"\n')), AREA_RUN)
    data = replace(data, reference=replace(data.reference, admin={}))
    for site_id, country in (("SLE-BORDER", "SLE"), ("GIN-SITE", "GIN")):
        site = data.sites[data.sites["site_id"] == site_id].iloc[0]
        notes = field_notes(data, site, np.flatnonzero(data.site_periods["site_id"] == site_id))
        assert notes.admin_area.startswith("near ") and f"nearest town of {country}" in notes.admin_source
        places = data.reference.places
        town = notes.admin_area.removeprefix("near ").split(",")[0]
        assert places.loc[places["name"] == town, "country"].eq(country).all()  # never the neighbour's province
