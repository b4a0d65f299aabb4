"""The path a user takes, in real processes: `mrumonitor run`, `alerts watch`, a third period with known changes,
`run` again with the mail server down (the run is published all the same), `alerts deliver` once it is back, and a
run of the same inputs that sends nothing; a scheduled run that fails is e-mailed to the operators once."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from area_world import border_frame
from hostile import assert_no_traceback, mrumonitor
from run_inputs import add_period, write_run_inputs
from smtp_server import free_port, smtp_server

from mrumonitor.config import load_settings
from mrumonitor.reference.layers import ReferenceLayers
from mrumonitor.runfolder import RunFolder
from mrumonitor.scheduler.db import db_path
from mrumonitor.store.runs import resolve_run

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: A line of a digest's text naming one alert: "  <kind in words>, <confidence> confidence, period P3, site <id>: ".
ALERT_LINE = re.compile(r"^  ([A-Za-z ]+), (high|medium|low) confidence, period (\w+), site (\S+): ", re.MULTILINE)


def smtp_block(port: int, **alerts: object) -> str:
    """[alerts] and [alerts.smtp] for a test server on `port` (plain SMTP, no wait between two tries)."""
    keys = "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in alerts.items())
    return (f'\n[alerts]\ndashboard_url = "https://monitor.example.org"\n{keys}'
            f'[alerts.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nattempts = 2\nretry_wait_s = 0\n')


def add_known_changes(folder: Path) -> dict[str, shapely.Point]:
    """A third period: the Sierra Leone site grows from 800 to 1600 ha, a new site appears inside the country, and a
    new one without a licence 1 km from the Guinea-Sierra Leone border; their points (WGS84)."""
    add_period(folder, "P3")
    reference = ReferenceLayers.load(load_settings())
    _, middle, normal, _ = border_frame(reference)
    border = gpd.GeoSeries([shapely.Point(middle.x + 1000 * normal[0], middle.y + 1000 * normal[1])],
                           crs=reference.borders.crs).to_crs(4326).iloc[0]
    detections = pd.read_csv(folder / "detections_P3.csv")
    grown = detections["det_id"] == 1
    detections.loc[grown, "area_ha"] = 1600.0
    sle = detections[grown].iloc[0]
    inside = shapely.Point(sle["lon"] + 0.4, sle["lat"] + 0.3)
    new = pd.DataFrame([(4, inside.x, inside.y, 600.0), (5, border.x, border.y, 300.0)], columns=detections.columns)
    pd.concat([detections, new]).to_csv(folder / "detections_P3.csv", index=False)
    return {"grown": shapely.Point(sle["lon"], sle["lat"]), "inside": inside, "border": border}


def site_at(store: Path, point: shapely.Point) -> str:
    """The id of the latest run's site nearest to `point` (WGS84)."""
    sites = gpd.read_parquet(RunFolder(resolve_run(store)).layer("sites"))  # in the analysis CRS: metres
    return sites.loc[sites.distance(gpd.GeoSeries([point], crs=4326).to_crs(sites.crs).iloc[0]).idxmin(), "site_id"]


def test_a_run_delivers_exactly_its_new_alerts_once_even_after_the_server_was_down(tmp_path):
    config = write_run_inputs(tmp_path)
    port = free_port()
    config.write_text(config.read_text() + smtp_block(port))
    first = mrumonitor("run", "--config", str(config))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "alerts:" not in first.stdout  # no subscription yet: nothing said
    watched = mrumonitor("alerts", "watch", "--country", "SLE", "--email", "kp@example.org", "--min-confidence", "low",
                         "--config", str(config))
    assert watched.returncode == 0, watched.stdout + watched.stderr
    points = add_known_changes(tmp_path)

    down = mrumonitor("run", "--config", str(config))  # nothing listens on the port
    output = down.stdout + down.stderr
    assert down.returncode == 0 and "1 failed: see `mrumonitor alerts status`" in " ".join(output.split()), output
    assert_no_traceback(output)
    status = mrumonitor("alerts", "status", "--config", str(config))
    assert status.returncode == 0 and "failed" in status.stdout and "cannot connect" in " ".join(status.stdout.split())

    store = tmp_path / "layers"
    grown, inside, border = (site_at(store, points[name]) for name in ("grown", "inside", "border"))
    with smtp_server(port) as box:
        delivered = mrumonitor("alerts", "deliver", "--config", str(config))
        again = mrumonitor("run", "--config", str(config))  # the same inputs: nothing new
    assert delivered.returncode == again.returncode == 0, delivered.stdout + again.stdout + again.stderr
    assert "alerts: 0 digests sent" in again.stdout
    assert len(box.messages) == 1
    received = box.messages[0]
    assert received.recipients == ["kp@example.org"]
    assert received.message["Subject"].strip().startswith("mrumonitor: 4 new alerts in Sierra Leone (run ")
    listed = {(kind, site) for kind, _, period, site in ALERT_LINE.findall(received.text()) if period == "P3"}
    assert listed == {("Mining site grew", grown), ("New mining site", inside), ("New mining site", border),
                      ("New unregistered mining in the border zone", border)}
    assert len(ALERT_LINE.findall(received.text())) == 4
    html = received.text("text/html")
    assert all(f"https://monitor.example.org/site/{site}\"" in html for site in (grown, inside, border))


def test_a_failed_scheduled_run_is_emailed_to_the_operators_once(tmp_path):
    config = tmp_path / "mrumonitor.toml"
    port = free_port()
    config.write_text('[paths]\nstore = "layers"\nwork = "work"\n[scheduler]\nmax_attempts = 1\n'
                      + smtp_block(port, operators=["ops@example.org"]))
    assert mrumonitor("schedule", "add", "nightly", "--cron", "* * * * *", "--config", str(config)).returncode == 0
    with sqlite3.connect(db_path(tmp_path / "layers")) as conn:  # added before 10:00; its runs read a folder
        conn.execute("UPDATE jobs SET config = '..', created_at = '2026-12-07T09:58:00+00:00'")
    with smtp_server(port) as box:  # both read the clock as --at says: the second finds the 10:00 slot taken
        ran = [mrumonitor("scheduler", "--once", "--at", "2026-12-07T10:00:20", "--config", str(config))
               for _ in range(2)]
    assert [r.returncode for r in ran] == [1, 0], [r.stdout + r.stderr for r in ran]
    assert len(box.messages) == 1
    notice = box.messages[0]
    assert notice.recipients == ["ops@example.org"]
    assert notice.message["Subject"].strip() == "mrumonitor: scheduled run nightly failed"
    text = " ".join(notice.text().split())
    assert "due at 2026-12-07T10:00:00+00:00" in text and "mrumonitor schedule history nightly" in text
    status = mrumonitor("alerts", "status", "--config", str(config))
    assert "run_failed" in status.stdout and "sent" in status.stdout
