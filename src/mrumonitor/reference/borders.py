"""International border lines: the edge each pair of neighbouring consistent outlines shares.

The outlines of `boundaries.geojson` form an edge-matched coverage (see `boundaries`), so the border between
two neighbours is exactly the intersection of their boundaries: one (Multi)LineString per pair, spelled
"GIN-SLE" (codes sorted alphabetically), with its length measured in the analysis CRS.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from mrumonitor.crs import norm_crs, require_projected
from mrumonitor.reference.files import BORDERS, read_layer

#: Columns of the `borders` layer (geometry last).
BORDER_COLUMNS = ("pair", "country_a", "country_b", "length_km")

_LINESTRING = shapely.GeometryType.LINESTRING


def pair_key(a: str, b: str) -> str:
    """Spell the pair of countries `a` and `b` as "A-B" with the codes in alphabetical order."""
    return "-".join(sorted((a, b)))


def pair_keys(a: Iterable[str], b: Iterable[str]) -> list[str]:
    """`pair_key` for each element of two equal-length sequences of country codes."""
    return [pair_key(x, y) for x, y in zip(a, b, strict=True)]


def derive_borders(boundaries: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """Return the shared border line of every pair of neighbouring outlines.

    Parameters
    ----------
    boundaries : GeoDataFrame
        Columns iso3 and geometry, an edge-matched coverage (no overlaps, identical shared vertices).
    crs : CRS-like
        Projected CRS in metres in which `length_km` is measured.

    Returns
    -------
    GeoDataFrame
        pair, country_a, country_b, length_km, geometry, in the CRS of `boundaries`, sorted by pair. Pairs
        that meet at a single point only are not neighbours and are left out.
    """
    crs = require_projected(norm_crs(crs, "analysis CRS"), "analysis CRS")
    geoms = np.asarray(boundaries.geometry)
    iso = boundaries["iso3"].to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    left, right = left[left < right], right[left < right]
    shared = shapely.intersection(shapely.boundary(geoms[left]), shapely.boundary(geoms[right]))
    lines, which = _line_parts(shared)
    a, b = np.sort(np.column_stack([iso[left[which]], iso[right[which]]]), axis=1).T
    borders = gpd.GeoDataFrame(
        {"pair": pair_keys(a, b), "country_a": a, "country_b": b},
        geometry=gpd.GeoSeries(lines, crs=boundaries.crs),
    )
    borders["length_km"] = (borders.geometry.to_crs(crs).length / 1000).round(3)
    return borders[[*BORDER_COLUMNS, "geometry"]].sort_values("pair", ignore_index=True)


def _line_parts(shared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge the linear parts of each intersection; return the lines and the index of those with any."""
    parts, index = shapely.get_parts(shared, return_index=True)
    linear = shapely.get_type_id(parts) == _LINESTRING
    which, group = np.unique(index[linear], return_inverse=True)
    lines = shapely.line_merge(shapely.multilinestrings(parts[linear], indices=group))
    return np.asarray(lines, dtype=object).reshape(-1), which


def load_borders(reference_dir: str | Path, crs: Any) -> gpd.GeoDataFrame:
    """Read `borders.geojson`: pair, country_a, country_b, length_km, geometry, in `crs`.

    Raises
    ------
    ReferenceDataError
        When the file is missing; the message says to run `mrumonitor reference build`.
    """
    borders = read_layer(reference_dir, BORDERS, crs, BORDER_COLUMNS)
    return borders.astype({"length_km": "float64"})
