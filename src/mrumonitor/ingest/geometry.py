"""Geometry checks for licence polygons: parse, type, repair, reproject, and "is it in its country?".

All vectorised with shapely 2 over the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from mrumonitor.polygons import as_multipolygons, finite_coordinates
from mrumonitor.schema import Reason

_POLYGON, _MULTIPOLYGON = 3, 6
#: Geometry type names indexed by shapely type id + 1 (-1 is a missing geometry).
_TYPE_NAMES = np.array(["missing", "point", "line", "ring", "polygon", "multipoint", "multiline",
                        "multipolygon", "geometry collection"])


@dataclass
class GeometryCheck:
    """Per record: the usable geometry (MultiPolygon in the analysis CRS), or the reason it is not usable."""

    geometry: np.ndarray
    reason: np.ndarray
    detail: np.ndarray
    repaired: np.ndarray


def check_geometries(geoms: gpd.GeoSeries, unparseable: np.ndarray, country: shapely.Geometry, iso3: str,
                     analysis_crs: CRS, tolerance_km: float,
                     unparseable_detail: str | np.ndarray = "the geometry text could not be parsed; fix the WKT "
                                                            "of this record in the source file") -> GeometryCheck:
    """Check licence geometries given in their source CRS against `country` (in the analysis CRS).

    `unparseable` marks records whose geometry text could not be read; `unparseable_detail` says why (one
    text, or one per record).
    """
    values = geoms.to_numpy()
    n = len(values)
    reason = np.full(n, "", dtype=object)  # "" while the record is still usable
    detail = np.full(n, None, dtype=object)

    def flag(mask: np.ndarray, code: Reason, text: str | np.ndarray) -> None:
        new = mask & (reason == "")
        reason[new] = code.value
        detail[new] = text[new] if isinstance(text, np.ndarray) else text

    flag(unparseable, Reason.UNPARSEABLE_GEOMETRY, unparseable_detail)
    flag(shapely.is_missing(values) | shapely.is_empty(values), Reason.EMPTY_GEOMETRY,
         "the record has no geometry; draw the licence boundary in the source file")
    type_id = shapely.get_type_id(values)
    polygonal = np.isin(type_id, (_POLYGON, _MULTIPOLYGON))
    flag(~polygonal, Reason.NOT_POLYGON,
         "the geometry is a " + _TYPE_NAMES[type_id + 1].astype(object)
         + ", not a polygon; a licence needs its boundary drawn as a polygon")

    flag(~finite_coordinates(values), Reason.INVALID_GEOMETRY,
         "a vertex has a coordinate that is not a number (NaN) or is infinite; it is not repaired, since dropping "
         "the vertex would change the licence's boundary: fix the vertex in the source file")

    usable = reason == ""
    invalid = usable & ~shapely.is_valid(values)
    fixed = values.copy()
    fixed[invalid] = shapely.make_valid(values[invalid], method="structure", keep_collapsed=False)
    fixed[usable] = as_multipolygons(fixed[usable])
    flag(usable & (shapely.is_missing(fixed) | shapely.is_empty(fixed)), Reason.INVALID_GEOMETRY,
         "the polygon is invalid and could not be repaired (it collapses to nothing); redraw it")

    usable = reason == ""
    projected = gpd.GeoSeries(fixed, crs=geoms.crs).to_crs(analysis_crs).to_numpy()
    distance_km = _km_outside(projected, country, usable)
    outside = usable & ~(distance_km <= tolerance_km)
    if outside.any():
        flag(outside, Reason.OUTSIDE_COUNTRY, _outside_detail(values, outside, distance_km, geoms.crs,
                                                              analysis_crs, country, iso3, tolerance_km))
    ok = reason == ""
    reason[ok] = None
    return GeometryCheck(geometry=np.where(ok, projected, None), reason=reason, detail=detail,
                         repaired=invalid & ok)


def _km_outside(projected: np.ndarray, country: shapely.Geometry, usable: np.ndarray) -> np.ndarray:
    """Distance in km from each geometry's interior point to the country (0 inside; NaN if unusable)."""
    distance = np.full(len(projected), np.nan)
    finite = usable.copy()
    finite[usable] = np.isfinite(shapely.bounds(projected[usable])).all(axis=1)
    shapely.prepare(country)
    distance[finite] = shapely.distance(shapely.point_on_surface(projected[finite]), country) / 1000.0
    return distance


def _outside_detail(values, outside, distance_km, source_crs, analysis_crs, country, iso3, tolerance_km):
    """Explain each out-of-country record, and say so when swapping x and y would put it in place."""
    swapped = gpd.GeoSeries(shapely.transform(values[outside], lambda xy: xy[:, ::-1]), crs=source_crs)
    swapped_km = _km_outside(swapped.to_crs(analysis_crs).to_numpy(), country, np.ones(outside.sum(), bool))
    detail = np.full(len(values), None, dtype=object)
    texts = []
    for km, swap_km in zip(distance_km[outside], swapped_km):
        where = "at coordinates that cannot exist" if np.isnan(km) else f"{km:,.0f} km outside {iso3}"
        if swap_km <= tolerance_km:
            texts.append(f"the licence lies {where}, but falls inside {iso3} with x and y swapped: the "
                         "coordinates are in the wrong order; fix the axis order in the source file")
        else:
            texts.append(f"the licence lies {where} (more than {tolerance_km:g} km): its coordinates are "
                         f"probably in another CRS than the file declares ({source_crs.to_string()}); "
                         "check the CRS of this record or of the file")
    detail[outside] = texts
    return detail
