"""National terms and dates -> canonical values, vectorised over a column."""

from __future__ import annotations

import datetime as dt

import pandas as pd

_APOSTROPHES = "[\u2019\u2018\u02bc`\u00b4]"


def normalise_terms(values: pd.Series) -> pd.Series:
    """Fold case, accents, apostrophe style and repeated spaces, so "PERMIS D’EXPLOITATION  Artisanale"
    matches "Permis d'exploitation artisanale". Missing values stay missing."""
    text = values.astype("string").str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)
    text = text.str.replace(_APOSTROPHES, "'", regex=True).str.replace(r"\s+", " ", regex=True)
    return text.str.strip().str.casefold()


def map_terms(values: pd.Series, mapping: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Map national terms through `mapping`. Returns (canonical values, mask of non-empty unmapped terms)."""
    lookup = dict(zip(normalise_terms(pd.Series(list(mapping), dtype="string")), mapping.values()))
    keys = normalise_terms(values)
    mapped = keys.map(lookup).astype("string")
    unknown = keys.fillna("").ne("") & mapped.isna()
    return mapped, unknown.astype(bool)


def parse_dates(values: pd.Series, formats: list[str]) -> tuple[pd.Series, pd.Series]:
    """Parse a date column trying `formats` in order. Returns (dates, mask of non-empty unparseable values).

    Columns that already hold dates or date-times (GeoPackage DATE/DATETIME, with or without a time zone) are
    taken as they are, as the calendar day they name where they were written. A numeric column (20240115) is
    read as the text of its whole numbers, so '%Y%m%d' can parse it.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.normalize().astype("datetime64[ms]"), pd.Series(False, index=values.index)
    present = values.dropna()
    if len(present) and present.map(lambda v: hasattr(v, "year")).all():
        days = values.map(lambda v: dt.date(v.year, v.month, v.day), na_action="ignore")
        return pd.to_datetime(days).astype("datetime64[ms]"), pd.Series(False, index=values.index)
    text = as_text(values).str.strip()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ms]")
    for fmt in formats:
        attempt = pd.to_datetime(text, format=fmt, errors="coerce")
        parsed = parsed.fillna(attempt.astype("datetime64[ms]"))
    unparseable = text.fillna("").ne("") & parsed.isna()
    return parsed, unparseable.astype(bool)


def impossible_date(text: str, formats: list[str]) -> str | None:
    """Why `text`, written in one of `formats`, is no real day ("31/02/2024": day is out of range for month);
    None when no format fits it at all."""
    for fmt in formats:
        try:
            dt.datetime.strptime(text, fmt)
        except ValueError as exc:
            if "does not match format" not in str(exc) and "unconverted data" not in str(exc):
                return f"{exc}, reading it as {fmt}"
    return None


def as_text(values: pd.Series) -> pd.Series:
    """Text of a column; a numeric column of whole numbers gives them without a trailing '.0' (id 123, not
    123.0, when a missing value made the column float)."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return values.astype("string")
    numbers = values.astype("Float64")
    whole = (numbers.round().eq(numbers) & numbers.abs().lt(2**53)).fillna(True).all()
    return numbers.astype("Int64").astype("string") if whole else numbers.astype("string")
