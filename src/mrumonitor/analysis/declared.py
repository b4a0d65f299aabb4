"""Declared Kimberley Process statistics: reading the CSV, and flagging figures that do not add up.

The file holds one row per country and year: country (ISO3), year, production_carats, production_usd,
export_carats, export_usd (an empty cell is an unknown figure), source (where the figures come from) and
illustrative (true for a made-up demo figure, false for a published statistic). `read_declared` refuses a
malformed file with the line and the fix.

`declared_anomalies` flags, with the thresholds of [capacity.anomalies]:

- a value per carat (production, or exports) far from the median of the other countries' value per carat
  within ``neighbour_years`` years either side (no flag when no other country has a figure then);
- production valued per carat far from exports valued per carat, and production carats far from export
  carats, in the same country and year;
- production carats jumping between two consecutive years that are both declared.

Published and ILLUSTRATIVE figures are never compared with each other: a published value per carat is set
against the published figures of the neighbours only, a jump needs two published (or two ILLUSTRATIVE)
years. Flags among ILLUSTRATIVE figures are still raised, so the demo shows every kind of flag, but they carry
illustrative = true and a note in their message, and the command below lists them apart. Every flag names
in `compared` the country-years it set against each other and their kind ("CIV 2014 production US$/ct
(published) with the median of LBR 2014, SLE 2016 production US$/ct (published)"); its message shows the
figures.

The comparison with the estimates from mined area is made in `mrumonitor.analysis.capacity`, which builds its
flags with `anomaly_rows` so every flag has the same columns (KP_ANOMALY_COLUMNS) and the same plain words.

`flag_report` writes the flags of a declared file in plain text (``mrumonitor kp-flags [CSV]``: the
configured one by default), published first.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import get_args

import numpy as np
import pandas as pd

from mrumonitor.config import AnomalyThresholds, Country
from mrumonitor.errors import InputFileError
from mrumonitor.frames import empty_frame
from mrumonitor.schema import KP_ANOMALY_COLUMNS

#: Columns of the declared KP statistics, in file order, with the dtypes `read_declared` gives them.
DECLARED_COLUMNS: dict[str, str] = {
    "country": "string",
    "year": "int64",
    "production_carats": "float64",
    "production_usd": "float64",
    "export_carats": "float64",
    "export_usd": "float64",
    "source": "string",
    "illustrative": "bool",
}

#: The figure columns: plain non-negative numbers, or empty when unknown.
FIGURES = ("production_carats", "production_usd", "export_carats", "export_usd")

_COUNTRIES = get_args(Country)
_NAMES = {"SLE": "Sierra Leone", "GIN": "Guinea", "LBR": "Liberia", "CIV": "Côte d'Ivoire", "GHA": "Ghana"}
_TRUTH = {"true": True, "false": False}
_YEARS = (1900, 2100)
_ILLUSTRATIVE_NOTE = " [ILLUSTRATIVE figures, not KP statistics]"


class Flag(StrEnum):
    """What a KP anomaly is. The value is the code stored in the `flag` column."""

    PRODUCTION_VALUE_VS_NEIGHBOURS = "production_value_vs_neighbours"
    EXPORT_VALUE_VS_NEIGHBOURS = "export_value_vs_neighbours"
    PRODUCTION_VS_EXPORT_VALUE = "production_vs_export_value"
    PRODUCTION_VS_EXPORT_CARATS = "production_vs_export_carats"
    PRODUCTION_JUMP = "production_jump"
    BELOW_ESTIMATE = "below_estimate"
    ABOVE_ESTIMATE = "above_estimate"


def read_declared(path: str | Path) -> pd.DataFrame:
    """Read and check a CSV of declared KP statistics.

    Parameters
    ----------
    path : str or Path
        UTF-8 CSV with a header line naming the columns of DECLARED_COLUMNS (in any order; other columns
        are ignored).

    Returns
    -------
    DataFrame
        DECLARED_COLUMNS, one row per country and year, in file order; unknown figures are NaN.

    Raises
    ------
    InputFileError
        When the file is missing or unreadable, a column is missing, or a line holds an unknown country
        code, a year or figure that is not a number, a negative figure, an illustrative flag other than
        true/false, an empty source, or a country and year already given: the message names the line and
        the fix.
    """
    path = Path(path)
    raw = _read_table(path)
    cells = raw.apply(lambda column: column.str.strip())
    cells = cells[cells.ne("").any(axis=1)]
    frame = pd.DataFrame({
        "country": _country(cells, path),
        "year": _year(cells, path),
        **{name: _figure(cells, name, path) for name in FIGURES},
        "source": _source(cells, path),
        "illustrative": _illustrative(cells, path),
    }, index=cells.index)
    _refuse_duplicates(frame, path)
    return frame.astype(DECLARED_COLUMNS).reset_index(drop=True)


def declared_anomalies(declared: pd.DataFrame, thresholds: AnomalyThresholds) -> pd.DataFrame:
    """Flag declared figures that do not add up, on their own (rules: module docstring).

    Parameters
    ----------
    declared : DataFrame
        DECLARED_COLUMNS, as `read_declared` returns them.
    thresholds : AnomalyThresholds
        `settings.capacity.anomalies`.

    Returns
    -------
    DataFrame
        KP_ANOMALY_COLUMNS, one row per flag, by country, year and flag.
    """
    return anomaly_table([
        _neighbour_flags(declared, "production", thresholds),
        _neighbour_flags(declared, "export", thresholds),
        _value_mismatch_flags(declared, thresholds.production_export_value_factor),
        _carat_mismatch_flags(declared, thresholds.production_export_carats_factor),
        _jump_flags(declared, thresholds.jump_factor),
    ])


def anomaly_rows(rows: pd.DataFrame, flag: Flag, unit: str, message: pd.Series, compared: pd.Series
                 ) -> pd.DataFrame:
    """KP_ANOMALY_COLUMNS rows for `rows` (country, year, figure, reference, illustrative), their messages and
    which figures each compared (`compared`, in words).

    The ratio is figure / reference (NaN when the reference is 0); a note is added to the message of a flag
    on illustrative figures.
    """
    note = pd.Series(np.where(rows["illustrative"], _ILLUSTRATIVE_NOTE, ""), index=rows.index)
    reference = rows["reference"].where(rows["reference"] != 0)
    return rows.assign(flag=str(flag), ratio=rows["figure"] / reference, unit=unit, compared=compared,
                       message=message + note)[list(KP_ANOMALY_COLUMNS)]


def anomaly_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate flag rows into one table of KP_ANOMALY_COLUMNS, by country, year and flag."""
    parts = [part for part in parts if len(part)]
    if not parts:
        return empty_frame(KP_ANOMALY_COLUMNS)
    table = pd.concat(parts, ignore_index=True).astype(KP_ANOMALY_COLUMNS)
    return table.sort_values(["country", "year", "flag"], ignore_index=True)


def country_names(codes: pd.Series) -> pd.Series:
    """Country names for messages ("Côte d'Ivoire" for CIV); an unknown code stays as it is."""
    return codes.map(_NAMES).fillna(codes).astype(str)


def number(values: pd.Series, decimals: int = 0) -> pd.Series:
    """Figures written for messages: thousands separated, `decimals` places."""
    return values.map(f"{{:,.{decimals}f}}".format).astype(str)


def times(ratio: pd.Series) -> pd.Series:
    """How many times apart two figures are, whichever is larger, written as "4.6×"."""
    apart = np.maximum(ratio, 1 / ratio)
    return number(apart, 1).where(np.isfinite(apart), "∞") + "×"


def empty_declared() -> pd.DataFrame:
    """A declared table with no rows, for when no file is configured."""
    return empty_frame(DECLARED_COLUMNS)


# --- reading -------------------------------------------------------------------------------------------

def _read_table(path: Path) -> pd.DataFrame:
    """Every cell as text, indexed by the line number in the file (header = line 1)."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(path, "the declared KP statistics file does not exist.",
                             'set capacity.declared to the CSV of declared figures, or to "" to compare '
                             "nothing.") from None
    except pd.errors.EmptyDataError:
        raise InputFileError(path, "the file is empty.", f"write the header line: {','.join(DECLARED_COLUMNS)}, "
                                                          "then one line per country and year.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"not a readable CSV ({exc}).",
                             "save it as UTF-8 CSV, with the same number of cells on every line.") from None
    raw = raw.fillna("")
    raw.columns = raw.columns.str.strip()
    missing = [name for name in DECLARED_COLUMNS if name not in raw.columns]
    if missing:
        raise InputFileError(path, f"line 1: the column{'s' if len(missing) > 1 else ''} "
                                   f"{', '.join(missing)} {'are' if len(missing) > 1 else 'is'} missing.",
                             f"the header line must name {', '.join(DECLARED_COLUMNS)}.")
    raw.index = raw.index + 2
    return raw


def _refuse(path: Path, cells: pd.DataFrame, bad: pd.Series, column: str, problem: str, fix: str) -> None:
    """Fail on the first line where `bad` holds, showing its `column` cell and counting the other lines."""
    if not bad.any():
        return
    line = bad.idxmax()
    others = int(bad.sum()) - 1
    more = f" ({others} more line{'s' if others > 1 else ''} like it)" if others else ""
    raise InputFileError(path, f"line {line}: {column} is {cells.at[line, column]!r}, {problem}{more}.", fix)


def _country(cells: pd.DataFrame, path: Path) -> pd.Series:
    code = cells["country"].str.upper()
    _refuse(path, cells, ~code.isin(_COUNTRIES), "country", "not a known country code",
            f"write the ISO 3166-1 alpha-3 code of the country: {', '.join(_COUNTRIES)}.")
    return code


def _year(cells: pd.DataFrame, path: Path) -> pd.Series:
    year = pd.to_numeric(cells["year"], errors="coerce")
    bad = year.isna() | (year % 1 != 0) | ~year.between(*_YEARS)
    _refuse(path, cells, bad, "year", "not a year", "write the calendar year as four digits, e.g. 2019.")
    return year


def _figure(cells: pd.DataFrame, column: str, path: Path) -> pd.Series:
    value = pd.to_numeric(cells[column], errors="coerce")
    unreadable = (cells[column] != "") & (value.isna() | np.isinf(value))
    _refuse(path, cells, unreadable, column, "not a number",
            "write a plain number without thousands separators or currency signs (549000), or leave the cell "
            "empty when the figure is unknown.")
    _refuse(path, cells, value < 0, column, "below zero",
            "carats and US$ values cannot be negative: correct the figure, or leave the cell empty when it is "
            "unknown.")
    return value


def _source(cells: pd.DataFrame, path: Path) -> pd.Series:
    _refuse(path, cells, cells["source"] == "", "source", "empty",
            "say where the figures come from, e.g. 'Kimberley Process public statistics'.")
    return cells["source"]


def _illustrative(cells: pd.DataFrame, path: Path) -> pd.Series:
    flag = cells["illustrative"].str.lower().map(_TRUTH)
    _refuse(path, cells, flag.isna(), "illustrative", "neither true nor false",
            "write true for a made-up or estimated figure, false for a published statistic.")
    return flag


def _refuse_duplicates(frame: pd.DataFrame, path: Path) -> None:
    repeated = frame[frame.duplicated(["country", "year"], keep=False)]
    if len(repeated):
        first = repeated.iloc[0]
        same = repeated[(repeated["country"] == first["country"]) & (repeated["year"] == first["year"])]
        raise InputFileError(path, f"lines {' and '.join(map(str, same.index))} both give {first['country']} "
                                   f"{int(first['year'])}.", "keep one line per country and year.")


# --- flags on the declared figures alone -------------------------------------------------------------

def _kind(illustrative: pd.Series) -> pd.Series:
    """What a figure is, for the `compared` column: "published" or "ILLUSTRATIVE"."""
    return pd.Series(np.where(illustrative, "ILLUSTRATIVE", "published"), index=illustrative.index)


def _per_carat(declared: pd.DataFrame, kind: str) -> pd.Series:
    """US$ per carat of production or exports; NaN where a figure is missing or the carats are 0."""
    carats = declared[f"{kind}_carats"]
    return (declared[f"{kind}_usd"] / carats.where(carats > 0)).rename("value")


def _neighbour_pairs(declared: pd.DataFrame, kind: str, years: int) -> pd.DataFrame:
    """Every (country-year, other country's year) pair within `years` years, of the same kind of figure.

    A published figure is paired only with published figures, an ILLUSTRATIVE one only with ILLUSTRATIVE
    ones, so a made-up demo figure never moves the reference of a published one.
    """
    value = declared[["country", "year", "illustrative"]].assign(value=_per_carat(declared, kind))
    value = value.dropna(subset=["value"])
    pairs = value.merge(value, on="illustrative", suffixes=("", "_other"))
    pairs = pairs[(pairs["country"] != pairs["country_other"])
                  & ((pairs["year"] - pairs["year_other"]).abs() <= years)]
    return pairs.sort_values(["country", "year", "country_other", "year_other"], ignore_index=True)


def _year_runs(pairs: pd.DataFrame) -> pd.DataFrame:
    """The neighbours of each country-year in words: per other country, its years as runs ("GIN 2014–2016,
    2018"), and each neighbour-year with its figure ("GIN 2014 (US$120/ct)")."""
    own = ["country", "year"]
    neighbour = [*own, "country_other"]
    new_run = pairs.groupby(neighbour).ngroup().diff().ne(0) | pairs["year_other"].diff().ne(1)
    runs = pairs.assign(run=new_run.astype("int64").cumsum()).groupby([*neighbour, "run"], as_index=False).agg(
        first=("year_other", "min"), last=("year_other", "max"))
    span = runs["first"].astype(str).where(runs["first"] == runs["last"],
                                           runs["first"].astype(str) + "–" + runs["last"].astype(str))
    by_country = runs.assign(span=span).groupby(neighbour, as_index=False)["span"].agg(", ".join)
    by_country["words"] = by_country["country_other"] + " " + by_country["span"]
    figures = (pairs["country_other"] + " " + pairs["year_other"].astype(str) + " (US$"
               + number(pairs["value_other"]) + "/ct)")
    return by_country.groupby(own)["words"].agg(", ".join).to_frame("years").join(
        pairs.assign(figures=figures).groupby(own)["figures"].agg(", ".join))


def _neighbour_flags(declared: pd.DataFrame, kind: str, thresholds: AnomalyThresholds) -> pd.DataFrame:
    pairs = _neighbour_pairs(declared, kind, thresholds.neighbour_years)
    if pairs.empty:
        return empty_frame(KP_ANOMALY_COLUMNS)
    rows = pairs.groupby(["country", "year"], as_index=False).agg(
        figure=("value", "first"), reference=("value_other", "median"), illustrative=("illustrative", "first"))
    rows = rows.join(_year_runs(pairs), on=["country", "year"])
    ratio = rows["figure"] / rows["reference"]
    rows = rows[np.maximum(ratio, 1 / ratio) > thresholds.neighbour_value_factor]
    above = rows["figure"] > rows["reference"]
    what = "production" if kind == "production" else "exports"
    hint = (np.where(above, "check for stones from elsewhere declared as national production, or a valuation error",
                     "check for under-valued declarations, or the better stones leaving outside the KP system")
            if kind == "production" else
            np.where(above, "check for stones from elsewhere exported under national certificates, or a valuation "
                            "error",
                     "check for under-valued exports (transfer pricing), or the better stones leaving outside the "
                     "KP system"))
    message = (country_names(rows["country"]) + " " + rows["year"].astype(str) + f": {what} valued at US$"
               + number(rows["figure"]) + "/ct, " + times(rows["figure"] / rows["reference"])
               + pd.Series(np.where(above, " above", " below"), index=rows.index) + " US$"
               + number(rows["reference"]) + "/ct, the median of " + rows["figures"] + " — "
               + pd.Series(hint, index=rows.index, dtype=object))
    figure = f"{kind} US$/ct (" + _kind(rows["illustrative"]) + ")"
    compared = (rows["country"] + " " + rows["year"].astype(str) + " " + figure + " with the median of "
                + rows["years"] + " " + figure)
    flag = Flag.PRODUCTION_VALUE_VS_NEIGHBOURS if kind == "production" else Flag.EXPORT_VALUE_VS_NEIGHBOURS
    return anomaly_rows(rows, flag, "US$/ct", message, compared)


def _value_mismatch_flags(declared: pd.DataFrame, factor: float) -> pd.DataFrame:
    rows = declared.assign(figure=_per_carat(declared, "production"), reference=_per_carat(declared, "export"))
    ratio = rows["figure"] / rows["reference"]
    rows = rows[np.maximum(ratio, 1 / ratio) > factor]
    hint = np.where(rows["figure"] < rows["reference"],
                    "check for under-valued production or exports of stones from elsewhere",
                    "check for under-valued exports (transfer pricing), or the better stones leaving outside the KP "
                    "system")
    message = (country_names(rows["country"]) + " " + rows["year"].astype(str) + ": production valued at US$"
               + number(rows["figure"]) + "/ct (US$" + number(rows["production_usd"]) + " for "
               + number(rows["production_carats"], 2) + " ct) but exports at US$" + number(rows["reference"])
               + "/ct (US$" + number(rows["export_usd"]) + " for " + number(rows["export_carats"], 2) + " ct, "
               + times(rows["figure"] / rows["reference"]) + ") — " + pd.Series(hint, index=rows.index, dtype=object))
    compared = _same_year(rows, "production US$/ct with export US$/ct")
    return anomaly_rows(rows, Flag.PRODUCTION_VS_EXPORT_VALUE, "US$/ct", message, compared)


def _carat_mismatch_flags(declared: pd.DataFrame, factor: float) -> pd.DataFrame:
    rows = declared.assign(figure=declared["production_carats"], reference=declared["export_carats"])
    ratio = rows["figure"] / rows["reference"]
    rows = rows[np.maximum(ratio, 1 / ratio) > factor]
    hint = np.where(rows["figure"] < rows["reference"],
                    "check for stones from elsewhere exported as national production (or stocks carried over)",
                    "check where the rest of the production went (stocks, or stones leaving outside the KP system)")
    message = (country_names(rows["country"]) + " " + rows["year"].astype(str) + ": production "
               + number(rows["figure"]) + " ct but exports " + number(rows["reference"]) + " ct ("
               + times(rows["figure"] / rows["reference"]) + ") — " + pd.Series(hint, index=rows.index, dtype=object))
    compared = _same_year(rows, "production carats with export carats")
    return anomaly_rows(rows, Flag.PRODUCTION_VS_EXPORT_CARATS, "ct", message, compared)


def _same_year(rows: pd.DataFrame, figures: str) -> pd.Series:
    """`compared` for two figures of one country-year: "CIV 2019 production US$/ct with export US$/ct
    (published)"."""
    return (rows["country"] + " " + rows["year"].astype(str) + f" {figures} ("
            + _kind(rows["illustrative"]) + ")")


def _jump_flags(declared: pd.DataFrame, factor: float) -> pd.DataFrame:
    """Production carats of consecutive years of the same kind (published with published, ILLUSTRATIVE with
    ILLUSTRATIVE: a made-up year beside a published one is no jump)."""
    known = declared.loc[declared["production_carats"].notna(), ["country", "year", "production_carats",
                                                                  "illustrative"]]
    before = known.assign(year=known["year"] + 1)
    rows = known.merge(before, on=["country", "year", "illustrative"], suffixes=("", "_before"))
    rows = rows.assign(figure=rows["production_carats"], reference=rows["production_carats_before"])
    ratio = rows["figure"] / rows["reference"]
    rows = rows[np.maximum(ratio, 1 / ratio) > factor]
    up = rows["figure"] > rows["reference"]
    hint = np.where(up, " up) — check for a new mine, a change in reporting, or stones from elsewhere passed off as "
                        "national production",
                    " down) — check for a mine closing, a change in reporting, or production leaving outside the KP "
                    "system")
    previous = (rows["year"] - 1).astype(str)
    message = (country_names(rows["country"]) + " " + rows["year"].astype(str) + ": production "
               + number(rows["figure"]) + " ct against " + number(rows["reference"]) + " ct in " + previous + " ("
               + times(rows["figure"] / rows["reference"]) + pd.Series(hint, index=rows.index, dtype=object))
    figure = " production carats (" + _kind(rows["illustrative"]) + ")"
    compared = (rows["country"] + " " + rows["year"].astype(str) + figure + " with " + rows["country"] + " "
                + previous + figure)
    return anomaly_rows(rows, Flag.PRODUCTION_JUMP, "ct", message, compared)


# --- the check command -------------------------------------------------------------------------------

def flag_report(declared: pd.DataFrame, thresholds: AnomalyThresholds) -> str:
    """The flags of `declared` in plain text: the published figures' flags first, then the ILLUSTRATIVE ones,
    each with its message and what it compared, and a count per flag."""
    flags = declared_anomalies(declared, thresholds)
    published = int((~declared["illustrative"]).sum())
    lines = [f"{len(declared)} country-years declared: {published} published, "
             + f"{len(declared) - published} ILLUSTRATIVE."]
    for illustrative, title in ((False, "published figures"), (True, "ILLUSTRATIVE figures (demo only)")):
        part = flags[flags["illustrative"] == illustrative]
        counts = part["flag"].value_counts().sort_index()
        summary = ", ".join(f"{flag} {count}" for flag, count in counts.items()) or "none"
        lines += ["", f"Flags on {title}: {len(part)} ({summary})"]
        lines += ("- " + part["message"] + "\n  compared: " + part["compared"]).tolist()
    return "\n".join(lines)
