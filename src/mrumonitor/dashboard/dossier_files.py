"""The files a field team takes out of a site dossier: GPX, KML and a printable A4 PDF, written from a `Dossier`
(see `mrumonitor.dashboard.dossier`, whose route serves them) with its field notes (`dossier_notes`) and context
map (`dossier_map`)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.dashboard.dossier_notes import coordinates

if TYPE_CHECKING:
    from mrumonitor.dashboard.dossier import Dossier


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
