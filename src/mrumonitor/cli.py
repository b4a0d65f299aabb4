"""The `mrumonitor` command line. Each command builds the settings once and passes them down."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
import pandas as pd
from rich.text import Text

from mrumonitor import __version__
from mrumonitor.config import Settings, load_settings
from mrumonitor.console import (console, frame_table, ingest_table, out, progress_bars, quarantine_table,
                                setup_logging)
from mrumonitor.errors import MruError

log = logging.getLogger("mrumonitor")

config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="TOML file merged over configs/default.toml (only the keys that differ). Default: the defaults.")


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
              help="Folder for concessions.parquet and quarantine.parquet. Default: <paths.work>/ingest.")
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
    """Ingest, write both layers, print the summary; shared by `ingest` and `demo`."""
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
    """Detect, print the per-country summary; shared by `detect` and `demo`."""
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
def demo(workdir: Path, seed: int, no_serve: bool) -> None:
    """Build the demo region and run every pipeline stage on it.

    Writes four SYNTHETIC national cadastres (Sierra Leone zipped Shapefile, Guinea GeoJSON, Liberia
    GeoPackage, Côte d'Ivoire CSV; fictitious licences with planted flaws) placed around 5,026 REAL
    satellite detections of mining (Earth Index / Africa Mining Watch, CC BY 4.0), the detections over four
    periods (positions and final areas real, growth SYNTHETIC), SYNTHETIC Sentinel-2-like scene stacks for
    the built-in detector, a config file pointing at them (<workdir>/mrumonitor.toml) and ground-truth
    tables; then runs the pipeline stages (ingest, detect).
    """
    from mrumonitor.demo.build import build_demo

    config_path = build_demo(workdir, seed=seed)
    log.info("demo inputs written to %s (synthetic cadastres and scenes, real detections)", workdir)
    settings = load_settings(config_path)
    run_ingest(settings, None, None, show_quarantine=5)
    run_detect(settings)
    out.print(f"\nDemo config: {config_path}  — rerun a stage with e.g. "
              f"`mrumonitor ingest --config {config_path}`")
    if not no_serve:
        out.print("The dashboard is not part of this version yet; the pipeline results are written above.")


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


if __name__ == "__main__":
    main()
