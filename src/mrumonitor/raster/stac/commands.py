"""`mrumonitor scenes search` (what a period of a STAC input would read) and `mrumonitor scenes serve` (a folder of
STAC items and COGs as a local STAC API)."""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path

import click
from rich.table import Table

from mrumonitor.config import Settings, load_settings
from mrumonitor.console import out, progress_bars
from mrumonitor.errors import ConfigError

log = logging.getLogger(__name__)

config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="TOML file merged over configs/default.toml (its [activity.inputs] of kind stac and [imagery] blocks).")


@click.group()
def scenes() -> None:
    """Satellite imagery of STAC inputs: what a period would read, and a local STAC API over a folder."""


@scenes.command("search")
@config_option
@click.option("--period", "periods", multiple=True, metavar="NAME",
              help="Only this period (repeatable). Default: every period of [activity].")
@click.option("--input", "inputs", multiple=True, metavar="NAME",
              help="Only this stac input of [activity.inputs] (repeatable). Default: every one.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every item) instead of tables.")
def scenes_search(config_file: Path | None, periods: tuple[str, ...], inputs: tuple[str, ...], as_json: bool) -> None:
    """Search the STAC API of each stac input for each period, and show what the period would read, before
    anything is downloaded: items per area and country, dates, cloud cover, the share of the area with at least
    one clear observation (estimated from eo:cloud_cover) and the bytes to read."""
    from mrumonitor.raster.stac.search import period_items
    from mrumonitor.raster.stac.summary import period_summary

    settings = load_settings(config_file)
    names, wanted = _stac_inputs(settings, inputs), _periods(settings, periods)
    summaries = []
    with progress_bars("periods", prefix="searching ") as progress:
        for name in names:
            for done, period in enumerate(wanted, start=1):
                found = period_items(settings, name, [period])[period.name]
                summaries.append(period_summary(settings, name, period, found))
                progress(name, done, len(wanted))
    if as_json:
        click.echo(json.dumps(summaries, indent=1))
        return
    out.print(_summary_table(summaries))
    out.print(_country_table(summaries))


@scenes.command("serve")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 serves the whole network: the folder has no access control).")
@click.option("--port", default=8081, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
def scenes_serve(folder: Path, host: str, port: int) -> None:
    """Serve FOLDER (one sub-folder per collection: collection.json, items/, the COGs) as a STAC API until Ctrl+C:
    the demo's imagery (<workdir>/inputs/imagery) or a local archive, for a provider block whose api is the URL
    printed."""
    from mrumonitor.raster.stac.server import LocalStacApi

    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder to serve; give the folder that holds one sub-folder per "
                          "collection (with its collection.json and items/).")
    collections = sorted(path.parent.name for path in folder.glob("*/collection.json"))
    if not collections:
        raise ConfigError(f"{folder}: holds no collection (no */collection.json); write one with "
                          "`raster.stac.server.write_collection` or serve the demo's inputs/imagery folder.")
    api = LocalStacApi(folder, host=host, port=port)
    try:
        url = api.start()
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port} ({error.strerror or error}); choose another --port "
                          "or stop the program using it.") from None
    try:
        _stop_on_signals()
        # plain writes: rich keeps what it prints in a buffer until the write returns, so a Ctrl+C arriving just
        # then would print the line again with the next one
        click.echo(f"STAC API over {folder} at {url} (collections: {', '.join(collections)}); Ctrl+C stops it.")
        api.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")


def _stac_inputs(settings: Settings, names: tuple[str, ...]) -> list[str]:
    known = [name for name, spec in settings.activity.inputs.items() if spec.kind == "stac"]
    if not known:
        raise ConfigError("the configuration has no activity input of kind \"stac\"; add an [activity.inputs.<name>] "
                          "block with kind = \"stac\" and a provider (see configs/default.toml).")
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(f"--input {', '.join(unknown)}: not a stac input of the configuration; its stac inputs: "
                          f"{', '.join(known)}.")
    return list(names) or known


def _periods(settings: Settings, names: tuple[str, ...]):
    known = settings.activity.periods
    if not known:
        raise ConfigError("the configuration has no period; give [activity] periods or a rolling rule.")
    unknown = [name for name in names if name not in {period.name for period in known}]
    if unknown:
        raise ConfigError(f"--period {', '.join(unknown)}: no such period; the periods are "
                          f"{', '.join(period.name for period in known)}.")
    return [period for period in known if not names or period.name in names]


def _summary_table(summaries: list[dict]) -> Table:
    table = Table(title="What each period would read (nothing downloaded yet)", title_justify="left",
                  caption="clear share: the area with at least one clear observation, estimated from eo:cloud_cover",
                  caption_justify="left")
    for column in ("input", "period", "items", "dates", "cloud cover %", "clear share", "to read"):
        table.add_column(column, justify="right" if column in ("items", "clear share", "to read") else "left")
    for s in summaries:
        cover = s["cloud_cover"]
        table.add_row(s["input"], s["period"], f"{s['items']:,}",
                      f"{s['first']} to {s['last']}" if s["items"] else "-",
                      f"{cover['min']:g}-{cover['max']:g} (mean {cover['mean']:g})" if cover else "-",
                      f"{s['clear_share']:.0%}", _size(s["bytes"]))
    return table


def _country_table(summaries: list[dict]) -> Table:
    countries = sorted({iso3 for s in summaries for iso3 in s["countries"]})
    table = Table(title="Items per country (footprint meets the country inside the area)", title_justify="left")
    for column in ("input", "period", *countries):
        table.add_column(column, justify="left" if column in ("input", "period") else "right")
    for s in summaries:
        table.add_row(s["input"], s["period"], *(f"{s['countries'].get(iso3, 0):,}" if iso3 in s["countries"]
                                                 else "-" for iso3 in countries))
    return table


def _size(size: int | None) -> str:
    if size is None:
        return "unknown"
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= factor:
            return f"{size / factor:,.1f} {unit}"
    return f"{size} B"


def _stop_on_signals() -> None:
    """Make Ctrl+C (SIGINT) and SIGTERM stop the server, even where the process that started it ignores or blocks
    them (a background job of a shell script inherits SIGINT ignored; a service manager stops with SIGTERM)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
