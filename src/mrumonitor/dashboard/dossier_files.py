"""A site dossier's field notes and the files a field team takes out: GPX, KML and a printable A4 PDF.

`field_notes` measures, for one site of a run, the nearest border line, the nearest official crossing and the
nearest town of the run's `places` layer (distance in the analysis CRS, bearing on the ellipsoid from the site's
representative point), and names the site's admin area: from the run's admin layers when it has them, else
"near <town>, <admin1>" from the nearest place, saying which. `ContextMap` draws those around the site, as SVG
for the page and as a PNG (matplotlib, Agg) for the PDF. `dossier_gpx`, `dossier_kml` and `dossier_pdf` write
the three files from a `Dossier` (see `mrumonitor.dashboard.dossier`, whose route serves them).
"""

from __future__ import annotations

import html as htmltext
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.ops

from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.crs import WGS84

if TYPE_CHECKING:
    from mrumonitor.dashboard.dossier import Dossier
    from mrumonitor.dashboard.run import RunData

#: Half-width of the context map around the site, at least (metres).
CONTEXT_MARGIN_M = 5000.0
#: Size of the context map (pixels, SVG; the PNG is drawn at the same aspect).
CONTEXT_SIZE = 600
#: The 16 compass points, from north clockwise.
COMPASS = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
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
        return COMPASS[round(self.bearing_deg / 22.5) % 16]

    def words(self) -> str:
        """'12.3 km ENE (bearing 68°)'."""
        return f"{self.distance_km:,.1f} km {self.direction} (bearing {self.bearing_deg:.0f}°)"


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
    border = _nearest(borders, point, lon, lat, crs, name=lambda row: f"{row['pair']} border",
                      on_line=True, detail=lambda row: str(row["pair"]))
    posts = data.reference.border_posts
    crossing = _nearest(posts[posts["kind"] == "official"], point, lon, lat, crs,
                        name=lambda row: str(row["name"]), detail=lambda row: str(row["post_id"]))
    town = _nearest(data.reference.places, point, lon, lat, crs, name=lambda row: str(row["name"]),
                    detail=lambda row: f"{row['admin1']}, {row['country']}")
    admin, source = _admin(data, site, town)
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
    """The admin area and where it comes from."""
    name = str(site.get("admin_area") or "")
    if name and data.reference.admin:
        level = next(iter(data.reference.admin))
        return name, f"the run's admin layer '{level}'"
    if town is not None:
        admin1 = town.detail.split(",")[0]
        return (f"near {town.name}, {admin1}",
                f"the nearest town of the run's places layer (GeoNames), {town.distance_km:,.1f} km away")
    return "—", "the run has no admin layer and no places layer"


def dms(value: float, positive: str, negative: str) -> str:
    """Degrees, minutes and seconds: dms(-11.5, 'E', 'W') -> '11°30′00.0″ W'."""
    hemisphere = positive if value >= 0 else negative
    seconds = round(abs(value) * 3600, 1)
    degrees, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{int(degrees)}°{int(minutes):02d}′{seconds:04.1f}″ {hemisphere}"


def coordinates(notes: FieldNotes) -> tuple[str, str]:
    """The site's position in decimal degrees and in DMS (WGS84)."""
    decimal = (f"{abs(notes.lat):.5f}° {'N' if notes.lat >= 0 else 'S'}, "
               f"{abs(notes.lon):.5f}° {'E' if notes.lon >= 0 else 'W'}")
    return decimal, f"{dms(notes.lat, 'N', 'S')}, {dms(notes.lon, 'E', 'W')}"


# --- the context map --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextMap:
    """The site with its nearest border, official crossing and town, in a square box of the analysis CRS."""

    notes: FieldNotes
    box: tuple[float, float, float, float]
    outlines: list[tuple[str, shapely.Geometry]]
    borders: list[shapely.Geometry]
    posts: list[tuple[str, shapely.Point]]
    places: list[tuple[str, shapely.Point]]

    @classmethod
    def build(cls, data: RunData, notes: FieldNotes) -> ContextMap:
        targets = [t.point for t in (notes.border, notes.crossing, notes.town) if t is not None]
        minx, miny, maxx, maxy = shapely.bounds(shapely.union_all([notes.footprint, *targets]))
        half = max(CONTEXT_MARGIN_M, 0.58 * (maxx - minx), 0.58 * (maxy - miny))
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        box = (cx - half, cy - half, cx + half, cy + half)
        area = shapely.box(*box)
        ref = data.reference

        def inside(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
            return layer[layer.intersects(area)]

        return cls(notes=notes, box=box,
                   outlines=[(str(r.iso3), shapely.intersection(r.geometry, area))
                             for r in inside(ref.boundaries).itertuples()],
                   borders=[shapely.intersection(g, area) for g in inside(ref.borders).geometry],
                   posts=[(str(r.name), r.geometry) for r in inside(ref.border_posts).itertuples()
                          if r.kind == "official"],
                   places=[(str(r.name), r.geometry) for r in inside(ref.places).itertuples()])

    def links(self) -> list[tuple[str, Target]]:
        """The labelled lines from the site: (kind, target)."""
        return [(kind, t) for kind, t in (("border", self.notes.border), ("crossing", self.notes.crossing),
                                         ("town", self.notes.town)) if t is not None]

    def svg(self, site_id: str) -> str:
        """The map as SVG (north up, scale bar exact: the analysis CRS is in metres)."""
        x0, _, x1, y1 = self.box
        scale = CONTEXT_SIZE / (x1 - x0)

        def xy(x: float, y: float) -> tuple[float, float]:
            return (x - x0) * scale, (y1 - y) * scale

        def path(geom) -> str:
            rings = []
            for part in _lines(geom):
                pts = [xy(px, py) for px, py in np.asarray(part.coords)]
                rings.append("M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in pts))
            return " ".join(rings)

        esc = htmltext.escape
        out = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CONTEXT_SIZE} {CONTEXT_SIZE}" '
                f'width="{CONTEXT_SIZE}" height="{CONTEXT_SIZE}" font-family="sans-serif" font-size="12">'),
               f'<rect width="{CONTEXT_SIZE}" height="{CONTEXT_SIZE}" fill="#eef1ec"/>']
        for iso3, geom in self.outlines:
            out.append(f'<path d="{path(geom.boundary)}" fill="none" stroke="#9aa5b1" stroke-width="1"/>')
            if not geom.is_empty:
                px, py = xy(*geom.representative_point().coords[0])
                out.append(f'<text x="{px:.1f}" y="{py:.1f}" fill="#7b8794" font-size="16">{esc(iso3)}</text>')
        for geom in self.borders:
            out.append(f'<path d="{path(geom)}" fill="none" stroke="#222" stroke-width="2.5" '
                       'stroke-dasharray="8 5"/>')
        for name, point in self.places:
            px, py = xy(point.x, point.y)
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="#52606d"/>'
                       f'<text x="{px + 5:.1f}" y="{py - 4:.1f}" fill="#52606d">{esc(name)}</text>')
        for name, point in self.posts:
            px, py = xy(point.x, point.y)
            out.append(f'<rect x="{px - 5:.1f}" y="{py - 5:.1f}" width="10" height="10" fill="#fff" stroke="#000" '
                       f'stroke-width="2"/><text x="{px + 8:.1f}" y="{py + 4:.1f}">{esc(name)}</text>')
        sx, sy = xy(self.notes.site_point.x, self.notes.site_point.y)
        for kind, target in self.links():
            tx, ty = xy(target.point.x, target.point.y)
            colour = {"border": "#b2182b", "crossing": "#2166ac", "town": "#52606d"}[kind]
            out.append(f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{tx:.1f}" y2="{ty:.1f}" stroke="{colour}" '
                       f'stroke-width="1.5" stroke-dasharray="5 3"/>'
                       f'<text x="{(sx + tx) / 2 + 6:.1f}" y="{(sy + ty) / 2:.1f}" fill="{colour}" '
                       f'font-weight="bold">{esc(target.name)}: {target.distance_km:,.1f} km</text>')
        out.append(f'<path d="{path(self.notes.footprint.boundary)}" fill="none" stroke="#d7301f" stroke-width="2"/>'
                   f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="6" fill="#d7301f" stroke="#fff" stroke-width="2"/>'
                   f'<text x="{sx + 9:.1f}" y="{sy + 16:.1f}" font-weight="bold">{esc(site_id)}</text>')
        bar_m = round_length((x1 - x0) / 4)
        out.append(f'<g transform="translate(16,{CONTEXT_SIZE - 20})"><rect width="{bar_m * scale:.1f}" height="5" '
                   f'fill="#222"/><text y="-4">{bar_m / 1000:g} km</text></g>'
                   f'<text x="{CONTEXT_SIZE - 16}" y="22" text-anchor="end" font-weight="bold">N ↑</text>'
                   f'<text x="16" y="22">{esc(site_id)}: nearest border, official crossing and town</text></svg>')
        return "".join(out)

    def png(self, site_id: str, dpi: int = 150) -> bytes:
        """The same map as a PNG (matplotlib, Agg), for the PDF."""
        from matplotlib.figure import Figure  # the Agg canvas: no display, no pyplot state

        fig = Figure(figsize=(6, 6), dpi=dpi)
        ax = fig.add_axes((0, 0, 1, 1))
        x0, y0, x1, y1 = self.box
        ax.set_xlim(x0, x1), ax.set_ylim(y0, y1), ax.set_aspect("equal"), ax.set_axis_off()
        ax.add_patch(_rectangle(self.box))
        for iso3, geom in self.outlines:
            for part in _lines(geom.boundary):
                ax.plot(*np.asarray(part.coords).T, color="#9aa5b1", lw=0.8)
        for geom in self.borders:
            for part in _lines(geom):
                ax.plot(*np.asarray(part.coords).T, color="#222", lw=2, ls=(0, (6, 4)))
        for name, point in self.places:
            ax.plot(point.x, point.y, "o", ms=3, color="#52606d")
            ax.annotate(name, (point.x, point.y), xytext=(4, 3), textcoords="offset points", fontsize=7,
                        color="#52606d")
        for name, point in self.posts:
            ax.plot(point.x, point.y, "s", ms=7, mfc="white", mec="black", mew=1.5)
            ax.annotate(name, (point.x, point.y), xytext=(6, -3), textcoords="offset points", fontsize=7)
        site = self.notes.site_point
        for kind, target in self.links():
            colour = {"border": "#b2182b", "crossing": "#2166ac", "town": "#52606d"}[kind]
            ax.plot([site.x, target.point.x], [site.y, target.point.y], color=colour, lw=1.2, ls="--")
            ax.annotate(f"{target.name}: {target.distance_km:,.1f} km",
                        ((site.x + target.point.x) / 2, (site.y + target.point.y) / 2), xytext=(5, 0),
                        textcoords="offset points", fontsize=8, color=colour, fontweight="bold")
        for part in _lines(self.notes.footprint.boundary):
            ax.plot(*np.asarray(part.coords).T, color="#d7301f", lw=1.5)
        ax.plot(site.x, site.y, "o", ms=8, color="#d7301f", mec="white", mew=1.5)
        ax.annotate(site_id, (site.x, site.y), xytext=(7, -12), textcoords="offset points", fontsize=9,
                    fontweight="bold")
        bar_m = round_length((x1 - x0) / 4)
        ax.plot([x0 + 0.03 * (x1 - x0), x0 + 0.03 * (x1 - x0) + bar_m], [y0 + 0.03 * (y1 - y0)] * 2, color="#222",
                lw=3)
        ax.annotate(f"{bar_m / 1000:g} km", (x0 + 0.03 * (x1 - x0), y0 + 0.045 * (y1 - y0)), fontsize=8)
        ax.annotate("N ↑", (0.95, 0.95), xycoords="axes fraction", ha="right", va="top", fontweight="bold")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        return buffer.getvalue()


def _lines(geom) -> list:
    """The line parts of `geom` (a line, a ring's boundary, or collections of them)."""
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type in ("LineString", "LinearRing"):
        return [geom]
    return [part for sub in getattr(geom, "geoms", []) for part in _lines(sub)]


def _rectangle(box):
    from matplotlib.patches import Rectangle

    return Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1], color="#eef1ec", zorder=0)


def round_length(metres: float) -> float:
    """A round length (1, 2 or 5 × 10^k m) not longer than `metres`."""
    power = 10 ** np.floor(np.log10(metres))
    return float(max(step * power for step in (1, 2, 5) if step * power <= metres))


# --- the files --------------------------------------------------------------------------------------------

#: The file formats of a dossier besides HTML: suffix -> MIME type.
FIELD_FORMATS = {"gpx": "application/gpx+xml", "kml": "application/vnd.google-earth.kml+xml",
                 "pdf": "application/pdf"}


def site_description(dossier: Dossier) -> str:
    """One line for the site's waypoint: class, area, licence on record, nearest crossing."""
    notes = dossier.notes
    last = dossier.history.iloc[-1] if not dossier.history.empty else None
    area = "—" if last is None or pd.isna(last["area_ha"]) else f"{float(last['area_ha']):,.1f} ha"
    registration = "—" if last is None else str(last["registration"]).replace("_", " ")
    licences = ", ".join(f"{r.licence_id} ({r.holder}, {r.status})" for r in dossier.licences.itertuples()) or "none"
    synthetic = " [SYNTHETIC demo licences]" if dossier.synthetic_licences and not dossier.licences.empty else ""
    crossing = f"{notes.crossing.name}, {notes.crossing.words()}" if notes.crossing else "none in the run"
    return (f"Class {registration} ({notes.latest_period}); area {area}; licence on record: {licences}{synthetic}; "
            f"nearest official crossing: {crossing}.")


def _outline(geom) -> list[list[tuple[float, float]]]:
    """The rings (exterior then holes) of the largest polygon of `geom`, as lon/lat lists."""
    polygons = list(getattr(geom, "geoms", [geom]))
    largest = max(polygons, key=lambda p: p.area)
    return [list(map(tuple, np.asarray(ring.coords)[:, :2]))
            for ring in (largest.exterior, *largest.interiors)]


def dossier_gpx(dossier: Dossier) -> str:
    """The site's waypoint, its nearest official crossing's, and its latest footprint as a closed track (WGS84)."""
    import gpxpy.gpx

    notes = dossier.notes
    gpx = gpxpy.gpx.GPX()
    gpx.name = f"Site {dossier.site_id} — run {dossier.run_id}"
    gpx.description = DETECTIONS_CREDIT
    gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(latitude=round(notes.lat, 6), longitude=round(notes.lon, 6),
                                               name=dossier.site_id, description=site_description(dossier),
                                               symbol="Flag"))
    if notes.crossing is not None:
        c = notes.crossing
        gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(
            latitude=round(c.lat, 6), longitude=round(c.lon, 6), name=c.name, symbol="Crossing",
            description=f"Official border crossing {c.detail}: {c.words()} from {dossier.site_id}."))
    track = gpxpy.gpx.GPXTrack(name=f"{dossier.site_id} footprint {notes.latest_period}")
    segment = gpxpy.gpx.GPXTrackSegment()
    segment.points = [gpxpy.gpx.GPXTrackPoint(latitude=round(lat, 6), longitude=round(lon, 6))
                      for lon, lat in _outline(notes.footprint_wgs84)[0]]
    track.segments.append(segment)
    gpx.tracks.append(track)
    return gpx.to_xml()


def dossier_kml(dossier: Dossier) -> str:
    """The same points as the GPX, and the latest footprint as a polygon, with descriptions."""
    import simplekml

    notes = dossier.notes
    kml = simplekml.Kml(name=f"Site {dossier.site_id} — run {dossier.run_id}")
    site = kml.newpoint(name=dossier.site_id, coords=[(notes.lon, notes.lat)], description=site_description(dossier))
    site.style.iconstyle.color = simplekml.Color.red
    if notes.crossing is not None:
        c = notes.crossing
        kml.newpoint(name=c.name, coords=[(c.lon, c.lat)],
                     description=f"Official border crossing {c.detail}: {c.words()} from {dossier.site_id}.")
    rings = _outline(notes.footprint_wgs84)
    polygon = kml.newpolygon(name=f"{dossier.site_id} footprint {notes.latest_period}", outerboundaryis=rings[0],
                             innerboundaryis=rings[1:], description=f"{site_description(dossier)} {DETECTIONS_CREDIT}")
    polygon.style.polystyle.color = simplekml.Color.changealphaint(110, simplekml.Color.red)
    return kml.kml()


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def dossier_pdf(dossier: Dossier) -> bytes:
    """The printable A4 dossier (DejaVu Sans, so accents print): facts, licences, access notes, context map,
    caveats and the detections' credit."""
    from fpdf import FPDF

    notes = dossier.notes
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("DejaVu", "", str(_font_dir() / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(_font_dir() / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"Site dossier {dossier.site_id}")
    pdf.add_page()
    width = pdf.epw

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", 12)
        pdf.cell(width, 7, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)

    def line(text: str, bold: bool = False) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", 9)
        pdf.multi_cell(width, 5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)

    def table(frame: pd.DataFrame) -> None:
        if frame.empty:
            line("None.")
            return
        rows = frame.astype(object).where(frame.notna(), "")
        with pdf.table(text_align="LEFT", line_height=5, first_row_as_headings=True) as grid:
            grid.row([str(c).replace("_", " ") for c in rows.columns])
            for values in rows.itertuples(index=False):
                grid.row([_cell(v) for v in values])

    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(width, 10, f"Site dossier {dossier.site_id}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(width, 6, f"Run {dossier.run_id}", new_x="LMARGIN", new_y="NEXT")
    decimal, sexagesimal = coordinates(notes)
    heading("Position")
    line(f"Coordinates (WGS84): {decimal}")
    line(f"Coordinates (DMS): {sexagesimal}")
    line(f"Admin area: {notes.admin_area} (from {notes.admin_source})")
    heading("Site")
    for key, value in dossier.facts:
        if key not in ("Coordinates (WGS84)", "Admin area"):
            line(f"{key}: {value}")
    heading("Area and class per period")
    table(dossier.history.reindex(columns=["period", "area_ha", "registration", "licence_id"]))
    heading("Licences on record")
    if dossier.synthetic_licences:
        line("Licences of this run are SYNTHETIC demo data: fictitious licences and holders.", bold=True)
    table(dossier.licences.reindex(columns=["licence_id", "holder", "licence_type", "status", "expires"]))
    heading("Access notes")
    for label, target in (("Nearest border", notes.border), ("Nearest official crossing", notes.crossing),
                          ("Nearest town", notes.town)):
        if target is None:
            line(f"{label}: none in the run's reference layers.")
        else:
            extra = f" — {target.detail}" if target.detail and label != "Nearest border" else ""
            line(f"{label}: {target.name}{extra}, {target.words()} from the site's waypoint.")
    line("Distances are straight lines, not road distances; bearings are true bearings from the site.")
    heading("Context map")
    pdf.image(io.BytesIO(dossier.context.png(dossier.site_id)), w=min(width, 150))
    heading("Caveats")
    for caveat in dossier.caveats:
        line(f"• {caveat}")
    pdf.ln(2)
    line(DETECTIONS_CREDIT, bold=True)
    if notes.town is not None:
        from mrumonitor.reference.places import PLACES_CREDIT

        line(PLACES_CREDIT)
    return bytes(pdf.output())


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value).replace("_", " ")
