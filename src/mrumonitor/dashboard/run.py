"""A published run, loaded once per run folder for the dashboard: read from the run folder only.

`load_run(settings, run)` reads a run of the layer store (never the pipeline, never today's reference files
or settings): its layers, and the reference layers, analysis CRS and countries it was computed with
(`mrumonitor.export.run_reference`), so an old run is drawn with the borders, border zone and admin areas
its figures were computed with. What the callbacks read is prepared once (`prepared`); the `RunData` is not
changed after it is built. Nothing is read at import time; runs are cached by their folder.

Memory: the footprints are kept once, as WKB (`prepared.Footprints`), the registration pieces without their
shapes (the summaries that need them are made when loading), text in Arrow buffers in one piece; what loading
freed is handed back to the system (`_release_freed_memory`), so a server forking workers from the loaded run
does not hand them the loading's garbage. A run of 500,000 sites takes about 1.5 GB (bench/README.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import shapely

from mrumonitor.config import Settings
from mrumonitor.dashboard import geojson
from mrumonitor.dashboard.filters import DEFAULT_COMMODITY
from mrumonitor.dashboard.memo import Memo
from mrumonitor.dashboard.prepared import (
    Footprints,
    LicenceViews,
    SiteViews,
    contiguous,
    prepare_licences,
    prepare_sites,
    run_map_layers,
)
from mrumonitor.errors import StoreError
from mrumonitor.export.run_reference import run_countries, run_crs, run_reference
from mrumonitor.frames import empty_frame
from mrumonitor.i18n.messages import translate_texts
from mrumonitor.ingest.snapshots import current_licences
from mrumonitor.reference.layers import ReferenceLayers
from mrumonitor.schema import BORDER_SCOPES, CAPACITY_PARAMETER_COLUMNS
from mrumonitor.store.runs import read_manifest, resolve_run

#: Runs kept in memory at once (the latest and a few the Downloads page or a bookmark asked for).
CACHED_RUNS = 3
#: Per-filter country overviews (period, commodity, classes, border zone) kept per run.
CACHED_OVERVIEWS = 1024
#: Callback results kept per run (see `RunData.results`): keyed by the callback, its inputs and the access scope.
CACHED_RESULTS = 2048
#: Corridor rankings (period, commodity, border scope) kept per run.
CACHED_RANKINGS = 256

#: Simplification of the corridors' lines on the map (degrees, about 100 m).
CORRIDOR_TOLERANCE = 0.001

#: The caveat that marks a run's cadastres as synthetic (the demo's): its licences are labelled so.
SYNTHETIC_CADASTRES = "cadastres are SYNTHETIC"


@dataclass(frozen=True)
class RunData:
    """One published run, ready for the views. Build it with `load_run`."""

    run_id: str
    run_dir: Path
    manifest: dict[str, Any]
    countries: tuple[str, ...]
    country_names: dict[str, str]
    reference: ReferenceLayers = field(repr=False)
    sites: pd.DataFrame = field(repr=False)
    site_periods: pd.DataFrame = field(repr=False)
    pieces: pd.DataFrame = field(repr=False)
    corridors: pd.DataFrame = field(repr=False)
    corridor_lines: np.ndarray = field(repr=False)
    corridor_periods: pd.DataFrame = field(repr=False)
    capacity: pd.DataFrame = field(repr=False)
    capacity_parameters: pd.DataFrame = field(repr=False)
    anomalies: pd.DataFrame = field(repr=False)
    concessions: pd.DataFrame = field(repr=False)
    period_shapes: Footprints = field(repr=False)
    concession_shapes: np.ndarray = field(repr=False)
    site_views: SiteViews = field(repr=False)
    licence_views: LicenceViews = field(repr=False)
    map_layers: dict[str, dict[str, Any]] = field(repr=False)
    overviews: Memo = field(default_factory=lambda: Memo(CACHED_OVERVIEWS), repr=False)
    rankings: Memo = field(default_factory=lambda: Memo(CACHED_RANKINGS), repr=False)
    results: Memo = field(default_factory=lambda: Memo(CACHED_RESULTS), repr=False)

    @property
    def periods(self) -> list[str]:
        return [period["name"] for period in self.manifest["periods"]]

    @property
    def last_period(self) -> str:
        return self.periods[-1]

    @property
    def caveats(self) -> list[str]:
        """The run's caveats in the user's language (the manifest keeps them in English)."""
        return translate_texts(list(self.manifest.get("caveats", [])))

    @property
    def synthetic_licences(self) -> bool:
        """Whether the run's caveats say its cadastres are synthetic (the demo's), so licences are labelled."""
        return synthetic(self.manifest.get("caveats", []))

    def summary(self, commodity: str | None, border_only: bool) -> pd.DataFrame:
        """`registration_summary` of the pieces of the sites of `commodity` (None: all), in the border zone
        only when `border_only` — the run's own table when nothing is filtered."""
        return self.site_views.summaries[commodity, border_only]

    @cached_property
    def site_index(self) -> pd.Index:
        return pd.Index(self.sites["site_id"])

    @cached_property
    def default_commodity(self) -> str | None:
        """The commodity the filters open on: `filters.DEFAULT_COMMODITY` when the run has sites of it, else
        None (every commodity)."""
        return DEFAULT_COMMODITY if (self.sites["commodity"] == DEFAULT_COMMODITY).any() else None

    @cached_property
    def scope_pairs(self) -> dict[str, list[str]]:
        """The border pairs of each border scope the run's corridors run along ("SLE-GIN"...), sorted."""
        pairs = self.corridors.groupby("scope")["border_pair"].unique()
        return {scope: sorted(map(str, pairs.get(scope, []))) for scope in BORDER_SCOPES}


def synthetic(caveats: list[str]) -> bool:
    """Whether `caveats` say the run's cadastres are synthetic."""
    return any(SYNTHETIC_CADASTRES in caveat for caveat in caveats)


_RUNS: OrderedDict[str, RunData] = OrderedDict()
_RUNS_LOCK = threading.Lock()


def load_run(settings: Settings, run: str = "latest") -> RunData:
    """The run `run` ("latest" or an id) of the configured store, loaded once and cached by its folder.

    Raises
    ------
    StoreError
        No such run in the store; a layer missing or damaged; a run that carries no reference layers (published before
        runs did: the message says to publish a new run).
    """
    run_dir = resolve_run(settings.paths.store, run)
    key = str(run_dir.absolute())  # asked per tile and callback: no resolve(), which reads every link of the path
    with _RUNS_LOCK:
        if key in _RUNS:
            _RUNS.move_to_end(key)
            return _RUNS[key]
    try:
        data = _read_run(run_dir)
    except (OSError, KeyError, TypeError, ValueError, pyarrow.ArrowException) as exc:
        # a layer missing or damaged since the run was published (a store edited or deleted by hand)
        raise StoreError(f"{run_dir}: the run's layers cannot be read ({type(exc).__name__}: {exc}). Publish a "
                         "new run with `mrumonitor run`, or start the dashboard on another run (--run).") from None
    finally:
        _release_freed_memory()
    with _RUNS_LOCK:
        _RUNS[key] = data
        while len(_RUNS) > CACHED_RUNS:
            _RUNS.popitem(last=False)
    return data


def _read_run(run_dir: Path) -> RunData:
    manifest = read_manifest(run_dir)
    crs = run_crs(run_dir, manifest)
    reference = run_reference(run_dir, manifest)

    def layer(name: str) -> Path:
        return run_dir / manifest["layers"][name]["path"]

    sites = gpd.read_parquet(layer("sites")).to_crs(crs)
    periods = gpd.read_parquet(layer("site_periods")).to_crs(crs)
    pieces = gpd.read_parquet(layer("site_registration")).to_crs(crs)
    concessions = current_licences(gpd.read_parquet(layer("concessions"))).reset_index(drop=True)  # the licences now
    corridors = gpd.read_parquet(layer("border_corridors"))
    table = {name: pd.read_parquet(layer(name)) for name in ("corridor_periods", "capacity", "kp_anomalies")}
    # the parameters behind the capacity estimate, where the run publishes them
    parameters = (pd.read_parquet(layer("capacity_parameters")) if "capacity_parameters" in manifest["layers"]
                  else empty_frame(CAPACITY_PARAMETER_COLUMNS))

    sites = sites.drop(columns=["bbox"], errors="ignore")
    attributes = contiguous(pd.DataFrame(sites.drop(columns="geometry")))
    attributes["admin_area"] = _admin_names(reference, sites)
    points = geojson.to_wgs84(sites.geometry.representative_point())
    attributes["lon"], attributes["lat"] = shapely.get_x(points), shapely.get_y(points)

    site_cols = attributes.set_index("site_id")[["country", "countries", "commodity", "first_seen", "transboundary"]]
    rows = pd.DataFrame(periods.drop(columns=["geometry", "bbox"], errors="ignore")).join(
        site_cols, on="site_id")
    period_points = geojson.to_wgs84(periods.geometry.representative_point())
    rows["lon"], rows["lat"] = shapely.get_x(period_points), shapely.get_y(period_points)
    rows = contiguous(rows.reset_index(drop=True))

    zone = rows.set_index(["site_id", "period"])["in_border_zone"]
    pieces = pieces.drop(columns=["bbox"], errors="ignore").assign(
        commodity=pieces["site_id"].map(site_cols["commodity"]).to_numpy(),
        in_border_zone=pd.MultiIndex.from_arrays([pieces["site_id"], pieces["period"]]).map(zone).to_numpy())

    boundaries = reference.boundaries
    period_names = [period["name"] for period in manifest["periods"]]
    footprints = Footprints.of(periods.geometry)
    site_views = prepare_sites(attributes, rows, footprints, pieces, boundaries, period_names)
    return RunData(
        run_id=run_dir.name, run_dir=run_dir, manifest=manifest, countries=run_countries(run_dir, manifest),
        country_names=dict(zip(boundaries["iso3"], boundaries["name"])), reference=reference,
        sites=attributes, site_periods=rows, pieces=contiguous(pd.DataFrame(pieces.drop(columns="geometry"))),
        corridors=pd.DataFrame(corridors.drop(columns=["geometry", "bbox"], errors="ignore")),
        corridor_lines=geojson.rounded(shapely.simplify(geojson.to_wgs84(corridors.geometry), CORRIDOR_TOLERANCE)),
        corridor_periods=table["corridor_periods"], capacity=table["capacity"], capacity_parameters=parameters,
        anomalies=table["kp_anomalies"],
        concessions=pd.DataFrame(concessions.drop(columns=["geometry", "bbox"], errors="ignore")),
        period_shapes=footprints, concession_shapes=np.asarray(concessions.to_crs(crs).geometry),
        site_views=site_views,
        licence_views=prepare_licences(concessions, geojson.to_wgs84(concessions.geometry),
                                       synthetic(manifest.get("caveats", []))),
        map_layers=run_map_layers(reference))


def _release_freed_memory() -> None:
    """Hand the memory freed while loading a run (the shapes read and dropped, the frames joined) back to the
    system: Arrow's allocator and glibc's keep freed blocks for later, so the server would otherwise stay about
    as large as at the peak of the loading (a third more at 500,000 sites), and forked workers would start with
    those pages too. glibc's part only where the C library is glibc."""
    pyarrow.default_memory_pool().release_unused()
    libc = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None
    if trim is not None:
        trim(0)


def _admin_names(reference: ReferenceLayers, sites: gpd.GeoDataFrame) -> pd.Series:
    """The name of the run's first admin level each site's representative point lies in ("" if none)."""
    if not reference.admin:
        return pd.Series("", index=sites.index, dtype=object)
    areas = next(iter(reference.admin.values()))
    points = gpd.GeoDataFrame(geometry=sites.geometry.representative_point(), crs=sites.crs)
    joined = gpd.sjoin(points, areas[["name", "geometry"]], predicate="within", how="left")
    return joined.groupby(level=0)["name"].first().reindex(sites.index).fillna("")
