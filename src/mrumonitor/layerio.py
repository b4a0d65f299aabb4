"""Writing layers safely: every file is written aside and moved into place in one step."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd


def write_geoparquet(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """Write `frame` as GeoParquet 1.1 (with bbox covering) to `path`, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    frame.to_parquet(partial, schema_version="1.1.0", write_covering_bbox=True)
    os.replace(partial, path)
    return path
