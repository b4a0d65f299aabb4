"""Vectorising an activity raster into patches: chunk by chunk, then merged across chunk edges.

Each dask block of the activity raster is thresholded, labelled (`scipy.ndimage.label`, 4- or 8-connected)
and polygonised with `rasterio.features.shapes`, in pixel coordinates (whole numbers, so shared edges are
bit-identical whatever the chunking). A block keeps only its polygons, pixel counts and the labels along
its four edges, so memory follows the chunk size and the number of patches, never the raster size.

Patches cut by a chunk edge are joined exactly from those edge labels: two labels on either side of an edge
are one patch when their pixels share a side (and, with 8-connectivity, a corner), which gives a sparse
graph whose connected components (`scipy.sparse.csgraph`) are the patches. Areas are pixel counts times
the pixel area; the geometry of each component is the coverage union of its pieces, cleaned of the
vertices the chunk edges left and normalised, then moved onto the grid. The result is identical, row for
row and vertex for vertex, whatever the chunk size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dask
import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
import xarray as xr
from affine import Affine
from scipy import ndimage, sparse
from scipy.sparse import csgraph
from shapely.geometry import shape

from mrumonitor.raster.blocks import grid_blocks
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.io import IN_MEMORY_DATASET_LOCK
from mrumonitor.schema import ACTIVITY_NODATA

log = logging.getLogger(__name__)

#: Neighbourhoods of a pixel for each connectivity.
_STRUCTURES = {4: ndimage.generate_binary_structure(2, 1), 8: ndimage.generate_binary_structure(2, 2)}


@dataclass(frozen=True)
class _Block:
    """The patches of one block: polygons in global pixel coordinates and the labels along the block edges.

    Labels are local (1..n, 0 = inactive); `counts[k]` is the pixel count of label k + 1.
    """

    geoms: np.ndarray
    labels: np.ndarray
    counts: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    left: np.ndarray
    right: np.ndarray


def vectorise(
    activity: xr.DataArray,
    grid: Grid,
    threshold: int,
    min_area_ha: float,
    connectivity: int,
    chunk: int,
) -> gpd.GeoDataFrame:
    """Polygonise the active pixels of one period into patches of at least `min_area_ha`.

    Parameters
    ----------
    activity : xarray.DataArray
        Activity in percent (uint8, dims y and x, `ACTIVITY_NODATA` = no data) on `grid`; dask-backed
        arrays are read block by block, never whole.
    grid : Grid
        The grid of `activity` (analysis CRS, metres).
    threshold : int
        A pixel is active when its value is at least this and is not `ACTIVITY_NODATA`.
    min_area_ha : float
        Patches smaller than this are dropped.
    connectivity : {4, 8}
        Pixels touching by a side (4), or also by a corner (8), belong to the same patch.
    chunk : int
        Side of the square blocks the raster is processed in.

    Returns
    -------
    GeoDataFrame
        area_ha (pixel count x pixel area) and geometry (MultiPolygon, in `grid.crs`), one row per patch,
        sorted from the top-left; identical for every `chunk`.
    """
    if connectivity not in _STRUCTURES:
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    data = grid_blocks(activity, grid, chunk).rechunk((chunk, chunk))
    blocks = _label_blocks(data, threshold, connectivity, min_area_ha / grid.pixel_area_ha)
    patches = _merge_blocks(blocks, connectivity, grid.pixel_area_ha, min_area_ha)
    log.info("vectorised %d x %d pixels in %d blocks: %d patches of at least %g ha",
             grid.height, grid.width, blocks.size, len(patches), min_area_ha)
    return _on_grid(patches, grid)


def _label_blocks(data: da.Array, threshold: int, connectivity: int, min_pixels: float) -> np.ndarray:
    """Label and polygonise every block (in parallel on the dask scheduler); an object array of `_Block`."""
    rows = np.concatenate([[0], np.cumsum(data.chunks[0])[:-1]])
    cols = np.concatenate([[0], np.cumsum(data.chunks[1])[:-1]])
    delayed = data.to_delayed()
    label = dask.delayed(_label_block, pure=True)
    tasks = [label(delayed[i, j], threshold, connectivity, int(rows[i]), int(cols[j]), min_pixels)
             for i in range(len(rows)) for j in range(len(cols))]
    results = np.empty(len(tasks), dtype=object)
    results[:] = dask.compute(*tasks)
    return results.reshape(len(rows), len(cols))


def _label_block(values: np.ndarray, threshold: int, connectivity: int, row: int, col: int, min_pixels: float
                 ) -> _Block:
    """Threshold, label and polygonise one block whose top-left pixel is (`row`, `col`) of the grid.

    A patch that touches no edge of the block is whole: under `min_pixels` it is not polygonised at all,
    so that a speckled raster (millions of tiny patches) costs no more memory than its real patches.
    """
    active = (values >= threshold) & (values != ACTIVITY_NODATA)
    labels, n = ndimage.label(active, structure=_STRUCTURES[connectivity])
    counts = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    on_edge = np.zeros(n + 1, dtype=bool)
    on_edge[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    wanted = np.r_[False, (counts >= min_pixels - 1e-9) | on_edge[1:]]
    active &= wanted[labels]
    # Whole pixel coordinates, y negated (an identity transform would make GDAL warn): exact shared edges.
    # With 8-connectivity a ring may touch itself at a corner; make_valid splits it there.
    with IN_MEMORY_DATASET_LOCK:
        found = list(rasterio.features.shapes(labels, mask=active, connectivity=connectivity,
                                              transform=Affine(1, 0, col, 0, -1, -row)))
    geoms = shapely.make_valid(np.array([shape(geom) for geom, _ in found], dtype=object))
    return _Block(geoms=geoms, labels=np.array([value for _, value in found], dtype=np.int64), counts=counts,
                  top=labels[0].copy(), bottom=labels[-1].copy(), left=labels[:, 0].copy(),
                  right=labels[:, -1].copy())


def _merge_blocks(blocks: np.ndarray, connectivity: int, pixel_ha: float, min_area_ha: float
                  ) -> gpd.GeoDataFrame:
    """Join the pieces of patches cut by block edges and drop patches under `min_area_ha`."""
    sizes = np.array([block.counts.size for block in blocks.ravel()]).reshape(blocks.shape)
    base = (np.cumsum(sizes.ravel()) - sizes.ravel()).reshape(blocks.shape)
    n = int(sizes.sum())
    pairs = _edge_pairs(blocks, base, connectivity)
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, component = csgraph.connected_components(graph, directed=False)
    counts = np.concatenate([block.counts for block in blocks.ravel()] + [np.zeros(0, np.int64)])
    area = np.bincount(component, weights=counts, minlength=component.max(initial=-1) + 1) * pixel_ha
    geoms = np.concatenate([block.geoms for block in blocks.ravel()] + [np.empty(0, dtype=object)])
    piece = np.concatenate([block.labels - 1 + b for block, b in zip(blocks.ravel(), base.ravel(), strict=True)]
                           + [np.zeros(0, np.int64)])
    owner = component[piece]
    keep = area[owner] >= min_area_ha
    return _union_by(geoms[keep], owner[keep], area)


def _edge_pairs(blocks: np.ndarray, base: np.ndarray, connectivity: int) -> np.ndarray:
    """Global label pairs whose pixels touch across a block edge, as an (n, 2) int array."""
    pairs = [np.zeros((0, 2), np.int64)]
    for i in range(blocks.shape[0] - 1):
        above = _edge_line(blocks[i], base[i], "bottom")
        below = _edge_line(blocks[i + 1], base[i + 1], "top")
        pairs.append(_touching(above, below, connectivity))
    for j in range(blocks.shape[1] - 1):
        left = _edge_line(blocks[:, j], base[:, j], "right")
        right = _edge_line(blocks[:, j + 1], base[:, j + 1], "left")
        pairs.append(_touching(left, right, connectivity))
    return np.concatenate(pairs)


def _edge_line(blocks: np.ndarray, base: np.ndarray, side: str) -> np.ndarray:
    """One side of a row (or column) of blocks, end to end, as global labels (-1 = inactive)."""
    local = [getattr(block, side).astype(np.int64) for block in blocks]
    return np.concatenate([np.where(line > 0, line + b - 1, -1) for line, b in zip(local, base, strict=True)])


def _touching(a: np.ndarray, b: np.ndarray, connectivity: int) -> np.ndarray:
    """Pairs of labels from two facing lines of pixels that share a side (or, with 8, also a corner)."""
    shifts = [(a, b)] if connectivity == 4 else [(a, b), (a[:-1], b[1:]), (a[1:], b[:-1])]
    pairs = np.concatenate([np.column_stack(shift) for shift in shifts])
    return pairs[(pairs >= 0).all(axis=1)]


def _union_by(geoms: np.ndarray, owner: np.ndarray, area: np.ndarray) -> gpd.GeoDataFrame:
    """One cleaned MultiPolygon per owner (the union of its pieces, cut by block edges), with its area."""
    cut = np.bincount(owner, minlength=area.size)[owner] > 1
    joined = gpd.GeoDataFrame({"owner": owner[cut]}, geometry=geoms[cut]).dissolve("owner")
    owners = np.concatenate([owner[~cut], joined.index.to_numpy(dtype=owner.dtype)])
    whole = np.concatenate([geoms[~cut], np.asarray(joined.geometry, dtype=object)])
    cleaned = shapely.normalize(shapely.simplify(whole, 0.0))
    parts, index = shapely.get_parts(cleaned, return_index=True)
    multi = shapely.multipolygons(parts, indices=index)
    return gpd.GeoDataFrame({"area_ha": area[owners]}, geometry=multi)


def _on_grid(patches: gpd.GeoDataFrame, grid: Grid) -> gpd.GeoDataFrame:
    """Move patches from pixel coordinates onto the grid and sort them from the top-left, canonically."""
    pixel = np.asarray(patches.geometry, dtype=object)
    bounds = shapely.bounds(pixel).reshape(-1, 4)
    order = pd.DataFrame({"top": -bounds[:, 3], "left": bounds[:, 0], "bottom": -bounds[:, 1],
                          "right": bounds[:, 2], "area": patches["area_ha"].to_numpy(),
                          "wkb": shapely.to_wkb(pixel)}).sort_values(
        ["top", "left", "bottom", "right", "area", "wkb"]).index.to_numpy()
    scale = np.array([grid.resolution, grid.resolution])
    offset = np.array([grid.left, grid.top])
    moved = shapely.transform(pixel[order], lambda xy: xy * scale + offset)
    return gpd.GeoDataFrame({"area_ha": patches["area_ha"].to_numpy(dtype=np.float64)[order]},
                            geometry=gpd.GeoSeries(moved), crs=grid.crs)
