"""How the reference layers are stored: file names, the exchange precision, reading and atomic writing.

Every derived file is WGS84 GeoJSON (RFC 7946) with coordinates rounded to `COORD_DECIMALS`, rows in a
stable order, so a rebuild that changes nothing leaves git with nothing to show.
"""

from __future__ import annotations

import json
import logging
import os
import re
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

#: A position as `json.dumps(..., indent=1)` spreads it over four lines.
_POSITION = re.compile(r"\[\s+(-?[0-9.eE+-]+),\s+(-?[0-9.eE+-]+)\s+\]")

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


def to_exchange_coverage(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return an edge-matched coverage in WGS84, rounded to `COORD_DECIMALS` and still edge-matched.

    Rounding polygons one by one can make a ring cross itself or a neighbour. Instead, all the edges are
    noded together on the rounding grid and polygonised; each face goes back to the polygon it lies in
    (or within a grid step of) and faces that belong to none, such as lagoons, stay out.
    """
    exchange = frame.to_crs(WGS84)
    geoms = np.asarray(exchange.geometry)
    grid = 10.0**-COORD_DECIMALS
    edges = shapely.union_all(shapely.boundary(geoms), grid_size=grid)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    face, owner = shapely.STRtree(geoms).query_nearest(
        shapely.point_on_surface(faces), max_distance=grid, all_matches=False
    )
    rounded = [shapely.coverage_union_all(faces[face[owner == i]]) for i in range(len(geoms))]
    return exchange.set_geometry(gpd.GeoSeries(rounded, index=exchange.index, crs=WGS84))


def write_layer(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """Write `frame` (already in WGS84, rounded) as RFC 7946 GeoJSON: aside first, then moved into place.

    One position per line, so a change to a border shows in `git diff` as the lines of the vertices that
    moved rather than as one rewritten feature. Polygon exteriors are counter-clockwise, as RFC 7946 asks.
    """
    oriented = frame.set_geometry(shapely.orient_polygons(np.asarray(frame.geometry), exterior_cw=False))
    text = json.dumps(oriented.to_geo_dict(drop_id=True), ensure_ascii=False, indent=1)
    text = _POSITION.sub(r"[\1, \2]", text) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    log.info("wrote %s (%d features, %.0f kB)", path, len(frame), path.stat().st_size / 1024)
    return path
