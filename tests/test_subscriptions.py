"""The subscriptions file (validation, ownership, at-most-once, tokens) and which alerts a subscription gets."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
import shapely
from area_world import AREA_RUN, write_area_run
from conftest import auth_config

from mrumonitor.alerts.select import alerts_for, run_alerts, subscriber_country, subscription_area
from mrumonitor.alerts.subscriptions import MAX_SUBSCRIPTIONS_PER_USER, Subscriptions
from mrumonitor.areas.resolve import WatchedArea, named_area
from mrumonitor.config import load_settings
from mrumonitor.errors import ConfigError, SubscriptionError
from mrumonitor.schema import ALERT_KINDS

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 4, 2, 8, 0, tzinfo=dt.UTC)
#: A drawn square around the whole test world (WGS84).
EVERYWHERE = WatchedArea("drawn", "drawn", "area drawn on the map", shapely.box(-12.5, 9.0, -10.0, 11.0))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_area_run(tmp_path_factory.mktemp("area") / "layers")


@pytest.fixture
def book(tmp_path):
    return Subscriptions(tmp_path / "alerts" / "subscriptions.sqlite")


def subscribe(book, area=EVERYWHERE, **given):
    values = {"name": "watch", "user": "", "email": "nma@example.org", "area": area, "kinds": [],
              "min_confidence": "low", "frequency": "run", "since_run": "", **given}
    return book.add(**values)


def test_a_subscription_reads_back_as_made_with_every_kind_by_default_and_a_drawn_area_stored(book):
    sub = subscribe(book, name="  Koindu  ", frequency="weekly")
    again = book.get(sub.id)
    assert again == sub
    assert (sub.name, sub.kinds, sub.frequency, sub.active) == ("Koindu", ALERT_KINDS, "weekly", True)
    assert shapely.equals(shapely.from_geojson(sub.area_geojson), EVERYWHERE.geometry)
    assert book.list() == [sub]


def test_a_named_area_is_stored_by_its_ref_and_resolved_on_the_run(book, run_dir):
    sub = subscribe(book, area=named_area(run_dir, "licence", "SL-L-0001"), kinds=["growth", "new_site"])
    assert sub.area_geojson is None and sub.kinds == ("new_site", "growth")  # ALERT_KINDS order
    assert subscription_area(sub, run_dir).geometry.equals(named_area(run_dir, "licence", "SL-L-0001").geometry)


@pytest.mark.hostile
@pytest.mark.parametrize(("given", "words"), [
    ({"email": "not-an-address"}, "is not an e-mail address"),
    ({"kinds": ["new_site", "earthquake"]}, "unknown alert kind 'earthquake'"),
    ({"min_confidence": "certain"}, "unknown minimum confidence 'certain'"),
    ({"frequency": "hourly"}, "unknown frequency 'hourly'"),
    ({"name": "   "}, "a name of 1 to 100 characters"),
    ({"name": "x" * 101}, "a name of 1 to 100 characters"),
])
def test_a_bad_value_is_refused_with_what_to_give(book, given, words):
    with pytest.raises(SubscriptionError, match=words):
        subscribe(book, **given)
    assert book.list() == []


@pytest.mark.hostile
def test_a_user_holds_at_most_the_limit_of_active_subscriptions(book):
    for _ in range(MAX_SUBSCRIPTIONS_PER_USER):
        last = subscribe(book, user="flood")
    with pytest.raises(SubscriptionError, match="already holds 100 subscriptions"):
        subscribe(book, user="flood")
    subscribe(book, user="someone-else")
    book.remove(last.id, "flood")
    subscribe(book, user="flood")


@pytest.mark.hostile
def test_another_users_subscription_is_answered_as_if_it_did_not_exist(book):
    theirs = subscribe(book, user="nma_gin")
    for asked in (theirs.id, 999):
        with pytest.raises(SubscriptionError, match=f"no subscription {asked} of user 'nma_sle'"):
            book.get(asked, "nma_sle")
        with pytest.raises(SubscriptionError, match=f"no subscription {asked} of user 'nma_sle'"):
            book.remove(asked, "nma_sle")
    assert book.get(theirs.id, "nma_gin") == theirs


def test_removing_deactivates_and_keeps_the_history(book):
    sub = subscribe(book)
    book.record_digest(sub.id, "email", AREA_RUN, ["a1"], "sent", 1, None, NOW)
    book.remove(sub.id)
    assert book.list() == [] and book.by_token(sub.feed_token) is None
    assert [s.id for s in book.list(include_inactive=True)] == [sub.id]
    assert book.digests()["subscription_id"].tolist() == [sub.id] and book.delivered(sub.id) == {"a1"}
    with pytest.raises(SubscriptionError, match=f"no subscription {sub.id}"):
        book.remove(sub.id)


def test_feed_tokens_are_long_unique_and_found_only_exactly(book):
    subs = [subscribe(book) for _ in range(20)]
    tokens = {sub.feed_token for sub in subs}
    assert len(tokens) == 20 and all(len(token) >= 43 for token in tokens)
    assert book.by_token(subs[3].feed_token) == subs[3]
    for wrong in ("", subs[3].feed_token[:-1], subs[3].feed_token.upper(), "' OR 1=1 --"):
        assert book.by_token(wrong) is None


def test_an_alert_is_recorded_sent_at_most_once_and_only_by_a_sent_digest(book):
    sub = subscribe(book)
    book.record_digest(sub.id, "email", AREA_RUN, ["a1", "a2"], "failed", 3, "421 try later", NOW)
    book.record_digest(sub.id, "email", AREA_RUN, ["a3"], "unsent", 0, "no host", NOW)
    assert book.delivered(sub.id) == set() and book.last_sent(sub.id) is None
    book.record_digest(sub.id, "email", AREA_RUN, ["a1", "a2"], "sent", 2, None, NOW)
    book.record_digest(sub.id, "email", AREA_RUN, ["a2", "a4"], "sent", 1, None, NOW + dt.timedelta(days=1))
    assert book.delivered(sub.id) == {"a1", "a2", "a4"} and book.delivered(sub.id, "apprise") == set()
    assert book.last_sent(sub.id) == NOW + dt.timedelta(days=1)
    # the database itself refuses a second sending of an alert
    with sqlite3.connect(book.path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO digest_alerts VALUES (99, ?, 'a1', 'email')", (sub.id,))
    digests = book.digests()
    assert digests["status"].tolist() == ["sent", "sent", "unsent", "failed"]  # newest first
    assert digests.loc[3, "error"] == "421 try later" and digests.loc[3, "attempts"] == 3
    with pytest.raises(SubscriptionError, match="unknown delivery status 'lost'"):
        book.record_digest(sub.id, "email", AREA_RUN, [], "lost", 1, None, NOW)


def test_an_operator_notice_counts_as_dealt_with_once_sent(book):
    book.record_notice("job_run:7", "run_failed", "nightly", "2026-04-02T02:00Z", "the run failed", "failed", 3,
                       "refused", NOW)
    assert not book.has_notice("job_run:7")
    book.record_notice("job_run:7", "run_failed", "nightly", "2026-04-02T02:00Z", "the run failed", "sent", 1, None,
                       NOW + dt.timedelta(hours=1))
    assert book.has_notice("job_run:7") and not book.has_notice("job_run:8")
    assert book.notices()[["key", "status"]].values.tolist() == [["job_run:7", "sent"]]
    with pytest.raises(SubscriptionError, match="unknown operator notice kind"):
        book.record_notice("x", "coffee", "j", "", "m", "sent", 1, None, NOW)


@pytest.mark.hostile
def test_a_subscriptions_file_that_cannot_be_written_names_the_file_and_the_setting(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(ConfigError, match=r"not-a-folder/subscriptions.sqlite: .*\[alerts\] subscriptions"):
        Subscriptions(blocker / "subscriptions.sqlite")


# --- which alerts a subscription gets (the area world: five alerts of AREA_RUN, four announced) ----------------

def picked(book, run_dir, country=None, skip=(), area=EVERYWHERE, **given):
    sub = subscribe(book, area=area, **given)
    found = alerts_for(sub, run_alerts(run_dir), subscription_area(sub, run_dir), country, skip)
    return sorted(zip(found["kind"], found["site_id"]))


ANNOUNCED = [("growth", "SLE-REG"), ("licence_breach", "GIN-SITE"), ("new_site", "SLE-BORDER"),
             ("new_unregistered_border", "SLE-BORDER")]


def test_run_alerts_are_in_wgs84_and_an_older_run_without_alerts_has_none(run_dir, tmp_path):
    alerts = run_alerts(run_dir)
    assert alerts.crs.to_epsg() == 4326 and len(alerts) == 5
    assert run_alerts(tmp_path).empty


@pytest.mark.parametrize(("given", "expected"), [
    ({}, ANNOUNCED),  # never the alert that was not announced (history of a first run)
    ({"since_run": AREA_RUN}, []),  # made after the run: nothing that run published
    ({"since_run": "20260301T000000Z-0000"}, ANNOUNCED),
    ({"kinds": ["new_site", "growth"]}, [("growth", "SLE-REG"), ("new_site", "SLE-BORDER")]),
    ({"min_confidence": "high"}, [("growth", "SLE-REG"), ("new_unregistered_border", "SLE-BORDER")]),
    ({"min_confidence": "medium"}, [("growth", "SLE-REG"), ("new_site", "SLE-BORDER"),
                                    ("new_unregistered_border", "SLE-BORDER")]),
], ids=["announced", "since-run", "earlier-since-run", "kinds", "high", "medium"])
def test_a_subscription_gets_announced_later_alerts_of_its_kinds_and_confidence(book, run_dir, given, expected):
    assert picked(book, run_dir, **given) == expected


def test_a_subscription_gets_only_alerts_inside_its_area(book, run_dir):
    assert picked(book, run_dir, area=named_area(run_dir, "country", "GIN")) == [("licence_breach", "GIN-SITE")]
    assert picked(book, run_dir, area=named_area(run_dir, "licence", "SL-L-0001")) == [("growth", "SLE-REG")]
    nowhere = WatchedArea("drawn", "drawn", "far away", shapely.box(-8.0, 5.0, -7.9, 5.1))
    assert picked(book, run_dir, area=nowhere) == []


def test_an_agency_subscriber_gets_its_countrys_alerts_only_and_delivered_ones_are_skipped(book, run_dir):
    assert picked(book, run_dir, country="SLE") == [a for a in ANNOUNCED if a[1] != "GIN-SITE"]
    assert picked(book, run_dir, country="GIN") == [("licence_breach", "GIN-SITE")]
    growth = run_alerts(run_dir).query("kind == 'growth'")["alert_id"].tolist()
    assert ("growth", "SLE-REG") not in picked(book, run_dir, skip=growth)


def test_the_subscribers_country_follows_the_role_and_a_gone_user_is_refused(tmp_path):
    assert subscriber_country(load_settings(), "") is None  # logins off: everyone sees everything
    settings = load_settings(auth_config(tmp_path / "layers", tmp_path))
    assert subscriber_country(settings, "kp_team") is None
    assert subscriber_country(settings, "nma_sle") == "SLE"
    with pytest.raises(SubscriptionError, match="'gone' is not a dashboard user"):
        subscriber_country(settings, "gone")
