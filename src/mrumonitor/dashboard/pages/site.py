"""Site dossier (`/site/<site_id>`): position, admin area, area history, licences, nearest border, crossing and
town, class over time, a site map and a context map, an image chip per period and a before/after view of two
chosen periods (area change in ha and %), and one-click files: HTML, GPX, KML and a printable PDF. Site-level: a
user who may not see the site's country gets a plain "not allowed", on the page and from its callback."""

from __future__ import annotations

import base64

import dash
from dash import Input, Output, State, dash_table, dcc, html

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.components import frame_table, not_allowed, page_header, page_title
from mrumonitor.dashboard.dossier import Dossier, area_change, chip_url, dossier_export_url, site_dossier, site_row
from mrumonitor.dashboard.dossier_chips import Chip, chip_of, site_chips
from mrumonitor.dashboard.dossier_words import DIGITS, HEADINGS, SYNTHETIC_LICENCES, worded
from mrumonitor.errors import AccessDenied, UnknownSite
from mrumonitor.i18n import N_, _, number

dash.register_page(__name__, path_template="/site/<site_id>", name="Site dossier", title=page_title("site"))

EXPORT = "dossier-export"
#: The field team's files beside the HTML export: id -> (suffix, link text).
FIELD_FILES = {"dossier-gpx": ("gpx", N_("GPX (GPS units)")), "dossier-kml": ("kml", N_("KML (Google Earth)")),
               "dossier-pdf": ("pdf", N_("Printable PDF (A4)"))}
CHIPS = "dossier-chips"
BEFORE, AFTER = "dossier-before", "dossier-after"
BEFORE_AFTER = "dossier-before-after"
SITE = "dossier-site"
#: Chips side by side, wrapping to one per row on a phone.
CHIP_ROW = {"display": "flex", "flexWrap": "wrap", "gap": "12px", "alignItems": "flex-start"}
CHIP_BOX = {"width": "256px", "maxWidth": "100%", "margin": "0", "fontSize": "13px"}


@context.page("site")
def layout(view, site_id: str | None = None, **_query):
    return dossier_view(view, site_id)


def dossier_view(view, site_id: str | None) -> html.Div:
    """The dossier page of `site_id` for the request's user (the run shown by the app)."""
    try:
        dossier = site_dossier(context.run_data(), site_id or "", current_access(), context.settings().imagery_cache)
    except UnknownSite as exc:
        return html.Div([page_header(view), html.P(_("%(problem)s Open a site from the map or the site table.",
                                                     problem=str(exc)))])
    except AccessDenied as exc:
        return html.Div([page_header(view), not_allowed(str(exc))])
    return render(view, dossier)


def render(view, dossier: Dossier) -> html.Div:
    image, context_image = ("data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
                            for svg in (dossier.svg, dossier.context_svg))
    licence_note = html.P(_(SYNTHETIC_LICENCES), className="synthetic") if dossier.synthetic_licences else None
    before, after = dossier.first_seen_and_latest()
    periods = [chip.period for chip in dossier.chips]
    return html.Div(className="dossier", children=[
        page_header(view, _("%(site)s — run %(run)s", site=dossier.site_id, run=dossier.run_id)),
        html.A(_("Export this dossier (HTML with map)"), href=dossier_export_url(dossier.run_id, dossier.site_id),
               id=EXPORT, className="button", download=f"dossier_{dossier.site_id}_{dossier.run_id}.html"),
        *[html.A(_(text), href=dossier_export_url(dossier.run_id, dossier.site_id, ext), id=key, className="button",
                 download=f"dossier_{dossier.site_id}_{dossier.run_id}.{ext}") for key, (ext, text) in FIELD_FILES.items()],
        html.Div(className="grid-2-even", children=[
            html.Div(className="card", children=[
                html.H2(_("Site")), html.Dl([item for key, value in dossier.facts
                                             for item in (html.Dt(key), html.Dd(value))], id="dossier-facts")]),
            html.Div(className="card", children=[html.H2(_("Map")),
                                                 html.Img(src=image, className="site-map", alt=_("site map"))])]),
        html.Div(className="card", children=[
            html.H2(_("Before and after")),
            html.P(_("Two periods side by side: the site's footprint of each outlined on the image of that period."),
                   className="page-note"),
            dcc.Store(id=SITE, data={"run": dossier.run_id, "site": dossier.site_id}),
            html.Div(className="filter-bar", children=[
                html.Div(className="filter", children=[html.Label(label, htmlFor=key), dcc.Dropdown(
                    id=key, options=periods, value=value, clearable=False)])
                for key, label, value in ((BEFORE, _("Before"), before), (AFTER, _("After"), after))]),
            html.Div(before_after(dossier.run_id, dossier.site_id, dossier.chips, before, after), id=BEFORE_AFTER)]),
        html.Div(className="card", children=[
            html.H2(_("Image chips per period")),
            html.Div(className="chips", id=CHIPS, style=CHIP_ROW,
                     children=[chip_figure(dossier.run_id, dossier.site_id, chip) for chip in dossier.chips])]),
        html.Div(className="card", children=[html.H2(_("Context: nearest border, official crossing and town")),
                                             html.Img(src=context_image, className="site-map", alt=_("context map"))]),
        html.Div(className="card", children=[html.H2(_("Area and registration per period")),
                                             table("dossier-history", dossier.history)]),
        html.Div(className="card", children=[html.H2(_("Registration class over time (area per class)")),
                                             table("dossier-classes", dossier.classes)]),
        html.Div(className="card", children=[html.H2(_("Licences covering the site")), licence_note,
                                             table("dossier-licences", dossier.licences)]),
    ])


def table(table_id: str, frame) -> dash_table.DataTable:
    return frame_table(table_id, worded(frame), headers=HEADINGS, digits=DIGITS)


def chip_figure(run_id: str, site_id: str, chip: Chip) -> html.Figure:
    """A period's chip with its period, source and area under it."""
    area = (_("site: %(area)s ha", area=number(chip.area_ha, 1)) if chip.footprint is not None
            else _("site not seen in this period"))
    return html.Figure(className="chip", style=CHIP_BOX, children=[
        html.Img(src=chip_url(run_id, site_id, chip.period), width=256, height=256,
                 alt=_("image chip of %(period)s", period=chip.period), className="chip-image",
                 style={"maxWidth": "100%", "height": "auto"}),
        html.Figcaption([html.Strong(chip.period), html.Br(), chip.label(), html.Br(), area])])


def before_after(run_id: str, site_id: str, chips: list[Chip], before: str, after: str) -> list:
    """The chips of `before` and `after` side by side, and the change of the site's area between them."""
    first, last = chip_of(chips, before), chip_of(chips, after)
    return [html.Div(className="chips", style=CHIP_ROW, children=[chip_figure(run_id, site_id, chip) for chip in (first, last)]),
            html.P(_("Change of the site's area: %(change)s", change=area_change(first, last)),
                   id=f"{BEFORE_AFTER}-change")]


@dash.callback(Output(BEFORE_AFTER, "children"), Input(BEFORE, "value"), Input(AFTER, "value"), State(SITE, "data"),
               prevent_initial_call=True)
def update_before_after(before: str, after: str, site: dict) -> list:
    """The before/after pair the user chose; the site's access is checked again (callbacks are reachable from
    any page)."""
    data = context.run_data(str(site["run"]))
    try:
        site_row(data, str(site["site"]), current_access())
    except (UnknownSite, AccessDenied) as exc:
        return [not_allowed(str(exc))]
    chips = site_chips(data, context.settings().imagery_cache, str(site["site"]))
    return before_after(data.run_id, str(site["site"]), chips, before, after)
