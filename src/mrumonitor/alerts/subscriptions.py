"""Alert subscriptions and what was delivered to them: one SQLite file beside the runs.

The file is ``Settings.subscriptions`` (``<store>/alerts/subscriptions.sqlite``), never inside an immutable run,
so pruning runs loses no subscription and no record of what was sent. Tables:

- ``subscriptions``: who watches which area (`mrumonitor.areas.resolve.WatchedArea`), for which alert kinds, from
  which confidence, how often, and the secret token of its feeds. Removing one deactivates it: its history stays.
- ``digests``: every delivery tried (a digest to a subscription over a channel), with its status
  (DELIVERY_STATUSES), attempts and error.
- ``digest_alerts``: the alerts each SENT digest carried. ``UNIQUE(subscription_id, alert_id, channel)`` is the
  database's rule that an alert is sent at most once per subscription and channel.
- ``notices``: the notices sent to the operators about failed or missed scheduled runs, one per key.

Each call opens its own connection (WAL, so a delivery never blocks the dashboard's feeds): the scheduler, the
command line and the dashboard's workers may use the file at once. Feed tokens are credentials: never log them.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import shapely

from mrumonitor.config import EMAIL_PATTERN
from mrumonitor.errors import ConfigError, SubscriptionError
from mrumonitor.schema import (
    ALERT_KINDS,
    AREA_KINDS,
    CONFIDENCE_LEVELS,
    DELIVERY_STATUSES,
    OPERATOR_NOTICE_KINDS,
    SUBSCRIPTION_FREQUENCIES,
)
from mrumonitor.sqlitefile import schema_connection

if TYPE_CHECKING:
    from mrumonitor.areas.resolve import WatchedArea

#: Active subscriptions one user may hold: more is a runaway script or a hostile user, not a person.
MAX_SUBSCRIPTIONS_PER_USER = 100
#: Longest subscription name (characters).
MAX_NAME_LENGTH = 100
#: Area kinds whose geometry the subscription stores (the others are resolved on each run by their ref).
STORED_AREA_KINDS = ("drawn", "upload")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, user TEXT NOT NULL, email TEXT NOT NULL,
    area_kind TEXT NOT NULL, area_ref TEXT NOT NULL, area_label TEXT NOT NULL, area_geojson TEXT,
    kinds TEXT NOT NULL, min_confidence TEXT NOT NULL, frequency TEXT NOT NULL,
    feed_token TEXT NOT NULL UNIQUE, since_run TEXT NOT NULL, created_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS digests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
    channel TEXT NOT NULL, run_id TEXT NOT NULL, alerts INTEGER NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL, error TEXT, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS digest_alerts (
    digest_id INTEGER NOT NULL REFERENCES digests(id), subscription_id INTEGER NOT NULL, alert_id TEXT NOT NULL,
    channel TEXT NOT NULL, UNIQUE (subscription_id, alert_id, channel));
CREATE TABLE IF NOT EXISTS notices (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, job TEXT NOT NULL, due_at TEXT NOT NULL, message TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL, error TEXT, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS digests_by_subscription ON digests (subscription_id, channel, status);
"""

_COLUMNS = ("id", "name", "user", "email", "area_kind", "area_ref", "area_label", "area_geojson", "kinds",
            "min_confidence", "frequency", "feed_token", "since_run", "created_at", "active")
_DIGEST_COLUMNS = ["id", "subscription_id", "name", "user", "email", "channel", "run_id", "alerts", "status",
                   "attempts", "error", "at"]
_NOTICE_COLUMNS = ["key", "kind", "job", "due_at", "message", "status", "attempts", "error", "at"]


@dataclass(frozen=True)
class Subscription:
    """One user's watch on one area (see `Subscriptions.add` for what each field may hold).

    `since_run` is the latest run id when the subscription was made ("" when the store had none): only alerts
    first published by a later run are delivered, never what was already there. `feed_token` is the credential
    in the URLs of its Atom and GeoJSON feeds.
    """

    id: int
    name: str
    user: str
    email: str
    area_kind: str
    area_ref: str
    area_label: str
    area_geojson: str | None
    kinds: tuple[str, ...]
    min_confidence: str
    frequency: str
    feed_token: str
    since_run: str
    created_at: dt.datetime
    active: bool


class Subscriptions:
    """The subscriptions file at `path` (created with its folder when missing).

    Raises
    ------
    ConfigError
        When the file cannot be created or written (the message names it and the setting to change).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with self._connection() as db:
            db.execute("PRAGMA journal_mode=WAL")  # kept by the file: a feed never waits for a delivery

    # --- subscriptions -------------------------------------------------------------------------------------

    def add(self, *, name: str, user: str, email: str, area: WatchedArea, kinds: Iterable[str], min_confidence: str,
            frequency: str, since_run: str) -> Subscription:
        """Record a new subscription of `user` (``""`` with logins off) to `area`; it gets a fresh feed token.

        `kinds` empty means every alert kind. The geometry of a drawn or uploaded area is stored (as WGS84
        GeoJSON); a named area is stored by its kind and ref and resolved again on each run.

        Raises
        ------
        SubscriptionError
            A name that is empty or longer than `MAX_NAME_LENGTH`, an address that is not one, an unknown alert
            kind, confidence, frequency or area kind, or a user already holding `MAX_SUBSCRIPTIONS_PER_USER`.
        """
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise SubscriptionError(f"a subscription needs a name of 1 to {MAX_NAME_LENGTH} characters (got "
                                    f"{len(name)}); give a short one, e.g. \"Koindu corridor\".")
        if not EMAIL_PATTERN.fullmatch(email or ""):
            raise SubscriptionError(f"{email!r} is not an e-mail address; give one like name@agency.gov.sl.")
        chosen = _kinds(kinds)
        _require_one_of(min_confidence, CONFIDENCE_LEVELS, "minimum confidence")
        _require_one_of(frequency, SUBSCRIPTION_FREQUENCIES, "frequency")
        _require_one_of(area.kind, AREA_KINDS, "area kind")
        geojson = shapely.to_geojson(area.geometry) if area.kind in STORED_AREA_KINDS else None
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)
        with self._connection() as db:
            held = db.execute("SELECT COUNT(*) FROM subscriptions WHERE user = ? AND active = 1", (user,)).fetchone()[0]
            if held >= MAX_SUBSCRIPTIONS_PER_USER:
                raise SubscriptionError(f"user {user!r} already holds {held} subscriptions, the most one user may "
                                        f"hold ({MAX_SUBSCRIPTIONS_PER_USER}); remove some first "
                                        "(`mrumonitor alerts remove ID`).")
            cursor = db.execute(
                f"INSERT INTO subscriptions ({', '.join(_COLUMNS[1:])}) VALUES ({', '.join('?' * (len(_COLUMNS) - 1))})",
                (name, user, email, area.kind, area.ref, area.label, geojson, ",".join(chosen), min_confidence,
                 frequency, secrets.token_urlsafe(32), since_run, created.isoformat(), 1))
            row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM subscriptions WHERE id = ?",
                             (cursor.lastrowid,)).fetchone()
        return _subscription(row)

    def get(self, subscription_id: int, user: str | None = None) -> Subscription:
        """The active subscription `subscription_id`; with `user`, only if that user holds it.

        Raises
        ------
        SubscriptionError
            No such active subscription, or (with `user`) one of another user: both are said the same way, so
            the answer tells nobody whether another user's subscription exists.
        """
        with self._connection() as db:
            row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM subscriptions WHERE id = ? AND active = 1",
                             (subscription_id,)).fetchone()
        if row is None or (user is not None and row[2] != user):
            whose = f" of user {user!r}" if user is not None else ""
            raise SubscriptionError(f"no subscription {subscription_id}{whose}; `mrumonitor alerts list` shows the "
                                    "subscriptions there are.")
        return _subscription(row)

    def by_token(self, token: str) -> Subscription | None:
        """The active subscription whose feed token is `token`, None for any other text."""
        if not isinstance(token, str) or not token:
            return None
        with self._connection() as db:
            row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM subscriptions WHERE feed_token = ? AND active = 1",
                             (token,)).fetchone()
        # the index finds the row; the token itself is then compared in constant time
        if row is None or not hmac.compare_digest(row[11].encode(), token.encode()):
            return None
        return _subscription(row)

    def list(self, user: str | None = None, include_inactive: bool = False) -> list[Subscription]:
        """The subscriptions (of `user` when given), oldest first; removed ones only with `include_inactive`."""
        where, values = [], []
        if user is not None:
            where.append("user = ?")
            values.append(user)
        if not include_inactive:
            where.append("active = 1")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._connection() as db:
            rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM subscriptions{clause} ORDER BY id",
                              values).fetchall()
        return [_subscription(row) for row in rows]

    def remove(self, subscription_id: int, user: str | None = None) -> None:
        """Deactivate a subscription (with `user`: only that user's); its deliveries stay recorded.

        Raises
        ------
        SubscriptionError
            As `get`.
        """
        self.get(subscription_id, user)
        with self._connection() as db:
            db.execute("UPDATE subscriptions SET active = 0 WHERE id = ?", (subscription_id,))

    # --- deliveries ----------------------------------------------------------------------------------------

    def delivered(self, subscription_id: int, channel: str = "email") -> set[str]:
        """The ids of the alerts a sent digest carried to the subscription over `channel`."""
        with self._connection() as db:
            rows = db.execute("SELECT alert_id FROM digest_alerts WHERE subscription_id = ? AND channel = ?",
                              (subscription_id, channel)).fetchall()
        return {row[0] for row in rows}

    def record_digest(self, subscription_id: int, channel: str, run_id: str, alert_ids: Sequence[str], status: str,
                      attempts: int, error: str | None, when: dt.datetime) -> int:
        """Record a delivery tried at `when`; its id. A "sent" digest marks each of `alert_ids` as sent to the
        subscription over `channel` (an id already marked stays marked once: at most once per subscription and
        channel); "failed" and "unsent" digests mark nothing, so their alerts are tried again next time.

        Raises
        ------
        SubscriptionError
            A status not in DELIVERY_STATUSES.
        """
        _require_one_of(status, DELIVERY_STATUSES, "delivery status")
        with self._connection() as db:
            cursor = db.execute(
                "INSERT INTO digests (subscription_id, channel, run_id, alerts, status, attempts, error, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (subscription_id, channel, run_id, len(alert_ids), status, attempts, error, _utc_text(when)))
            digest_id = cursor.lastrowid
            if status == "sent":
                db.executemany("INSERT OR IGNORE INTO digest_alerts (digest_id, subscription_id, alert_id, channel) "
                               "VALUES (?, ?, ?, ?)",
                               [(digest_id, subscription_id, alert_id, channel) for alert_id in alert_ids])
        return digest_id

    def last_sent(self, subscription_id: int, channel: str = "email") -> dt.datetime | None:
        """When the subscription's last digest over `channel` was sent (UTC), None when none was."""
        with self._connection() as db:
            row = db.execute("SELECT MAX(at) FROM digests WHERE subscription_id = ? AND channel = ? AND status = 'sent'",
                             (subscription_id, channel)).fetchone()
        return dt.datetime.fromisoformat(row[0]) if row[0] else None

    def digests(self, last: int = 50) -> pd.DataFrame:
        """The `last` deliveries tried, newest first, with the subscription's name, user and address."""
        with self._connection() as db:
            frame = pd.read_sql_query(
                "SELECT d.id, d.subscription_id, s.name, s.user, s.email, d.channel, d.run_id, d.alerts, d.status, "
                "d.attempts, d.error, d.at FROM digests d JOIN subscriptions s ON s.id = d.subscription_id "
                "ORDER BY d.at DESC, d.id DESC LIMIT ?", db, params=(last,))
        return _with_times(frame.reindex(columns=_DIGEST_COLUMNS))

    # --- operator notices ----------------------------------------------------------------------------------

    def has_notice(self, key: str) -> bool:
        """Whether the notice `key` was sent (a failed or unsent one is tried again)."""
        with self._connection() as db:
            row = db.execute("SELECT 1 FROM notices WHERE key = ? AND status = 'sent'", (key,)).fetchone()
        return row is not None

    def record_notice(self, key: str, kind: str, job: str, due_at: str, message: str, status: str, attempts: int,
                      error: str | None, when: dt.datetime) -> None:
        """Record the notice `key` as tried at `when` (replacing an earlier try of the same key).

        Raises
        ------
        SubscriptionError
            A kind not in OPERATOR_NOTICE_KINDS or a status not in DELIVERY_STATUSES.
        """
        _require_one_of(kind, OPERATOR_NOTICE_KINDS, "operator notice kind")
        _require_one_of(status, DELIVERY_STATUSES, "delivery status")
        with self._connection() as db:
            db.execute(f"INSERT OR REPLACE INTO notices ({', '.join(_NOTICE_COLUMNS)}) VALUES "
                       f"({', '.join('?' * len(_NOTICE_COLUMNS))})",
                       (key, kind, job, due_at, message, status, attempts, error, _utc_text(when)))

    def notices(self, last: int = 50) -> pd.DataFrame:
        """The `last` operator notices tried, newest first."""
        with self._connection() as db:
            frame = pd.read_sql_query(f"SELECT {', '.join(_NOTICE_COLUMNS)} FROM notices ORDER BY at DESC LIMIT ?",
                                      db, params=(last,))
        return _with_times(frame)

    # --- the file ------------------------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection with the schema in place; commits when the block succeeds, rolls back otherwise."""
        try:
            with schema_connection(self.path, _SCHEMA) as db:
                yield db
        except (OSError, sqlite3.DatabaseError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ConfigError(f"{self.path}: the alert subscriptions cannot be kept there ({detail}). Make the "
                              "folder writable, or set [alerts] subscriptions to a file that may be "
                              "written.") from None


def _kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """The alert kinds asked for, in ALERT_KINDS order; every kind when none is asked for."""
    asked = set(kinds)
    unknown = sorted(asked - set(ALERT_KINDS))
    if unknown:
        raise SubscriptionError(f"unknown alert kind {', '.join(map(repr, unknown))}; choose among "
                                f"{', '.join(ALERT_KINDS)} (none: all of them).")
    return tuple(kind for kind in ALERT_KINDS if kind in asked) or ALERT_KINDS


def _require_one_of(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise SubscriptionError(f"unknown {what} {value!r}; choose one of {', '.join(allowed)}.")


def _subscription(row: tuple) -> Subscription:
    values = dict(zip(_COLUMNS, row, strict=True))
    return Subscription(**{**values, "kinds": tuple(values["kinds"].split(",")),
                           "created_at": dt.datetime.fromisoformat(values["created_at"]),
                           "active": bool(values["active"])})


def _utc_text(when: dt.datetime) -> str:
    """`when` in UTC as ISO text (a time without a zone is taken as UTC), so text order is time order."""
    when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    return when.isoformat(timespec="seconds")


def _with_times(frame: pd.DataFrame) -> pd.DataFrame:
    frame["at"] = pd.to_datetime(frame["at"], format="ISO8601", utc=True)
    return frame
