"""The map's vector-tile layers of a loaded run: what one tile of sites or licences holds, before encoding.

The same selection as the GeoJSON path (`site_level.site_layer`, `site_level.concession_layer`): the same masks of
the filters and of the user's access, the same colours and tooltips, points below `geojson.POLYGON_ZOOM` and
footprints from it (simplified per zoom band), licences from `site_level.CONCESSION_ZOOM`. Where a tile holds more
than `CELL_CAP` sites it holds cells of counted sites instead (`site_level.site_cells`), `TILE_CELLS` across, counting
only the sites the user may see.

Tiles are `TILE_PX` (512) screen pixels across, MapLibre's convention for vector tiles: tile z/x/y covers what the
map shows at zoom z + `ZOOM_OFFSET` in four 256-pixel tiles, and is drawn for that zoom (the zooms above are the
map's). A 1200 x 800 pixel view loads 6 to 12 of them instead of 20 to 30: at 50 users, answering that many
requests with no work at all took half a core (`bench/bench_dashboard_scale.py`'s floor phase).

Speed (a run of 500,000 sites; a tile must answer in a few milliseconds): a tile never scans the sites. It asks
the period's rows for those whose footprint's box meets its buffered bounds (`PeriodRows.rows_in`: boxes sorted
when the run is loaded, no index to build per worker), then keeps those the filters and the access pass (one
mask per period, filters and access scope, computed once: `rows_seen`), and takes their properties from a table
made once per run (`_properties`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from mrumonitor.dashboard import geojson
from mrumonitor.dashboard.access import Access
from mrumonitor.dashboard.filters import Filters
from mrumonitor.dashboard.memo import Memo
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

#: Masks of the filters and access kept (0.5 MB per 500,000 sites), and the properties of the runs loaded
#: (`run.CACHED_RUNS`).
CACHED_MASKS = 64

_MASKS = Memo(CACHED_MASKS)
_PROPERTIES = Memo(CACHED_RUNS)

Layer = tuple[np.ndarray, pd.DataFrame | pa.Table]


def tile_layer(data: RunData, layer: str, filters: Filters, access: Access, z: int, x: int, y: int) -> Layer:
    """The features of tile `z`/`x`/`y` of map layer `layer` ("sites" or "concessions", see `TILE_LAYERS`):
    their WGS84 geometries and properties."""
    return (site_tile if layer == "sites" else concession_tile)(data, filters, access, z, x, y)


def site_tile(data: RunData, filters: Filters, access: Access, z: int, x: int, y: int) -> Layer:
    """The sites of tile `z`/`x`/`y` that pass `filters` and that `access` may see, with its buffer.

    Cells (`site_level.site_cells`) when the tile holds more than `CELL_CAP` of them in its own bounds; else each
    site as a point below map zoom `geojson.POLYGON_ZOOM`, as its footprint from it, with properties `kind` "site",
    `site_id`, `registration`, `colour`, `area_ha` and `tooltip` (those of the GeoJSON path, and the area)."""
    period, zoom = data.site_views.by_period[filters.period], z + ZOOM_OFFSET  # the map's zoom it is drawn at
    west, south, east, north = buffered_bounds(z, x, y, BUFFER / EXTENT)
    candidates = period.rows_in(west, south, east, north)
    rows = candidates[rows_seen(data, filters, access)[candidates]]
    lon, lat = period.lon[rows], period.lat[rows]
    tx, ty = world_position(lon, lat, z)
    own = (np.floor(tx) == x) & (np.floor(ty) == y)
    if own.sum() > CELL_CAP:
        cells = (np.floor((ty[own] - y) * TILE_CELLS) * TILE_CELLS + np.floor((tx[own] - x) * TILE_CELLS))
        return site_cells(data, period, rows[own], cells.astype(np.int64))
    if zoom < geojson.POLYGON_ZOOM:
        rows = rows[(lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)]
        geoms = shapely.points(period.lon[rows], period.lat[rows])
    else:
        geoms = data.site_views.geoms[geojson.tolerance(zoom)][period.positions[rows]]
    return geoms, _properties(data).sites.take(period.positions[rows])


def concession_tile(data: RunData, filters: Filters, access: Access, z: int, x: int, y: int) -> Layer:
    """The licences of tile `z`/`x`/`y` (none below map zoom `site_level.CONCESSION_ZOOM`) of the countries `access`
    may see (and the filters' countries), simplified for its map zoom, with properties `licence_id`, `status`, `colour` and
    `tooltip` (those of the GeoJSON path, and the status)."""
    licences, zoom = data.licence_views, z + ZOOM_OFFSET  # the map's zoom it is drawn at
    if zoom < CONCESSION_ZOOM:
        return np.array([], dtype=object), _properties(data).licences.slice(0, 0)
    tol = geojson.tolerance(zoom)
    west, south, east, north = buffered_bounds(z, x, y, BUFFER / EXTENT)
    boxes = licences.boxes[tol]
    mask = licences_seen(data, filters, access)
    mask &= (boxes[:, 2] >= west) & (boxes[:, 0] <= east) & (boxes[:, 3] >= south) & (boxes[:, 1] <= north)
    return licences.geoms[tol][mask], _properties(data).licences.filter(mask)


@dataclass(frozen=True)
class _Properties:
    """The tiles' properties of a run's site rows (`SiteViews.features` and the area) and of its licences
    (`LicenceViews.features` and the status), as Arrow tables: a tile takes its rows in microseconds."""

    sites: pa.Table
    licences: pa.Table


def _properties(data: RunData) -> _Properties:
    """The `_Properties` of run `data`, made once per run."""
    def build() -> _Properties:
        area = data.site_periods["area_ha"].to_numpy(dtype=float).round(1)
        licences = data.licence_views.features.assign(status=data.concessions["status"].astype(str).to_numpy())
        return _Properties(sites=_table(data.site_views.features.assign(area_ha=area)),
                           licences=_table(licences[["licence_id", "status", "colour", "tooltip"]]))

    return _PROPERTIES.get(str(data.run_dir), build)


def _table(frame: pd.DataFrame) -> pa.Table:
    """`frame` as an Arrow table, each column in one piece."""
    return pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()


def rows_seen(data: RunData, filters: Filters, access: Access) -> np.ndarray:
    """`PeriodRows.mask` of `filters` and `access`, computed once per run, filters and access scope."""
    return _MASKS.get((str(data.run_dir), filters, access.role, access.country),
                      lambda: data.site_views.by_period[filters.period].mask(filters, access))
