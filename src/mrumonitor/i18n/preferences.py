"""Each dashboard user's chosen language, kept beside the runs so the dashboard and the e-mail digests agree.

The choice lives in a small SQLite file, ``<store>/dashboard/preferences.sqlite`` (one row per user name), never
inside an immutable run: the dashboard's language switch saves it (`save_language`), and whatever speaks to a
user outside a request (the alert digests) reads it back (`saved_language`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mrumonitor.errors import ConfigError, UnknownOption
from mrumonitor.i18n import LANGUAGES
from mrumonitor.sqlitefile import schema_connection

#: The file, inside the layer store.
PREFERENCES_FILE = Path("dashboard") / "preferences.sqlite"

_SCHEMA = "CREATE TABLE IF NOT EXISTS languages (user TEXT PRIMARY KEY, code TEXT NOT NULL);"


def saved_language(store: Path, user: str) -> str | None:
    """The language `user` chose last (a key of `LANGUAGES`), None when the user never chose one."""
    path = Path(store) / PREFERENCES_FILE
    if not path.exists():
        return None
    with _connection(path) as db:
        row = db.execute("SELECT code FROM languages WHERE user = ?", (user,)).fetchone()
    return row[0] if row and row[0] in LANGUAGES else None


def save_language(store: Path, user: str, code: str) -> None:
    """Remember that `user` reads the dashboard (and its e-mails) in language `code`.

    Raises
    ------
    UnknownOption
        When `code` is not one of `LANGUAGES`.
    ConfigError
        When the store cannot hold the file.
    """
    if code not in LANGUAGES:
        raise UnknownOption(f"unknown language {code!r}; choose one of {', '.join(LANGUAGES)}.")
    with _connection(Path(store) / PREFERENCES_FILE) as db:
        db.execute("INSERT INTO languages (user, code) VALUES (?, ?) ON CONFLICT(user) DO UPDATE SET code = "
                   "excluded.code", (user, code))


@contextmanager
def _connection(path: Path) -> Iterator[sqlite3.Connection]:
    try:
        with schema_connection(path, _SCHEMA) as db:
            yield db
    except (OSError, sqlite3.DatabaseError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"{path}: the users' chosen languages cannot be kept there ({detail}). Make the layer "
                          "store's folder writable.") from None
