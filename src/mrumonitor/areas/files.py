"""An area a user uploads (GeoJSON, GeoPackage, zipped Shapefile) or draws on the map, checked and made one polygon.

The rules, the same for a file and a drawing:

- a file larger than ``alerts.max_area_file_mb`` is refused before it is read (a drawing: its JSON text);
- more than ``alerts.max_area_features`` features or ``alerts.max_area_vertices`` vertices is refused;
- the file's CRS is read from the file; a GeoJSON without one is WGS84 (the standard says so), a GeoPackage or
  Shapefile without one is refused (its coordinates could be anything);
- each feature that is empty, not an area (a point or a line) or invalid (shapely's reason, in plain words, with
  where it is) goes to the quarantine with the fix; nothing is silently repaired (``make_valid`` could turn a
  mistyped vertex into a different area);
- every feature bad is an error listing each one's reason; the union of the good ones larger than
  ``alerts.max_area_km2`` (measured on the ellipsoid) is an error giving both figures.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Geod

from mrumonitor.config import Settings
from mrumonitor.crs import WGS84
from mrumonitor.errors import AreaError, InputFileError, MissingCRSError
from mrumonitor.i18n import N_, _, number
from mrumonitor.layerio import open_vector

#: The name of an area drawn on the dashboard map.
DRAWN_NAME = N_("area drawn on the map")
#: File suffix -> the `layerio` format that reads it.
AREA_FORMATS = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".zip": "shapefile"}
#: How many features a message lists before it counts the rest.
_LISTED = 10
_REPAIR = N_("repair it, e.g. QGIS Vector > Geometry tools > Fix geometries, and upload the file again")
#: shapely's validity reasons (GEOS) in plain words (translated where the messages are made: English in the CLI,
#: the user's language on the dashboard).
_PLAIN_REASONS = {
    "Self-intersection": N_("the outline crosses itself"),
    "Ring Self-intersection": N_("the outline touches itself"),
    "Hole lies outside shell": N_("a hole lies outside the outline"),
    "Nested shells": N_("one outline lies inside another of the same feature"),
    "Interior is disconnected": N_("a hole cuts the area in two"),
    "Nested holes": N_("a hole lies inside another hole"),
    "Duplicate Rings": N_("a ring is repeated"),
    "Too few points": N_("a ring has too few points"),
    "Invalid Coordinate": N_("a coordinate is not a number"),
    "Ring is not closed": N_("a ring is not closed"),
}
_REASON = re.compile(r"^(?P<what>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")


@dataclass(frozen=True)
class AreaUpload:
    """An uploaded or drawn area, checked.

    Attributes
    ----------
    geometry : shapely.Geometry
        A valid (Multi)Polygon in WGS84: the union of the usable features.
    name : str
        The file's name, or "area drawn on the map".
    features : int
        Features read.
    quarantine : DataFrame
        One row per feature left out: feature (1-based number), reason, fix.
    area_km2 : float
        The area of `geometry` on the WGS84 ellipsoid.
    """

    geometry: shapely.Geometry
    name: str
    features: int
    quarantine: pd.DataFrame
    area_km2: float


def read_area_file(path: Path, settings: Settings) -> AreaUpload:
    """Read and check the area file `path` (.geojson/.json, .gpkg, or a .zip holding one Shapefile).

    Raises
    ------
    AreaError
        Another kind of file, a file too large, too many features or vertices, no CRS (GeoPackage, Shapefile),
        a GeoPackage without a polygon layer, no usable feature (each one's reason listed), or an area too large.
    InputFileError
        The file cannot be read (missing, damaged, an unsafe zip, a Shapefile missing a part).
    """
    return _read(Path(path), settings, Path(path).name)


def read_area_bytes(content: bytes, filename: str, settings: Settings) -> AreaUpload:
    """Check an uploaded file's `content`: written into a private temporary folder under a name made here (only
    the suffix of `filename` is kept) and read like `read_area_file`; the area is named `filename`."""
    suffix = Path(filename).suffix.lower()
    _require_format(filename, suffix)
    _require_size(filename, len(content), settings)
    with tempfile.TemporaryDirectory(prefix="mrumonitor-area-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        return _read(path, settings, Path(filename).name)


def area_from_geojson(data: dict | str, settings: Settings, name: str = DRAWN_NAME) -> AreaUpload:
    """Check a drawn area: a GeoJSON FeatureCollection (what the map's drawing control gives), Feature or bare
    geometry in WGS84, as an object or its JSON text (whose size counts against ``alerts.max_area_file_mb``)."""
    text = data if isinstance(data, str) else json.dumps(data)
    _require_size(name, len(text.encode("utf-8")), settings)
    try:
        parsed = json.loads(text)
        items = _geojson_geometries(parsed)
        geometry = [None if item is None else shapely.from_geojson(json.dumps(item)) for item in items]
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
        raise AreaError(_("%(name)s: not a GeoJSON area (%(why)s). Draw the area again, or upload it as a file.",
                          name=name, why=exc)) from None
    return _checked(gpd.GeoSeries(geometry, crs=WGS84), name, settings)


def _read(path: Path, settings: Settings, name: str) -> AreaUpload:
    suffix = path.suffix.lower()
    _require_format(name, suffix)
    if not path.is_file():
        raise InputFileError(path, "file not found.", "give the path of the area file.")
    _require_size(name, path.stat().st_size, settings)
    fmt = AREA_FORMATS[suffix]
    layer, note = _polygon_layer(path, name) if fmt == "gpkg" else (None, "")
    try:
        stream = open_vector(path, fmt, "area file", layer=layer)
    except MissingCRSError:
        raise AreaError(_("%(name)s: the file does not say which coordinate reference system its coordinates are "
                          "in. Save it again with its CRS (a Shapefile needs its .prj inside the zip), or as GeoJSON "
                          "in longitude/latitude.", name=name)) from None
    _require_count(name, stream.total, settings)
    frames = list(stream.batches(max(stream.total, 1)))
    geometry = gpd.GeoSeries(pd.concat([f.geometry for f in frames], ignore_index=True) if frames else [],
                             crs=stream.crs)
    return _checked(geometry.to_crs(WGS84), name + note, settings)


def _checked(geometry: gpd.GeoSeries, name: str, settings: Settings) -> AreaUpload:
    """The checks of the module docstring on `geometry` (WGS84, one entry per feature, None for no geometry)."""
    limits = settings.alerts
    _require_count(name, len(geometry), settings)
    if not len(geometry):
        raise AreaError(_("%(name)s: holds no feature at all. Upload a file with the area's polygon.", name=name))
    vertices = int(shapely.get_num_coordinates(geometry.to_numpy()).sum())
    if vertices > limits.max_area_vertices:
        raise AreaError(_("%(name)s: %(vertices)s vertices, more than the %(limit)s allowed (alerts.max_area_vertices). "
                          "Simplify the outline, e.g. QGIS Vector > Geometry tools > Simplify, with a tolerance of "
                          "10-50 m.", name=name, vertices=number(vertices), limit=number(limits.max_area_vertices)))
    quarantine = _quarantine(geometry.to_numpy())
    good = geometry[~np.isin(np.arange(1, len(geometry) + 1), quarantine["feature"])]
    if good.empty:
        listed = "; ".join(_("feature %(number)s: %(reason)s", number=row.feature, reason=row.reason)
                           for row in quarantine.head(_LISTED).itertuples())
        if len(quarantine) > _LISTED:
            listed += "; " + _("and %(more)s more", more=number(len(quarantine) - _LISTED))
        raise AreaError(_("%(name)s: no feature is a usable area (%(listed)s). Fix: %(fix)s.", name=name,
                          listed=listed, fix="; ".join(dict.fromkeys(quarantine["fix"]))))
    union = shapely.union_all(good.to_numpy())
    area_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(union)[0]) / 1e6
    if area_km2 > limits.max_area_km2:
        raise AreaError(_("%(name)s: the area covers %(km2)s km², more than the %(limit)s km² allowed "
                          "(alerts.max_area_km2). Watch a smaller area (a district, a concession), or several.",
                          name=name, km2=number(area_km2), limit=number(limits.max_area_km2)))
    return AreaUpload(union, name, len(geometry), quarantine, area_km2)


def _quarantine(geometry: np.ndarray) -> pd.DataFrame:
    """Features that are no usable area, with why and the fix (vectorised tests, a message per bad one)."""
    missing = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    area = np.isin(shapely.get_type_id(geometry), (3, 6))  # Polygon, MultiPolygon
    invalid = area & ~missing & ~shapely.is_valid(geometry)
    rows = [(i + 1, _("empty geometry"), _("draw the area or delete the empty feature"))
            for i in np.flatnonzero(missing)]
    rows += [(i + 1, _("not an area (a %(type)s)", type=geometry[i].geom_type),
              _("buffer it in your GIS to make an area, or delete it")) for i in np.flatnonzero(~missing & ~area)]
    rows += [(i + 1, _plain_reason(geometry[i]), _(_REPAIR)) for i in np.flatnonzero(invalid)]
    return pd.DataFrame(sorted(rows), columns=["feature", "reason", "fix"]).astype(
        {"feature": "int64", "reason": "string", "fix": "string"})


def _plain_reason(geometry: shapely.Geometry) -> str:
    """shapely's validity reason in plain words, with where (lon, lat): "the outline crosses itself at ..."."""
    reason = shapely.is_valid_reason(geometry)
    match = _REASON.match(reason)
    if not match:
        return _("invalid outline (%(reason)s)", reason=reason)
    plain = _PLAIN_REASONS.get(match["what"].strip())
    what = _(plain) if plain else _("invalid outline (%(reason)s)", reason=match["what"].strip())
    lon, lat = (f"{float(match[axis]):.5f}" for axis in ("x", "y"))
    return _("%(what)s at %(lon)s, %(lat)s (lon, lat)", what=what, lon=lon, lat=lat)


def _geojson_geometries(parsed: dict) -> list[dict | None]:
    """The geometry objects of a GeoJSON FeatureCollection, Feature or bare geometry, in order."""
    kind = parsed.get("type")
    if kind == "FeatureCollection":
        return [feature.get("geometry") for feature in parsed.get("features") or []]
    if kind == "Feature":
        return [parsed.get("geometry")]
    return [parsed]


def _polygon_layer(path: Path, name: str) -> tuple[str, str]:
    """The first layer of a GeoPackage that holds polygons, and a note naming it when the file has several."""
    try:
        layers = pyogrio.list_layers(path)
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise InputFileError(path, f"cannot be opened as a GeoPackage ({exc}).",
                             "export the area again as a GeoPackage.") from None
    polygons = [str(layer) for layer, kind in layers if kind and "POLYGON" in str(kind).upper()]
    if not polygons:
        found = ", ".join(f"{layer} ({kind or 'no geometry'})" for layer, kind in layers) or "none"
        raise AreaError(_("%(name)s: no layer holds polygons (its layers: %(found)s). Save the area to watch as a "
                          "polygon layer.", name=name, found=found))
    return polygons[0], f", layer {polygons[0]!r} of {len(layers)}" if len(layers) > 1 else ""


def _require_format(name: str, suffix: str) -> None:
    if suffix not in AREA_FORMATS:
        raise AreaError(_("%(name)s: not an area file this reads (%(suffix)s). Upload a GeoJSON (.geojson or .json), "
                          "a GeoPackage (.gpkg) or a zipped Shapefile (.zip).", name=name,
                          suffix=suffix or _("no suffix")))


def _require_size(name: str, size: int, settings: Settings) -> None:
    limit = settings.alerts.max_area_file_mb
    if size > limit * 1024 * 1024:
        allowed = f"{limit:g}"  # as configured (0.5, 20)
        raise AreaError(_("%(name)s: %(size)s MB, more than the %(limit)s MB allowed (alerts.max_area_file_mb). "
                          "Simplify the outline, or keep only the area to watch.", name=name,
                          size=number(size / 1024 / 1024, 1), limit=allowed))


def _require_count(name: str, count: int, settings: Settings) -> None:
    limit = settings.alerts.max_area_features
    if count > limit:
        raise AreaError(_("%(name)s: %(count)s features, more than the %(limit)s allowed (alerts.max_area_features). "
                          "Dissolve them into the area to watch, or split the file.", name=name, count=number(count),
                          limit=number(limit)))
