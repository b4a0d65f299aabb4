"""What the field found, applied to a run: verified outcomes correct the registration of the sites they concern.

Each site counts with its latest conclusive visit (`latest_outcomes`: the latest `visited_on`, then the latest
entered; an `inaccessible` visit never outweighs a conclusive one). For a site whose latest visit on day `d`
found:

- ``not_mining`` (a false positive of the detector): every period of the site that starts no later than
  `d` + ``hold_days`` is classed ``verified_not_mining``; its area counts as neither registered nor
  unregistered production, and is counted as such (`registration_summary` has a row for the class). A sandbar
  or a quarry found on the ground was one before the visit too, so earlier periods are corrected as well.
- ``licensed`` (mining under a licence the cadastre did not show): the periods from the one holding `d` up to
  `d` + ``hold_days`` are re-classed ``registered`` (the licence seen on site named, where the team noted it);
  never a period that ended before the visit: a licence seen today says nothing of last year (issue 18).
  Area outside the assessed countries stays ``not_assessed``.
- ``active_mining`` or ``inactive_mining``: the class stands; the periods from `d` on are marked confirmed.

A site verified as mining (``active_mining`` or ``licensed``) that the run does not see in a period from the one
holding `d` up to `d` + ``hold_days`` is flagged ``missed_by_detector`` for that period, not forgotten; a verified
site the run does not hold at all is flagged ``not_in_run``. Every change is a row of `FEEDBACK_COLUMNS`
(`verification_feedback`) and a sentence in the site period's ``verification`` column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from mrumonitor.config import PeriodSettings
from mrumonitor.frames import empty_frame
from mrumonitor.schema import CONCLUSIVE_OUTCOMES, FEEDBACK_COLUMNS, NOT_MINING_CLASS, UNREGISTERED_CLASSES

#: What each outcome does to the site periods it holds for (the module docstring gives the periods).
_EFFECTS = {"not_mining": "excluded_false_positive", "licensed": "reclassed_licensed",
            "active_mining": "confirmed", "inactive_mining": "confirmed"}
#: Outcomes that say the site is being mined: a period without it is a miss of the detector.
_SEEN_MINING = ("active_mining", "licensed")


@dataclass(frozen=True)
class Feedback:
    """The site periods and registration pieces with the verified outcomes applied, and what changed."""

    site_periods: gpd.GeoDataFrame
    pieces: gpd.GeoDataFrame
    table: pd.DataFrame


def latest_outcomes(visits: pd.DataFrame) -> pd.DataFrame:
    """The latest conclusive visit of each site (VISIT_COLUMNS rows, one per site_id, sorted by site_id)."""
    conclusive = visits[visits["outcome"].isin(CONCLUSIVE_OUTCOMES)]
    ordered = conclusive.sort_values(["site_id", "visited_on", "entered_at"], kind="stable")
    return ordered.drop_duplicates("site_id", keep="last").reset_index(drop=True)


def apply_feedback(site_periods: gpd.GeoDataFrame, pieces: gpd.GeoDataFrame, visits: pd.DataFrame | None,
                   periods: list[PeriodSettings], hold_days: int) -> Feedback:
    """Apply the latest conclusive visit of each site to its periods (rules of the module docstring).

    Parameters
    ----------
    site_periods : GeoDataFrame
        One row per site and period with the registration columns (registration, licence_id, registered_ha,
        unregistered_ha) and area_ha.
    pieces : GeoDataFrame
        The `site_registration` pieces (site_id, period, registration, licence_id, area_ha, geometry).
    visits : DataFrame or None
        The ledger's visits (VISIT_COLUMNS); None or an empty frame changes nothing.
    periods : list of PeriodSettings
        Every period of the run, in order.
    hold_days : int
        ``verification.hold_days``.
    """
    site_periods, pieces = site_periods.reset_index(drop=True), pieces.reset_index(drop=True)
    site_periods = site_periods.assign(verification=pd.Series(pd.NA, index=site_periods.index, dtype="string"))
    latest = latest_outcomes(visits) if visits is not None else visits
    if latest is None or latest.empty:
        return Feedback(site_periods, pieces, _table([]))
    spans = pd.DataFrame({"period": [p.name for p in periods], "start": [p.start for p in periods],
                          "end": [p.end for p in periods]})
    holds = _holding(latest, spans, hold_days)
    rows = site_periods[["site_id", "period", "registration"]].reset_index().merge(holds, on=["site_id", "period"])
    site_periods, pieces = _excluded(site_periods, pieces, rows[rows["outcome"] == "not_mining"])
    site_periods, pieces = _licensed(site_periods, pieces, rows[rows["outcome"] == "licensed"])
    site_periods.loc[rows["index"].to_numpy(), "verification"] = rows["reason"].to_numpy()
    changed = rows.assign(effect=rows["outcome"].map(_EFFECTS), previous_registration=rows["registration"],
                          registration=site_periods.loc[rows["index"].to_numpy(), "registration"].to_numpy())
    return Feedback(site_periods, pieces, _table([changed, _missed(holds, site_periods),
                                                  _not_in_run(latest, site_periods)]))


def _holding(latest: pd.DataFrame, spans: pd.DataFrame, hold_days: int) -> pd.DataFrame:
    """One row per (verified site, period) its latest visit holds for: site_id, period, visit_id, outcome,
    reason (the sentence), covers_visit (the period holds the visit day or comes after it)."""
    pairs = latest.merge(spans, how="cross")
    day = pairs["visited_on"].dt.date
    until = day + dt.timedelta(days=hold_days)
    started = pairs["start"] <= until
    from_visit = pairs["end"] >= day
    holds = started & np.where(pairs["outcome"] == "not_mining", True, from_visit)
    pairs = pairs[holds].assign(covers_visit=from_visit[holds])
    team = pairs["team"].fillna("an unnamed team")
    pairs["reason"] = (pairs["outcome"].str.replace("_", " ") + ": verified on " + day[holds].astype(str) + " by "
                       + team + " (visit " + pairs["visit_id"] + ")")
    licence = pairs["licence_seen"].fillna("")
    pairs.loc[(pairs["outcome"] == "licensed") & (licence != ""), "reason"] += "; licence seen on site: " + licence
    return pairs[["site_id", "period", "visit_id", "outcome", "reason", "licence_seen", "covers_visit"]]


def _excluded(site_periods, pieces, rows) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """False positives: the site periods and their pieces become verified_not_mining, with no production area."""
    index = rows["index"].to_numpy()
    site_periods = site_periods.copy()
    site_periods.loc[index, ["registration"]] = NOT_MINING_CLASS
    site_periods.loc[index, ["registered_ha", "unregistered_ha"]] = 0.0
    return site_periods, _relabel(pieces, rows, lambda piece: np.ones(len(piece), bool), NOT_MINING_CLASS)


def _licensed(site_periods, pieces, rows) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Registration found wrong: the unregistered part of the site periods becomes registered production."""
    index = rows["index"].to_numpy()
    site_periods = site_periods.copy()
    unregistered = site_periods.loc[index, "unregistered_ha"].to_numpy()
    site_periods.loc[index, "registered_ha"] = site_periods.loc[index, "registered_ha"].to_numpy() + unregistered
    site_periods.loc[index, "unregistered_ha"] = 0.0
    moved = site_periods.loc[index, "registration"].isin(UNREGISTERED_CLASSES).to_numpy()
    site_periods.loc[index[moved], "registration"] = "registered"
    seen = rows["licence_seen"].fillna("").to_numpy()
    named = moved & (seen != "")
    site_periods.loc[index[named], "licence_id"] = seen[named]
    return site_periods, _relabel(pieces, rows, lambda piece: piece["registration"].isin(UNREGISTERED_CLASSES),
                                  "registered", licence=True)


def _relabel(pieces: gpd.GeoDataFrame, rows: pd.DataFrame, which, registration: str,
             licence: bool = False) -> gpd.GeoDataFrame:
    """`pieces` with the pieces of the (site, period) pairs of `rows` that `which` picks given `registration`
    (and, with `licence`, the licence seen on site where the team noted one)."""
    if rows.empty:
        return pieces
    keyed = pieces[["site_id", "period"]].reset_index().merge(rows[["site_id", "period", "licence_seen"]])
    picked = keyed[np.asarray(which(pieces.loc[keyed["index"]]))]
    pieces = pieces.copy()
    pieces.loc[picked["index"].to_numpy(), "registration"] = registration
    if licence:
        seen = picked["licence_seen"].fillna("")
        pieces.loc[picked["index"].to_numpy()[seen.to_numpy() != ""], "licence_id"] = seen[seen != ""].to_numpy()
    return pieces


def _missed(holds: pd.DataFrame, site_periods: pd.DataFrame) -> pd.DataFrame:
    """Periods from the visit on in which a site verified as mining is not seen."""
    expected = holds[holds["outcome"].isin(_SEEN_MINING) & holds["covers_visit"]]
    present = pd.MultiIndex.from_frame(site_periods[["site_id", "period"]])
    known = expected["site_id"].isin(site_periods["site_id"])
    missing = expected[known & ~pd.MultiIndex.from_frame(expected[["site_id", "period"]]).isin(present)]
    return missing.assign(effect="missed_by_detector",
                          reason="not detected in " + missing["period"] + " although " + missing["reason"])


def _not_in_run(latest: pd.DataFrame, site_periods: pd.DataFrame) -> pd.DataFrame:
    """Verified sites that the run does not hold at all (a wrong id, or a site of an older run that is gone)."""
    gone = latest[~latest["site_id"].isin(site_periods["site_id"])]
    return gone.assign(period="", effect="not_in_run",
                       reason="the run holds no site " + gone["site_id"] + " (visit " + gone["visit_id"] + ")")


def _table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [part.reindex(columns=list(FEEDBACK_COLUMNS)) for part in parts if len(part)]
    if not parts:
        return empty_frame(FEEDBACK_COLUMNS)
    table = pd.concat(parts, ignore_index=True).astype(FEEDBACK_COLUMNS)
    return table.sort_values(["site_id", "period", "effect"], ignore_index=True)
