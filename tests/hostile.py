"""Helpers of the hostile-input suites (tests/test_hostile_*.py): run the real command, check what a person sees.

Every hostile case is marked ``@pytest.mark.hostile``; ``python -m pytest -m hostile --collect-only -q``
counts them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: What a Python traceback looks like in any output a person reads.
TRACEBACK_MARKS = ("Traceback (most recent call last)", 'File "/')


def mrumonitor(*args: str, cwd: str | Path | None = None, timeout: float = 300,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the `mrumonitor` console command in a real process, as a user does; output captured as text."""
    environment = {"COLUMNS": "200", "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "HOME": os.environ.get("HOME", "/tmp"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "mrumonitor.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=environment)


def assert_no_traceback(*texts: str) -> None:
    """No Python traceback in what a person reads (command output, a page, a job's recorded message)."""
    for text in texts:
        for mark in TRACEBACK_MARKS:
            assert mark not in (text or ""), f"a traceback reached the user:\n{text}"


def assert_refused(result: subprocess.CompletedProcess, *words: str) -> str:
    """The command stopped with the project's error (exit 2), a message holding `words`, and no traceback."""
    output = result.stdout + result.stderr
    assert_no_traceback(output)
    assert result.returncode == 2, f"exit {result.returncode}, expected 2 (the project's error):\n{output}"
    flat = " ".join(output.split())
    for word in words:
        assert word in flat, f"{word!r} not in the message:\n{output}"
    return flat
