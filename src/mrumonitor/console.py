"""What the command line shows a person: logging lines, progress bars and summary tables (rich)."""

from __future__ import annotations

import logging
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
def record_progress(description: str) -> Iterator:
    """A progress bar per source; yields a hook `(name, done, total)` as `ingest_sources` calls it."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("records"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        tasks: dict[str, int] = {}

        def hook(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(f"{description} {name}", total=total)
            progress.update(tasks[name], completed=done, total=total)

        yield hook


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


def records_table(title: str, rows: list[dict]) -> Table:
    """A plain table of flat records (numbers right-aligned, floats to one decimal)."""
    table = Table(title=title, title_justify="left")
    columns = list(rows[0]) if rows else []
    for column in columns:
        numeric = all(isinstance(row[column], (int, float)) for row in rows)
        table.add_column(column, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(f"{value:,.1f}" if isinstance(value, float) else str(value) for value in row.values()))
    return table
