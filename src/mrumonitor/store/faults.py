"""Fault injection for tests: pause a run at a named checkpoint so that a test can kill it exactly there.

With ``MRUMONITOR_PAUSE_AT=<checkpoint>`` in its environment, a run that reaches that checkpoint writes
``.paused-at-<checkpoint>`` (holding its pid) into its staging folder and sleeps for `PAUSE_S` seconds
before going on; the test waits for the marker, then kills the process. Without the variable a
checkpoint does nothing. The checkpoints, in the order a run passes them:

- ``vectors``: the pipeline has written the cadastre layers into the staging folder;
- ``rasters``: the detect stage has written the activity COGs and the site layers;
- ``catalog``: the store has written the STAC catalog, not yet the manifest;
- ``publish``: everything is written and synced, just before the staging folder is renamed into place.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: Environment variable naming the checkpoint to pause at.
PAUSE_ENV = "MRUMONITOR_PAUSE_AT"
#: The checkpoints, in run order.
CHECKPOINTS = ("vectors", "rasters", "catalog", "publish")
#: How long a paused run sleeps before going on.
PAUSE_S = 300


def checkpoint(name: str, staging: Path) -> None:
    """Pause here when ``MRUMONITOR_PAUSE_AT`` names this checkpoint (see the module docstring)."""
    if name not in CHECKPOINTS:
        raise ValueError(f"unknown checkpoint {name!r}; checkpoints: {', '.join(CHECKPOINTS)}")
    if os.environ.get(PAUSE_ENV) != name:
        return
    marker = Path(staging) / f".paused-at-{name}"
    marker.write_text(str(os.getpid()), encoding="utf-8")
    log.warning("paused at checkpoint %r for %d s (%s is set)", name, PAUSE_S, PAUSE_ENV)
    time.sleep(PAUSE_S)
    marker.unlink()
