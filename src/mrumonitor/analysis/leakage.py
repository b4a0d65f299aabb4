"""Cross-border leakage, spatial signals: where each site footprint sits against borders and crossings.

For every footprint (each site in each period): the distance from its edge to the nearest international
border, which pair of countries that border separates and which corridor of it is nearest; the nearest
official crossing (`analysis.post_kinds`, operational posts only) and its distance; and whether the footprint
lies in the border zone (`analysis.border_zone_km`). Distances are measured in the analysis CRS, from the
footprint's polygon (0 for a footprint touching or crossing the border), with one spatial-index nearest
query for all footprints. The border query runs against the corridors' straight segments rather than the
corridors: the index then prunes down to the few segments near each footprint instead of measuring whole
25 km lines (same distances, about three times faster). The queries run on every core (`threads`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.analysis.threads import query_nearest
from mrumonitor.config import AnalysisSettings


def official_crossings(posts: gpd.GeoDataFrame, settings: AnalysisSettings) -> gpd.GeoDataFrame:
    """The posts that count as crossings for "far from a crossing" (dist_post_km, nearest_post_*, the
    far_from_post risk factor): one of the kinds of `analysis.post_kinds` (official posts only by default), and
    operational. The run's manifest records the kinds in its thresholds (analysis.post_kinds)."""
    operational = posts["operational"].astype(bool)
    return posts[posts["kind"].isin(settings.post_kinds) & operational].reset_index(drop=True)


def border_signals(footprints: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame, crossings: gpd.GeoDataFrame,
                   settings: AnalysisSettings) -> pd.DataFrame:
    """Border and crossing distances of each footprint.

    Parameters
    ----------
    footprints : GeoDataFrame
        Site footprints (analysis CRS).
    corridors : GeoDataFrame
        corridor_id, border_pair, geometry: the border lines cut into corridors (`cut_corridors`).
    crossings : GeoDataFrame
        post_id, name, geometry: the official crossings (`official_crossings`).
    settings : AnalysisSettings

    Returns
    -------
    DataFrame
        Aligned with `footprints`: dist_border_km, border_pair, corridor_id, nearest_post_id, nearest_post_name,
        dist_post_km, in_border_zone. Columns are empty (NaN / None / False) when there is no border or no crossing.
    """
    geoms = np.asarray(footprints.geometry)
    segments, owner = _segments(np.asarray(corridors.geometry))
    segment, border_km = _nearest(geoms, segments)
    corridor = np.where(segment >= 0, owner[segment], -1)
    post, post_km = _nearest(geoms, np.asarray(crossings.geometry))
    signals = pd.DataFrame({
        "dist_border_km": border_km.round(4),
        "border_pair": _take(corridors, "border_pair", corridor),
        "corridor_id": _take(corridors, "corridor_id", corridor),
        "nearest_post_id": _take(crossings, "post_id", post),
        "nearest_post_name": _take(crossings, "name", post),
        "dist_post_km": post_km.round(4),
        "in_border_zone": border_km <= settings.border_zone_km,
    }, index=footprints.index)
    return signals.astype({"border_pair": "string", "corridor_id": "string", "nearest_post_id": "string",
                           "nearest_post_name": "string"})


def _segments(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every straight two-point segment of `lines`, and the position of the line each belongs to."""
    xy, line = shapely.get_coordinates(lines, return_index=True)
    inside = line[1:] == line[:-1]
    return shapely.linestrings(np.stack([xy[:-1][inside], xy[1:][inside]], axis=1)), line[:-1][inside]


def _nearest(geoms: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position in `targets` of the nearest target of each geometry (-1 if none) and the distance (km)."""
    position = np.full(len(geoms), -1)
    km = np.full(len(geoms), np.nan)
    if len(targets) and len(geoms):
        item, target, distance = query_nearest(shapely.STRtree(targets), geoms)
        position[item], km[item] = target, distance / 1000.0
    return position, km


def _take(frame: pd.DataFrame, column: str, position: np.ndarray) -> np.ndarray:
    values = np.append(frame[column].to_numpy(dtype=object), None)
    return values[position]  # position -1 picks the appended None
