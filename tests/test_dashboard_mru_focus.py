"""The dashboard's MRU focus on hand-made runs: the filters open on diamonds and the MRU internal borders, the
corridors are ranked within their border scope for the commodity and period chosen (an external corridor never
enters the MRU ranking), one rank and one set of names wherever a corridor is shown, and a site's commodity
basis in words."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from mrumonitor.dashboard.aggregates import corridor_labels, corridor_ranking, parameter_sources_table
from mrumonitor.dashboard.components import scope_label
from mrumonitor.dashboard.filters import default_filters, showing
from mrumonitor.dashboard.memo import Memo
from mrumonitor.dashboard.prepared import basis_words
from mrumonitor.dashboard.run import CACHED_RANKINGS

pytestmark = pytest.mark.unit

#: corridor_id, border_pair, scope, near_places, nearest_post_name, dist_post_km
CORRIDORS = [
    ("GIN-SLE-001", "GIN-SLE", "mru", "Gueckedou, GIN, 20 km · Koindu, SLE, 5 km", "Koindu", 40.0),
    ("GIN-SLE-002", "GIN-SLE", "mru", "Gueckedou, GIN, 30 km · Kailahun, SLE, 6 km", "Koindu", 60.0),
    ("LBR-SLE-001", "LBR-SLE", "mru", "Robertsport, LBR, 44 km · Zimmi, SLE, 19 km", "Gendema", 20.0),
    ("CIV-LBR-001", "CIV-LBR", "mru", None, None, None),
    ("CIV-GHA-001", "CIV-GHA", "external", "Bondoukou, CIV, 12 km · Sampa, GHA, 9 km", "Soko", 10.0),
]

#: corridor_id, period, commodity, sites, unregistered_ha. In 2026H1, the CIV-GHA corridor has by far the most
#: unregistered area (gold), GIN-SLE-002 the most diamond area, LBR-SLE-001 the most gold area of the MRU ones.
FIGURES = [
    ("CIV-GHA-001", "2026H1", "gold", 9, 900.0),
    ("GIN-SLE-001", "2026H1", "diamond", 2, 50.0),
    ("GIN-SLE-002", "2026H1", "diamond", 3, 80.0),
    ("LBR-SLE-001", "2026H1", "gold", 4, 300.0),
    ("LBR-SLE-001", "2026H1", "diamond", 1, 10.0),
    ("GIN-SLE-001", "2025H2", "diamond", 5, 500.0),
]


def run(commodities=("diamond", "gold")) -> SimpleNamespace:
    """The few tables of a run that the filters and the corridor ranking read."""
    corridors = pd.DataFrame(CORRIDORS, columns=["corridor_id", "border_pair", "scope", "near_places",
                                                 "nearest_post_name", "dist_post_km"]).assign(
        sites=0, active_ha=0.0, unregistered_ha=0.0, rank=0)
    periods = pd.DataFrame(FIGURES, columns=["corridor_id", "period", "commodity", "sites", "unregistered_ha"])
    default = "diamond" if "diamond" in commodities else None
    return SimpleNamespace(periods=["2025H2", "2026H1"], last_period="2026H1", default_commodity=default,
                           corridors=corridors.astype({"near_places": "string", "nearest_post_name": "string"}),
                           corridor_periods=periods.assign(active_ha=periods["unregistered_ha"] * 2),
                           rankings=Memo(CACHED_RANKINGS))


def ranks(table: pd.DataFrame) -> dict[str, int]:
    return dict(zip(table["corridor_id"], table["rank"]))


def test_filters_open_on_diamonds_and_the_mru_internal_borders():
    filters = default_filters(run())
    assert (filters.commodity, filters.scope, filters.period) == ("diamond", "mru", "2026H1")
    assert showing(filters, scope=True) == "diamond sites, MRU internal borders, all four countries, 2026H1"
    assert default_filters(run(), commodity="").commodity is None  # "All commodities"
    assert default_filters(run(), commodity="gold", scope="external").scope == "external"
    assert default_filters(run(), commodity="coltan", scope="Ghana").scope == "mru"
    assert default_filters(run(), commodity="coltan").commodity == "diamond"
    assert default_filters(run(commodities=("gold",))).commodity is None  # no diamond site: every commodity


def test_mru_ranking_holds_no_external_corridor_and_ranks_diamond_area_first():
    table = corridor_ranking(run(), default_filters(run()))
    assert set(table["scope"]) == {"mru"} and not table["border_pair"].eq("CIV-GHA").any()
    # diamond area first; a tie at 0 ha of diamonds broken by the area of every commodity, then by the distance
    # to a crossing (further first)
    assert ranks(table) == {"GIN-SLE-002": 1, "GIN-SLE-001": 2, "LBR-SLE-001": 3, "CIV-LBR-001": 4}
    assert table.set_index("corridor_id").loc["LBR-SLE-001", ["sites", "unregistered_ha", "all_unregistered_ha"]
                                              ].tolist() == [1, 10.0, 310.0]


def test_external_borders_and_gold_are_one_choice_away_each_ranked_on_its_own():
    external = corridor_ranking(run(), default_filters(run(), scope="external", commodity=""))
    assert ranks(external) == {"CIV-GHA-001": 1}
    gold = corridor_ranking(run(), default_filters(run(), commodity="gold"))
    assert list(gold["corridor_id"][:1]) == ["LBR-SLE-001"] and "CIV-GHA-001" not in set(gold["corridor_id"])
    earlier = corridor_ranking(run(), default_filters(run(), period="2025H2"))
    assert ranks(earlier)["GIN-SLE-001"] == 1


def test_a_corridor_keeps_its_rank_when_a_country_is_chosen():
    everywhere = ranks(corridor_ranking(run(), default_filters(run())))
    liberia = ranks(corridor_ranking(run(), default_filters(run(), countries=["LBR"])))
    assert liberia == {"LBR-SLE-001": everywhere["LBR-SLE-001"], "CIV-LBR-001": everywhere["CIV-LBR-001"]}


def test_corridor_labels_name_the_places_and_the_crossing_with_the_rank():
    filters = default_filters(run())
    labels = corridor_labels(corridor_ranking(run(), filters), filters).tolist()
    assert labels[0] == ("#1 of MRU internal borders (diamond sites, 2026H1): GIN-SLE-002, near Gueckedou, GIN, "
                         "30 km · Kailahun, SLE, 6 km — 80 ha unregistered, 3 sites; nearest official crossing "
                         "Koindu, 60 km")
    assert labels[3].endswith("CIV-LBR-001 — 0 ha unregistered, 0 sites; no official crossing known")


def test_commodity_basis_in_words():
    basis = pd.Series(["in_diamond_field", "near_diamond_field", "gold_belt", "unknown", None], dtype="string")
    commodity = pd.Series(["diamond", "diamond", "gold", "gold", "gold"], dtype="string")
    assert basis_words(basis, commodity).tolist() == ["in a mapped diamond field", "near a mapped diamond field",
                                                      "gold belt", "unknown: assumed gold", ""]


def test_capacity_parameters_say_which_come_from_usgs_and_which_are_illustrative():
    parameters = pd.DataFrame({
        "country": ["SLE", "SLE", "GIN"], "parameter": ["grade_ct_per_m3", "recovery", "pit_depth_m"],
        "source": ["a USGS assessment (test row)", "ILLUSTRATIVE: no published value", "national survey 2021"]})
    table = parameter_sources_table(SimpleNamespace(capacity_parameters=parameters))
    assert table["basis"].tolist() == ["USGS", "ILLUSTRATIVE", "configured"]


def test_scope_choices_are_labelled_with_the_run_s_border_pairs_in_its_country_order():
    data = SimpleNamespace(countries=("SLE", "GIN", "LBR", "CIV"), scope_pairs={
        "mru": ["CIV-GIN", "CIV-LBR", "GIN-LBR", "GIN-SLE", "LBR-SLE"], "external": ["CIV-GHA"]})
    assert scope_label(data, "mru") == "MRU internal borders (SLE–GIN, SLE–LBR, GIN–LBR, GIN–CIV, LBR–CIV)"
    assert scope_label(data, "external") == "External borders, outside the Regional Approach (CIV–GHA)"
