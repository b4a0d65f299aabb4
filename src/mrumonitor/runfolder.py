"""The layout of a run folder: every file name a run holds is spelled here, and only here.

A run folder is what the pipeline's stages write into (its staging folder) and what the store publishes::

    <run_id>/
      manifest.json                       what the run is: read it, trust it, reproduce it (`mrumonitor.manifest`)
      stac/catalog.json                   its STAC catalog
      <layer>.parquet                     the vector layers and tables (concessions, quarantine, sites, ...)
      activity_<period>.tif               the regional activity COG of a period
      areas/activity_<input>_<period>.tif the activity of one scene input (area) in a period
      reference/<name>.parquet            the reference layers the run was computed with (`reference.layers`)

Everything else asks a `RunFolder` for a path: ``RunFolder(path).layer("sites")``,
``.activity("2026H1")``, ``.area_activity("koidu", "2026H1")``, ``.reference("borders")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The manifest of a run, inside its folder.
MANIFEST_FILE = "manifest.json"
#: The STAC catalog of a run, relative to its folder.
CATALOG_PATH = "stac/catalog.json"
#: Where the activity rasters of scene areas sit inside a run folder.
AREAS_DIR = "areas"
#: Where the reference layers a run was computed with sit inside its folder.
REFERENCE_DIR = "reference"

_TABLE_SUFFIX = ".parquet"
_ACTIVITY_PREFIX = "activity_"
_RASTER_SUFFIX = ".tif"


def activity_layer(period: str) -> str:
    """The layer name of the regional activity raster of `period` (``activity_<period>``)."""
    return f"{_ACTIVITY_PREFIX}{period}"


def is_activity_layer(name: str) -> bool:
    """Whether `name` is the layer name of an activity raster (regional or of a scene area)."""
    return name.startswith(_ACTIVITY_PREFIX)


@dataclass(frozen=True)
class RunFolder:
    """The files of one run folder (published, or being built)."""

    path: Path

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    @property
    def name(self) -> str:
        """The folder's name (a published run's id)."""
        return self.path.name

    @property
    def manifest(self) -> Path:
        return self.path / MANIFEST_FILE

    @property
    def catalog(self) -> Path:
        return self.path / CATALOG_PATH

    def layer(self, name: str) -> Path:
        """The (Geo)Parquet file of the vector layer or table `name`."""
        return self.path / f"{name}{_TABLE_SUFFIX}"

    def activity(self, period: str) -> Path:
        """The regional activity COG of `period`."""
        return self.path / f"{activity_layer(period)}{_RASTER_SUFFIX}"

    def area_activity(self, area: str, period: str) -> Path:
        """The activity COG of the scene input `area` in `period`."""
        return self.path / AREAS_DIR / f"{activity_layer(area)}_{period}{_RASTER_SUFFIX}"

    def reference(self, name: str) -> Path:
        """The reference layer `name` the run was computed with (`reference.layers.REFERENCE_LAYERS`)."""
        return self.path / REFERENCE_DIR / f"{name}{_TABLE_SUFFIX}"

    def has_layers(self, *names: str) -> bool:
        """Whether every one of the vector layers or tables `names` is there."""
        return all(self.layer(name).is_file() for name in names)

    def tables(self) -> list[Path]:
        """The (Geo)Parquet layer files of the run, sorted by name (not its reference layers)."""
        return sorted(self.path.glob(f"*{_TABLE_SUFFIX}"))

    def rasters(self) -> list[Path]:
        """The activity COGs of the run, regional first, then those of scene areas; each sorted by name."""
        pattern = f"{_ACTIVITY_PREFIX}*{_RASTER_SUFFIX}"
        return sorted(self.path.glob(pattern)) + sorted((self.path / AREAS_DIR).glob(pattern))

    def relative(self, path: Path) -> str:
        """`path` relative to the folder, with forward slashes (as the manifest records it)."""
        return Path(path).relative_to(self.path).as_posix()
