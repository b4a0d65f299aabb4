"""Assembling layers from the batches and chunks stages produce them in, and a layer with no rows."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd


def concat_frames(frames: list[gpd.GeoDataFrame], crs: Any, columns: dict[str, str] | None = None
                  ) -> gpd.GeoDataFrame:
    """Concatenate batch frames in `crs`; with no frames at all (an empty file), an empty frame of `columns`.

    Empty batches are left out (pandas warns about their dtypes) unless every batch is empty, in which
    case the first one keeps the columns.
    """
    given = [frame for frame in frames if frame is not None]
    frames = [frame for frame in given if len(frame)] or given[:1]
    if not frames:
        return empty_layer(columns or {}, crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    """A table with the `columns` of a schema (name -> pandas dtype) and no rows."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def empty_layer(columns: dict[str, str], crs: Any) -> gpd.GeoDataFrame:
    """A vector layer with the `columns` of a schema, an empty geometry column in `crs`, and no rows."""
    return gpd.GeoDataFrame(empty_frame(columns), geometry=gpd.GeoSeries([], crs=crs), crs=crs)
