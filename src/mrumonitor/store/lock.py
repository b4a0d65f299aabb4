"""The store lock: one writer at a time (a `mrumonitor run`, the scheduler), refused with a clear message.

`StoreLock` takes an exclusive `fcntl.flock` on ``<store>/runs/.lock`` and keeps it for the whole run.
The kernel releases a flock when its process dies, however it dies (SIGKILL included), so a dead run
never leaves a stale lock behind; the holder's pid, host and start time are written into the lock file
only so that the refusal can say who holds it. The file itself is never deleted (deleting a lock file
lets two processes lock two different files).

The lock is per open file, not per process: taking it twice in one process is refused like any other
second writer. flock is reliable on local file systems; on NFS it needs Linux 2.6.12 or later.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Self

from mrumonitor.errors import RunLockedError
from mrumonitor.store.runs import runs_dir
from mrumonitor.store.storage import storage_errors

log = logging.getLogger(__name__)

#: The lock file, inside the runs folder.
LOCK_FILE = ".lock"

_POLL_S = 0.2


@dataclass(frozen=True)
class LockHolder:
    """Who holds a store lock: process id, host, what for, and since when (ISO 8601, UTC)."""

    pid: int
    host: str
    purpose: str
    started: str

    def describe(self) -> str:
        """E.g. "pid 1234 on host01, started 10:15 UTC on 2026-11-22"."""
        started = dt.datetime.fromisoformat(self.started)
        return f"pid {self.pid} on {self.host}, started {started:%H:%M} UTC on {started:%Y-%m-%d}"


class StoreLock:
    """Exclusive lock of a layer store, held while writing to it (a context manager).

    Parameters
    ----------
    store_dir : path
        The layer store (``paths.store``); the lock file is ``<store_dir>/runs/.lock``.
    purpose : str
        What the holder does ("run", "scheduled run"...), recorded for the refusal message.
    wait_s : float
        How long to wait for another holder to finish before refusing. Default: refuse at once.

    Raises
    ------
    RunLockedError
        On entering, when another process still holds the lock after `wait_s`.
    StoreError
        On entering, when the store folder cannot be created or written.

    Examples
    --------
    >>> with StoreLock(settings.paths.store, purpose="scheduled run"):
    ...     ...  # nothing else writes to the store here
    """

    def __init__(self, store_dir: str | Path, purpose: str = "run", wait_s: float = 0.0):
        self.path = runs_dir(store_dir) / LOCK_FILE
        self.purpose = purpose
        self.wait_s = wait_s
        self.holder: LockHolder | None = None
        self._fd: int | None = None

    def __enter__(self) -> Self:
        with storage_errors(self.path.parent.parent):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._acquire(fd)
            self.holder = LockHolder(os.getpid(), socket.gethostname(), self.purpose,
                                     dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
            with storage_errors(self.path.parent.parent):
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(asdict(self.holder)).encode(), 0)
                os.fsync(fd)
        except BaseException:
            os.close(fd)  # closing the file releases the lock, if it was taken
            raise
        self._fd = fd
        log.debug("locked %s (%s)", self.path, self.holder.describe())
        return self

    def __exit__(self, *exc_info) -> None:
        fd, self._fd, self.holder = self._fd, None, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # nobody holds it: a later refusal must not name a finished process
        except OSError as exc:
            log.warning("could not clear the holder recorded in %s: %s", self.path, exc)
        finally:
            os.close(fd)

    def _acquire(self, fd: int) -> None:
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLockedError(self._refusal(_recorded_holder(fd))) from None
                time.sleep(_POLL_S)

    def _refusal(self, holder: LockHolder | None) -> str:
        who = f"another {holder.purpose} ({holder.describe()})" if holder else "another run"
        return (f"{who} is writing to the layer store {self.path.parent.parent}; wait for it to finish and try "
                f"again, or stop that process if it hangs (its lock goes with it). Nothing was changed. "
                f"Lock file: {self.path}")


def current_holder(store_dir: str | Path) -> LockHolder | None:
    """Who is writing to the store now, as far as the lock file tells without taking the lock.

    The recorded holder, unless it is a process of this host that no longer exists (a run killed before it
    could clear the file). For display only: to write, take the lock.
    """
    try:
        holder = LockHolder(**json.loads((runs_dir(store_dir) / LOCK_FILE).read_bytes()))
    except (FileNotFoundError, ValueError, TypeError):
        return None
    if holder.host == socket.gethostname() and not _alive(holder.pid):
        return None
    return holder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _recorded_holder(fd: int) -> LockHolder | None:
    """The holder written in the lock file (None while the holder has not written itself in yet)."""
    try:
        return LockHolder(**json.loads(os.pread(fd, 4096, 0)))
    except (ValueError, TypeError):
        return None
