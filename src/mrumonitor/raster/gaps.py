"""The gap report: where an activity layer has no valid observation (255), per period and country, with area.

A gap is not "no mining": clouds, a period without scenes or a place no input covers leave the activity
unknown there. The no-data pixels of a period are polygonised like active pixels (`vectorise`, so the
polygons are exact pixel edges whatever the chunking) and cut by the consistent country outlines; the part
outside every outline (sea, neighbours beyond the region) is not reported.

Each row says why (`reason`): "no_observation" (clouds, no scene, nothing covers it), or "read_failed: <item>
<band>: <reason>" for a window of a STAC composite whose asset could not be read after the retries
(`raster.stac.composite.ReadFailure`); such a window is left out of the "no_observation" rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd
import shapely
import xarray as xr

from mrumonitor.frames import empty_frame
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.vectorise import vectorise
from mrumonitor.schema import ACTIVITY_DTYPE, ACTIVITY_MAX, ACTIVITY_NODATA

#: Columns of the `gaps` layer (besides geometry).
GAP_COLUMNS = {"period": "string", "country": "string", "area_ha": "float64", "reason": "string"}
#: `reason` of the parts without a valid observation in the period or its baseline.
NO_OBSERVATION = "no_observation"


def observation_gaps(activity: xr.DataArray, grid: Grid, boundaries: gpd.GeoDataFrame, period: str, chunk: int,
                     failed: Sequence[tuple[shapely.Geometry, str]] = ()) -> gpd.GeoDataFrame:
    """The no-data parts of one period's activity layer inside each country: period, country, area_ha, reason,
    geometry.

    Parameters
    ----------
    activity : xarray.DataArray
        The period's activity (uint8 percent, 255 = no data) on `grid`, read block by block.
    boundaries : GeoDataFrame
        iso3, geometry: the consistent country outlines in the grid's CRS.
    failed : sequence of (geometry, reason)
        Areas in the grid's CRS left without observation because their imagery could not be read, with the
        reason (`ReadFailure.describe`): reported under that reason, not as "no_observation".
    """
    unobserved = xr.where(activity == ACTIVITY_NODATA, ACTIVITY_MAX, 0).astype(ACTIVITY_DTYPE)
    patches = vectorise(unobserved, grid, ACTIVITY_MAX, 0.0, 4, chunk)
    failures = gpd.GeoDataFrame({"reason": [reason for _, reason in failed]},
                                geometry=[geometry for geometry, _ in failed], crs=grid.crs)
    if not patches.empty and not failures.empty:
        patches = gpd.overlay(patches[["geometry"]], failures[["geometry"]], how="difference", keep_geom_type=True)
    patches = patches[["geometry"]].assign(reason=NO_OBSERVATION)
    parts = pd.concat([frame for frame in (patches, failures) if not frame.empty] or [patches], ignore_index=True)
    if parts.empty:
        return empty_gaps(grid.crs)
    pieces = gpd.overlay(gpd.GeoDataFrame(parts, crs=grid.crs), boundaries[["iso3", "geometry"]],
                         how="intersection", keep_geom_type=True)
    pieces = pieces.dissolve(["iso3", "reason"], as_index=False)
    gaps = gpd.GeoDataFrame({"period": period, "country": pieces["iso3"], "area_ha": pieces.area / 10_000.0,
                             "reason": pieces["reason"]}, geometry=pieces.geometry, crs=grid.crs)
    return gaps[gaps["area_ha"] > 0].astype(GAP_COLUMNS).reset_index(drop=True)


def empty_gaps(crs) -> gpd.GeoDataFrame:
    """A gap layer without rows."""
    return gpd.GeoDataFrame(empty_frame(GAP_COLUMNS), geometry=gpd.GeoSeries(crs=crs), crs=crs)


def gap_summary(gaps: gpd.GeoDataFrame) -> list[dict]:
    """Per period, country and reason, the hectares without a valid observation (for the manifest)."""
    table = gaps.groupby(["period", "country", "reason"], sort=False)["area_ha"].sum().round(1).reset_index()
    return table.to_dict("records")
