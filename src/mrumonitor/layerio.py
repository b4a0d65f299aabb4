"""Writing layers safely: every file is written aside and moved into place in one step."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd


def write_geoparquet(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """Write `frame` as GeoParquet 1.1 (with bbox covering) to `path`, atomically."""
    return _atomically(path, lambda partial: frame.to_parquet(partial, schema_version="1.1.0",
                                                              write_covering_bbox=True))


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table without geometry as Parquet to `path`, atomically."""
    return _atomically(path, lambda partial: frame.to_parquet(partial, index=False))


def _atomically(path: Path, write: Callable[[Path], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
