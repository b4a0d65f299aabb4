"""A real SMTP server for the delivery tests: aiosmtpd on 127.0.0.1, started by the test, collecting what it accepts.

`smtp_server()` yields a `MailBox`: its `port`, the `messages` received (parsed, with their envelope recipients), and
`refuse_next`: the next N messages are answered `refuse_code` (by default ``451``, a temporary refusal: the sender
tries again).
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One message the server accepted: its envelope recipients and the message itself."""

    recipients: list[str]
    message: EmailMessage

    def part(self, content_type: str):
        """The first part of `content_type` (e.g. "text/plain", "text/html", "image/png")."""
        return next(p for p in self.message.walk() if p.get_content_type() == content_type)

    def text(self, content_type: str = "text/plain") -> str:
        return self.part(content_type).get_content()


@dataclass
class MailBox:
    """What the server accepted, and how many of the next messages it refuses with 451."""

    port: int = 0
    messages: list[Received] = field(default_factory=list)
    refuse_next: int = 0
    refuse_code: str = "451 4.3.0 busy: try again later"
    refused: int = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook
        if self.refuse_next:
            self.refuse_next -= 1
            self.refused += 1
            return self.refuse_code
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.messages.append(Received(list(envelope.rcpt_tos), message))
        return "250 2.0.0 accepted"


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[MailBox]:
    """Run an SMTP server on 127.0.0.1 (on `port`, else a free one) for the duration of the block."""
    box = MailBox(port=port or free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
