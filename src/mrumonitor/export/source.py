"""Finding a layer of a published run from its manifest, and reading it.

A layer name is only ever looked up in `manifest["layers"]`; the file it maps to must lie inside the run
folder (no absolute path, no `..`, no link leading out). Nothing the user types becomes part of a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa

from mrumonitor.errors import ExportError, UnknownLayer
from mrumonitor.runfolder import RunFolder

#: Kinds of layer a manifest may declare.
KINDS = ("vector", "table", "raster")


@dataclass(frozen=True)
class LayerSource:
    """One layer of a published run.

    Attributes
    ----------
    name : str
        The layer's name in the manifest.
    kind : str
        "vector" (GeoParquet), "table" (Parquet, no geometry) or "raster" (activity COG).
    path : Path
        Its file, inside the run folder.
    entry : dict
        Its manifest entry (title, description, crs, count, period ...).
    """

    name: str
    kind: str
    path: Path
    entry: dict[str, Any]


def layer_source(run_dir: Path, manifest: dict[str, Any], layer: str) -> LayerSource:
    """The layer called `layer` in `manifest`, with its file checked to lie inside `run_dir`.

    Raises
    ------
    ExportError
        When the run has no such layer (the message lists those it has), or its manifest entry is damaged:
        an unknown kind, or a path that is missing or leads out of the run folder.
    """
    layers = manifest.get("layers") or {}
    if layer not in layers:
        raise UnknownLayer(f"run {manifest.get('run_id', run_dir.name)} has no layer {layer!r}; "
                          f"its layers are: {', '.join(sorted(layers)) or 'none'}.")
    entry = layers[layer]
    kind = entry.get("kind")
    if kind not in KINDS:
        raise ExportError(f"{RunFolder(run_dir).manifest}: layer {layer!r} has kind {kind!r}, not one of "
                          f"{', '.join(KINDS)}. Fix: publish the run again.")
    return LayerSource(layer, kind, _inside_run(run_dir, entry.get("path"), layer), entry)


def _inside_run(run_dir: Path, relative: Any, layer: str) -> Path:
    """The file `relative` names inside `run_dir`, refused when it is absolute, leads out or is missing."""
    root = Path(run_dir).resolve()
    fix = "publish the run again; never edit a run's manifest by hand."
    if not isinstance(relative, str) or not relative or PurePath(relative).is_absolute():
        raise ExportError(f"{RunFolder(root).manifest}: layer {layer!r} has path {relative!r}, which is not a "
                          f"path relative to the run folder. Fix: {fix}")
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ExportError(f"{RunFolder(root).manifest}: the path of layer {layer!r} ({relative!r}) leads out of "
                          f"the run folder; it is refused. Fix: {fix}")
    if not path.is_file():
        raise ExportError(f"{path}: the file of layer {layer!r} is missing from the run. Fix: {fix}")
    return path


def read_frame(source: LayerSource) -> pd.DataFrame:
    """Read a vector layer as a GeoDataFrame (which must declare its CRS), or a table as a DataFrame."""
    try:
        if source.kind == "table":
            return pd.read_parquet(source.path)
        frame = gpd.read_parquet(source.path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ExportError(f"{source.path}: layer {source.name!r} cannot be read ({exc}). "
                          "Fix: publish the run again.") from exc
    if frame.crs is None:
        raise ExportError(f"{source.path}: layer {source.name!r} declares no CRS. Fix: publish the run again.")
    return frame
