"""What the command line shows a person: logging lines, progress bars and summary tables (rich)."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import tempfile
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pandas as pd
from rasterio.errors import NotGeoreferencedWarning
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from mrumonitor.errors import MruError

#: Where `unexpected_failure` keeps the tracebacks of failures no check foresaw.
CRASH_LOG_ENV = "MRUMONITOR_CRASH_LOG"

console = Console(stderr=True)
out = Console()

#: The --config option of every command.
config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="TOML file merged over configs/default.toml (only the keys that differ). Default: the defaults.")


def setup_logging(verbose: int = 0) -> None:
    """One line per operation at INFO (the default), everything with -v; warnings shown as warnings."""
    level = logging.DEBUG if verbose else logging.INFO
    handler = RichHandler(console=console, show_path=False, show_time=False, markup=False)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    for noisy in ("pyogrio", "fiona", "rasterio", "distributed", "urllib3", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    # library noise, not about the user's data (see the same filters in pyproject.toml)
    warnings.filterwarnings("ignore", message="Use `@` matmul", category=PendingDeprecationWarning)
    warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)


@contextmanager
def progress_bars(unit: str, prefix: str = "") -> Iterator:
    """A progress bar per task (a file, a raster); yields a hook `(label, done, total)` for the stages."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                  TimeElapsedColumn(), console=console) as progress:
        tasks: dict[str, int] = {}

        def hook(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(prefix + label, total=total)
            progress.update(tasks[label], completed=done, total=total)

        yield hook


def frame_table(title: str, frame: pd.DataFrame) -> Table:
    """A table of a DataFrame: numbers right-aligned with thousands separators, floats to one decimal,
    missing values as "-"."""
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(str(column), justify="right" if pd.api.types.is_numeric_dtype(frame[column]) else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(value) for value in row))
    return table


def _cell(value) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def ingest_table(report: pd.DataFrame, title: str) -> Table:
    """Per source and country: read, accepted, repaired, quarantined, and the reasons."""
    table = Table(title=title, title_justify="left")
    for column, justify in (("Country", "left"), ("Source", "left"), ("Read", "right"), ("Accepted", "right"),
                            ("Repaired", "right"), ("Quarantined", "right"), ("Quarantined by reason", "left")):
        table.add_column(column, justify=justify)
    fixed = {"source", "country", "read", "accepted", "repaired", "quarantined"}
    reasons = [column for column in report.columns if column not in fixed]
    for row in report.to_dict("records"):
        why = ", ".join(f"{reason} {row[reason]}" for reason in reasons if row[reason])
        table.add_row(row["country"], row["source"], f"{row['read']:,}", f"{row['accepted']:,}",
                      f"{row['repaired']:,}", f"{row['quarantined']:,}", why or "-")
    totals = report[["read", "accepted", "repaired", "quarantined"]].sum()
    table.add_section()
    table.add_row("All", "", *(f"{totals[c]:,}" for c in ("read", "accepted", "repaired", "quarantined")), "")
    return table


def quarantine_table(quarantine: pd.DataFrame, limit: int) -> Table:
    """The first `limit` quarantined records with where they came from and what to fix."""
    table = Table(title=f"Quarantined records (first {min(limit, len(quarantine))} of {len(quarantine)})",
                  title_justify="left")
    for column in ("Source", "Row", "Licence id", "Reason", "What to fix"):
        table.add_column(column, overflow="fold")
    for row in quarantine.head(limit).to_dict("records"):
        table.add_row(row["source_name"], str(row["source_row"]), row["record_id"] or "-", row["reason"],
                      row["detail"])
    return table


def unexpected_failure(exc: BaseException) -> str:
    """Keep the traceback of an unforeseen failure in a log file; the plain sentence to show in its place.

    A person never sees a Python traceback: the message names the failure, the file holding the details
    (``$MRUMONITOR_CRASH_LOG``, default ``mrumonitor-errors.log`` in the temporary folder) and what to do.
    """
    path = os.environ.get(CRASH_LOG_ENV) or os.path.join(tempfile.gettempdir(), "mrumonitor-errors.log")
    detail = "".join(traceback.format_exception(exc))
    try:
        with open(path, "a", encoding="utf-8") as log_file:
            log_file.write(f"--- {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')} pid {os.getpid()}\n"
                           f"{detail}\n")
        where = f"the details are in {path}"
    except OSError:
        where = "the details could not be written to a log file"
    kind = "not enough memory" if isinstance(exc, MemoryError) else f"{type(exc).__name__}: {exc}"
    return (f"mrumonitor stopped on a problem it does not know how to explain ({kind}). A run stopped like this "
            f"publishes nothing: the last published run is intact. This is a bug: {where}; please send that file "
            "with the command you ran.")


class PlainError(click.ClickException):
    """A project error shown as `mrumonitor` shows one (``error: ...``, exit status 2), also when a command runs on
    its own (click's standalone mode) rather than under `mrumonitor.cli.main`."""

    exit_code = 2

    def show(self, file=None) -> None:
        console.print(Text.assemble(("error: ", "bold red"), self.message))


@contextmanager
def plain_errors() -> Iterator[None]:
    """Turn a project error (`MruError`) raised inside the block into a `PlainError`: a message, never a traceback."""
    try:
        yield
    except MruError as exc:
        raise PlainError(str(exc)) from None
