"""Dashboard logins recorded on the server, so that logging out ends a session for good.

Flask's session lives in a signed cookie: logging out clears the browser's copy, but a copy captured before
would still be accepted. Each login therefore gets a random session id, recorded here with its user and
expiry time and carried in the signed cookie; a request counts as logged in only while its id is recorded
for its user. Logging out deletes the id: every copy of the cookie stops working at once.

The record is a small SQLite file (``<paths.work>/dashboard/sessions.sqlite``): the worker processes of
``mrumonitor serve --workers N`` all see one record, and it survives a restart of the server.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{self.path}: the dashboard cannot record its logins there ({exc}). Make "
                              "[paths] work a folder the server may write to.") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)  # each statement commits
        try:
            db.execute("PRAGMA journal_mode=WAL")
            yield db
        finally:
            db.close()

    def open(self, user: str) -> str:
        """Record a new login of `user`; its session id (random, 32 bytes). Expired logins are forgotten."""
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._connect() as db:
            db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (sid, user, now + self.lifetime_s))
        return sid

    def holds(self, sid: object, user: str) -> bool:
        """Whether `sid` is a recorded, unexpired login of `user`."""
        if not isinstance(sid, str):
            return False
        with self._connect() as db:
            row = db.execute("SELECT user, expires FROM sessions WHERE sid = ?", (sid,)).fetchone()
        return row is not None and row[0] == user and row[1] > time.time()

    def close(self, sid: object) -> None:
        """Forget the login `sid` (nothing happens for an unknown one)."""
        if isinstance(sid, str):
            with self._connect() as db:
                db.execute("DELETE FROM sessions WHERE sid = ?", (sid,))
