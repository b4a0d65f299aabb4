"""Which periods a verified outcome holds for (analysis.feedback), on hand-made site periods.

Three half-year periods; site A is seen in all three, B only in the first. The rules: a false positive holds back
to the first period, a licence seen on site never before the period of the visit, every outcome for
``hold_days`` after the visit and no longer.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from mrumonitor.config import PeriodSettings
from mrumonitor.analysis.feedback import apply_feedback, latest_outcomes

pytestmark = pytest.mark.unit

PERIODS = [PeriodSettings(name=name, start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end))
           for name, start, end in (("2025H1", "2025-01-01", "2025-06-30"), ("2025H2", "2025-07-01", "2025-12-31"),
                                    ("2026H1", "2026-01-01", "2026-06-30"))]


def site_periods() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rows = [("A", "2025H1"), ("A", "2025H2"), ("A", "2026H1"), ("B", "2025H1")]
    frame = gpd.GeoDataFrame({"site_id": [r[0] for r in rows], "period": [r[1] for r in rows], "area_ha": 4.0,
                              "registration": "no_licence", "licence_id": pd.array([None] * 4, dtype="string"),
                              "registered_ha": 0.0, "unregistered_ha": 4.0},
                             geometry=[shapely.box(0, 0, 200, 200)] * 4, crs=3857)
    pieces = frame[["site_id", "period", "registration", "licence_id", "area_ha", "geometry"]]
    return frame, pieces


def visit(site: str, day: str, outcome: str, licence: str | None = None, entered: str = "2026-07-01") -> dict:
    return {"visit_id": f"{site}-{day}-{outcome}", "site_id": site, "visited_on": pd.Timestamp(day), "team": "T",
            "outcome": outcome, "licence_seen": licence, "entered_at": pd.Timestamp(entered)}


def applied(*visits: dict, hold_days: int = 365):
    frame, pieces = site_periods()
    result = apply_feedback(frame, pieces, pd.DataFrame(list(visits)), PERIODS, hold_days)
    return result, result.site_periods.set_index(["site_id", "period"])["registration"].to_dict()


def test_a_licence_seen_on_site_is_never_carried_back_before_the_visit():
    result, classes = applied(visit("A", "2025-09-01", "licensed", "L-9"))
    assert classes[("A", "2025H1")] == "no_licence"
    assert classes[("A", "2025H2")] == classes[("A", "2026H1")] == "registered"
    licensed = result.pieces[(result.pieces["site_id"] == "A") & (result.pieces["period"] == "2026H1")]
    assert licensed["licence_id"].tolist() == ["L-9"]


def test_a_false_positive_holds_back_to_the_first_period_but_only_hold_days_forward():
    _, classes = applied(visit("A", "2025-02-01", "not_mining"), hold_days=200)
    assert classes[("A", "2025H1")] == classes[("A", "2025H2")] == "verified_not_mining"
    assert classes[("A", "2026H1")] == "no_licence"  # starts 334 days after the visit: look again


def test_the_latest_conclusive_visit_counts_and_inaccessible_never_outweighs_it():
    visits = pd.DataFrame([visit("A", "2025-02-01", "not_mining"), visit("A", "2025-10-01", "active_mining"),
                           visit("A", "2025-11-01", "inaccessible"),
                           visit("B", "2025-03-01", "active_mining", entered="2026-07-01"),
                           visit("B", "2025-03-01", "not_mining", entered="2026-07-02")])  # same day: entered later
    assert latest_outcomes(visits).set_index("site_id")["outcome"].to_dict() == {"A": "active_mining",
                                                                               "B": "not_mining"}


def test_a_verified_site_missed_later_is_flagged_and_an_unknown_one_is_reported():
    result, _ = applied(visit("B", "2025-05-01", "active_mining"), visit("Z", "2025-05-01", "active_mining"))
    effects = result.table.set_index(["site_id", "period"])["effect"].to_dict()
    assert effects == {("B", "2025H1"): "confirmed", ("B", "2025H2"): "missed_by_detector",
                       ("B", "2026H1"): "missed_by_detector", ("Z", ""): "not_in_run"}
    assert "not detected in 2025H2 although active mining: verified on 2025-05-01" in result.table.loc[
        result.table["period"] == "2025H2", "reason"].iloc[0]


def test_no_visits_change_nothing():
    frame, pieces = site_periods()
    result = apply_feedback(frame, pieces, None, PERIODS, 365)
    assert result.table.empty and result.site_periods["verification"].isna().all()
    assert result.site_periods["registration"].tolist() == frame["registration"].tolist()
