"""Writing layers safely: every file is written aside and moved into place in one step."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd


def write_geoparquet(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """Write `frame` as GeoParquet 1.1 (with bbox covering) to `path`, atomically."""
    with written_aside(Path(path)) as partial:
        frame.to_parquet(partial, schema_version="1.1.0", write_covering_bbox=True)
    return Path(path)


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table without geometry as Parquet to `path`, atomically."""
    with written_aside(Path(path)) as partial:
        frame.to_parquet(partial, index=False)
    return Path(path)


@contextmanager
def written_aside(out: Path) -> Iterator[Path]:
    """Yield a fresh path beside `out`; when the block succeeds, move what was written there onto `out`.

    Names written aside are unique (two writers of the same file never share one) and keep the destination's
    suffix, because GDAL drivers check it. On any failure `out` is left as it was and the file written aside
    is removed.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}.partial{out.suffix}")
    try:
        yield partial
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
