"""E-mail over SMTP: a digest as a message (`build_message`) and sending it with retries (`send_message`).

The server and its security come from ``[alerts.smtp]``: "starttls" (plain SMTP upgraded with STARTTLS and the
system's certificate authorities), "tls" (implicit TLS) or "none". With a ``username`` the password is read from the
environment variable ``password_env``, never from a file. A message is tried up to ``attempts`` times, waiting
``retry_wait_s`` between tries, while the failure may pass: no connection, a dropped connection, a 4xx answer (the
server is busy, greylisting). A 5xx answer (a refused recipient or sender, a failed login) is permanent: it stops at
once. `send_message` never raises: the error is returned, for the caller to record.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from mrumonitor.alerts.digest import MAP_CID, Digest
from mrumonitor.config import SmtpSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    """How sending went: the tries made, and the last error (None: the server accepted the message)."""

    attempts: int
    error: str | None


class _Transient(Exception):
    """A failure worth another try."""


def build_message(sender: str, recipients: Sequence[str], digest: Digest) -> EmailMessage:
    """The digest as a multipart/alternative message: plain text, then HTML with the map as an inline image
    (Content-ID `MAP_CID`) when the digest has one; with Message-ID and Date."""
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid("mrumonitor", domain=parseaddr(sender)[1].rpartition("@")[2] or "localhost")
    message.set_content(digest.text)
    message.add_alternative(digest.html, subtype="html")
    if digest.map_png:
        message.get_payload()[1].add_related(digest.map_png, "image", "png", cid=f"<{MAP_CID}>",
                                             filename="alerts-map.png")
    return message


def send_message(message: EmailMessage, smtp: SmtpSettings, sleep: Callable[[float], None] = time.sleep
                 ) -> SendResult:
    """Send `message` through the ``[alerts.smtp]`` server, trying again on failures that may pass (module
    docstring); never raises."""
    server = f"{smtp.host}:{smtp.port}"
    password = None
    if smtp.username:
        password = os.environ.get(smtp.password_env)
        if not password:
            return SendResult(0, f"not sent: [alerts.smtp] username is {smtp.username!r} but the environment "
                                 f"variable {smtp.password_env} (password_env) holds no password; set it in the "
                                 "environment of mrumonitor")
    error = "not tried"
    for attempt in range(1, smtp.attempts + 1):
        try:
            refused = _send_once(message, smtp, password)
        except _Transient as exc:
            error = f"{server}: {exc} (try {attempt} of {smtp.attempts})"
        except Exception as exc:  # noqa: BLE001 - permanent (a 5xx answer, no STARTTLS, a bad message): returned
            return SendResult(attempt, f"{server}: {_said(exc)} (permanent: not tried again)")
        else:
            if refused:
                log.warning("%s refused some recipients of %r: %s", server, message["Subject"], refused)
            return SendResult(attempt, None)
        log.warning("sending %r: %s", message["Subject"], error)
        if attempt < smtp.attempts:
            sleep(smtp.retry_wait_s)
    return SendResult(smtp.attempts, error)


def _send_once(message: EmailMessage, smtp: SmtpSettings, password: str | None) -> dict:
    """One try: connect, secure, log in, send; the recipients refused (the others got it). Raises `_Transient`
    for a failure worth another try, and the SMTP error itself for a permanent one."""
    try:
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if password is not None:
                client.login(smtp.username, password)
            return client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise _Transient(_said(exc)) from None
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        if all(400 <= code < 500 for code, _ in exc.recipients.values()):
            raise _Transient(_said(exc)) from None
        raise
    except smtplib.SMTPServerDisconnected as exc:
        raise _Transient(f"the server closed the connection ({exc})") from None
    except smtplib.SMTPException:
        raise
    except OSError as exc:  # no connection: refused, unreachable, timed out, TLS handshake
        raise _Transient(f"cannot connect ({exc.strerror or exc})") from None


def _said(exc: Exception) -> str:
    """What the server answered, in one line."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"the server answered {exc.smtp_code} {' '.join(text.split())}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the server refused " + "; ".join(
            f"{who}: {code} {' '.join(text.decode('utf-8', 'replace').split())}"
            for who, (code, text) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{exc} (set [alerts.smtp] security to what the server offers: \"tls\" or \"none\")"
    return f"{type(exc).__name__}: {exc}"
