"""Quarantine rows: the records a stage could not use, with everything their source said about them.

Every stage that reads records from a file (the cadastres in `ingest`, the detections files in
`raster.footprints`) writes what it refuses in one shape, `schema.QUARANTINE_COLUMNS`, so that one
`quarantine` layer lists them all with their file, row and reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from mrumonitor.frames import concat_frames
from mrumonitor.layerio.readers import UNPARSEABLE
from mrumonitor.polygons import finite_coordinates
from mrumonitor.schema import QUARANTINE_COLUMNS


def quarantine_rows(raw: gpd.GeoDataFrame, reason: pd.Series, detail: pd.Series, record_id: pd.Series, *,
                    layer: str, source_name: str, country: str, source_file: Path, crs: CRS) -> gpd.GeoDataFrame:
    """Quarantine rows keeping everything the source said: all attributes (JSON) and the raw WKT.

    Parameters
    ----------
    raw : GeoDataFrame
        The refused records as a reader of `layerio.readers` gave them (with `source_row`), in their file's CRS.
    reason, detail : Series
        Per record: the `schema.Reason` value and the explanation with its fix.
    record_id : Series
        Per record: its id in the source ("" where it has none).
    layer, source_name, country, source_file
        Where the records come from: the layer they were meant for, the configured input, its country ("" for
        none) and its file.
    crs : CRS
        The CRS of the rows' geometry: the raw one placed in `crs` where that is possible (None where it
        cannot exist).

    Returns
    -------
    GeoDataFrame
        `schema.QUARANTINE_COLUMNS` + source_crs, source_wkt + geometry.
    """
    attributes = raw.drop(columns=[raw.geometry.name, UNPARSEABLE, "source_row"]).astype(object)
    records = attributes.where(attributes.notna(), None).to_dict("records")
    frame = pd.DataFrame({
        "layer": layer,
        "source_name": source_name,
        "country": country,
        "source_file": str(source_file),
        "source_row": raw["source_row"].to_numpy(),
        "record_id": record_id.to_numpy(),
        "reason": reason.to_numpy(),
        "detail": detail.to_numpy(),
        "attributes": [json.dumps(record, ensure_ascii=False, default=str) for record in records],
        "source_crs": raw.crs.to_string(),
        "source_wkt": shapely.to_wkt(raw.geometry.to_numpy()),
    }).astype({**QUARANTINE_COLUMNS, "source_crs": "string", "source_wkt": "string"})
    located = raw.geometry.to_crs(crs).to_numpy()
    return gpd.GeoDataFrame(frame, geometry=np.where(finite_coordinates(located), located, None), crs=crs)


def empty_quarantine(crs: Any) -> gpd.GeoDataFrame:
    """Quarantine rows of an input that quarantines nothing: no rows, the `schema.QUARANTINE_COLUMNS`."""
    return concat_frames([], crs, QUARANTINE_COLUMNS)
