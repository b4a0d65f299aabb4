"""How the reference layers are stored: file names, the exchange precision, reading and atomic writing.

Every derived file is WGS84 GeoJSON (RFC 7946) with coordinates rounded to `COORD_DECIMALS`, rows in a
stable order, so a rebuild that changes nothing leaves git with nothing to show.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from mrumonitor.crs import WGS84, norm_crs
from mrumonitor.errors import ReferenceDataError

log = logging.getLogger(__name__)

#: Country outlines as published (input, committed).
SOURCE_OUTLINES = "admin0_source.geojson"
#: Consistent country outlines (derived, committed).
BOUNDARIES = "boundaries.geojson"
#: Shared international border lines, one row per pair of neighbours (derived, committed).
BORDERS = "borders.geojson"
#: Border posts with approximate positions, typed by hand (input, committed).
BORDER_POSTS_SOURCE = "border_posts_source.csv"
#: Border posts snapped to the derived border lines (derived, committed).
BORDER_POSTS = "border_posts.geojson"

#: Decimals kept in the committed files: 1e-6 degree is about 0.1 m.
COORD_DECIMALS = 6

REBUILD_FIX = "run `mrumonitor reference build` to derive it from the committed sources."


def read_layer(reference_dir: str | Path, name: str, crs: Any, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Read one derived reference layer, check its columns and return it in `crs`.

    Raises
    ------
    ReferenceDataError
        When the file is missing, unreadable or lacks one of `columns`; the message says how to rebuild it.
    """
    crs = norm_crs(crs, f"CRS requested for {name}")
    path = Path(reference_dir) / name
    if not path.is_file():
        raise ReferenceDataError(f"{path}: reference layer not found. Fix: {REBUILD_FIX}")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except pyogrio.errors.DataSourceError as exc:
        raise ReferenceDataError(f"{path}: cannot be read ({exc}). Fix: {REBUILD_FIX}") from exc
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ReferenceDataError(f"{path}: column(s) {', '.join(missing)} missing. Fix: {REBUILD_FIX}")
    return frame[[*columns, "geometry"]].to_crs(crs)


def to_exchange(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return `frame` in WGS84 with coordinates rounded to `COORD_DECIMALS`.

    Rounding is done point by point, so vertices shared by neighbouring polygons stay identical and an
    edge-matched coverage stays edge-matched.
    """
    exchange = frame.to_crs(WGS84)
    rounded = shapely.transform(np.asarray(exchange.geometry), lambda xy: np.round(xy, COORD_DECIMALS))
    return exchange.set_geometry(gpd.GeoSeries(rounded, index=exchange.index, crs=WGS84))


def write_layer(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """Write `frame` (already in WGS84) as RFC 7946 GeoJSON: aside first, then moved into place."""
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    pyogrio.write_dataframe(
        frame, tmp, driver="GeoJSON", RFC7946="YES", COORDINATE_PRECISION=COORD_DECIMALS, WRITE_NAME="NO"
    )
    os.replace(tmp, path)
    log.info("wrote %s (%d features, %.0f kB)", path, len(frame), path.stat().st_size / 1024)
    return path
