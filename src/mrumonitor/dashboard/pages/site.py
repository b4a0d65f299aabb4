"""Site dossier (`/site/<site_id>`): position, admin area, area history, licences, nearest border, crossing and
town, class over time, a site map and a context map, and one-click files: HTML, GPX, KML and a printable PDF. Site-level: a user who may not see the site's country gets a
plain "not allowed"."""

from __future__ import annotations

import base64

import dash
from dash import html

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.components import frame_table, not_allowed, page_header
from mrumonitor.dashboard.dossier import Dossier, dossier_export_url, site_dossier
from mrumonitor.errors import AccessDenied, UnknownSite

dash.register_page(__name__, path_template="/site/<site_id>", name="Site dossier",
                   title="Site dossier — MRU mining monitor")

EXPORT = "dossier-export"
#: The field team's files beside the HTML export: id -> (suffix, link text).
FIELD_FILES = {"dossier-gpx": ("gpx", "GPX (GPS units)"), "dossier-kml": ("kml", "KML (Google Earth)"),
               "dossier-pdf": ("pdf", "Printable PDF (A4)")}


@context.page("site")
def layout(view, site_id: str | None = None, **_query):
    return dossier_view(view, site_id)


def dossier_view(view, site_id: str | None) -> html.Div:
    """The dossier page of `site_id` for the request's user (the run shown by the app)."""
    try:
        dossier = site_dossier(context.run_data(), site_id or "", current_access())
    except UnknownSite as exc:
        return html.Div([page_header(view), html.P(f"{exc} Open a site from the map or the site table.")])
    except AccessDenied as exc:
        return html.Div([page_header(view), not_allowed(str(exc))])
    return render(view, dossier)


def render(view, dossier: Dossier) -> html.Div:
    image, context_image = ("data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
                            for svg in (dossier.svg, dossier.context_svg))
    licence_note = (html.P("Licences of this run are SYNTHETIC demo data: fictitious licences and holders.",
                           className="synthetic") if dossier.synthetic_licences else None)
    return html.Div(className="dossier", children=[
        page_header(view, f"{dossier.site_id} — run {dossier.run_id}"),
        html.A("Export this dossier (HTML with map)", href=dossier_export_url(dossier.run_id, dossier.site_id),
               id=EXPORT, className="button", download=f"dossier_{dossier.site_id}_{dossier.run_id}.html"),
        *[html.A(text, href=dossier_export_url(dossier.run_id, dossier.site_id, ext), id=key, className="button",
                 download=f"dossier_{dossier.site_id}_{dossier.run_id}.{ext}") for key, (ext, text) in FIELD_FILES.items()],
        html.Div(className="grid-2-even", children=[
            html.Div(className="card", children=[
                html.H2("Site"), html.Dl([item for key, value in dossier.facts
                                          for item in (html.Dt(key), html.Dd(value))], id="dossier-facts")]),
            html.Div(className="card", children=[html.H2("Map"),
                                                 html.Img(src=image, className="site-map", alt="site map")])]),
        html.Div(className="card", children=[html.H2("Context: nearest border, official crossing and town"),
                                             html.Img(src=context_image, className="site-map", alt="context map")]),
        html.Div(className="card", children=[html.H2("Area and registration per period"),
                                             frame_table("dossier-history", dossier.history)]),
        html.Div(className="card", children=[html.H2("Registration class over time (area per class)"),
                                             frame_table("dossier-classes", dossier.classes)]),
        html.Div(className="card", children=[html.H2("Licences covering the site"), licence_note,
                                             frame_table("dossier-licences", dossier.licences)]),
    ])
