"""The coordinate reference systems the OGC API offers (Part 2: ``crs``, ``bbox-crs``, ``Content-Crs``).

Features are held in WGS84 longitude/latitude (CRS84, the GeoJSON default) and sent in it unless ``crs`` asks
for one of the others a run offers: EPSG:4326 (the same datum, in its own axis order: latitude first) and the
run's analysis CRS when it has an EPSG code (a custom projection has none, and is then not offered). Each is
named by its OGC URI; ``EPSG:4326``, ``[EPSG:4326]`` and ``OGC:CRS84`` are taken too. Coordinates go out in the
axis order of the CRS's authority (PROJ's, without ``always_xy``), as Part 2 asks.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer

from mrumonitor.errors import UnknownOption

#: WGS84 longitude/latitude: the default of every answer and of ``bbox``.
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: The OGC URI of an EPSG code.
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
#: WGS84 latitude/longitude.
EPSG_4326 = EPSG_URI.format(code=4326)

_SHORT = re.compile(r"^\[?(EPSG|OGC):([0-9A-Za-z.]+)\]?$", re.IGNORECASE)
_URI = re.compile(r"^https?://www\.opengis\.net/def/crs/(EPSG|OGC)/[0-9.]+/([0-9A-Za-z.]+)$", re.IGNORECASE)


def offered_crs(analysis_crs: CRS | None) -> list[str]:
    """The URIs of the CRSs a run's features may be asked in: CRS84, EPSG:4326, and the run's analysis CRS
    when it has an EPSG code."""
    code = analysis_crs.to_epsg() if analysis_crs is not None else None
    return list(dict.fromkeys([CRS84, EPSG_4326] + ([EPSG_URI.format(code=code)] if code else [])))


def crs_uri(text: str, offered: list[str], parameter: str) -> str:
    """The URI of `offered` that `text` (a URI, ``AUTH:CODE`` or ``[AUTH:CODE]``) names.

    Raises
    ------
    UnknownOption
        `text` names no CRS of `offered` (the message lists them).
    """
    match = _URI.match(text) or _SHORT.match(text)
    if match:
        authority, code = match.group(1).upper(), match.group(2).upper()
        uri = CRS84 if (authority, code) == ("OGC", "CRS84") else EPSG_URI.format(code=code) if authority == "EPSG" \
            else None
        if uri in offered:
            return uri
    raise UnknownOption(f"{parameter}={text[:120]!r} is not a CRS this collection offers; use one of: "
                        f"{', '.join(offered)}.")


@lru_cache(maxsize=16)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(CRS(_pyproj_name(source)), CRS(_pyproj_name(target)))


def _pyproj_name(uri: str) -> str:
    return "OGC:CRS84" if uri == CRS84 else "EPSG:" + uri.rsplit("/", 1)[1]


def to_crs(geoms: np.ndarray, uri: str) -> np.ndarray:
    """`geoms` (CRS84) in the CRS of `uri`, axes in its authority's order."""
    if uri == CRS84 or len(geoms) == 0:
        return geoms
    transformer = _transformer(CRS84, uri)
    return shapely.transform(geoms, lambda coords: np.column_stack(transformer.transform(coords[:, 0],
                                                                                          coords[:, 1])))


def bbox_to_crs84(bbox: tuple[float, float, float, float], uri: str) -> tuple[float, float, float, float]:
    """`bbox` (lower corner, then upper corner, axes in the order of `uri`'s CRS) as CRS84 (west, south, east,
    north), densified so that a projected box is covered whole."""
    if uri == CRS84:
        return bbox
    return tuple(_transformer(uri, CRS84).transform_bounds(*bbox, densify_pts=21))
