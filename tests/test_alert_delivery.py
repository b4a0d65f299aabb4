"""E-mail digests through a real SMTP server (aiosmtpd on 127.0.0.1, started by each test), from the area world's
published run (tests/area_world.py): who receives what, once; retries, failures and their records; frequencies."""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import struct

import geopandas as gpd
import pytest
import shapely
from area_world import SITES, site_square, write_area_run
from conftest import TEST_SECRET_ENV, write_config
from smtp_server import free_port, smtp_server

from mrumonitor.alerts.deliver import NO_SMTP, deliver_after_publish, deliver_alerts, delivery_status
from mrumonitor.alerts.digest import compose_digest
from mrumonitor.alerts.select import run_alerts, subscription_area
from mrumonitor.alerts.subscriptions import Subscriptions
from mrumonitor.areas.resolve import WatchedArea, named_area
from mrumonitor.config import load_settings
from mrumonitor.crs import WGS84
from mrumonitor.reference.layers import ReferenceLayers

pytestmark = pytest.mark.integration

#: name -> (role, country, e-mail) of the dashboard users who subscribe.
USERS = {"kp_team": ("regional", None, "kp@example.org"), "dnm_gin": ("agency", "GIN", "dnm@example.gn")}
MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The area world's run (read-only) and the drawn WGS84 area around all three sites (two countries)."""
    store = tmp_path_factory.mktemp("delivery") / "layers"
    run = write_area_run(store)
    reference = ReferenceLayers.load(load_settings())
    squares = shapely.union_all([site_square(reference, site) for site in SITES])
    drawn = gpd.GeoSeries([squares.envelope.buffer(2000)], crs=reference.boundaries.crs).to_crs(WGS84).iloc[0]
    return run, drawn


def settings_for(tmp_path, run, port: int | None, smtp: str = 'security = "none"\n', **alerts: object):
    """Settings of a store holding a copy of the world's run: auth on with `USERS`, the SMTP server on `port`
    (None: no host) with the [alerts.smtp] lines `smtp`, no wait between tries, `alerts` keys of [alerts]."""
    store = tmp_path / "layers"
    shutil.copytree(run.parent.parent, store)
    users = "".join(f'[dashboard.auth.users.{name}]\nrole = "{role}"\n' + (f'country = "{country}"\n' if country else "")
                    + f'password_hash = "unused"\nemail = "{email}"\n' for name, (role, country, email) in USERS.items())
    extra = "".join(f"{key} = {value!r}\n" for key, value in alerts.items())
    smtp = f'host = "127.0.0.1"\nport = {port}\n{smtp}' if port else ""
    return load_settings(write_config(tmp_path, f"""[paths]
store = "{store}"
work = "{tmp_path / 'work'}"
[alerts]
dashboard_url = "https://monitor.example.org"
{extra}[alerts.smtp]
{smtp}retry_wait_s = 0
sender = "mrumonitor <alerts@monitor.example.org>"
[dashboard.auth]
enabled = true
secret_key_env = "{TEST_SECRET_ENV}"
{users}"""))


def subscribe(settings, user: str, area: WatchedArea, **chosen):
    return Subscriptions(settings.subscriptions).add(
        name=f"{user} watch", user=user, email=USERS[user][2], area=area, kinds=chosen.get("kinds", ()),
        min_confidence=chosen.get("min_confidence", "low"), frequency=chosen.get("frequency", "run"), since_run="")


def sierra_leone(settings) -> WatchedArea:
    from mrumonitor.store.runs import resolve_run

    return named_area(resolve_run(settings.paths.store), "country", "SLE")


def alert_ids(settings, *sites: str) -> set[str]:
    from mrumonitor.store.runs import resolve_run

    alerts = run_alerts(resolve_run(settings.paths.store))
    return set(alerts.loc[alerts["site_id"].isin(sites) & alerts["announce"], "alert_id"])


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_each_subscriber_gets_its_alerts_once(tmp_path, world):
    run, drawn = world
    settings = settings_for(tmp_path, run, port := free_port())
    subscribe(settings, "kp_team", sierra_leone(settings))
    subscribe(settings, "dnm_gin", WatchedArea("drawn", "drawn", "area drawn on the map", drawn))
    with smtp_server(port) as box:
        report = deliver_alerts(settings, now=MONDAY)
        again = deliver_alerts(settings, now=MONDAY + dt.timedelta(hours=1))
    assert (report.digests_sent, report.alerts_sent, report.digests_failed, report.problems) == (2, 4, 0, [])
    assert again.digests_sent == 0 and len(box.messages) == 2  # nothing twice
    regional, agency = sorted(box.messages, key=lambda m: m.recipients)[::-1]
    assert regional.recipients == ["kp@example.org"] and agency.recipients == ["dnm@example.gn"]
    # a long subject is folded onto the next line, and Python's parser keeps the folding space (mail readers drop it)
    assert regional.message["Subject"].strip() == f"mrumonitor: 3 new alerts in Sierra Leone (run {run.name})"
    assert agency.message["Subject"].strip() == f"mrumonitor: 1 new alert in area drawn on the map (run {run.name})"
    for received, listed, hidden in ((regional, ("SLE-BORDER", "SLE-REG"), "GIN-SITE"),
                                     (agency, ("GIN-SITE",), "SLE-")):
        text, html = received.text(), received.text("text/html")
        for site in listed:
            assert f"https://monitor.example.org/site/{site}" in text and f"/site/{site}\"" in html
        assert hidden not in received.message.as_string()  # an agency never sees another country's site
        assert png_size(received.part("image/png").get_content()) == (640, 420)
        assert len(received.part("image/png").get_content()) < 150_000
        assert 'src="cid:alert-map@mrumonitor"' in html and received.part("image/png")["Content-ID"] == \
            "<alert-map@mrumonitor>"
        assert "CC BY 4.0" in text and "/feeds/" in text and ".atom" in text
    book = Subscriptions(settings.subscriptions)
    assert book.delivered(1) == alert_ids(settings, "SLE-BORDER", "SLE-REG")
    assert book.delivered(2) == alert_ids(settings, "GIN-SITE")
    assert regional.text().index("High confidence (2)") < regional.text().index("Medium confidence (1)")


def test_a_refused_first_try_is_delivered_on_the_retry(tmp_path, world):
    settings = settings_for(tmp_path, world[0], port := free_port())
    subscribe(settings, "kp_team", sierra_leone(settings))
    with smtp_server(port) as box:
        box.refuse_next = 1
        report = deliver_alerts(settings, now=MONDAY)
    assert (box.refused, len(box.messages), report.digests_sent) == (1, 1, 1)
    digest = delivery_status(settings).digests.iloc[0]
    assert (digest["status"], digest["attempts"], digest["alerts"]) == ("sent", 2, 3)


@pytest.mark.hostile
def test_a_permanent_refusal_is_not_tried_again(tmp_path, world):
    settings = settings_for(tmp_path, world[0], port := free_port())
    subscribe(settings, "kp_team", sierra_leone(settings))
    with smtp_server(port) as box:
        box.refuse_next, box.refuse_code = 1, "550 5.1.1 no such mailbox"
        report = deliver_alerts(settings, now=MONDAY)
    digest = delivery_status(settings).digests.iloc[0]
    assert (report.digests_failed, box.refused, digest["attempts"]) == (1, 1, 1)
    assert "550" in digest["error"] and "permanent" in digest["error"]


@pytest.mark.hostile
def test_a_server_down_fails_is_recorded_and_sent_by_the_next_delivery(tmp_path, world):
    settings = settings_for(tmp_path, world[0], port := free_port())
    subscribe(settings, "kp_team", sierra_leone(settings))
    down = deliver_after_publish(settings)  # nothing listens on the port
    status = delivery_status(settings)
    assert (down.digests_failed, down.digests_sent) == (1, 0)
    assert down.summary() == "alerts: 0 digests sent (0 alerts), 1 failed: see `mrumonitor alerts status`"
    assert status.failed[["name", "status", "attempts"]].values.tolist() == [["kp_team watch", "failed", 3]]
    assert "cannot connect" in status.failed["error"].iloc[0]
    assert status.subscriptions["last_status"].tolist() == ["failed"]
    with smtp_server(port) as box:
        back = deliver_alerts(settings)
    assert (back.digests_sent, back.alerts_sent, len(box.messages)) == (1, 3, 1)
    assert delivery_status(settings).failed.empty


@pytest.mark.hostile
@pytest.mark.parametrize(("smtp", "words"), [
    ('security = "starttls"\n', ["STARTTLS", "permanent"]),
    ('security = "none"\nusername = "alerts"\npassword_env = "MRUMONITOR_TEST_NO_SUCH_PASSWORD"\n',
     ["MRUMONITOR_TEST_NO_SUCH_PASSWORD", "holds no password"]),
], ids=["no STARTTLS on the server", "no password in the environment"])
def test_a_mail_server_setting_that_cannot_work_fails_with_a_clear_error(tmp_path, world, smtp, words):
    settings = settings_for(tmp_path, world[0], port := free_port(), smtp=smtp)
    subscribe(settings, "kp_team", sierra_leone(settings))
    with smtp_server(port) as box:
        report = deliver_alerts(settings)
    error = delivery_status(settings).failed["error"].iloc[0]
    assert report.digests_failed == 1 and not box.messages
    assert all(word in error for word in words), error


def test_without_a_mail_server_the_digest_is_recorded_as_not_sent(tmp_path, world):
    settings = settings_for(tmp_path, world[0], None)
    subscribe(settings, "kp_team", sierra_leone(settings))
    report = deliver_alerts(settings)
    status = delivery_status(settings)
    assert report.digests_unsent == 1 and not status.smtp_configured
    assert status.failed[["status", "error"]].values.tolist() == [["unsent", NO_SMTP]]


def test_a_weekly_subscription_gets_one_digest_per_iso_week(tmp_path, world):
    """One alert per digest: the first Monday sends the best, the rest wait; Sunday (same ISO week) sends
    nothing; the next Monday sends the next one."""
    settings = settings_for(tmp_path, world[0], port := free_port(), max_alerts_per_digest=1)
    subscribe(settings, "kp_team", sierra_leone(settings), frequency="weekly")
    with smtp_server(port) as box:
        sent = [deliver_alerts(settings, now=when).alerts_sent
                for when in (MONDAY, MONDAY + dt.timedelta(days=6), MONDAY + dt.timedelta(days=7))]
    assert sent == [1, 0, 1] and len(box.messages) == 2
    first = box.messages[0].text()
    assert "3 new alerts" in box.messages[0].message["Subject"] and "and 2 more: see the feed" in first
    # the high-confidence ones come first
    assert "Mining site grew" in first or "New unregistered mining in the border zone" in first


def test_a_subscription_of_a_user_no_longer_configured_is_skipped(tmp_path, world):
    settings = settings_for(tmp_path, world[0], port := free_port())
    subscribe(settings, "kp_team", sierra_leone(settings))
    Subscriptions(settings.subscriptions).add(name="gone", user="left_agency", email="x@example.org",
                                              area=sierra_leone(settings), kinds=(), min_confidence="low",
                                              frequency="run", since_run="")
    with smtp_server(port) as box:
        report = deliver_alerts(settings)
    assert report.digests_sent == 1 and len(box.messages) == 1
    assert len(report.problems) == 1 and "left_agency" in report.problems[0]


@pytest.mark.hostile
def test_text_from_the_data_is_escaped_in_the_html(tmp_path, world):
    settings = settings_for(tmp_path, world[0], None)
    sub = subscribe(settings, "kp_team", sierra_leone(settings))
    alerts = run_alerts(world[0]).head(1).assign(site_id="S<1><script>alert(1)</script> & co")
    digest = compose_digest(sub, subscription_area(sub, world[0]), alerts, world[0].name, settings)
    assert "<script>" not in digest.html and "&lt;script&gt;" in digest.html and "S&lt;1&gt;" in digest.html
    assert "S<1><script>alert(1)</script> & co" in digest.text


def test_the_runs_page_shows_deliveries_an_agency_user_only_its_own(tmp_path, world, monkeypatch, secret_key):
    from mrumonitor.dashboard.access import Access
    from mrumonitor.dashboard.app import create_app
    run, drawn = world
    settings = settings_for(tmp_path, run, port := free_port())
    subscribe(settings, "kp_team", sierra_leone(settings))
    subscribe(settings, "dnm_gin", WatchedArea("drawn", "drawn", "area drawn on the map", drawn))
    with smtp_server(port):
        deliver_alerts(settings)
    server = create_app(settings).server
    from mrumonitor.dashboard.pages import runs  # pages register themselves with an app

    shown = {}
    for access in (Access("kp_team", "regional", None), Access("dnm_gin", "agency", "GIN")):
        monkeypatch.setattr(runs, "current_access", functools.partial(lambda chosen: chosen, access))
        with server.test_request_context("/runs"):
            card = runs.deliveries_card()
        table = next(child for child in card.children if getattr(child, "id", None) == runs.DELIVERIES)
        shown[access.user] = table.data
    assert sorted(row["subscription"] for row in shown["kp_team"]) == ["dnm_gin watch", "kp_team watch"]
    assert [row["subscription"] for row in shown["dnm_gin"]] == ["dnm_gin watch"]
    assert all("@" not in str(value) for row in shown["kp_team"] + shown["dnm_gin"] for value in row.values())
    assert {row["status"] for row in shown["kp_team"]} == {"sent"}
