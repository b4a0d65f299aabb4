"""QGIS styles for GeoPackage exports, so that a layer opens styled.

QGIS looks for a style in the GeoPackage's `layer_styles` table (the QGIS GeoPackage styling extension) and
applies the row marked `useAsDefault` for the layer. The style is a small QML document: sites are coloured
by `registration` class, concessions by licence `status`, and any other layer gets one plain symbol. Symbol
properties use the `<prop k v>` form, which every QGIS 3 release reads.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from mrumonitor.style import REGISTRATION_COLOURS, STATUS_COLOURS

#: Geometry column of every GeoPackage export (passed to GDAL, and named in the style's row).
GEOMETRY_COLUMN = "geom"

#: Column a layer is coloured by, with its palette: the first one the layer has wins.
CATEGORISED = {"registration": REGISTRATION_COLOURS, "status": STATUS_COLOURS}

#: Colour of the plain symbol, and of values outside a palette.
DEFAULT_COLOUR = (120, 120, 120)
OUTLINE_COLOUR = (35, 35, 35)

_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"

#: QGIS symbol type and symbol-layer class for each geometry dimension.
_SYMBOLS = {0: ("marker", "SimpleMarker"), 1: ("line", "SimpleLine"), 2: ("fill", "SimpleFill")}


def layer_qml(frame: gpd.GeoDataFrame) -> str:
    """A QML style for `frame`: categorised by `registration` or `status` when it has one, else plain."""
    dimension = _dimension(frame)
    column = next((name for name in CATEGORISED if name in frame.columns), None)
    renderer = ET.Element("renderer-v2", symbollevels="0", forceraster="0", enableorderby="0")
    if column is None:
        renderer.set("type", "singleSymbol")
        ET.SubElement(renderer, "symbols").append(_symbol("0", dimension, DEFAULT_COLOUR))
    else:
        renderer.set("type", "categorizedSymbol")
        renderer.set("attr", column)
        categories = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        palette = [*CATEGORISED[column].items(), ("", DEFAULT_COLOUR)]  # "" = all other values
        for number, (value, colour) in enumerate(palette):
            label = value.replace("_", " ") or "other"
            ET.SubElement(categories, "category", value=value, label=label, symbol=str(number), render="true")
            symbols.append(_symbol(str(number), dimension, colour))
    root = ET.Element("qgis", version="3.28.0", styleCategories="Symbology")
    root.append(renderer)
    ET.indent(root)
    return _DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def _dimension(frame: gpd.GeoDataFrame) -> int:
    """0 (points), 1 (lines) or 2 (polygons): the highest dimension in the layer, polygons when empty."""
    geoms = np.asarray(frame.geometry)
    dims = shapely.get_dimensions(geoms[~shapely.is_missing(geoms)])
    return int(dims.max()) if len(dims) else 2


def _symbol(name: str, dimension: int, colour: tuple[int, int, int]) -> ET.Element:
    """One QGIS symbol of `colour`: a filled polygon with a dark outline, a line, or a round marker."""
    kind, layer_class = _SYMBOLS[dimension]
    symbol = ET.Element("symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    layer = ET.SubElement(symbol, "layer", {"class": layer_class, "enabled": "1", "locked": "0", "pass": "0"})
    rgba = ",".join(map(str, (*colour, 255)))
    outline = ",".join(map(str, (*OUTLINE_COLOUR, 255)))
    props = {
        "marker": {"name": "circle", "color": rgba, "outline_color": outline, "size": "2.4"},
        "line": {"line_color": rgba, "line_width": "0.6", "line_style": "solid"},
        "fill": {"color": rgba, "style": "solid", "outline_color": outline, "outline_width": "0.26",
                 "outline_style": "solid"},
    }[kind]
    for key, value in props.items():
        ET.SubElement(layer, "prop", k=key, v=value)
    return symbol


def add_default_style(gpkg: Path, layer: str, qml: str) -> None:
    """Append `qml` to the `layer_styles` table of `gpkg` as the default style of `layer`."""
    row = pd.DataFrame({
        "f_table_catalog": [""],
        "f_table_schema": [""],
        "f_table_name": [layer],
        "f_geometry_column": [GEOMETRY_COLUMN],
        "styleName": [layer],
        "styleQML": [qml],
        "styleSLD": [""],
        "useAsDefault": [True],
        "description": [f"mrumonitor default style of {layer}"],
        "owner": [""],
        "ui": [""],
        "update_time": [pd.Timestamp(dt.datetime.now(dt.UTC).replace(tzinfo=None))],
    })
    pyogrio.write_dataframe(row, gpkg, layer="layer_styles", driver="GPKG", append=True,
                            layer_options={"FID": "id"})
