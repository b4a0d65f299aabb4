"""The site dossier: everything the run knows about one site, on its page and as a one-file HTML export.

`site_dossier` gathers, for one site of a run: its position, its area and registration class in each
period, the licences that cover it (holder, type, validity — the demo's are SYNTHETIC and said so), the
nearest border, official crossing and town with distance and bearing, its admin area, and two maps drawn
here as inline SVG in the analysis CRS (metres, so the scale bar is exact): the footprints over the periods,
licences, borders and posts around it, and a wider context map with the nearest border, crossing and town
(`dossier_notes` measures them, `dossier_map` draws them). The route `/dossier/<run_id>/<site_id>.<ext>` sends
the same content as a standalone HTML file (`.html`), or the field team's files (`dossier_files`): `.gpx`,
`.kml` and a printable A4 `.pdf`; `/dossier/<run_id>/<site_id>/chip/<period>.png` a period's image chip
(`dossier_chips`). Everything is written in the user's language (`mrumonitor.i18n`); tables keep canonical
columns and codes until shown (`dossier_words`).

Access: a user who may not see the site's countries gets AccessDenied (the route answers 403).
"""

from __future__ import annotations

import base64
import html as htmltext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
import numpy as np
import pandas as pd
import shapely

from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.dossier_chips import Chip, chip_of, site_chips
from mrumonitor.dashboard.dossier_files import FIELD_FORMATS, dossier_gpx, dossier_kml, dossier_pdf
from mrumonitor.dashboard.dossier_map import ContextMap, kilometres, north, round_length
from mrumonitor.dashboard.dossier_notes import FieldNotes, decimal_degrees, field_notes
from mrumonitor.dashboard.dossier_words import ADMIN_AREA, COORDINATES, SYNTHETIC_LICENCES, commodity_words, shown_table
from mrumonitor.dashboard.prepared import basis_words
from mrumonitor.dashboard.run import RunData, load_run
from mrumonitor.errors import UnknownAddress, UnknownSite
from mrumonitor.i18n import _, current_language, ngettext, number, percent
from mrumonitor.i18n.vocabulary import word
from mrumonitor.style import REGISTRATION_CSS, STATUS_CSS

#: Half-width of the dossier map around the site, at least (metres).
MAP_MARGIN_M = 1500.0
#: Size of the SVG map (pixels).
MAP_SIZE = 600


@dataclass(frozen=True)
class Dossier:
    """One site's dossier (see module doc). Tables are small frames of canonical columns and codes
    (`dossier_words.shown_table` shows them); `chips` holds one image chip per period of the run."""

    run_id: str
    site_id: str
    facts: list[tuple[str, str]]
    history: pd.DataFrame
    classes: pd.DataFrame
    licences: pd.DataFrame
    svg: str
    caveats: list[str]
    synthetic_licences: bool
    notes: FieldNotes
    context: ContextMap
    context_svg: str
    chips: list[Chip]

    def first_seen_and_latest(self) -> tuple[str, str]:
        """The periods the before/after view opens on: the first the site was seen in, and the latest."""
        seen = self.history["period"].astype(str).sort_values()
        return (seen.iloc[0], seen.iloc[-1]) if not seen.empty else (self.chips[0].period, self.chips[-1].period)


def site_row(data: RunData, site_id: str, access: Any) -> pd.Series:
    """The row of `site_id` in `data.sites`, when `access` may see it.

    Raises
    ------
    UnknownSite
        When the run has no such site.
    AccessDenied
        When `access` may not see the site's countries.
    """
    if site_id not in data.site_index:
        raise UnknownSite(_("run %(run)s has no site %(site)s.", run=data.run_id, site=repr(site_id)))
    site = data.sites.iloc[data.site_index.get_loc(site_id)]
    access.require_sites(str(site["countries"]))
    return site


def site_dossier(data: RunData, site_id: str, access: Any, imagery_cache: Path | None = None) -> Dossier:
    """The dossier of `site_id` in `data`, its chips read from `imagery_cache` where the run's imagery is kept
    (else from the activity rasters). Raises as `site_row`."""
    site = site_row(data, site_id, access)
    rows = data.site_periods[data.site_periods["site_id"] == site_id]
    pieces = data.pieces[data.pieces["site_id"] == site_id]
    history = rows.reindex(columns=["period", "area_ha", "registration", "licence_id", "in_border_zone",
                                    "dist_border_km", "nearest_post_name", "dist_post_km"]).reset_index(drop=True)
    classes = pd.DataFrame(pieces.groupby(["period", "registration"], as_index=False)
                           .agg(area_ha=("area_ha", "sum"), licences=("licence_id", _joined)))
    classes["area_ha"] = classes["area_ha"].round(2)
    ids = set(pieces["licence_id"].dropna().astype(str))
    licences = data.concessions[data.concessions["licence_id"].astype(str).isin(ids)][
        ["licence_id", "country", "holder", "licence_type", "commodity", "status", "granted", "expires"]]
    notes = field_notes(data, site, rows.index.to_numpy())
    context_map = ContextMap.build(data, notes)
    return Dossier(run_id=data.run_id, site_id=site_id, facts=_facts(data, site, notes), history=history,
                   classes=classes, licences=licences.reset_index(drop=True),
                   svg=site_map_svg(data, site_id, rows.index.to_numpy()), caveats=data.caveats,
                   synthetic_licences=data.synthetic_licences, notes=notes, context=context_map,
                   context_svg=context_map.svg(site_id), chips=site_chips(data, imagery_cache, site_id))


def area_change(before: Chip, after: Chip) -> str:
    """The change of the site's area from `before` to `after`, in ha and %, in the user's language."""
    change = after.area_ha - before.area_ha
    signed = ("+" if change > 0 else "") + number(change, 1)
    if before.area_ha > 0:
        return _("%(change)s ha (%(share)s) from %(before)s to %(after)s", change=signed,
                 share=("+" if change > 0 else "") + percent(change / before.area_ha),
                 before=before.period, after=after.period)
    return _("%(change)s ha from %(before)s to %(after)s (not seen in %(before)s)", change=signed,
             before=before.period, after=after.period)


def _joined(values: pd.Series) -> str:
    return ", ".join(sorted(set(values.dropna().astype(str))))


def _facts(data: RunData, site: pd.Series, notes: FieldNotes) -> list[tuple[str, str]]:
    post_name = (f"{site['nearest_post_name']} ({site['nearest_post_id']})" if pd.notna(site.get("nearest_post_name"))
                 else str(site["nearest_post_id"]))
    basis = basis_words(pd.Series([site.get("commodity_basis")]), pd.Series([site["commodity"]])).iloc[0]

    def num(value: Any, unit: str, digits: int = 1) -> str:
        return "—" if pd.isna(value) else f"{number(float(value), digits)} {unit}".strip()

    country = word("country", site["country"]) if str(site["country"]) else _("outside the four outlines")
    if site["transboundary"]:
        country = _("%(country)s — transboundary: %(countries)s", country=country, countries=site["countries"])
    border = (_("%(pair)s at %(distance)s", pair=site["border_pair"], distance=num(site["dist_border_km"], "km"))
              if pd.notna(site.get("dist_border_km")) else _target(notes.border))
    return [
        (_(COORDINATES), decimal_degrees(site["lon"], site["lat"])),
        (_("Country"), country),
        (_(ADMIN_AREA), _("%(area)s (from %(source)s)", area=notes.admin_area, source=notes.admin_source)),
        (_("Commodity"), commodity_words(site["commodity"]) + (f" — {_(basis)}" if basis else "")),
        (_("Seen"), ngettext("%(first)s to %(last)s (%(num)s period)", "%(first)s to %(last)s (%(num)s periods)",
                             int(site["periods_seen"]), first=site["first_seen"], last=site["last_seen"])),
        (_("Area, last period"), num(site["area_ha"], "ha")),
        (_("Registration, last period"), word("registration", site["registration"])),
        (_("Unregistered share"), "—" if pd.isna(site["unregistered_share"]) else percent(site["unregistered_share"])),
        (_("Nearest border"), border + (" " + _("(in the border zone)") if site["in_border_zone"] else "")),
        (_("Nearest official crossing"),
         _("%(post)s at %(distance)s", post=post_name, distance=num(site["dist_post_km"], "km"))
         if pd.notna(site.get("nearest_post_id")) else _target(notes.crossing)),
        (_("Nearest town"), _target(notes.town)),
        (_("Risk score (0-100)"), num(site["risk_score"], "", 1)),
    ]


def _target(target) -> str:
    if target is None:
        return "—"
    detail = f" ({target.detail})" if target.detail else ""
    return f"{target.name}{detail}: {target.words()}"


def site_map_svg(data: RunData, site_id: str, rows: np.ndarray) -> str:
    """An SVG map of the site: footprints per period (last filled by class), licences, borders, posts."""
    shapes = data.period_shapes[rows]
    minx, miny, maxx, maxy = shapely.bounds(shapely.union_all(shapes))
    half = max(MAP_MARGIN_M, (maxx - minx), (maxy - miny))
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    box = shapely.box(cx - half, cy - half, cx + half, cy + half)
    scale = MAP_SIZE / (2 * half)

    def path(geom) -> str:
        rings = []
        for poly in getattr(geom, "geoms", [geom]):
            parts = [poly.exterior, *poly.interiors] if poly.geom_type == "Polygon" else [poly]
            for part in parts:
                xy = np.asarray(part.coords)
                px, py = (xy[:, 0] - (cx - half)) * scale, ((cy + half) - xy[:, 1]) * scale
                rings.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py))
                             + ("Z" if poly.geom_type == "Polygon" else ""))
        return " ".join(rings)

    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_SIZE} {MAP_SIZE}" width="{MAP_SIZE}" '
            f'height="{MAP_SIZE}" font-family="sans-serif" font-size="12">'),
           f'<rect width="{MAP_SIZE}" height="{MAP_SIZE}" fill="#f4f6f2"/>']
    near = shapely.intersects(data.concession_shapes, box)
    for geom, status in zip(data.concession_shapes[near], data.concessions["status"].astype(str).to_numpy()[near]):
        out.append(f'<path d="{path(shapely.intersection(geom, box))}" fill="{STATUS_CSS.get(status, "#999")}" '
                   'fill-opacity="0.15" stroke="#555" stroke-dasharray="4 3" fill-rule="evenodd"/>')
    for geom in data.reference.borders.geometry[data.reference.borders.intersects(box)]:
        clipped = shapely.intersection(geom, box)
        for line in getattr(clipped, "geoms", [clipped]):
            if line.geom_type == "LineString" and not line.is_empty:
                out.append(f'<path d="{path(line)}" fill="none" stroke="#222" stroke-width="2.5" '
                           'stroke-dasharray="8 5"/>')
    registration = data.site_periods["registration"].astype(str).to_numpy()[rows]
    for i, (geom, cls) in enumerate(zip(shapes, registration)):
        last = i == len(shapes) - 1
        colour = REGISTRATION_CSS.get(cls, "#777")
        out.append(f'<path d="{path(geom)}" fill="{colour if last else "none"}" fill-opacity="0.55" '
                   f'stroke="{colour}" stroke-width="{2 if last else 1}" '
                   f'stroke-dasharray="{"none" if last else "3 2"}" fill-rule="evenodd"/>')
    for post in data.reference.border_posts[data.reference.border_posts.intersects(box)].itertuples():
        x, y = (post.geometry.x - (cx - half)) * scale, ((cy + half) - post.geometry.y) * scale
        out.append(f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="#fff" stroke="#000" '
                   f'stroke-width="2"/><text x="{x + 8:.1f}" y="{y + 4:.1f}">{htmltext.escape(post.name)}</text>')
    bar_m = round_length(half / 2)
    bar = bar_m * scale
    title = _("%(site)s: footprints per period (last filled)", site=site_id)
    out.append(f'<g transform="translate(16,{MAP_SIZE - 20})"><rect width="{bar:.1f}" height="5" fill="#222"/>'
               f'<text y="-4">{htmltext.escape(kilometres(bar_m))}</text></g>'
               f'<text x="{MAP_SIZE - 16}" y="22" text-anchor="end" font-weight="bold">{htmltext.escape(north())}</text>'
               f'<text x="16" y="22">{htmltext.escape(title)}</text></svg>')
    return "".join(out)


def dossier_html(dossier: Dossier) -> str:
    """The dossier as one standalone HTML file in the user's language (maps inline, chips as data URLs; no external
    request)."""
    esc = htmltext.escape
    facts = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in dossier.facts)
    licence_note = f'<p class="synthetic">{esc(_(SYNTHETIC_LICENCES))}</p>' if dossier.synthetic_licences else ""
    caveats = "".join(f"<li>{esc(c)}</li>" for c in dossier.caveats)
    chips = "".join(f'<figure><img src="data:image/png;base64,{base64.b64encode(chip.png()).decode()}" '
                    f'width="256" height="256" alt="{esc(chip.period)}"><figcaption><b>{esc(chip.period)}</b> — '
                    f"{esc(chip.label())}</figcaption></figure>" for chip in dossier.chips)
    title = esc(_("Site dossier %(site)s", site=dossier.site_id))
    run = esc(_("Run %(run)s", run=dossier.run_id))
    h2 = {key: f"<h2>{esc(text)}</h2>" for key, text in (
        ("map", _("Map")), ("context", _("Context: nearest border, official crossing and town")),
        ("chips", _("Image chips per period")), ("history", _("Area and registration per period")),
        ("classes", _("Registration class over time (area per class)")),
        ("licences", _("Licences covering the site")), ("caveats", _("Caveats")))}
    return f"""<!doctype html>
<html lang="{current_language()}"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:24px;color:#1f2933}}dl{{display:grid;grid-template-columns:max-content auto;
gap:4px 14px}}dt{{color:#5f6b7a}}dd{{margin:0}}table{{border-collapse:collapse;margin:6px 0 14px}}
td,th{{border:1px solid #d9dee4;padding:3px 8px;text-align:left}}.synthetic{{color:#b2182b;font-weight:bold}}
.caveats{{font-size:12px;color:#5f6b7a}}figure{{display:inline-block;width:256px;margin:0 12px 12px 0;
vertical-align:top;font-size:12px}}</style></head><body>
<h1>{title}</h1><p>{run}</p>
<dl>{facts}</dl>
{h2["map"]}{dossier.svg}
{h2["context"]}{dossier.context_svg}
{h2["chips"]}{chips}
{h2["history"]}{_html_table(dossier.history)}
{h2["classes"]}{_html_table(dossier.classes)}
{h2["licences"]}{licence_note}{_html_table(dossier.licences)}
<p><strong>{esc(DETECTIONS_CREDIT)}</strong></p>
{h2["caveats"]}<ul class="caveats">{caveats}</ul>
</body></html>
"""


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p>" + htmltext.escape(_("None.")) + "</p>"
    return shown_table(frame).to_html(index=False, border=0, escape=True)


def dossier_export_url(run_id: str, site_id: str, ext: str = "html") -> str:
    return f"/dossier/{run_id}/{site_id}.{ext}"


def chip_url(run_id: str, site_id: str, period: str) -> str:
    return f"/dossier/{run_id}/{site_id}/chip/{period}.png"


def install_dossier_route(app) -> None:
    """`GET /dossier/<run_id>/<site_id>.<ext>`: the dossier as HTML, GPX, KML or PDF; `GET
    /dossier/<run_id>/<site_id>/chip/<period>.png`: a period's image chip (403 for both when the role may not see
    the site)."""
    app.server.add_url_rule("/dossier/<run_id>/<filename>", "dossier_export", _export)
    app.server.add_url_rule("/dossier/<run_id>/<site_id>/chip/<filename>", "dossier_chip", _chip)


def _export(run_id: str, filename: str) -> flask.Response:
    access = current_access()
    site_id, dot, suffix = filename.rpartition(".")
    if not dot or suffix not in DOSSIER_FORMATS:
        raise UnknownAddress(_("Dossiers are .html, .gpx, .kml or .pdf files: ask for "
                               "/dossier/<run_id>/<site_id>.html (or .gpx, .kml, .pdf)."))
    data = load_run(context.settings(), run_id)
    dossier = site_dossier(data, site_id, access, context.settings().imagery_cache)
    writer, mimetype = DOSSIER_FORMATS[suffix]
    response = flask.Response(writer(dossier), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="dossier_{site_id}_{data.run_id}.{suffix}"'
    return response


def _chip(run_id: str, site_id: str, filename: str) -> flask.Response:
    """A period's chip, drawn once per run (kept in the run's store) for every user allowed to see the site."""
    access = current_access()
    period, dot, suffix = filename.rpartition(".")
    if not dot or suffix != "png":
        raise UnknownAddress(_("Image chips are PNG files: ask for /dossier/<run_id>/<site_id>/chip/<period>.png."))
    data = load_run(context.settings(), run_id)
    site_row(data, site_id, access)
    chip = chip_of(site_chips(data, context.settings().imagery_cache, site_id), period)
    response = flask.Response(data.results.get(("dossier-chip", site_id, period), chip.png), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


#: The dossier's files: suffix -> (writer, MIME type).
DOSSIER_FORMATS = {"html": (dossier_html, "text/html"),
                   **{ext: (writer, FIELD_FORMATS[ext]) for ext, writer in
                      (("gpx", dossier_gpx), ("kml", dossier_kml), ("pdf", dossier_pdf))}}
