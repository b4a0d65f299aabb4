#!/usr/bin/env python
"""Analysis benchmark: registration and border signals against a geopandas.overlay + per-row baseline.

    python bench/bench_analysis.py [--quick | --scale] [--sites N] [--licences N] [--baseline-sites N]
                                   [--world-sites N] [--before REVISION] [--[no-]one-core] [--seed S]

On synthetic inputs it builds itself, in the analysis CRS inside the real country outlines (by default
100,000 sites seen in two periods, 20,000 licences in the canonical `concessions` schema, 50 official border
posts on or near the real border lines; `--scale`: 1,000,000 sites against 100,000 licences), it times in ONE
run, each contestant in its own subprocess:

(a) ours: `register` (with the project countries as the assessed area, as `analyse` calls it), then
    `cut_corridors` + `official_crossings` + `border_signals`; its overlays and nearest queries run on every
    core (`mrumonitor.analysis.threads`), so it also runs pinned to one core (not with `--scale`);
(b) today's path (`--before REVISION`, be065d2 with `--scale`): the same calls with the package of that git
    revision (`git archive` into the temporary folder; the working tree is left alone);
(c) ours on a smaller world (`--world-sites N`, 100,000 with `--scale`): N of the sites at random with the
    same licences, posts and borders, whose answers must be exactly those of the full run;
(d) the baseline an analyst would write: `geopandas.overlay` (intersection, then difference) for the class
    areas, the class of each (site, licence) piece judged per row with `DataFrame.apply`, overlapping
    licences resolved per footprint in precedence order after a dissolve by class; and per-row distances
    with `GeoSeries.apply`: `min(site.distance(line))` over the border lines and over the posts.

By default the baseline runs on every site (about 2 min on 2 cores). With `--baseline-sites N` it runs on a
random subset of N sites instead (all their periods, against all licences, posts and borders; drawn from the
smaller world where there is one), ours runs on that subset too (the like-for-like speed-up), and the
baseline's full-size time is extrapolated per site (said so in the output and the JSON).
The answers are compared per site and period: the area of every registration class, dist_border_km,
dist_post_km, border_pair and nearest_post_id (ties allowed) for the baseline and today's path, every value
exactly for the smaller world. Exits 1 when they differ. Prints a table (wall and CPU seconds, peak memory,
the machine's load) and writes bench/results/analysis.json (analysis_scale.json with `--scale`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from memory import reset_peak, rss

from mrumonitor.analysis.corridors import MIN_PART_KM, cut_corridors
from mrumonitor.analysis.leakage import border_signals, official_crossings
from mrumonitor.analysis.registration import register
from mrumonitor.analysis.threads import threaded
from mrumonitor.config import PeriodSettings, Settings, load_settings
from mrumonitor.reference import load_borders, load_boundaries
from mrumonitor.schema import (
    COMMODITIES,
    CONCESSION_COLUMNS,
    LICENCE_STATUSES,
    LICENCE_TYPES,
    PRODUCTION_LICENCE_TYPES,
    REGISTRATION_CLASSES,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "analysis.json"
SCALE_RESULTS = ROOT / "bench" / "results" / "analysis_scale.json"
FULL = {"sites": 100_000, "licences": 20_000, "baseline_sites": None,  # the baseline on every site
        "world_sites": None, "before": None}
QUICK = {"sites": 4_000, "licences": 800, "baseline_sites": 1_000, "world_sites": None, "before": None}
#: West-Africa scale (issue 21): the 100,000-site world holds the same 100,000 licences; today's path is the last
#: commit before the analysis was made to scale.
SCALE = {"sites": 1_000_000, "licences": 100_000, "baseline_sites": 10_000, "world_sites": 100_000,
         "before": "be065d2"}
POSTS = 50
TARGET = 20.0
#: The target at West-Africa scale: total seconds on 2 cores, and peak resident memory (4 GB).
SCALE_TARGET_S, SCALE_TARGET_BYTES = 60.0, 4e9
#: Tolerances of "same answers": class areas (ha, absolute and relative), distances (km: 1 mm).
AREA_ATOL_HA, AREA_RTOL, DIST_TOL_KM = 1e-6, 1e-9, 1e-6
#: Footprints are unions of blocks on this pixel grid (metres).
PIXEL_M = 20.0
PERIODS = (
    PeriodSettings(name="2025H1", start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30), observed=dt.date(2025, 4, 15)),
    PeriodSettings(name="2025H2", start=dt.date(2025, 7, 1), end=dt.date(2025, 12, 31),
                   observed=dt.date(2025, 10, 20)),
)
CLASS_RANK = {name: rank for rank, name in enumerate(REGISTRATION_CLASSES)}
SIGNAL_COLUMNS = ["dist_border_km", "border_pair", "dist_post_km", "nearest_post_id"]


# --- synthetic inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """Everything both contestants receive, in the analysis CRS."""

    footprints: gpd.GeoDataFrame
    concessions: gpd.GeoDataFrame
    commodity: pd.Series
    posts: gpd.GeoDataFrame
    borders: gpd.GeoDataFrame
    assessed: shapely.Geometry
    periods: tuple[PeriodSettings, ...] = PERIODS


def reference_layers(settings: Settings) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, shapely.Geometry]:
    """The real outlines and border lines, and the assessed area (project countries, unioned, as `analyse`)."""
    crs = settings.analysis_crs
    boundaries = load_boundaries(settings.paths.reference, crs)
    project = boundaries["iso3"].isin(settings.project.countries)
    return boundaries, load_borders(settings.paths.reference, crs), shapely.union_all(boundaries.geometry[project])


def build_inputs(settings: Settings, n_sites: int, n_licences: int, seed: int) -> Inputs:
    """Seeded synthetic licences, site footprints, commodities and posts around the real outlines."""
    rng = np.random.default_rng(seed)
    boundaries, borders, assessed = reference_layers(settings)
    land = shapely.union_all(boundaries.geometry)
    clusters = _cluster_centres(max(20, n_sites // 250), assessed, borders, rng)
    concessions = build_licences(n_licences, clusters, assessed, boundaries, rng)
    footprints, commodity = build_sites(n_sites, clusters, concessions, borders, land, rng)
    return Inputs(footprints, concessions, commodity, build_posts(borders, POSTS, rng), borders, assessed)


def _points_in(area: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` uniform random points (x, y) inside `area`, by rejection."""
    shapely.prepare(area)
    west, south, east, north = area.bounds
    xy = np.empty((0, 2))
    while len(xy) < n:
        batch = rng.uniform((west, south), (east, north), size=(2 * n, 2))
        xy = np.vstack([xy, batch[shapely.contains_xy(area, *batch.T)]])
    return xy[:n]


def _points_on(borders: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`n` random points (x, y) along the border lines (uniform by length) and the row of their line."""
    lengths = borders.length.to_numpy()
    which = rng.choice(len(borders), n, p=lengths / lengths.sum())
    points = shapely.line_interpolate_point(borders.geometry.to_numpy()[which], rng.uniform(0, lengths[which]))
    return shapely.get_coordinates(points), which


def _cluster_centres(n: int, assessed: shapely.Geometry, borders: gpd.GeoDataFrame,
                     rng: np.random.Generator) -> np.ndarray:
    """Mining clusters: 70 % anywhere in the project countries, 30 % within a few km of a border."""
    near = n * 3 // 10
    on_border, _ = _points_on(borders, near, rng)
    return np.vstack([_points_in(assessed, n - near, rng), on_border + rng.normal(0, 5_000, (near, 2))])


def build_licences(n: int, clusters: np.ndarray, assessed: shapely.Geometry, boundaries: gpd.GeoDataFrame,
                   rng: np.random.Generator) -> gpd.GeoDataFrame:
    """`n` licences of 50-5,000 ha (log-uniform), half around the clusters, half anywhere; many overlap."""
    clustered = n // 2
    centres = np.vstack([clusters[rng.integers(len(clusters), size=clustered)] + rng.normal(0, 15_000, (clustered, 2)),
                         _points_in(assessed, n - clustered, rng)])
    area_m2 = np.exp(rng.uniform(np.log(50), np.log(5_000), n)) * 10_000
    block = rng.random(n) < 0.5
    geometry = np.empty(n, dtype=object)
    geometry[block] = _rectangles(centres[block], area_m2[block], rng)
    geometry[~block] = _star_polygons(centres[~block], area_m2[~block], rng)
    frame = gpd.GeoDataFrame({
        "licence_id": [f"BL-{i:06d}" for i in range(n)],
        "country": boundaries["iso3"].to_numpy()[_outline_of(centres, boundaries.geometry.to_numpy())],
        "holder": [f"Holder {h}" for h in rng.integers(1, 2_000, n)],
        **_licence_attributes(n, rng),
        "geometry_repaired": False,
        "source_name": "bench",
        "source_file": "synthetic",
        "source_row": np.arange(n),
        "snapshot": pd.NaT,  # undated sources: every record in force in every period, as the baseline reads them
    }, geometry=geometry, crs=boundaries.crs)
    return frame.astype(CONCESSION_COLUMNS)


def _outline_of(xy: np.ndarray, outlines: np.ndarray) -> np.ndarray:
    """Position of the outline holding each point (the first, where neighbours overlap), or of the nearest one
    for a point outside all (containment first: a nearest query measures whole outlines, slow at 100,000)."""
    which = np.full(len(xy), -1)
    for position, outline in enumerate(outlines):
        shapely.prepare(outline)
        which[(which < 0) & shapely.contains_xy(outline, *xy.T)] = position
    outside = np.flatnonzero(which < 0)
    which[outside] = shapely.STRtree(outlines).query_nearest(shapely.points(xy[outside]), all_matches=False)[1]
    return which


def _rectangles(centres: np.ndarray, area_m2: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cadastral blocks: rectangles of aspect 1-3, half north-aligned, half rotated."""
    width = np.sqrt(area_m2 * rng.uniform(1, 3, len(centres)))
    half = np.stack([width, area_m2 / width], axis=1)[:, None, :] / 2 * [[-1, -1], [1, -1], [1, 1], [-1, 1]]
    return shapely.polygons(centres[:, None, :] + _rotate(half, rng.uniform(0, np.pi, len(centres)) *
                                                          (rng.random(len(centres)) < 0.5)))


def _star_polygons(centres: np.ndarray, area_m2: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Irregular outlines: 12 vertices at jittered angles and radii around the centre, scaled to the area."""
    k = 12
    theta = (np.arange(k) + rng.uniform(-0.4, 0.4, (len(centres), k))) * 2 * np.pi / k
    radius = rng.uniform(0.55, 1.0, (len(centres), k))
    unit = 0.5 * np.sum(radius * np.roll(radius, -1, axis=1) * np.sin(np.roll(theta, -1, axis=1) - theta), axis=1)
    radius *= np.sqrt(area_m2 / np.abs(unit))[:, None]
    return shapely.polygons(centres[:, None, :] + np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=2))


def _rotate(xy: np.ndarray, angle: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    return np.stack([xy[..., 0] * cos - xy[..., 1] * sin, xy[..., 0] * sin + xy[..., 1] * cos], axis=2)


def _licence_attributes(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Types, commodities, statuses and dates, with licences expiring on, or granted on, an observation day."""
    observed = np.array([period.observed_on for period in PERIODS], dtype="datetime64[D]")
    day = observed[rng.integers(len(observed), size=n)]
    edge = rng.random(n)
    granted = np.datetime64("2016-01-01") + rng.integers(0, 3_470, n).astype("timedelta64[D]")
    granted = np.where(edge < 0.03, day - rng.integers(365, 5 * 365, n).astype("timedelta64[D]"), granted)
    granted = np.where((edge >= 0.03) & (edge < 0.05), day, granted)  # granted on the day: in force
    expires = granted + rng.integers(3 * 365, 12 * 365, n).astype("timedelta64[D]")
    expires = np.where(edge < 0.02, day, np.where(edge < 0.03, day - 1, expires))  # in force / expired the day before
    status = rng.choice(LICENCE_STATUSES, n, p=[0.60, 0.12, 0.05, 0.08, 0.15])
    granted[(rng.random(n) < 0.03) | (status == "pending")] = np.datetime64("NaT")
    expires[rng.random(n) < 0.05] = np.datetime64("NaT")
    return {"licence_type": rng.choice(LICENCE_TYPES, n, p=[0.35, 0.15, 0.05, 0.30, 0.10, 0.05]),
            "commodity": rng.choice(COMMODITIES, n, p=[0.40, 0.45, 0.15]), "status": status,
            "granted": granted.astype("datetime64[ms]"), "expires": expires.astype("datetime64[ms]")}


def build_sites(n: int, clusters: np.ndarray, concessions: gpd.GeoDataFrame, borders: gpd.GeoDataFrame,
                land: shapely.Geometry, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Footprints of `n` sites in one or both periods (growing in the second), and each site's commodity.

    Half the sites lie in or across a licence (70 % of them mine its commodity), 48 % around the clusters,
    2 % on a border line; centres outside every outline move inside the land.
    """
    by_licence, on_border = n // 2, n // 50
    licence = rng.integers(len(concessions), size=by_licence)
    geoms = concessions.geometry.to_numpy()[licence]
    side = np.sqrt(shapely.area(geoms))[:, None]
    border_xy, _ = _points_on(borders, on_border, rng)
    centres = np.vstack([
        shapely.get_coordinates(shapely.centroid(geoms)) + rng.uniform(-0.6, 0.6, (by_licence, 2)) * side,
        clusters[rng.integers(len(clusters), size=n - by_licence - on_border)] +
        rng.normal(0, 4_000, (n - by_licence - on_border, 2)),
        border_xy + rng.normal(0, 300, (on_border, 2))])
    outside = ~shapely.contains_xy(land, *centres.T)
    centres[outside] = _points_in(land, int(outside.sum()), rng)
    commodity = rng.choice(COMMODITIES, n, p=[0.45, 0.45, 0.10]).astype(object)
    same = rng.random(by_licence) < 0.7
    commodity[:by_licence][same] = concessions["commodity"].to_numpy(dtype=object)[licence][same]
    return _footprints(centres, concessions.crs, rng), pd.Series(
        commodity, index=pd.Index(_site_ids(n), dtype="string"), name="commodity", dtype="string")


def _site_ids(n: int) -> list[str]:
    return [f"S{i:06d}" for i in range(n)]


def _footprints(centres: np.ndarray, crs, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Pixel-like footprints (about 1-50 ha): 70 % of sites in both periods, 15 % in each one only."""
    n = len(centres)
    area_m2 = np.exp(rng.uniform(np.log(1.1), np.log(30), n)) * 10_000
    aspect = rng.uniform(0.5, 2.0, n)
    width = np.maximum(PIXEL_M, _snap(np.sqrt(area_m2 * aspect)))
    height = np.maximum(PIXEL_M, _snap(area_m2 / width))
    x0, y0 = _snap(centres[:, 0] - width / 2), _snap(centres[:, 1] - height / 2)
    first = shapely.box(x0, y0, x0 + width, y0 + height)
    for _ in range(2):
        first = _grow(first, (x0, y0, width, height), rng.random(n) < 0.6, rng)
    second = _grow(first, (x0, y0, width, height), rng.random(n) < 0.6, rng)
    seen = rng.choice(3, n, p=[0.7, 0.15, 0.15])  # 0: both periods, 1: the first only, 2: the second only
    ids = np.array(_site_ids(n), dtype=object)
    frames = [gpd.GeoDataFrame({"site_id": ids[keep], "period": period.name}, geometry=geoms[keep], crs=crs)
              for period, geoms, keep in zip(PERIODS, (first, second), (seen != 2, seen != 1), strict=True)]
    footprints = pd.concat(frames, ignore_index=True)
    footprints.insert(2, "area_ha", footprints.area / 10_000)
    return footprints.astype({"site_id": "string", "period": "string"})


def _grow(shapes: np.ndarray, main: tuple, grow: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add to the `grow` shapes a block of 30-60 % of the main block's sides, overlapping it."""
    x0, y0, width, height = (part[grow] for part in main)
    w, h = _snap(width * rng.uniform(0.3, 0.6, grow.sum())), _snap(height * rng.uniform(0.3, 0.6, grow.sum()))
    left = _snap(x0 + width * rng.uniform(-0.25, 0.9, grow.sum()))
    bottom = _snap(y0 + height * rng.uniform(-0.25, 0.9, grow.sum()))
    shapes = shapes.copy()
    added = shapely.box(left, bottom, left + np.maximum(w, PIXEL_M), bottom + np.maximum(h, PIXEL_M))
    shapes[grow] = threaded(shapely.union, shapes[grow], added)
    return shapes


def _snap(values: np.ndarray) -> np.ndarray:
    return np.round(values / PIXEL_M) * PIXEL_M


def build_posts(borders: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """`n` official, operational posts: 60 % on a border line, 40 % up to 2 km off it."""
    xy, which = _points_on(borders, n, rng)
    angle, offset = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 2_000, n) * (rng.random(n) < 0.4)
    xy = xy + offset[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    pair = borders["pair"].to_numpy(dtype=object)[which]
    number = pd.Series(pair).groupby(pair).cumcount().to_numpy() + 1
    return gpd.GeoDataFrame({
        "post_id": [f"{p}-P{k:02d}" for p, k in zip(pair, number, strict=True)],
        "name": [f"Post {i + 1}" for i in range(n)],
        "country": borders["country_a"].to_numpy(dtype=object)[which],
        "neighbour": borders["country_b"].to_numpy(dtype=object)[which],
        "kind": "official", "operational": True, "position_note": "synthetic",
    }, geometry=shapely.points(xy), crs=borders.crs)


# --- ours ---------------------------------------------------------------------------------------------------


def run_ours(inputs: Inputs, settings: Settings) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """`register` (assessed area as `analyse` gives it), then corridors, official crossings, border signals."""
    clock = Clock()
    registration = register(inputs.footprints, inputs.concessions, inputs.commodity, list(inputs.periods),
                            inputs.assessed)
    clock.lap("registration")
    corridors = cut_corridors(inputs.borders, settings.analysis.corridor_length_km)
    crossings = official_crossings(inputs.posts, settings.analysis)
    signals = border_signals(inputs.footprints, corridors, crossings, settings.analysis)
    clock.lap("border")
    return clock.times, registration.pieces, signals


class Clock:
    """Wall and CPU seconds (every thread of the process, user + system) of the parts of a run, in turn."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = (time.perf_counter(), time.process_time())

    def lap(self, part: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.times |= {f"{part}_s": now[0] - self._last[0], f"{part}_cpu_s": now[1] - self._last[1]}
        self._last = now


# --- the baseline -------------------------------------------------------------------------------------------


def run_baseline(inputs: Inputs, settings: Settings) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """geopandas.overlay for the class areas, `apply` per row for the classes and the distances."""
    clock = Clock()
    pieces = baseline_registration(inputs)
    clock.lap("registration")
    signals = baseline_border(inputs, settings)
    clock.lap("border")
    return clock.times, pieces, signals


def licence_class(row: pd.Series) -> str:
    """The class a licence gives a site's activity on the observation day (registration.py, rules 1-6).

    Rule 4 takes every type that allows no production (not in PRODUCTION_LICENCE_TYPES: exploration,
    reconnaissance and "other"), as the schema defines them.
    """
    on = row["observed"]
    if row["status"] == "suspended":
        return "suspended"
    if row["status"] == "expired" or (pd.notna(row["expires"]) and row["expires"] < on):
        return "expired_licence"
    if row["status"] == "pending" or (pd.notna(row["granted"]) and row["granted"] > on):
        return "no_licence"
    if row["licence_type"] not in PRODUCTION_LICENCE_TYPES:
        return "exploration_only"
    if row["commodity"] != row["site_commodity"]:
        return "wrong_commodity"
    return "registered"


def baseline_registration(inputs: Inputs) -> pd.DataFrame:
    """Pieces (site_id, period, registration, area_ha): licensed parts by class, then the rest in/out of the
    assessed area."""
    observed = {period.name: pd.Timestamp(period.observed_on) for period in inputs.periods}
    sites = inputs.footprints.assign(item=np.arange(len(inputs.footprints)),
                                     site_commodity=inputs.footprints["site_id"].map(inputs.commodity),
                                     observed=inputs.footprints["period"].map(observed))
    licensed = gpd.overlay(sites, inputs.concessions, how="intersection", keep_geom_type=True)
    licensed["registration"] = licensed.apply(licence_class, axis=1)
    licensed["rank"] = licensed["registration"].map(CLASS_RANK)
    by_class = licensed.dissolve(by=["item", "rank"], as_index=False, aggfunc="first").sort_values(["item", "rank"])
    by_class = _precedence(by_class)
    rest = gpd.overlay(sites, inputs.concessions, how="difference", keep_geom_type=True)
    assessed = gpd.GeoDataFrame(geometry=[inputs.assessed], crs=sites.crs)
    inside = gpd.overlay(rest, assessed, how="intersection", keep_geom_type=True).assign(registration="no_licence")
    outside = gpd.overlay(rest, assessed, how="difference", keep_geom_type=True).assign(registration="not_assessed")
    pieces = pd.concat([by_class, inside, outside], ignore_index=True)
    return pieces.assign(area_ha=pieces.area / 10_000)[["site_id", "period", "registration", "area_ha"]]


def _precedence(by_class: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Where a footprint has several classes (sorted by precedence), each keeps what earlier ones leave."""
    several = by_class["item"].duplicated(keep=False)
    resolved = by_class[several].groupby("item", group_keys=False)["geometry"].apply(_claim)
    by_class.loc[several, "geometry"] = resolved
    return by_class


def _claim(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Each geometry minus the union of those before it."""
    covered, kept = None, []
    for geom in geoms:
        kept.append(geom if covered is None else geom.difference(covered))
        covered = geom if covered is None else covered.union(geom)
    return gpd.GeoSeries(kept, index=geoms.index)


def baseline_border(inputs: Inputs, settings: Settings) -> pd.DataFrame:
    """Per footprint, the nearest border line (parts shorter than MIN_PART_KM dropped, as the corridors do)
    and the nearest official crossing, by distance to each in turn."""
    parts = inputs.borders.explode(index_parts=False)
    lines = parts[parts.length >= MIN_PART_KM * 1000.0].dissolve(by="pair")
    lines = list(zip(lines.geometry, lines.index, strict=True))
    posts = inputs.posts[inputs.posts["kind"].isin(settings.analysis.post_kinds) & inputs.posts["operational"]]
    posts = list(zip(posts.geometry, posts["post_id"], strict=True))
    geoms = inputs.footprints.geometry
    border = geoms.apply(lambda site: min((site.distance(line), pair) for line, pair in lines))
    post = geoms.apply(lambda site: min((site.distance(point), post_id) for point, post_id in posts))
    return pd.DataFrame({"dist_border_km": (border.str[0] / 1000.0).round(4), "border_pair": border.str[1],
                         "dist_post_km": (post.str[0] / 1000.0).round(4), "nearest_post_id": post.str[1]},
                        index=inputs.footprints.index)


# --- subprocess worker --------------------------------------------------------------------------------------

CONTESTANTS = {"ours": run_ours, "baseline": run_baseline}


def save_inputs(inputs: Inputs, folder: Path, subsets: dict[str, list[str]]) -> None:
    """Write the inputs as GeoParquet for the workers; `footprints_<name>` holds the sites of each subset only."""
    folder.mkdir(parents=True, exist_ok=True)
    inputs.footprints.to_parquet(folder / "footprints.parquet")
    for name, sites in subsets.items():
        chosen = inputs.footprints[inputs.footprints["site_id"].isin(sites)].reset_index(drop=True)
        chosen.to_parquet(folder / f"footprints_{name}.parquet")
    inputs.concessions.to_parquet(folder / "concessions.parquet")
    inputs.posts.to_parquet(folder / "posts.parquet")
    inputs.commodity.rename_axis("site_id").reset_index().to_parquet(folder / "commodity.parquet")


def load_inputs(folder: Path, footprints: str, settings: Settings) -> Inputs:
    """Read what `save_inputs` wrote (`footprints`: the file of the sites to run on) and the real borders."""
    _, borders, assessed = reference_layers(settings)
    commodity = pd.read_parquet(folder / "commodity.parquet").set_index("site_id")["commodity"]
    return Inputs(gpd.read_parquet(folder / footprints), gpd.read_parquet(folder / "concessions.parquet"),
                  commodity, gpd.read_parquet(folder / "posts.parquet"), borders, assessed)


class ChunkLog(logging.Handler):
    """The registration's debug line per chunk of footprints (`mrumonitor.analysis.registration`), kept as
    (footprints, licence pairs, seconds, CPU seconds of its thread)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.chunks: list[tuple] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("registration chunk"):
            self.chunks.append(record.args[1:])


def worker(name: str, folder: Path, footprints: str, answers_path: Path) -> None:
    """Run one contestant on the saved inputs; print its timings, memory and the machine's load, write its
    answers."""
    settings = load_settings()
    inputs = load_inputs(folder, footprints, settings)
    chunks = ChunkLog()
    logging.getLogger("mrumonitor.analysis.registration").addHandler(chunks)
    logging.getLogger("mrumonitor.analysis.registration").setLevel(logging.DEBUG)
    idle, load = rss("VmRSS"), os.getloadavg()[0]
    reset = reset_peak()
    timings, pieces, signals = CONTESTANTS[name](inputs, settings)
    peak = rss("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    answers(inputs.footprints, pieces, signals).to_parquet(answers_path)
    totals = {f"total{kind}_s": timings[f"registration{kind}_s"] + timings[f"border{kind}_s"] for kind in ("", "_cpu")}
    print(json.dumps(timings | totals | {
        "peak_rss_bytes": peak, "idle_rss_bytes": idle, "peak_reset": reset, "footprints": len(inputs.footprints),
        "load_before": load, "load_after": os.getloadavg()[0], "chunks": chunks.chunks}))


def answers(footprints: pd.DataFrame, pieces: pd.DataFrame, signals: pd.DataFrame) -> pd.DataFrame:
    """One row per footprint: site_id, period, the area of every registration class (ha), the signals."""
    pieces = pd.DataFrame({"site_id": pieces["site_id"].astype(str), "period": pieces["period"].astype(str),
                           "registration": pieces["registration"].astype(str), "area_ha": pieces["area_ha"]})
    areas = pieces.pivot_table(index=["site_id", "period"], columns="registration", values="area_ha",
                               aggfunc="sum", fill_value=0.0)
    keys = pd.DataFrame({"site_id": footprints["site_id"].astype(str).to_numpy(),
                         "period": footprints["period"].astype(str).to_numpy()})
    areas = areas.reindex(columns=list(REGISTRATION_CLASSES), fill_value=0.0).reindex(
        pd.MultiIndex.from_frame(keys), fill_value=0.0).reset_index(drop=True)
    signals = signals[SIGNAL_COLUMNS].reset_index(drop=True).astype(
        {"border_pair": object, "nearest_post_id": object})
    return pd.concat([keys, areas, signals], axis=1)


def in_subprocess(name: str, folder: Path, footprints: str, tag: str, one_core: bool = False,
                  package: Path | None = None) -> dict:
    """Run a contestant in a fresh interpreter (pinned to one core if `one_core`: ours then runs its shapely
    work in one thread; with the mrumonitor package found in `package` first if given); its figures, with the
    path of its answers."""
    answers_path = folder / f"answers_{tag}.parquet"
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_core else None
    env = os.environ | {"PYTHONPATH": str(package)} if package else None
    done = subprocess.run([sys.executable, __file__, "--worker", name, "--data", str(folder), "--footprints",
                           footprints, "--answers", str(answers_path)], capture_output=True, text=True, check=False,
                          preexec_fn=pin, env=env)
    if done.returncode:
        raise RuntimeError(f"{name} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"answers": answers_path}


def checkout(revision: str, folder: Path) -> Path:
    """The package, configuration and reference layers of git `revision`, written under `folder` by `git archive`
    (the working tree and the repository are left as they are); returns the folder to put on PYTHONPATH."""
    done = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", revision, "src", "configs",
                           "layers/reference"], capture_output=True, check=False)
    if done.returncode:
        raise SystemExit(f"--before {revision}: git archive failed: {done.stderr.decode(errors='replace').strip()}. "
                         f"Fix: name a revision of this repository (git log --oneline).")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(folder, filter="data")
    return folder / "src"


# --- same answers -------------------------------------------------------------------------------------------


def compare(ours: pd.DataFrame, base: pd.DataFrame, inputs: Inputs, settings: Settings) -> dict:
    """Mismatches per site and period; a different border_pair or post is a tie if its distance is the same."""
    merged = ours.merge(base, on=["site_id", "period"], suffixes=("", "_base"), validate="1:1")
    classes = list(REGISTRATION_CLASSES)
    area_ok = np.isclose(merged[classes].to_numpy(), merged[[f"{c}_base" for c in classes]].to_numpy(),
                         rtol=AREA_RTOL, atol=AREA_ATOL_HA)
    geoms = inputs.footprints.set_index([inputs.footprints["site_id"].astype(str),
                                         inputs.footprints["period"].astype(str)]).geometry
    geoms = geoms.reindex(pd.MultiIndex.from_frame(merged[["site_id", "period"]])).to_numpy()
    parts = inputs.borders.explode(index_parts=False)
    lines = parts[parts.length >= MIN_PART_KM * 1000.0].dissolve(by="pair").geometry
    posts = official_crossings(inputs.posts, settings.analysis).set_index("post_id").geometry
    report = {"rows": len(merged), "rows_only_one_side": int(len(ours) + len(base) - 2 * len(merged)),
              "area_mismatch_rows": int((~area_ok.all(axis=1)).sum()),
              "area_mismatch_by_class": {c: int((~area_ok[:, i]).sum()) for i, c in enumerate(classes)},
              "area_max_abs_diff_ha": float(np.abs(merged[classes].to_numpy() -
                                                   merged[[f"{c}_base" for c in classes]].to_numpy()).max(initial=0))}
    for what, key, targets in (("border", "border_pair", lines), ("post", "nearest_post_id", posts)):
        report |= _nearest_mismatches(merged, what, key, targets, geoms)
    report["equal"] = (report["rows_only_one_side"] == 0 and report["area_mismatch_rows"] == 0
                       and all(report[f"{w}_{k}_mismatches"] == 0 for w in ("border", "post")
                               for k in ("distance", "id")))
    return report


def _nearest_mismatches(merged: pd.DataFrame, what: str, key: str, targets: gpd.GeoSeries,
                        geoms: np.ndarray) -> dict:
    """Distance mismatches (> 1 mm) and id mismatches that are not ties (both ids at the baseline's distance)."""
    dist = merged[f"dist_{what}_km"].to_numpy()
    base = merged[f"dist_{what}_km_base"].to_numpy()
    differ = merged[key].to_numpy(dtype=object) != merged[f"{key}_base"].to_numpy(dtype=object)
    ties = np.ones(int(differ.sum()), dtype=bool)
    for column in (key, f"{key}_base"):
        chosen = targets.reindex(merged.loc[differ, column]).to_numpy()  # an unknown id: None, distance NaN
        ties &= np.abs(np.round(shapely.distance(geoms[differ], chosen) / 1000.0, 4) - base[differ]) <= DIST_TOL_KM
    return {f"{what}_distance_mismatches": int((np.abs(dist - base) > DIST_TOL_KM).sum()),
            f"{what}_distance_max_abs_diff_m": float(np.abs(dist - base).max(initial=0) * 1000),
            f"{what}_id_mismatches": int((~ties).sum()), f"{what}_id_ties": int(ties.sum())}


def identical(full: pd.DataFrame, world: pd.DataFrame) -> dict:
    """Ours at full size against ours on the smaller world, on the world's sites: every class area, distance,
    pair and post must be exactly the same (a site's answers depend only on its footprints, the licences, the
    borders and the posts, all the same in both worlds)."""
    merged = world.merge(full, on=["site_id", "period"], how="left", suffixes=("", "_full"), validate="1:1",
                         indicator=True)
    columns = [*REGISTRATION_CLASSES, *SIGNAL_COLUMNS]
    differ = {column: int((~(merged[column].eq(merged[f"{column}_full"]) |
                             (merged[column].isna() & merged[f"{column}_full"].isna()))).sum()) for column in columns}
    areas = np.abs(merged[list(REGISTRATION_CLASSES)].to_numpy() -
                   merged[[f"{c}_full" for c in REGISTRATION_CLASSES]].to_numpy())
    missing = int((merged["_merge"] != "both").sum())
    return {"rows": len(merged), "rows_missing_at_full_size": missing, "differing_values": differ,
            "area_max_abs_diff_ha": float(np.nanmax(areas, initial=0)),
            "equal": missing == 0 and not any(differ.values())}


# --- orchestration ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What one run measures: the sizes, the subsets ours and the baseline also run on, today's path."""

    sites: int
    licences: int
    baseline_sites: int
    world_sites: int
    before: str | None
    one_core: bool


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes for a smoke run (under a minute)")
    size.add_argument("--scale", action="store_true",
                      help=f"West-Africa scale: {SCALE['sites']:,} sites, {SCALE['licences']:,} licences, a "
                           f"{SCALE['world_sites']:,}-site world, the baseline on {SCALE['baseline_sites']:,} sites, "
                           f"today's path {SCALE['before']}")
    parser.add_argument("--sites", type=int, help=f"sites (default {FULL['sites']:,}; quick {QUICK['sites']:,})")
    parser.add_argument("--licences", type=int, help=f"licences (default {FULL['licences']:,})")
    parser.add_argument("--baseline-sites", type=int,
                        help=f"run the baseline on a random subset of this many sites and extrapolate its time "
                             f"per site (default: all sites; quick {QUICK['baseline_sites']:,})")
    parser.add_argument("--world-sites", type=int,
                        help="also run ours on a random subset of this many sites with the same licences, posts and "
                             "borders (a smaller world), whose answers must be exactly those of the full run")
    parser.add_argument("--before", metavar="REVISION",
                        help="also time today's path: ours as git REVISION has it, on the same inputs")
    parser.add_argument("--one-core", action=argparse.BooleanOptionalAction,
                        help="also run ours pinned to one core (default: yes, except with --scale)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic inputs and the subsets")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS})")
    parser.add_argument("--worker", choices=sorted(CONTESTANTS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--footprints", help=argparse.SUPPRESS)
    parser.add_argument("--answers", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.footprints, args.answers)
        return 0
    sizes = QUICK if args.quick else SCALE if args.scale else FULL
    n_sites = args.sites or sizes["sites"]
    plan = Plan(sites=n_sites, licences=args.licences or sizes["licences"],
                baseline_sites=min(args.baseline_sites or sizes["baseline_sites"] or n_sites, n_sites),
                world_sites=min(args.world_sites or sizes["world_sites"] or n_sites, n_sites),
                before=args.before or sizes["before"],
                one_core=not args.scale if args.one_core is None else args.one_core)
    out = args.out if args.out != RESULTS or not args.scale else SCALE_RESULTS
    with tempfile.TemporaryDirectory(prefix="bench_analysis_") as work:
        report = benchmark(Path(work), plan, args.seed, "quick" if args.quick else "scale" if args.scale else "full")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwritten: {out}")
    return 0 if all(check["equal"] for check in report["answers"].values()) else 1


def choose_subsets(plan: Plan, seed: int) -> dict[str, list[str]]:
    """The sites of the smaller world ("world") and of the baseline's subset ("baseline", drawn from the world
    where there is one), at random; a subset as large as the whole is left out."""
    rng = np.random.default_rng(seed + 1)
    ids = np.array(_site_ids(plan.sites), dtype=object)
    subsets = {}
    if plan.world_sites < plan.sites:
        subsets["world"] = sorted(rng.choice(ids, plan.world_sites, replace=False))
        ids = np.array(subsets["world"], dtype=object)
    if plan.baseline_sites < plan.sites:
        subsets["baseline"] = sorted(rng.choice(ids, min(plan.baseline_sites, len(ids)), replace=False))
    return subsets


def benchmark(work: Path, plan: Plan, seed: int, mode: str) -> dict:
    """Build the inputs, run every contestant in its own subprocess, check the answers; the report."""
    settings = load_settings()
    start = time.perf_counter()
    inputs = build_inputs(settings, plan.sites, plan.licences, seed)
    subsets = choose_subsets(plan, seed)
    save_inputs(inputs, work, subsets)
    print(f"inputs: {plan.sites:,} sites ({len(inputs.footprints):,} footprints in {len(PERIODS)} periods), "
          f"{plan.licences:,} licences, {POSTS} posts, {len(inputs.borders)} border lines "
          f"({time.perf_counter() - start:.1f} s to build)", flush=True)
    runs = {}

    def run(key: str, name: str, footprints: str, sites: int, **how) -> None:
        runs[key] = in_subprocess(name, work, footprints, key, **how)
        print(f"{LABELS[key].format(before=plan.before):<30}{sites:>10,} sites: {runs[key]['total_s']:7.2f} s, "
              f"peak {runs[key]['peak_rss_bytes'] / 2**20:,.0f} MB (load {runs[key]['load_before']:.1f})", flush=True)

    run("ours", "ours", "footprints.parquet", plan.sites)
    if plan.before:
        run("before", "ours", "footprints.parquet", plan.sites, package=checkout(plan.before, work / "before"))
    if plan.one_core:
        run("ours_one_core", "ours", "footprints.parquet", plan.sites, one_core=True)
    if "world" in subsets:
        run("ours_world", "ours", "footprints_world.parquet", plan.world_sites)
    like = "footprints_baseline.parquet" if "baseline" in subsets else "footprints.parquet"
    if "baseline" in subsets:
        run("ours_subset", "ours", like, plan.baseline_sites)
    run("baseline", "baseline", like, plan.baseline_sites)
    read = {key: pd.read_parquet(run["answers"]) for key, run in runs.items() if key != "ours_one_core"}
    compared = inputs if "baseline" not in subsets else Inputs(
        inputs.footprints[inputs.footprints["site_id"].isin(subsets["baseline"])], inputs.concessions,
        inputs.commodity, inputs.posts, inputs.borders, inputs.assessed)
    checks = {"baseline": compare(read.get("ours_subset", read["ours"]), read["baseline"], compared, settings)}
    if plan.before:
        checks["before"] = compare(read["ours"], read["before"], inputs, settings)
    if "world" in subsets:
        checks["world"] = identical(read["ours"], read["ours_world"])
    return summarise(inputs, read["ours"], runs, checks, plan, seed, mode)


LABELS = {"ours": "ours", "before": "today's path ({before})", "ours_one_core": "ours (one core)",
          "ours_world": "ours (smaller world)", "ours_subset": "ours (baseline's subset)",
          "baseline": "baseline"}


def summarise(inputs: Inputs, ours_answers: pd.DataFrame, runs: dict, checks: dict, plan: Plan, seed: int,
              mode: str) -> dict:
    """Rows of the table, speed-ups, the targets and the answers checks; prints them and returns the report."""
    scale = plan.sites / plan.baseline_sites
    base = runs["baseline"]
    like = runs.get("ours_subset", runs["ours"])
    sizes = {"ours": plan.sites, "before": plan.sites, "ours_one_core": plan.sites, "ours_world": plan.world_sites,
             "ours_subset": plan.baseline_sites, "baseline": plan.baseline_sites}
    rows = [_row(LABELS[key].format(before=plan.before), sizes[key], run) for key, run in runs.items()]
    extrapolated = {k: base[k] * scale for k in PARTS}
    if scale > 1:
        rows.append({"contestant": "baseline (extrapolated)", "sites": plan.sites, "footprints": len(inputs.footprints),
                     **extrapolated, "peak_rss_mb": None, "working_mb": None, "load": None,
                     "extrapolated_from_sites": plan.baseline_sites})
    speedup = {"like_for_like": {"sites": plan.baseline_sites, **_ratios(base, like)},
               "full": {"sites": plan.sites, "baseline_extrapolated_from_sites": plan.baseline_sites if scale > 1
                        else None, **_ratios(extrapolated, runs["ours"])}}
    if "ours_one_core" in runs:
        speedup["full_one_core"] = {"sites": plan.sites, **_ratios(extrapolated, runs["ours_one_core"])}
    if "before" in runs:
        speedup["over_todays_path"] = {"sites": plan.sites, "revision": plan.before,
                                       **_ratios(runs["before"], runs["ours"])}
    targets = {"speedup": {"target": f">= {TARGET:.0f}x faster than the baseline (total, full size)",
                           "value": speedup["full"]["total"], "pass": speedup["full"]["total"] >= TARGET}}
    if "world" in checks:
        ours = runs["ours"]
        targets["scale"] = {
            "target": f"<= {SCALE_TARGET_S:.0f} s and <= {SCALE_TARGET_BYTES / 1e9:.0f} GB peak at {plan.sites:,} "
                      f"sites against {plan.licences:,} licences, same answers as on the {plan.world_sites:,}-site "
                      f"world", "total_s": ours["total_s"], "peak_gb": ours["peak_rss_bytes"] / 1e9,
            "same_answers": checks["world"]["equal"],
            "pass": bool(ours["total_s"] <= SCALE_TARGET_S and ours["peak_rss_bytes"] <= SCALE_TARGET_BYTES
                         and checks["world"]["equal"])}
    report = {"benchmark": "bench_analysis", "command": " ".join(["python", "bench/bench_analysis.py", *sys.argv[1:]]),
              "mode": mode, "seed": seed, "when": dt.datetime.now().isoformat(), "machine": _machine(),
              "inputs": _describe(inputs, ours_answers, plan), "plan": plan.__dict__, "rows": rows,
              "chunks": {key: run["chunks"] for key, run in runs.items() if run["chunks"]},
              "speedup": speedup, "targets": targets,
              "answers": checks, "tolerance": {"area_atol_ha": AREA_ATOL_HA, "area_rtol": AREA_RTOL,
                                               "distance_km": DIST_TOL_KM}}
    print_table(report)
    return report


PARTS = ("registration_s", "border_s", "total_s")


def _row(name: str, sites: int, run: dict) -> dict:
    return {"contestant": name, "sites": sites, "footprints": run["footprints"], **{k: run[k] for k in PARTS},
            **{k.replace("_s", "_cpu_s"): run[k.replace("_s", "_cpu_s")] for k in PARTS},
            "peak_rss_mb": run["peak_rss_bytes"] / 2**20,
            "working_mb": (run["peak_rss_bytes"] - run["idle_rss_bytes"]) / 2**20,
            "load": (run["load_before"] + run["load_after"]) / 2}


def _ratios(base: dict, ours: dict) -> dict:
    return {part: base[f"{part}_s"] / ours[f"{part}_s"] for part in ("registration", "border", "total")}


def _machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "shapely": shapely.__version__, "geos": ".".join(map(str, shapely.geos_version)),
            "geopandas": gpd.__version__, "pandas": pd.__version__, "numpy": np.__version__}


def _describe(inputs: Inputs, answers: pd.DataFrame, plan: Plan) -> dict:
    """Sizes and the make-up of the synthetic inputs, with what ours found on them (full size)."""
    licences = inputs.concessions
    left, right = shapely.STRtree(licences.geometry.to_numpy()).query(licences.geometry.to_numpy(),
                                                                      predicate="overlaps")
    licensed = answers[["registered", "expired_licence", "suspended", "wrong_commodity", "exploration_only"]]
    unlicensed = answers[["no_licence", "not_assessed"]]
    return {"sites": plan.sites, "footprints": len(inputs.footprints), "licences": len(licences), "posts": POSTS,
            "border_lines": len(inputs.borders), "periods": {p.name: str(p.observed_on) for p in inputs.periods},
            "baseline_sites": plan.baseline_sites, "world_sites": plan.world_sites,
            "licences_overlapping_another": int(np.unique(left[left != right]).size),
            "licence_ha": {"min": float(licences.area.min() / 1e4), "max": float(licences.area.max() / 1e4)},
            "footprint_ha": {"min": float(inputs.footprints["area_ha"].min()),
                             "max": float(inputs.footprints["area_ha"].max())},
            "licence_type": licences["licence_type"].value_counts().to_dict(),
            "status": licences["status"].value_counts().to_dict(),
            "footprints_touching_a_licence": int((licensed.sum(axis=1) > 0).sum()),
            "footprints_partly_licensed": int(((licensed.sum(axis=1) > 0) & (unlicensed.sum(axis=1) > 0)).sum()),
            "footprints_on_a_border": int((answers["dist_border_km"] == 0).sum()),
            "area_ha_by_class": answers[list(REGISTRATION_CLASSES)].sum().round(1).to_dict()}


def print_table(report: dict) -> None:
    inputs, answers = report["inputs"], report["answers"]
    print(f"\nAnalysis benchmark ({report['machine']['cpus']} CPUs): {inputs['sites']:,} sites "
          f"({inputs['footprints']:,} footprints), {inputs['licences']:,} licences, {inputs['posts']} posts, "
          f"the real borders")
    print(f"{'contestant':<30}{'sites':>10}{'footprints':>11}{'registr. s':>11}{'border s':>10}{'total s':>9}"
          f"{'CPU s':>8}{'peak RSS MB':>13}{'working MB':>12}{'load':>6}")
    for r in report["rows"]:
        peak, working, cpu, load = (f"{r[k]:{f}}" if r.get(k) is not None else "-" for k, f in (
            ("peak_rss_mb", ".0f"), ("working_mb", ".0f"), ("total_cpu_s", ".1f"), ("load", ".1f")))
        print(f"{r['contestant']:<30}{r['sites']:>10,}{r['footprints']:>11,}{r['registration_s']:>11.2f}"
              f"{r['border_s']:>10.2f}{r['total_s']:>9.2f}{cpu:>8}{peak:>13}{working:>12}{load:>6}")
    speedup = report["speedup"]
    extrapolated = speedup["full"]["baseline_extrapolated_from_sites"]
    lines = {"like-for-like": speedup["like_for_like"]}
    lines[f"full, baseline extrapolated from {extrapolated:,} sites" if extrapolated else "full"] = speedup["full"]
    if "full_one_core" in speedup:
        lines["full, ours on one core"] = speedup["full_one_core"]
    if "over_todays_path" in speedup:
        lines[f"over today's path {speedup['over_todays_path']['revision']}"] = speedup["over_todays_path"]
    for name, s in lines.items():
        print(f"speed-up ({name}, {s['sites']:,} sites): registration {s['registration']:.1f}x, "
              f"border {s['border']:.1f}x, total {s['total']:.1f}x")
    for key, title in (("baseline", "ours and the baseline"), ("before", "ours and today's path")):
        if key in answers:
            _print_compared(title, answers[key])
    if "world" in answers:
        world = answers["world"]
        print(f"\nsame answers, full size and the smaller world, on its {world['rows']:,} footprints (exactly): "
              f"{'yes' if world['equal'] else 'NO'}; values differing: "
              f"{sum(world['differing_values'].values())}, missing at full size: {world['rows_missing_at_full_size']}")
    for target in report["targets"].values():
        print(f"target: {'PASS' if target['pass'] else 'FAIL'}  {target['target']}: " + (
            f"{target['value']:.1f}x" if "value" in target else
            f"{target['total_s']:.1f} s, {target['peak_gb']:.2f} GB, same answers: {target['same_answers']}"))


def _print_compared(title: str, answers: dict) -> None:
    print(f"\nsame answers, {title}, on {answers['rows']:,} footprints (areas within {AREA_ATOL_HA:g} ha or "
          f"{AREA_RTOL:g} relative, distances within 1 mm): {'yes' if answers['equal'] else 'NO'}")
    print(f"  class areas: {answers['area_mismatch_rows']} rows differ (max |diff| "
          f"{answers['area_max_abs_diff_ha']:.2g} ha); rows on one side only: {answers['rows_only_one_side']}")
    for what, key in (("border", "border_pair"), ("post", "nearest_post_id")):
        print(f"  dist_{what}_km: {answers[f'{what}_distance_mismatches']} differ (max |diff| "
              f"{answers[f'{what}_distance_max_abs_diff_m']:.2g} m); {key}: {answers[f'{what}_id_mismatches']} "
              f"differ, {answers[f'{what}_id_ties']} ties")


if __name__ == "__main__":
    sys.exit(main())
