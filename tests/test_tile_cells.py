"""The cells of counted sites of the map's tiles (`tile_cells.CellLevel`), on sites the tests place: a tile holding
one site more than the cap draws cells and one holding the cap does not; a tile's cells are its sites summed per
cell (a tile of three zooms more) and group, their positions and hectares summed; a view meets the cells' tiles
or not; the filter groups of a period's rows code and decode their attributes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrumonitor.dashboard.prepared import Codes, PeriodRows
from mrumonitor.dashboard.tile_cells import CELL_CAP, TILE_CELLS, CellLevel, FilterGroups
from mrumonitor.vectortiles import tile_bounds, world_position

pytestmark = pytest.mark.unit

#: A tile over Sierra Leone.
Z, X, Y = 9, 239, 245


def sites_in(z: int, x: int, y: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`n` random positions inside tile `z`/`x`/`y`, clear of its edges."""
    west, south, east, north = tile_bounds(z, x, y).wgs84
    pad_x, pad_y = (east - west) / 1000, (north - south) / 1000
    return rng.uniform(west + pad_x, east - pad_x, n), rng.uniform(south + pad_y, north - pad_y, n)


def test_a_tile_draws_cells_from_one_site_more_than_the_cap():
    rng = np.random.default_rng(1)
    lon, lat = sites_in(Z, X, Y, CELL_CAP + 1, rng)
    beside = sites_in(Z, X + 1, Y, CELL_CAP, rng)  # as many less one, in the tile to its east
    lon, lat = np.concatenate([lon, beside[0]]), np.concatenate([lat, beside[1]])
    level = CellLevel.of(lon, lat, np.zeros(len(lon), dtype=np.int64), np.ones(len(lon)), Z)
    assert level.holds_cells(X, Y) and not level.holds_cells(X + 1, Y) and not level.holds_cells(X, Y + 1)
    assert level.sites[level.rows_of(X, Y)].sum() == CELL_CAP + 1
    assert level.rows_of(X + 1, Y) == slice(len(level.cells), len(level.cells))  # no cell of a tile without
    empty = CellLevel.of(lon[:CELL_CAP], lat[:CELL_CAP], np.zeros(CELL_CAP, dtype=np.int64), np.ones(CELL_CAP), Z)
    assert not empty.holds_cells(X, Y) and len(empty.cells) == 0


def test_a_tiles_cells_sum_its_sites_per_cell_and_group():
    rng = np.random.default_rng(2)
    lon, lat = sites_in(Z, X, Y, 3 * CELL_CAP, rng)
    groups, hectares = rng.integers(0, 5, len(lon)), rng.uniform(0.5, 40, len(lon))
    level = CellLevel.of(lon, lat, groups, hectares, Z)
    rows = level.rows_of(X, Y)
    # each site's cell: the tile of three zooms more it lies in, numbered row by row from the north-west
    cx, cy = (np.floor(v).astype(int) for v in world_position(lon, lat, Z + 3))
    place = (cy - Y * TILE_CELLS) * TILE_CELLS + (cx - X * TILE_CELLS)
    expected = pd.DataFrame({"cell": place, "group": groups, "ha": hectares, "lon": lon, "lat": lat}).groupby(
        ["cell", "group"]).agg(sites=("ha", "size"), ha=("ha", "sum"), lon=("lon", "sum"), lat=("lat", "sum"))
    got = pd.DataFrame({"cell": level.cells[rows] % TILE_CELLS ** 2, "group": level.groups[rows],
                        "sites": level.sites[rows], "ha": level.hectares[rows], "lon": level.lon[rows],
                        "lat": level.lat[rows]}).set_index(["cell", "group"])
    assert np.all(np.diff(level.cells) >= 0)  # sorted: a tile's cells are one slice
    assert got.index.equals(expected.index)
    assert got["sites"].tolist() == expected["sites"].tolist()
    np.testing.assert_allclose(got[["ha", "lon", "lat"]].to_numpy(), expected[["ha", "lon", "lat"]].to_numpy())
    assert len(set(place)) == TILE_CELLS ** 2  # 6,000 sites fill all 64 cells


def test_a_view_meets_the_tiles_of_cells_or_not():
    rng = np.random.default_rng(3)
    lon, lat = sites_in(Z, X, Y, CELL_CAP + 1, rng)
    level = CellLevel.of(lon, lat, np.zeros(len(lon), dtype=np.int64), np.ones(len(lon)), Z)
    west, south, east, north = tile_bounds(Z, X, Y).wgs84
    width = east - west
    assert level.meets(west - 2 * width, south, west + width / 10, north)  # a view over its west edge
    assert not level.meets(east + width / 10, south, east + 2 * width, north)  # a view east of it
    assert not CellLevel.of(lon[:10], lat[:10], np.zeros(10, dtype=np.int64), np.ones(10), Z).meets(
        -180, -85, 180, 85)


def test_filter_groups_code_and_decode_a_rows_attributes():
    values = pd.DataFrame({"country": ["SLE", "GIN", None, "SLE"], "commodity": ["diamond", "gold", "gold", None],
                           "registration": ["no_licence", "registered", "no_licence", "not_assessed"],
                           "border": [True, False, False, True]})
    codes = {name: Codes.of(values[name]) for name in ("country", "commodity", "registration")}
    period = PeriodRows(positions=np.arange(4), visible=codes["country"], border=values["border"].to_numpy(),
                        lon=np.zeros(4), lat=np.zeros(4), table_order=np.arange(4), by_west=np.arange(4),
                        edges=np.zeros((4, 4)), widest=0.0, **codes)
    coded = FilterGroups(period)
    groups = coded.of(np.arange(4))
    assert len(set(groups.tolist())) == 4 and groups.max() < len(coded)
    country, commodity, registration, border = coded.values(groups)
    assert country == ["SLE", "GIN", None, "SLE"] and commodity == ["diamond", "gold", "gold", None]
    assert registration == values["registration"].tolist() and border.tolist() == values["border"].tolist()
