"""The scheduler: starts the jobs that are due, each in its own process, and records what happened.

`Scheduler.tick` looks once at every job, at the time its clock gives:

- **Due slots.** The slots of a job's cron expression after the last slot it recorded (or after the job
  was added). Missed runs are **coalesced**: however many slots passed while no scheduler was running,
  only the latest counts. It runs if it is at most ``misfire_grace_s`` old, and is recorded as "missed"
  otherwise (with how many slots were missed). A slot that comes due while the job's previous run is
  still going is recorded as "missed" too: a job never runs twice at once.
- **Claims.** A slot is claimed by inserting its row (`history.claim`): two schedulers started together
  claim it once, and only the winner starts it.
- **Retries.** A failed attempt is tried again once its ``retry_at`` has come (exponential backoff, up to
  ``max_attempts``, `history.RetryPolicy`); a new slot of the job replaces a pending retry.
- **Processes.** Each attempt runs in a child process (`scheduler.job`), which records its own end; when
  a child dies without recording (killed, out of memory, a crash of the interpreter), the scheduler
  records the failure. Runs of several jobs wait for each other on the store lock, which is not a failure.
  A job process left by a scheduler that died is recorded as failed once it is gone.

`run_once` ticks once and waits for the jobs it started (`mrumonitor scheduler --once`, for system cron
or CI); `serve` ticks every ``poll_s`` seconds until stopped (SIGTERM or SIGINT), leaving running jobs to
finish and record themselves; `run_now` starts one job at once, outside its schedule (`mrumonitor schedule
run`). After each tick's reap, and once the jobs `run_once` and `run_now` wait for have ended, the scheduler hands
the runs the operators must hear of (`notices.pending_notices`: missed, or failed with no retry left, in the
last week) to its `notify`
callable, when it was given one; a failing `notify` is logged and never stops the scheduler. On the system clock a
job process reads the system clock too; with an injected clock (tests, `--at`)
it is passed the offset, as ``--clock-offset=<s>`` (a negative value given apart reads as an option).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mrumonitor.alerts.operators import OperatorNotice
from mrumonitor.config import SchedulerSettings
from mrumonitor.errors import ConfigError, StoreError
from mrumonitor.scheduler.clock import Clock, system_clock
from mrumonitor.scheduler.cron import latest_due
from mrumonitor.scheduler.db import connect, parse_utc, utc_text
from mrumonitor.scheduler.history import RetryPolicy, claim, mark_started, record_failure
from mrumonitor.scheduler.jobs import require_job
from mrumonitor.scheduler.logs import job_output_path
from mrumonitor.scheduler.notices import pending_notices

log = logging.getLogger(__name__)

_OUTPUT_TAIL = 800


@dataclass
class _Child:
    job: str
    row_id: int
    process: subprocess.Popen
    output: Path


class Scheduler:
    """The scheduler of one store's jobs (module docstring).

    Parameters
    ----------
    store : path
        The layer store holding ``scheduler.sqlite``.
    settings : SchedulerSettings
        Poll interval, misfire grace, retry policy, store-lock wait.
    clock : callable
        Returns the current time (aware); inject one to compute due times for any moment.
    notify : callable, optional
        Given the operator notices of missed and finally failed runs (`alerts.operators.notify_operators`, which
        sends each once); None: nobody is told.
    """

    def __init__(self, store: str | Path, settings: SchedulerSettings, clock: Clock = system_clock,
                 notify: Callable[[Sequence[OperatorNotice]], object] | None = None):
        self.store, self.settings, self.clock, self.notify = Path(store), settings, clock, notify
        self.policy = RetryPolicy.of(settings)
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        self.children: dict[int, _Child] = {}
        self.failed: list[str] = []
        self._stop = threading.Event()

    def tick(self) -> list[int]:
        """Reap finished jobs, tell the operators of missed and failed runs, start what is due now; the rows of the
        attempts started."""
        self.reap()
        self.notify_operators()
        conn = connect(self.store)
        try:
            now = self.clock()
            self._recover_orphans(conn, now)
            started = []
            for job in conn.execute("SELECT * FROM jobs WHERE paused = 0 ORDER BY name").fetchall():
                try:
                    row_id = self._due(conn, job, now)
                except ConfigError as exc:  # a job stored before its expression was refused: the others go on
                    log.error("job %s skipped: %s Remove it and add it again.", job["name"], exc)
                    continue
                if row_id is not None:
                    started.append(self._start(conn, job["name"], row_id))
            for retry in self._due_retries(conn, now):
                row_id = claim(conn, retry["job"], parse_utc(retry["due_at"]), retry["attempt"] + 1, "running",
                               self.identity, now)
                if row_id is not None:
                    log.info("job %s: retrying the run due at %s (attempt %d)", retry["job"], retry["due_at"],
                             retry["attempt"] + 1)
                    started.append(self._start(conn, retry["job"], row_id))
            return started
        finally:
            conn.close()

    def run_once(self) -> int:
        """Start what is due now, wait for those jobs; 0 when none of them failed, 1 otherwise."""
        self.tick()
        self._wait()
        self.notify_operators()
        return 1 if self.failed else 0

    def run_now(self, job: str) -> sqlite3.Row:
        """Run `job` now, outside its schedule (`mrumonitor schedule run`), and wait for it; the attempt's row.

        The attempt is recorded in the job's history with the current time as its slot, and retried as the
        scheduler's settings say when it fails.
        """
        require_job(self.store, job)
        conn = connect(self.store)
        try:
            now = self.clock()
            row_id = claim(conn, job, now, 1, "running", f"{self.identity} (schedule run)", now)
            if row_id is None:
                raise StoreError(f"job {job!r} was started by another command in this very second; see "
                                 "`mrumonitor schedule history`.")
            self._start(conn, job, row_id)
        finally:
            conn.close()
        self._wait()
        self.notify_operators()
        conn = connect(self.store)
        try:
            return conn.execute("SELECT * FROM job_runs WHERE id = ?", (row_id,)).fetchone()
        finally:
            conn.close()

    def serve(self) -> None:
        """Tick every ``poll_s`` seconds until SIGTERM or SIGINT; reap finished jobs in between."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._stop.set())
        log.info("scheduler %s started on %s (poll every %g s)", self.identity, self.store, self.settings.poll_s)
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a bad tick (a locked or damaged database) is logged, not fatal
                log.exception("scheduler tick failed; trying again in %g s", self.settings.poll_s)
            deadline = self.settings.poll_s
            while deadline > 0 and not self._stop.is_set():
                self._stop.wait(min(deadline, 0.2))
                deadline -= 0.2
                self.reap()
        log.info("scheduler %s stopped; %d job(s) still running finish on their own", self.identity,
                 len(self.children))

    def stop(self) -> None:
        """Make `serve` return after the current tick."""
        self._stop.set()

    def reap(self) -> None:
        """Record the jobs whose process ended without recording its end (killed, crashed)."""
        for row_id, child in list(self.children.items()):
            code = child.process.poll()
            if code is None:
                continue
            del self.children[row_id]
            if code != 0:
                self.failed.append(child.job)
            conn = connect(self.store)
            try:
                error = (f"the job process ended with exit status {code} without recording its result; "
                         f"its output ({child.output}) ends with: {_tail(child.output)}")
                if record_failure(conn, row_id, error, self.policy, self.clock()):
                    log.error("job %s: %s", child.job, error)
                status = conn.execute("SELECT status FROM job_runs WHERE id = ?", (row_id,)).fetchone()
                log.info("job %s: attempt row %d %s", child.job, row_id, status["status"])
            finally:
                conn.close()

    def notify_operators(self) -> None:
        """Hand the pending operator notices to `notify` (when given); a failure is logged, never raised."""
        if self.notify is None:
            return
        try:
            conn = connect(self.store)
            try:
                notices = pending_notices(conn, self.clock())
            finally:
                conn.close()
            self.notify(notices)
        except Exception:  # telling the operators must never stop the scheduler
            log.exception("operators could not be told of failed or missed runs")

    def _wait(self) -> None:
        """Wait until the job processes started have ended (and are recorded)."""
        while self.children:
            self._stop.wait(0.2)
            self.reap()

    def _due(self, conn, job, now: dt.datetime) -> int | None:
        """Claim the job's latest due slot: the row to run, or None (nothing due, missed, or claimed elsewhere)."""
        last = conn.execute("SELECT MAX(due_at) FROM job_runs WHERE job = ?", (job["name"],)).fetchone()[0]
        slot, count = latest_due(job["cron"], job["timezone"], parse_utc(last or job["created_at"]), now)
        if slot is None:
            return None
        skipped = f"; {count - 1} earlier slot(s) since {last or job['created_at']} coalesced into it" if count > 1 else ""
        running = conn.execute("SELECT due_at FROM job_runs WHERE job = ? AND status = 'running'",
                               (job["name"],)).fetchone()
        late = (now - slot).total_seconds()
        if running is None and late <= self.settings.misfire_grace_s:
            row_id = claim(conn, job["name"], slot, 1, "running", self.identity, now)
            if row_id is not None:
                log.info("job %s: due at %s, starting%s", job["name"], utc_text(slot), skipped)
            return row_id
        reason = (f"not run: the run due at {running['due_at']} was still going" if running is not None else
                  f"not run: due at {utc_text(slot)}, {late:.0f} s ago, when no scheduler was running (more than "
                  f"the misfire grace of {self.settings.misfire_grace_s:g} s)")
        if claim(conn, job["name"], slot, 1, "missed", self.identity, now, error=reason + skipped) is not None:
            log.warning("job %s: %s%s", job["name"], reason, skipped)
        return None

    def _due_retries(self, conn, now: dt.datetime) -> list:
        """Failed attempts of active jobs whose retry time has come and that no later attempt follows."""
        return conn.execute(
            "SELECT r.job, r.due_at, r.attempt FROM job_runs r JOIN jobs j ON j.name = r.job "
            "WHERE j.paused = 0 AND r.status = 'failed' AND r.retry_at IS NOT NULL AND r.retry_at <= ? "
            "AND NOT EXISTS (SELECT 1 FROM job_runs n WHERE n.job = r.job AND n.due_at = r.due_at "
            "AND n.attempt > r.attempt)", (utc_text(now),)).fetchall()

    def _start(self, conn, job: str, row_id: int) -> int:
        """Start the job process of attempt `row_id`."""
        output = job_output_path(self.store, job, row_id)
        output.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "mrumonitor.scheduler.job", str(row_id), f"--store={self.store}",
                   f"--lock-wait={self.settings.lock_wait_s!r}", *self._clock_args(), *self.policy.as_args()]
        with open(output, "ab") as sink:
            process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        mark_started(conn, row_id, socket.gethostname(), process.pid)
        self.children[row_id] = _Child(job, row_id, process, output)
        log.info("job %s: attempt row %d running as pid %d (output: %s)", job, row_id, process.pid, output)
        return row_id

    def _clock_args(self) -> list[str]:
        """The job process's clock: none on the system clock, else the offset of the injected one.

        Options are passed as ``--name=value``: a negative value given apart (``-1e-06``) reads as an option.
        """
        if self.clock is system_clock:
            return []
        return [f"--clock-offset={(self.clock() - system_clock()).total_seconds()!r}"]

    def _recover_orphans(self, conn, now: dt.datetime) -> None:
        """Record as failed the running attempts of this host whose process is gone (a scheduler died with them)."""
        host = socket.gethostname()
        for row in conn.execute("SELECT id, job, pid, claimed_by FROM job_runs WHERE status = 'running' AND "
                                "(host = ? OR (host IS NULL AND claimed_by LIKE ?))", (host, f"{host}:%")).fetchall():
            if row["id"] in self.children:
                continue
            pid = row["pid"] if row["pid"] is not None else int(row["claimed_by"].rsplit(":", 1)[1])
            if _alive(pid):
                continue
            error = f"the job process (pid {pid}) is gone without recording its result (killed, or the machine restarted)"
            if record_failure(conn, row["id"], error, self.policy, now):
                log.error("job %s: %s", row["job"], error)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tail(path: Path) -> str:
    """The last lines of a job's output, without the frames of a Python traceback (its last line says what
    happened; the whole output stays in the file)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no output)"
    said = [line.strip() for line in lines if line.strip() and not line.startswith((" ", "\t", "Traceback ("))]
    return " / ".join(said[-3:])[-_OUTPUT_TAIL:] or "(no output)"
