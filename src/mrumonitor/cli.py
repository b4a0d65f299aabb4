"""The `mrumonitor` command line. Each command builds the settings once and passes them down."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
import pandas as pd
from rich.markup import escape
from rich.text import Text

from mrumonitor import __version__
from mrumonitor.alerts.commands import alerts
from mrumonitor.areas.commands import stats
from mrumonitor.config import Settings, load_settings
from mrumonitor.console import (
    config_option,
    console,
    frame_table,
    ingest_table,
    out,
    progress_bars,
    quarantine_table,
    setup_logging,
    unexpected_failure,
)
from mrumonitor.dashboard.commands import serve
from mrumonitor.errors import ConfigError, MruError, StoreError
from mrumonitor.manifest import RunManifest
from mrumonitor.raster.stac.commands import scenes
from mrumonitor.scheduler.commands import countries_option, schedule, scheduler
from mrumonitor.verification.commands import verify

log = logging.getLogger("mrumonitor")



@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mrumonitor")
@click.option("-v", "--verbose", count=True, help="Show debug logging.")
def cli(verbose: int) -> None:
    """Monitor mining activity in the Mano River Union (Sierra Leone, Guinea, Liberia, Côte d'Ivoire).

    Merges the national mining cadastres, official border posts and satellite-derived mining activity to
    find unregistered production and cross-border leakage signals for the Kimberley Process Regional
    Approach. Start with `mrumonitor demo`, which builds a demo region and runs every stage on it.
    """
    setup_logging(verbose)


@cli.command()
@config_option
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Ingest only this source (a [sources.NAME] block); repeat for several. Default: all.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the concessions and quarantine layers (GeoParquet). Default: <paths.work>/ingest.")
@click.option("--show-quarantine", default=10, show_default=True, metavar="N",
              help="List the first N quarantined records with what to fix.")
def ingest(config_file: Path | None, sources: tuple[str, ...], out_dir: Path | None, show_quarantine: int) -> None:
    """Merge the national cadastres into one canonical `concessions` layer.

    Reads every [sources.*] file of the configuration (Shapefile or zipped Shapefile, GeoPackage, GeoJSON,
    FlatGeobuf, CSV with WKT or coordinate columns), maps each country's fields and licence terms to the
    canonical schema, reprojects to the analysis CRS and checks every record. A record that cannot be used
    (no or broken geometry, outside its country, unknown licence type, bad date, duplicate id, ...) goes to
    the `quarantine` layer with its file, row and reason: nothing is dropped. Prints a table per country.
    """
    settings = load_settings(config_file)
    run_ingest(settings, list(sources) or None, out_dir, show_quarantine)


def run_ingest(settings: Settings, sources: list[str] | None, out_dir: Path | None, show_quarantine: int):
    """Ingest, write both layers, print the summary."""
    from mrumonitor.ingest import ingest_sources, write_ingest

    with progress_bars("records", prefix="reading ") as progress:
        result = ingest_sources(settings, on_progress=progress, only=sources)
    written = write_ingest(result, out_dir or settings.paths.work / "ingest")
    out.print(ingest_table(result.report, "Cadastre ingest"))
    if show_quarantine and len(result.quarantine):
        out.print(quarantine_table(result.quarantine, show_quarantine))
    for layer, path in written.items():
        out.print(f"{layer}: {path}")
    return result


@cli.command()
@config_option
def detect(config_file: Path | None) -> None:
    """Turn satellite-derived mining activity into activity layers and mining sites.

    For every period of [activity] it puts each input on the regional grid — detections (points with a
    footprint area, or polygons) rasterised, probability or class rasters from an external model warped,
    multispectral scenes run through the built-in change detector at their own resolution — combines them
    into one activity layer (Cloud-Optimized GeoTIFF, percent, 255 = no data), draws the mining sites and
    tracks them across periods with stable ids; a site crossing a border is one site, flagged transboundary,
    with its area split between the countries. Prints a table per country. Outputs go to <paths.work>/detect.
    """
    settings = load_settings(config_file)
    run_detect(settings)


def run_detect(settings: Settings):
    """Detect, print the per-country summary."""
    from mrumonitor.raster.run import detect as detect_stage
    from mrumonitor.raster.summary import country_summary

    with progress_bars("chunks") as progress:
        result = detect_stage(settings, on_chunk=progress)
    periods = list(result.activity)
    out.print(frame_table(f"Mining sites per country (periods {', '.join(periods)})",
                          country_summary(result.sites, periods)))
    for name, path in {**result.activity, **result.written}.items():
        out.print(f"{name}: {path}")
    return result


@cli.command()
@config_option
@click.option("--ingest-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the concessions layer of `mrumonitor ingest`. Default: <paths.work>/ingest.")
@click.option("--detect-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the site layers. Default: <paths.work>/detect.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the analysis layers. Default: <paths.work>/analyse.")
def analyse(config_file: Path | None, ingest_dir: Path | None, detect_dir: Path | None, out_dir: Path | None) -> None:
    """Find unregistered production and cross-border leakage signals, and check production capacity.

    Judges each mining site, in each period, against the licences valid on the day of the observation
    (registered, no_licence, expired_licence, exploration_only, wrong_commodity, suspended; a site partly
    inside a licence gets the share of its area in each class); measures its distance to the nearest border
    and official crossing; cuts the borders into corridors ranked by the unregistered activity next to them;
    gives each site a risk score (formula in configs/default.toml, [analysis.risk]); and estimates carats
    per country and year from the mined area against the declared Kimberley Process figures, flagging
    anomalies. Prints the per-country picture; the layers go to <paths.work>/analyse.
    """
    settings = load_settings(config_file)
    work = settings.paths.work
    run_analyse(settings, ingest_dir or work / "ingest", detect_dir or work / "detect", out_dir or work / "analyse")


def run_analyse(settings: Settings, ingest_dir: Path, detect_dir: Path, out_dir: Path):
    """Analyse, print the picture; the layers go to `out_dir`."""
    from mrumonitor.analysis.run import analyse_folders
    from mrumonitor.runfolder import RunFolder

    with console.status("analysing sites, borders and production capacity..."):
        result = analyse_folders(settings, ingest_dir, detect_dir, out_dir)
    print_picture(result.periods[-1], {
        "registration_summary": result.registration_summary, "sites": result.sites,
        "border_corridors": result.border_corridors, "corridor_periods": result.corridor_periods,
        "capacity": result.capacity.capacity, "kp_anomalies": result.capacity.anomalies},
        post_kinds=settings.analysis.post_kinds)
    for name in result.layers():
        out.print(f"{name}: {RunFolder(out_dir).layer(name)}")
    return result


#: The layers of a run that `print_picture` shows.
PICTURE_LAYERS = ("registration_summary", "sites", "border_corridors", "corridor_periods", "capacity", "kp_anomalies")
#: How each commodity choice is named in the picture's titles.
COMMODITY_LABELS = {"diamond": "diamond", "gold": "gold", "other": "other-commodity", "all": "all-commodity"}
#: How each scope of border is named in the picture's titles (schema.BORDER_SCOPES).
BORDER_TITLES = {"mru": "MRU-internal borders", "external": "External borders, outside the MRU ranking"}


def print_picture(last: str, layers: dict[str, pd.DataFrame], commodity: str = "diamond", borders: str = "mru",
                  post_kinds: list[str] | tuple[str, ...] = ("official",)) -> None:
    """The regional picture of an analysis (`PICTURE_LAYERS`) for one commodity and one scope of borders.

    By default the KP question: diamond sites and the borders between the four MRU countries. Per country the
    sites of the commodity; its highest risk scores; the corridors of the scope ranked by the commodity's
    unregistered area, named by their towns and nearest crossing; for diamonds, the production capacity
    against the declared KP figures and the anomalies; then how to see gold or the external borders.
    """
    from mrumonitor.analysis.summary import corridor_ranking, country_overview, top_risk_sites

    label, sites = COMMODITY_LABELS[commodity], layers["sites"]
    out.print(frame_table(f"Unregistered production and border signals, {last}: {label} sites",
                          country_overview(layers["registration_summary"], sites, last, commodity)))
    crossing = f"km to the nearest {'official ' if set(post_kinds) == {'official'} else ''}crossing " \
               f"(kinds: {', '.join(post_kinds)})"
    top = top_risk_sites(sites, last, commodity)
    top = top if commodity == "all" else top.drop(columns="commodity")
    out.print(frame_table(escape(f"Highest risk scores of {label} sites, {last} (formula: [analysis.risk])"),
                          top.rename(columns={"site_id": "site", "commodity_basis": "commodity from",
                                              "risk_score": "risk", "area_ha": "active ha",
                                              "unregistered_ha": "unregistered ha", "dist_border_km": "km to border",
                                              "nearest_post_name": "nearest crossing", "dist_post_km": crossing})))
    ranked = corridor_ranking(layers["border_corridors"], layers["corridor_periods"], last, commodity, borders)
    pairs = ", ".join(ranked["border_pair"].drop_duplicates().sort_values())
    title = f"{BORDER_TITLES[borders]} ({pairs or 'none'}): corridors ranked by unregistered {label} area " \
            f"in the border zone, {last}"
    shown = ranked[ranked["unregistered_ha"] > 0].head(5)
    if len(shown):
        out.print(frame_table(title, pd.DataFrame({
            "rank": shown["rank"], "corridor": shown["corridor_id"], "nearest towns (both sides)": shown["near_places"],
            f"unregistered {label} ha": shown["unregistered_ha"], f"{label} sites": shown["sites"],
            "nearest crossing": shown["nearest_post_name"], crossing: shown["dist_post_km"]})))
    else:
        out.print(f"{title}: no unregistered {label} activity in the border zone.")
    if commodity in ("diamond", "all"):
        _print_capacity(layers["capacity"])
        for message in layers["kp_anomalies"]["message"]:
            out.print(f"[yellow]anomaly[/]: {message}")
    out.print("[dim]Other views: `mrumonitor summary --commodity diamond|gold|other|all --borders mru|external` "
              "(external borders: with a country outside the MRU, such as Côte d'Ivoire–Ghana).[/]")


def _print_capacity(capacity: pd.DataFrame) -> None:
    """The capacity table: per country-year the median of the estimate's draws and its 5-95 % interval, partial
    years marked, against the declared KP production."""
    shown = capacity[capacity["volume_carats_central"].notna() | capacity["declared_production_carats"].notna()]
    partial = shown["partial_year"].fillna(False).astype(bool)
    year = shown["year"].astype(str).where(~partial, shown["year"].astype(str) + " (partial, "
                                           + shown["days_observed"].astype(str) + " days)")
    interval = (shown["volume_carats_p05"].map("{:,.0f}".format) + " – "
                + shown["volume_carats_p95"].map("{:,.0f}".format)).where(shown["volume_carats_p05"].notna())
    out.print(frame_table("Production capacity from newly mined diamond area (carats per year: median and 5–95 % "
                          "interval of the estimate; parameters and sources in the capacity_parameters layer) against "
                          "declared KP production", pd.DataFrame({
                              "country": shown["country"], "year": year, "dug ha/yr": shown["annual_area_ha"],
                              "ct median": shown["volume_carats_central"].round().astype("Int64").astype(object),
                              "ct 5–95 % interval": interval,
                              "declared ct": shown["declared_production_carats"].round().astype("Int64").astype(object),
                              "declared is": shown["declared_illustrative"].map(
                                  {True: "ILLUSTRATIVE", False: "published (see source)"})}).fillna({"declared is": "-"})))
    if partial.any():
        out.print("[dim]A partial year's rate comes from the days observed in it; each row's caveats in the capacity "
                  "layer say how it was annualised.[/]")


@cli.command("summary")
@config_option
@click.option("--run", "run_id", metavar="ID", default="latest", show_default=True,
              help="The published run to describe: a run id, or latest.")
@click.option("--commodity", type=click.Choice(list(COMMODITY_LABELS)), default="diamond", show_default=True,
              help="The sites to show: diamond (the KP commodity), gold, other, or all of them.")
@click.option("--borders", type=click.Choice(list(BORDER_TITLES)), default="mru", show_default=True,
              help="The border corridors to rank: mru (between two MRU countries) or external (with any other "
                   "country, e.g. Côte d'Ivoire-Ghana); never mixed in one ranking.")
def summary_command(config_file: Path | None, run_id: str, commodity: str, borders: str) -> None:
    """Print the picture of a published run from its layers: per country, the highest risk scores, the
    border corridors ranked, the production capacity against the declared KP figures.

    By default the regional team's question: rough diamonds and the borders between the four MRU countries
    (SLE-GIN, SLE-LBR, GIN-LBR, GIN-CIV, LBR-CIV). --commodity gold and --borders external show the rest,
    labelled as such.
    """
    from mrumonitor.runfolder import RunFolder
    from mrumonitor.store import resolve_run

    folder = RunFolder(resolve_run(load_settings(config_file).paths.store, run_id))
    manifest = RunManifest.read(folder)
    missing = [name for name in PICTURE_LAYERS if not folder.has_layers(name)]
    if missing or not manifest.periods:
        raise StoreError(f"{folder.path}: the run lacks {', '.join(missing) or 'its periods'} (a run of an older "
                         "version?). Fix: publish a new run with `mrumonitor run`.")
    layers = {name: pd.read_parquet(folder.layer(name)) for name in PICTURE_LAYERS}
    if "commodity" not in layers["corridor_periods"]:
        raise StoreError(f"{folder.layer('corridor_periods')}: no commodity column (a run of an older version). "
                         "Fix: publish a new run with `mrumonitor run`.")
    kinds = manifest.thresholds.get("analysis", {}).get("post_kinds", ["official"])
    print_picture(manifest.periods[-1]["name"], layers, commodity, borders, kinds)


@cli.command("kp-flags")
@config_option
@click.argument("csv_file", required=False, metavar="[CSV]", type=click.Path(path_type=Path, dir_okay=False))
def kp_flags(config_file: Path | None, csv_file: Path | None) -> None:
    """Print the anomaly flags of declared Kimberley Process statistics: value per carat against the neighbours,
    production against exports, jumps; published and ILLUSTRATIVE figures apart, each flag with the figures it
    compared. CSV: a file of declared figures (default: capacity.declared of the configuration)."""
    from mrumonitor.analysis.declared import flag_report, read_declared

    settings = load_settings(config_file)
    path = csv_file or settings.capacity.declared
    if path is None:
        raise ConfigError("capacity.declared is empty: no declared KP file is configured. Fix: name the CSV on the "
                          "command line, or set capacity.declared.")
    out.print(escape(flag_report(read_declared(path), settings.capacity.anomalies)))


@cli.group()
def reference() -> None:
    """Committed reference layers: country outlines, consistent borders, border posts."""


@reference.command("build")
@config_option
def reference_build(config_file: Path | None) -> None:
    """Rebuild boundaries, borders and border posts under <paths.reference> from their source files.

    The source outlines overlap and leave gaps between neighbours; the build makes them consistent by the
    equidistance rule described in layers/README.md, derives one border line per country pair and snaps
    each official crossing onto its border line.
    """
    from mrumonitor.reference import build_reference

    settings = load_settings(config_file)
    summary = build_reference(settings.paths.reference, settings.analysis_crs)
    out.print(frame_table("Borders between neighbours (km, km²)", pd.DataFrame(summary["pairs"])))
    out.print(frame_table("Border posts snapped to their border line (km moved)", pd.DataFrame(summary["posts"])))
    out.print(f"{summary['contested_km2']:,.0f} km² of overlaps and gaps shared out by equidistance")
    for path in summary["files"]:
        out.print(f"written: {path}")


@cli.command()
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("mrumonitor-demo"),
              show_default=True, help="Folder for the demo inputs, its config file and its outputs.")
@click.option("--seed", default=2026, show_default=True, help="Seed of the synthetic cadastres.")
@click.option("--no-serve", is_flag=True, help="Run the pipeline and exit instead of serving the dashboard.")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the dashboard (on this machine only: http://127.0.0.1:PORT/).")
def demo(workdir: Path, seed: int, no_serve: bool, port: int) -> None:
    """Build the demo region and run every pipeline stage on it.

    Writes four SYNTHETIC national cadastres (Sierra Leone zipped Shapefile, Guinea GeoJSON, Liberia
    GeoPackage, Côte d'Ivoire CSV; fictitious licences with planted flaws) placed around 5,026 REAL
    satellite detections of mining (Earth Index / Africa Mining Watch, CC BY 4.0), the detections over four
    periods (positions and final areas real, growth SYNTHETIC), SYNTHETIC Sentinel-2-like imagery for the
    built-in detector (scene stacks, also as STAC items and COGs under <workdir>/inputs/imagery/, read
    through a STAC API the run serves on 127.0.0.1), a config file pointing at them (<workdir>/mrumonitor.toml)
    and ground-truth tables; then runs a full batch update (ingest, detect, analyse), publishes it as a run
    of the layer store under <workdir>/layers/runs/, prints the per-country picture with its caveats and
    serves the dashboard of the run (until Ctrl+C; --no-serve exits instead).
    """
    from mrumonitor.demo.build import build_demo
    from mrumonitor.demo.fieldchecks import record_demo_field_checks
    from mrumonitor.runfolder import RunFolder
    from mrumonitor.verification.commands import print_estimates

    config_path = build_demo(workdir, seed=seed)
    log.info("demo inputs written to %s (synthetic cadastres and imagery, real detections)", workdir)
    settings = load_settings(config_path)
    published = publish_with_progress(settings)
    design = record_demo_field_checks(settings, published.path, published.run_id, workdir / "field-checks")
    if design is not None:
        log.info("sample %s of %d sites drawn from run %s and visited by SYNTHETIC field teams (field sheets in "
                 "%s); publishing a run that applies the visits", design.sample_id, len(design.units),
                 published.run_id, workdir / "field-checks")
        published = publish_with_progress(settings)
    run_dir = published.path
    layers = {name: pd.read_parquet(RunFolder(run_dir).layer(name))
              for name in (*PICTURE_LAYERS, "verification_estimates")}
    print_picture(settings.activity.periods[-1].name, layers, post_kinds=settings.analysis.post_kinds)
    print_estimates("Field-checked accuracy and areas (the demo's visits are SYNTHETIC)",
                    layers["verification_estimates"])
    for caveat in published.manifest.caveats:
        out.print(f"[dim]caveat[/]: {caveat}")
    out.print(f"\nDemo run {published.run_id} published: {run_dir}\nDemo config: {config_path}  — list the runs "
              f"with `mrumonitor runs list --config {config_path}`, export a layer with `mrumonitor export`.")
    if not no_serve:
        from mrumonitor.dashboard.commands import serve_dashboard

        serve_dashboard(settings, run=published.run_id, port=port)


def _country_code(value: str | None) -> str | None:
    """An ISO3 code as typed (spaces and case forgiven); an empty one is refused, never read as "the region"."""
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("it is empty: give an ISO3 code such as SLE, or leave --country out to export the "
                                 "whole region.")
    return value.strip().upper()


@cli.command("export")
@config_option
@click.argument("layer")
@click.option("--country", metavar="ISO3", default=None, callback=lambda _ctx, _param, value: _country_code(value),
              help="Export only this country (SLE, GIN, LBR, CIV), cut exactly at its border. Default: the region.")
@click.option("--format", "fmt", metavar="FORMAT", default=None,
              help="gpkg, shp (zipped), geojson, csv, parquet (vectors; tables: csv, parquet, gpkg) or cog "
                   "(rasters). Default: from the name of the -o file.")
@click.option("--run", "run_id", metavar="ID", default="latest", show_default=True,
              help="The published run to export from: a run id, or latest.")
@click.option("-o", "--out", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write: .gpkg, .zip (Shapefile), .geojson, .csv, .parquet or .tif.")
def export(config_file: Path | None, layer: str, country: str | None, fmt: str | None, run_id: str,
           output: Path) -> None:
    """Export LAYER of a published run for a GIS, for the region or one country.

    LAYER is a layer of the run: sites, concessions, capacity, activity_<period>... (an unknown name lists
    them). Vectors go to GeoPackage (opens styled in QGIS), zipped Shapefile (field names cut to 10
    characters, mapping in fields.csv), GeoJSON (RFC 7946, WGS84), CSV (WKT and lon/lat in WGS84) or
    GeoParquet; tables to CSV, Parquet or GeoPackage; activity rasters to Cloud-Optimized GeoTIFF. With
    --country, vectors are cut at the country's border (the outline the run was computed with; a site
    crossing it keeps the part inside), tables keep the country's rows and rasters the pixels inside. Next
    to the file, <file>.metadata.json gives the run, the date, the sources to credit and the caveats.
    """
    from mrumonitor.export import export_layer, format_for_path
    from mrumonitor.store.runs import read_manifest, resolve_run

    settings = load_settings(config_file)
    run_dir = resolve_run(settings.paths.store, run_id)
    result = export_layer(run_dir, read_manifest(run_dir), layer, fmt or format_for_path(output), output, country)
    for path in result.paths:
        out.print(f"written: {path}")


@cli.command("run")
@config_option
@countries_option
def run_command(config_file: Path | None, countries: tuple[str, ...]) -> None:
    """Run every stage (ingest, detect, analyse) and publish the layers as a new run of the layer store.

    The run is built aside under <paths.store>/runs/ and published in one step: vector layers as
    GeoParquet, activity rasters as Cloud-Optimized GeoTIFFs, a STAC catalog of the rasters and
    manifest.json (inputs with checksums, cadastre snapshot dates, the config and its hash, thresholds,
    software version, timings, counts and caveats); then `latest` moves to it. A run that fails or is
    killed leaves the latest run as it was. One run at a time writes to a store (a second is refused);
    old runs are deleted by the [store] retention rule. See the runs with `mrumonitor runs list`. Then the
    run's new alerts are e-mailed to their subscribers; a failure to send never fails the run (see
    `mrumonitor alerts status`).

    With --countries SLE GIN, only those countries are refreshed: their cadastres are read and their
    activity computed (over the blocks of the regional grid that touch them); the other countries keep the
    concessions, quarantine and activity of the latest run, and the analysis covers everything. The
    manifest's scope section and a caveat say what was refreshed; a later run without --countries
    refreshes everything.
    """
    from mrumonitor.alerts.deliver import deliver_after_publish

    settings = load_settings(config_file)
    published = publish_with_progress(settings, countries)
    print_run(published.manifest)
    for name in published.cleaned:
        out.print(f"removed {name}, left by a run that stopped before it was published")
    if published.pruned:
        out.print(f"deleted by the retention rule: {', '.join(published.pruned)}")
    out.print(f"run {published.run_id} published as the latest run: {published.path}")
    delivered = deliver_after_publish(settings).summary()
    if delivered:
        out.print(delivered)


def publish_with_progress(settings: Settings, countries: tuple[str, ...] = ()):
    """Run every stage with progress bars and publish the run (of `countries` only, when given); shared by
    `run` and `demo`."""
    from mrumonitor.pipeline import run_pipeline

    with progress_bars("") as progress:
        return run_pipeline(settings, on_chunk=lambda task, done, total: progress(f"{task} (chunks)", done, total),
                            on_records=lambda source, done, total: progress(f"reading {source} (records)", done,
                                                                            total), countries=countries)


@cli.group()
def runs() -> None:
    """Published runs of the layer store (<paths.store>/runs): list them, describe one."""


@runs.command("list")
@config_option
def runs_list(config_file: Path | None) -> None:
    """List the runs of the layer store, oldest first, with the latest marked."""
    from rich.table import Table

    from mrumonitor.store import current_holder, leftovers, list_runs

    store = load_settings(config_file).paths.store
    summaries = list_runs(store)
    if not summaries:
        out.print(f"no run in {store} yet; publish one with `mrumonitor run`.")
    else:
        table = Table(title=f"Runs in {store}", title_justify="left")
        for column in ("run id", "created (UTC)", "latest", "periods", "sites", "status"):
            table.add_column(column, no_wrap=column == "run id", justify="right" if column == "sites" else "left")
        for s in summaries:
            table.add_row(s.run_id, s.created.replace("T", " ").removesuffix("Z"), "latest" if s.latest else "",
                          " ".join(s.periods), "-" if s.sites is None else f"{s.sites:,}", s.status)
        out.print(table)
    holder = current_holder(store)
    if holder:
        out.print(f"a {holder.purpose} is writing to this store now ({holder.describe()})")
    for path in [] if holder else leftovers(store):
        out.print(f"left by a run that stopped: {path} (the next run removes it)")


@runs.command("show")
@config_option
@click.argument("run_id", default="latest", metavar="[RUN_ID|latest]")
def runs_show(config_file: Path | None, run_id: str) -> None:
    """Describe a run (default: the latest): inputs, counts, layers, and the caveats of its figures."""
    from mrumonitor.runfolder import RunFolder
    from mrumonitor.store import resolve_run

    print_run(RunManifest.read(RunFolder(resolve_run(load_settings(config_file).paths.store, run_id))))


def print_run(manifest: RunManifest) -> None:
    """What a run's manifest says, as tables; shared by `run` and `runs show`.

    A key the manifest lacks (a run of an older version, a hand-edited file) is shown as "-", never a failure.
    """
    counts, config = manifest.counts, manifest.config
    files = ", ".join(str(f.get("path", "?")) for f in config.get("files", []))
    out.print(f"Run {manifest.run_id or '-'}, created {manifest.created or '-'}, previous run "
              f"{manifest.previous_run or 'none'}; "
              f"mrumonitor {manifest.software.get('version', '-')}, "
              f"config {config.get('fingerprint', '-')}" + (f" ({files})" if files else ""))
    if counts.get("cadastre_by_source"):
        out.print(ingest_table(pd.DataFrame(counts["cadastre_by_source"]), "Cadastre records"))
    if counts.get("sites_by_country"):
        out.print(frame_table("Mining sites per country", pd.DataFrame(counts["sites_by_country"])))
    if manifest.inputs:
        inputs = pd.DataFrame(manifest.inputs, columns=["role", "path", "bytes", "sha256"])
        out.print(frame_table("Inputs", inputs.groupby("role", sort=False).agg(
            files=("path", "size"), bytes=("bytes", "sum")).reset_index()))
    from mrumonitor.ingest.snapshots import snapshots_text

    snapshots = snapshots_text(manifest.snapshots)
    if snapshots:
        out.print(f"Cadastre snapshots: {snapshots}")
    out.print(frame_table("Layers", pd.DataFrame(
        [{"layer": name, "kind": layer.get("kind", "-"), "path": layer.get("path", "-"),
          "period": layer.get("period") or "", "rows or pixels": _layer_size(layer)}
         for name, layer in manifest.layers.items()],
        columns=["layer", "kind", "path", "period", "rows or pixels"])))
    alerts = counts.get("alerts_new")
    if alerts:
        out.print(f"Alerts raised first by this run: {alerts.get('total', 0)} (high {alerts.get('high', 0)}, medium "
                  f"{alerts.get('medium', 0)}, low {alerts.get('low', 0)}); the alerts layer lists them")
    if manifest.timings_s:
        out.print("Timings: " + ", ".join(f"{stage} {seconds:.1f} s"
                                          for stage, seconds in manifest.timings_s.items()))
    if manifest.warnings:
        out.print(Text(f"Warnings ({len(manifest.warnings)}): inputs that looked wrong and were used anyway",
                       style="bold yellow"))
        for warning in manifest.warnings:
            out.print(f"  - [{warning.get('stage', '-')}] {warning.get('subject', '-')}: {warning.get('message', '')}",
                      markup=False)
    if manifest.caveats:
        out.print("Caveats:")
        for caveat in manifest.caveats:
            out.print(f"  - {caveat}", markup=False)


def _layer_size(layer: dict) -> str:
    """A layer's rows, or its raster size ("-" when the manifest does not say)."""
    if "count" in layer:
        return f"{layer['count']:,}"
    return f"{layer['width']} x {layer['height']}" if "width" in layer and "height" in layer else "-"


# Commands that live with their subsystem.
cli.add_command(serve)
cli.add_command(schedule)
cli.add_command(scenes)
cli.add_command(scheduler)
cli.add_command(verify)
cli.add_command(alerts)
cli.add_command(stats)


def main() -> None:
    """Console entry point: project errors become one readable message and exit status 2."""
    try:
        cli(standalone_mode=False)
    except MruError as exc:
        console.print(Text.assemble(("error: ", "bold red"), str(exc)))
        sys.exit(2)
    except click.exceptions.Abort:
        console.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # a failure no check foresaw: a plain message here, the traceback in a file
        console.print(Text.assemble(("error: ", "bold red"), unexpected_failure(exc)))
        sys.exit(3)


if __name__ == "__main__":
    main()
