"""Licence history: which cadastre snapshot judges each period, country by country.

The `concessions` layer keeps every snapshot of a country's cadastre (its `snapshot` column; NaT for a source
that states no date). For a period observed on day `d` (`PeriodSettings.observed_on`) and a country:

- the snapshot **in force** is the newest dated snapshot of that country on or before `d`; a licence is
  judged from that snapshot's record only: its status and its dates (basis ``snapshot``). A status is never
  carried back before the snapshot that first shows it, and a licence the snapshot in force lacks does not
  cover the period, even if a later snapshot shows it granted earlier;
- a period older than every snapshot of its country is judged from the **earliest** snapshot's records by
  their dates only (granted, expires; the status is ignored, as nothing says it held then): basis
  ``dates_only``, and the run says so in a caveat;
- the records of sources without a snapshot date are in force for every period (basis ``undated`` when the
  country has no dated snapshot); a country with no licence records at all has basis ``none``.

`licence_snapshots` gives the table of the layer of the same name; `in_force` says, for (footprint, licence)
pairs, which pairs count and which are judged from the dates only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mrumonitor.config import PeriodSettings
from mrumonitor.i18n import N_
from mrumonitor.i18n.messages import english_word
from mrumonitor.schema import LICENCE_SNAPSHOT_COLUMNS


def licence_snapshots(concessions: pd.DataFrame, periods: list[PeriodSettings],
                      countries: Sequence[str] = ()) -> pd.DataFrame:
    """Per period and country: the snapshot that judges its licences, on which basis, and a note saying so.

    Parameters
    ----------
    concessions : DataFrame
        The canonical `concessions` layer (country, snapshot).
    periods : list of PeriodSettings
        The periods, giving each its observation day.
    countries : sequence of str
        The countries to report besides those of `concessions` (the project's: one without licences has
        basis ``none``).

    Returns
    -------
    DataFrame
        LICENCE_SNAPSHOT_COLUMNS, one row per period (in the order given) and country.
    """
    snapshot = snapshot_dates(concessions)
    records = pd.DataFrame({"country": concessions["country"].astype(str).to_numpy(), "snapshot": snapshot})
    dated = (records.dropna().groupby(["country", "snapshot"]).size().rename("dated").reset_index()
             .astype({"country": object, "snapshot": "datetime64[ns]"}))
    per_country = pd.DataFrame({
        "first": dated.groupby("country")["snapshot"].min(),
        "undated": records[records["snapshot"].isna()].groupby("country").size()}).rename_axis("country")
    names = list(dict.fromkeys([*countries, *sorted(records["country"].unique())]))
    grid = pd.DataFrame({"period": [p.name for p in periods], "rank": range(len(periods)),
                         "observed": pd.to_datetime([p.observed_on for p in periods]).astype("datetime64[ns]")}
                        ).merge(pd.DataFrame({"country": pd.Series(names, dtype=object)}), how="cross")
    table = pd.merge_asof(grid.sort_values("observed"), dated.sort_values("snapshot"), left_on="observed",
                          right_on="snapshot", by="country", direction="backward")
    table = table.sort_values(["rank", "country"], key=_country_order(names), ignore_index=True)
    table = table.merge(per_country.reset_index(), how="left", on="country")
    first = table["first"].astype("datetime64[ns]")
    table["undated"] = table["undated"].fillna(0).astype("int64")
    table["basis"] = np.select([table["snapshot"].notna(), first.notna(), table["undated"] > 0],
                               ["snapshot", "dates_only", "undated"], default="none")
    dates_only = table["basis"] == "dates_only"
    table.loc[dates_only, "snapshot"] = first[dates_only]
    table["dated"] = table[["country", "snapshot"]].merge(dated, how="left")["dated"].fillna(0).astype("int64")
    table["licences"] = table["dated"] + table["undated"]
    table["note"] = _notes(table)
    return table[list(LICENCE_SNAPSHOT_COLUMNS)].astype(LICENCE_SNAPSHOT_COLUMNS)


def in_force(licences: pd.DataFrame, period: np.ndarray, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Which (footprint, licence) pairs count, and which of those are judged from the licence's dates only.

    Parameters
    ----------
    licences : DataFrame
        The `concessions` record of each pair (country, snapshot).
    period : array of str
        The period of each pair's footprint.
    table : DataFrame
        `licence_snapshots` of those periods.

    Returns
    -------
    (keep, dates_only) : boolean arrays, one value per pair
        `keep`: the record is undated, or of the snapshot that judges its country in that period.
        `dates_only`: a kept dated record of a period older than every snapshot of its country.
    """
    pairs = pd.DataFrame({"period": np.asarray(period, dtype=object),
                          "country": licences["country"].astype(str).to_numpy()})
    force = pairs.merge(table[["period", "country", "snapshot", "basis"]].astype({"period": object, "country": object}),
                        how="left", on=["period", "country"])
    own = snapshot_dates(licences).to_numpy(dtype="datetime64[ns]")
    undated = np.isnat(own)
    keep = undated | (own == force["snapshot"].to_numpy(dtype="datetime64[ns]"))
    return keep, keep & ~undated & (force["basis"] == "dates_only").to_numpy()


#: The caveat of a country whose periods were judged from the licences' dates only (one period, several).
DATES_ONLY = N_("%(country)s: period %(periods)s is older than the first snapshot of its cadastre (%(snapshot)s), so its "
                "licences were judged from their grant and expiry dates only: a licence suspended or revoked at the "
                "time counts as registered. An older export of the cadastre, added with its date, would judge it "
                "fully.")
DATES_ONLY_PERIODS = N_("%(country)s: periods %(periods)s are older than the first snapshot of its cadastre "
                        "(%(snapshot)s), so their licences were judged from their grant and expiry dates only: a "
                        "licence suspended or revoked at the time counts as registered. An older export of the "
                        "cadastre, added with its date, would judge them fully.")


def dates_only_caveats(table: pd.DataFrame) -> list[str]:
    """One run caveat per country with periods judged from the licences' dates only (English, from a template)."""
    older = table[table["basis"] == "dates_only"]
    return [(DATES_ONLY if len(group) == 1 else DATES_ONLY_PERIODS) % {
                "country": english_word("country", country), "periods": ", ".join(group["period"]),
                "snapshot": f"{group['snapshot'].iloc[0]:%Y-%m-%d}"}
            for country, group in older.groupby("country", sort=False)]


def snapshot_dates(concessions: pd.DataFrame) -> pd.Series:
    """The `snapshot` column as datetime64[ns] (all NaT for a layer made before snapshots were kept)."""
    if "snapshot" not in concessions.columns:
        return pd.Series(pd.NaT, index=concessions.index, dtype="datetime64[ns]")
    return concessions["snapshot"].astype("datetime64[ns]")


def _notes(table: pd.DataFrame) -> pd.Series:
    """The sentence of each row: what judged the period's licences."""
    day = table["snapshot"].dt.strftime("%Y-%m-%d").fillna("")
    count = table["dated"].astype(str)
    notes = pd.Series(np.select(
        [table["basis"] == "snapshot", table["basis"] == "dates_only", table["basis"] == "undated"],
        ["judged from the cadastre snapshot of " + day + " (" + count + " licences)",
         "judged from the licences' dates only: this period is older than the first snapshot, " + day
         + " (" + count + " licences; their status then is not known)",
         "judged from cadastre sources that state no snapshot date, taken as in force on every day"],
        default="no licence records for " + table["country"] + ": its mining counts as no_licence"), index=table.index)
    also = (table["undated"] > 0) & table["basis"].isin(["snapshot", "dates_only"])
    return notes.where(~also, notes + ", with " + table["undated"].astype(str)
                       + " licences of sources that state no snapshot date")


def _country_order(names: list[str]):
    """Sort key keeping the countries in the order given (the project's first)."""
    order = {name: rank for rank, name in enumerate(names)}

    def key(column: pd.Series) -> pd.Series:
        return column.map(order) if column.name == "country" else column
    return key
