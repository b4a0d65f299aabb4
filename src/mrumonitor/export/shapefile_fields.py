"""Shapefile attribute fields: names of at most 10 characters, and only the types dBASE can hold.

**Field-name rule** (deterministic: the same columns in the same order always give the same fields):

1. Each column name is made plain ASCII: accents are dropped ("Région" -> "Region"), any character other
   than a letter, digit or underscore becomes "_", a name that does not start with a letter gets an "f" in
   front, and a name left empty becomes "field".
2. Names of 10 characters or fewer keep that spelling, in column order, unless an earlier one took it
   (dBASE compares field names ignoring case).
3. Every other name is cut to its first 10 characters; if that is taken, its end is replaced by "_1", "_2",
   ... (keeping the first 8, 7, ... characters) until the name is free.

**Types**: datetimes become ISO 8601 text ("2024-01-15T00:00:00"; dBASE dates hold no time) and booleans
become integers 1 (true) / 0 (false). Text is written as UTF-8, declared in the .cpg file.

Every export carries the mapping (column, field, conversion): in its metadata sidecar and as `fields.csv`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

#: dBASE limit on field names, in bytes (ASCII, so characters).
MAX_FIELD_NAME = 10

_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


def field_names(columns: Iterable[str]) -> dict[str, str]:
    """Map each column name to a unique Shapefile field name (see the rule in the module doc)."""
    columns = list(columns)
    plain = {column: _plain(column) for column in columns}
    taken: set[str] = set()
    names: dict[str, str] = {}
    for column in columns:
        name = plain[column]
        if len(name) <= MAX_FIELD_NAME and name.lower() not in taken:
            names[column] = name
            taken.add(name.lower())
    for column in columns:
        if column not in names:
            names[column] = _free(plain[column], taken)
            taken.add(names[column].lower())
    return {column: names[column] for column in columns}


def _plain(column: str) -> str:
    """`column` in ASCII letters, digits and underscores, starting with a letter."""
    ascii_name = unicodedata.normalize("NFKD", str(column)).encode("ascii", "ignore").decode()
    name = _NOT_NAME.sub("_", ascii_name)
    if not name:
        return "field"
    return name if name[0].isalpha() else f"f{name}"


def _free(name: str, taken: set[str]) -> str:
    """`name` cut to the limit, with a numbered end where that is taken."""
    candidate, number = name[:MAX_FIELD_NAME], 0
    while candidate.lower() in taken:
        number += 1
        suffix = f"_{number}"
        candidate = name[: MAX_FIELD_NAME - len(suffix)] + suffix
    return candidate


def shapefile_attributes(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """`frame` with its attribute columns renamed and converted for a Shapefile, and the field mapping.

    Returns
    -------
    frame : DataFrame
        The renamed, converted frame (the active geometry column is left alone).
    fields : list of dict
        One row per attribute column, in order: ``column`` (original name), ``field`` (Shapefile name) and
        ``conversion`` (what was done to the values, "" when nothing).
    """
    geometry = getattr(frame, "_geometry_column_name", None)
    columns = [column for column in frame.columns if column != geometry]
    names = field_names(columns)
    converted = frame.copy()
    fields = []
    for column in columns:
        converted[column], conversion = _dbase_values(frame[column])
        fields.append({"column": column, "field": names[column], "conversion": conversion})
    return converted.rename(columns=names), fields


def _dbase_values(values: pd.Series) -> tuple[pd.Series, str]:
    """Values dBASE can hold, and a note of the conversion ("" when none)."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("Int64"), "boolean written as integer: 1 true, 0 false"
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object)
        return text.where(values.notna(), None), "datetime written as ISO 8601 text (YYYY-MM-DDTHH:MM:SS)"
    return values, ""
