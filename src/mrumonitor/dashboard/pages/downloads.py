"""Downloads: every layer of a run, for the region or one country, in every format it can take, with the
run's manifest and caveats beside the buttons.

Links go to the download route (`routes.download_url`), which enforces access again; the page offers an
agency user site-level layers for its own country only. Each layer says how many features or rows its file
holds for the place chosen (`layer_counts`), and the manifest names the run's coordinate reference system.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, dcc, html

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access, is_site_level
from mrumonitor.dashboard.components import page_header, page_title
from mrumonitor.dashboard.layer_counts import country_count
from mrumonitor.dashboard.memo import Memo
from mrumonitor.dashboard.routes import download_url
from mrumonitor.errors import StoreError
from mrumonitor.export.formats import formats_for
from mrumonitor.export.run_reference import run_crs
from mrumonitor.export.sidecar import describe_crs
from mrumonitor.i18n import _, current_language, day, ngettext, number
from mrumonitor.i18n.messages import translate_text
from mrumonitor.i18n.vocabulary import word
from mrumonitor.store.runs import list_runs, read_manifest, resolve_run

dash.register_page(__name__, path="/downloads", name="Downloads", title=page_title("downloads"))

RUN = "downloads-run"
COUNTRY = "downloads-country"
LIST = "downloads-list"
MANIFEST = "downloads-manifest"
REGION = ""

#: The page's answers kept: a published run never changes, and an answer is a hundred components built from its
#: manifest, counts and coordinate reference system (at 500,000 sites, a fifth of a second on a busy server).
_ANSWERS = Memo(64)


@context.page("downloads")
def layout(view, **_query):
    settings = context.settings()
    runs = [run for run in list_runs(settings.paths.store) if run.status == "published"]
    data = context.run_data()
    access = current_access()
    default_country = REGION if access.regional else access.country
    return html.Div([
        page_header(view, _("Exports of every layer of a published run, cut exactly at a country's border when a "
                            "country is chosen. Each file has a metadata file beside it (credits, caveats, "
                            "columns, coordinate reference system): the “metadata” button of its row.")),
        html.Div(className="filter-bar", children=[
            html.Div(className="filter", children=[html.Label(_("Run"), htmlFor=RUN), dcc.Dropdown(
                id=RUN, clearable=False, value=data.run_id,
                options=[{"label": _("%(run)s (latest)", run=run.run_id) if run.latest else run.run_id,
                          "value": run.run_id} for run in reversed(runs)])]),
            html.Div(className="filter", children=[html.Label(_("Country"), htmlFor=COUNTRY), dcc.Dropdown(
                id=COUNTRY, clearable=False, value=default_country,
                options=[{"label": _("Whole region"), "value": REGION}]
                + [{"label": f"{word('country', code)} ({code})", "value": code} for code in data.countries])])]),
        html.Div(className="grid-2", children=[html.Div(id=LIST, className="card"),
                                               html.Div(id=MANIFEST, className="card")])])


@dash.callback(Output(LIST, "children"), Output(MANIFEST, "children"), Input(RUN, "value"), Input(COUNTRY, "value"))
def update_downloads(run_id, country):
    """The page's layers and manifest for the run and country chosen, built once per run, country, access scope and
    language (`_ANSWERS`)."""
    run_dir = resolve_run(context.settings().paths.store, run_id or "latest")
    access = current_access()

    def answer() -> tuple[list, list]:
        manifest = read_manifest(run_dir)
        return download_rows(manifest, country or None, access), manifest_panel(run_dir, manifest)

    return _ANSWERS.get((str(run_dir), country or None, access.role, access.country, current_language()), answer)


def download_rows(manifest: dict, country: str | None, access) -> list:
    """One row per layer (`layer_order`): its title, a link per format and one to the metadata sidecar, and how
    many features or rows the file holds for `country` (or the region); site-level layers the user may not have
    for `country` say so instead of offering links."""
    place = word("country", country) if country else _("whole region")
    rows = [html.H2(_("Layers of run %(run)s — %(place)s", run=manifest["run_id"], place=place))]
    run_dir = resolve_run(context.settings().paths.store, manifest["run_id"]) if country else None
    for name in layer_order(manifest["layers"]):
        entry = manifest["layers"][name]
        if is_site_level(name) and not access.sees_sites(country):
            links = [html.Span(_("site-level layer: available to your role for %(country)s only",
                                 country=word("country", access.country)), className="layer-note")]
        else:
            formats = formats_for(entry["kind"])
            links = [html.A(fmt, href=download_url(manifest["run_id"], name, fmt, country), className="button",
                            id=f"download-{name}-{fmt}") for fmt in formats]
            links.append(html.A(_("metadata"), href=download_url(manifest["run_id"], name, formats[0], country,
                                                                 part="metadata"),
                                className="button", id=f"download-{name}-metadata",
                                title=_("the metadata file: credits, caveats, columns, coordinate reference system")))
        count = country_count(run_dir, name, country) if country else entry.get("count")
        about = translate_text(f"{entry.get('title', '')}: {entry.get('description', '')}".strip(": "))
        rows.append(html.Div(className="downloads-row", children=[
            html.Span(name, className="layer-name"), *links,
            html.Span(about + (f" ({_count_text(count, country)})" if count is not None else ""),
                      className="layer-note", id=f"count-{name}")]))
    return rows


def _count_text(count: int, country: str | None) -> str:
    """"4,873 rows in the whole region", "466 rows in Sierra Leone"."""
    place = word("country", country) if country else _("the whole region")
    return ngettext("%(num)s row in %(place)s", "%(num)s rows in %(place)s", count, place=place)


#: The layers most people come for, first and in this order; the others follow A–Z, the activity rasters last.
FIRST_LAYERS = ("sites", "site_periods", "alerts", "border_corridors", "registration_summary", "capacity",
                "concessions")


def layer_order(layers: dict) -> list[str]:
    """The names of `layers` in the order the page lists them (`FIRST_LAYERS`, then A–Z, rasters last)."""
    first = [name for name in FIRST_LAYERS if name in layers]
    rest = sorted(set(layers) - set(first), key=lambda name: (layers[name].get("kind") == "raster", name))
    return first + rest


def manifest_panel(run_dir, manifest: dict) -> list:
    """What the run is: when, which periods, cadastre snapshots, counts, its coordinate reference system, and its
    caveats, in the user's language."""
    counts = manifest.get("counts", {})
    config = manifest.get("config")
    facts = [(_("Run"), manifest["run_id"]), (_("Created"), day(manifest.get("created"))),
             (_("Periods"), ", ".join(p["name"] for p in manifest.get("periods", []))),
             (_("Cadastre snapshots"), _snapshots(manifest.get("snapshots", {})) or "—"),
             (_("Sites"), number(counts["sites"]) if counts.get("sites") else "—"),
             (_("Coordinate reference system"), _crs_text(run_dir, manifest)),
             (_("Configuration hash"), str(config.get("fingerprint", "—")) if isinstance(config, dict) else "—")]
    return [html.H2(_("Manifest")),
            html.Dl([part for term, value in facts for part in (html.Dt(term), html.Dd(value))], id="manifest-facts"),
            html.H2(_("Caveats")),
            html.Ul([html.Li(translate_text(caveat)) for caveat in manifest.get("caveats", [])], className="caveats")]


def _snapshots(snapshots: dict[str, Any]) -> str:
    """The cadastre snapshots per country: "SLE 1 déc. 2024 + 1 juin 2026, GIN non indiquée"."""
    def dates(value: Any) -> str:
        values = value if isinstance(value, list) else [value]
        return " + ".join(day(date) if date else _("not stated") for date in values) or _("not stated")
    return ", ".join(f"{country} {dates(value)}" for country, value in snapshots.items())


def _crs_text(run_dir, manifest: dict) -> str:
    """The run's analysis CRS by name (and code, where it has one)."""
    try:
        crs = describe_crs(run_crs(run_dir, manifest))
    except StoreError:
        return "—"
    return crs["name"] + (f" ({crs['code']})" if crs["code"] else "")
