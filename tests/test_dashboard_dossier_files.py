"""The site dossier's field files, downloaded through the dashboard's route and opened by their own readers: the
GPX by gpxpy, the KML by GDAL (pyogrio), the PDF by pypdf; on the tiny area world (tests/area_world), completed
into a run the dashboard loads. An agency user gets 403 for another country's site, a wrong extension 404. Image
chips: the run's imagery where its cache keeps it, else its activity rasters, each labelled so; the PDF in French
prints the first and last period's chips."""

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
import rasterio
import shapely
from area_world import AREA_RUN, write_area_run
from conftest import FlaskClient, write_config
from rasterio.transform import from_origin

from mrumonitor.config import load_settings
from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.crs import WGS84
from mrumonitor.dashboard import dossier
from mrumonitor.dashboard.access import Access
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.dossier_chips import OUTLINE
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


# --- image chips: the run's imagery where kept, else its activity rasters -------------------------------------

CHIP_INPUT, CHIP_ITEM = "scenes_test", "S2X_MSIL2A_20251012_TEST_SYNTHETIC"


def grid_around(footprints, cell: float) -> tuple[list[float], tuple[int, int]]:
    """The bounds and shape (rows, columns) of a grid of `cell` metres reaching 2 km beyond `footprints`."""
    minx, miny, maxx, maxy = shapely.bounds(shapely.union_all(footprints))
    shape = (int((maxy - miny + 4000) // cell) + 1, int((maxx - minx + 4000) // cell) + 1)
    return [minx - 2000, maxy + 2000 - shape[0] * cell, minx - 2000 + shape[1] * cell, maxy + 2000], shape


def burn(footprints, bounds: list[float], cell: float, shape: tuple[int, int], value, fill) -> np.ndarray:
    """`value` in the cells whose centre lies in `footprints`, `fill` elsewhere."""
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    x, y = bounds[0] + (cols + 0.5) * cell, bounds[3] - (rows + 0.5) * cell
    return np.where(shapely.contains_xy(shapely.union_all(footprints), x, y), value, fill)


def write_raster(path, bounds: list[float], cell: float, layers: np.ndarray, **options) -> None:
    with rasterio.open(path, "w", driver="GTiff", width=layers.shape[2], height=layers.shape[1], count=len(layers),
                       dtype=layers.dtype, crs=load_settings().analysis_crs,
                       transform=from_origin(bounds[0], bounds[3], cell, cell), **options) as dataset:
        dataset.write(layers)


@pytest.fixture(scope="module")
def chip_folder(tmp_path_factory):
    """The area world with an activity raster per period (100 % on the footprints, 100 m cells) and, in the imagery
    cache, the composite of one STAC input covering GIN-SITE in 2025H2 only (bright on its footprint, 20 m cells),
    its item listed in the manifest as the run's."""
    folder = dashboard_area_run(tmp_path_factory.mktemp("dossier-chips") / "layers")
    periods = gpd.read_parquet(folder.layer("site_periods"))
    manifest = json.loads(folder.manifest.read_text(encoding="utf-8"))
    bounds, shape = grid_around(list(periods.geometry), 100.0)
    for period in manifest["periods"]:
        path = folder.activity(period["name"])
        cells = burn(list(periods[periods["period"] == period["name"]].geometry), bounds, 100.0, shape, 100, 0)
        write_raster(path, bounds, 100.0, cells.astype(np.uint8)[None], nodata=255)
        manifest["layers"][f"activity_{period['name']}"] = {
            "path": folder.relative(path), "kind": "raster", "period": period["name"], "bounds": bounds,
            "resolution": 100.0}
    gin = list(periods[(periods["site_id"] == "GIN-SITE") & (periods["period"] == "2025H2")].geometry)
    composite = folder.path.parent.parent / "imagery-cache" / CHIP_INPUT / "key1" / "composite.tif"
    composite.parent.mkdir(parents=True)
    bounds, shape = grid_around(gin, 20.0)
    reflectance = burn(gin, bounds, 20.0, shape, 0.2, 0.03)
    write_raster(composite, bounds, 20.0, np.stack([reflectance] * 5 + [np.full(shape, 3.0)]).astype(np.float32))
    with rasterio.open(composite, "r+") as dataset:
        dataset.descriptions = ("B02", "B03", "B04", "B08", "B11", "count")
    item = {"type": "Feature", "id": CHIP_ITEM, "properties": {
        "datetime": "2025-10-12T10:30:00Z", "constellation": "sentinel-2", "mrumonitor:synthetic": "test data"}}
    (composite.parent / "items.json").write_text(json.dumps({"type": "FeatureCollection", "features": [item]}))
    manifest["inputs"] = [{"role": "activity", "kind": "stac", "input": CHIP_INPUT, "period": "2025H2",
                           "item": CHIP_ITEM}]
    folder.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def chip_client(chip_folder):
    root = chip_folder.path.parent.parent.parent
    settings = load_settings(write_config(root, f'[paths]\nstore = "{root / "layers"}"\nwork = "{root / "work"}"\n'))
    return FlaskClient(create_app(settings).server), settings


def chip_pixels(client, site_id: str, period: str, **kwargs) -> np.ndarray:
    from PIL import Image

    reply = client.request("GET", dossier.chip_url(AREA_RUN, site_id, period), **kwargs)
    assert reply.status == 200 and reply.headers["Content-Type"] == "image/png", reply.text
    return np.asarray(Image.open(pd.io.common.BytesIO(reply.body)).convert("RGB")).astype(int)


def test_a_site_without_imagery_gets_activity_chips_that_say_so(chip_client):
    client, settings = chip_client
    data = load_run(settings, AREA_RUN)
    sheet = dossier.site_dossier(data, "SLE-BORDER", Access("kp", "regional", None), settings.imagery_cache)
    assert [chip.period for chip in sheet.chips] == ["2025H1", "2025H2"]
    assert all(chip.source.kind == "activity" and "activity raster (100 m cells)" in chip.label()
               for chip in sheet.chips)
    pixels = chip_pixels(client, "SLE-BORDER", "2025H2")
    assert pixels.shape == (256, 256, 3)
    assert pixels[128, 128].sum() < 300 < pixels[5, 5].sum()  # 100 % (dark) on the site, 0 % (white) around it
    html = client.request("GET", dossier.dossier_export_url(AREA_RUN, "SLE-BORDER")).text
    assert html.count('src="data:image/png;base64,') == 2 and "activity raster" in html


def test_a_site_with_kept_imagery_gets_an_imagery_chip_labelled_synthetic(chip_client):
    client, settings = chip_client
    data = load_run(settings, AREA_RUN)
    first, last = dossier.site_dossier(data, "GIN-SITE", Access("kp", "regional", None), settings.imagery_cache).chips
    assert last.source.kind == "imagery" and last.label() == ("SYNTHETIC demo imagery: Sentinel-2 scene of "
                                                              "Oct 12, 2025")
    assert first.source.kind == "activity"  # no imagery kept for 2025H1
    pixels = chip_pixels(client, "GIN-SITE", "2025H2")
    assert pixels[128, 128].sum() > pixels[5, 5].sum() + 300  # the bright bare ground of the composite, centred
    assert (pixels == OUTLINE["imagery"]).all(axis=-1).any()


def test_an_agency_gets_403_for_another_countrys_chip_and_a_wrong_chip_address_is_404(chip_client, monkeypatch):
    client, _ = chip_client
    monkeypatch.setattr(dossier, "current_access", lambda: SLE_AGENCY)
    answer = client.request("GET", dossier.chip_url(AREA_RUN, "GIN-SITE", "2025H2"))
    assert answer.status == 403 and "may see site-level data of SLE only" in answer.text
    assert client.request("GET", dossier.chip_url(AREA_RUN, "SLE-BORDER", "2025H2")).status == 200
    for path in (dossier.chip_url(AREA_RUN, "SLE-BORDER", "2031H1"), dossier.chip_url(AREA_RUN, "MS-nope", "2025H2"),
                 f"/dossier/{AREA_RUN}/SLE-BORDER/chip/2025H2.jpg"):
        assert client.request("GET", path).status == 404, path


def test_the_pdf_in_french_prints_the_first_and_last_chips_and_french_notes(chip_client):
    client, _ = chip_client
    reply = client.request("GET", dossier.dossier_export_url(AREA_RUN, "GIN-SITE", "pdf"),
                           headers={"Accept-Language": "fr"})
    assert reply.status == 200
    reader = pypdf.PdfReader(pd.io.common.BytesIO(reply.body))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for words in ("Dossier du site GIN-SITE", "Vignettes d'image, première et dernière période", "2025H1", "2025H2",
                  "images de démonstration FICTIVES : scène Sentinel-2 du 12 oct. 2025", "raster d'activité",
                  "Poste frontière officiel le plus proche", "azimut", "Titres miniers enregistrés", "GN-L-0001"):
        assert words in text, words
    images = sum(len(page.images) for page in reader.pages)
    assert images == 3  # the two chips and the context map
