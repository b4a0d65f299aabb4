"""The cadastre snapshots of the `concessions` layer: which records are the licences now.

A country's cadastre can be loaded as several dated snapshots (``[sources.<name>]`` blocks of one country, each
with its ``snapshot`` date; the sources with the same date form one snapshot). The `concessions` layer keeps
every snapshot's records, each with its `snapshot` date (NaT for a source that states none), so that the
analysis can judge each period by the snapshot in force that day (`analysis.licence_history`). What means
"the licences now" (the dashboard's map and dossiers) takes `current_licences`; `snapshots_text` says which
snapshots a run read (the manifest's ``snapshots``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd


def current_licences(concessions: pd.DataFrame) -> pd.DataFrame:
    """The licences now: each country's newest dated snapshot, plus the records of sources that state no date.

    Parameters
    ----------
    concessions : DataFrame
        The canonical `concessions` layer (a GeoDataFrame stays one). A layer of a run made before snapshots
        were kept (no `snapshot` column) is returned whole: it held one snapshot per country.

    Returns
    -------
    DataFrame
        The rows kept, in their order, with their index.
    """
    if "snapshot" not in concessions.columns:
        return concessions
    snapshot = concessions["snapshot"]
    newest = snapshot.groupby(concessions["country"]).transform("max")
    return concessions[snapshot.isna() | (snapshot == newest)]


def snapshots_text(snapshots: Mapping[str, Any]) -> str:
    """The manifest's ``snapshots`` in words: "SLE 2024-12-01 + 2026-06-01, GIN not stated".

    Each country's value is the list of its snapshot dates (None for a source that states no date), or, in the
    manifest of an older run, one date or None.
    """
    def days(value: Any) -> str:
        values = value if isinstance(value, list) else [value]
        return " + ".join(day or "not stated" for day in values) or "not stated"
    return ", ".join(f"{country} {days(value)}" for country, value in snapshots.items())
