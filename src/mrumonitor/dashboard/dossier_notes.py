"""A site dossier's field notes: where the site is and what is near it.

`field_notes` measures, for one site of a run, the nearest border line, the nearest official crossing and the
nearest town of the run's `places` layer (distance in the analysis CRS, bearing on the ellipsoid from the site's
representative point), and names the site's admin area: from the run's admin layers when it has them, else
"near <town>, <admin1>" from the nearest place, saying which. `dossier_map.ContextMap` draws them;
`dossier_files` writes them into the GPX, KML and PDF a field team takes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.ops

from mrumonitor.crs import WGS84
from mrumonitor.i18n import N_, _, number
from mrumonitor.verification.fieldsheets import dms

if TYPE_CHECKING:
    from mrumonitor.dashboard.run import RunData

#: The 16 compass points, from north clockwise (French writes west "O").
COMPASS = (N_("N"), N_("NNE"), N_("NE"), N_("ENE"), N_("E"), N_("ESE"), N_("SE"), N_("SSE"), N_("S"), N_("SSW"),
           N_("SW"), N_("WSW"), N_("W"), N_("WNW"), N_("NW"), N_("NNW"))
_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass(frozen=True)
class Target:
    """Something near the site: its name, where it is (analysis CRS and WGS84) and how far, which way."""

    name: str
    point: shapely.Point
    lon: float
    lat: float
    distance_km: float
    bearing_deg: float
    detail: str = ""

    @property
    def direction(self) -> str:
        """The compass point towards the target, in the user's language."""
        return _(COMPASS[round(self.bearing_deg / 22.5) % 16])

    def words(self) -> str:
        """'12.3 km ENE (bearing 68°)', in the user's language."""
        return _("%(distance)s km %(direction)s (bearing %(bearing)s°)", distance=number(self.distance_km, 1),
                 direction=self.direction, bearing=number(self.bearing_deg))


@dataclass(frozen=True)
class FieldNotes:
    """Where a site is and what is near it (see module doc). Targets are None when the run has none."""

    lon: float
    lat: float
    site_point: shapely.Point
    footprint: shapely.Geometry  # the latest footprint, analysis CRS
    footprint_wgs84: shapely.Geometry
    latest_period: str
    border: Target | None
    crossing: Target | None
    town: Target | None
    admin_area: str
    admin_source: str


def field_notes(data: RunData, site: pd.Series, rows: np.ndarray) -> FieldNotes:
    """The field notes of `site` (a row of `data.sites`), whose footprints are `data.period_shapes[rows]`."""
    crs = data.reference.borders.crs
    periods = data.site_periods["period"].to_numpy()[rows]
    latest = int(np.argmax(periods.astype(str)))
    footprint = data.period_shapes[rows][latest]
    point = shapely.Point(footprint.representative_point())
    wgs = gpd.GeoSeries([point, footprint], crs=crs).to_crs(WGS84)
    lon, lat = wgs.iloc[0].x, wgs.iloc[0].y
    borders = data.reference.borders
    border = _nearest(borders, point, lon, lat, crs, name=lambda row: _("%(pair)s border", pair=row["pair"]),
                      on_line=True, detail=lambda row: str(row["pair"]))
    posts = data.reference.border_posts
    crossing = _nearest(posts[posts["kind"] == "official"], point, lon, lat, crs,
                        name=lambda row: str(row["name"]), detail=lambda row: str(row["post_id"]))
    places = data.reference.places
    town, home = (_nearest(frame, point, lon, lat, crs, name=lambda row: str(row["name"]),
                           detail=lambda row: f"{row['admin1']}, {row['country']}")
                  for frame in (places, places[places["country"] == site.get("country")]))
    admin, source = _admin(data, site, home)
    return FieldNotes(lon=float(lon), lat=float(lat), site_point=point, footprint=footprint,
                      footprint_wgs84=wgs.iloc[1], latest_period=str(periods[latest]), border=border,
                      crossing=crossing, town=town, admin_area=admin, admin_source=source)


def _nearest(layer: gpd.GeoDataFrame, point: shapely.Point, lon: float, lat: float, crs: Any, name, detail,
             on_line: bool = False) -> Target | None:
    if layer.empty:
        return None
    distances = shapely.distance(np.asarray(layer.geometry), point)
    row = layer.iloc[int(np.argmin(distances))]
    target = shapely.ops.nearest_points(row.geometry, point)[0] if on_line else row.geometry
    there = gpd.GeoSeries([target], crs=crs).to_crs(WGS84).iloc[0]
    bearing, _, _ = _GEOD.inv(lon, lat, there.x, there.y)
    return Target(name=name(row), point=target, lon=float(there.x), lat=float(there.y),
                  distance_km=float(distances.min()) / 1000, bearing_deg=float(bearing) % 360, detail=detail(row))


def _admin(data: RunData, site: pd.Series, town: Target | None) -> tuple[str, str]:
    """The admin area and where it comes from; `town`: the nearest place of the site's own country (a nearer one
    across the border would name the other country's province)."""
    name = str(site.get("admin_area") or "")
    if name and data.reference.admin:
        level = next(iter(data.reference.admin))
        return name, _("the run's admin layer '%(level)s'", level=level)
    if town is not None:
        admin1 = town.detail.split(",")[0]
        source = _("the nearest town of %(country)s in the run's places layer (GeoNames), %(distance)s km away",
                   country=site.get("country"), distance=number(town.distance_km, 1))
        return _("near %(town)s, %(admin1)s", town=town.name, admin1=admin1), source
    return "—", _("the run has no admin layer and no places layer")


def coordinates(notes: FieldNotes) -> tuple[str, str]:
    """The site's position in decimal degrees and in DMS (WGS84); hemispheres in the user's language, decimals with
    a point as GPS units take them."""
    north, south, east, west = _("N"), _("S"), _("E"), _("W")
    return decimal_degrees(notes.lon, notes.lat), f"{dms(notes.lat, north, south)}, {dms(notes.lon, east, west)}"


def decimal_degrees(lon: float, lat: float) -> str:
    """'8.50000° N, 11.10000° W' (hemispheres in the user's language)."""
    north_south = _("N") if lat >= 0 else _("S")
    east_west = _("E") if lon >= 0 else _("W")
    return f"{abs(lat):.5f}° {north_south}, {abs(lon):.5f}° {east_west}"
