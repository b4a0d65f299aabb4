"""The one way into CRS handling: every reader and every config value goes through `norm_crs`."""

from __future__ import annotations

from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError

from mrumonitor.errors import ConfigError

#: CRS of every exchange format (GeoJSON per RFC 7946, CSV lon/lat, the dashboard).
WGS84 = CRS.from_epsg(4326)


def norm_crs(value: Any, what: str) -> CRS:
    """Return `value` as a `pyproj.CRS`, or raise `ConfigError` naming `what` and the fix.

    Accepts anything pyproj accepts ("EPSG:32629", a WKT or PROJ string, an int EPSG code, a CRS).
    `None` and empty strings are refused: a layer without a CRS is never guessed.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ConfigError(f"{what}: no CRS given. Set it to an EPSG code such as 'EPSG:32629' or a WKT string.")
    if isinstance(value, CRS):
        return value
    try:
        return CRS.from_user_input(value)
    except CRSError as exc:
        raise ConfigError(
            f"{what}: {value!r} is not a CRS pyproj understands ({exc}). "
            "Use an EPSG code such as 'EPSG:32629', a PROJ string or a WKT string."
        ) from exc


def require_projected(crs: CRS, what: str) -> CRS:
    """Refuse a geographic CRS where areas and distances are measured."""
    if not crs.is_projected:
        raise ConfigError(
            f"{what}: {crs.name} is geographic (degrees); areas and distances must be measured in a projected "
            "CRS in metres, such as the regional Albers equal-area CRS of configs/default.toml."
        )
    return crs
