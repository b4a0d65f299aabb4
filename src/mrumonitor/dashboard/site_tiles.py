"""The map's vector-tile layers of a loaded run: what one tile of sites or licences holds, before encoding.

A tile holds every site of its period that the user's access scope may see, and every licence it may see; the
filter bar's other filters (countries, commodity, classes, the border zone) are applied by the map in the browser
(assets/map.js `mru.tiles`), from the attributes each feature carries for them (`FILTER_ATTRIBUTES`). So a tile is
the same for every user of an access scope whatever their filters: it is computed once per run, period, language
and scope, and a filter change draws the tiles the browser holds again instead of fetching new ones.

The features are those of the GeoJSON path (`site_level.site_layer`, `site_level.concession_layer`): the same
colours and tooltips, points below `geojson.POLYGON_ZOOM` and footprints from it (simplified per zoom band),
licences from `site_level.CONCESSION_ZOOM`. Where a tile holds more than `tile_cells.CELL_CAP` sites it holds cells
of counted sites instead (`tile_cells.CellLevel`, `tile_cells.TILE_CELLS` across, the colours and tooltips of
`site_level.cell_features`), counting only the sites the user may see, each with its sites counted per value of
the filter attributes (`groups`), so that the map counts, colours and sizes a cell by the sites the filters pass.
Whether a tile holds cells depends on all the sites of the period the user may see in it, not on the filters: a
filter that leaves few sites there still shows cells, with their counts.

Tiles are `TILE_PX` (512) screen pixels across, MapLibre's convention for vector tiles: tile z/x/y covers what the
map shows at zoom z + `ZOOM_OFFSET` in four 256-pixel tiles, and is drawn for that zoom (the zooms above are the
map's). A 1200 x 800 pixel view loads 6 to 12 of them instead of 20 to 30: at 50 users, answering that many
requests with no work at all took half a core (`bench/bench_dashboard_scale.py`'s floor phase).

Speed (a run of 500,000 sites; a tile must answer in a few milliseconds): a tile never scans the sites. It asks
the period's rows for those whose footprint's box meets its buffered bounds (`PeriodRows.rows_in`: boxes sorted
when the run is loaded, no index to build per worker), then keeps those the access scope may see (one
mask per period, filters and access scope, computed once: `rows_seen`), and takes their properties from a table
made once per run (`_properties`). A tile of cells is a slice of its zoom's cells, summed once (`cell_level`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from mrumonitor.dashboard import geojson, tile_cells
from mrumonitor.dashboard.access import Access
from mrumonitor.dashboard.filters import Filters
from mrumonitor.dashboard.memo import Memo
from mrumonitor.dashboard.prepared import PeriodRows
from mrumonitor.dashboard.run import CACHED_RUNS, RunData
from mrumonitor.dashboard.site_level import CONCESSION_ZOOM, cell_features, licences_seen
from mrumonitor.dashboard.tile_cells import CellLevel, FilterGroups
from mrumonitor.schema import UNREGISTERED_CLASSES
from mrumonitor.vectortiles import BUFFER, EXTENT, buffered_bounds

#: The tile layers (MVT layer names) the map draws.
TILE_LAYERS = ("sites", "concessions")
#: Screen pixels across a tile as the map draws it (Leaflet.VectorGrid's `tileSize`).
TILE_PX = 512
#: A tile of zoom z is drawn on the map at zoom z + ZOOM_OFFSET (log2 of `TILE_PX` / 256).
ZOOM_OFFSET = 1
#: The zooms the dashboard's maps show, first and last (`maplayers.map_panel`).
MAP_ZOOMS = (5, 17)

#: The attributes of a site the map's filters read (assets/map.js `mru.tiles.shown`), in the order of a cell's
#: groups: the site's country, commodity, registration class and whether it lies in the border zone. A licence
#: carries its `country`.
FILTER_ATTRIBUTES = ("country", "commodity", "registration", "border")

#: Masks of the filters and access kept (0.5 MB per 500,000 sites), and the properties of the runs loaded
#: (`run.CACHED_RUNS`).
CACHED_MASKS = 64
#: Cell levels kept (`cell_level`): the 13 zooms of the maps for 20 periods and access scopes; a level holds at
#: most a row per site, a few MB at 500,000 sites, most far fewer.
CACHED_LEVELS = 260

_MASKS = Memo(CACHED_MASKS)
_LEVELS = Memo(CACHED_LEVELS)
_PROPERTIES = Memo(CACHED_RUNS)

Layer = tuple[np.ndarray, pd.DataFrame | pa.Table]


def tile_layer(data: RunData, layer: str, period: str, access: Access, z: int, x: int, y: int) -> Layer:
    """The features of tile `z`/`x`/`y` of map layer `layer` ("sites" or "concessions", see `TILE_LAYERS`) in
    `period`: their WGS84 geometries and properties."""
    return (site_tile if layer == "sites" else concession_tile)(data, period, access, z, x, y)


def site_tile(data: RunData, period: str, access: Access, z: int, x: int, y: int) -> Layer:
    """The sites of `period` in tile `z`/`x`/`y` that `access` may see, with its buffer.

    Cells (`_cells`) when the tile holds more than `tile_cells.CELL_CAP` of them in its own bounds; else each site
    as a point below map zoom `geojson.POLYGON_ZOOM`, as its footprint from it, with properties `kind` "site",
    `site_id`, `registration`, `colour`, `area_ha` and `tooltip` (those of the GeoJSON path, and the area), and
    `country`, `commodity` and `border` for the map's filters (`FILTER_ATTRIBUTES`)."""
    rows_of, zoom = data.site_views.by_period[period], z + ZOOM_OFFSET  # the map's zoom it is drawn at
    level = cell_level(data, period, access, z)
    if level.holds_cells(x, y):
        return _cells(data, rows_of, level, x, y)
    west, south, east, north = buffered_bounds(z, x, y, BUFFER / EXTENT)
    candidates = rows_of.rows_in(west, south, east, north)
    rows = candidates[rows_seen(data, Filters(period), access)[candidates]]
    if zoom < geojson.POLYGON_ZOOM:
        lon, lat = rows_of.lon[rows], rows_of.lat[rows]
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


def _cells(data: RunData, period: PeriodRows, level: CellLevel, x: int, y: int) -> Layer:
    """The cells of tile `x`, `y` of `level` (`site_level.cell_features`: their `count`, `colour` and `tooltip`
    those of all their sites), each with `groups`: its sites counted per value of `FILTER_ATTRIBUTES`, as JSON
    text, a list of [country, commodity, registration, border, sites, hectares] (null for a value missing), for
    the map to count, colour and describe the cell by the sites its filters pass."""
    rows = level.rows_of(x, y)
    ids, cell = np.unique(level.cells[rows], return_inverse=True)
    sites, hectares = level.sites[rows], level.hectares[rows]
    country, commodity, registration, border = FilterGroups(period).values(level.groups[rows])
    classes = np.array(registration, dtype=object)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=values, minlength=len(ids))

    points, props = cell_features(total(sites), total(sites * np.isin(classes, UNREGISTERED_CLASSES)),
                                  total(sites * (classes == "not_assessed")), total(hectares),
                                  total(level.lon[rows]), total(level.lat[rows]))
    groups: list[list] = [[] for _ in range(len(ids))]
    for at, *values in zip(cell.tolist(), country, commodity, registration, border.tolist(), sites.tolist(),
                           np.round(hectares, 1).tolist()):
        groups[at].append(values)
    return points, props.assign(groups=[json.dumps(values, separators=(",", ":")) for values in groups])


def cell_level(data: RunData, period: str, access: Access, z: int) -> CellLevel:
    """The `tile_cells.CellLevel` of tile zoom `z` of the sites of `period` that `access` may see, made once per
    run, period, access scope and zoom (and cap: a test may lower it)."""
    def build() -> CellLevel:
        rows_of = data.site_views.by_period[period]
        rows = np.flatnonzero(rows_seen(data, Filters(period), access))
        return CellLevel.of(rows_of.lon[rows], rows_of.lat[rows], FilterGroups(rows_of).of(rows),
                            data.site_periods["area_ha"].to_numpy(dtype=float)[rows_of.positions[rows]], z,
                            tile_cells.CELL_CAP)

    return _LEVELS.get((str(data.run_dir), period, access.role, access.country, z, tile_cells.CELL_CAP), build)


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


def prepare_cells(data: RunData, access: Access) -> None:
    """Sum the cells of every zoom the maps show, in every period of run `data`, for `access` (`cell_level`): a
    server does it before it listens, and before its workers fork, which then share them; no request waits for
    them (at 500,000 sites, 1.2 s for 13 zooms of 4 periods; made on a tile's request under load, each held up the
    worker's other requests)."""
    for period in data.periods:
        for z in range(MAP_ZOOMS[0] - ZOOM_OFFSET, MAP_ZOOMS[1] - ZOOM_OFFSET + 1):
            cell_level(data, period, access, z)


def _table(frame: pd.DataFrame) -> pa.Table:
    """`frame` as an Arrow table, each column in one piece."""
    return pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()


def rows_seen(data: RunData, filters: Filters, access: Access) -> np.ndarray:
    """`PeriodRows.mask` of `filters` and `access`, computed once per run, filters and access scope."""
    return _MASKS.get((str(data.run_dir), filters, access.role, access.country),
                      lambda: data.site_views.by_period[filters.period].mask(filters, access))
