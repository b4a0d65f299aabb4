"""What the command line shows a person: logging lines, progress bars and summary tables (rich)."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
from rasterio.errors import NotGeoreferencedWarning
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=True)
out = Console()


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
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
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
