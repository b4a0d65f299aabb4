"""The maintainers' translation workflow of the README: Babel's own `pybabel extract` and `update`, run as
written (on a copy of the catalogue, which they rewrite), leave the French catalogue complete."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from readme_commands import README, bash_commands

from mrumonitor.i18n import catalogue_path

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
#: The catalogue folder as the README's update command names it.
CATALOGUE_DIR = "src/mrumonitor/i18n/translations"


def test_the_readmes_pybabel_commands_keep_the_catalogue_complete(tmp_path):
    commands = [line for line in bash_commands(README.read_text(encoding="utf-8")) if line.startswith("pybabel")]
    assert [shlex.split(line)[1] for line in commands] == ["extract", "update"]
    copy = tmp_path / "translations"
    shutil.copytree(catalogue_path("fr").parents[2], copy)
    for line in commands:
        argv = [str(copy) if word == CATALOGUE_DIR else str(tmp_path / "messages.pot") if word.endswith(".pot")
                else word for word in shlex.split(line)]
        done = subprocess.run([sys.executable, "-m", "babel.messages.frontend", *argv[1:]], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
    with (copy / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        updated = read_po(handle, locale="fr")
    untranslated = [message.id for message in updated
                    if message.id and not all([message.string] if isinstance(message.string, str) else message.string)]
    assert len(updated) > 800 and untranslated == []
