"""A site dossier of the demo in Debian's headless chromium: the GPX, KML and PDF buttons download files that their
own readers open (gpxpy, GDAL's KML driver through pyogrio, pypdf) with the site's id and coordinates; the image
chips load (the demo's Koidu scenes, labelled SYNTHETIC); the before/after chooser changes the pair shown and the
area change; the same page in French (`/language/fr`) speaks French; nothing is fetched from outside the app."""

from __future__ import annotations

import time
from pathlib import Path

import gpxpy
import numpy as np
import pandas as pd
import pyogrio
import pypdf
import pytest
import shapely
from dash.testing.wait import until

from mrumonitor.dashboard.access import REGIONAL
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.dossier import site_dossier
from mrumonitor.dashboard.run import load_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The chips' images as the browser holds them: (src, naturalWidth) of each.
_IMAGES = "return [...document.querySelectorAll(arguments[0] + ' img')].map(i => [i.src, i.naturalWidth]);"


def imagery_site(settings) -> str:
    """The largest site of the demo seen in several periods inside a scene area (the Koidu, Triborder or Seguela
    imagery), so its chips are read from the run's imagery."""
    data = load_run(settings)
    areas = [shapely.box(*entry["bounds"]) for entry in data.manifest["layers"].values() if entry.get("area")]
    inside = shapely.contains(shapely.union_all(areas), shapely.centroid(data.period_shapes[np.arange(len(data.period_shapes))]))
    seen = data.site_periods[inside].groupby("site_id")["area_ha"].agg(["count", "max"])
    return str(seen[seen["count"] >= 2]["max"].idxmax())


def downloaded(folder: Path, suffix: str, timeout: float = 60.0) -> Path:
    """The file ending with `suffix` the browser finished downloading into `folder`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = list(folder.glob(f"*{suffix}"))
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} arrived in {folder}: {sorted(p.name for p in folder.iterdir())}")


def loaded_chips(duo, selector: str, count: int) -> list:
    """The (src, naturalWidth) of the `count` chips under `selector`, once every one has loaded."""
    until(lambda: len(images := duo.driver.execute_script(_IMAGES, selector)) == count
          and all(width > 0 for _, width in images), timeout=30)
    return duo.driver.execute_script(_IMAGES, selector)


def test_a_dossier_downloads_its_field_files_shows_chips_and_before_after_in_both_languages(dash_duo, demo_settings):
    site = imagery_site(demo_settings)
    notes = site_dossier(load_run(demo_settings), site, REGIONAL, demo_settings.imagery_cache).notes
    dash_duo.start_server(create_app(demo_settings))
    driver = dash_duo.driver
    driver.get(f"{dash_duo.server_url}/site/{site}")
    dash_duo.wait_for_element("#dossier-facts", timeout=60)

    folder = Path(dash_duo.download_path)
    for suffix in ("gpx", "kml", "pdf"):
        dash_duo.find_element(f"#dossier-{suffix}").click()
        downloaded(folder, f".{suffix}")
    waypoint = gpxpy.parse(downloaded(folder, ".gpx").read_text(encoding="utf-8")).waypoints[0]
    assert waypoint.name == site
    assert (waypoint.longitude, waypoint.latitude) == pytest.approx((notes.lon, notes.lat), abs=1e-5)
    kml = downloaded(folder, ".kml")
    frame = pd.concat([pyogrio.read_dataframe(kml, layer=name) for name, _ in pyogrio.list_layers(kml)])
    frame.columns = [column if column == "geometry" else column.lower() for column in frame.columns]
    point = frame[frame["name"] == site].geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx((notes.lon, notes.lat), abs=1e-5)
    text = " ".join(" ".join(page.extract_text().split())
                    for page in pypdf.PdfReader(downloaded(folder, ".pdf")).pages)
    assert f"Site dossier {site}" in text and f"{notes.lat:.5f}° N" in text and f"{abs(notes.lon):.5f}° W" in text
    assert "SYNTHETIC demo imagery: Sentinel-2 composite" in text

    periods = load_run(demo_settings).periods
    chips = loaded_chips(dash_duo, "#dossier-chips", len(periods))
    assert all(f"/chip/{period}.png" in src for (src, _), period in zip(chips, periods))
    assert "SYNTHETIC demo imagery" in dash_duo.find_element("#dossier-chips").text

    pair = loaded_chips(dash_duo, "#dossier-before-after", 2)
    change = dash_duo.find_element("#dossier-before-after-change").text
    other = next(period for period in periods if f"/chip/{period}.png" not in pair[0][0]
                 and f"/chip/{period}.png" not in pair[1][0])
    dash_duo.select_dcc_dropdown("#dossier-before", value=other)
    until(lambda: f"/chip/{other}.png" in loaded_chips(dash_duo, "#dossier-before-after", 2)[0][0], timeout=30)
    assert dash_duo.find_element("#dossier-before-after-change").text != change

    driver.get(f"{dash_duo.server_url}/language/fr?next=/site/{site}")
    dash_duo.wait_for_contains_text("#dossier-chips", "images de démonstration FICTIVES", timeout=60)
    page = driver.find_element("css selector", "body").text
    for words in ("Avant et après", "Vignettes d'image par période", "Poste frontière officiel le plus proche",
                  "Évolution de la superficie du site", "PDF à imprimer (A4)"):
        assert words in page, words
    loaded_chips(dash_duo, "#dossier-chips", len(periods))

    fetched = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched and all(url.startswith((dash_duo.server_url, "data:")) for url in fetched)
    assert dash_duo.get_logs() == []
