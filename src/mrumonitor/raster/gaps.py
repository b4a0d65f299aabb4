"""The gap report: where an activity layer has no valid observation (255), per period and country, with area.

A gap is not "no mining": clouds, a period without scenes or a place no input covers leave the activity
unknown there. The no-data pixels of a period are polygonised like active pixels (`vectorise`, so the
polygons are exact pixel edges whatever the chunking) and cut by the consistent country outlines; the part
outside every outline (sea, neighbours beyond the region) is not reported.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import xarray as xr

from mrumonitor.raster.grid import Grid
from mrumonitor.raster.vectorise import vectorise
from mrumonitor.schema import ACTIVITY_DTYPE, ACTIVITY_MAX, ACTIVITY_NODATA

#: Columns of the `gaps` layer (besides geometry).
GAP_COLUMNS = {"period": "string", "country": "string", "area_ha": "float64"}


def observation_gaps(activity: xr.DataArray, grid: Grid, boundaries: gpd.GeoDataFrame, period: str, chunk: int
                     ) -> gpd.GeoDataFrame:
    """The no-data parts of one period's activity layer inside each country: period, country, area_ha, geometry.

    Parameters
    ----------
    activity : xarray.DataArray
        The period's activity (uint8 percent, 255 = no data) on `grid`, read block by block.
    boundaries : GeoDataFrame
        iso3, geometry: the consistent country outlines in the grid's CRS.
    """
    unobserved = xr.where(activity == ACTIVITY_NODATA, ACTIVITY_MAX, 0).astype(ACTIVITY_DTYPE)
    patches = vectorise(unobserved, grid, ACTIVITY_MAX, 0.0, 4, chunk)
    if patches.empty:
        return empty_gaps(grid.crs)
    pieces = gpd.overlay(patches[["geometry"]], boundaries[["iso3", "geometry"]], how="intersection",
                         keep_geom_type=True)
    pieces = pieces.dissolve("iso3", as_index=False)
    gaps = gpd.GeoDataFrame({"period": period, "country": pieces["iso3"], "area_ha": pieces.area / 10_000.0},
                            geometry=pieces.geometry, crs=grid.crs)
    return gaps[gaps["area_ha"] > 0].astype(GAP_COLUMNS).reset_index(drop=True)


def empty_gaps(crs) -> gpd.GeoDataFrame:
    """A gap layer without rows."""
    columns = {name: pd.Series(dtype=dtype) for name, dtype in GAP_COLUMNS.items()}
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(crs=crs), crs=crs)


def gap_summary(gaps: gpd.GeoDataFrame) -> list[dict]:
    """Per period and country, the hectares without a valid observation (for the manifest)."""
    table = gaps.groupby(["period", "country"], sort=False)["area_ha"].sum().round(1).reset_index()
    return table.to_dict("records")
