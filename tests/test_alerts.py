"""The alerts of a run (mrumonitor.alerts), on a hand-made world of three half-year periods.

Each site of the world is built for one rule; all but LATE change only between 2025H2 and 2026H1:

- NEW appears in 2026H1 (new_site); LATE appears in 2025H2 and stays (new_site in 2025H2, nothing after);
- GROW grows 10 -> 30 ha (growth, twice both thresholds);
- BORDER, in the border zone, gains 5 ha without a licence (new_unregistered_border);
- BREACH is found in an exploration licence (licence_breach);
- RESUMED, verified as mining in 2025-09, steady in 2025H2, gains 2 ha in 2026H1 (verified_resumed);
- SMALL grows 3 ha, BIG 10 % and SHRINK shrinks: no alert.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from mrumonitor.alerts.derive import derive_alerts
from mrumonitor.config import AlertSettings, PeriodSettings
from mrumonitor.schema import ALERT_COLUMNS

pytestmark = pytest.mark.unit

PERIODS = ["2025H1", "2025H2", "2026H1"]
#: The same half-years as the configuration gives them (the last day of each tells which visits count).
HALVES = [PeriodSettings(name="2025H1", start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30)),
          PeriodSettings(name="2025H2", start=dt.date(2025, 7, 1), end=dt.date(2025, 12, 31)),
          PeriodSettings(name="2026H1", start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30))]
CRS = "EPSG:32629"
SETTINGS = AlertSettings(growth_min_ha=5.0, growth_min_share=0.5, border_min_ha=2.0, max_gap_share=0.2)
#: site -> areas per period (None: not seen), registration in 2026H1, unregistered ha in 2026H1, border zone
WORLD = {
    "NEW": ((None, None, 8.0), "registered", 0.0, False),
    "LATE": ((None, 6.0, 6.0), "registered", 0.0, False),
    "GROW": ((10.0, 10.0, 30.0), "registered", 0.0, False),
    "BORDER": ((10.0, 10.0, 12.0), "no_licence", 5.0, True),
    "BREACH": ((20.0, 20.0, 21.0), "exploration_only", 0.0, False),
    "RESUMED": ((15.0, 15.0, 17.0), "registered", 0.0, False),
    "SMALL": ((10.0, 10.0, 13.0), "registered", 0.0, False),
    "BIG": ((100.0, 100.0, 110.0), "registered", 0.0, False),
    "SHRINK": ((20.0, 20.0, 12.0), "registered", 0.0, False),
}
EXPECTED = {("new_site", "NEW", "2026H1"), ("new_site", "LATE", "2025H2"), ("growth", "GROW", "2026H1"),
            ("new_unregistered_border", "BORDER", "2026H1"), ("licence_breach", "BREACH", "2026H1"),
            ("verified_resumed", "RESUMED", "2026H1")}


def footprint(site: str) -> shapely.Polygon:
    x = list(WORLD).index(site) * 1000.0
    return shapely.box(x, 0, x + 300, 300)


def world() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rows = []
    for site, (areas, registration, unregistered, border) in WORLD.items():
        for period, area in zip(PERIODS, areas):
            if area is not None:
                last = period == PERIODS[-1]
                rows.append({"site_id": site, "period": period, "area_ha": area,
                             "registration": registration if last else "registered",
                             "licence_id": "L-9" if last and registration == "exploration_only" else "L-1",
                             "unregistered_ha": unregistered if last else 0.0, "in_border_zone": border,
                             "border_pair": "GIN-SLE" if border else "", "corridor_id": "GIN-SLE-03" if border else "",
                             "geometry": footprint(site)})
    site_periods = gpd.GeoDataFrame(rows, crs=CRS).astype({"site_id": "string", "period": "string",
                                                           "registration": "string", "licence_id": "string"})
    sites = gpd.GeoDataFrame({"site_id": pd.array(list(WORLD), dtype="string"), "country": "SLE"},
                             geometry=[footprint(site) for site in WORLD], crs=CRS)
    return sites, site_periods


def visits(day: str = "2025-09-01", outcome: str = "active_mining") -> pd.DataFrame:
    return pd.DataFrame({"visit_id": ["v1"], "site_id": ["RESUMED"], "visited_on": [pd.Timestamp(day)],
                         "outcome": [outcome], "entered_at": [pd.Timestamp("2026-07-01")]})


def no_gaps() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"period": pd.Series([], dtype="string")}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def derive(gaps=None, found=None, previous=None, run_id="run-2") -> gpd.GeoDataFrame:
    sites, site_periods = world()
    return derive_alerts(sites, site_periods, no_gaps() if gaps is None else gaps,
                         visits() if found is None else found, HALVES, SETTINGS, previous, run_id)


def test_each_change_gives_exactly_its_alert():
    alerts = derive()
    assert list(alerts.columns) == [*ALERT_COLUMNS, "geometry"]
    assert set(zip(alerts["kind"], alerts["site_id"], alerts["period"])) == EXPECTED
    assert len(alerts) == len(EXPECTED)
    grow = alerts[alerts["kind"] == "growth"].iloc[0]
    assert grow["change_ha"] == pytest.approx(20.0)
    assert grow["confidence"] == "high"
    assert grow["evidence"] == ("area 10.0 ha in 2025H2 -> 30.0 ha in 2026H1 (+20.0 ha, +200 %); seen in 2 "
                                "periods; clear observation")
    assert grow["country"] == "SLE" and grow["message"].endswith("high confidence.")
    border = alerts[alerts["kind"] == "new_unregistered_border"].iloc[0]
    assert border["change_ha"] == pytest.approx(5.0)
    assert (border["border_pair"], border["corridor_id"]) == ("GIN-SLE", "GIN-SLE-03")
    breach = alerts[alerts["kind"] == "licence_breach"].iloc[0]
    assert (breach["registration"], breach["licence_id"]) == ("exploration_only", "L-9")
    assert alerts.geometry.within(gpd.GeoSeries([footprint(s) for s in alerts["site_id"]], crs=CRS)).all()


@pytest.mark.parametrize("found, resumed", [
    (visits(), True),
    (visits(outcome="not_mining"), False),
    (visits(day="2026-09-01"), False),   # after 2026H1 ended: says nothing of it
    (pd.DataFrame(columns=["visit_id", "site_id", "visited_on", "outcome", "entered_at"]), False),
])
def test_verified_resumed_needs_a_mining_visit_before_the_period_ends(found, resumed):
    alerts = derive(found=found)
    assert ("RESUMED" in set(alerts.loc[alerts["kind"] == "verified_resumed", "site_id"])) is resumed


def test_ids_are_stable_and_a_hash_of_kind_site_and_period():
    first, again = derive(), derive(run_id="run-9")
    assert list(first["alert_id"]) == list(again["alert_id"])
    assert first["alert_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert first["alert_id"].is_unique


def test_a_first_run_marks_only_the_last_periods_alerts_new():
    alerts = derive(previous=None, run_id="run-1")
    assert set(alerts.loc[alerts["new_in_run"], "period"]) == {"2026H1"}
    assert list(alerts.loc[~alerts["new_in_run"], "site_id"]) == ["LATE"]
    assert (alerts["first_run"] == "run-1").all()
    assert alerts["new_in_run"].is_monotonic_decreasing
    assert (alerts["announce"] == alerts["new_in_run"]).all()  # the history a first run finds is never sent


def test_alerts_of_the_previous_run_keep_their_first_run_and_are_not_new():
    before = derive(run_id="run-1")
    previous = pd.DataFrame(before[before["site_id"].isin(["GROW", "LATE"])].drop(columns="geometry"))
    alerts = derive(previous=previous, run_id="run-2")
    known = alerts["site_id"].isin(["GROW", "LATE"])
    assert not alerts.loc[known, "new_in_run"].any()
    assert (alerts.loc[known, "first_run"] == "run-1").all()
    assert alerts.loc[~known, "new_in_run"].all() and (alerts.loc[~known, "first_run"] == "run-2").all()
    assert list(alerts["new_in_run"]) == sorted(alerts["new_in_run"], reverse=True)


def test_announce_is_carried_from_the_run_that_first_published_the_alert():
    first = derive(previous=None, run_id="run-1")
    second = derive(previous=pd.DataFrame(first.drop(columns="geometry")), run_id="run-2")
    kept = second.set_index("alert_id")["announce"]
    assert kept.to_dict() == first.set_index("alert_id")["announce"].to_dict()
    assert not second["new_in_run"].any() and not kept.all()


def test_a_footprint_mostly_under_a_gap_lowers_confidence():
    clear = derive().set_index("site_id")
    assert clear.loc["NEW", "confidence"] == "medium"   # seen in one period, clear observation
    cloud = shapely.box(*footprint("NEW").buffer(-10).bounds)
    gaps = gpd.GeoDataFrame({"period": ["2026H1", "2025H2"]}, geometry=[cloud, footprint("GROW")], crs=CRS)
    cloudy = derive(gaps=gaps).set_index("site_id")
    assert cloudy.loc["NEW", "confidence"] == "low"
    assert "% of the footprint unobserved" in cloudy.loc["NEW", "evidence"]
    assert cloudy.loc["GROW", "confidence"] == "high"   # a gap of another period does not count


def test_empty_inputs_give_an_empty_layer():
    sites, site_periods = world()
    for frame in (site_periods.iloc[:0], site_periods[site_periods["period"] == "2025H1"]):
        alerts = derive_alerts(sites.iloc[:0], frame, no_gaps(), None, HALVES, SETTINGS, None, "run-1")
        assert alerts.empty and list(alerts.columns) == [*ALERT_COLUMNS, "geometry"]
        assert alerts.crs == site_periods.crs
