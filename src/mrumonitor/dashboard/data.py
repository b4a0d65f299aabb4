"""A published run, loaded once per run id for the dashboard, and the views' figures computed from it.

`load_run(settings, run)` reads a run of the layer store (never the pipeline), converts the map layers to
WGS84 once, simplifies polygons per zoom band and pre-computes the registration summaries per commodity and
border-zone filter with the library's own `registration_summary`; the per-country figures go through
`country_overview`, the same function `mrumonitor demo` and `analyse` print with, so the dashboard and the
command line never disagree. Nothing is read at import time; runs are cached by their folder.

Speed: a callback must not scan and copy the run's wide tables (with tens of thousands of sites, slicing
pandas frames of text columns costs tens of milliseconds). So `load_run` also prepares, per period, the
filter columns of its site rows as integer codes and plain arrays (`PeriodRows`), the slim table of its
current sites that `country_overview` takes, and the site table's rows formatted once in their default
order; a request then combines boolean masks over one period's rows and copies only what it returns. The
per-filter country overviews and the callbacks' results are kept in bounded LRU stores (`Memo`) on the run.

Site-level functions take an `access` object (`mrumonitor.dashboard.access.Access`): site points, polygons,
table rows and licences are limited to the countries whose sites it may see; aggregates are for everyone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import shapely

from mrumonitor.analysis.summary import country_overview, registration_summary
from mrumonitor.config import Settings
from mrumonitor.dashboard import geojson
from mrumonitor.errors import StoreError
from mrumonitor.export.qgis_style import REGISTRATION_COLOURS, STATUS_COLOURS
from mrumonitor.reference.admin import load_admin_layer
from mrumonitor.reference.borders import load_borders
from mrumonitor.reference.boundaries import load_boundaries
from mrumonitor.reference.posts import load_border_posts
from mrumonitor.schema import COMMODITIES, REGISTRATION_CLASSES, UNREGISTERED_CLASSES
from mrumonitor.store.runs import read_manifest, resolve_run

#: Runs kept in memory at once (the latest and a few the Downloads page or a bookmark asked for).
CACHED_RUNS = 3
#: Per-filter country overviews (period, commodity, classes, border zone) kept per run.
CACHED_OVERVIEWS = 1024
#: Callback results kept per run (see `RunData.results`): keyed by the callback, its inputs and the access scope.
CACHED_RESULTS = 2048
#: Licences are drawn from this zoom on (region-wide they would outweigh the rest of the page).
CONCESSION_ZOOM = 8
#: Label of the area outside every country outline in the per-country tables.
OUTSIDE = "(outside)"


class SiteAccess(Protocol):
    """What the data functions ask of a user's access (see `mrumonitor.dashboard.access.Access`)."""

    def sees_sites(self, country: str) -> bool: ...


@dataclass(frozen=True)
class Filters:
    """The filter bar's state. Empty `countries` / `classes` and a None `commodity` mean all."""

    period: str
    countries: tuple[str, ...] = ()
    commodity: str | None = None
    classes: tuple[str, ...] = ()
    border_only: bool = False


class Memo:
    """A bounded, thread-safe least-recently-used store of computed values (size 0: nothing is kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Any) -> Any:
        """The value stored under `key`, computed by `compute()` (outside the lock) when missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class Codes:
    """A column as integer codes (-1: missing) and its distinct values, for masks without pandas."""

    codes: np.ndarray
    values: tuple[Any, ...]

    @classmethod
    def of(cls, values: pd.Series) -> Codes:
        codes, uniques = pd.factorize(values)
        return cls(codes, tuple(uniques))

    def where(self, test: Any) -> np.ndarray:
        """Mask of the rows whose value passes `test(value)`."""
        hits = [i for i, value in enumerate(self.values) if test(value)]
        return np.isin(self.codes, hits)

    def isin(self, wanted: tuple[Any, ...]) -> np.ndarray:
        return self.where(lambda value: value in wanted)


@dataclass(frozen=True)
class PeriodRows:
    """The site rows of one period (positions in `RunData.site_periods`, ascending) with the columns the
    filters and the map read, as codes and arrays; `table_order` lists them in the site table's default order."""

    positions: np.ndarray
    visible: Codes
    country: Codes
    commodity: Codes
    registration: Codes
    border: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    table_order: np.ndarray

    def mask(self, filters: Filters, access: SiteAccess) -> np.ndarray:
        """The rows that pass `filters` and that `access` may see."""
        mask = self.visible.where(access.sees_sites)
        if filters.countries:
            mask &= self.country.isin(filters.countries)
        if filters.commodity:
            mask &= self.commodity.isin((filters.commodity,))
        if filters.classes:
            mask &= self.registration.isin(filters.classes)
        if filters.border_only:
            mask &= self.border
        return mask


def rgb(colour: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


#: CSS colour of each registration class and licence status (the QGIS export styles' palettes).
CLASS_COLOURS = {name: rgb(colour) for name, colour in REGISTRATION_COLOURS.items()}
STATUS_CSS = {name: rgb(colour) for name, colour in STATUS_COLOURS.items()}


@dataclass
class RunData:
    """One published run, ready for the views. Build it with `load_run`."""

    run_id: str
    run_dir: Path
    manifest: dict[str, Any]
    countries: tuple[str, ...]
    country_names: dict[str, str]
    boundaries: gpd.GeoDataFrame
    sites: pd.DataFrame
    site_periods: pd.DataFrame
    pieces: gpd.GeoDataFrame
    corridors: pd.DataFrame
    corridor_periods: pd.DataFrame
    capacity: pd.DataFrame
    anomalies: pd.DataFrame
    concessions: pd.DataFrame
    reference: dict[str, dict[str, Any]]
    borders: gpd.GeoDataFrame = field(repr=False)
    posts: gpd.GeoDataFrame = field(repr=False)
    site_geoms: dict[float, np.ndarray] = field(repr=False)
    concession_geoms: dict[float, np.ndarray] = field(repr=False)
    period_shapes: np.ndarray = field(repr=False)
    concession_shapes: np.ndarray = field(repr=False)
    by_period: dict[str, PeriodRows] = field(default_factory=dict, repr=False)
    current_sites: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    table_rows: pd.DataFrame = field(default=None, repr=False)
    site_features: pd.DataFrame = field(default=None, repr=False)
    concession_country: Codes = field(default=None, repr=False)
    concession_features: pd.DataFrame = field(default=None, repr=False)
    concession_boxes: dict[float, np.ndarray] = field(default_factory=dict, repr=False)
    overviews: Memo = field(default_factory=lambda: Memo(CACHED_OVERVIEWS), repr=False)
    results: Memo = field(default_factory=lambda: Memo(CACHED_RESULTS), repr=False)
    _summaries: dict[tuple[str | None, bool], pd.DataFrame] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def periods(self) -> list[str]:
        return [period["name"] for period in self.manifest["periods"]]

    @property
    def last_period(self) -> str:
        return self.periods[-1]

    @property
    def caveats(self) -> list[str]:
        return list(self.manifest.get("caveats", []))

    def summary(self, commodity: str | None, border_only: bool) -> pd.DataFrame:
        """`registration_summary` of the pieces of the sites of `commodity` (None: all), in the border zone
        only when `border_only` — the run's own table when nothing is filtered."""
        key = (commodity, border_only)
        with self._lock:
            if key not in self._summaries:
                mask = np.ones(len(self.pieces), dtype=bool)
                if commodity:
                    mask &= (self.pieces["commodity"] == commodity).to_numpy(dtype=bool, na_value=False)
                if border_only:
                    mask &= self.pieces["in_border_zone"].to_numpy(dtype=bool, na_value=False)
                self._summaries[key] = registration_summary(self.pieces[mask], self.boundaries)
            return self._summaries[key]

    @cached_property
    def site_index(self) -> pd.Index:
        return pd.Index(self.sites["site_id"])


_RUNS: OrderedDict[str, RunData] = OrderedDict()
_RUNS_LOCK = threading.Lock()


def load_run(settings: Settings, run: str = "latest") -> RunData:
    """The run `run` ("latest" or an id) of the configured store, loaded once and cached by its folder."""
    run_dir = resolve_run(settings.paths.store, run)
    key = str(run_dir.resolve())
    with _RUNS_LOCK:
        if key in _RUNS:
            _RUNS.move_to_end(key)
            return _RUNS[key]
    try:
        data = _read_run(settings, run_dir)
    except (OSError, KeyError, TypeError, ValueError, pyarrow.ArrowException) as exc:
        # a layer missing or damaged since the run was published (a store edited or deleted by hand)
        raise StoreError(f"{run_dir}: the run's layers cannot be read ({type(exc).__name__}: {exc}). Publish a "
                         "new run with `mrumonitor run`, or start the dashboard on another run (--run).") from None
    with _RUNS_LOCK:
        _RUNS[key] = data
        while len(_RUNS) > CACHED_RUNS:
            _RUNS.popitem(last=False)
    return data


def _read_run(settings: Settings, run_dir: Path) -> RunData:
    manifest = read_manifest(run_dir)
    crs = settings.analysis_crs
    boundaries = load_boundaries(settings.paths.reference, crs)
    sites = gpd.read_parquet(run_dir / manifest["layers"]["sites"]["path"]).to_crs(crs)
    periods = gpd.read_parquet(run_dir / manifest["layers"]["site_periods"]["path"]).to_crs(crs)
    pieces = gpd.read_parquet(run_dir / manifest["layers"]["site_registration"]["path"]).to_crs(crs)
    concessions = gpd.read_parquet(run_dir / manifest["layers"]["concessions"]["path"])
    corridors = gpd.read_parquet(run_dir / manifest["layers"]["border_corridors"]["path"])
    table = {name: pd.read_parquet(run_dir / manifest["layers"][name]["path"])
             for name in ("corridor_periods", "capacity", "kp_anomalies")}

    sites = sites.drop(columns=["bbox"], errors="ignore")
    attributes = pd.DataFrame(sites.drop(columns="geometry"))
    attributes["admin_area"] = _admin_names(settings, sites)
    points = geojson.to_wgs84(sites.geometry.representative_point())
    attributes["lon"], attributes["lat"] = shapely.get_x(points), shapely.get_y(points)

    site_cols = attributes.set_index("site_id")[["country", "countries", "commodity", "first_seen", "transboundary"]]
    rows = pd.DataFrame(periods.drop(columns=["geometry", "bbox"], errors="ignore")).join(
        site_cols, on="site_id")
    period_points = geojson.to_wgs84(periods.geometry.representative_point())
    rows["lon"], rows["lat"] = shapely.get_x(period_points), shapely.get_y(period_points)
    period_geoms = geojson.to_wgs84(periods.geometry)
    rows = rows.reset_index(drop=True)

    zone = rows.set_index(["site_id", "period"])["in_border_zone"]
    pieces = pieces.drop(columns=["bbox"], errors="ignore").assign(
        commodity=pieces["site_id"].map(site_cols["commodity"]).to_numpy(),
        in_border_zone=pd.MultiIndex.from_arrays([pieces["site_id"], pieces["period"]]).map(zone).to_numpy())

    licence_geoms = geojson.to_wgs84(concessions.geometry)
    borders = load_borders(settings.paths.reference, crs)
    posts = load_border_posts(settings.paths.reference, crs)
    return _prepare(RunData(
        run_id=run_dir.name, run_dir=run_dir, manifest=manifest, countries=tuple(settings.project.countries),
        country_names=dict(zip(boundaries["iso3"], boundaries["name"])), boundaries=boundaries,
        sites=attributes, site_periods=rows, pieces=pieces,
        corridors=pd.DataFrame(corridors.drop(columns=["geometry", "bbox"], errors="ignore")),
        corridor_periods=table["corridor_periods"], capacity=table["capacity"], anomalies=table["kp_anomalies"],
        concessions=pd.DataFrame(concessions.drop(columns=["geometry", "bbox"], errors="ignore")),
        reference=_reference_layers(settings, boundaries, borders, posts, corridors), borders=borders, posts=posts,
        site_geoms=geojson.simplified_bands(period_geoms), concession_geoms=geojson.simplified_bands(licence_geoms),
        period_shapes=np.asarray(periods.geometry), concession_shapes=np.asarray(concessions.to_crs(crs).geometry)))


#: The columns of the sites `country_overview` and the overview's filters read.
OVERVIEW_COLUMNS = ["country", "registration", "commodity", "in_border_zone", "transboundary", "first_seen",
                    "last_seen", "merged_into", "risk_score"]


def _prepare(data: RunData) -> RunData:
    """Fill in what the callbacks read instead of the wide tables (see the module's docstring): per period the
    filter columns as codes, the current sites for `country_overview`; the site table's rows and the map's
    per-site and per-licence properties formatted once."""
    rows = data.site_periods
    data.table_rows = _table_frame(rows.join(data.sites.set_index("site_id")[["admin_area", "risk_score"]],
                                             on="site_id"))
    data.site_features = pd.DataFrame({
        "kind": "site", "site_id": rows["site_id"].astype(str), "registration": rows["registration"].astype(str),
        "colour": rows["registration"].map(CLASS_COLOURS).fillna("#777777"),
        "tooltip": rows["site_id"].astype(str) + " · " + rows["registration"].astype(str) + " · "
        + rows["area_ha"].round(1).astype(str) + " ha · " + rows["country"].astype(str)})
    licences = data.concessions
    label = " (SYNTHETIC demo licence)" if synthetic_licences(data) else ""
    data.concession_country = Codes.of(licences["country"].astype(str))
    data.concession_boxes = {tol: shapely.bounds(geoms) for tol, geoms in data.concession_geoms.items()}
    data.concession_features = pd.DataFrame({
        "licence_id": licences["licence_id"].astype(str),
        "colour": licences["status"].astype(str).map(STATUS_CSS).fillna("#999999"),
        "tooltip": licences["licence_id"].astype(str) + " · " + licences["holder"].astype(str) + " · "
        + licences["licence_type"].astype(str) + " · " + licences["status"].astype(str) + label})
    rank = np.empty(len(rows), dtype=np.int64)
    rank[data.table_rows.sort_values(["area_ha", "site_id"], ascending=[False, True]).index.to_numpy()] = \
        np.arange(len(rows))
    period_of = rows["period"].to_numpy()
    for period in data.periods:
        positions = np.flatnonzero(period_of == period)
        part = rows.iloc[positions]
        data.by_period[period] = PeriodRows(
            positions=positions, visible=Codes.of(part["countries"].astype(str)), country=Codes.of(part["country"]),
            commodity=Codes.of(part["commodity"]), registration=Codes.of(part["registration"]),
            border=part["in_border_zone"].to_numpy(dtype=bool, na_value=False),
            lon=part["lon"].to_numpy(), lat=part["lat"].to_numpy(), table_order=np.argsort(rank[positions]))
        sites = _sites_as_of(data, period)
        current = sites["merged_into"].isna() & (sites["last_seen"] == period)
        data.current_sites[period] = sites.loc[current, OVERVIEW_COLUMNS]
    for commodity in (None, *COMMODITIES):  # every registration summary the filters can ask for
        for border_only in (False, True):
            data.summary(commodity, border_only)
    return data


def _admin_names(settings: Settings, sites: gpd.GeoDataFrame) -> pd.Series:
    """The name of the first configured admin level each site's representative point lies in ("" if none)."""
    names = pd.Series("", index=sites.index, dtype=object)
    for level, spec in settings.analysis.admin.items():
        areas = load_admin_layer(level, spec, sites.crs)
        points = gpd.GeoDataFrame(geometry=sites.geometry.representative_point(), crs=sites.crs)
        joined = gpd.sjoin(points, areas[["name", "geometry"]], predicate="within", how="left")
        names = joined.groupby(level=0)["name"].first().reindex(sites.index).fillna("")
        break
    return names


def _reference_layers(settings: Settings, boundaries: gpd.GeoDataFrame, borders: gpd.GeoDataFrame,
                      posts: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame) -> dict[str, dict[str, Any]]:
    """The run-wide map layers as GeoJSON, simplified for the region-wide view (served by `routes.reference`)."""
    crs = settings.analysis_crs
    zone = shapely.union_all(np.asarray(borders.geometry.buffer(settings.analysis.border_zone_km * 1000)))
    zone = gpd.GeoSeries([zone], crs=crs).simplify(200)

    def layer(geoms: gpd.GeoSeries, props: pd.DataFrame, tol: float = 0.005) -> dict[str, Any]:
        wgs = geojson.to_wgs84(geoms)
        return geojson.feature_collection(geojson.rounded(shapely.simplify(wgs, tol)) if tol else wgs, props)

    official = posts["kind"].astype(str)
    return {
        "countries": layer(boundaries.geometry, pd.DataFrame({"iso3": boundaries["iso3"], "name": boundaries["name"],
                                                               "tooltip": boundaries["name"]})),
        "borders": layer(borders.geometry, pd.DataFrame({"pair": borders["pair"], "tooltip": borders["pair"] + " border, "
                                                         + borders["length_km"].round(0).astype(int).astype(str)
                                                         + " km"})),
        "border_zone": layer(zone, pd.DataFrame({"tooltip": [f"Border zone ({settings.analysis.border_zone_km:g} km)"]})),
        "border_posts": layer(posts.geometry, pd.DataFrame({
            "post_id": posts["post_id"], "kind": official,
            "tooltip": posts["name"] + " (" + posts["post_id"] + ", " + official + ")"}), tol=0),
        "corridors": layer(corridors.geometry, pd.DataFrame({
            "corridor_id": corridors["corridor_id"], "rank": corridors["rank"],
            "tooltip": "#" + corridors["rank"].astype(str) + " " + corridors["corridor_id"] + ": "
            + corridors["unregistered_ha"].round(0).astype(int).astype(str) + " ha unregistered"}), tol=0.001),
    }


# ---------------------------------------------------------------------------------------------------------
# Aggregates (every role): KPIs, trends, corridors, capacity
# ---------------------------------------------------------------------------------------------------------

def overview(data: RunData, filters: Filters) -> pd.DataFrame:
    """The per-country picture of `filters.period` (`country_overview`, as the command line prints it), for the
    commodity, classes and border-zone filter chosen; every country's row (aggregates are for every role).
    Computed once per filter combination (`RunData.overviews`)."""
    key = (filters.period, filters.commodity, tuple(sorted(set(filters.classes))), filters.border_only)
    return data.overviews.get(key, lambda: _overview(data, filters)).copy()


def _overview(data: RunData, filters: Filters) -> pd.DataFrame:
    summary = data.summary(filters.commodity, filters.border_only)
    sites = data.current_sites.get(filters.period)
    if sites is None:  # not a period of the run: no site
        sites = _sites_as_of(data, filters.period)
    if filters.classes:
        summary = summary[summary["registration"].isin(filters.classes)]
        sites = sites[sites["registration"].isin(filters.classes)]
    if filters.commodity:
        sites = sites[sites["commodity"] == filters.commodity]
    if filters.border_only:
        sites = sites[sites["in_border_zone"].astype(bool)]
    return country_overview(summary, sites, filters.period)


def _sites_as_of(data: RunData, period: str) -> pd.DataFrame:
    """The sites as `country_overview` takes them for `period`: the run's own `sites` for its last period;
    for an earlier one, each site seen in it with that period's class and border-zone flag."""
    if period == data.last_period:
        return data.sites
    rows = data.site_periods[data.site_periods["period"] == period]
    last = data.sites.set_index("site_id")[["merged_into", "risk_score", "unregistered_share"]]
    return rows.join(last, on="site_id").assign(last_seen=period, merged_into=pd.NA)


def kpis(data: RunData, filters: Filters) -> dict[str, float]:
    """The KPI cards: sums of the `overview` rows of the chosen countries (default: the project's)."""
    table = overview(data, filters)
    chosen = table[table["country"].isin(filters.countries or data.countries)]
    active, unregistered = float(chosen["active ha"].sum()), float(chosen["unregistered ha"].sum())
    return {
        "active_ha": active,
        "unregistered_share": 100 * unregistered / active if active else 0.0,
        "border_zone_sites": int(chosen["in border zone"].sum()),
        "new_sites": int(chosen[f"new in {filters.period}"].sum()),
        "transboundary_sites": int(chosen["transboundary"].sum()),
        "sites": int(chosen["sites"].sum()),
    }


def trends(data: RunData, filters: Filters) -> pd.DataFrame:
    """Per period and chosen country: active and unregistered area and share (from `overview` per period)."""
    frames = [overview(data, replace(filters, period=period)).assign(period=period) for period in data.periods]
    table = pd.concat(frames, ignore_index=True)
    table = table[table["country"].isin(filters.countries or data.countries)]
    return table[["period", "country", "active ha", "unregistered ha", "unregistered %"]].reset_index(drop=True)


def corridor_ranking(data: RunData, filters: Filters) -> pd.DataFrame:
    """Border corridors of `filters.period` ranked as the run ranks them (unregistered area in the border
    zone, then distance to an official crossing); with countries chosen, those on their borders."""
    figures = data.corridor_periods[data.corridor_periods["period"] == filters.period]
    table = data.corridors.drop(columns=["sites", "active_ha", "unregistered_ha", "rank"]).merge(
        figures.drop(columns="period"), on="corridor_id")
    if filters.countries:
        pairs = table["border_pair"].str.split("-")
        table = table[pairs.map(lambda pair: bool(set(pair) & set(filters.countries)))]
    table = table.sort_values(["unregistered_ha", "dist_post_km"], ascending=[False, False], ignore_index=True)
    return table.assign(rank=np.arange(1, len(table) + 1))


def post_distances(data: RunData, filters: Filters) -> pd.DataFrame:
    """Distance to the nearest official crossing of every site in the border zone in `filters.period`, with its
    country and class (an aggregate: only the distances and classes leave the server)."""
    rows = data.site_periods[(data.site_periods["period"] == filters.period)
                             & data.site_periods["in_border_zone"].astype(bool)]
    if filters.countries:
        rows = rows[rows["country"].isin(filters.countries)]
    return rows[["country", "registration", "dist_post_km"]].reset_index(drop=True)


def capacity_table(data: RunData) -> pd.DataFrame:
    """The run's production capacity rows with an estimate or a declared figure, and their anomaly flags."""
    shown = data.capacity[data.capacity["volume_carats_central"].notna()
                          | data.capacity["declared_production_carats"].notna()]
    flags = data.anomalies.groupby(["country", "year"])["flag"].agg(", ".join).rename("flags")
    return shown.join(flags, on=["country", "year"]).fillna({"flags": ""}).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------
# Site level (limited to the countries the user may see)
# ---------------------------------------------------------------------------------------------------------

def site_rows(data: RunData, filters: Filters, access: SiteAccess) -> pd.DataFrame:
    """The sites seen in `filters.period` that pass the filters and that `access` may see, one row each with
    that period's class, area and licence (index: position in `data.site_periods`)."""
    period = data.by_period[filters.period]
    return data.site_periods.iloc[period.positions[period.mask(filters, access)]]


def site_layer(data: RunData, filters: Filters, access: SiteAccess, zoom: float | None,
               bounds: list | None) -> dict[str, Any]:
    """The site layer for the map at `zoom` within `bounds`: polygons from `POLYGON_ZOOM` on, points below it,
    cells of counted sites where the view holds more than `MAX_FEATURES` points. Each feature's properties:
    `kind` (site | cell), colour, and a tooltip (site id, class, area; cell count and unregistered share)."""
    zoom = 6 if zoom is None else zoom
    period = data.by_period[filters.period]
    mask = period.mask(filters, access)
    mask[mask] = geojson.in_view(np.column_stack([period.lon[mask], period.lat[mask]] * 2), bounds)
    positions = period.positions[mask]
    summary = {"sites": len(positions), "shape": "points"}
    if len(positions) > geojson.MAX_FEATURES:
        unregistered = period.registration.where(lambda name: name in UNREGISTERED_CLASSES)[mask].astype(int)
        cells = geojson.grid_cells(period.lon[mask], period.lat[mask], zoom, pd.DataFrame({
            "unregistered": unregistered, "area_ha": data.site_periods["area_ha"].to_numpy()[positions]}))
        share = cells["unregistered"] / cells["count"]
        props = pd.DataFrame({
            "kind": "cell", "count": cells["count"],
            "colour": np.where(share >= 0.5, CLASS_COLOURS["no_licence"], CLASS_COLOURS["registered"]),
            "tooltip": cells["count"].astype(str) + " sites, " + (100 * share).round(0).astype(int).astype(str)
            + "% unregistered, " + cells["area_ha"].round(0).astype(int).astype(str) + " ha — zoom in"})
        collection = geojson.feature_collection(shapely.points(cells["lon"], cells["lat"]), props)
        summary["shape"] = "cells"
    else:
        props = data.site_features.iloc[positions]
        if zoom >= geojson.POLYGON_ZOOM:
            geoms = data.site_geoms[geojson.tolerance(zoom)][positions]
            summary["shape"] = "polygons"
        else:
            geoms = shapely.points(period.lon[mask], period.lat[mask])
        collection = geojson.feature_collection(geoms, props)
    collection["summary"] = summary
    return collection


def concession_layer(data: RunData, filters: Filters, access: SiteAccess, zoom: float | None,
                     bounds: list | None) -> dict[str, Any]:
    """Licences in view, coloured by status, simplified for `zoom`, of the countries `access` may see (none
    below `CONCESSION_ZOOM`)."""
    if (6 if zoom is None else zoom) < CONCESSION_ZOOM:
        return geojson.feature_collection(np.array([]), data.concession_features.iloc[0:0])
    mask = data.concession_country.where(access.sees_sites)
    if filters.countries:
        mask &= data.concession_country.isin(filters.countries)
    tol = geojson.tolerance(6 if zoom is None else zoom)
    mask &= geojson.in_view(data.concession_boxes[tol], bounds)
    return geojson.feature_collection(data.concession_geoms[tol][mask], data.concession_features[mask])


def synthetic_licences(data: RunData) -> bool:
    """Whether the run's caveats say its cadastres are synthetic (the demo's), so licences are labelled."""
    return any("cadastres are SYNTHETIC" in caveat for caveat in data.caveats)


#: Columns of the site table: (column, title, numeric).
TABLE_COLUMNS = (
    ("site_id", "Site", False), ("country", "Country", False), ("admin_area", "Admin area", False),
    ("registration", "Class", False), ("area_ha", "Area (ha)", True), ("licence_id", "Licence", False),
    ("first_seen", "First seen", False), ("dist_border_km", "To border (km)", True),
    ("dist_post_km", "To crossing (km)", True), ("risk_score", "Risk", True),
)


def site_table(data: RunData, filters: Filters, access: SiteAccess, page: int = 0, page_size: int = 25,
               sort_by: list[dict] | None = None, filter_query: str = "") -> tuple[list[dict], int]:
    """One page of the site table (server-side filtering, sorting, paging) and the number of matching rows.
    In the default order with no column filter, only the page's rows are copied (`PeriodRows.table_order`)."""
    period = data.by_period[filters.period]
    mask = period.mask(filters, access)
    start = max(page, 0) * page_size
    if not sort_by and not filter_query:
        order = period.table_order[mask[period.table_order]]
        shown = data.table_rows.iloc[period.positions[order[start:start + page_size]]]
        return shown.to_dict("records"), len(order)
    table = apply_filter_query(data.table_rows.iloc[period.positions[mask]], filter_query)
    if sort_by:
        table = table.sort_values([s["column_id"] for s in sort_by],
                                  ascending=[s["direction"] == "asc" for s in sort_by], kind="stable")
    else:
        table = table.sort_values(["area_ha", "site_id"], ascending=[False, True])
    return table.iloc[start:start + page_size].to_dict("records"), len(table)


def _table_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The site table's columns of `rows`, written as the table shows them (numbers rounded, text never null)."""
    table = rows[[column for column, _, _ in TABLE_COLUMNS]].copy()
    for column, _, numeric in TABLE_COLUMNS:
        table[column] = (table[column].astype(float).round(2) if numeric
                         else table[column].astype("string").fillna("").astype(object))
    return table


_OPERATORS = (("s>=", ">="), ("s<=", "<="), ("s<", "<"), ("s>", ">"), ("s!=", "!="), ("s=", "="),
              ("contains ", "contains"), (">=", ">="), ("<=", "<="), ("<", "<"), (">", ">"), ("!=", "!="),
              ("=", "="))


def apply_filter_query(table: pd.DataFrame, query: str) -> pd.DataFrame:
    """Rows of `table` matching a dash_table `filter_query` (terms joined by ' && ': `{col} op value`).
    Numbers compare as numbers, text case-insensitively; an unknown column matches nothing."""
    for term in filter(None, (query or "").split(" && ")):
        column, op, value = _parse_term(term)
        if column not in table.columns:
            return table.iloc[0:0]
        series = table[column]
        if pd.api.types.is_numeric_dtype(series):
            number = pd.to_numeric(value, errors="coerce")
            if op == "contains":
                mask = series.astype(str).str.contains(str(value), regex=False)
            else:
                mask = {"=": series == number, "!=": series != number, "<": series < number,
                        "<=": series <= number, ">": series > number, ">=": series >= number}[op]
        else:
            text, value = series.str.lower(), str(value).lower()
            mask = (text.str.contains(value, regex=False) if op == "contains" else
                    {"=": text == value, "!=": text != value, "<": text < value, "<=": text <= value,
                     ">": text > value, ">=": text >= value}[op])
        table = table[mask.fillna(False)]
    return table


def _parse_term(term: str) -> tuple[str, str, str]:
    column, _, rest = term.partition("} ")
    column = column.strip().lstrip("{")
    rest = rest.strip()
    for token, op in _OPERATORS:
        if rest.startswith(token):
            value = rest[len(token):].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
                value = value[1:-1]
            return column, op, value
    return column, "contains", rest


def default_filters(data: RunData, **values: Any) -> Filters:
    """Filters with the run's last period unless another of its periods is given; unknown values are dropped
    (a stale period or class from an older run, a commodity the run does not know); classes are sorted, so
    equal choices give equal filters."""
    period = values.get("period") if values.get("period") in data.periods else data.last_period
    countries = tuple(c for c in (values.get("countries") or ()) if c)
    commodity = values.get("commodity") if values.get("commodity") in COMMODITIES else None
    classes = tuple(sorted({c for c in (values.get("classes") or ()) if c in REGISTRATION_CLASSES}))
    return Filters(period=period, countries=countries, commodity=commodity, classes=classes,
                   border_only=bool(values.get("border_only")))


def country_label(data: RunData, code: str) -> str:
    if not code or code == OUTSIDE:
        return OUTSIDE
    return f"{data.country_names.get(code, code)} ({code})"
