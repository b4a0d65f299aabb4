"""The verification ledger: every field visit, every refused submission row and every sample design, append-only.

The ledger is one SQLite file beside the runs (``Settings.ledger``: ``<store>/verification/ledger.sqlite``),
never inside an immutable run, so pruning runs never loses a visit. Each run reads it whole
(`Ledger.visits`, `Ledger.samples`) and records its `state` among its inputs.

Append-only is the database's rule, not a convention: triggers refuse any UPDATE or DELETE of a visit, a
refused row or a sample. A wrong visit is corrected by recording a later one; the latest conclusive visit of
a site is the one that counts (`analysis.feedback`). A visit's id is its form's submission id (ODK
``instanceID``, Kobo ``_uuid``) when it has one: importing the same export twice adds nothing, and the
repeats are returned as duplicates, never silently dropped.

Tables:

- ``visits``: VISIT_COLUMNS (`mrumonitor.schema`), with who entered each one and when;
- ``rejected``: REJECTED_COLUMNS: submission rows that could not be recorded, with the file, row and reason;
- ``samples``: one JSON `SampleDesign` per sample drawn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mrumonitor.errors import VerificationError
from mrumonitor.frames import empty_frame
from mrumonitor.schema import VISIT_COLUMNS
from mrumonitor.sqlitefile import schema_connection
from mrumonitor.verification.design import SampleDesign

#: `rejected`: submission rows that could not be recorded. row: 1-based data row of the file (the header is
#: row 0) or feature number; reason: a short code; detail: what is wrong and how to fix it, in words;
#: attributes: the row as it came, as JSON.
REJECTED_COLUMNS: dict[str, str] = {
    "file": "string",
    "row": "int64",
    "visit_id": "string",
    "site_id": "string",
    "reason": "string",
    "detail": "string",
    "attributes": "string",
    "entered_by": "string",
    "entered_at": "datetime64[ms]",
}

_SQL_TYPES = {"string": "TEXT", "float64": "REAL", "int64": "INTEGER", "bool": "INTEGER", "datetime64[ms]": "TEXT"}
_TABLES = {"visits": VISIT_COLUMNS, "rejected": REJECTED_COLUMNS}
_SCHEMA = "\n".join([
    *(f"CREATE TABLE IF NOT EXISTS {table} (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
      + ", ".join(f"{name} {_SQL_TYPES[kind]}" + (" NOT NULL UNIQUE" if name == "visit_id" and table == "visits"
                                                  else "") for name, kind in columns.items()) + ");"
      for table, columns in _TABLES.items()),
    "CREATE TABLE IF NOT EXISTS samples (sample_id TEXT PRIMARY KEY, created TEXT NOT NULL, design TEXT NOT NULL);",
    *(f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action} BEFORE {action.upper()} ON {table} BEGIN "
      f"SELECT RAISE(ABORT, 'the verification ledger is append-only: record a new visit instead'); END;"
      for table in ("visits", "rejected", "samples") for action in ("update", "delete")),
])


@dataclass(frozen=True)
class Appended:
    """What `Ledger.append_visits` did: the visits added (with the ids and times the ledger gave them) and the
    ones it did not add because their visit_id is already in the ledger, or repeated in the batch."""

    added: pd.DataFrame
    duplicates: pd.DataFrame


class Ledger:
    """The verification ledger at `path` (created on the first write; reading a missing one gives no rows)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.is_file()

    # --- visits --------------------------------------------------------------------------------------------

    def visits(self) -> pd.DataFrame:
        """Every visit, in the order entered (VISIT_COLUMNS)."""
        return self._read("visits", VISIT_COLUMNS)

    def append_visits(self, visits: pd.DataFrame, entered_by: str, source: str) -> Appended:
        """Record `visits` (VISIT_COLUMNS without entered_by, entered_at, source; visit_id may be missing or
        empty, then the ledger gives one), entered now by `entered_by` from `source` (e.g. "import odk.csv").

        Rows whose visit_id is already in the ledger, or repeated earlier in `visits`, are not added: they
        come back as `Appended.duplicates`.

        Raises
        ------
        VerificationError
            The ledger cannot be written (the message says where and why).
        """
        if not entered_by.strip():
            raise VerificationError("a visit must say who entered it: give a user name (entered_by).")
        frame = _visit_frame(visits).assign(entered_by=entered_by, entered_at=_now(), source=source)
        with self._connection() as db:
            known = {row[0] for row in db.execute("SELECT visit_id FROM visits")}
            repeated = frame["visit_id"].isin(known) | frame["visit_id"].duplicated()
            added = frame[~repeated].astype(VISIT_COLUMNS)
            _insert(db, "visits", added)
        return Appended(added.reset_index(drop=True), frame[repeated].reset_index(drop=True))

    # --- refused submission rows ---------------------------------------------------------------------------

    def reject(self, rows: pd.DataFrame, entered_by: str) -> None:
        """Record submission rows that could not be recorded (REJECTED_COLUMNS without entered_by/_at)."""
        if not len(rows):
            return
        frame = rows.reindex(columns=list(REJECTED_COLUMNS)).assign(entered_by=entered_by, entered_at=_now())
        with self._connection() as db:
            _insert(db, "rejected", frame.astype(REJECTED_COLUMNS))

    def rejected(self) -> pd.DataFrame:
        """Every refused submission row, in the order recorded (REJECTED_COLUMNS)."""
        return self._read("rejected", REJECTED_COLUMNS)

    # --- sample designs ------------------------------------------------------------------------------------

    def save_sample(self, design: SampleDesign) -> None:
        """Record a drawn sample. Raises VerificationError when its id is already taken."""
        with self._connection() as db:
            try:
                db.execute("INSERT INTO samples (sample_id, created, design) VALUES (?, ?, ?)",
                           (design.sample_id, design.created, design.to_json()))
            except sqlite3.IntegrityError:
                raise VerificationError(f"{self.path}: a sample {design.sample_id} is already recorded; "
                                        "draw again (a new id is given each time).") from None

    def samples(self) -> list[SampleDesign]:
        """Every sample design, oldest first."""
        if not self.exists():
            return []
        with self._connection() as db:
            rows = db.execute("SELECT design FROM samples ORDER BY created, sample_id").fetchall()
        return [SampleDesign.from_json(row[0]) for row in rows]

    def sample(self, sample_id: str) -> SampleDesign:
        """The sample `sample_id` ("latest": the newest). Raises VerificationError naming the known ones."""
        samples = self.samples()
        if sample_id == "latest" and samples:
            return samples[-1]
        found = [design for design in samples if design.sample_id == sample_id]
        if not found:
            known = ", ".join(design.sample_id for design in samples) or "none yet"
            raise VerificationError(f"{self.path}: no sample {sample_id!r} (recorded: {known}). Draw one with "
                                    "`mrumonitor verify sample`.")
        return found[0]

    # --- provenance ----------------------------------------------------------------------------------------

    def state(self) -> dict:
        """What a run read: path, visits, samples, the last entry time and a digest of every visit and sample
        id (two runs that read the same ledger record the same digest)."""
        visits, samples = self.visits(), self.samples()
        digest = hashlib.sha256("\n".join([*visits["visit_id"].astype(str),
                                           *(design.sample_id for design in samples)]).encode()).hexdigest()
        last = visits["entered_at"].max() if len(visits) else None
        return {"role": "verification_ledger", "path": str(self.path), "visits": len(visits),
                "samples": len(samples), "last_entered_at": None if last is None else last.isoformat(),
                "digest": digest}

    # --- the file ------------------------------------------------------------------------------------------

    def _read(self, table: str, columns: dict[str, str]) -> pd.DataFrame:
        if not self.exists():
            return empty_frame(columns)
        with self._connection() as db:
            frame = pd.read_sql_query(f"SELECT {', '.join(columns)} FROM {table} ORDER BY seq", db)
        return _typed(frame, columns)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection with the schema in place; commits when the block succeeds, rolls back otherwise."""
        try:
            with schema_connection(self.path, _SCHEMA) as db:
                yield db
        except sqlite3.DatabaseError as exc:
            raise VerificationError(f"{self.path}: the verification ledger cannot be used ({exc}). If it is "
                                    "damaged, restore it from a backup; it is never rewritten, only appended "
                                    "to.") from None
        except OSError as exc:
            raise VerificationError(f"{self.path}: the verification ledger cannot be opened "
                                    f"({exc.strerror or exc}). Check the folder exists and may be written, or set "
                                    "[verification] ledger.") from None


def _visit_frame(visits: pd.DataFrame) -> pd.DataFrame:
    """`visits` with every VISIT_COLUMNS column, a visit_id on every row and the right types."""
    frame = visits.reindex(columns=list(VISIT_COLUMNS)).reset_index(drop=True)
    ids = frame["visit_id"].astype("string").str.strip()
    missing = ids.isna() | (ids == "")
    frame["visit_id"] = ids.mask(missing, pd.Series([f"mru-{uuid.uuid4()}" for _ in range(len(frame))]))
    frame["synthetic"] = frame["synthetic"].astype("boolean").fillna(False).astype(bool)
    return frame


def _insert(db: sqlite3.Connection, table: str, frame: pd.DataFrame) -> None:
    columns = list(_TABLES[table])
    rows = [[_sql_value(value) for value in row] for row in frame[columns].itertuples(index=False, name=None)]
    db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)


def _sql_value(value):
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return json.dumps(list(value), ensure_ascii=False)
    return value


def _typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    for name, kind in columns.items():
        if kind.startswith("datetime"):
            frame[name] = pd.to_datetime(frame[name], format="ISO8601")
        elif kind == "bool":
            frame[name] = frame[name].fillna(0).astype(bool)
    return frame.astype(columns)


def _now() -> pd.Timestamp:
    """Now, UTC, to the millisecond, without a time zone (as every datetime column of the layers)."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None).floor("ms")
