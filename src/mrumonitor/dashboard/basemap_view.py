"""The built-in basemap (`reference.basemap`) as the dashboard serves it: GeoJSON per map layer, simplified for
the screen.

Four layers travel (`SERVED`): the water and the rivers, simplified by `TOLERANCE_DEG` (about 500 m: a coast or
river drawn at region-wide zooms); the towns, whose names the map writes from zoom 5 to `VILLAGE_ZOOM` - 1; and the
villages, which the browser asks for only once the map is zoomed to `VILLAGE_ZOOM` (they are most of the places, so
a page's first load carries none of them). Each is serialised once per reference folder (`routes.basemap`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import shapely

from mrumonitor.dashboard import geojson
from mrumonitor.reference.basemap import basemap_layers, load_basemap

#: Simplification of the water and the rivers as served, in degrees.
TOLERANCE_DEG = 0.005
#: The zoom from which villages (places whose name shows from this zoom on) are loaded and named.
VILLAGE_ZOOM = 9
#: The served layers: name -> the basemap layer it is drawn from.
SERVED = {"water": "water", "rivers": "rivers", "towns": "places", "villages": "places"}


def served_layers(reference_dir: str | Path) -> tuple[str, ...]:
    """The names of `SERVED` that the reference folder can give (none: the maps draw no built-in basemap)."""
    present = basemap_layers(reference_dir)
    return tuple(name for name, source in SERVED.items() if source in present)


def basemap_geojson(reference_dir: str | Path, name: str) -> bytes:
    """The served layer `name` (a name of `served_layers`) as compact GeoJSON bytes."""
    frame = load_basemap(reference_dir, SERVED[name])
    geoms = frame.geometry.to_numpy()
    if SERVED[name] == "places":
        keep = (frame["minzoom"] >= VILLAGE_ZOOM) == (name == "villages")
        properties = pd.DataFrame({"name": frame["name"], "minzoom": frame["minzoom"].astype(int)})[keep.to_numpy()]
        geoms = geoms[keep.to_numpy()]
    else:
        geoms = shapely.simplify(geoms, TOLERANCE_DEG)
        properties = pd.DataFrame({"kind": frame.get("kind", name)}, index=frame.index)
    collection = geojson.feature_collection(geojson.rounded(geoms), properties.reset_index(drop=True))
    return json.dumps(collection, separators=(",", ":"), ensure_ascii=False).encode()
