"""Operator notices: a scheduled run that failed after its last retry, or was missed, e-mailed to the operators.

Each notice has a key (``job_run:<row id>`` of the scheduler's history) and every try is recorded in the
subscriptions database (one row per key, the latest try): "sent" (the server accepted it: never sent again),
"failed" (refused after the last try) or "unsent" (no ``[alerts.smtp] host`` or no ``alerts.operators``). Failed
and unsent notices are tried again at the next call, so a notice goes out once a mail server is configured; all are
shown by `mrumonitor alerts status` and the Runs page.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from mrumonitor.alerts.digest import Digest
from mrumonitor.alerts.mail import build_message, send_message
from mrumonitor.alerts.subscriptions import Subscriptions
from mrumonitor.config import Settings

log = logging.getLogger(__name__)

_WHAT = {"run_failed": "failed", "run_missed": "was missed"}


@dataclass(frozen=True)
class OperatorNotice:
    """A scheduled run the operators must hear of: its key (``job_run:<row id>``), kind (OPERATOR_NOTICE_KINDS),
    job name, due time (ISO 8601 UTC) and what happened (the history's error)."""

    key: str
    kind: str
    job: str
    due_at: str
    message: str


def notify_operators(settings: Settings, notices: Sequence[OperatorNotice]) -> int:
    """E-mail each notice not yet dealt with to ``alerts.operators`` and record it; the number sent. Never raises:
    a failure is logged (and a notice that could not be sent is recorded as failed, to be tried again)."""
    try:
        if not notices:
            return 0
        book = Subscriptions(settings.subscriptions)
        return sum(_notify(settings, book, notice) for notice in notices if not book.has_notice(notice.key))
    except Exception:  # the scheduler must go on whatever happens here
        log.exception("operator notices could not be sent or recorded")
        return 0


def _notice_digest(notice: OperatorNotice) -> Digest:
    """The e-mail of one notice: subject, what happened, when it was due, and what to do."""
    what = _WHAT.get(notice.kind, notice.kind)
    subject = f"mrumonitor: scheduled run {notice.job} {what.removeprefix('was ')}"
    lines = [f"The scheduled run of job {notice.job}, due at {notice.due_at} (UTC), {what}.", "",
             notice.message, "",
             (f"What to do: read `mrumonitor schedule history {notice.job}` and the job's log, fix the cause, then run "
             f"it again with `mrumonitor schedule run {notice.job}` (or wait for its next slot).")]
    text = "\n".join(lines) + "\n"
    body = "<html><body>\n" + "\n".join(f"<p>{html.escape(line)}</p>" for line in lines if line) + "\n</body></html>\n"
    return Digest(subject, text, body, b"", [])


def _notify(settings: Settings, book: Subscriptions, notice: OperatorNotice) -> bool:
    """Send one notice and record how it went; whether it was sent."""
    smtp, operators = settings.alerts.smtp, settings.alerts.operators
    digest = _notice_digest(notice)
    if not smtp.host or not operators:
        status, attempts, error = "unsent", 0, ("not sent: no [alerts.smtp] host" if not smtp.host else
                                                "not sent: [alerts] operators is empty")
    else:
        result = send_message(build_message(smtp.sender, operators, digest), smtp)
        status, attempts, error = ("sent" if result.error is None else "failed"), result.attempts, result.error
    book.record_notice(notice.key, notice.kind, notice.job, notice.due_at, notice.message, status, attempts, error,
                       dt.datetime.now(dt.UTC))
    log.log(logging.INFO if status == "sent" else logging.WARNING, "operator notice %s (%s): %s%s", notice.key,
            digest.subject, status, f": {error}" if error else "")
    return status == "sent"
