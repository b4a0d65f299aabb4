"""National terms and dates -> canonical values, vectorised over a column."""

from __future__ import annotations

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

    Columns that already hold dates (GeoPackage DATE/DATETIME) are taken as they are.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ms]"), pd.Series(False, index=values.index)
    present = values.dropna()
    if len(present) and present.map(lambda v: hasattr(v, "year")).all():
        parsed = pd.to_datetime(values, errors="coerce")
        return parsed.astype("datetime64[ms]"), pd.Series(False, index=values.index)
    text = values.astype("string").str.strip()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ms]")
    for fmt in formats:
        attempt = pd.to_datetime(text, format=fmt, errors="coerce")
        parsed = parsed.fillna(attempt.astype("datetime64[ms]"))
    unparseable = text.fillna("").ne("") & parsed.isna()
    return parsed, unparseable.astype(bool)
