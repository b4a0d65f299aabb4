"""Which detection threshold would have done best on the verified sites.

The run maps a site where the activity (percent, 0-100) reaches ``raster.activity_threshold``. The verified sites
say which of them are truly mined (an outcome of MINING_OUTCOMES) and which are not (``not_mining``), each by its
latest conclusive visit (`feedback.latest_outcomes`). `threshold_report` scores every verified site and counts, for
every threshold t from 1 to 100, the sites it would have detected (score ≥ t) against what the field found:

- the period of a visit is the configured period holding its day (the last one listed, where rolling periods
  overlap), else the latest that ended before it, else the first;
- the footprint is the site's geometry in that period, else its geometry in the period nearest in time (by the
  periods' midpoints; ties to the later) that the run holds it in;
- the score is the highest activity of that period's activity COG inside the footprint (every pixel the footprint
  touches), read in the footprint's window only; nodata (255) is ignored. A site whose footprint has no observed
  pixel, whose period has no activity raster, or that the run does not hold cannot be scored: it is left out of
  the counts, and the sentence says how many;
- precision, recall and F1 = 2 TP / (2 TP + FP + FN) are NaN where their denominator is 0; the best threshold
  has the highest F1 (ties: the run's own threshold, then the lower), and there is none when no F1 is above 0.

Thresholds below the run's own one are judged on the verified sites only: the sites the run did not map at its
own threshold were never drawn, never visited, and what a lower threshold would add of them is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from rasterio.errors import WindowError
from rasterio.features import geometry_mask, geometry_window

from mrumonitor.analysis.feedback import latest_outcomes
from mrumonitor.config import PeriodSettings
from mrumonitor.frames import empty_frame
from mrumonitor.raster.io import open_raster, read_checked
from mrumonitor.schema import ACTIVITY_MAX, ACTIVITY_NODATA, MINING_OUTCOMES, THRESHOLD_COLUMNS

#: The thresholds judged (activity percent).
THRESHOLDS = np.arange(1, ACTIVITY_MAX + 1)


def threshold_report(visits: pd.DataFrame, site_periods: gpd.GeoDataFrame, activity: Mapping[str, Path],
                     periods: list[PeriodSettings], current: int) -> tuple[pd.DataFrame, str]:
    """How each detection threshold would have done on the verified sites (rules of the module docstring).

    Parameters
    ----------
    visits : DataFrame
        The ledger's visits (VISIT_COLUMNS).
    site_periods : GeoDataFrame
        The run's sites per period (site_id, period, geometry), in the CRS of the activity rasters or any other.
    activity : mapping
        Period name -> the run's activity COG of that period (uint8 percent, 255 nodata).
    periods : list of PeriodSettings
        The configured periods, in order.
    current : int
        The run's threshold (``raster.activity_threshold``).

    Returns
    -------
    (DataFrame, str)
        THRESHOLD_COLUMNS, one row per threshold (empty without a scored verified site), and the report in a
        sentence for people.
    """
    latest = latest_outcomes(visits)
    if latest.empty:
        return empty_frame(THRESHOLD_COLUMNS), ("No verified site yet: the detection threshold cannot be judged "
                                                "until field visits are recorded.")
    latest = latest.assign(period=_visit_periods(latest["visited_on"], periods))
    latest["footprint"] = _footprints(latest, site_periods, periods)
    latest["score"] = _scores(latest, site_periods.crs, activity)
    scored = latest[latest["score"].notna()]
    left_out = _left_out(latest, activity)
    if scored.empty:
        return empty_frame(THRESHOLD_COLUMNS), (f"None of the {len(latest)} verified sites could be scored, so no "
                                                f"threshold is judged.{left_out}")
    report = _counts(scored["score"].to_numpy(), scored["outcome"].isin(MINING_OUTCOMES).to_numpy(bool), current)
    return report, _sentence(report, len(scored), current) + left_out


def _visit_periods(visited_on: pd.Series, periods: list[PeriodSettings]) -> np.ndarray:
    """The period of each visit day: the last holding it, else the latest ended before it, else the first."""
    day = visited_on.to_numpy("datetime64[D]")[:, None]
    start = np.array([period.start for period in periods], dtype="datetime64[D]")[None, :]
    end = np.array([period.end for period in periods], dtype="datetime64[D]")[None, :]
    holding, ended = (start <= day) & (day <= end), end < day
    last_holding = holding.shape[1] - 1 - np.argmax(holding[:, ::-1], axis=1)
    latest_ended = np.argmax(np.where(ended, end.astype("int64"), np.iinfo("int64").min), axis=1)
    chosen = np.where(holding.any(axis=1), last_holding, np.where(ended.any(axis=1), latest_ended, 0))
    return np.array([period.name for period in periods], dtype=object)[chosen]


def _footprints(latest: pd.DataFrame, site_periods: gpd.GeoDataFrame, periods: list[PeriodSettings]) -> pd.Series:
    """Each verified site's footprint in the period of its visit, else in the period nearest to it (None when
    the run does not hold the site)."""
    middle = {period.name: pd.Timestamp(period.start) + (pd.Timestamp(period.end) - pd.Timestamp(period.start)) / 2
              for period in periods}
    held = pd.DataFrame({"site_id": site_periods["site_id"].to_numpy(), "held": site_periods["period"].to_numpy(),
                         "footprint": site_periods.geometry.to_numpy()})
    pairs = latest[["site_id", "period"]].reset_index().merge(held, on="site_id")
    when = pairs["held"].map(middle)
    pairs = pairs.assign(distance=(when - pairs["period"].map(middle)).abs(), when=when)
    pairs = pairs.sort_values(["index", "distance", "when"], ascending=[True, True, False], na_position="last")
    return pairs.drop_duplicates("index").set_index("index")["footprint"].reindex(latest.index)


def _scores(latest: pd.DataFrame, crs, activity: Mapping[str, Path]) -> pd.Series:
    """The highest observed activity inside each footprint in the period of its visit (NaN: none)."""
    scores = pd.Series(np.nan, index=latest.index)
    located = latest[latest["footprint"].notna() & latest["period"].isin(list(activity))]
    for period, sites in located.groupby("period"):
        with open_raster(activity[period]) as dataset:
            footprints = gpd.GeoSeries(sites["footprint"].to_numpy(), index=sites.index, crs=crs)
            if crs is not None and dataset.crs is not None:
                footprints = footprints.to_crs(dataset.crs)
            for index, footprint in footprints.items():
                scores[index] = _highest(dataset, footprint)
    return scores


def _highest(dataset, footprint) -> float:
    """The highest value of band 1 other than nodata on the pixels `footprint` touches, read in its window."""
    try:
        window = geometry_window(dataset, [footprint])
    except WindowError:
        return np.nan
    block = read_checked(dataset, 1, window=window)
    touched = ~geometry_mask([footprint], out_shape=block.shape, transform=dataset.window_transform(window),
                             all_touched=True)
    values = block[touched & (block != ACTIVITY_NODATA)]
    return float(values.max()) if values.size else np.nan


def _counts(scores: np.ndarray, mining: np.ndarray, current: int) -> pd.DataFrame:
    """THRESHOLD_COLUMNS for the scored sites: their `scores` and whether the field found them `mining`."""
    detected = scores[None, :] >= THRESHOLDS[:, None]
    tp, fp = (detected & mining).sum(axis=1), (detected & ~mining).sum(axis=1)
    fn, tn = (~detected & mining).sum(axis=1), (~detected & ~mining).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    report = pd.DataFrame({"threshold": THRESHOLDS, "true_positive": tp, "false_positive": fp,
                           "false_negative": fn, "true_negative": tn, "precision": precision, "recall": recall,
                           "f1": f1, "current": THRESHOLDS == current, "best": False})
    top = np.nanmax(f1) if np.isfinite(f1).any() else 0.0
    if top > 0:
        ties = THRESHOLDS[f1 == top]
        report["best"] = THRESHOLDS == (current if current in ties else ties.min())
    return report.astype(THRESHOLD_COLUMNS)


def _sentence(report: pd.DataFrame, scored: int, current: int) -> str:
    """The report in words."""
    sites = f"On {scored} verified site{'s' if scored != 1 else ''}"
    now = report[report["current"]]
    used = f"{current} % (F1 {_f1(now['f1'].iloc[0])})" if len(now) else f"{current} %"
    best = report[report["best"]]
    if best.empty:
        return (f"{sites} no threshold finds a site verified as mining (F1 is 0 or undefined at every threshold); "
                f"the run uses {used}.")
    row = best.iloc[0]
    found = (f"{sites} the run's threshold of {used} does best" if row["threshold"] == current else
             f"{sites} the best threshold is {row['threshold']} % (F1 {_f1(row['f1'])}); the run uses {used}")
    return (f"{found}. Below {current} % only verified sites can be judged: sites the run did not map were "
            "never visited.")


def _left_out(latest: pd.DataFrame, activity: Mapping[str, Path]) -> str:
    """Why verified sites were not scored, in words ("" when every one was)."""
    unscored = latest[latest["score"].isna()]
    placed, raster = unscored["footprint"].notna(), unscored["period"].isin(list(activity))
    reasons = {"not in this run": ~placed,
               "without an activity raster for the period of the visit": placed & ~raster,
               "without an observed pixel in the footprint in the period of the visit": placed & raster}
    parts = [f"{int(which.sum())} verified site{'s' if which.sum() > 1 else ''} {reason}"
             for reason, which in reasons.items() if which.any()]
    return f" Left out: {'; '.join(parts)}." if parts else ""


def _f1(value: float) -> str:
    return "undefined" if np.isnan(value) else f"{value:.2f}"

