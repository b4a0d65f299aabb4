"""`mrumonitor stats --area FILE`: the figures of a published run inside an area file, period by period."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from rich.markup import escape

from mrumonitor.console import config_option, frame_table, out
from mrumonitor.schema import AREA_STATS_COLUMNS


@click.command("stats")
@config_option
@click.option("--area", "area_file", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The area: a GeoJSON (.geojson, .json), a GeoPackage (.gpkg) or a zipped Shapefile (.zip).")
@click.option("--run", "run_id", metavar="ID", default="latest", show_default=True,
              help="The published run to read: a run id, or latest.")
@click.option("--sites-out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the area's sites to this file (.gpkg, .geojson, .csv with WKT geometry, .parquet).")
def stats(config_file: Path | None, area_file: Path, run_id: str, sites_out: Path | None) -> None:
    """Print what a published run holds inside an area, for every period: the sites and their active mined
    area clipped to it, registered and unregistered hectares by class, the licences in force that cross it, the
    nearest borders and border crossings, and the caveats that go with the figures.

    Features of the file that are no usable area (empty, a point or a line, an outline crossing itself) are
    listed with the reason and left out; nothing is repaired silently.
    """
    from mrumonitor.areas.files import read_area_file
    from mrumonitor.areas.resolve import uploaded_area
    from mrumonitor.areas.stats import area_statistics, write_area_sites
    from mrumonitor.config import load_settings
    from mrumonitor.store import resolve_run

    settings = load_settings(config_file)
    run_dir = resolve_run(settings.paths.store, run_id)
    upload = read_area_file(area_file, settings)
    if not upload.quarantine.empty:
        out.print(frame_table(f"Features left out of {escape(upload.name)} ({len(upload.quarantine)} of "
                              f"{upload.features})", upload.quarantine))
    figures = area_statistics(run_dir, uploaded_area(upload))
    out.print(f"Area: {escape(upload.name)}, {figures.area_km2:,.1f} km² (run {figures.run_id}).")
    out.print(frame_table("Per period: sites and active mined area clipped to the area", _periods(figures.periods)))
    if len(figures.licences):
        out.print(frame_table("Licences of the cadastre in force now crossing the area (any status)",
                              figures.licences.assign(expires=figures.licences["expires"].dt.date)))
    else:
        out.print("No licence of the cadastre in force now crosses the area.")
    out.print(frame_table("Nearest borders (km)", figures.borders.head(3)))
    out.print(frame_table("Nearest border crossings (km)", figures.crossings))
    for caveat in figures.caveats:
        out.print(f"Note: {escape(caveat)}")
    if sites_out is not None:
        write_area_sites(figures, sites_out)
        out.print(f"{len(figures.sites)} site(s) written to {escape(str(sites_out))}.")


def _periods(periods: pd.DataFrame) -> pd.DataFrame:
    """The per-period table in words: the share in percent, and only the unregistered classes found."""
    classes = [c for c in periods.columns[len(AREA_STATS_COLUMNS):] if periods[c].any()]
    table = periods[[*AREA_STATS_COLUMNS, *classes]].assign(
        unregistered_share=periods["unregistered_share"] * 100)
    return table.rename(columns={"active_ha": "active (ha)", "registered_ha": "registered (ha)",
                                 "unregistered_ha": "unregistered (ha)", "unregistered_share": "unregistered (%)",
                                 **{c: c.removesuffix("_ha").replace("_", " ") + " (ha)" for c in classes}})
