"""The rooms of the package, read from their imports: arrows run down the data flow, never back up it.

Shared I/O (`layerio`) sits below every stage, site tracking (`sites`) below the raster stage that feeds it, and
the raster stage takes nothing from the stages beside or above it (issue 15: no arrow raster -> ingest or store).
Imports inside functions count: a late import is still an arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mrumonitor

pytestmark = pytest.mark.unit

PACKAGE = Path(mrumonitor.__file__).parent

#: The stages and the rooms built on them (everything that is not a shared module below them).
STAGES = {"ingest", "raster", "sites", "analysis", "reference", "store", "pipeline", "export", "dashboard",
          "scheduler", "demo", "cli"}

#: Room -> the rooms it must never import.
FORBIDDEN = {
    "layerio": STAGES,
    "sites": STAGES - {"sites"},
    "raster": STAGES - {"raster", "sites", "reference"},
}


def imported_rooms(room: str) -> dict[str, set[str]]:
    """Each module of `room` (a package or a module of mrumonitor) -> the other rooms of mrumonitor it imports."""
    folder = PACKAGE / room
    files = sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{room}.py"]
    imports = {}
    for file in files:
        names = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "mrumonitor":  # from mrumonitor import raster
                names.update(f"mrumonitor.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        rooms = {name.split(".")[1] for name in names if name.startswith("mrumonitor.")}
        imports[file.relative_to(PACKAGE).as_posix()] = rooms - {room}
    return imports


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_room_imports_no_room_above_it(room):
    arrows = {module: sorted(rooms & FORBIDDEN[room]) for module, rooms in imported_rooms(room).items()}
    assert {module: rooms for module, rooms in arrows.items() if rooms} == {}


def test_the_reading_of_imports_sees_an_arrow():
    """The check above reads real arrows: the ingest stage does import the shared I/O below it."""
    assert "layerio" in set().union(*imported_rooms("ingest").values())
