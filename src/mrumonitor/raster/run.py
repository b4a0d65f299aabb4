"""The detect stage: activity inputs -> one regional activity layer per period (COG) -> tracked sites.

For each period every configured input lands on the regional grid (detections rasterised, external
probability/class rasters warped, scene areas and STAC inputs detected at their own resolution and landed); the layers
combine by maximum, the result is written as a COG, and the sites drawn from it are tracked across periods.
The no-data parts of each period's layer make the gap report (`raster.gaps`), with the windows of STAC composites
whose imagery could not be read under their own reason.

Given a `DetectPlan` (`raster.plan`, made by `pipeline.incremental`), the periods it re-uses are taken from
the previous run — their COGs linked, their gap and quarantine rows copied, their sites kept as history by the
tracking — and only the other periods' inputs are read. A plan limited to some countries computes the periods it processes over
their blocks only, the rest coming from the previous run (`raster.limit`). The raster work runs on local
threads or a dask.distributed cluster (`raster.engine`), the same graphs either way. GDAL's block cache is
held to `raster.gdal_cache_mb` meanwhile, so memory follows the chunk size, not the size of the rasters read.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import rasterio

from mrumonitor.config import DETECTOR_KINDS, PeriodSettings, Settings
from mrumonitor.errors import ConfigError
from mrumonitor.frames import concat_frames
from mrumonitor.layerio import write_geoparquet
from mrumonitor.raster.activity import combine, input_activity, land_on_grid, period_path
from mrumonitor.raster.cog import read_activity, write_activity_cog
from mrumonitor.raster.detector import detect_scenes
from mrumonitor.raster.engine import dask_engine
from mrumonitor.raster.gaps import GAP_COLUMNS, NO_OBSERVATION, observation_gaps
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.limit import BlockLimit, limit_activity
from mrumonitor.raster.plan import DetectPlan, link_layer
from mrumonitor.raster.plausibility import check_active_share, check_area_in_region, check_scene_area
from mrumonitor.raster.region import area_grid, check_grid_size, regional_grid
from mrumonitor.raster.scenes import assign_periods, discover_scenes
from mrumonitor.raster.stac.detect import stac_activity
from mrumonitor.raster.stac.search import input_bounds
from mrumonitor.raster.vectorise import vectorise
from mrumonitor.reference import load_boundaries
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import QUARANTINE_COLUMNS
from mrumonitor.sites import SiteLayers, track_sites

log = logging.getLogger(__name__)

#: Called as chunks are written: (task label, chunks done, chunks in all).
ChunkHook = Callable[[str, int, int], None]


@dataclass
class DetectResult:
    grid: Grid
    activity: dict[str, Path]
    area_activity: dict[str, dict[str, Path]]
    sites: SiteLayers
    quarantine: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    plan: DetectPlan
    written: dict[str, Path] = field(default_factory=dict)
    limit: dict = field(default_factory=dict)


def detect(settings: Settings, out: Path | None = None, previous: SiteLayers | None = None,
           on_chunk: ChunkHook | None = None, plan: DetectPlan | None = None,
           boundaries: gpd.GeoDataFrame | None = None) -> DetectResult:
    """Run the detect stage over the configured periods and write its layers into one folder.

    Parameters
    ----------
    settings : Settings
    out : Path, optional
        Folder for the activity COGs (scene areas under ``areas/``) and the site layers, written flat.
        Default: <paths.work>/detect.
    previous : SiteLayers, optional
        The site layers of the previous run, so that site ids carry over. Default: those `out` holds
        from an earlier detect, if any.
    on_chunk : callable, optional
        Progress hook ``(task label, chunks done, chunks in all)``.
    plan : DetectPlan, optional
        Which periods to re-use from the previous run (`pipeline.incremental.plan_detect`), and the countries
        a limited run computes (`raster.limit`). Default: process every period over the whole region.
    boundaries : GeoDataFrame, optional
        The country outlines (iso3, geometry) in the analysis CRS, as the pipeline holds them
        (`ReferenceLayers.boundaries`). Default: read from ``paths.reference``.
    """
    periods = settings.activity.periods
    if not periods and settings.activity.rolling is not None:
        raise ConfigError(f"no activity to detect yet: {settings.activity.rolling.waiting(dt.date.today())}")
    if not periods or not settings.activity.inputs:
        raise ConfigError("no activity to detect: set [activity] periods and at least one "
                          "[activity.inputs.<name>] block (see configs/default.toml).")
    _check_scene_resolution(settings)
    out = RunFolder(out if out is not None else settings.paths.work / "detect")
    plan = plan or DetectPlan({period.name: "" for period in periods})
    if boundaries is None:
        boundaries = load_boundaries(settings.paths.reference, settings.analysis_crs)
    grid = regional_grid(settings, boundaries)
    chunk = settings.raster.chunk_size
    limit = BlockLimit.over(plan.countries, grid, chunk, boundaries) if plan.countries else None
    outside_from = {}
    with dask_engine(settings.dask) as engine, rasterio.Env(GDAL_CACHEMAX=settings.raster.gdal_cache_mb):
        log.info("detect on %s: processing %s", engine, ", ".join(plan.process) or "no period")
        activity, area_paths, gaps, quarantine = _reused(settings, plan, out)
        area_layers, processed_areas, failed = _scene_areas(settings, grid, out, on_chunk, plan, limit)
        for name, paths in processed_areas.items():
            area_paths.setdefault(name, {}).update(paths)
        patches = {}
        for period in (p for p in periods if p.name in plan.process):
            layers = [area_layers[name][period.name] for name in area_layers if period.name in area_layers[name]]
            for name, spec in settings.activity.inputs.items():
                if spec.kind not in DETECTOR_KINDS:
                    layer, rejected = input_activity(name, spec, period.name, grid, chunk)
                    layers.append(layer)
                    quarantine.append(rejected)
            combined = combine(layers) if layers else None
            if limit is not None:
                before = RunFolder(plan.previous).activity(period.name) if plan.previous else None
                combined, kept = limit_activity(combined, grid, chunk, limit, before)
                outside_from[period.name] = plan.previous.name if kept else None
            if combined is None:
                log.warning("period %s: no input covers it; skipped", period.name)
                continue
            path = out.activity(period.name)
            write_activity_cog(combined, grid, path, _tags(period, settings, countries=plan.countries),
                               on_chunk=_hook(on_chunk, f"activity {period.name}"),
                               in_flight=settings.dask.blocks_in_flight)
            activity[period.name] = path
            stored, _, _ = read_activity(path)
            check_active_share(stored, settings.raster.activity_threshold, period.name, settings.activity.inputs)
            patches[period.name] = vectorise(stored, grid, settings.raster.activity_threshold,
                                             settings.sites.min_area_ha, settings.sites.connectivity, chunk)
            gaps.append(observation_gaps(stored, grid, boundaries, period.name, chunk, failed.get(period.name, [])))
            log.info("period %s: %d active patches", period.name, len(patches[period.name]))
    sites = track_sites(patches, boundaries, previous=previous if previous is not None else _previous_sites(out))
    result = DetectResult(grid, dict(sorted(activity.items(), key=lambda item: _order(settings, item[0]))),
                          area_paths, sites, concat_frames(quarantine, settings.analysis_crs, QUARANTINE_COLUMNS),
                          concat_frames(gaps, settings.analysis_crs, GAP_COLUMNS), plan,
                          limit={**limit.manifest_entry(), "outside_from": outside_from} if limit else {})
    result.written = _write_sites(result, out)
    return result


def _check_scene_resolution(settings: Settings) -> None:
    """Refuse a regional resolution that is not a whole multiple of the detector's, when scenes are read:
    a scene area is landed on the regional grid by averaging whole detector pixels into each cell."""
    scenes = [name for name, spec in settings.activity.inputs.items() if spec.kind in DETECTOR_KINDS]
    coarse, fine = settings.raster.resolution_m, settings.detector.resolution_m
    ratio = coarse / fine
    if scenes and (ratio < 1 or not math.isclose(ratio, round(ratio), rel_tol=1e-9)):
        nearest = sorted({max(1, math.floor(ratio)) * fine, max(1, math.ceil(ratio)) * fine})
        raise ConfigError(f"raster.resolution_m = {coarse:g} is not a whole multiple of detector.resolution_m = "
                          f"{fine:g}, which the scene input{'s' if len(scenes) > 1 else ''} {', '.join(scenes)} "
                          "need (each grid cell averages whole detector pixels). Set raster.resolution_m to "
                          f"{' or '.join(f'{r:g}' for r in nearest)}, or detector.resolution_m to a divisor of "
                          f"{coarse:g}.")


def _reused(settings: Settings, plan: DetectPlan, out: RunFolder) -> tuple[dict, dict, list, list]:
    """Link the re-used periods' COGs into `out`; their activity and area paths, gap and quarantine rows."""
    activity, areas = {}, {}
    if not plan.reuse:
        return activity, areas, [], []
    source = RunFolder(plan.source)
    for period in plan.reuse:
        if source.activity(period).is_file():  # a baseline only scene and STAC inputs read has no activity layer
            activity[period] = link_layer(source.activity(period), out.activity(period))
        for name, spec in settings.activity.inputs.items():
            published = source.area_activity(name, period)
            if spec.kind in DETECTOR_KINDS and published.is_file():
                areas.setdefault(name, {})[period] = link_layer(published, out.area_activity(name, period))
    gaps = gpd.read_parquet(source.layer("gaps"))
    if "reason" not in gaps:  # a run from before the reasons: each of its gaps lacked an observation
        gaps["reason"] = NO_OBSERVATION
    quarantine = gpd.read_parquet(source.layer("activity_quarantine"))
    files = {str(period_path(spec, period)) for period in plan.reuse for spec in settings.activity.inputs.values()}
    log.info("re-used %d periods of run %s: %s", len(plan.reuse), source.name, ", ".join(plan.reuse))
    return (activity, areas, [gaps[gaps["period"].isin(plan.reuse)]],
            [quarantine[quarantine["source_file"].isin(files)]])


def _order(settings: Settings, period: str) -> int:
    return [p.name for p in settings.activity.periods].index(period)


def _scene_areas(settings: Settings, grid: Grid, out: RunFolder, on_chunk, plan: DetectPlan,
                 limit: BlockLimit | None):
    """Detect activity in each scene area and STAC input at the detector's resolution, for the periods the plan
    processes (their scenes or items and the baseline's are read, no other); land it on the regional grid. An
    area a `limit` does not touch is not read: the previous run's layers of the area are linked instead, when it
    has them. Also returns, per period, the windows of STAC composites left without observation (read failures)."""
    layers, paths, failed = {}, {}, {}
    process = plan.process
    for name, spec in settings.activity.inputs.items():
        if spec.kind not in DETECTOR_KINDS or not set(process) - {settings.activity.baseline}:
            continue
        bounds = spec.bounds if spec.kind == "scenes" else input_bounds(settings, spec)
        fine = area_grid(bounds, settings.detector.resolution_m, settings.analysis_crs)
        what = f"{'scene' if spec.kind == 'scenes' else 'STAC'} area {name}"
        check_grid_size(fine, f"{what} (activity.inputs.{name}.bounds)", "detector.resolution_m",
                        settings.raster.max_grid_pixels)
        if limit is not None and not limit.touches(fine.bounds):
            log.info("%s lies outside %s: not read", what, ", ".join(limit.countries))
            paths[name] = _kept_areas(name, process, plan.previous, out)
            continue
        if spec.kind == "scenes":
            detected = _detect_scene_folder(settings, name, fine, grid, process)
        else:
            check_area_in_region(name, fine, grid)
            detected, failures = stac_activity(settings, name, fine, process, on_chunk)
            for period, areas in failures.items():
                failed.setdefault(period, []).extend(areas)
        layers[name], paths[name] = {}, {}
        for period_name in (p for p in process if p in detected):
            period = next(p for p in settings.activity.periods if p.name == period_name)
            path = out.area_activity(name, period_name)
            write_activity_cog(detected[period_name], fine, path, _tags(period, settings, area=name),
                               on_chunk=_hook(on_chunk, f"{name} {period_name}"),
                               in_flight=settings.dask.blocks_in_flight)
            paths[name][period_name] = path
            stored, _, _ = read_activity(path)
            layers[name][period_name] = land_on_grid(stored, fine, grid, chunk=settings.raster.chunk_size)
    return layers, paths, failed


def _detect_scene_folder(settings: Settings, name: str, fine: Grid, grid: Grid, process: list[str]) -> dict:
    """Lazy activity of scene area `name` on `fine` for the periods in `process` (their scenes and the baseline's)."""
    spec = settings.activity.inputs[name]
    found = discover_scenes(Path(spec.path))
    check_scene_area(name, spec.path, [scene.path for scene in found], fine, grid)
    needed = {*process, settings.activity.baseline}
    scenes = {period: found for period, found in assign_periods(found, settings.activity.periods).items()
              if period in needed}
    return detect_scenes(scenes, settings.activity.periods, settings.activity.baseline, fine, settings.detector,
                         settings.raster.chunk_size)


def _kept_areas(name: str, process: list[str], previous: Path | None, out: RunFolder) -> dict[str, Path]:
    """The previous run's layers of scene area `name` for the periods in `process`, linked into `out`."""
    published = {period: RunFolder(previous).area_activity(name, period) for period in process} if previous else {}
    return {period: link_layer(path, out.area_activity(name, period)) for period, path in published.items()
            if path.is_file()}


def _tags(period: PeriodSettings, settings: Settings, area: str | None = None,
          countries: tuple[str, ...] = ()) -> dict[str, str]:
    inputs = ", ".join(f"{name} ({spec.kind})" for name, spec in settings.activity.inputs.items())
    tags = {"PERIOD": period.name, "PERIOD_START": period.start.isoformat(), "PERIOD_END": period.end.isoformat(),
            "SOURCE": inputs, "ACTIVITY_THRESHOLD": str(settings.raster.activity_threshold),
            "CONFIG_FINGERPRINT": settings.fingerprint()}
    if area:
        tags["AREA"] = area
    if countries:
        tags["LIMITED_TO"] = " ".join(countries)
    return tags


def _hook(on_chunk: ChunkHook | None, label: str):
    return (lambda done, total: on_chunk(label, done, total)) if on_chunk else None


def _previous_sites(out: RunFolder) -> SiteLayers | None:
    """The sites of the last detect run in this work folder, so that ids carry over."""
    return SiteLayers.read(out.path) if SiteLayers.exists(out.path) else None


def _write_sites(result: DetectResult, out: RunFolder) -> dict[str, Path]:
    written = result.sites.write(out.path)
    written["activity_quarantine"] = write_geoparquet(result.quarantine, out.layer("activity_quarantine"))
    written["gaps"] = write_geoparquet(result.gaps, out.layer("gaps"))
    return written
