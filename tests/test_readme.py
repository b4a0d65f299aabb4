"""The docs check: every command of the README's ```bash blocks runs, as written, on the demo.

The README's `bash` blocks hold only commands a user can paste (placeholders live in `text` blocks). Each
runs here, in order, in a copy of the session's demo folder (`conftest.session_demo`, which is the README's own
`mrumonitor demo --no-serve`), and must exit 0. Three kinds are not run as written, for a stated reason:
`pip install ...` (CI's .ci/run runs the README's test command, whose install covers the other),
`python -m pytest` (this is it), the maintainers' `pybabel` commands (run by `tests/test_translations.py` on a
copy of the catalogue, which they would otherwise rewrite), and the long-running `mrumonitor demo` / `serve` /
`scheduler` without `--once`, which run with `--help` (the demo itself is the session fixture, run with
`--no-serve`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest
from readme_commands import README, bash_commands


def how_to_run(command: str) -> list[str] | None:
    """The argv that checks `command`, or None when it is not run here (see the module docstring)."""
    words = shlex.split(command)
    if words[:2] == ["pip", "install"] or words[:3] == ["python", "-m", "pytest"] or words[0] == "pybabel":
        return None
    assert words[0] == "mrumonitor", f"README command not covered by the docs check: {command}"
    long_running = words[1] in ("demo", "serve") or (words[1] == "scheduler" and "--once" not in words)
    argv = [sys.executable, "-m", "mrumonitor.cli", *words[1:]]
    return [*argv, "--help"] if long_running else argv


@pytest.mark.unit
def test_the_readme_states_the_two_set_up_commands():
    commands = bash_commands(README.read_text(encoding="utf-8"))
    assert commands[:4] == ["pip install -e .", "mrumonitor demo", 'pip install -e ".[test]"', "python -m pytest"]
    assert "--no-serve" in README.read_text(encoding="utf-8")


@pytest.mark.demo
def test_every_readme_command_runs_on_the_demo(session_demo, tmp_path):
    demo_dir, _ = session_demo
    shutil.copytree(demo_dir, tmp_path / demo_dir.name, symlinks=True)
    env = {**os.environ, "COLUMNS": "200"}
    ran = []
    for command in bash_commands(README.read_text(encoding="utf-8")):
        argv = how_to_run(command)
        if argv is None:
            continue
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env, check=False)
        assert done.returncode == 0, f"`{command}` failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n" \
                                     f"{done.stderr[-2000:]}"
        ran.append(command)
    assert len(ran) >= 10, ran


@pytest.mark.unit
@pytest.mark.parametrize("command, expected", [
    ("pip install -e .", None),
    ("python -m pytest", None),
    ("mrumonitor demo", "demo --help"),
    ("mrumonitor serve --config x.toml", "serve --config x.toml --help"),
    ("mrumonitor scheduler --config x.toml", "scheduler --config x.toml --help"),
    ("mrumonitor scheduler --config x.toml --once", "scheduler --config x.toml --once"),
    ("mrumonitor runs list --config x.toml", "runs list --config x.toml"),
])
def test_how_each_kind_of_command_is_checked(command, expected):
    argv = how_to_run(command)
    assert (None if argv is None else " ".join(argv[3:])) == expected
