"""The site-level views of a loaded run: site rows, the site table, and the map's site and licence layers.

Each takes an `access` (`mrumonitor.dashboard.access.Access`): site points, polygons, table rows and licences
are limited to the countries whose sites it may see. Each combines boolean masks over one period's prepared
rows (`prepared.PeriodRows`) and copies only what it returns. The cells' tooltips are written per request, in
its language (the sites' and licences' come prepared with the run). The map's vector tiles (`site_tiles`) draw
with the same cells (`site_cells`) and licences (`licences_seen`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import shapely

from mrumonitor.dashboard import geojson
from mrumonitor.dashboard.filter_query import apply_filter_query
from mrumonitor.dashboard.filters import Filters
from mrumonitor.dashboard.prepared import Codes, PeriodRows, SiteAccess
from mrumonitor.dashboard.run import RunData
from mrumonitor.i18n import _, number, percent
from mrumonitor.i18n.vocabulary import words
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
        rows = np.flatnonzero(mask)
        collection = geojson.feature_collection(*site_cells(data, period, rows, geojson.grid_cell_ids(
            period.lon[rows], period.lat[rows], zoom)))
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


def site_cells(data: RunData, period: PeriodRows, rows: np.ndarray, cells: np.ndarray
               ) -> tuple[np.ndarray, pd.DataFrame]:
    """The cells of counted sites drawn where a view holds more sites than it draws one by one.

    Parameters
    ----------
    data : RunData
        The run.
    period : PeriodRows
        The period's prepared rows.
    rows : ndarray
        The rows of `period` to count (indices into its arrays).
    cells : ndarray
        The cell of each of `rows`, an integer; cells are returned in the order of these integers.

    Returns
    -------
    points, properties
        As `cell_features` gives them.
    """
    ids, group = np.unique(cells, return_inverse=True)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=values, minlength=len(ids))

    return cell_features(
        np.bincount(group, minlength=len(ids)),
        total(_rows_where(period.registration, rows, lambda name: name in UNREGISTERED_CLASSES)),
        total(_rows_where(period.registration, rows, lambda name: name == "not_assessed")),
        total(data.site_periods["area_ha"].to_numpy(dtype=float)[period.positions[rows]]),
        total(period.lon[rows]), total(period.lat[rows]))


def cell_features(count: np.ndarray, unregistered: np.ndarray, not_assessed: np.ndarray, hectares: np.ndarray,
                  lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Cells of counted sites from their sums, one value per cell: how many sites, how many unregistered and not
    assessed, their hectares and the sums of their longitudes and latitudes.

    Returns
    -------
    points, properties
        Per cell a point (WGS84) at its sites' mean position, and its properties: `kind` "cell", `count`, `colour`
        and a `tooltip` in the request's language (count, unregistered share, area).
    """
    share = unregistered / count
    # a cell takes the colour of its unregistered sites, else of its sites outside any cadastre held, when they are
    # half or more of it; registered otherwise
    colour = np.select([share >= 0.5, not_assessed / count >= 0.5],
                       [REGISTRATION_CSS["no_licence"], REGISTRATION_CSS["not_assessed"]],
                       REGISTRATION_CSS["registered"])
    return shapely.points(lon / count, lat / count), pd.DataFrame({
        "kind": "cell", "count": count, "colour": colour, "tooltip": _cell_tooltips(count, share, hectares)})


def _rows_where(codes: Codes, rows: np.ndarray, test: Callable[[Any], bool]) -> np.ndarray:
    """Whether the value of each of `rows` of the coded column `codes` passes `test` (1.0 or 0.0)."""
    hits = [i for i, value in enumerate(codes.values) if test(value)]
    return np.isin(codes.codes[rows], hits).astype(float)


def _cell_tooltips(counts: np.ndarray, shares: np.ndarray, hectares: np.ndarray) -> list[str]:
    """Each cell's tooltip in the request's language: "12 sites, 40% unregistered, 35 ha — zoom in"."""
    return [_("%(count)s sites, %(share)s unregistered, %(area)s ha — zoom in", count=number(count),
              share=percent(share), area=number(area)) for count, share, area in zip(counts, shares, hectares)]


def concession_layer(data: RunData, filters: Filters, access: SiteAccess, zoom: float | None,
                     bounds: list | None) -> dict[str, Any]:
    """Licences in view, coloured by status, simplified for `zoom`, of the countries `access` may see (none
    below `CONCESSION_ZOOM`)."""
    licences = data.licence_views
    if (6 if zoom is None else zoom) < CONCESSION_ZOOM:
        return geojson.feature_collection(np.array([]), licences.features.iloc[0:0])
    mask = licences_seen(data, filters, access)
    tol = geojson.tolerance(6 if zoom is None else zoom)
    mask &= geojson.in_view(licences.boxes[tol], bounds)
    return geojson.feature_collection(licences.geoms[tol][mask], licences.features[mask])


def licences_seen(data: RunData, filters: Filters, access: SiteAccess) -> np.ndarray:
    """Mask of the run's licences (`LicenceViews`) of the countries `access` may see, and of the filters' countries
    when they name some."""
    mask = data.licence_views.country.where(access.sees_sites)
    if filters.countries:
        mask &= data.licence_views.country.isin(filters.countries)
    return mask


def site_table(data: RunData, filters: Filters, access: SiteAccess, page: int = 0, page_size: int = 25,
               sort_by: list[dict] | None = None, filter_query: str = "", since: str | None = None
               ) -> tuple[list[dict], int]:
    """One page of the site table (server-side filtering, sorting, paging) and the number of matching rows, each
    row with its growth since period `since` (`SiteViews.growth_since`: change_ha, change_pct). In the default
    order with no column filter, only the page's rows are copied (`PeriodRows.table_order`)."""
    period = data.site_views.by_period[filters.period]
    table_rows = data.site_views.table_rows
    mask = period.mask(filters, access)
    start = max(page, 0) * page_size
    if not sort_by and not filter_query:
        order = period.table_order[mask[period.table_order]]
        shown = _in_words(_with_growth(data, table_rows.iloc[period.positions[order[start:start + page_size]]],
                                       since))
        return _records(shown), len(order)
    table = apply_filter_query(_in_words(_with_growth(data, table_rows.iloc[period.positions[mask]], since)),
                               filter_query)
    if sort_by:
        table = table.sort_values([s["column_id"] for s in sort_by],
                                  ascending=[s["direction"] == "asc" for s in sort_by], kind="stable")
    else:
        table = table.sort_values(["area_ha", "site_id"], ascending=[False, True])
    return _records(table.iloc[start:start + page_size]), len(table)


def _with_growth(data: RunData, table: pd.DataFrame, since: str | None) -> pd.DataFrame:
    """The site table's rows `table` with their growth since period `since` (change_ha, change_pct)."""
    return table.join(data.site_views.growth_since(table, since)[["change_ha", "change_pct"]])


def _in_words(table: pd.DataFrame) -> pd.DataFrame:
    """The site table's codes (registration class, commodity) and the English words of how the commodity was
    decided, in the user's language: what the user reads is what its filters match and its sorting orders."""
    basis = table["commodity_basis"]
    return table.assign(registration=table["registration"].map(words("registration")).fillna(table["registration"]),
                        commodity=table["commodity"].map(words("commodity")).fillna(table["commodity"]),
                        commodity_basis=basis.map({text: _(text) if text else text for text in basis.unique()}))


def _records(table: pd.DataFrame) -> list[dict]:
    """The rows of `table` for the browser, a missing number (the per cent of a new site) as None."""
    return table.astype(object).where(table.notna(), None).to_dict("records")
