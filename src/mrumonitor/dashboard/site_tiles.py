"""The map's vector-tile layers of a loaded run: what one tile of sites or licences holds, before encoding.

A tile holds every site of its period that the user's access scope may see, and every licence it may see; the
filter bar's other filters (countries, commodity, classes, the border zone) are applied by the map in the browser
(assets/map.js `mru.tiles`), from the attributes each feature carries for them (`FILTER_ATTRIBUTES`). So a tile is
the same for every user of an access scope whatever their filters: it is computed once per run, period, language
and scope, and a filter change draws the tiles the browser holds again instead of fetching new ones.

The features are those of the GeoJSON path (`site_level.site_layer`, `site_level.concession_layer`): the same
colours and tooltips, points below `geojson.POLYGON_ZOOM` and footprints from it (simplified per zoom band),
licences from `site_level.CONCESSION_ZOOM`. Where a tile holds more than `CELL_CAP` sites it holds cells of counted
sites instead (`site_level.site_cells`), `TILE_CELLS` across, counting only the sites the user may see, each with
its sites counted per value of the filter attributes (`groups`), so that the map counts, colours and sizes a cell
by the sites the filters pass. Whether a tile holds cells depends on all the sites of the period the user may see
in it, not on the filters: a filter that leaves few sites there still shows cells, with their counts.

Tiles are `TILE_PX` (512) screen pixels across, MapLibre's convention for vector tiles: tile z/x/y covers what the
map shows at zoom z + `ZOOM_OFFSET` in four 256-pixel tiles, and is drawn for that zoom (the zooms above are the
map's). A 1200 x 800 pixel view loads 6 to 12 of them instead of 20 to 30: at 50 users, answering that many
requests with no work at all took half a core (`bench/bench_dashboard_scale.py`'s floor phase).

Speed (a run of 500,000 sites; a tile must answer in a few milliseconds): a tile never scans the sites. It asks
the period's rows for those whose footprint's box meets its buffered bounds (`PeriodRows.rows_in`: boxes sorted
when the run is loaded, no index to build per worker), then keeps those the access scope may see (one
mask per period, filters and access scope, computed once: `rows_seen`), and takes their properties from a table
made once per run (`_properties`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from mrumonitor.dashboard import geojson
from mrumonitor.dashboard.access import Access
from mrumonitor.dashboard.filters import Filters
from mrumonitor.dashboard.memo import Memo
from mrumonitor.dashboard.prepared import PeriodRows
from mrumonitor.dashboard.run import CACHED_RUNS, RunData
from mrumonitor.dashboard.site_level import CONCESSION_ZOOM, licences_seen, site_cells
from mrumonitor.vectortiles import BUFFER, EXTENT, buffered_bounds, world_position

#: The tile layers (MVT layer names) the map draws.
TILE_LAYERS = ("sites", "concessions")
#: Screen pixels across a tile as the map draws it (Leaflet.VectorGrid's `tileSize`).
TILE_PX = 512
#: A tile of zoom z is drawn on the map at zoom z + ZOOM_OFFSET (log2 of `TILE_PX` / 256).
ZOOM_OFFSET = 1
#: Most sites a tile draws one by one; a tile holding more (in its own bounds) draws cells of counted sites.
#: 2,000 points on a 512-pixel tile is one per 130 screen pixels: beyond it a cloud of dots says less than counts.
CELL_CAP = 2000
#: Cells across a tile: about 51 screen pixels each, near the GeoJSON path's `geojson.CELL_PX`.
TILE_CELLS = 10

#: The attributes of a site the map's filters read (assets/map.js `mru.tiles.shown`), in the order of a cell's
#: groups: the site's country, commodity, registration class and whether it lies in the border zone. A licence
#: carries its `country`.
FILTER_ATTRIBUTES = ("country", "commodity", "registration", "border")

#: Masks of the filters and access kept (0.5 MB per 500,000 sites), and the properties of the runs loaded
#: (`run.CACHED_RUNS`).
CACHED_MASKS = 64

_MASKS = Memo(CACHED_MASKS)
_PROPERTIES = Memo(CACHED_RUNS)

Layer = tuple[np.ndarray, pd.DataFrame | pa.Table]


def tile_layer(data: RunData, layer: str, period: str, access: Access, z: int, x: int, y: int) -> Layer:
    """The features of tile `z`/`x`/`y` of map layer `layer` ("sites" or "concessions", see `TILE_LAYERS`) in
    `period`: their WGS84 geometries and properties."""
    return (site_tile if layer == "sites" else concession_tile)(data, period, access, z, x, y)


def site_tile(data: RunData, period: str, access: Access, z: int, x: int, y: int) -> Layer:
    """The sites of `period` in tile `z`/`x`/`y` that `access` may see, with its buffer.

    Cells (`site_level.site_cells`, with their `groups`: see `_cells`) when the tile holds more than `CELL_CAP` of
    them in its own bounds; else each site as a point below map zoom `geojson.POLYGON_ZOOM`, as its footprint from
    it, with properties `kind` "site", `site_id`, `registration`, `colour`, `area_ha` and `tooltip` (those of the
    GeoJSON path, and the area), and `country`, `commodity` and `border` for the map's filters."""
    rows_of, zoom = data.site_views.by_period[period], z + ZOOM_OFFSET  # the map's zoom it is drawn at
    west, south, east, north = buffered_bounds(z, x, y, BUFFER / EXTENT)
    candidates = rows_of.rows_in(west, south, east, north)
    rows = candidates[rows_seen(data, Filters(period), access)[candidates]]
    lon, lat = rows_of.lon[rows], rows_of.lat[rows]
    tx, ty = world_position(lon, lat, z)
    own = (np.floor(tx) == x) & (np.floor(ty) == y)
    if own.sum() > CELL_CAP:
        cells = (np.floor((ty[own] - y) * TILE_CELLS) * TILE_CELLS + np.floor((tx[own] - x) * TILE_CELLS))
        return _cells(data, rows_of, rows[own], cells.astype(np.int64))
    if zoom < geojson.POLYGON_ZOOM:
        rows = rows[(lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)]
        geoms = shapely.points(rows_of.lon[rows], rows_of.lat[rows])
    else:
        geoms = data.site_views.geoms[geojson.tolerance(zoom)][rows_of.positions[rows]]
    return geoms, _properties(data).sites.take(rows_of.positions[rows])


def concession_tile(data: RunData, period: str, access: Access, z: int, x: int, y: int) -> Layer:
    """The licences of tile `z`/`x`/`y` (none below map zoom `site_level.CONCESSION_ZOOM`) of the countries `access`
    may see, simplified for its map zoom, with properties `licence_id`, `status`, `colour` and `tooltip` (those of
    the GeoJSON path, and the status), and `country` for the map's country filter. Licences have no period: every
    period's tile holds the same."""
    licences, zoom = data.licence_views, z + ZOOM_OFFSET  # the map's zoom it is drawn at
    if zoom < CONCESSION_ZOOM:
        return np.array([], dtype=object), _properties(data).licences.slice(0, 0)
    tol = geojson.tolerance(zoom)
    west, south, east, north = buffered_bounds(z, x, y, BUFFER / EXTENT)
    boxes = licences.boxes[tol]
    mask = licences_seen(data, Filters(period), access)
    mask &= (boxes[:, 2] >= west) & (boxes[:, 0] <= east) & (boxes[:, 3] >= south) & (boxes[:, 1] <= north)
    return licences.geoms[tol][mask], _properties(data).licences.filter(mask)


def _cells(data: RunData, period: PeriodRows, rows: np.ndarray, cells: np.ndarray) -> Layer:
    """`site_level.site_cells` of `rows` (their `count`, `colour` and `tooltip` those of all of them), each cell
    with `groups`: its sites counted per value of `FILTER_ATTRIBUTES`, as JSON text, a list of [country,
    commodity, registration, border, sites, hectares] (null for a value missing), for the map to count, colour
    and describe the cell by the sites its filters pass."""
    points, props = site_cells(data, period, rows, cells)
    columns = (period.country, period.commodity, period.registration)
    key = np.unique(cells, return_inverse=True)[1].astype(np.int64)  # the cell, then each attribute's code
    for codes in columns:
        key = key * (len(codes.values) + 1) + codes.codes[rows].astype(np.int64) + 1
    key = key * 2 + period.border[rows]
    groups, group = np.unique(key, return_inverse=True)
    sites = np.bincount(group)
    hectares = np.bincount(group, weights=data.site_periods["area_ha"].to_numpy(dtype=float)[period.positions[rows]])
    border, rest = groups % 2, groups // 2
    decoded = []
    for codes in reversed(columns):
        size = len(codes.values) + 1
        decoded.append([None if code < 0 else codes.values[code] for code in (rest % size - 1).tolist()])
        rest = rest // size
    country, commodity, registration = reversed(decoded)
    per_cell: list[list] = [[] for _ in range(len(props))]
    for cell, *group_values in zip(rest.tolist(), country, commodity, registration, border.astype(bool).tolist(),
                                   sites.tolist(), np.round(hectares, 1).tolist()):
        per_cell[cell].append(group_values)
    return points, props.assign(groups=[json.dumps(groups_, separators=(",", ":")) for groups_ in per_cell])


@dataclass(frozen=True)
class _Properties:
    """The tiles' properties of a run's site rows (`SiteViews.features`, the area and the filter attributes) and
    of its licences (`LicenceViews.features`, the status and the country), as Arrow tables: a tile takes its rows
    in microseconds."""

    sites: pa.Table
    licences: pa.Table


def _properties(data: RunData) -> _Properties:
    """The `_Properties` of run `data`, made once per run."""
    def build() -> _Properties:
        rows = data.site_periods
        sites = data.site_views.features.assign(
            area_ha=rows["area_ha"].to_numpy(dtype=float).round(1), country=rows["country"].to_numpy(),
            commodity=rows["commodity"].to_numpy(), border=rows["in_border_zone"].to_numpy(dtype=bool, na_value=False))
        licences = data.licence_views.features.assign(status=data.concessions["status"].astype(str).to_numpy(),
                                                      country=data.concessions["country"].astype(str).to_numpy())
        return _Properties(sites=_table(sites),
                           licences=_table(licences[["licence_id", "status", "colour", "tooltip", "country"]]))

    return _PROPERTIES.get(str(data.run_dir), build)


def _table(frame: pd.DataFrame) -> pa.Table:
    """`frame` as an Arrow table, each column in one piece."""
    return pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()


def rows_seen(data: RunData, filters: Filters, access: Access) -> np.ndarray:
    """`PeriodRows.mask` of `filters` and `access`, computed once per run, filters and access scope."""
    return _MASKS.get((str(data.run_dir), filters, access.role, access.country),
                      lambda: data.site_views.by_period[filters.period].mask(filters, access))
