"""One writer per export format, in a registry keyed by the format's name.

A writer takes the (already clipped) layer, the layer's name, the destination and a `describe` callable that
turns the writer's details into the full sidecar content (the Shapefile writer puts it inside its zip). It
writes atomically and returns its details for the sidecar: `count` or `size`, the `crs` of the file, and for
Shapefiles the field mapping.

| format  | layers          | CRS of the file        | notes                                                 |
|---------|-----------------|------------------------|-------------------------------------------------------|
| gpkg    | vector, table   | the layer's (analysis) | layer named after the layer; QGIS default style       |
| shp     | vector          | the layer's (analysis) | zip: .shp/.shx/.dbf/.prj/.cpg (UTF-8), fields.csv,    |
|         |                 |                        | <layer>.metadata.json; fields cut to 10 characters    |
| geojson | vector          | WGS84                  | RFC 7946 (counter-clockwise rings, 7 decimals)        |
| csv     | vector, table   | WGS84                  | UTF-8 with BOM (Excel reads accents); vectors: lon,   |
|         |                 |                        | lat of a point inside each feature, and wkt; text     |
|         |                 |                        | starting = + - @ tab CR gets a leading ' (no formula) |
| parquet | vector, table   | the layer's (analysis) | GeoParquet 1.1.0 with bbox covering; tables: Parquet  |
| cog     | raster          | the layer's (analysis) | DEFLATE, predictor 2, 512 tiles, overviews, tags      |
| pmtiles | vector          | Web Mercator tiles     | PMTiles 3 of gzipped MVT tiles, zooms `PMTILES_ZOOMS`;|
|         |                 | (from WGS84)           | attributes MVT holds (dates as ISO text); footprints  |
|         |                 |                        | under a screen pixel drawn as points at that zoom     |
"""

from __future__ import annotations

import datetime as dt
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from mrumonitor.crs import WGS84
from mrumonitor.errors import ExportError, UnsupportedFormat
from mrumonitor.export.clip import ActivityExtract
from mrumonitor.export.qgis_style import GEOMETRY_COLUMN, add_default_style, layer_qml
from mrumonitor.export.shapefile_fields import shapefile_attributes
from mrumonitor.export.sidecar import describe_crs, sidecar_text
from mrumonitor.layerio import write_geoparquet, write_parquet, written_aside
from mrumonitor.raster.cog import write_activity_cog
from mrumonitor.vectortiles import WEB_MERCATOR, layer_tiles, vector_layer, write_pmtiles

Describe = Callable[[dict[str, Any]], dict[str, Any]]

#: Decimals of WGS84 coordinates in text formats (1e-7 degree is about 1 cm), as RFC 7946 GeoJSON in GDAL.
WGS84_DECIMALS = 7

#: How datetimes are written as text.
DATETIME_TEXT = "%Y-%m-%dT%H:%M:%S"

#: Text a spreadsheet reads as a formula (OWASP CSV injection): neutralised in CSV exports.
FORMULA_START = r"[=+\-@\t\r]"


@dataclass(frozen=True)
class Format:
    """An export format: its name, a title for people, its file suffixes, the layer kinds it takes, its writer."""

    name: str
    title: str
    suffixes: tuple[str, ...]
    kinds: tuple[str, ...]
    write: Callable[[Any, str, Path, Describe], dict[str, Any]]


def _details(frame: pd.DataFrame) -> dict[str, Any]:
    """Sidecar details of a written frame: its row count, its attribute columns (the geometry is the format's own)
    and, for a vector, its CRS."""
    crs = frame.crs if isinstance(frame, gpd.GeoDataFrame) else None
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    return {"count": len(frame), "columns": [str(column) for column in frame.columns if column != geometry],
            "crs": describe_crs(crs) if crs is not None else None}


def _write_geopackage(frame: pd.DataFrame, layer: str, out: Path, describe: Describe) -> dict[str, Any]:
    with written_aside(out) as partial:
        if isinstance(frame, gpd.GeoDataFrame):
            pyogrio.write_dataframe(frame, partial, layer=layer, driver="GPKG",
                                    layer_options={"GEOMETRY_NAME": GEOMETRY_COLUMN})
            add_default_style(partial, layer, layer_qml(frame))
        else:
            pyogrio.write_dataframe(frame, partial, layer=layer, driver="GPKG")
    return _details(frame)


def _write_shapefile(frame: gpd.GeoDataFrame, layer: str, out: Path, describe: Describe) -> dict[str, Any]:
    attributes, fields = shapefile_attributes(frame)
    details = {**_details(frame), "shapefile_fields": fields}
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp, written_aside(out) as partial:
        folder = Path(tmp)
        pyogrio.write_dataframe(attributes, folder / f"{layer}.shp", driver="ESRI Shapefile", encoding="UTF-8")
        pd.DataFrame(fields).to_csv(folder / "fields.csv", index=False, encoding="utf-8")
        (folder / f"{layer}.metadata.json").write_text(sidecar_text(describe(details)), encoding="utf-8")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(folder.iterdir()):
                archive.write(part, part.name)
    return details


def _write_geojson(frame: gpd.GeoDataFrame, layer: str, out: Path, describe: Describe) -> dict[str, Any]:
    exchange = frame.to_crs(WGS84)
    with written_aside(out) as partial:
        pyogrio.write_dataframe(exchange, partial, layer=layer, driver="GeoJSON", layer_options={"RFC7946": "YES"})
    return _details(exchange)


def _write_csv(frame: pd.DataFrame, layer: str, out: Path, describe: Describe) -> dict[str, Any]:
    table = neutralise_formulas(_with_wkt(frame) if isinstance(frame, gpd.GeoDataFrame) else frame)
    with written_aside(out) as partial:
        # CRLF rows (RFC 4180): a text holding a carriage return is then quoted, not a broken row
        table.to_csv(partial, index=False, encoding="utf-8-sig", date_format=DATETIME_TEXT, lineterminator="\r\n")
    return {**_details(table), "crs": describe_crs(WGS84) if isinstance(frame, gpd.GeoDataFrame) else None}


def neutralise_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with every text cell that a spreadsheet would run as a formula (starting with = + - @, a tab or
    a carriage return) prefixed with an apostrophe, the OWASP rule against CSV injection: agencies open the
    CSV exports in Excel, where ``=HYPERLINK(...)`` in a holder's name would be a live link. Numbers, and
    every format but CSV, keep their values as they are."""
    table = table.copy()
    for column in table.columns[[dtype == object or isinstance(dtype, pd.StringDtype) for dtype in table.dtypes]]:
        text = table[column].astype("string")
        risky = text.str.match(FORMULA_START).fillna(False).to_numpy(dtype=bool)
        if risky.any():
            table[column] = table[column].astype(object).where(~risky, "'" + text.astype(object))
    return table


def _with_wkt(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """The attributes of `frame`, then lon and lat of a point inside each feature, then its WKT, in WGS84."""
    inside = frame.representative_point().to_crs(WGS84)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    table["lon"] = np.round(inside.x.to_numpy(), WGS84_DECIMALS)
    table["lat"] = np.round(inside.y.to_numpy(), WGS84_DECIMALS)
    table["wkt"] = shapely.to_wkt(np.asarray(frame.geometry.to_crs(WGS84)), rounding_precision=WGS84_DECIMALS)
    return table


def _write_parquet(frame: pd.DataFrame, layer: str, out: Path, describe: Describe) -> dict[str, Any]:
    if isinstance(frame, gpd.GeoDataFrame):
        write_geoparquet(frame, out)
    else:
        write_parquet(frame, out)
    return _details(frame)


def _write_cog(extract: ActivityExtract, layer: str, out: Path, describe: Describe) -> dict[str, Any]:
    write_activity_cog(extract.array, extract.grid, out, extract.tags, description=str(extract.array.name))
    return {"size": [extract.grid.width, extract.grid.height], "crs": describe_crs(extract.grid.crs)}


#: Zooms of the PMTiles exports. From 5, where the four countries fill one screen (the dashboard's widest zoom), to
#: 14, where a tile pixel (of 4096) is 2.4 m at the equator: finer than any footprint's outline needs, and viewers
#: (MapLibre, QGIS) draw deeper zooms from it. Each tile holds every feature in it: a site is a point while it is
#: smaller than a screen pixel, its footprint from there (`vectortiles.pyramid`).
PMTILES_ZOOMS = range(5, 15)

#: What a PMTiles export's sidecar says of its tiles, besides the figures.
PMTILES_NOTE = ("Mapbox Vector Tiles (extent 4096, buffer 64) in one layer named after the layer, in Web Mercator "
                "from WGS84, gzip-compressed; a footprint or line smaller than one screen pixel at a zoom is a point "
                "inside it at that zoom. Attributes: the layer's columns that vector tiles can hold (text, numbers, "
                "booleans; dates as ISO 8601 text).")

#: Values a column may hold to travel in vector tiles (besides missing ones).
_TILE_SCALARS = (str, bool, int, float, np.bool_, np.integer, np.floating, dt.date)


def _write_pmtiles(frame: gpd.GeoDataFrame, layer: str, out: Path, describe: Describe) -> dict[str, Any]:
    exchange = frame.to_crs(WGS84)
    geoms = np.asarray(exchange.geometry)
    attributes = pd.DataFrame(exchange.drop(columns=exchange.geometry.name))
    left_out = [str(column) for column in attributes.columns if not _tile_column(attributes[column])]
    attributes = attributes.drop(columns=left_out)
    about = describe({})
    zooms = (PMTILES_ZOOMS.start, PMTILES_ZOOMS.stop - 1)
    metadata = {"name": about["layer"]["title"], "description": about["layer"]["description"],
                "attribution": "; ".join(about["attribution"]), "type": "overlay",
                "vector_layers": [vector_layer(layer, attributes, *zooms, about["layer"]["description"])],
                "mrumonitor": {"run": about["run"], "country": about["country"], "caveats": about["caveats"]}}
    shown = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bounds = tuple(shapely.total_bounds(geoms[shown]).tolist()) if shown.any() else None
    with written_aside(out) as partial:
        written = write_pmtiles(partial, layer_tiles(layer, geoms, attributes, PMTILES_ZOOMS), metadata, bounds)
    return {"count": int(shown.sum()), "columns": list(map(str, attributes.columns)),
            "crs": describe_crs(WEB_MERCATOR),
            "vector_tiles": {"layer": layer, "tiles": written["tiles"], "min_zoom": written["min_zoom"],
                             "max_zoom": written["max_zoom"], "bounds": written["bounds"], "note": PMTILES_NOTE,
                             "without_geometry": int((~shown).sum()), "columns_left_out": left_out}}


def _tile_column(column: pd.Series) -> bool:
    """Whether vector tiles can hold `column`: numbers, booleans, dates, or text (objects that are all
    `_TILE_SCALARS`)."""
    if column.dtype.kind in "biufM" or isinstance(column.dtype, pd.StringDtype):
        return True
    return all(isinstance(value, _TILE_SCALARS) for value in column.dropna().tolist())


#: The export formats, by name.
FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("gpkg", "GeoPackage", (".gpkg",), ("vector", "table"), _write_geopackage),
    Format("shp", "zipped ESRI Shapefile", (".zip",), ("vector",), _write_shapefile),
    Format("geojson", "GeoJSON (RFC 7946, WGS84)", (".geojson", ".json"), ("vector",), _write_geojson),
    Format("csv", "CSV (UTF-8; WKT and lon/lat in WGS84)", (".csv",), ("vector", "table"), _write_csv),
    Format("parquet", "GeoParquet 1.1 / Parquet", (".parquet", ".geoparquet"), ("vector", "table"), _write_parquet),
    Format("cog", "Cloud-Optimized GeoTIFF", (".tif", ".tiff"), ("raster",), _write_cog),
    Format("pmtiles", "PMTiles (vector tiles, zooms 5 to 14)", (".pmtiles",), ("vector",), _write_pmtiles),
)}


def get_format(name: str) -> Format:
    """The format called `name`; ExportError listing the known ones when there is none."""
    if name not in FORMATS:
        raise UnsupportedFormat(f"unknown export format {name!r}; formats: {', '.join(FORMATS)}.")
    return FORMATS[name]


def formats_for(kind: str) -> list[str]:
    """Names of the formats a layer of `kind` can be exported in."""
    return [name for name, fmt in FORMATS.items() if kind in fmt.kinds]


def format_for_path(path: Path) -> str:
    """The format a file name asks for by its suffix (".zip" is a zipped Shapefile)."""
    for name, fmt in FORMATS.items():
        if Path(path).name.lower().endswith(fmt.suffixes):
            return name
    known = ", ".join(f"{suffix} ({name})" for name, fmt in FORMATS.items() for suffix in fmt.suffixes)
    raise ExportError(f"{path}: cannot tell the export format from this file name; end it with one of {known}, "
                      "or name the format (--format).")


def check_export(fmt: Format, kind: str, layer: str, out: Path) -> None:
    """Refuse a format the layer's kind cannot take, or a file name that does not end like the format."""
    if kind not in fmt.kinds:
        raise UnsupportedFormat(f"layer {layer!r} is a {kind} layer; it can be exported as "
                          f"{', '.join(formats_for(kind))}, not {fmt.name}.")
    if not Path(out).name.lower().endswith(fmt.suffixes):
        raise ExportError(f"{out}: a {fmt.title} export must be a file ending with {' or '.join(fmt.suffixes)}.")
