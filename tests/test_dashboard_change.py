"""Growth between two periods on frames built here with known numbers: of a site (10 -> 15 ha is +5 ha, +50 %;
a new site grows from 0 and its per cent is "new", never infinite; a site gone is -100 %), of a site table's rows,
and of the border corridors, whose rank stays that of `corridor_ranking`, filtered or not."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from mrumonitor.dashboard.aggregates import corridor_changes, corridor_places, corridor_ranking
from mrumonitor.dashboard.change import compared_period, growing_fastest, growth, previous_period
from mrumonitor.dashboard.filters import default_filters
from mrumonitor.dashboard.link_table import locale_format
from mrumonitor.dashboard.memo import Memo
from mrumonitor.dashboard.prepared import SiteViews
from mrumonitor.dashboard.run import CACHED_RANKINGS
from mrumonitor.i18n import use_language

pytestmark = pytest.mark.unit

PERIODS = ["2025H1", "2025H2", "2026H1"]

#: site: (ha before, ha after, change ha, change as a share); None: not seen in that period.
SITES = {
    "grew": (10.0, 15.0, 5.0, 0.5),
    "new": (None, 12.0, 12.0, math.nan),
    "gone": (10.0, None, -10.0, -1.0),
    "shrank": (40.0, 30.0, -10.0, -0.25),
    "steady": (8.0, 8.0, 0.0, 0.0),
    "nothing": (0.0, 0.0, 0.0, 0.0),
}


def areas(position: int) -> pd.Series:
    """The sites' areas in one period (column `position` of `SITES`), the unseen left out."""
    return pd.Series({site: row[position] for site, row in SITES.items() if row[position] is not None}, dtype=float)


def test_growth_of_each_site_in_hectares_and_per_cent():
    table = growth(areas(0), areas(1))
    assert set(table.index) == set(SITES)
    for site, (_, _, change_ha, change_pct) in SITES.items():
        assert table.loc[site, "change_ha"] == pytest.approx(change_ha), site
        assert table.loc[site, "change_pct"] == pytest.approx(change_pct, nan_ok=True), site
    assert not np.isinf(table["change_pct"]).any()
    assert table.loc["new", ["before_ha", "after_ha"]].tolist() == [0.0, 12.0]


def test_growing_fastest_puts_the_most_hectares_gained_first():
    order = growing_fastest(growth(areas(0), areas(1))).index.tolist()
    assert order[:2] == ["new", "grew"] and order[-2:] == ["shrank", "gone"]  # equal loss: the smaller share first


@pytest.mark.parametrize(("period", "chosen", "compared"), [
    ("2026H1", "", "2025H2"),  # the previous period
    ("2026H1", "2025H1", "2025H1"),
    ("2026H1", "2026H1", "2025H2"),  # itself: the previous one instead
    ("2026H1", "1999H1", "2025H2"),  # unknown
    ("2025H1", "", None),  # the first period: nothing before it
])
def test_the_period_compared_with(period, chosen, compared):
    assert compared_period(PERIODS, period, chosen) == compared
    assert previous_period(PERIODS, "2025H2") == "2025H1" and previous_period(PERIODS, "nope") is None


def test_site_table_rows_carry_their_growth_since_any_period():
    # rows 0-2: sites A, B, C in 2026H1; A was 10 ha in 2025H1 and 20 in 2025H2, B appears in 2026H1
    period_areas = np.array([[10.0, 20.0, 30.0], [np.nan, np.nan, 4.0], [5.0, 5.0, 5.0]])
    views = SiteViews(by_period=dict.fromkeys(PERIODS), current_sites={}, summaries={}, table_rows=pd.DataFrame(),
                      features=pd.DataFrame(), geoms={}, period_areas=period_areas)
    rows = pd.DataFrame({"site_id": ["A", "B", "C"], "area_ha": [30.0, 4.0, 5.0]}, index=[0, 1, 2])
    since_h2 = views.growth_since(rows, "2025H2")
    assert since_h2["change_ha"].tolist() == [10.0, 4.0, 0.0]
    assert since_h2["change_pct"].tolist()[0] == pytest.approx(0.5) and math.isnan(since_h2["change_pct"][1])
    assert views.growth_since(rows, "2025H1")["change_ha"].tolist() == [20.0, 4.0, 0.0]
    assert views.growth_since(rows, None)["change_pct"].isna().all()  # nothing to compare with: all new


#: corridor_id, border_pair, scope, near_places, nearest_post_name, dist_post_km
CORRIDORS = [
    ("GIN-SLE-001", "GIN-SLE", "mru", "Gueckedou, GIN, 20 km · Koindu, SLE, 5 km", "Koindu", 40.0),
    ("GIN-SLE-002", "GIN-SLE", "mru", "Gueckedou, GIN, 30 km · Kailahun, SLE, 6 km", "Koindu", 60.0),
    ("LBR-SLE-001", "LBR-SLE", "mru", "Robertsport, LBR, 44 km · Zimmi, SLE, 19.5 km", "Gendema", 20.0),
    ("CIV-LBR-001", "CIV-LBR", "mru", None, None, None),
]

#: corridor_id, period, commodity, sites, unregistered_ha
FIGURES = [
    ("GIN-SLE-001", "2025H2", "diamond", 5, 100.0),
    ("GIN-SLE-001", "2026H1", "diamond", 6, 150.0),
    ("GIN-SLE-002", "2026H1", "diamond", 3, 80.0),
    ("LBR-SLE-001", "2025H2", "diamond", 2, 40.0),
    ("LBR-SLE-001", "2026H1", "diamond", 1, 10.0),
    ("CIV-LBR-001", "2025H2", "diamond", 1, 30.0),
]


def run() -> SimpleNamespace:
    """The few tables of a run that the filters and the corridor ranking read."""
    corridors = pd.DataFrame(CORRIDORS, columns=["corridor_id", "border_pair", "scope", "near_places",
                                                 "nearest_post_name", "dist_post_km"]).assign(
        sites=0, active_ha=0.0, unregistered_ha=0.0, rank=0)
    periods = pd.DataFrame(FIGURES, columns=["corridor_id", "period", "commodity", "sites", "unregistered_ha"])
    return SimpleNamespace(periods=["2025H2", "2026H1"], last_period="2026H1", default_commodity="diamond",
                           corridors=corridors.astype({"near_places": "string", "nearest_post_name": "string"}),
                           corridor_periods=periods.assign(active_ha=periods["unregistered_ha"] * 2),
                           rankings=Memo(CACHED_RANKINGS))


def test_corridors_change_since_the_previous_period():
    table = corridor_changes(run(), default_filters(run()), "2025H2").set_index("corridor_id")
    assert table.loc["GIN-SLE-001", ["before_ha", "change_ha", "change_pct"]].tolist() == [100.0, 50.0, 0.5]
    assert table.loc["GIN-SLE-002", "change_ha"] == 80.0 and math.isnan(table.loc["GIN-SLE-002", "change_pct"])
    assert table.loc["CIV-LBR-001", ["change_ha", "change_pct"]].tolist() == [-30.0, -1.0]  # gone: -100 %
    assert growing_fastest(table).index.tolist() == ["GIN-SLE-002", "GIN-SLE-001", "LBR-SLE-001", "CIV-LBR-001"]


@pytest.mark.parametrize("countries", [[], ["LBR"], ["GIN"]], ids=["all", "liberia", "guinea"])
def test_corridor_changes_keep_the_rank_of_corridor_ranking(countries):
    filters = default_filters(run(), countries=countries)
    ranking = corridor_ranking(run(), filters)
    changes = corridor_changes(run(), filters, "2025H2")
    assert changes["corridor_id"].tolist() == ranking["corridor_id"].tolist()
    assert changes["rank"].tolist() == ranking["rank"].tolist()
    everywhere = corridor_ranking(run(), default_filters(run())).set_index("corridor_id")["rank"]
    assert all(everywhere[c] == rank for c, rank in zip(changes["corridor_id"], changes["rank"]))


def test_corridors_are_named_by_their_towns_in_the_user_s_language():
    ranking = corridor_ranking(run(), default_filters(run())).set_index("corridor_id", drop=False)
    places = corridor_places(ranking)
    assert places["GIN-SLE-001"] == "near Gueckedou, GIN · Koindu, SLE"
    assert places["LBR-SLE-001"] == "near Robertsport, LBR · Zimmi, SLE"
    assert places["CIV-LBR-001"] == "CIV-LBR-001"  # no town known: its code
    with use_language("fr"):
        assert corridor_places(ranking)["GIN-SLE-001"] == "près de Gueckedou, GIN · Koindu, SLE"


def test_tables_write_numbers_the_user_s_way():
    assert locale_format()["decimal"] == "."
    with use_language("fr"):
        french = locale_format()
    assert french["decimal"] == "," and french["group"].isspace()
