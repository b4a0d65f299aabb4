"""Where activity rasters live: the regional grid over the project countries, and scene detection areas.

Both are `Grid.covering` grids in the analysis CRS, aligned to whole multiples of their resolution, so a
20 m detection area nests exactly in the 100 m regional grid (see `activity.land_on_grid`).
"""

from __future__ import annotations

import logging

import geopandas as gpd
from pyproj import CRS
from rasterio.warp import transform_bounds

from mrumonitor.config import Settings
from mrumonitor.crs import WGS84, norm_crs, require_projected
from mrumonitor.errors import ConfigError, ReferenceDataError
from mrumonitor.raster.grid import Grid
from mrumonitor.reference import load_boundaries

log = logging.getLogger(__name__)

#: Points per edge used to transform a lon/lat box, so that curved edges in the target CRS are covered.
_DENSIFY_POINTS = 21


def regional_grid(settings: Settings, outlines: gpd.GeoDataFrame | None = None) -> Grid:
    """The grid of the regional activity layer: the project countries plus `raster.margin_km`.

    Covers the bounding box of the consistent country outlines of `project.countries`, widened on every
    side by the margin (this is exactly the bounding box of the outlines buffered by the margin), at
    `raster.resolution_m` in the analysis CRS. `outlines` (iso3, geometry in the analysis CRS) default to
    the committed reference boundaries.

    Raises
    ------
    ReferenceDataError
        When the reference outlines are missing or hold none of the project countries.
    ConfigError
        When the grid would have more than `raster.max_grid_pixels` pixels.
    """
    grid = Grid.covering(region_bounds(settings, outlines), settings.analysis_crs, settings.raster.resolution_m)
    check_grid_size(grid, "the regional grid", "raster.resolution_m", settings.raster.max_grid_pixels)
    log.info("regional grid: %d x %d pixels of %g m over %s (+%g km)", grid.width, grid.height,
             grid.resolution, ", ".join(settings.project.countries), settings.raster.margin_km)
    return grid


def region_bounds(settings: Settings, outlines: gpd.GeoDataFrame | None = None) -> tuple[float, float, float, float]:
    """The region in the analysis CRS: the bounding box of the outlines of `project.countries` widened by
    `raster.margin_km` on every side. `outlines` (iso3, geometry in the analysis CRS) default to the committed
    reference boundaries; a `ReferenceDataError` when they hold none of the project countries."""
    if outlines is None:
        outlines = load_boundaries(settings.paths.reference, settings.analysis_crs)
    ours = outlines[outlines["iso3"].isin(settings.project.countries)]
    if ours.empty:
        raise ReferenceDataError(
            f"{settings.paths.reference}: the boundaries hold none of project.countries "
            f"({', '.join(settings.project.countries)}); they hold {', '.join(outlines['iso3'])}. "
            "Rebuild them with `mrumonitor reference build` or correct project.countries.")
    margin = settings.raster.margin_km * 1000.0
    minx, miny, maxx, maxy = ours.total_bounds
    return minx - margin, miny - margin, maxx + margin, maxy + margin


def region_lonlat(settings: Settings) -> tuple[float, float, float, float]:
    """`region_bounds` as (west, south, east, north) in degrees (WGS84), edges densified, rounded to 1e-6."""
    west, south, east, north = transform_bounds(settings.analysis_crs, WGS84, *region_bounds(settings),
                                                densify_pts=_DENSIFY_POINTS)
    return round(west, 6), round(south, 6), round(east, 6), round(north, 6)


def area_grid(bounds_wgs84: tuple[float, float, float, float], resolution: float, crs) -> Grid:
    """The grid covering a detection area given as (west, south, east, north) in degrees (WGS84).

    The box is transformed with densified edges, so the grid covers the whole area even where its edges
    curve in `crs` (a projected CRS in metres).
    """
    west, south, east, north = bounds_wgs84
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValueError(f"detection area bounds must be [west, south, east, north] in degrees with west < east "
                         f"and south < north; got {list(bounds_wgs84)}")
    target: CRS = require_projected(norm_crs(crs, "detection area CRS"), "detection area CRS")
    projected = transform_bounds(WGS84, target, west, south, east, north, densify_pts=_DENSIFY_POINTS)
    return Grid.covering(projected, target, resolution)


def check_grid_size(grid: Grid, what: str, resolution_key: str, limit: int) -> None:
    """Refuse a grid of more than `limit` pixels (`raster.max_grid_pixels`) with its size and the fix.

    Raster work is chunked, so memory does not grow with the grid; but disk, time and the number of tasks
    do, and a resolution typed one order of magnitude too fine is a mistake to stop before it starts.
    """
    pixels = grid.width * grid.height
    if pixels > limit:
        raise ConfigError(f"{what} would be {grid.width:,} x {grid.height:,} pixels ({pixels / 1e9:.1f} gigapixels) "
                          f"at {resolution_key} = {grid.resolution:g}: above raster.max_grid_pixels ({limit:,}). "
                          f"Set a coarser {resolution_key}, or raise raster.max_grid_pixels if the machine and the "
                          "disk can take it (about one byte per pixel and period).")
