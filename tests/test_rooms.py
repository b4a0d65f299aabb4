"""The rooms of the package, read from their imports: arrows run down the data flow, never back up it.

Shared modules and I/O (`runfolder`, `layerio`, `manifest`...) sit below every stage, site tracking (`sites`) below
the raster stage that feeds it, no stage imports the store or the pipeline, and the store imports no stage (issue 15:
no arrow store -> raster, raster -> store, raster -> ingest). One ordered list of the rooms makes every arrow point
down and so rules out a cycle between rooms. Imports inside functions count: a late import is still an arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mrumonitor

pytestmark = pytest.mark.unit

PACKAGE = Path(mrumonitor.__file__).parent

#: Every room of the package, bottom up: the shared modules, then the stages in the order of the data flow, then
#: what publishes, reads and drives the runs. A room may import only rooms before it in this list.
ROOMS_BOTTOM_UP = [
    # shared, below every stage
    "errors", "console", "frames", "polygons", "runfolder", "runwarnings", "schema", "style", "crs",
    "resources", "config", "layerio", "manifest", "sqlitefile", "i18n", "credits",
    "vectortiles",
    # the stages, down the data flow (site tracking sits below the raster stage that calls it)
    "reference", "ingest", "sites", "raster", "analysis",
    # publishing a run; field verification (it samples published runs, and its ledger and estimates feed the next
    # run); watched areas and their statistics (read from published runs); the alerts a run raises against the
    # previous one, and their subscriptions and delivery; making a run, reading and scheduling them
    "store", "verification", "areas", "alerts", "pipeline", "export", "scheduler", "dashboard", "demo", "cli",
]

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


@pytest.mark.parametrize("room", ROOMS_BOTTOM_UP)
def test_a_room_imports_only_rooms_below_it(room):
    below = set(ROOMS_BOTTOM_UP[:ROOMS_BOTTOM_UP.index(room)]) | {"__version__"}
    arrows = {module: sorted(rooms - below) for module, rooms in imported_rooms(room).items()}
    assert {module: rooms for module, rooms in arrows.items() if rooms} == {}


def test_every_room_has_its_place():
    """A new package or module must be given its place in `ROOMS_BOTTOM_UP` (so that its arrows are checked)."""
    rooms = {path.stem for path in PACKAGE.iterdir() if not path.name.startswith("_")
             and (path.is_dir() and (path / "__init__.py").is_file() or path.suffix == ".py")}
    assert rooms == set(ROOMS_BOTTOM_UP)


def test_the_reading_of_imports_sees_an_arrow():
    """The check above reads real arrows: the ingest stage does import the shared I/O below it."""
    assert "layerio" in set().union(*imported_rooms("ingest").values())
