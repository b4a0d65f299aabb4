"""The real mining detections of the demo region: loading, country, commodity and clustering.

The detections (`data/mining_detections_mru.csv`, CC BY 4.0, see `data/README.md`) are real ground scars a
model flagged in the Earth Index survey of 2026-06-24. The demo gives each one:

- a **country**: the MRU country whose outline holds it (the consistent outlines of `mrumonitor.reference`
  when they are built, else the raw source outlines, where a point in an overlap goes to the country it
  lies deepest inside); points outside all four stay unassigned ("");
- a **commodity**: the commodity of the committed zone it lies in (the mapped diamond fields and gold belts,
  `layers/reference/commodity_zones.geojson`), `analysis.commodity_default` elsewhere. The analysis then
  decides each site's commodity afresh, with its basis (`mrumonitor.analysis.commodity.site_commodity`);
- a **cluster**: detections of one country in one `CLUSTER_CELL_M` grid cell of the analysis CRS.
"""

from __future__ import annotations

import datetime as dt
import warnings
from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from mrumonitor.analysis.commodity import site_commodity
from mrumonitor.config import load_settings
from mrumonitor.crs import WGS84
from mrumonitor.errors import ReferenceDataError
from mrumonitor.reference.commodity import load_commodity_zones
from mrumonitor.resources import project_root
from mrumonitor.schema import MRU_COUNTRIES

#: Date of the Earth Index detection survey: registration is judged on this day.
SURVEY_DATE = dt.date(2026, 6, 24)

#: Side of the grid cells (analysis CRS, metres) that group detections into clusters.
CLUSTER_CELL_M = 5_000.0

_DETECTIONS_FILE = "mining_detections_mru.csv"
_RAW_OUTLINES = "admin0_source.geojson"


def load_detections() -> pd.DataFrame:
    """The real detections shipped with the package: det_id, lon, lat (WGS84), area_ha."""
    resource = files("mrumonitor.demo") / "data" / _DETECTIONS_FILE
    with resource.open("rb") as f:
        return pd.read_csv(f, dtype={"det_id": "int64", "lon": "float64", "lat": "float64", "area_ha": "float64"})


def reference_dir() -> Path:
    """The project's committed reference layers (country outlines, border posts)."""
    return project_root() / "layers" / "reference"


def raw_outlines(crs: CRS) -> gpd.GeoSeries:
    """The country outlines as published (neighbours overlap and leave gaps), indexed by ISO3, in `crs`."""
    frame = gpd.read_file(reference_dir() / _RAW_OUTLINES, columns=["iso_a3"])
    return frame.set_index("iso_a3").geometry.to_crs(crs)


def consistent_outlines(crs: CRS) -> gpd.GeoSeries | None:
    """The consistent outlines of `mrumonitor.reference`, indexed by ISO3, in `crs`; None if not available.

    Warns when the module is there but its layer has not been built yet (the raw outlines then serve).
    """
    try:
        from mrumonitor.reference import load_boundaries
    except ImportError:
        return None
    try:
        frame = load_boundaries(reference_dir(), crs)
    except ReferenceDataError as exc:
        warnings.warn(f"demo uses the raw country outlines: {exc}", stacklevel=2)
        return None
    return frame.set_index("iso3").geometry.to_crs(crs)


def assign_countries(x: np.ndarray, y: np.ndarray, outlines: gpd.GeoSeries) -> np.ndarray:
    """ISO3 code of the MRU country holding each point, "" outside all four.

    Coordinates and `outlines` (ISO3 index) share one CRS. Where outlines overlap (the raw ones do), a point
    goes to the country it lies deepest inside.
    """
    points = shapely.points(x, y)
    depth = np.full((len(x), len(MRU_COUNTRIES)), -np.inf)
    for j, iso in enumerate(MRU_COUNTRIES):
        inside = shapely.contains_xy(outlines[iso], x, y)
        depth[inside, j] = shapely.distance(points[inside], outlines[iso].boundary)
    best = np.asarray(MRU_COUNTRIES, dtype=object)[depth.argmax(axis=1)]
    return np.where(np.isfinite(depth.max(axis=1)), best, "")


def detection_commodity(x: np.ndarray, y: np.ndarray, crs: CRS) -> np.ndarray:
    """Commodity of each detection (coordinates in the metric `crs`) by the analysis's own rule
    (`analysis.commodity.site_commodity`: in or near a mapped diamond field, in a gold belt, else the default of
    configs/default.toml), so the licences planted for it are of the commodity the run will give its site."""
    analysis = load_settings().analysis
    zones = load_commodity_zones(analysis.commodity_zones, crs)
    points = gpd.GeoDataFrame({"site_id": np.arange(len(x))}, geometry=shapely.points(x, y), crs=crs)
    decided = site_commodity(points, zones, analysis.commodity_default, analysis.near_field_km)
    return decided["commodity"].to_numpy(dtype=object)


def cluster_ids(x: np.ndarray, y: np.ndarray, country: np.ndarray, cell_m: float = CLUSTER_CELL_M) -> np.ndarray:
    """Cluster number of each point: one per (country, grid cell); -1 for points without a country."""
    cells = pd.DataFrame({"country": country, "ix": np.floor(x / cell_m), "iy": np.floor(y / cell_m)})
    ids = cells.groupby(["country", "ix", "iy"], sort=True).ngroup().to_numpy()
    return np.where(country == "", -1, ids)


def prepare_detections(crs: CRS, outlines: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """The detections with country, commodity and cluster, as points in the metric `crs` of `outlines`."""
    frame = load_detections()
    points = gpd.GeoSeries.from_xy(frame["lon"], frame["lat"], crs=WGS84).to_crs(crs)
    x, y = points.x.to_numpy(), points.y.to_numpy()
    country = assign_countries(x, y, outlines)
    return gpd.GeoDataFrame(
        frame.assign(
            country=country,
            commodity=detection_commodity(x, y, crs),
            cluster=cluster_ids(x, y, country),
        ),
        geometry=points,
    )
