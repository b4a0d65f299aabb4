"""An example watched area for the demo: the extent of its Koidu scene stack (Kono district, Sierra Leone), the
file a user tries `mrumonitor stats --area` and `mrumonitor alerts watch --area` with first."""

from __future__ import annotations

import json
from pathlib import Path

import shapely

from mrumonitor.demo.scenes import SceneArea

#: The scene stack whose extent is the example area, and where the file goes (relative to the demo folder).
EXAMPLE_AREA = "koidu"
EXAMPLE_AREA_FILE = Path("inputs") / "areas" / "koidu.geojson"


def write_example_area(workdir: Path, areas: list[SceneArea]) -> Path:
    """Write the extent of the Koidu scene stack as a one-feature GeoJSON (WGS84) under `workdir`; its path."""
    koidu = next(area for area in areas if area.name == EXAMPLE_AREA)
    feature = {"type": "Feature", "geometry": shapely.geometry.mapping(shapely.box(*koidu.bounds_wgs84)),
               "properties": {"name": "Koidu (Kono), Sierra Leone",
                              "note": "An example watched area: the extent of the demo's Koidu scene stack."}}
    path = Path(workdir) / EXAMPLE_AREA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}, indent=1), encoding="utf-8")
    return path
