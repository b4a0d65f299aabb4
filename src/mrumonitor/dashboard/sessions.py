"""Dashboard logins recorded on the server, so that logging out ends a session for good.

Flask's session lives in a signed cookie: logging out clears the browser's copy, but a copy captured before
would still be accepted. Each login therefore gets a random session id, recorded here with its user and
expiry time and carried in the signed cookie; a request counts as logged in only while its id is recorded
for its user. Logging out deletes the id: every copy of the cookie stops working at once.

The record is a small SQLite file (``<paths.work>/dashboard/sessions.sqlite``): the worker processes of
``mrumonitor serve --workers N`` all see one record, and it survives a restart of the server.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

from mrumonitor.errors import ConfigError

#: The session record, inside the work folder.
SESSIONS_FILE = Path("dashboard") / "sessions.sqlite"

_SCHEMA = "CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, user TEXT NOT NULL, expires REAL NOT NULL)"


class SessionRecord:
    """The recorded logins of one dashboard (see the module's description).

    Parameters
    ----------
    path : Path
        The SQLite file; its folder is created.
    lifetime_s : float
        Seconds a login lasts.
    """

    def __init__(self, path: Path, lifetime_s: float):
        self.path = Path(path)
        self.lifetime_s = lifetime_s
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # closed at once: a connection must not be carried into the worker processes forked from this one
            with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
                db.execute("PRAGMA journal_mode=WAL")  # kept by the file: readers never wait for a login
                db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{self.path}: the dashboard cannot record its logins there ({exc}). Make "
                              "[paths] work a folder the server may write to.") from None

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection to the record, opened once per thread and process (a gunicorn worker forked
        from the server does not share its parent's): opening one for each request cost 0.4 ms."""
        cached = getattr(self._local, "db", None)
        if cached is None or cached[0] != os.getpid():
            cached = (os.getpid(), sqlite3.connect(self.path, timeout=10, isolation_level=None))  # autocommit
            self._local.db = cached
        return cached[1]

    def open(self, user: str) -> str:
        """Record a new login of `user`; its session id (random, 32 bytes). Expired logins are forgotten."""
        sid = secrets.token_urlsafe(32)
        now = time.time()
        db = self._connect()
        db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
        db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (sid, user, now + self.lifetime_s))
        return sid

    def holds(self, sid: object, user: str) -> bool:
        """Whether `sid` is a recorded, unexpired login of `user`."""
        if not isinstance(sid, str):
            return False
        row = self._connect().execute("SELECT user, expires FROM sessions WHERE sid = ?", (sid,)).fetchone()
        return row is not None and row[0] == user and row[1] > time.time()

    def close(self, sid: object) -> None:
        """Forget the login `sid` (nothing happens for an unknown one)."""
        if isinstance(sid, str):
            self._connect().execute("DELETE FROM sessions WHERE sid = ?", (sid,))
