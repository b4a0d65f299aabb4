#!/usr/bin/env python
"""Scheduler soak: a real `mrumonitor scheduler` on the real clock, a job due every minute, for N minutes.

    python bench/soak_scheduler.py [--minutes 15] [--poll 5] [--keep DIR]

Builds the tests' tiny run inputs (one licence per national cadastre, detections over two periods, a 2 km
grid: tests/run_inputs.py), schedules a job with ``mrumonitor schedule add soak --cron "* * * * *"``, starts
``mrumonitor scheduler`` (no --at: the system clock) and samples the scheduler's resident memory every few
seconds. After N minutes it lets the run in progress finish, stops the scheduler with SIGTERM and reads the
job's history. Reports the due slots, runs published, missed, failed and retried attempts, the latency from
a slot to its run's start and to its publication (p50/p95/max, seconds; the history records times to the
second), and the scheduler's RSS over time (settled: a minute after its start; growth from there to the
end). Prints them and writes bench/results/soak_scheduler.json; exit status 1 when a due slot did not
publish a run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from run_inputs import write_run_inputs

from mrumonitor.scheduler.cron import latest_due
from mrumonitor.scheduler.db import db_path

RESULTS = Path(__file__).parent / "results" / "soak_scheduler.json"
CRON = "* * * * *"
SAMPLE_S = 5.0
#: RSS growth is measured from the first sample this many seconds after the start (imports done, first tick).
SETTLED_S = 60.0
#: How long the run in progress at the end may take to finish before the scheduler is stopped anyway.
DRAIN_S = 300.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="how long the scheduler runs")
    parser.add_argument("--poll", type=float, default=5.0, help="[scheduler] poll_s of the soak's configuration")
    parser.add_argument("--keep", type=Path, default=None, help="build the inputs and store in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="soak-scheduler-"))
    folder.mkdir(parents=True, exist_ok=True)
    config = write_run_inputs(folder)
    config.write_text(config.read_text() + f"[scheduler]\npoll_s = {args.poll}\n")
    store = folder / "layers"
    _command("schedule", "add", "soak", "--cron", CRON, "--config", str(config))

    started = dt.datetime.now(dt.UTC)
    with open(folder / "scheduler.out", "w") as output:
        scheduler = subprocess.Popen([sys.executable, "-m", "mrumonitor.cli", "scheduler", "--config", str(config)],
                                     stdout=output, stderr=subprocess.STDOUT)
    samples = _watch(scheduler.pid, time.monotonic() + args.minutes * 60)
    ended = dt.datetime.now(dt.UTC)
    samples += _watch(scheduler.pid, time.monotonic() + DRAIN_S, until=lambda: not _running(store))
    scheduler.send_signal(signal.SIGTERM)
    exit_code = scheduler.wait(timeout=120)

    figures = _figures(store, started, ended, samples, exit_code)
    figures.update(minutes=args.minutes, poll_s=args.poll, folder=str(folder), python=platform.python_version(),
                   machine=platform.machine(), started=started.isoformat(timespec="seconds"),
                   ended=ended.isoformat(timespec="seconds"))
    _print(figures)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))
    print(f"\nwritten: {RESULTS}")
    return 0 if figures["published"] == figures["due_slots"] and exit_code == 0 else 1


def _command(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "mrumonitor.cli", *args], check=False, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"mrumonitor {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def _watch(pid: int, deadline: float, until=lambda: False) -> list[tuple[float, float]]:
    """(seconds since the epoch, RSS in MiB) of process `pid` every SAMPLE_S seconds up to `deadline`."""
    samples = []
    while time.monotonic() < deadline and not until():
        samples.append((time.time(), _rss_mib(pid)))
        time.sleep(SAMPLE_S)
    return samples


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _running(store: Path) -> bool:
    with sqlite3.connect(db_path(store)) as conn:
        return conn.execute("SELECT COUNT(*) FROM job_runs WHERE status = 'running'").fetchone()[0] > 0


def _figures(store: Path, started: dt.datetime, ended: dt.datetime, samples: list, exit_code: int) -> dict:
    with sqlite3.connect(db_path(store)) as conn:
        conn.row_factory = sqlite3.Row
        created = dt.datetime.fromisoformat(conn.execute("SELECT created_at FROM jobs").fetchone()[0])
        rows = [dict(row) for row in conn.execute("SELECT * FROM job_runs WHERE due_at <= ? ORDER BY id",
                                                  (ended.isoformat(timespec="seconds"),))]
    due = latest_due(CRON, "UTC", max(created, started), ended)[1]
    first = [row for row in rows if row["attempt"] == 1]
    succeeded = [row for row in rows if row["status"] == "succeeded"]
    rss = np.array([mib for _, mib in samples])
    settled = next((i for i, (t, _) in enumerate(samples) if t - samples[0][0] >= SETTLED_S), 0)
    hours = (samples[-1][0] - samples[settled][0]) / 3600
    return {
        "due_slots": due,
        "published": len(succeeded),
        "missed": sum(row["status"] == "missed" for row in rows) + max(due - len({r["due_at"] for r in rows}), 0),
        "failed_attempts": sum(row["status"] == "failed" for row in rows),
        "retries": sum(row["attempt"] > 1 for row in rows),
        "errors": sorted({row["error"] for row in rows if row["error"]}),
        "slot_to_start_s": _spread([_seconds(row["due_at"], row["started_at"]) for row in first]),
        "slot_to_publish_s": _spread([_seconds(row["due_at"], row["finished_at"]) for row in succeeded]),
        "run_s": _spread([_seconds(row["started_at"], row["finished_at"]) for row in succeeded]),
        "scheduler_rss_mib": {"settled": round(float(rss[settled]), 1), "max": round(float(rss.max()), 1),
                              "last": round(float(rss[-1]), 1),
                              "growth_per_hour": round(float((rss[-1] - rss[settled]) / hours), 1) if hours else None},
        "rss_samples": [[round(t - samples[0][0], 1), round(mib, 1)] for t, mib in samples],
        "scheduler_exit": exit_code,
    }


def _seconds(since: str, until: str) -> float:
    return (dt.datetime.fromisoformat(until) - dt.datetime.fromisoformat(since)).total_seconds()


def _spread(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    array = np.array(values)
    return {"n": len(values), "p50": float(np.percentile(array, 50)), "p95": float(np.percentile(array, 95)),
            "max": float(array.max())}


def _print(figures: dict) -> None:
    print(f"soak of `mrumonitor scheduler`, job every minute, {figures['minutes']:g} min "
          f"({figures['started']} to {figures['ended']}), poll {figures['poll_s']:g} s")
    for key in ("due_slots", "published", "missed", "failed_attempts", "retries", "scheduler_exit"):
        print(f"  {key:<18} {figures[key]}")
    for key in ("slot_to_start_s", "slot_to_publish_s", "run_s"):
        spread = figures[key]
        print(f"  {key:<18} " + (f"p50 {spread['p50']:.0f}  p95 {spread['p95']:.0f}  max {spread['max']:.0f}  "
                                 f"(n={spread['n']})" if spread["n"] else "none"))
    rss = figures["scheduler_rss_mib"]
    print(f"  scheduler RSS MiB  settled {rss['settled']}  max {rss['max']}  last {rss['last']}  "
          f"growth {rss['growth_per_hour']} MiB/h (from settled to last)")
    for error in figures["errors"]:
        print(f"  error: {error}")


if __name__ == "__main__":
    sys.exit(main())
