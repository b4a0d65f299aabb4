"""Border posts: typed by hand with approximate positions, then snapped to the derived border lines.

`border_posts_source.csv` lists each crossing once per side (post_id "SLE-GIN-01": the post on the Sierra
Leone side towards Guinea) with its kind (`POST_KINDS`), the publication that documents it (`source`) and
where its position comes from (`position_note`: a town's published coordinates when the crossing is at that
town, said so). Which kinds count as crossings for "far from a crossing" is a setting (`analysis.post_kinds`,
official posts only by default). The positions are
approximate, and the derived border lines are themselves a consistent version of simplified outlines, so the
build moves each post to the nearest point of its pair's border line, records how far it moved, and refuses a
post that lies more than `MAX_SNAP_KM` away: that means a wrong coordinate or a wrong pair.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.crs import WGS84, norm_crs, require_projected
from mrumonitor.errors import ReferenceDataError
from mrumonitor.reference.borders import pair_keys
from mrumonitor.reference.files import BORDER_POSTS, BORDER_POSTS_SOURCE, read_layer, to_exchange

#: Kinds of border post (see DESIGN.md, `border_posts`): official (a staffed immigration and customs post),
#: customs (a customs post alone), informal_known (an unofficial crossing point documented in a publication).
POST_KINDS = ("official", "customs", "informal_known")
#: Columns of `border_posts_source.csv`, in order.
SOURCE_COLUMNS = ("post_id", "name", "country", "neighbour", "kind", "operational", "lon", "lat", "position_note",
                  "source")
#: Columns of the `border_posts` layer returned by `load_border_posts` (geometry last).
POST_COLUMNS = ("post_id", "name", "country", "neighbour", "kind", "operational", "position_note", "source")
#: A post further than this from its pair's derived border line is refused (kilometres).
MAX_SNAP_KM = 15.0

_BOOLEANS = {"true": True, "false": False}


def read_post_sources(path: str | Path) -> pd.DataFrame:
    """Read and check `border_posts_source.csv` (UTF-8, comma-separated, one row per post and side).

    Raises
    ------
    ReferenceDataError
        Naming the file, the post and the fix, when the file is missing, a column is missing, a post_id is
        repeated, or a kind, an operational flag or a coordinate is not valid.
    """
    path = Path(path)
    if not path.is_file():
        raise ReferenceDataError(
            f"{path}: border post list not found. Fix: restore it with `git checkout -- {path.name}` "
            f"in layers/reference/."
        )
    posts = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [column for column in SOURCE_COLUMNS if column not in posts.columns]
    if missing:
        raise ReferenceDataError(
            f"{path}: column(s) {', '.join(missing)} missing. Fix: use the header {','.join(SOURCE_COLUMNS)}."
        )
    posts = posts[list(SOURCE_COLUMNS)].apply(lambda column: column.str.strip())
    _check_posts(path, posts)
    return posts.assign(
        operational=posts["operational"].str.lower().map(_BOOLEANS),
        lon=posts["lon"].astype(float),
        lat=posts["lat"].astype(float),
    )


def _check_posts(path: Path, posts: pd.DataFrame) -> None:
    """Raise `ReferenceDataError` listing every row with a bad value."""
    lon = pd.to_numeric(posts["lon"], errors="coerce")
    lat = pd.to_numeric(posts["lat"], errors="coerce")
    problems = {
        "repeated post_id": posts["post_id"].duplicated(keep=False),
        f"kind not one of {', '.join(POST_KINDS)}": ~posts["kind"].isin(POST_KINDS),
        "operational not true or false": ~posts["operational"].str.lower().isin(_BOOLEANS),
        "lon/lat not a WGS84 position": ~(lon.between(-180, 180) & lat.between(-90, 90)),
        "country equals neighbour": posts["country"] == posts["neighbour"],
        "empty name, position_note or source": (posts[["name", "position_note", "source"]] == "").any(axis=1),
    }
    found = [f"{problem}: {', '.join(posts['post_id'][bad])}" for problem, bad in problems.items() if bad.any()]
    if found:
        raise ReferenceDataError(f"{path}: " + "; ".join(found) + ". Fix these rows and rebuild.")


def snap_posts(
    posts: pd.DataFrame, borders: gpd.GeoDataFrame, crs: Any, max_snap_km: float = MAX_SNAP_KM
) -> gpd.GeoDataFrame:
    """Move each post to the nearest point of its pair's border line and say so in `position_note`.

    Parameters
    ----------
    posts : DataFrame
        As returned by `read_post_sources` (lon/lat in WGS84).
    borders : GeoDataFrame
        As returned by `derive_borders` or `load_borders`.
    crs : CRS-like
        Projected CRS in metres in which the nearest point and the distance are computed.
    max_snap_km : float
        Largest distance a post may be moved.

    Returns
    -------
    GeoDataFrame
        The `POST_COLUMNS` plus snap_km, in WGS84 rounded like every committed file, sorted by post_id.

    Raises
    ------
    ReferenceDataError
        When a post's pair has no border line, or a post lies further than `max_snap_km` from it.
    """
    crs = require_projected(norm_crs(crs, "analysis CRS"), "analysis CRS")
    pairs = pd.Series(pair_keys(posts["country"], posts["neighbour"]), index=posts.index)
    lines = borders.to_crs(crs).set_index("pair").geometry
    unknown = ~pairs.isin(lines.index)
    if unknown.any():
        raise ReferenceDataError(
            f"posts {', '.join(posts['post_id'][unknown])}: no derived border between country and neighbour "
            f"(known pairs: {', '.join(lines.index)}). Fix country/neighbour in {BORDER_POSTS_SOURCE}."
        )
    points = np.asarray(gpd.GeoSeries(gpd.points_from_xy(posts["lon"], posts["lat"]), crs=WGS84).to_crs(crs))
    line = np.asarray(lines.loc[pairs])
    snap_km = shapely.distance(points, line) / 1000
    _check_snap(posts, pairs, snap_km, max_snap_km)
    snapped = shapely.get_point(shapely.shortest_line(points, line), 1)
    result = gpd.GeoDataFrame(
        posts[list(POST_COLUMNS)].assign(
            snap_km=snap_km.round(3),
            position_note=[
                f"{note}, snapped {km:.1f} km to the derived {pair} border line"
                for note, km, pair in zip(posts["position_note"], snap_km, pairs, strict=True)
            ],
        ),
        geometry=gpd.GeoSeries(snapped, index=posts.index, crs=crs),
    )
    return to_exchange(result).sort_values("post_id", ignore_index=True)


def _check_snap(posts: pd.DataFrame, pairs: pd.Series, snap_km: np.ndarray, max_snap_km: float) -> None:
    far = snap_km > max_snap_km
    if far.any():
        listed = ", ".join(
            f"{post} ({name}) {km:.1f} km from the {pair} line"
            for post, name, km, pair in zip(posts["post_id"][far], posts["name"][far], snap_km[far], pairs[far])
        )
        raise ReferenceDataError(
            f"{BORDER_POSTS_SOURCE}: {listed}; a post may be at most {max_snap_km:g} km from its border line. "
            "Fix: correct lon/lat (WGS84 decimal degrees, lon first) or the country/neighbour of these rows."
        )


def load_border_posts(reference_dir: str | Path, crs: Any) -> gpd.GeoDataFrame:
    """Read `border_posts.geojson`: post_id, name, country, neighbour, kind, operational, position_note, source,
    geometry.

    Raises
    ------
    ReferenceDataError
        When the file is missing; the message says to run `mrumonitor reference build`.
    """
    posts = read_layer(reference_dir, BORDER_POSTS, crs, POST_COLUMNS)
    return posts.astype({"operational": "bool"})
