"""Delivering a run's alerts to their subscribers by e-mail, with a record of every digest.

`deliver_alerts` reads the run's alerts once, then, for each active subscription:

1. **Who.** ``subscriber_country`` of its user: an agency user receives its own country's alerts only; a
   subscription whose user is no longer configured is skipped (a problem in the report).
2. **When.** Its frequency: "run" at every delivery; "weekly" when no digest was sent to it in the ISO week
   (UTC) of `now`; "monthly" when none was sent in the calendar month (UTC) of `now`.
3. **What.** Its undelivered alerts (`select.alerts_for`, skipping those already sent to it): nothing new, no
   message. A digest lists at most ``alerts.max_alerts_per_digest``; the rest wait for the next one.
4. **In which language.** The one the user last chose on the dashboard (`i18n.preferences.saved_language`);
   English for a user who never chose (and for everyone when logins are off).
5. **Send and record.** The digest goes to the subscription's address through ``[alerts.smtp]`` (retried as
   `mail.send_message` says) and is recorded with its status: "sent" marks its alerts delivered (an alert is sent
   at most once per subscription); "failed" and "unsent" (no SMTP host) leave them for the next delivery.

One subscription's failure never stops the others. `deliver_after_publish`, called after each published run, never
raises: a failure to deliver never fails the run. `delivery_status` is what `mrumonitor alerts status` and the
Runs page show.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from mrumonitor.alerts.digest import compose_digest
from mrumonitor.alerts.mail import build_message, send_message
from mrumonitor.alerts.select import alerts_for, run_alerts, subscriber_country, subscription_area
from mrumonitor.alerts.subscriptions import Subscription, Subscriptions
from mrumonitor.config import Settings
from mrumonitor.errors import MruError
from mrumonitor.i18n import use_language
from mrumonitor.i18n.preferences import saved_language
from mrumonitor.runfolder import RunFolder
from mrumonitor.store.runs import resolve_run

log = logging.getLogger(__name__)

#: The channel of e-mail digests in the delivery records.
EMAIL = "email"
#: Why a digest was not sent when no mail server is configured.
NO_SMTP = "not sent: no [alerts.smtp] host is configured"

#: Columns of `DeliveryStatus` frames.
SUBSCRIPTION_STATUS_COLUMNS = ["id", "name", "user", "frequency", "last_sent", "last_status", "last_error"]
DIGEST_STATUS_COLUMNS = ["at", "subscription_id", "name", "user", "run_id", "alerts", "status", "attempts", "error"]
NOTICE_STATUS_COLUMNS = ["at", "kind", "job", "due_at", "status", "attempts", "error"]


@dataclass
class DeliveryReport:
    """What one delivery did: digests sent, failed (refused after the last try) and unsent (no SMTP host), alerts
    sent, the problems met (a subscription skipped, a run unreadable), and the active subscriptions looked at."""

    digests_sent: int = 0
    digests_failed: int = 0
    digests_unsent: int = 0
    alerts_sent: int = 0
    problems: list[str] = field(default_factory=list)
    subscriptions: int = 0

    def summary(self) -> str | None:
        """One line for the person who ran it (None when there is no subscription and no problem), e.g.
        "alerts: 2 digests sent (7 alerts), 1 failed: see `mrumonitor alerts status`"."""
        if not self.subscriptions and not self.problems:
            return None
        parts = [f"{_count(self.digests_sent, 'digest')} sent ({_count(self.alerts_sent, 'alert')})"]
        if self.digests_failed:
            parts.append(f"{self.digests_failed} failed")
        if self.digests_unsent:
            parts.append(f"{self.digests_unsent} not sent (no [alerts.smtp] host)")
        if self.problems:
            parts.append(f"{_count(len(self.problems), 'problem')} (see the log)")
        trouble = self.digests_failed or self.digests_unsent or self.problems
        return "alerts: " + ", ".join(parts) + (": see `mrumonitor alerts status`" if trouble else "")


@dataclass(frozen=True)
class DeliveryStatus:
    """Where deliveries stand: whether a mail server is configured; per active subscription its last sent digest
    and the status of its latest one; recent digests (newest first); the digests still waiting (the latest of
    their subscription failed or was not sent); recent operator notices (newest first)."""

    smtp_configured: bool
    subscriptions: pd.DataFrame
    digests: pd.DataFrame
    failed: pd.DataFrame
    notices: pd.DataFrame


def deliver_alerts(settings: Settings, run: str = "latest", now: dt.datetime | None = None) -> DeliveryReport:
    """Send each active subscription the digest of its undelivered alerts of `run` (module docstring).

    Raises
    ------
    StoreError, UnknownRun
        The store has no such run (only when there are subscriptions to deliver to).
    """
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    report = DeliveryReport()
    if not settings.subscriptions.is_file():
        return report
    book = Subscriptions(settings.subscriptions)
    subscriptions = book.list()
    report.subscriptions = len(subscriptions)
    if not subscriptions:
        return report
    run_dir = resolve_run(settings.paths.store, run)
    alerts, outlines = run_alerts(run_dir), _outlines(run_dir)
    for sub in subscriptions:
        try:
            _deliver(settings, book, sub, run_dir, alerts, outlines, now, report)
        except MruError as exc:
            report.problems.append(f"subscription {sub.id} ({sub.name}): {exc}")
            log.warning("subscription %d (%s) skipped: %s", sub.id, sub.name, exc)
        except Exception as exc:  # a bug must not keep the other subscribers from their alerts
            log.exception("subscription %d (%s): delivery failed", sub.id, sub.name)
            report.problems.append(f"subscription {sub.id} ({sub.name}): {type(exc).__name__}: {exc} (a bug: the "
                                   "traceback is in the log)")
    return report


def deliver_after_publish(settings: Settings) -> DeliveryReport:
    """`deliver_alerts` of the latest run, after it was published; never raises (a failure is logged with its
    traceback and returned as a problem: the run stays published)."""
    try:
        return deliver_alerts(settings)
    except MruError as exc:
        log.error("alerts not delivered: %s", exc)
        return DeliveryReport(problems=[f"alerts not delivered: {exc}"])
    except Exception as exc:  # the run is published; its alerts wait for the next delivery
        log.exception("alerts not delivered")
        return DeliveryReport(problems=[(f"alerts not delivered: {type(exc).__name__}: {exc} (a bug: the traceback "
                                        "is in the log)")])


def delivery_status(settings: Settings, last: int = 50) -> DeliveryStatus:
    """The state of deliveries (`DeliveryStatus`), from the subscriptions database (empty frames when there is
    none yet)."""
    smtp = bool(settings.alerts.smtp.host)
    if not settings.subscriptions.is_file():
        return DeliveryStatus(smtp, *(pd.DataFrame(columns=columns) for columns in (
            SUBSCRIPTION_STATUS_COLUMNS, DIGEST_STATUS_COLUMNS, DIGEST_STATUS_COLUMNS, NOTICE_STATUS_COLUMNS)))
    book = Subscriptions(settings.subscriptions)
    digests = book.digests(last).reindex(columns=DIGEST_STATUS_COLUMNS)
    latest = digests.drop_duplicates("subscription_id").set_index("subscription_id")
    subscriptions = pd.DataFrame(
        [{"id": sub.id, "name": sub.name, "user": sub.user, "frequency": sub.frequency,
          "last_sent": book.last_sent(sub.id, EMAIL), "last_status": latest["status"].get(sub.id),
          "last_error": latest["error"].get(sub.id)} for sub in book.list()], columns=SUBSCRIPTION_STATUS_COLUMNS)
    waiting = latest[latest["status"] != "sent"].reset_index().reindex(columns=DIGEST_STATUS_COLUMNS)
    notices = book.notices(last).reindex(columns=NOTICE_STATUS_COLUMNS)
    return DeliveryStatus(smtp, subscriptions, digests, waiting, notices)


def _deliver(settings: Settings, book: Subscriptions, sub: Subscription, run_dir, alerts: gpd.GeoDataFrame,
             outlines: gpd.GeoDataFrame | None, now: dt.datetime, report: DeliveryReport) -> None:
    """Deliver one subscription's digest, if it is due and has something to send; record it in `report`."""
    country = subscriber_country(settings, sub.user)
    if not _due(sub.frequency, book.last_sent(sub.id, EMAIL), now):
        return
    area = subscription_area(sub, run_dir)
    chosen = alerts_for(sub, alerts, area, country, skip=book.delivered(sub.id, EMAIL))
    if chosen.empty:
        return
    with use_language(saved_language(settings.paths.store, sub.user)):
        digest = compose_digest(sub, area, chosen, run_dir.name, settings, outlines)
    smtp = settings.alerts.smtp
    if not smtp.host:
        status, attempts, error = "unsent", 0, NO_SMTP
    else:
        result = send_message(build_message(smtp.sender, [sub.email], digest), smtp)
        status, attempts, error = ("sent" if result.error is None else "failed"), result.attempts, result.error
    book.record_digest(sub.id, EMAIL, run_dir.name, digest.alert_ids, status, attempts, error, now)
    setattr(report, f"digests_{status}", getattr(report, f"digests_{status}") + 1)
    if status == "sent":
        report.alerts_sent += len(digest.alert_ids)
    log.log(logging.INFO if status == "sent" else logging.WARNING, "subscription %d (%s): digest of %d alert(s) %s%s",
            sub.id, sub.name, len(digest.alert_ids), status, f": {error}" if error else "")


def _due(frequency: str, last_sent: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a subscription of `frequency` may be sent a digest at `now`, its last one sent at `last_sent`."""
    if frequency == "run" or last_sent is None:
        return True
    last = last_sent.astimezone(dt.UTC)
    if frequency == "weekly":
        return last.isocalendar()[:2] != now.isocalendar()[:2]
    return (last.year, last.month) != (now.year, now.month)


def _outlines(run_dir) -> gpd.GeoDataFrame | None:
    """The run's country outlines in WGS84 for the digest maps (None when the run carries none)."""
    path = RunFolder(run_dir).reference("boundaries")
    try:
        return gpd.read_parquet(path).to_crs(4326)
    except (OSError, ValueError) as exc:
        log.warning("digest maps without country outlines: %s cannot be read (%s)", path, exc)
        return None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
