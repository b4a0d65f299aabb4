"""The files a field team takes out of a site dossier: GPX, KML and a printable A4 PDF, written from a `Dossier`
(see `mrumonitor.dashboard.dossier`, whose route serves them) with its field notes (`dossier_notes`), context
map (`dossier_map`) and image chips (`dossier_chips`), in the user's language; coordinates stay numbers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.dashboard.dossier_notes import coordinates
from mrumonitor.dashboard.dossier_words import ADMIN_AREA, COORDINATES, SYNTHETIC_LICENCES, shown_table
from mrumonitor.i18n import _, number
from mrumonitor.i18n.vocabulary import word

if TYPE_CHECKING:
    from mrumonitor.dashboard.dossier import Dossier


FIELD_FORMATS = {"gpx": "application/gpx+xml", "kml": "application/vnd.google-earth.kml+xml",
                 "pdf": "application/pdf"}


def site_description(dossier: Dossier) -> str:
    """One line for the site's waypoint: class, area, licence on record, nearest crossing."""
    notes = dossier.notes
    last = dossier.history.iloc[-1] if not dossier.history.empty else None
    area = "—" if last is None or pd.isna(last["area_ha"]) else _("%(area)s ha", area=number(last["area_ha"], 1))
    registration = "—" if last is None else word("registration", last["registration"])
    licences = ", ".join(f"{r.licence_id} ({r.holder}, {word('licence_status', r.status)})"
                         for r in dossier.licences.itertuples()) or _("none")
    if dossier.synthetic_licences and not dossier.licences.empty:
        licences += " " + _("[SYNTHETIC demo licences]")
    crossing = f"{notes.crossing.name}, {notes.crossing.words()}" if notes.crossing else _("none in the run")
    return _("Class %(registration)s (%(period)s); area %(area)s; licence on record: %(licences)s; nearest official "
             "crossing: %(crossing)s.", registration=registration, period=notes.latest_period, area=area,
             licences=licences, crossing=crossing)


def crossing_description(dossier: Dossier) -> str:
    """The description of the nearest official crossing's waypoint."""
    crossing = dossier.notes.crossing
    return _("Official border crossing %(post)s: %(where)s from %(site)s.", post=crossing.detail,
             where=crossing.words(), site=dossier.site_id)


def file_title(dossier: Dossier) -> str:
    return _("Site %(site)s — run %(run)s", site=dossier.site_id, run=dossier.run_id)


def footprint_name(dossier: Dossier) -> str:
    return _("%(site)s footprint %(period)s", site=dossier.site_id, period=dossier.notes.latest_period)


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
    gpx.name = file_title(dossier)
    gpx.description = DETECTIONS_CREDIT
    gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(latitude=round(notes.lat, 6), longitude=round(notes.lon, 6),
                                               name=dossier.site_id, description=site_description(dossier),
                                               symbol="Flag"))
    if notes.crossing is not None:
        c = notes.crossing
        gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(
            latitude=round(c.lat, 6), longitude=round(c.lon, 6), name=c.name, symbol="Crossing",
            description=crossing_description(dossier)))
    track = gpxpy.gpx.GPXTrack(name=footprint_name(dossier))
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
    kml = simplekml.Kml(name=file_title(dossier))
    site = kml.newpoint(name=dossier.site_id, coords=[(notes.lon, notes.lat)], description=site_description(dossier))
    site.style.iconstyle.color = simplekml.Color.red
    if notes.crossing is not None:
        c = notes.crossing
        kml.newpoint(name=c.name, coords=[(c.lon, c.lat)], description=crossing_description(dossier))
    rings = _outline(notes.footprint_wgs84)
    polygon = kml.newpolygon(name=footprint_name(dossier), outerboundaryis=rings[0],
                             innerboundaryis=rings[1:], description=f"{site_description(dossier)} {DETECTIONS_CREDIT}")
    polygon.style.polystyle.color = simplekml.Color.changealphaint(110, simplekml.Color.red)
    return kml.kml()


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def dossier_pdf(dossier: Dossier) -> bytes:
    """The printable A4 dossier in the user's language (DejaVu Sans, so accents print): position, facts, the image
    chips of the run's first and last periods, licences, access notes, context map, caveats and the detections'
    credit."""
    from fpdf import FPDF

    notes = dossier.notes
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("DejaVu", "", str(_font_dir() / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(_font_dir() / "DejaVuSans-Bold.ttf"))
    title = _("Site dossier %(site)s", site=dossier.site_id)
    pdf.set_title(title)
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
            line(_("None."))
            return
        rows = shown_table(frame)
        with pdf.table(text_align="LEFT", line_height=5, first_row_as_headings=True) as grid:
            grid.row(list(rows.columns))
            for values in rows.itertuples(index=False):
                grid.row(list(values))

    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(width, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(width, 6, _("Run %(run)s", run=dossier.run_id), new_x="LMARGIN", new_y="NEXT")
    decimal, sexagesimal = coordinates(notes)
    heading(_("Position"))
    line(_("Coordinates (WGS84): %(where)s", where=decimal))
    line(_("Coordinates (DMS): %(where)s", where=sexagesimal))
    line(_("Admin area: %(area)s (from %(source)s)", area=notes.admin_area, source=notes.admin_source))
    heading(_("Site"))
    for key, value in dossier.facts:
        if key not in (_(COORDINATES), _(ADMIN_AREA)):
            line(f"{key}: {value}")
    heading(_("Image chips, first and last period"))
    _chips(pdf, [dossier.chips[0], dossier.chips[-1]], width)
    heading(_("Area and class per period"))
    table(dossier.history.reindex(columns=["period", "area_ha", "registration", "licence_id"]))
    heading(_("Licences on record"))
    if dossier.synthetic_licences:
        line(_(SYNTHETIC_LICENCES), bold=True)
    table(dossier.licences.reindex(columns=["licence_id", "holder", "licence_type", "status", "expires"]))
    heading(_("Access notes"))
    for label, target in ((_("Nearest border"), notes.border), (_("Nearest official crossing"), notes.crossing),
                          (_("Nearest town"), notes.town)):
        if target is None:
            line(_("%(label)s: none in the run's reference layers.", label=label))
        else:
            name = target.name + (f" — {target.detail}" if target.detail and target is not notes.border else "")
            line(_("%(label)s: %(name)s, %(where)s from the site's waypoint.", label=label, name=name,
                   where=target.words()))
    line(_("Distances are straight lines, not road distances; bearings are true bearings from the site."))
    heading(_("Context map"))
    pdf.image(io.BytesIO(dossier.context.png(dossier.site_id)), w=min(width, 150))
    heading(_("Caveats"))
    for caveat in dossier.caveats:
        line(f"• {caveat}")
    pdf.ln(2)
    line(DETECTIONS_CREDIT, bold=True)
    if notes.town is not None:
        from mrumonitor.reference.places import PLACES_CREDIT

        line(PLACES_CREDIT)
    return bytes(pdf.output())


def _chips(pdf, chips: list, width: float) -> None:
    """Two chips side by side (70 mm each), each with its period and source under it."""
    side, gap = 70.0, 8.0
    top, left = pdf.get_y(), pdf.l_margin
    if top + side + 20 > pdf.page_break_trigger:
        pdf.add_page()
        top = pdf.get_y()
    for i, chip in enumerate(chips):
        x = left + i * (side + gap)
        pdf.image(io.BytesIO(chip.png()), x=x, y=top, w=side, h=side)
        pdf.set_xy(x, top + side + 1)
        pdf.set_font("DejaVu", "B", 9)
        pdf.cell(side, 5, chip.period, new_x="LEFT", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(side, 4, f"{chip.label()}; " + _("area %(area)s ha", area=number(chip.area_ha, 1)),
                       new_x="LEFT", new_y="NEXT")
    pdf.set_xy(left, top + side + 20)
