"""Opening a cadastre source of the configuration (`sources.<name>`) with the shared vector readers.

What is particular to a cadastre is checked here, before any record is harmonised: the file exists, it holds
records, and it has every column `sources.<name>.fields` (and `.csv`) names.
"""

from __future__ import annotations

from dataclasses import replace

from mrumonitor.config import SourceSettings
from mrumonitor.errors import InputFileError
from mrumonitor.layerio.filechecks import require_file
from mrumonitor.layerio.readers import RecordStream, open_vector


def open_source(name: str, source: SourceSettings) -> RecordStream:
    """Open the file of `sources.<name>` with the reader its format names.

    Parameters
    ----------
    name : str
        The source's name in ``[sources]``; the stream is named by it.
    source : SourceSettings
        Its settings: file, format, CRS, encoding, layer and the columns it maps.

    Returns
    -------
    RecordStream

    Raises
    ------
    InputFileError
        When the file is missing, holds no records, or lacks a mapped column.
    """
    require_file(source.file, f"sources.{name}.file")
    stream = open_vector(source.file, source.format, f"sources.{name}", source.crs, source.encoding, source.csv,
                         source.layer)
    stream = replace(stream, name=name)  # a cadastre stream is named by its source name, not its label
    if not stream.total:
        raise no_records_error(name, source)
    missing = [column for column in _mapped_columns(source) if column not in stream.columns]
    if missing:
        raise InputFileError(
            source.file, f"has no column {', '.join(map(repr, missing))} (named in sources.{name}.fields); "
                         f"its columns are: {', '.join(stream.columns)}.",
            f"correct sources.{name}.fields to the file's column names.")
    return stream


def no_records_error(name: str, source: SourceSettings) -> InputFileError:
    """The error for a cadastre without records: published, it would make all mining of its country unregistered."""
    layer = f", layer {source.layer!r}" if source.layer else ""
    return InputFileError(
        source.file, f"holds no licence records (sources.{name}{layer}): with an empty cadastre every mining site "
                     f"in {source.country} would count as unregistered.",
        "check the export (its layer, a filter applied when exporting) and export the cadastre again.")


def _mapped_columns(source: SourceSettings) -> list[str]:
    columns = [column for column in source.fields.model_dump().values() if column]
    if source.csv is not None:
        columns += [column for column in (source.csv.wkt, source.csv.x, source.csv.y) if column]
    return columns
