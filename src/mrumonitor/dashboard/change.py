"""Growth between two periods, of each site and each border corridor: hectares gained and the change in per cent.

A period is compared with an earlier one the user picks, by default the one just before it
(`compared_period`). The figures come from `growth`: something seen only in the earlier period has shrunk by
100 %; something new in the later one has grown from 0 ha, and its change in per cent is missing (shown "new",
never an infinite share); 0 ha in both is no change (0 %). "Growing fastest" (`growing_fastest`) orders by the
hectares gained, then the per cent, the new last among equal gains.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from dash import dcc

from mrumonitor.i18n import _

#: The columns `growth` adds: area in the earlier and the later period, the change in ha and as a share (0.5: +50 %;
#: missing for something new).
GROWTH_COLUMNS = ("before_ha", "after_ha", "change_ha", "change_pct")
#: The comparison control's value for "the period before the one shown".
PREVIOUS = ""


def previous_period(periods: Sequence[str], period: str) -> str | None:
    """The period just before `period` in the run's `periods` (in order); None for the first or an unknown one."""
    position = list(periods).index(period) if period in periods else 0
    return periods[position - 1] if position > 0 else None


def compared_period(periods: Sequence[str], period: str, chosen: str | None) -> str | None:
    """The period `period` is compared with: `chosen` when it is another period of the run, else the previous one
    (`PREVIOUS`, an unknown or the same period)."""
    if chosen in periods and chosen != period:
        return chosen
    return previous_period(periods, period)


def growth(before: pd.Series, after: pd.Series) -> pd.DataFrame:
    """The change from area `before` to area `after` (hectares, indexed alike: a site or corridor id; a missing
    entry is 0 ha), on the union of both indexes: `GROWTH_COLUMNS`.

    `change_pct` is the change as a share of `before` (10 -> 15 ha: 0.5; gone: -1.0), 0.0 where both are 0, and
    missing (NaN) only where `before` is 0 and `after` is not: something new."""
    index = before.index.union(after.index)
    earlier = before.reindex(index).fillna(0.0).astype(float)
    later = after.reindex(index).fillna(0.0).astype(float)
    change = later - earlier
    share = np.where(earlier > 0, change / earlier.where(earlier > 0, 1.0), np.where(later > 0, np.nan, 0.0))
    return pd.DataFrame({"before_ha": earlier, "after_ha": later, "change_ha": change, "change_pct": share},
                        index=index)


def growing_fastest(table: pd.DataFrame) -> pd.DataFrame:
    """`table` (with `GROWTH_COLUMNS`) ordered by the hectares gained, then the per cent (new ones after the others
    of equal gain), largest first; stable, so earlier ties keep their order."""
    return table.sort_values(["change_ha", "change_pct"], ascending=False, na_position="last", kind="stable")


def compare_control(component_id: str, periods: Sequence[str]) -> dcc.Dropdown:
    """The "compared with" dropdown: the previous period (the default), or any period of the run."""
    return dcc.Dropdown(id=component_id, clearable=False, value=PREVIOUS,
                        options=[{"label": _("the previous period"), "value": PREVIOUS}]
                        + [{"label": name, "value": name} for name in periods])
