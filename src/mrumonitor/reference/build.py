"""Build the derived reference layers from the committed sources, and summarise what was resolved.

`build_reference` reads `admin0_source.geojson`, `border_posts_source.csv` and the diamond-field table
(`diamond_fields_source.csv`, `diamond_fields_localities.csv`, with the places of `places.geojson`) and
writes `boundaries.geojson`, `borders.geojson`, `border_posts.geojson` and `commodity_zones.geojson` next to
them (see layers/README.md).
The build is deterministic: rebuilding unchanged sources rewrites identical files.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.crs import norm_crs, require_projected
from mrumonitor.reference.borders import derive_borders, pair_keys
from mrumonitor.reference.boundaries import Consistent, make_consistent, read_source_outlines
from mrumonitor.reference.commodity import COMMODITY_ZONES, build_commodity_zones
from mrumonitor.reference.files import (
    BORDER_POSTS,
    BORDER_POSTS_SOURCE,
    BORDERS,
    BOUNDARIES,
    SOURCE_OUTLINES,
    to_exchange_coverage,
    write_layer,
)
from mrumonitor.reference.posts import read_post_sources, snap_posts

log = logging.getLogger(__name__)


def build_reference(reference_dir: str | Path, analysis_crs: Any) -> dict[str, Any]:
    """Derive consistent boundaries, border lines and snapped border posts, and write them.

    Parameters
    ----------
    reference_dir : path
        Folder holding the sources; the derived files are written there (`settings.paths.reference`).
    analysis_crs : CRS-like
        Projected CRS in metres in which all geometry is done (`settings.analysis_crs`).

    Returns
    -------
    dict
        ``pairs``: one row per pair of neighbours (pair, length_km, overlap_km2, gap_km2), where overlap_km2
        is the area both source outlines claimed and gap_km2 the area of the gap pieces touching both (a gap
        at a tripoint counts for each of its pairs); ``posts``: one row per post (post_id, name, pair,
        snap_km); ``contested_km2``: the area shared out in all (each square metre once); ``files``: the
        paths written. Rows are flat dicts, ready to print as tables.

    Raises
    ------
    ReferenceDataError
        When a source is missing or invalid, or a post lies too far from its border line.
    """
    reference_dir = Path(reference_dir)
    crs = require_projected(norm_crs(analysis_crs, "analysis CRS"), "analysis CRS")
    consistent = make_consistent(read_source_outlines(reference_dir / SOURCE_OUTLINES), crs)
    boundaries = to_exchange_coverage(consistent.boundaries)
    borders = derive_borders(boundaries, crs)
    posts = snap_posts(read_post_sources(reference_dir / BORDER_POSTS_SOURCE), borders, crs)
    files = [
        write_layer(boundaries, reference_dir / BOUNDARIES),
        write_layer(borders, reference_dir / BORDERS),
        write_layer(posts, reference_dir / BORDER_POSTS),
        write_layer(build_commodity_zones(reference_dir, boundaries, crs), reference_dir / COMMODITY_ZONES),
    ]
    log.info("reference layers built in %s: %d borders, %d posts", reference_dir, len(borders), len(posts))
    return {
        "pairs": _pair_rows(consistent, borders),
        "posts": _post_rows(posts),
        "contested_km2": _contested_km2(consistent),
        "files": [str(path) for path in files],
    }


def _pair_rows(consistent: Consistent, borders: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Border length, overlap resolved and gap filled, per pair of neighbours."""
    overlap = consistent.overlaps.groupby("pair")["area_km2"].sum()
    touching = consistent.gaps["countries"].str.split("-").map(set)
    gap = [
        consistent.gaps["area_km2"][touching.map({a, b}.issubset)].sum()
        for a, b in zip(borders["country_a"], borders["country_b"], strict=True)
    ]
    rows = borders[["pair", "length_km"]].assign(
        overlap_km2=borders["pair"].map(overlap).fillna(0.0).round(1), gap_km2=np.round(gap, 1)
    )
    return pd.DataFrame(rows).to_dict("records")


def _post_rows(posts: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Where each post ended up: its pair and how far it was moved."""
    rows = posts[["post_id", "name"]].assign(
        pair=pair_keys(posts["country"], posts["neighbour"]), snap_km=posts["snap_km"]
    )
    return pd.DataFrame(rows).to_dict("records")


def _contested_km2(consistent: Consistent) -> float:
    """Area shared out in all: overlaps and gaps, each square metre counted once."""
    contested = shapely.union_all(np.concatenate([consistent.overlaps.geometry, consistent.gaps.geometry]))
    return round(float(shapely.area(contested)) / 1e6, 1)
