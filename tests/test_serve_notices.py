"""`mrumonitor serve` on waitress: the notice that requests wait for a thread is said once a minute, not per request
(waitress logs it for every request while its threads are busy, under the lock its threads take work with)."""

from __future__ import annotations

import logging

import pytest
from waitress.task import ThreadedTaskDispatcher

from mrumonitor.dashboard.commands import QueueNotices

pytestmark = pytest.mark.unit


def test_waitress_queue_notice_is_said_once_a_minute_not_per_request(caplog, monkeypatch):
    clock = iter([0.0, *[59.9] * 99, 60.0])  # a minute after the first notice, the 101st request
    monkeypatch.setattr("mrumonitor.dashboard.commands.time.monotonic", lambda: next(clock))
    dispatcher, logger, notices = ThreadedTaskDispatcher(), logging.getLogger("waitress.queue"), QueueNotices()
    logger.addFilter(notices)
    try:
        with caplog.at_level(logging.WARNING, logger="waitress.queue"):
            for _ in range(101):  # no thread started: every task waits, and waitress says so each time
                dispatcher.add_task(object())
    finally:
        logger.removeFilter(notices)
    said = [record.getMessage() for record in caplog.records if record.name == "waitress.queue"]
    assert said == ["Task queue depth is 1", "Task queue depth is 101"]
