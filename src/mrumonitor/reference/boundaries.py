"""Make independently simplified country outlines consistent: no overlap, no gap between neighbours.

National outlines simplified one by one overlap their neighbours in places and leave slivers of nobody's
land in others. Distances to a border and transboundary flags mean nothing until that is resolved, so the
committed `boundaries.geojson` is derived from the published outlines by this rule, applied in the
(equal-area, metric) analysis CRS:

1. **Core.** The core of a country is its outline minus every other outline: land no one else claims.
2. **Contested land** is every overlap (land inside two or more outlines) plus every gap between
   neighbours. Gap candidates are what a morphological closing of the union of all outlines adds (buffer
   by +`closing_m`, then by -`closing_m`, 2 km by default) and the holes of that union, whatever their size;
   a candidate piece is a gap only when it touches two or more outlines. A bay, lagoon or notch touching a
   single country is not a gap and stays outside, and so does an opening wider than about twice
   `closing_m` towards the sea or a country not in the file.
3. **Equidistant split.** Each connected piece of contested land is shared between the countries whose cores
   touch it: every point goes to the nearest core. Distances are taken to the edges each core shares with
   the piece, densified every `spacing_m` metres (100 m); the split is the Voronoi diagram of those points,
   labelled by country and dissolved, with its stair steps simplified by `SIMPLIFY_M` (25 m) inside the
   piece only. The split line is thus equidistant to within about 25 m (a metre or two typically), and a
   point where two cores meet, being equidistant, drives neither. A piece touching one core goes to it whole
   (a piece touching none, such as an islet inside two outlines, to the nearest core).
4. **Final outline** = core ∪ its shares, then cleaned into an edge-matched coverage: neighbours share
   exactly the same vertices along their border, so no two outlines overlap and none leaves a gap along a
   shared border. Every core is kept whole, even a speck of a few m² left where two simplified edges cross,
   which then stays as a tiny enclave.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from mrumonitor.crs import norm_crs, require_projected
from mrumonitor.errors import ReferenceDataError
from mrumonitor.reference.borders import pair_keys
from mrumonitor.reference.files import BOUNDARIES, read_layer

log = logging.getLogger(__name__)

#: Columns of the `boundaries` layer (geometry last).
BOUNDARY_COLUMNS = ("iso3", "name")

#: Radius of the morphological closing that finds gaps between neighbours (metres).
GAP_CLOSING_M = 2_000.0
#: Spacing of the core-edge points whose Voronoi diagram splits contested land (metres).
POINT_SPACING_M = 100.0
#: The split lines are simplified by this much (metres), the stair steps of the Voronoi cells with them.
SIMPLIFY_M = 25.0
#: Two shapes closer than this touch (metres): absorbs floating-point noise of the overlays.
TOUCH_M = 1.0


@dataclass(frozen=True)
class Consistent:
    """What `make_consistent` derived, all in the analysis CRS.

    Attributes
    ----------
    boundaries : GeoDataFrame
        iso3, name, geometry: the consistent outlines, an edge-matched coverage.
    cores : GeoDataFrame
        iso3, geometry: each outline minus every other outline.
    overlaps : GeoDataFrame
        pair, area_km2, geometry: the intersection of each pair of overlapping source outlines.
    gaps : GeoDataFrame
        countries (e.g. "GIN-LBR-SLE"), area_km2, geometry: each gap piece filled, with the countries whose
        outlines it touches.
    """

    boundaries: gpd.GeoDataFrame
    cores: gpd.GeoDataFrame
    overlaps: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame


def make_consistent(
    outlines: gpd.GeoDataFrame,
    crs: Any,
    closing_m: float = GAP_CLOSING_M,
    spacing_m: float = POINT_SPACING_M,
) -> Consistent:
    """Apply the consistency rule of this module to country outlines.

    Parameters
    ----------
    outlines : GeoDataFrame
        Columns iso3, name and valid polygonal geometry, one row per country, in any CRS.
    crs : CRS-like
        Projected CRS in metres in which all the geometry is done (the analysis CRS).
    closing_m : float
        Radius of the closing that finds gaps between neighbours.
    spacing_m : float
        Spacing of the points on core edges that drive the equidistant split.

    Returns
    -------
    Consistent
        The consistent outlines with the cores, overlaps and gaps they were built from.
    """
    crs = require_projected(norm_crs(crs, "analysis CRS"), "analysis CRS")
    outlines = outlines.to_crs(crs).sort_values("iso3", ignore_index=True)
    geoms = np.asarray(outlines.geometry)
    iso = outlines["iso3"].to_numpy()
    cores = _cores(geoms)
    overlaps = _overlaps(iso, geoms)
    gaps = _gaps(iso, geoms, closing_m)
    contested = shapely.union_all(np.concatenate([overlaps.geometry, gaps.geometry]))
    owners, shares = _split(shapely.get_parts(contested), cores, spacing_m)
    final = _assemble(cores, owners, shares)
    log.info(
        "outlines made consistent: %.1f km² of overlap and %.1f km² of gaps shared out",
        overlaps["area_km2"].sum(),
        gaps["area_km2"].sum(),
    )
    return Consistent(
        boundaries=gpd.GeoDataFrame(outlines[["iso3", "name"]], geometry=final, crs=crs),
        cores=gpd.GeoDataFrame({"iso3": iso}, geometry=cores, crs=crs),
        overlaps=overlaps.set_crs(crs),
        gaps=gaps.set_crs(crs),
    )


def _cores(geoms: np.ndarray) -> np.ndarray:
    """Each outline minus the union of all the others."""
    others = [shapely.union_all(np.delete(geoms, i)) for i in range(len(geoms))]
    return shapely.difference(geoms, others)


def _overlaps(iso: np.ndarray, geoms: np.ndarray) -> gpd.GeoDataFrame:
    """The polygonal intersection of every pair of outlines that overlap."""
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    left, right = left[left < right], right[left < right]
    parts, index = _polygon_parts(shapely.intersection(geoms[left], geoms[right]))
    which, group = np.unique(index, return_inverse=True)
    frame = gpd.GeoDataFrame(
        {"pair": pair_keys(iso[left[which]], iso[right[which]])},
        geometry=shapely.multipolygons(parts, indices=group),
    )
    frame["area_km2"] = frame.area / 1e6
    return frame


def _gaps(iso: np.ndarray, geoms: np.ndarray, closing_m: float) -> gpd.GeoDataFrame:
    """Pieces that a closing of the union, or filling its holes, adds and that touch two or more outlines."""
    union = shapely.union_all(geoms)
    closed = shapely.buffer(shapely.buffer(union, closing_m), -closing_m)
    filled = shapely.polygons(shapely.get_exterior_ring(shapely.get_parts(union)))
    pieces = shapely.get_parts(shapely.difference(shapely.union_all([closed, *filled]), union))
    piece, country = shapely.STRtree(geoms).query(pieces, predicate="dwithin", distance=TOUCH_M)
    touching = np.bincount(piece, minlength=len(pieces))
    keep = np.flatnonzero(touching >= 2)
    names = {i: "-".join(sorted(iso[country[piece == i]])) for i in keep}
    frame = gpd.GeoDataFrame({"countries": [names[i] for i in keep]}, geometry=pieces[keep])
    frame["area_km2"] = frame.area / 1e6
    return frame


def _polygon_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The polygons of each geometry (overlays may add points and lines) and the index of their geometry."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    polygonal = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    return parts[polygonal], index[polygonal]


def _split(pieces: np.ndarray, cores: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Share every contested piece between the cores that touch it; return (owner core index, share)."""
    piece, core = _claimants(pieces, cores)
    claims = np.bincount(piece, minlength=len(pieces))
    single = claims[piece] == 1
    owners, shares = [core[single]], [pieces[piece[single]]]
    for i in np.flatnonzero(claims > 1):
        owner, share = _voronoi_split(pieces[i], core[piece == i], cores, spacing_m)
        owners.append(owner)
        shares.append(share)
    return np.concatenate(owners), np.concatenate(shares)


def _claimants(pieces: np.ndarray, cores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (piece, core) where the core touches the piece; a piece touching none gets its nearest core."""
    tree = shapely.STRtree(cores)
    piece, core = tree.query(pieces, predicate="dwithin", distance=TOUCH_M)
    alone = np.setdiff1d(np.arange(len(pieces)), piece)
    near_piece, near_core = tree.query_nearest(pieces[alone], all_matches=False)
    order = np.argsort(np.concatenate([piece, alone[near_piece]]), kind="stable")
    return np.concatenate([piece, alone[near_piece]])[order], np.concatenate([core, near_core])[order]


def _voronoi_split(
    piece: shapely.Geometry, claimants: np.ndarray, cores: np.ndarray, spacing_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Split one piece between `claimants` (core indices) by nearest core edge."""
    edges = shapely.intersection(shapely.boundary(cores[claimants]), shapely.buffer(piece, TOUCH_M))
    coords, which = shapely.get_coordinates(shapely.segmentize(edges, spacing_m), return_index=True)
    coords, labels = _unambiguous(coords, claimants[which])
    diagram = shapely.voronoi_polygons(shapely.multipoints(coords), extend_to=piece, ordered=True)
    cells, index = _polygon_parts(shapely.get_parts(diagram))  # a degenerate cell comes back empty
    labels = labels[index]
    owners = np.unique(labels)
    regions = [shapely.union_all(cells[labels == owner]) for owner in owners]
    regions = shapely.coverage_simplify(regions, SIMPLIFY_M, simplify_boundary=False)
    shares, index = _polygon_parts(shapely.intersection(piece, regions))
    return owners[index], shares


def _unambiguous(coords: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated points, and points where two cores meet: they are equidistant and belong to neither."""
    rows = np.unique(np.column_stack([coords, labels]), axis=0)
    _, inverse, counts = np.unique(rows[:, :2], axis=0, return_inverse=True, return_counts=True)
    alone = counts[inverse.reshape(-1)] == 1
    return rows[alone, :2], rows[alone, 2].astype(int)


def _assemble(cores: np.ndarray, owners: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Each core with its shares, cleaned into an edge-matched coverage."""
    final = [shapely.union_all(np.append(shares[owners == i], cores[i])) for i in range(len(cores))]
    return shapely.coverage_clean(final)


def read_source_outlines(path: str | Path) -> gpd.GeoDataFrame:
    """Read the published country outlines (columns name, iso_a3) as iso3, name, geometry.

    Raises
    ------
    ReferenceDataError
        When the file is missing or unreadable, lacks a column, repeats a country or has an invalid outline.
    """
    path = Path(path)
    fix = "restore it with `git checkout -- layers/reference/admin0_source.geojson`."
    if not path.is_file():
        raise ReferenceDataError(f"{path}: source country outlines not found. Fix: {fix}")
    try:
        outlines = gpd.read_file(path, engine="pyogrio")
    except pyogrio.errors.DataSourceError as exc:
        raise ReferenceDataError(f"{path}: cannot be read ({exc}). Fix: {fix}") from exc
    missing = {"name", "iso_a3"} - set(outlines.columns)
    if missing:
        raise ReferenceDataError(f"{path}: column(s) {', '.join(sorted(missing))} missing. Fix: {fix}")
    outlines = outlines.rename(columns={"iso_a3": "iso3"})[["iso3", "name", "geometry"]]
    repeated = outlines["iso3"][outlines["iso3"].duplicated()].tolist()
    invalid = outlines["iso3"][~outlines.is_valid].tolist()
    if repeated or invalid:
        raise ReferenceDataError(
            f"{path}: each country needs one valid outline; repeated: {repeated or 'none'}, "
            f"invalid: {invalid or 'none'}. Fix: dissolve repeated rows and repair invalid outlines "
            "(shapely.make_valid) before committing."
        )
    return outlines


def load_boundaries(reference_dir: str | Path, crs: Any) -> gpd.GeoDataFrame:
    """Read `boundaries.geojson`: iso3, name, geometry, in `crs`.

    Raises
    ------
    ReferenceDataError
        When the file is missing; the message says to run `mrumonitor reference build`.
    """
    return read_layer(reference_dir, BOUNDARIES, crs, BOUNDARY_COLUMNS)
