"""The cells of counted sites the map's tiles draw, summed once per zoom, so that a tile of cells is a slice of a
sorted table instead of a count over its tens of thousands of sites.

A tile of zoom z that holds more than `CELL_CAP` sites in its own bounds draws cells instead, `TILE_CELLS` (8)
across: a cell is a tile of zoom z + 3. `CellLevel.of` sums, for one zoom, the sites of every such tile per cell and
per group of the filter attributes (the site's country, commodity, class and border-zone flag, coded by
`FilterGroups`): how many, their hectares, the sums of their longitudes and latitudes. A tile's cells are then the
rows of its key (`CellLevel.rows_of`), and whether a tile or a view holds cells one search in the sorted keys of the
dense tiles (`CellLevel.holds_cells`, `CellLevel.meets`).

Measured on 500,000 sites (bench/bench_dashboard_scale.py's store, in process): counting a tile's cells from its
sites took 11 ms, a tile of cells now takes 2.4 ms; the levels of the maps' 13 zooms in 4 periods are made in 1.2 s,
once per run, period, access scope and zoom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mrumonitor.dashboard.prepared import PeriodRows
from mrumonitor.vectortiles import world_position

#: Most sites a tile draws one by one; a tile holding more (in its own bounds) draws cells of counted sites.
#: 2,000 points on a 512-pixel tile is one per 130 screen pixels: beyond it a cloud of dots says less than counts.
CELL_CAP = 2000
#: Cells across a tile: 64 screen pixels each on a 512-pixel tile; a cell of tile zoom z is a tile of zoom z + 3.
TILE_CELLS = 8
_CELL_ZOOMS = 3
_CELLS_PER_TILE = TILE_CELLS * TILE_CELLS


@dataclass(frozen=True)
class FilterGroups:
    """The filter attributes of a period's site rows as one integer per row (its group): the codes of its country,
    commodity and class (`prepared.Codes`, -1 missing) and its border-zone flag."""

    period: PeriodRows

    @property
    def _sizes(self) -> tuple[int, int, int]:
        return tuple(len(codes.values) + 1 for codes in (self.period.country, self.period.commodity,
                                                          self.period.registration))

    def __len__(self) -> int:
        countries, commodities, classes = self._sizes
        return countries * commodities * classes * 2

    def of(self, rows: np.ndarray) -> np.ndarray:
        """The group of each of `rows`."""
        period, (_, commodities, classes) = self.period, self._sizes
        code = period.country.codes[rows].astype(np.int64) + 1
        code = code * commodities + period.commodity.codes[rows] + 1
        code = code * classes + period.registration.codes[rows] + 1
        return code * 2 + period.border[rows]

    def values(self, groups: np.ndarray) -> tuple[list, list, list, np.ndarray]:
        """The country, commodity and class (None where missing) and the border-zone flag of each of `groups`."""
        period, (_, commodities, classes) = self.period, self._sizes
        border, rest = groups % 2 == 1, groups // 2

        def named(codes: np.ndarray, values: tuple) -> list:
            return [None if code < 0 else values[code] for code in codes.tolist()]

        registration = named(rest % classes - 1, period.registration.values)
        rest = rest // classes
        commodity = named(rest % commodities - 1, period.commodity.values)
        return named(rest // commodities - 1, period.country.values), commodity, registration, border


@dataclass(frozen=True)
class CellLevel:
    """The cells of the tiles of zoom `zoom` that hold more than the cap of sites: `dense` the keys of those tiles
    (x * 2**zoom + y, ascending); per row (ascending by `cells`, then group) a cell (the tile's key *
    `TILE_CELLS`**2 + the cell's place in it, row by row from the north-west), a group of filter attributes, and
    the sums of its sites: how many, their hectares, their longitudes and latitudes."""

    zoom: int
    dense: np.ndarray
    cells: np.ndarray
    groups: np.ndarray
    sites: np.ndarray
    hectares: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    @classmethod
    def of(cls, lon: np.ndarray, lat: np.ndarray, groups: np.ndarray, hectares: np.ndarray, zoom: int,
           cap: int = CELL_CAP) -> CellLevel:
        """The level `zoom` of sites at `lon`, `lat` (WGS84) with their `groups` and `hectares`."""
        tx, ty = world_position(lon, lat, zoom)
        x, y = np.floor(tx).astype(np.int64), np.floor(ty).astype(np.int64)
        tiles = x * 2 ** zoom + y
        keys, counts = np.unique(tiles, return_counts=True)
        dense = keys[counts > cap]
        inside = np.isin(tiles, dense)
        tx, ty, x, y = tx[inside], ty[inside], x[inside], y[inside]
        place = (np.floor((ty - y) * TILE_CELLS) * TILE_CELLS + np.floor((tx - x) * TILE_CELLS)).astype(np.int64)
        size = int(groups.max(initial=0)) + 1
        keys, row = np.unique((tiles[inside] * _CELLS_PER_TILE + place) * size + groups[inside],
                              return_inverse=True)

        def total(values: np.ndarray) -> np.ndarray:
            return np.bincount(row, weights=values[inside], minlength=len(keys))

        return cls(zoom=zoom, dense=dense, cells=keys // size, groups=keys % size,
                   sites=np.bincount(row, minlength=len(keys)), hectares=total(hectares), lon=total(lon),
                   lat=total(lat))

    def holds_cells(self, x: int, y: int) -> bool:
        """Whether tile `x`, `y` of the level's zoom draws cells."""
        key = x * 2 ** self.zoom + y
        found = int(np.searchsorted(self.dense, key))
        return found < len(self.dense) and int(self.dense[found]) == key

    def rows_of(self, x: int, y: int) -> slice:
        """The rows of the cells of tile `x`, `y`."""
        first = (x * 2 ** self.zoom + y) * _CELLS_PER_TILE
        start, stop = np.searchsorted(self.cells, [first, first + _CELLS_PER_TILE])
        return slice(int(start), int(stop))

    def meets(self, west: float, south: float, east: float, north: float) -> bool:
        """Whether a tile drawing cells meets the box `west`, `south`, `east`, `north` (WGS84)."""
        if not len(self.dense):
            return False
        (x0, x1), (y1, y0) = world_position(np.array([west, east]), np.array([south, north]), self.zoom)
        x, y = self.dense // 2 ** self.zoom, self.dense % 2 ** self.zoom
        return bool(((x >= np.floor(x0)) & (x <= np.floor(x1)) & (y >= np.floor(y0)) & (y <= np.floor(y1))).any())
