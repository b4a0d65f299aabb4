"""The border page answers "where is unregistered production growing near the Sierra Leone–Guinea border this
half-year, and which official crossing is nearest?": through the callback the browser posts, its corridor rows
carry their towns, the crossing by name and distance, the change since the previous period, a link showing the
corridor on the map, and the rank of `corridor_ranking` for the same filters, whatever the order chosen."""

from __future__ import annotations

import pytest
from conftest import callback_body

from mrumonitor.dashboard.aggregates import corridor_ranking
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.filters import default_filters
from mrumonitor.dashboard.run import load_run

pytestmark = [pytest.mark.demo, pytest.mark.slow]


@pytest.fixture(scope="module")
def app(demo_settings):
    return create_app(demo_settings)


@pytest.fixture(scope="module")
def run(demo_settings):
    return load_run(demo_settings)


def border_answer(app, country: str = "", commodity: str = "", pair: str = "", since: str = "",
                  order: str = "rank") -> dict:
    """The border page's callback answer, posted as the browser posts it."""
    client = app.server.test_client()
    dependencies = client.get("/_dash-dependencies").get_json()
    body = callback_body(dependencies, "border-showing", {
        "filter-country.value": country, "filter-period.value": None, "filter-commodity.value": commodity,
        "filter-registration.value": [], "filter-border-only.value": [], "filter-scope.value": "mru",
        "border-pair.value": pair, "border-since.value": since, "border-order.value": order})
    reply = client.post("/_dash-update-component", json=body)
    assert reply.status_code == 200, reply.text
    return reply.get_json()["response"]


def test_sierra_leone_guinea_corridors_growing_fastest_with_places_crossings_and_map_links(app, run):
    answer = border_answer(app, pair="GIN-SLE", order="growth")
    rows = answer["border-corridors"]["data"]
    previous = run.periods[-2]
    assert rows and {row["border_pair"] for row in rows} == {"GIN-SLE"}
    assert f"change since {previous}" in answer["border-showing"]["children"]
    assert all(row["place"].startswith("near ") and " · " in row["place"] for row in rows)
    assert all(row["nearest_post_name"] and row["dist_post_km"] > 0 for row in rows)
    gains = [row["change_ha"] for row in rows]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0
    assert all(row["map"] == f"[Show on map](/map?corridor={row['corridor_id']}&period={run.last_period}"
               f"&commodity=all&scope=mru)" for row in rows)
    ranking = corridor_ranking(run, default_filters(run, commodity=""))
    before = corridor_ranking(run, default_filters(run, commodity="", period=previous)).set_index("corridor_id")
    first = ranking.set_index("corridor_id").loc[rows[0]["corridor_id"]]
    assert rows[0]["change_ha"] == pytest.approx(first["unregistered_ha"] - before.loc[rows[0]["corridor_id"],
                                                                                       "unregistered_ha"])


@pytest.mark.parametrize("country", ["", "SLE"], ids=["unfiltered", "sierra-leone"])
def test_the_rank_shown_is_that_of_corridor_ranking(app, run, country):
    for order in ("rank", "growth"):
        rows = border_answer(app, country=country, commodity="diamond", order=order)["border-corridors"]["data"]
        ranking = corridor_ranking(run, default_filters(run, countries=[country] if country else []))
        assert {row["corridor_id"]: row["rank"] for row in rows} == dict(zip(ranking["corridor_id"], ranking["rank"]))
