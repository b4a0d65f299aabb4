"""What a published run was computed with, read from the run alone (never from today's configuration).

A run's manifest records its effective configuration (``config.effective``: the analysis CRS under
``crs.analysis``, the countries under ``project.countries``) and the reference layers written into its
folder (``reference``: name -> path, see `mrumonitor.reference.layers`). The dashboard draws a run, and the
exports clip it, with these: an old run is shown as it was computed, whatever the configuration and the
reference files have become since.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyproj import CRS

from mrumonitor.crs import norm_crs
from mrumonitor.errors import ConfigError, StoreError
from mrumonitor.reference.layers import ReferenceLayers
from mrumonitor.runfolder import RunFolder


def run_crs(run_dir: Path, manifest: dict[str, Any]) -> CRS:
    """The analysis CRS the run was computed in (its manifest's ``config.effective.crs.analysis``).

    Raises
    ------
    StoreError
        The manifest does not record it, or records something that is not a CRS.
    """
    value = _effective(run_dir, manifest, "crs", "analysis")
    try:
        return norm_crs(value, "config.effective.crs.analysis")
    except ConfigError as exc:
        raise StoreError(f"{RunFolder(run_dir).manifest}: {exc} Publish a new run with `mrumonitor run`.") from None


def run_countries(run_dir: Path, manifest: dict[str, Any]) -> tuple[str, ...]:
    """The countries of the run's project (its manifest's ``config.effective.project.countries``).

    Raises
    ------
    StoreError
        The manifest does not record them.
    """
    return tuple(_effective(run_dir, manifest, "project", "countries"))


def run_reference(run_dir: Path, manifest: dict[str, Any]) -> ReferenceLayers:
    """The reference layers the run carries (country outlines, borders, border zone, posts, commodity zones,
    admin areas), in the run's analysis CRS.

    Raises
    ------
    StoreError
        The run carries no reference layers (published before runs did: the message says to publish a new run),
        one of them cannot be read, or the manifest does not record the run's CRS.
    """
    names = manifest.get("reference")
    return ReferenceLayers.read(RunFolder(run_dir), names if isinstance(names, dict) else {},
                                run_crs(run_dir, manifest))


def _effective(run_dir: Path, manifest: dict[str, Any], table: str, key: str) -> Any:
    """The key `table.key` of the configuration the run was computed with."""
    value = ((manifest.get("config") or {}).get("effective") or {}).get(table, {}).get(key)
    if not value:
        raise StoreError(f"{RunFolder(run_dir).manifest}: the manifest does not record config.effective.{table}."
                         f"{key} (the run was published by an older mrumonitor or edited by hand). Publish a new "
                         "run with `mrumonitor run`.")
    return value
