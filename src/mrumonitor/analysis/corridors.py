"""Border corridors: each international border cut into segments of about the configured length.

A border line (one per pair of neighbours, possibly in several parts) is cut into equal segments of about
`analysis.corridor_length_km`: a part of length L gets max(1, round(L / length)) segments. Corridor ids are
``<pair>-<nnn>`` numbered along the pair's line, with `from_km` / `to_km` measured along it (parts in file
order). Sites in the border zone belong to the corridor nearest to them.

A corridor's *scope* is ``mru`` when both countries of its border are project countries (the four countries of
the KP Regional Approach), else ``external`` (Côte d'Ivoire–Ghana...). Corridors are ranked within their scope,
so an external border never enters the MRU ranking: by the unregistered area of diamond sites (the KP
commodity) next to them, then by the unregistered area of every commodity, then by their distance to the
nearest crossing (further first). The crossings are the operational posts of the kinds `analysis.post_kinds`
counts (`leakage.official_crossings`; official posts only by default). `analysis.summary.corridor_ranking`
ranks the corridors of a scope the same way for any period and commodity (the command line and the dashboard).

Parts of a border line shorter than `MIN_PART_KM` are left out: they are slivers of a few metres that the
consistent outlines leave at tripoints and on the coast, and a corridor of 2 m would rank nothing. Distances
to the border are then measured to the main line, which lies within metres of them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.schema import CORRIDOR_COLUMNS, CORRIDOR_PERIOD_COLUMNS

#: Border line parts shorter than this (km) are slivers, not borders (see the module docstring).
MIN_PART_KM = 1.0


def cut_corridors(borders: gpd.GeoDataFrame, length_km: float) -> gpd.GeoDataFrame:
    """Cut every border line into corridors.

    Parameters
    ----------
    borders : GeoDataFrame
        pair, geometry ((Multi)LineString): the `borders` reference layer, in the analysis CRS.
    length_km : float
        Target corridor length.

    Returns
    -------
    GeoDataFrame
        corridor_id, border_pair, from_km, to_km, length_km, geometry (LineString), along each pair's line.
    """
    parts, owner = shapely.get_parts(np.asarray(borders.geometry), return_index=True)
    keep = shapely.length(parts) >= MIN_PART_KM * 1000.0
    parts, pair = parts[keep], borders["pair"].to_numpy(dtype=object)[owner[keep]]
    part_m = shapely.length(parts)
    count = np.maximum(1, np.round(part_m / (length_km * 1000.0))).astype(np.int64)
    step = part_m / count
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    xy, vertex_part = shapely.get_coordinates(parts, return_index=True)
    along = _distance_along(xy, vertex_part)
    vertex_seg = first[vertex_part] + np.minimum(along // step[vertex_part], count[vertex_part] - 1).astype(np.int64)
    cut_part = np.repeat(np.arange(len(parts)), count - 1)
    cut_k = np.arange(len(cut_part)) - np.repeat(first - np.arange(len(parts)), count - 1) + 1
    cut_along = cut_k * step[cut_part]
    cut_xy = shapely.get_coordinates(shapely.line_interpolate_point(parts[cut_part], cut_along))
    cut_seg = first[cut_part] + cut_k
    seg = np.concatenate([vertex_seg, cut_seg - 1, cut_seg])
    position = np.concatenate([along, cut_along, cut_along])
    order = np.lexsort((position, seg))
    lines = shapely.linestrings(np.concatenate([xy, cut_xy, cut_xy])[order], indices=seg[order])
    seg_part = np.repeat(np.arange(len(parts)), count)
    seg_k = np.arange(len(seg_part)) - first[seg_part]
    offset = _pair_offsets(pair, part_m)
    start_km = (offset[seg_part] + seg_k * step[seg_part]) / 1000.0
    number = pd.Series(seg_part).groupby(pair[seg_part]).cumcount().to_numpy() + 1
    return gpd.GeoDataFrame({
        "corridor_id": [f"{p}-{n:03d}" for p, n in zip(pair[seg_part], number, strict=True)],
        "border_pair": pair[seg_part],
        "from_km": start_km.round(3),
        "to_km": (start_km + step[seg_part] / 1000.0).round(3),
        "length_km": (step[seg_part] / 1000.0).round(3),
    }, geometry=lines, crs=borders.crs)


def corridor_figures(corridors: gpd.GeoDataFrame, footprints: pd.DataFrame, posts: gpd.GeoDataFrame,
                     periods: list[str], countries: list[str], places: gpd.GeoDataFrame | None = None
                     ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Activity of the border zone next to each corridor, per period, and the ranked corridors.

    Parameters
    ----------
    corridors : GeoDataFrame
        From `cut_corridors`.
    footprints : DataFrame
        One row per site and period: site_id, period, commodity, area_ha, unregistered_ha, corridor_id,
        in_border_zone.
    posts : GeoDataFrame
        post_id, name, geometry: the crossings that count (`leakage.official_crossings`).
    periods : list of str
        Period names in time order; the corridors are ranked on the last.
    countries : list of str
        The project countries: a border between two of them is of scope ``mru``.
    places : GeoDataFrame, optional
        name, country, geometry: the towns that name each corridor (`near_places`).

    Returns
    -------
    (GeoDataFrame, DataFrame)
        `border_corridors` (CORRIDOR_COLUMNS + geometry), MRU corridors first, each scope ranked (module
        docstring) on the last period; and `corridor_periods` (CORRIDOR_PERIOD_COLUMNS): one row per corridor,
        period and commodity seen in the border zone next to it.
    """
    zone = footprints[footprints["in_border_zone"]]
    per_period = zone.groupby(["corridor_id", "period", "commodity"], as_index=False).agg(
        sites=("site_id", "nunique"), active_ha=("area_ha", "sum"), unregistered_ha=("unregistered_ha", "sum"))
    per_period = per_period[list(CORRIDOR_PERIOD_COLUMNS)].astype(CORRIDOR_PERIOD_COLUMNS)
    last = zone[zone["period"] == periods[-1]] if periods else zone.iloc[0:0]
    ranked = corridors.assign(scope=corridor_scope(corridors["border_pair"], countries),
                              near_places=near_places(corridors, places), **_nearest_posts(corridors, posts))
    for prefix, rows in (("", last), ("diamond_", last[last["commodity"] == "diamond"])):
        figures = rows.groupby("corridor_id").agg(sites=("site_id", "nunique"), active_ha=("area_ha", "sum"),
                                                  unregistered_ha=("unregistered_ha", "sum"))
        for column in ("sites", "active_ha", "unregistered_ha"):
            if f"{prefix}{column}" in CORRIDOR_COLUMNS:
                ranked[f"{prefix}{column}"] = figures[column].reindex(ranked["corridor_id"], fill_value=0).to_numpy()
    ranked = rank_corridors(ranked, "diamond_unregistered_ha", "unregistered_ha")
    return ranked[[*CORRIDOR_COLUMNS, "geometry"]].astype(CORRIDOR_COLUMNS), per_period


def rank_corridors(table: pd.DataFrame, focus: str, every: str) -> pd.DataFrame:
    """`table` (scope, dist_post_km, corridor_id and the two area columns) ranked as the module docstring says: MRU
    corridors first, each scope by `focus` (the unregistered area of the commodity ranked), then by `every` (that
    of every commodity), then by the distance to the nearest crossing (further first); `rank` counts within the
    scope (1 = first)."""
    ranked = table.sort_values(["scope", focus, every, "dist_post_km", "corridor_id"],
                               ascending=[False, False, False, False, True], ignore_index=True)
    return ranked.assign(rank=ranked.groupby("scope").cumcount() + 1)


def corridor_scope(pairs: pd.Series, countries: list[str]) -> np.ndarray:
    """"mru" for a border between two of `countries` ("SLE-GIN"), "external" for any other."""
    sides = pairs.astype(str).str.split("-", expand=True)
    inside = sides.isin(list(countries)).all(axis=1).to_numpy()
    return np.where(inside, "mru", "external")


def near_places(corridors: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None) -> pd.Series:
    """The town nearest to each corridor's midpoint on each side of its border, with its distance:
    "Gueckedou, GIN, 53 km · Kailahun, SLE, 6 km" (a side without a known town is left out; NA with none)."""
    named = pd.Series(pd.NA, index=corridors.index, dtype="string")
    if places is None or not len(places):
        return named
    midpoints = shapely.line_interpolate_point(np.asarray(corridors.geometry), 0.5, normalized=True)
    sides = corridors["border_pair"].str.split("-", expand=True)
    for side in sides.columns:
        for country, rows in sides.groupby(side).groups.items():
            towns = places[places["country"] == country]
            if not len(towns):
                continue
            at = corridors.index.get_indexer(rows)
            (item, town), metres = shapely.STRtree(np.asarray(towns.geometry)).query_nearest(
                midpoints[at], return_distance=True, all_matches=False)
            text = (towns["name"].to_numpy(dtype=object)[town] + f", {country}, "
                    + pd.Series(metres / 1000.0).round().astype(int).astype(str).to_numpy() + " km")
            current = named.iloc[at[item]]
            named.iloc[at[item]] = np.where(current.isna(), text, current.to_numpy(dtype=object, na_value="") + " · "
                                            + text)
    return named


def _nearest_posts(corridors: gpd.GeoDataFrame, posts: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """The crossing (of `posts`) nearest to each corridor's midpoint: its id, its name, and its distance (km)."""
    midpoints = shapely.line_interpolate_point(np.asarray(corridors.geometry), 0.5, normalized=True)
    if not len(posts):
        return {"nearest_post_id": np.full(len(corridors), None), "nearest_post_name": np.full(len(corridors), None),
                "dist_post_km": np.full(len(corridors), np.nan)}
    (item, post), distance = shapely.STRtree(np.asarray(posts.geometry)).query_nearest(
        midpoints, return_distance=True, all_matches=False)
    ids = np.full(len(corridors), None, dtype=object)
    km = np.full(len(corridors), np.nan)
    names = np.full(len(corridors), None, dtype=object)
    ids[item] = posts["post_id"].to_numpy(dtype=object)[post]
    names[item] = posts["name"].to_numpy(dtype=object)[post]
    km[item] = distance / 1000.0
    return {"nearest_post_id": ids, "nearest_post_name": names, "dist_post_km": km.round(3)}


def _distance_along(xy: np.ndarray, part: np.ndarray) -> np.ndarray:
    """Distance of each vertex from the start of its line part, in metres."""
    step = np.hypot(*np.diff(xy, axis=0).T)
    step[part[1:] != part[:-1]] = 0.0
    cumulative = np.concatenate([[0.0], np.cumsum(step)])
    start = np.flatnonzero(np.concatenate([[True], part[1:] != part[:-1]]))
    return cumulative - np.repeat(cumulative[start], np.diff(np.append(start, len(part))))


def _pair_offsets(pair: np.ndarray, part_m: np.ndarray) -> np.ndarray:
    """Distance along its pair's line at which each part starts (parts of a pair in file order)."""
    lengths = pd.Series(part_m)
    return (lengths.groupby(pair).cumsum() - lengths).to_numpy()
