"""The scheduler's log file, ``<store>/logs/scheduler.log``: the scheduler and every job process append to it.

One line per event, each naming the process (``scheduler`` or ``job NAME #ATTEMPT``); a run logs one line
per stage ("stage detect done in 12.3 s") among its others, and a failure its traceback. The full output of
each job process also goes to ``<store>/logs/jobs/<job>-<row id>.log`` (what a crash printed).
"""

from __future__ import annotations

import logging
from pathlib import Path

from mrumonitor.errors import StoreError

#: Folder of the logs, inside the store.
LOGS_DIR = "logs"
#: The scheduler's log file, inside LOGS_DIR.
LOG_FILE = "scheduler.log"


def log_path(store: str | Path) -> Path:
    """The scheduler log of a store."""
    return Path(store) / LOGS_DIR / LOG_FILE


def job_output_path(store: str | Path, job: str, row_id: int) -> Path:
    """Where the output of one job process goes."""
    return Path(store) / LOGS_DIR / "jobs" / f"{job}-{row_id}.log"


def attach_log_file(store: str | Path, who: str) -> logging.Handler:
    """Append the INFO lines of this process to the store's scheduler log, each tagged with `who`.

    Raises
    ------
    StoreError
        When the log cannot be written.
    """
    path = log_path(store)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"{path}: the scheduler log cannot be written ({exc.strerror or exc}); give the user "
                         "running mrumonitor write access to it and to its folder.") from None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(f"%(asctime)s [{who}] %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler
