"""Shared layer I/O below the stages: opening vector files, checking them, writing layers, quarantine rows.

The stages (ingest, reference, raster, sites, analysis) and the export read and write their layers through
this package; it imports no stage (tests/test_rooms.py).

- `readers`: `open_vector` and the `RecordStream` it gives, over every vector format an input arrives in;
- `filechecks`: the checks made on a file before any library reads it (zips, Shapefile parts);
- `writing`: `write_geoparquet`, `write_parquet`, `written_aside` (every file written atomically);
- `quarantine`: `quarantine_rows`, the one shape of the records a stage refuses.
"""

from mrumonitor.layerio.quarantine import empty_quarantine, quarantine_rows
from mrumonitor.layerio.readers import UNPARSEABLE, RecordStream, open_vector
from mrumonitor.layerio.writing import write_geoparquet, write_parquet, written_aside

__all__ = [
    "UNPARSEABLE",
    "RecordStream",
    "empty_quarantine",
    "open_vector",
    "quarantine_rows",
    "write_geoparquet",
    "write_parquet",
    "written_aside",
]
