"""Warnings a run publishes with its figures: an implausible input that was used, with what was done about it.

A check that finds a suspicious but usable input (a raster whose values look like 0-255 where 0-1 was
declared, a cadastre with no records, a detection far larger than any mine) neither stops the run nor stays
silent: it calls `record_warning`, which logs the warning and, while a run is being built
(`collecting_warnings`), adds it to the run's manifest under ``warnings``. ``mrumonitor runs show`` and the
dashboard's runs page print them.

Checks run in the process that builds the run (the driver, not dask workers), on metadata or a bounded
sample, so every warning reaches the manifest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

log = logging.getLogger(__name__)

_lock = threading.Lock()
_collected: list[RunWarning] | None = None


@dataclass(frozen=True)
class RunWarning:
    """One recorded warning.

    Attributes
    ----------
    stage : str
        ``config``, ``ingest``, ``detect`` or ``analyse``.
    subject : str
        What it is about: a file path, a source or input name, a layer.
    message : str
        What was found and what was done, in plain words, with the fix where there is one.
    """

    stage: str
    subject: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def record_warning(stage: str, subject: str, message: str) -> RunWarning:
    """Log a warning and keep it for the manifest of the run being built (if any)."""
    warning = RunWarning(stage, str(subject), message)
    log.warning("%s: %s", warning.subject, warning.message)
    with _lock:
        if _collected is not None and warning not in _collected:
            _collected.append(warning)
    return warning


@contextmanager
def collecting_warnings() -> Iterator[list[RunWarning]]:
    """Collect the warnings recorded inside the block into the list it yields; a nested block shares the outer list."""
    global _collected
    with _lock:
        outer = _collected
        if outer is None:
            _collected = []
        found = _collected
    try:
        yield found
    finally:
        if outer is None:
            with _lock:
                _collected = None
