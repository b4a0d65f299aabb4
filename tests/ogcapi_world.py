"""A layer store for the OGC API tests (tests/test_ogcapi_*.py), the server that serves it, and GDAL's client.

Two published runs, each the tiny dashboard run (`conftest.write_dashboard_run`) with its sites replaced by 25
in Sierra Leone, Guinea and Liberia (two across the SLE-GIN border, one L-shaped), and with their footprints per
period, licences, each site's area per country and a site-level table that names no country. The newer run is
LATEST; the older one holds one more Guinean site, so that a run id chosen by an agency is a real other run.

GDAL is run in its own process (`gdal_read`): pyogrio holds the GIL while it reads, and the waitress server of
the tests runs in a thread of the test process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import flask
import geopandas as gpd
import pandas as pd
import shapely
from conftest import DASHBOARD_PERIOD, write_dashboard_run

from mrumonitor.config import Settings, load_settings
from mrumonitor.crs import WGS84
from mrumonitor.dashboard.access import install_access
from mrumonitor.dashboard.ogcapi import install_ogcapi
from mrumonitor.dashboard.routes import install_routes
from mrumonitor.runfolder import RunFolder

#: The runs of the store: the older one first; the newer is LATEST.
OLD_RUN = "20260101T120000Z-0aa0"
NEW_RUN = "20260301T120000Z-0bb0"
#: The run's periods: (name, first day, last day).
PERIODS = (("2025H2", "2025-07-01", "2025-12-31"), ("2026H1", "2026-01-01", "2026-06-30"))

#: Site id -> (lon, lat of its south-west corner, country, countries, first period, last period).
SITES = {
    **{f"SLE-{i}": (-12.4 + 0.3 * (i % 4), 7.6 + 0.3 * (i // 4), "SLE", "SLE", "2025H2", "2026H1") for i in range(10)},
    **{f"GIN-{i}": (-10.6 + 0.3 * (i % 4), 10.0 + 0.3 * (i // 4), "GIN", "GIN", "2026H1", "2026H1") for i in range(9)},
    **{f"LBR-{i}": (-10.0 + 0.3 * i, 6.6, "LBR", "LBR", "2025H2", "2025H2") for i in range(3)},
    "SLEGIN-0": (-10.95, 9.68, "SLE", "GIN;SLE", "2025H2", "2026H1"),
    "SLEGIN-1": (-10.75, 9.62, "GIN", "GIN;SLE", "2025H2", "2026H1"),
}
#: The L-shaped site: its box meets `L_GAP` but its footprint does not.
L_SITE = "SLE-L"
L_CORNER = (-11.6, 8.9)
L_GAP = (-11.575, 8.925, -11.565, 8.935)
#: The Guinean site only the older run holds.
OLD_ONLY = "GIN-OLD"
#: Side of the square sites, degrees.
SIDE = 0.02
#: A site-level table naming no country: never offered to an agency.
COUNTRYLESS = "field_notes"


def _footprint(site_id: str, lon: float, lat: float) -> shapely.Geometry:
    if site_id == L_SITE:
        x, y = L_CORNER
        return shapely.Polygon([(x, y), (x + 0.05, y), (x + 0.05, y + 0.01), (x + 0.01, y + 0.01), (x + 0.01, y + 0.05),
                                (x, y + 0.05)])
    return shapely.box(lon, lat, lon + SIDE, lat + SIDE)


def write_api_run(store: Path, run_id: str, extra_sites: dict | None = None) -> Path:
    """Write a published run of the OGC API world into `store` (it becomes LATEST); return its folder."""
    settings = load_settings()
    crs = settings.analysis_crs
    run_dir = write_dashboard_run(store, run_id)
    sites = {**SITES, L_SITE: (*L_CORNER, "SLE", "SLE", "2025H2", "2026H1"), **(extra_sites or {})}
    ids = list(sites)
    geoms = gpd.GeoSeries([_footprint(site_id, lon, lat) for site_id, (lon, lat, *_) in sites.items()],
                          crs=WGS84).to_crs(crs)
    frame = gpd.GeoDataFrame({
        "site_id": ids, "country": [row[2] for row in sites.values()], "countries": [row[3] for row in sites.values()],
        "transboundary": [";" in row[3] for row in sites.values()],
        "first_seen": [row[4] for row in sites.values()], "last_seen": [row[5] for row in sites.values()],
        "periods_seen": [1 + (row[4] != row[5]) for row in sites.values()],
        "registration": ["no_licence" if i % 3 else "registered" for i in range(len(ids))],
        "area_ha": (geoms.area / 10_000).round(2).to_numpy(), "risk_score": [round(0.03 * i, 2) for i in range(len(ids))],
    }, geometry=geoms, crs=crs)
    frame.to_parquet(run_dir / "sites.parquet")
    periods = [(row.site_id, period) for row in frame.itertuples() for period, _, _ in PERIODS
               if row.first_seen <= period <= row.last_seen]
    footprints = frame.set_index("site_id").geometry
    gpd.GeoDataFrame({"site_id": [site for site, _ in periods], "period": [period for _, period in periods],
                      "area_ha": 4.0},
                     geometry=[footprints[site] for site, _ in periods], crs=crs).to_parquet(
        run_dir / "site_periods.parquet")
    pd.DataFrame({"site_id": ids, "period": DASHBOARD_PERIOD, "country": frame["country"],
                  "area_ha": 4.0}).to_parquet(run_dir / "site_country_areas.parquet")
    gpd.GeoDataFrame({
        "licence_id": ["SL/01", "SL/02", "GN/01", "GN/02"], "country": ["SLE", "SLE", "GIN", "GIN"],
        "status": ["active", "expired", "active", "active"],
        "granted": pd.to_datetime(["2020-01-01", "2015-01-01", "2021-06-01", "2024-01-01"]),
        "expires": pd.to_datetime(["2030-01-01", "2020-12-31", "2031-06-01", "2029-01-01"]),
    }, geometry=gpd.GeoSeries([shapely.box(-12.0, 8.0, -11.9, 8.1), shapely.box(-12.2, 8.3, -12.1, 8.4),
                               shapely.box(-10.5, 10.0, -10.4, 10.1), shapely.box(-10.2, 10.3, -10.1, 10.4)],
                              crs=WGS84).to_crs(crs), crs=crs).to_parquet(run_dir / "concessions.parquet")
    pd.DataFrame({"note": ["a note about a site"]}).to_parquet(run_dir / f"{COUNTRYLESS}.parquet")
    folder = RunFolder(run_dir)
    manifest = json.loads(folder.manifest.read_text(encoding="utf-8"))
    manifest["periods"] = [{"name": name, "start": start, "end": end, "layer": f"activity_{DASHBOARD_PERIOD}"}
                           for name, start, end in PERIODS]
    manifest["layers"].update({
        "sites": {"path": "sites.parquet", "kind": "vector", "title": "Mining sites", "count": len(frame),
                  "description": "One row per mining site."},
        "site_periods": {"path": "site_periods.parquet", "kind": "vector", "title": "Footprints per period"},
        "site_country_areas": {"path": "site_country_areas.parquet", "kind": "table", "title": "Area per country"},
        "concessions": {"path": "concessions.parquet", "kind": "vector", "title": "Mining licences"},
        COUNTRYLESS: {"path": f"{COUNTRYLESS}.parquet", "kind": "table", "title": "Notes"},
    })
    folder.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    return run_dir


def write_api_store(store: Path) -> Path:
    """The two runs of the world in `store` (the newer LATEST); return `store`."""
    write_api_run(store, OLD_RUN, {OLD_ONLY: (-10.3, 10.6, "GIN", "GIN", "2025H2", "2026H1")})
    write_api_run(store, NEW_RUN)
    return store


def expected(store: Path, layer: str, run_id: str = NEW_RUN) -> gpd.GeoDataFrame:
    """The layer as published, in WGS84."""
    frame = gpd.read_parquet(store / "runs" / run_id / f"{layer}.parquet")
    return frame.to_crs(WGS84)


def store_settings(store: Path) -> Settings:
    """The default settings pointing at `store` (auth off, as in the demo)."""
    settings = load_settings()
    return settings.model_copy(update={"paths": settings.paths.model_copy(update={"store": store})})


def api_server(settings: Settings, requests_seen: list[str] | None = None) -> flask.Flask:
    """A Flask server with the dashboard's guard, routes and OGC API for `settings`; each request's path and
    query is appended to `requests_seen`."""
    app = types.SimpleNamespace(server=flask.Flask("ogcapi-test"))
    install_access(app, settings)
    install_routes(app, settings)
    install_ogcapi(app, settings)
    if requests_seen is not None:
        app.server.before_request_funcs.setdefault(None, []).insert(
            0, lambda: requests_seen.append(flask.request.full_path))
    return app.server


def gdal_read(source: str, layer: str, out: Path, env: dict[str, str] | None = None,
              **options) -> subprocess.CompletedProcess:
    """Read `layer` of the OAPIF `source` with GDAL (pyogrio.read_dataframe and its keyword `options`) in a
    process of its own, writing it as GeoParquet to `out`; GDAL configuration through `env`
    (GDAL_HTTP_AUTH, GDAL_HTTP_USERPWD...)."""
    script = textwrap.dedent(f"""
        import json, pyogrio
        options = json.loads({json.dumps(options)!r})
        if "bbox" in options:
            options["bbox"] = tuple(options["bbox"])
        frame = pyogrio.read_dataframe({source!r}, layer={layer!r}, **options)
        frame.to_parquet({str(out)!r})
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, **(env or {})})
