"""Per-country exports, cut exactly at the country's consistent outline.

- **Vectors**: every geometry is intersected with the outline. A feature wholly inside (touching the border
  allowed) is kept as it is; one crossing the border keeps exactly the part inside, in the parts of its own
  dimension (a polygon cut along the border keeps its polygons, not the boundary line it shares); features
  outside, or only touching the border, are dropped. In a cut feature `area_ha`, where the layer has it, is
  recomputed as the area of the part inside (measured in the layer's projected, equal-area CRS), so summing
  `area_ha` over a country's export gives that country's share and never counts a transboundary site twice.
  Every other column (e.g. `max_area_ha`, distances, `transboundary`) still describes the whole feature. The
  export gains a boolean column `clipped`, true where a feature was cut at the border.
- **Tables** keep the rows whose `country` column is the country.
- **Rasters** are windowed to the country's bounding box on the layer's own grid (no resampling), and every
  pixel whose centre lies outside the outline becomes no data; pixels inside keep their value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from affine import Affine
from rasterio.features import geometry_mask

from mrumonitor.crs import require_projected
from mrumonitor.errors import ExportError, UnknownCountry
from mrumonitor.raster.blocks import on_grid
from mrumonitor.raster.cog import read_activity
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.io import IN_MEMORY_DATASET_LOCK
from mrumonitor.schema import ACTIVITY_NODATA

#: Column added to per-country vector exports: true where the feature was cut at the country's border.
CLIPPED_COLUMN = "clipped"

_MULTI = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}


@dataclass(frozen=True)
class ActivityExtract:
    """An activity layer (or the part of it covering one country) ready to be written as a COG."""

    array: xr.DataArray
    grid: Grid
    tags: dict[str, str]


def country_outline(boundaries: gpd.GeoDataFrame, country: str, crs: Any) -> shapely.Geometry:
    """The outline of `country` (ISO3) in `crs`, from the consistent country outlines.

    Raises
    ------
    ExportError
        When none of the outlines is the country's (the message lists those there are).
    """
    rows = boundaries[boundaries["iso3"] == country]
    if rows.empty:
        raise UnknownCountry(f"no country outline for {country!r}; outlines exist for: "
                          f"{', '.join(sorted(boundaries['iso3']))}.")
    return shapely.union_all(np.asarray(rows.to_crs(crs).geometry))


def clip_vector(frame: gpd.GeoDataFrame, outline: shapely.Geometry) -> gpd.GeoDataFrame:
    """The features of `frame` inside `outline`, those crossing it cut at the border (see module doc)."""
    frame = frame.iloc[np.sort(frame.sindex.query(outline, predicate="intersects"))].copy()
    geoms = np.array(frame.geometry)
    cut = ~shapely.covered_by(geoms, outline)
    geoms[cut] = _same_dimension(shapely.intersection(geoms[cut], outline), shapely.get_dimensions(geoms[cut]))
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    if "area_ha" in frame.columns and cut.any():
        require_projected(frame.crs, "the layer's CRS, to measure the area of sites cut at a border")
        frame.loc[cut, "area_ha"] = shapely.area(geoms[cut]) / 10_000.0
    frame[CLIPPED_COLUMN] = cut
    return frame[~shapely.is_empty(geoms)].reset_index(drop=True)


def _same_dimension(geoms: np.ndarray, dims: np.ndarray) -> np.ndarray:
    """Keep, of each geometry, the parts of dimension `dims` (one part alone, several as a Multi*)."""
    parts, index = _flat_parts(geoms)
    out = np.full(len(geoms), shapely.from_wkt("GEOMETRYCOLLECTION EMPTY"), dtype=object)
    for dim, build in _MULTI.items():
        keep = (shapely.get_dimensions(parts) == dim) & (dims[index] == dim)
        rows = np.unique(index[keep])
        if len(rows):
            multi = build(parts[keep], indices=np.searchsorted(rows, index[keep]))
            single = shapely.get_num_geometries(multi) == 1
            out[rows] = np.where(single, shapely.get_geometry(multi, 0), multi)
    return out


def _flat_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The single parts of `geoms` (collections of multi-parts flattened too) and the index of their geometry."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    while (shapely.get_type_id(parts) >= shapely.GeometryType.MULTIPOINT).any():
        parts, inner = shapely.get_parts(parts, return_index=True)
        index = index[inner]
    return parts, index


def filter_table(frame: pd.DataFrame, country: str, layer: str) -> pd.DataFrame:
    """The rows of a table whose `country` column is `country`."""
    if "country" not in frame.columns:
        raise ExportError(f"layer {layer!r} has no country column, so it cannot be exported per country; "
                          "export it without --country.")
    return frame[frame["country"] == country].reset_index(drop=True)


def activity_extract(path: Path, boundaries: gpd.GeoDataFrame | None = None,
                     country: str | None = None) -> ActivityExtract:
    """An activity layer, or (with `country`) its window over the country with pixels outside set to no data."""
    array, grid, tags = read_activity(path)
    if country is None:
        return ActivityExtract(array, grid, tags)
    outline = country_outline(boundaries, country, grid.crs)
    row, col, height, width = _window(grid, outline.bounds, country)
    window_grid = Grid(grid.crs, grid.left + col * grid.resolution, grid.top - row * grid.resolution,
                       grid.resolution, width, height)
    data = array.data[row:row + height, col:col + width]
    masked = data.map_blocks(_mask_outside, outline=outline, transform=window_grid.transform, dtype=data.dtype)
    return ActivityExtract(on_grid(masked, window_grid, name=array.name), window_grid, {**tags, "COUNTRY": country})


def _window(grid: Grid, bounds: tuple[float, float, float, float], country: str) -> tuple[int, int, int, int]:
    """(row, col, height, width) of the pixels of `grid` covering `bounds`, within the grid."""
    minx, miny, maxx, maxy = bounds
    res = grid.resolution
    col0, col1 = np.clip([np.floor((minx - grid.left) / res), np.ceil((maxx - grid.left) / res)], 0, grid.width)
    row0, row1 = np.clip([np.floor((grid.top - maxy) / res), np.ceil((grid.top - miny) / res)], 0, grid.height)
    if col1 <= col0 or row1 <= row0:
        raise ExportError(f"this raster layer does not cover {country}; export it without --country.")
    return int(row0), int(col0), int(row1 - row0), int(col1 - col0)


def _mask_outside(block: np.ndarray, outline: shapely.Geometry, transform: Affine,
                  block_info: dict | None = None) -> np.ndarray:
    """`block` with its pixels whose centre lies outside `outline` set to no data."""
    (row, _), (col, _) = block_info[0]["array-location"]
    with IN_MEMORY_DATASET_LOCK:
        outside = geometry_mask([outline], out_shape=block.shape, transform=transform @ Affine.translation(col, row))
    return np.where(outside, np.uint8(ACTIVITY_NODATA), block)
