"""The site-level views of a loaded run: site rows, the site table, and the map's site and licence layers.

Each takes an `access` (`mrumonitor.dashboard.access.Access`): site points, polygons, table rows and licences
are limited to the countries whose sites it may see. Each combines boolean masks over one period's prepared
rows (`prepared.PeriodRows`) and copies only what it returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from mrumonitor.dashboard import geojson
from mrumonitor.dashboard.filter_query import apply_filter_query
from mrumonitor.dashboard.filters import Filters
from mrumonitor.dashboard.prepared import SiteAccess
from mrumonitor.dashboard.run import RunData
from mrumonitor.schema import UNREGISTERED_CLASSES
from mrumonitor.style import REGISTRATION_CSS

#: Licences are drawn from this zoom on (region-wide they would outweigh the rest of the page).
CONCESSION_ZOOM = 8


def site_rows(data: RunData, filters: Filters, access: SiteAccess) -> pd.DataFrame:
    """The sites seen in `filters.period` that pass the filters and that `access` may see, one row each with
    that period's class, area and licence (index: position in `data.site_periods`)."""
    period = data.site_views.by_period[filters.period]
    return data.site_periods.iloc[period.positions[period.mask(filters, access)]]


def site_layer(data: RunData, filters: Filters, access: SiteAccess, zoom: float | None,
               bounds: list | None) -> dict[str, Any]:
    """The site layer for the map at `zoom` within `bounds`: polygons from `POLYGON_ZOOM` on, points below it,
    cells of counted sites where the view holds more than `MAX_FEATURES` points. Each feature's properties:
    `kind` (site | cell), colour, and a tooltip (site id, class, area; cell count and unregistered share)."""
    zoom = 6 if zoom is None else zoom
    period = data.site_views.by_period[filters.period]
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
            "colour": np.where(share >= 0.5, REGISTRATION_CSS["no_licence"], REGISTRATION_CSS["registered"]),
            "tooltip": cells["count"].astype(str) + " sites, " + (100 * share).round(0).astype(int).astype(str)
            + "% unregistered, " + cells["area_ha"].round(0).astype(int).astype(str) + " ha — zoom in"})
        collection = geojson.feature_collection(shapely.points(cells["lon"], cells["lat"]), props)
        summary["shape"] = "cells"
    else:
        props = data.site_views.features.iloc[positions]
        if zoom >= geojson.POLYGON_ZOOM:
            geoms = data.site_views.geoms[geojson.tolerance(zoom)][positions]
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
    licences = data.licence_views
    if (6 if zoom is None else zoom) < CONCESSION_ZOOM:
        return geojson.feature_collection(np.array([]), licences.features.iloc[0:0])
    mask = licences.country.where(access.sees_sites)
    if filters.countries:
        mask &= licences.country.isin(filters.countries)
    tol = geojson.tolerance(6 if zoom is None else zoom)
    mask &= geojson.in_view(licences.boxes[tol], bounds)
    return geojson.feature_collection(licences.geoms[tol][mask], licences.features[mask])


def site_table(data: RunData, filters: Filters, access: SiteAccess, page: int = 0, page_size: int = 25,
               sort_by: list[dict] | None = None, filter_query: str = "") -> tuple[list[dict], int]:
    """One page of the site table (server-side filtering, sorting, paging) and the number of matching rows.
    In the default order with no column filter, only the page's rows are copied (`PeriodRows.table_order`)."""
    period = data.site_views.by_period[filters.period]
    table_rows = data.site_views.table_rows
    mask = period.mask(filters, access)
    start = max(page, 0) * page_size
    if not sort_by and not filter_query:
        order = period.table_order[mask[period.table_order]]
        shown = table_rows.iloc[period.positions[order[start:start + page_size]]]
        return shown.to_dict("records"), len(order)
    table = apply_filter_query(table_rows.iloc[period.positions[mask]], filter_query)
    if sort_by:
        table = table.sort_values([s["column_id"] for s in sort_by],
                                  ascending=[s["direction"] == "asc" for s in sort_by], kind="stable")
    else:
        table = table.sort_values(["area_ha", "site_id"], ascending=[False, True])
    return table.iloc[start:start + page_size].to_dict("records"), len(table)
