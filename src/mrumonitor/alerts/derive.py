"""The alerts of a run: what changed at each site between two consecutive periods p-1 -> p.

Every period after the first is compared with the one before it (the first has nothing to compare with, so it
gives no alert). A site's row of `site_periods` in p is an alert of kind (ALERT_KINDS):

- ``new_site``: the site is seen in p and in no earlier period;
- ``growth``: seen in p-1 and p, its area grew by at least ``alerts.growth_min_ha`` AND by at least
  ``alerts.growth_min_share`` of its area in p-1;
- ``new_unregistered_border``: in the border zone in p, its unregistered area grew by at least
  ``alerts.border_min_ha`` since p-1 (from 0 when it was not seen in p-1);
- ``licence_breach``: its registration in p is ``exploration_only``, ``wrong_commodity`` or ``expired_licence``
  (activity inside a licence of the wrong type or commodity, or an expired one), and it was not that class in
  p-1 (or the site was not seen in p-1);
- ``verified_resumed``: the site's latest conclusive field visit (`analysis.feedback.latest_outcomes`) found
  mining (MINING_OUTCOMES) and took place on or before the last day of p; the site was not seen in p-1, or did
  not grow in p-1 (its area in p-1 no larger than in p-2; a site first seen in p-1 grew), and in p it is seen
  with new area (larger than in p-1, or seen again).

One change may give several alerts (a new site in the border zone without a licence is ``new_site`` and
``new_unregistered_border``): each is for a different reader.

Confidence counts points of evidence, then 2 points or more is ``high``, 1 ``medium``, 0 ``low``:

- +1 when the site is seen in both p-1 and p (a site seen only in p gets no point);
- +1 when the observation of p is clear: less than ``alerts.max_gap_share`` of the footprint in p lies under the
  `gaps` of p (no valid observation, e.g. clouds);
- +1 when the change is at least twice its threshold (``growth``: both thresholds doubled;
  ``new_unregistered_border``: twice ``border_min_ha``), or, for ``verified_resumed``, for the field visit itself.
  ``new_site`` and ``licence_breach`` have no threshold and so reach ``high`` only when both other points hold
  (a licence breach of a site seen in two periods under a clear sky).

`alert_id` is the first 16 hex digits of the SHA-1 of ``kind|site_id|period``: the same change is the same alert
in every run. An alert the previous published run held keeps its ``first_run``, its ``announce`` and is not
``new_in_run``; with no previous run, only the alerts of the last period are new, so a first run does not send its
whole history. ``announce`` is ``new_in_run`` of the run that first published the alert, carried on: deliveries
(`mrumonitor.alerts.deliver`) send only announced alerts (a previous run of a version without the column counts
its alerts as announced).
"""

from __future__ import annotations

import hashlib
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.analysis.feedback import latest_outcomes
from mrumonitor.config import AlertSettings, PeriodSettings
from mrumonitor.frames import empty_layer
from mrumonitor.schema import ALERT_COLUMNS, ALERT_KIND_WORDS, ALERT_KINDS, CONFIDENCE_LEVELS, MINING_OUTCOMES

#: Registration classes that are activity inside a licence that does not allow it (`licence_breach`).
BREACH_CLASSES = ("exploration_only", "wrong_commodity", "expired_licence")


def derive_alerts(sites: gpd.GeoDataFrame, site_periods: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame,
                  visits: pd.DataFrame | None, periods: list[PeriodSettings], settings: AlertSettings,
                  previous: pd.DataFrame | None, run_id: str) -> gpd.GeoDataFrame:
    """The alerts of a run (ALERT_COLUMNS + geometry), by the rules of the module docstring.

    Parameters
    ----------
    sites : GeoDataFrame
        The run's `sites` layer (site_id, country).
    site_periods : GeoDataFrame
        One row per site and period with area_ha, registration, licence_id, unregistered_ha, in_border_zone,
        border_pair, corridor_id and the footprint, in the analysis CRS.
    gaps : GeoDataFrame
        The run's `gaps` layer (period, geometry): where a period had no valid observation.
    visits : DataFrame or None
        The verification ledger's visits (VISIT_COLUMNS); None or empty: no ``verified_resumed`` alert.
    periods : list of PeriodSettings
        The run's periods in time order; rows of other periods are left out.
    settings : AlertSettings
        ``Settings.alerts``.
    previous : DataFrame or None
        The previous published run's `alerts` layer (alert_id, first_run), None when there is none.
    run_id : str
        This run's id.

    Returns
    -------
    GeoDataFrame
        Sorted new_in_run first, then period (latest first), confidence (best first), kind (ALERT_KINDS order),
        site_id.
    """
    crs = site_periods.crs
    names = [period.name for period in periods]
    rows = _compared(site_periods, names)
    if rows.empty:
        return empty_layer(ALERT_COLUMNS, crs)
    found = pd.concat([_kinds(rows, settings), _resumed(rows, visits, periods)], ignore_index=True)
    if found.empty:
        return empty_layer(ALERT_COLUMNS, crs)
    found["gap_share"] = _gap_share(found, gaps, crs)
    found["clear"] = found["gap_share"] < settings.max_gap_share
    points = found["seen_prev"].astype(int) + found["clear"].astype(int) + found["strong"].astype(int)
    found["confidence"] = np.select([points >= 2, points == 1], ["high", "medium"], "low")
    country = sites.drop_duplicates("site_id").set_index("site_id")["country"] if len(sites) else pd.Series(
        dtype="string")
    found["country"] = found["site_id"].map(country).fillna("")
    found["alert_id"] = (found["kind"] + "|" + found["site_id"] + "|" + found["period"]).map(_hash)
    found = _runs(found, previous, run_id, names[-1])
    found["evidence"] = _evidence(found)
    found["message"] = _message(found)
    return _sorted(found, names, crs)


def _compared(site_periods: gpd.GeoDataFrame, names: list[str]) -> pd.DataFrame:
    """The site periods of p >= the second period beside their values in p-1 (prev_*, NaN when not seen) and the
    area in p-2 (area_p2), with seen_prev and first (no earlier period holds the site)."""
    order = pd.Series(range(len(names)), index=names)
    frame = pd.DataFrame(site_periods.drop(columns=site_periods.geometry.name)).assign(
        geometry=site_periods.geometry.array, step=site_periods["period"].map(order))
    frame = frame[frame["step"].notna()].astype({"step": int})
    if frame.empty:
        return frame
    frame["first_step"] = frame.groupby("site_id")["step"].transform("min")
    earlier = frame[["site_id", "step", "area_ha", "registration", "unregistered_ha"]]
    prev = earlier.assign(step=earlier["step"] + 1).add_prefix("prev_").rename(
        columns={"prev_site_id": "site_id", "prev_step": "step"})
    before = earlier[["site_id", "step", "area_ha"]].assign(step=earlier["step"] + 2).rename(
        columns={"area_ha": "area_p2"})
    rows = frame[frame["step"] >= 1].merge(prev, on=["site_id", "step"], how="left").merge(
        before, on=["site_id", "step"], how="left")
    rows["seen_prev"] = rows["prev_area_ha"].notna()
    rows["first"] = rows["first_step"] == rows["step"]
    rows["prev_name"] = np.asarray(names, dtype=object)[rows["step"].to_numpy() - 1]
    return rows.reset_index(drop=True)


def _kinds(rows: pd.DataFrame, settings: AlertSettings) -> pd.DataFrame:
    """The alerts of the four kinds judged from the site periods alone (not verified_resumed)."""
    change = rows["area_ha"] - rows["prev_area_ha"].fillna(0.0)
    share_needed = settings.growth_min_share * rows["prev_area_ha"]
    grew = rows["seen_prev"] & (change >= settings.growth_min_ha) & (change >= share_needed)
    unregistered_change = rows["unregistered_ha"].fillna(0.0) - rows["prev_unregistered_ha"].fillna(0.0)
    in_zone = rows["in_border_zone"].astype("boolean").fillna(False).astype(bool)
    border = in_zone & (unregistered_change >= settings.border_min_ha)
    breach = rows["registration"].isin(BREACH_CLASSES) & (
        ~rows["seen_prev"] | (rows["prev_registration"].fillna("") != rows["registration"].fillna("")))
    parts = [
        rows[rows["first"]].assign(kind="new_site", change_ha=change[rows["first"]], strong=False),
        rows[grew].assign(kind="growth", change_ha=change[grew], strong=(change >= 2 * settings.growth_min_ha)[grew]
                          & (change >= 2 * share_needed)[grew]),
        rows[border].assign(kind="new_unregistered_border", change_ha=unregistered_change[border],
                            strong=(unregistered_change >= 2 * settings.border_min_ha)[border]),
        rows[breach].assign(kind="licence_breach", change_ha=change[breach], strong=False),
    ]
    return pd.concat(parts, ignore_index=True)


def _resumed(rows: pd.DataFrame, visits: pd.DataFrame | None, periods: list[PeriodSettings]) -> pd.DataFrame:
    """verified_resumed alerts: a site verified as mining, quiet or unseen in p-1, with new area in p."""
    latest = latest_outcomes(visits) if visits is not None and len(visits) else None
    if latest is None or latest.empty:
        return rows.iloc[:0]
    mining = latest[latest["outcome"].isin(MINING_OUTCOMES)][["site_id", "visited_on"]]
    ends = pd.Series([period.end for period in periods], dtype="datetime64[ms]")
    candidates = rows.merge(mining, on="site_id")
    end = ends.to_numpy()[candidates["step"].to_numpy()]
    visited = candidates["visited_on"].isna() | (candidates["visited_on"].to_numpy() <= end)
    quiet = ~candidates["seen_prev"] | (candidates["prev_area_ha"] <= candidates["area_p2"])
    new_area = ~candidates["seen_prev"] | (candidates["area_ha"] > candidates["prev_area_ha"])
    picked = candidates[visited & quiet & new_area & ~candidates["first"]]
    return picked.drop(columns="visited_on").assign(
        kind="verified_resumed", change_ha=picked["area_ha"] - picked["prev_area_ha"].fillna(0.0), strong=True)


def _gap_share(found: pd.DataFrame, gaps: gpd.GeoDataFrame | None, crs: Any) -> np.ndarray:
    """The share of each alert's footprint (in its period) that lies under the gaps of that period (the gaps of a
    period are merged first, so overlapping gaps count once)."""
    share = np.zeros(len(found))
    if gaps is None or gaps.empty or found.empty:
        return share
    if gaps.crs is not None and crs is not None and gaps.crs != crs:
        gaps = gaps.to_crs(crs)
    merged = gaps[["period", gaps.geometry.name]].dissolve(by="period")
    tree = shapely.STRtree(merged.geometry.array)
    footprints = np.asarray(found["geometry"].array)
    alert, gap = tree.query(footprints, predicate="intersects")
    same = found["period"].to_numpy()[alert] == merged.index.to_numpy()[gap]
    alert, gap = alert[same], gap[same]
    covered = shapely.area(shapely.intersection(footprints[alert], np.asarray(merged.geometry.array)[gap]))
    area = shapely.area(footprints[alert])
    share[alert] = np.divide(covered, area, out=np.ones_like(covered), where=area > 0)
    return np.clip(share, 0.0, 1.0)


def _hash(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _runs(found: pd.DataFrame, previous: pd.DataFrame | None, run_id: str, last: str) -> pd.DataFrame:
    """first_run, new_in_run and announce against the previous published run (module docstring)."""
    if previous is None:
        new = found["period"] == last
        return found.assign(first_run=run_id, new_in_run=new, announce=new)
    known = previous.drop_duplicates("alert_id").set_index("alert_id")
    first = found["alert_id"].map(known["first_run"])
    announced = known["announce"] if "announce" in known else pd.Series(True, index=known.index)
    announce = found["alert_id"].map(announced).astype("boolean").fillna(True).astype(bool)
    return found.assign(first_run=first.fillna(run_id), new_in_run=first.isna(), announce=announce)


def _evidence(found: pd.DataFrame) -> pd.Series:
    """What was compared, in plain words."""
    area, prev = found["area_ha"], found["prev_area_ha"]
    growth = np.where(prev > 0, (area - prev) / prev.where(prev > 0) * 100, np.nan)
    compared = np.where(found["seen_prev"],
                        "area " + prev.map("{:.1f}".format) + " ha in " + found["prev_name"] + " -> "
                        + area.map("{:.1f}".format) + " ha in " + found["period"] + " ("
                        + (area - prev).map("{:+.1f}".format) + " ha, "
                        + pd.Series(growth, index=found.index).map("{:+.0f} %".format).where(np.isfinite(growth),
                                                                                             "from 0") + ")",
                        "not seen in " + found["prev_name"] + "; " + area.map("{:.1f}".format) + " ha in "
                        + found["period"])
    unregistered = ("unregistered " + found["prev_unregistered_ha"].fillna(0.0).map("{:.1f}".format) + " -> "
                    + found["unregistered_ha"].fillna(0.0).map("{:.1f}".format) + " ha in the border zone ("
                    + found["border_pair"].fillna("") + ")")
    registration = "registration " + found["prev_registration"].fillna("none") + " -> " + found["registration"]
    detail = np.select([found["kind"] == "new_unregistered_border", found["kind"] == "licence_breach",
                        found["kind"] == "verified_resumed"],
                       ["; " + unregistered, "; " + registration + " (licence " + found["licence_id"].fillna("")
                        + ")", "; verified as mining in the field"], "")
    seen = np.where(found["seen_prev"], "; seen in 2 periods", "; seen in 1 period")
    sky = np.where(found["clear"], "; clear observation",
                   "; " + (found["gap_share"] * 100).map("{:.0f}".format) + " % of the footprint unobserved")
    return pd.Series(compared + detail + seen + sky, index=found.index)


def _message(found: pd.DataFrame) -> pd.Series:
    """One sentence for a person."""
    where = np.where(found["country"] != "", " in " + found["country"], "")
    unregistered = np.where(found["kind"] == "new_unregistered_border", " unregistered", "")
    return (found["kind"].map(ALERT_KIND_WORDS) + ": site " + found["site_id"] + where + " in " + found["period"] + " ("
            + found["area_ha"].map("{:.1f}".format) + " ha, " + found["change_ha"].map("{:+.1f}".format)
            + " ha" + unregistered + "); " + found["confidence"] + " confidence.")


def _sorted(found: pd.DataFrame, names: list[str], crs: Any) -> gpd.GeoDataFrame:
    keys = pd.DataFrame({"new": ~found["new_in_run"], "period": -found["step"],
                         "confidence": found["confidence"].map({c: i for i, c in enumerate(CONFIDENCE_LEVELS)}),
                         "kind": found["kind"].map({k: i for i, k in enumerate(ALERT_KINDS)}),
                         "site_id": found["site_id"]})
    found = found.loc[keys.sort_values(list(keys.columns), kind="stable").index]
    points = shapely.point_on_surface(np.asarray(found["geometry"].array))
    table = found.reindex(columns=list(ALERT_COLUMNS)).astype(ALERT_COLUMNS).reset_index(drop=True)
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(points, crs=crs), crs=crs)

