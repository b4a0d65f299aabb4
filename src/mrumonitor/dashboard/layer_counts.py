"""How many features or rows a layer's export holds for one country: what the downloads page says beside it.

The count follows the export's own rule (`export.clip`): a table keeps the rows of the country; a vector layer
keeps the features inside the country's outline, those crossing it cut (so counted), those only touching it
dropped. A raster has no count. Runs never change once published, so each count is computed once per process.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import shapely

from mrumonitor.export.clip import country_outline
from mrumonitor.export.run_reference import run_reference
from mrumonitor.export.source import layer_source
from mrumonitor.store.runs import read_manifest


def country_count(run_dir: Path, layer: str, country: str) -> int | None:
    """The number of features (vector) or rows (table) of `layer` in its export for `country`; None for a raster
    or a table without a country column (not exported per country)."""
    return _count(str(Path(run_dir).resolve()), layer, country)


@lru_cache(maxsize=512)
def _count(run_dir: str, layer: str, country: str) -> int | None:
    manifest = read_manifest(Path(run_dir))
    source = layer_source(Path(run_dir), manifest, layer)
    if source.kind == "table":
        if "country" not in pq.read_schema(source.path).names:
            return None
        return int((pd.read_parquet(source.path, columns=["country"])["country"] == country).sum())
    if source.kind != "vector":
        return None
    frame = gpd.read_parquet(source.path, columns=["geometry"])
    outline = country_outline(run_reference(Path(run_dir), manifest).boundaries, country, frame.crs)
    geoms = frame.geometry.values[frame.sindex.query(outline, predicate="intersects")]
    kept = shapely.covered_by(geoms, outline) | ~shapely.touches(geoms, outline)
    return int(kept.sum())
