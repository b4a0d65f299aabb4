"""Run the real `mrumonitor` command and check what a person sees: the helpers of the hostile-input suites
(tests/test_hostile_*.py) and of every test that runs the command in its own process.

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
    return subprocess.run([sys.executable, "-m", "mrumonitor.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=_environment(env))


def _environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """A user's plain environment: wide output, PATH and HOME, and `env`."""
    return {"COLUMNS": "200", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            **(env or {})}


#: Runs a command as its only child and prints that child's peak resident memory (kB) as its last line.
_PEAK_OF_CHILD = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
                  "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(done.returncode)")


def mrumonitor_peak(*args: str, cwd: str | Path | None = None, timeout: float = 300
                    ) -> tuple[subprocess.CompletedProcess, float]:
    """`mrumonitor(*args)` and its peak resident memory in GB, measured alone (not mixed with the test
    session's other child processes, as ``RUSAGE_CHILDREN`` of the test process would be)."""
    result = subprocess.run([sys.executable, "-c", _PEAK_OF_CHILD, sys.executable, "-m", "mrumonitor.cli", *args],
                            capture_output=True, text=True, cwd=cwd, timeout=timeout, env=_environment())
    *output, peak_kb = result.stdout.rstrip("\n").split("\n")
    result.stdout = "\n".join(output)
    return result, int(peak_kb) * 1024 / 1e9


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
