"""A subscription's feeds as a feed reader and a GIS get them from a real dashboard server, and the `alerts`
command in a real process."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pyogrio
import pytest
import requests
import shapely
from area_world import AREA_RUN, write_area_run
from conftest import auth_config, running_server
from hostile import assert_no_traceback, assert_refused, mrumonitor

from mrumonitor.alerts.subscriptions import Subscriptions
from mrumonitor.areas.resolve import WatchedArea, named_area
from mrumonitor.config import load_settings
from mrumonitor.dashboard.app import create_app

pytestmark = pytest.mark.integration

ATOM = "{http://www.w3.org/2005/Atom}"
#: The request headers of a feed reader (no cookie, no session).
READER = {"User-Agent": "Liferea/1.15 (Linux; https://lzone.de/liferea/) AppleWebKit", "Accept":
          "application/atom+xml, application/xml;q=0.9, */*;q=0.8"}


@pytest.fixture(scope="module")
def world(tmp_path_factory, secret_key):
    """The area world's run, logins on, a subscription of the SLE agency and of the regional team to a drawn area
    around everything, served by a real dashboard server."""
    folder = tmp_path_factory.mktemp("feeds")
    run_dir = write_area_run(folder / "layers")
    settings = load_settings(auth_config(folder / "layers", folder))
    book = Subscriptions(settings.subscriptions)
    everywhere = WatchedArea("drawn", "drawn", "the whole world", shapely.box(-12.5, 9.0, -10.0, 11.0))
    common = {"email": "a@example.org", "area": everywhere, "kinds": [], "min_confidence": "low", "frequency": "run",
              "since_run": ""}
    subs = {user: book.add(name=f"{user} watch", user=user, **common) for user in ("nma_sle", "kp_team")}
    with running_server(create_app(settings).server) as url:
        yield url, subs, settings, run_dir


def entries(body: bytes) -> list[dict]:
    root = ET.fromstring(body)
    return [{"id": e.find(f"{ATOM}id").text, "title": e.find(f"{ATOM}title").text,
             "link": e.find(f"{ATOM}link").get("href")} for e in root.iter(f"{ATOM}entry")]


def test_a_feed_reader_gets_the_atom_feed_without_a_login_and_an_agency_feed_holds_its_country_only(world):
    url, subs, _, _ = world
    agency = requests.get(f"{url}/feeds/{subs['nma_sle'].feed_token}.atom", headers=READER, timeout=30)
    assert agency.status_code == 200, agency.text
    assert agency.headers["Content-Type"].startswith("application/atom+xml")
    assert agency.headers["Cache-Control"] == "private, max-age=300"
    got = entries(agency.content)
    assert sorted(re.match(r"(.+): site (\S+) ", e["title"]).groups() for e in got) == [
        ("Mining site grew", "SLE-REG"), ("New mining site", "SLE-BORDER"),
        ("New unregistered mining in the border zone", "SLE-BORDER")]
    assert all("GIN" not in e["link"] and e["id"].startswith("urn:mrumonitor:alert:") for e in got)
    assert got[0]["link"].startswith("http://127.0.0.1:8050/site/SLE-")
    regional = entries(requests.get(f"{url}/feeds/{subs['kp_team'].feed_token}.atom", headers=READER,
                                    timeout=30).content)
    assert any(e["title"].startswith("Mining inside a licence that does not allow it: site GIN-SITE ")
               for e in regional) and len(regional) == 4


def test_the_geojson_feed_reads_back_in_gdal_with_dossier_links(world, tmp_path):
    url, subs, _, _ = world
    answer = requests.get(f"{url}/feeds/{subs['nma_sle'].feed_token}.geojson", timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/geo+json"
    path = tmp_path / "feed.geojson"
    path.write_bytes(answer.content)
    frame = pyogrio.read_dataframe(path)
    assert frame.crs.to_epsg() == 4326 and set(frame["country"]) == {"SLE"} and len(frame) == 3
    assert set(frame["dossier_url"]) == {f"http://127.0.0.1:8050/site/{site}" for site in frame["site_id"]}


@pytest.mark.hostile
@pytest.mark.parametrize("path", ["/feeds/not-a-token.atom", "/feeds/{token}.rss", "/feeds/{token}",
                                  "/feeds/a/b.atom", "/feeds/{token}x.geojson"])
def test_an_unknown_feed_is_a_plain_404_and_never_the_dashboard(world, path):
    url, subs, _, _ = world
    answer = requests.get(url + path.format(token=subs["kp_team"].feed_token), headers=READER, timeout=30,
                          allow_redirects=False)
    assert (answer.status_code, answer.text) == (404, "no such feed\n")


@pytest.mark.hostile
def test_a_removed_subscription_or_one_whose_user_is_gone_has_no_feed(world):
    url, _, settings, run_dir = world
    book = Subscriptions(settings.subscriptions)
    gone = book.add(name="orphan", user="left_the_agency", email="x@example.org",
                    area=named_area(run_dir, "country", "SLE"), kinds=[], min_confidence="low", frequency="run",
                    since_run="")
    removed = book.add(name="stopped", user="kp_team", email="x@example.org", area=named_area(run_dir, "country", "SLE"),
                       kinds=[], min_confidence="low", frequency="run", since_run="")
    book.remove(removed.id)
    for sub in (gone, removed):
        answer = requests.get(f"{url}/feeds/{sub.feed_token}.atom", headers=READER, timeout=30)
        assert (answer.status_code, answer.text) == (404, "no such feed\n")


# --- the command line, in a real process ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    write_area_run(folder / "layers")
    return auth_config(folder / "layers", folder)


@pytest.mark.hostile
def test_watching_an_unknown_licence_or_another_countrys_area_is_refused_with_the_rule(cli_world):
    unknown = mrumonitor("alerts", "watch", "--config", str(cli_world), "--user", "nma_sle", "--email",
                         "nma@example.org", "--licence", "SL-L-9999")
    assert_refused(unknown, "has no licence 'SL-L-9999'", "SL-L-0001")
    foreign = mrumonitor("alerts", "watch", "--config", str(cli_world), "--user", "nma_sle", "--email",
                         "nma@example.org", "--country", "GIN")
    assert_refused(foreign, "SLE agency user", "not country GIN")
    nobody = mrumonitor("alerts", "watch", "--config", str(cli_world), "--email", "nma@example.org",
                        "--country", "SLE")
    assert_refused(nobody, "give --user", "kp_team, nma_sle")


def test_watch_prints_the_feeds_list_shows_it_and_the_feed_command_writes_its_atom(cli_world, tmp_path):
    made = mrumonitor("alerts", "watch", "--config", str(cli_world), "--user", "nma_sle", "--email",
                      "nma@example.org", "--corridor", "SLE-GIN-004", "--kinds", "new_site,growth",
                      "--min-confidence", "low", "--every", "weekly")
    assert made.returncode == 0, made.stderr
    assert_no_traceback(made.stdout, made.stderr)
    assert "/feeds/" in made.stdout and ".atom" in made.stdout and ".geojson" in made.stdout
    sub_id = made.stdout.split("subscription ", 1)[1].split(" ", 1)[0]
    listed = mrumonitor("alerts", "list", "--config", str(cli_world))
    assert listed.returncode == 0, listed.stderr
    assert "Border corridor SLE-GIN-004" in listed.stdout and "weekly" in listed.stdout and "never" in listed.stdout
    feed = mrumonitor("alerts", "feed", sub_id, "--config", str(cli_world), "-o", str(tmp_path / "f.atom"))
    assert feed.returncode == 0, feed.stderr
    # made after AREA_RUN: the feed of that run lists nothing the subscription would be sent
    assert entries((tmp_path / "f.atom").read_bytes()) == []
    every = mrumonitor("alerts", "geojson", "--config", str(cli_world), "--run", AREA_RUN, "-o",
                       str(tmp_path / "all.geojson"))
    assert every.returncode == 0, every.stderr
    assert len(pyogrio.read_dataframe(tmp_path / "all.geojson")) == 5
