"""The SQLite files kept beside the runs (the verification ledger, the alert subscriptions): one way to open them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path


@contextmanager
def schema_connection(path: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A connection to the SQLite file `path` (its folder made) with `schema` (a script of ``CREATE ... IF NOT
    EXISTS``) in place; the block's work is committed when it succeeds and rolled back otherwise.

    Raises
    ------
    OSError, sqlite3.DatabaseError
        As they come: each caller says in its own words what the file is and how to fix it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30)) as db:
        with db:
            db.executescript(schema)
        with db:
            yield db
