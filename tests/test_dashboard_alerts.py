"""Role rules of the Alerts and Area statistics pages, posted as a browser posts the callbacks, logins on, on the
tiny area world (tests/area_world: SLE-REG and SLE-BORDER in Sierra Leone, GIN-SITE in Guinea): the SLE agency
user's alerts table, area statistics and sites download carry no Guinean site; it cannot watch Guinea's licence
even by posting the callback by hand, nor remove another user's subscription; and the page lists its own
subscriptions with their feeds."""

from __future__ import annotations

import json

import pytest
from area_draw import download, drawn, post, show_drawn, table, world_box
from area_world import write_area_run
from conftest import FlaskClient, auth_config, log_in

from mrumonitor.alerts.subscriptions import Subscriptions
from mrumonitor.config import load_settings
from mrumonitor.dashboard.app import create_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alerts-page")
    write_area_run(folder / "layers")
    return load_settings(auth_config(folder / "layers", folder))


@pytest.fixture(scope="module")
def app(settings, secret_key):
    return create_app(settings)


def client_of(app, user: str) -> FlaskClient:
    client = FlaskClient(app.server)
    assert log_in(client, user).status == 302
    return client


def alert_rows(client, **filters) -> list[dict]:
    values = {"alerts-filter-kinds.value": filters.get("kinds", []), "alerts-filter-confidence.value":
              filters.get("confidence", "low"), "alerts-filter-new.value": filters.get("new", [])}
    return post(client, "alerts-table.data", values)["alerts-table"]["data"]


def watch_named(client, kind: str, ref: str, name: str) -> str:
    values = {"alerts-watch-submit.n_clicks": 1, "alerts-area-kind.value": kind, "alerts-area-ref.value": ref,
              "alerts-watch-name.value": name, "alerts-watch-email.value": "someone@example.org",
              "alerts-watch-kinds.value": [], "alerts-watch-confidence.value": "low",
              "alerts-watch-frequency.value": "run"}
    return json.dumps(post(client, "alerts-watch-message.children", values))


def test_the_agencys_alerts_are_its_countrys_only(app):
    regional, agency = client_of(app, "kp_team"), client_of(app, "nma_sle")
    everything = alert_rows(regional)
    assert {row["country"] for row in everything} == {"Sierra Leone", "Guinea"} and len(everything) == 5
    assert everything[0]["new"] == "new"  # new in this run first
    assert any("(/site/GIN-SITE)" in row["site"] for row in everything)
    own = alert_rows(agency)
    assert len(own) == 4 and {row["country"] for row in own} == {"Sierra Leone"}
    assert "GIN-SITE" not in json.dumps(post(agency, "alerts-table.data", {"alerts-filter-confidence.value": "low"}))
    assert len(alert_rows(agency, new=["new"])) == 3
    assert {row["kind"] for row in alert_rows(agency, kinds=["growth"], confidence="high")} == {"Mining site grew"}


def test_the_agencys_area_statistics_and_download_carry_no_other_countrys_site(app):
    regional, agency = client_of(app, "kp_team"), client_of(app, "nma_sle")
    assert "GIN-SITE" in json.dumps(show_drawn(regional, drawn(world_box())))
    answer = show_drawn(agency, drawn(world_box()))
    assert "GIN-SITE" not in json.dumps(answer) and "GN-L-0001" not in json.dumps(answer)
    second = next(row for row in table(answer, "area-periods") if row["Period"] == "2025H2")
    assert second["Sites"] == 2 and second["Active mined area (ha)"] == pytest.approx(116.0)
    _, content = download(agency, "area-download-csv", answer["area-shape"]["data"])
    assert "SLE-REG" in content and "GIN-SITE" not in content


@pytest.mark.hostile
def test_an_agency_cannot_watch_another_countrys_licence(app, settings):
    agency = client_of(app, "nma_sle")
    choices = post(agency, "alerts-area-ref.options", {"alerts-area-kind.value": "licence"})
    assert [option["value"] for option in choices["alerts-area-ref"]["options"]] == ["SL-L-0001"]
    refused = watch_named(agency, "licence", "GN-L-0001", "not mine")
    assert "Not watched" in refused and "GN-L-0001" in refused and "the areas of Sierra Leone (your role)" in refused
    assert not [s for s in Subscriptions(settings.subscriptions).list() if s.name == "not mine"]
    accepted = watch_named(agency, "licence", "SL-L-0001", "Koidu licence")
    assert "Watching" in accepted and "/feeds/" in accepted  # the refreshed list carries the feed links
    mine = Subscriptions(settings.subscriptions).list("nma_sle")
    assert [(s.area_kind, s.area_ref) for s in mine if s.name == "Koidu licence"] == [("licence", "SL-L-0001")]


@pytest.mark.hostile
def test_a_user_cannot_remove_another_users_subscription(app, settings):
    regional, agency = client_of(app, "kp_team"), client_of(app, "nma_sle")
    assert "Watching" in watch_named(regional, "country", "GIN", "Guinea watch")
    store = Subscriptions(settings.subscriptions)
    theirs = next(s for s in store.list("kp_team") if s.name == "Guinea watch")
    refused = post(agency, "alerts-remove-message.children", {"alerts-remove.n_clicks": 1,
                                                              "alerts-remove-choice.value": theirs.id})
    assert "Not removed" in json.dumps(refused)
    assert theirs.id in {s.id for s in store.list("kp_team")}
    removed = post(regional, "alerts-remove-message.children", {"alerts-remove.n_clicks": 1,
                                                                "alerts-remove-choice.value": theirs.id})
    assert "Removed" in json.dumps(removed) and theirs.id not in {s.id for s in store.list("kp_team")}


def test_the_page_lists_the_users_own_subscriptions_with_their_feeds(app, settings):
    agency = client_of(app, "nma_sle")
    watch_named(agency, "country", "SLE", "Sierra Leone")
    sub = next(s for s in Subscriptions(settings.subscriptions).list("nma_sle") if s.name == "Sierra Leone")
    page = json.dumps(post(agency, "_pages_content.children", {"_pages_location.pathname": "/alerts",
                                                                "_pages_location.search": ""}))
    assert f"/feeds/{sub.feed_token}.atom" in page and f"/feeds/{sub.feed_token}.geojson" in page
    assert "Guinea watch" not in page and "Alerts of this run in Sierra Leone" in page
