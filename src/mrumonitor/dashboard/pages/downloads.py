"""Downloads: every layer of a run, for the region or one country, in every format it can take, with the
run's manifest and caveats beside the buttons.

Links go to the download route (`routes.download_url`), which enforces access again; the page offers an
agency user site-level layers for its own country only.
"""

from __future__ import annotations

import dash
from dash import Input, Output, dcc, html

from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import current_access, is_site_level
from mrumonitor.dashboard.components import page_header
from mrumonitor.dashboard.routes import download_url
from mrumonitor.export.formats import formats_for
from mrumonitor.ingest.snapshots import snapshots_text
from mrumonitor.store.runs import list_runs, read_manifest, resolve_run

dash.register_page(__name__, path="/downloads", name="Downloads", title="Downloads — MRU mining monitor")

RUN = "downloads-run"
COUNTRY = "downloads-country"
LIST = "downloads-list"
MANIFEST = "downloads-manifest"
REGION = ""


@context.page("downloads")
def layout(view, **_query):
    settings = context.settings()
    runs = [run for run in list_runs(settings.paths.store) if run.status == "published"]
    data = context.run_data()
    access = current_access()
    default_country = REGION if access.regional else access.country
    return html.Div([
        page_header(view, "Exports of every layer of a published run, cut exactly at a country's border when a "
                          "country is chosen. Each file comes with a .metadata.json sidecar (credits, caveats)."),
        html.Div(className="filter-bar", children=[
            html.Div(className="filter", children=[html.Label("Run", htmlFor=RUN), dcc.Dropdown(
                id=RUN, clearable=False, value=data.run_id,
                options=[{"label": f"{run.run_id}{' (latest)' if run.latest else ''}", "value": run.run_id}
                         for run in reversed(runs)])]),
            html.Div(className="filter", children=[html.Label("Country", htmlFor=COUNTRY), dcc.Dropdown(
                id=COUNTRY, clearable=False, value=default_country,
                options=[{"label": "Whole region", "value": REGION}]
                + [{"label": code, "value": code} for code in data.countries])])]),
        html.Div(className="grid-2", children=[html.Div(id=LIST, className="card"),
                                               html.Div(id=MANIFEST, className="card")])])


@dash.callback(Output(LIST, "children"), Output(MANIFEST, "children"), Input(RUN, "value"), Input(COUNTRY, "value"))
def update_downloads(run_id, country):
    settings = context.settings()
    manifest = read_manifest(resolve_run(settings.paths.store, run_id or "latest"))
    return download_rows(manifest, country or None, current_access()), manifest_panel(manifest)


def download_rows(manifest: dict, country: str | None, access) -> list:
    """One row per layer (`layer_order`): its title, a link per format and one to the metadata sidecar; site-level
    layers the user may not have for `country` say so instead of offering links."""
    rows = [html.H2(f"Layers of run {manifest['run_id']} — {country or 'whole region'}")]
    for name in layer_order(manifest["layers"]):
        entry = manifest["layers"][name]
        if is_site_level(name) and not access.sees_sites(country):
            links = [html.Span(f"site-level layer: available to your role for {access.country} only",
                               className="layer-note")]
        else:
            formats = formats_for(entry["kind"])
            links = [html.A(fmt, href=download_url(manifest["run_id"], name, fmt, country), className="button",
                            id=f"download-{name}-{fmt}") for fmt in formats]
            links.append(html.A("metadata", href=download_url(manifest["run_id"], name, formats[0], country,
                                                              part="metadata"),
                                className="button", id=f"download-{name}-metadata",
                                title="the .metadata.json sidecar: credits, caveats, columns, CRS"))
        count = f" ({entry['count']:,} rows in the whole region)" if "count" in entry else ""
        rows.append(html.Div(className="downloads-row", children=[
            html.Span(name, className="layer-name"), *links,
            html.Span(f"{entry.get('title', '')}: {entry.get('description', '')}{count}", className="layer-note")]))
    return rows


#: The layers most people come for, first and in this order; the others follow A–Z, the activity rasters last.
FIRST_LAYERS = ("sites", "site_periods", "alerts", "border_corridors", "registration_summary", "capacity",
                "concessions")


def layer_order(layers: dict) -> list[str]:
    """The names of `layers` in the order the page lists them (`FIRST_LAYERS`, then A–Z, rasters last)."""
    first = [name for name in FIRST_LAYERS if name in layers]
    rest = sorted(set(layers) - set(first), key=lambda name: (layers[name].get("kind") == "raster", name))
    return first + rest


def manifest_panel(manifest: dict) -> list:
    """What the run is: when, which periods, cadastre snapshots, counts, and its caveats."""
    snapshots = snapshots_text(manifest.get("snapshots", {}))
    counts = manifest.get("counts", {})
    return [html.H2("Manifest"),
            html.Dl([html.Dt("Run"), html.Dd(manifest["run_id"]), html.Dt("Created"), html.Dd(manifest.get("created")),
                     html.Dt("Periods"), html.Dd(", ".join(p["name"] for p in manifest.get("periods", []))),
                     html.Dt("Cadastre snapshots"), html.Dd(snapshots or "—"),
                     html.Dt("Sites"), html.Dd(f"{counts.get('sites', '—'):,}" if counts.get("sites") else "—"),
                     html.Dt("Configuration hash"), html.Dd(str(manifest.get("config", {}).get("fingerprint", "—"))
                                                            if isinstance(manifest.get("config"), dict) else "—")]),
            html.H2("Caveats"), html.Ul([html.Li(caveat) for caveat in manifest.get("caveats", [])], className="caveats")]
