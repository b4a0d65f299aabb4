"""Site dossier (`/site/<site_id>`): position, area history, licences, nearest border and crossing, class
over time, a map, and a one-click HTML export. Site-level: a user who may not see the site's country gets a
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
    image = "data:image/svg+xml;base64," + base64.b64encode(dossier.svg.encode()).decode()
    licence_note = (html.P("Licences of this run are SYNTHETIC demo data: fictitious licences and holders.",
                           className="synthetic") if dossier.synthetic_licences else None)
    return html.Div(className="dossier", children=[
        page_header(view, f"{dossier.site_id} — run {dossier.run_id}"),
        html.A("Export this dossier (HTML with map)", href=dossier_export_url(dossier.run_id, dossier.site_id),
               id=EXPORT, className="button", download=f"dossier_{dossier.site_id}_{dossier.run_id}.html"),
        html.Div(className="grid-2-even", children=[
            html.Div(className="card", children=[
                html.H2("Site"), html.Dl([item for key, value in dossier.facts
                                          for item in (html.Dt(key), html.Dd(value))], id="dossier-facts")]),
            html.Div(className="card", children=[html.H2("Map"),
                                                 html.Img(src=image, className="site-map", alt="site map")])]),
        html.Div(className="card", children=[html.H2("Area and registration per period"),
                                             frame_table("dossier-history", dossier.history)]),
        html.Div(className="card", children=[html.H2("Registration class over time (area per class)"),
                                             frame_table("dossier-classes", dossier.classes)]),
        html.Div(className="card", children=[html.H2("Licences covering the site"), licence_note,
                                             frame_table("dossier-licences", dossier.licences)]),
    ])
