"""Export one layer of a published run, for one country or the whole region, with its metadata sidecar."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pyogrio.errors
from rasterio._err import CPLE_BaseError
from rasterio.errors import RasterioError

from mrumonitor.errors import ExportError
from mrumonitor.export.clip import activity_extract, clip_vector, country_outline, filter_table
from mrumonitor.export.formats import check_export, get_format
from mrumonitor.export.run_reference import run_reference
from mrumonitor.export.sidecar import build_sidecar, now_text, write_sidecar
from mrumonitor.export.source import LayerSource, layer_source, read_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportResult:
    """What `export_layer` wrote.

    Attributes
    ----------
    file : Path
        The export.
    sidecar : Path
        Its metadata sidecar (`<file>.metadata.json`).
    metadata : dict
        The sidecar's content.
    """

    file: Path
    sidecar: Path
    metadata: dict[str, Any]

    @property
    def paths(self) -> tuple[Path, Path]:
        """Every file written: the export, then its sidecar."""
        return self.file, self.sidecar


def export_layer(run_dir: Path, manifest: dict[str, Any], layer: str, fmt: str, out: Path,
                 country: str | None = None) -> ExportResult:
    """Write `layer` of the run in `run_dir` as `fmt` to `out`, with a metadata sidecar beside it.

    Parameters
    ----------
    run_dir : Path
        Folder of a published run (holding `manifest.json`).
    manifest : dict
        Its manifest: `layers` (name -> path, kind, title, description ...), `run_id`, `created`, `caveats`;
        with `country`, also `reference` and `config.effective.crs.analysis` (`run_reference`).
    layer : str
        A layer name of the manifest.
    fmt : str
        An export format: gpkg, shp, geojson, csv, parquet (vectors and tables as each allows) or cog (rasters).
    out : Path
        The file to write; its name must end like the format (.gpkg, .zip, .geojson, .csv, .parquet, .tif).
        It is replaced in one step: a failed export leaves an earlier file as it was.
    country : str, optional
        ISO3 code: export only this country, cut exactly at its border (see `mrumonitor.export.clip`), the
        outline the run carries (the one it was computed with).

    Returns
    -------
    ExportResult
        The export, its sidecar and the sidecar's content.

    Raises
    ------
    ExportError
        For an unknown layer, format or country, a format the layer cannot take, a file name not ending like
        the format or inside the run folder or naming a folder, a manifest path leading out of the run folder,
        or a write that failed (a full disk, a read-only folder, a protected file): nothing is left half-written.
    StoreError
        With `country`, for a run that carries no reference layers (published before runs did).
    """
    run_dir, out = Path(run_dir), Path(out)
    if out.resolve().is_relative_to(run_dir.resolve()):
        raise ExportError(f"{out}: exports are never written inside the run folder {run_dir} (published runs "
                          "do not change); write it elsewhere.")
    source = layer_source(run_dir, manifest, layer)
    export_format = get_format(fmt)
    check_export(export_format, source.kind, layer, out)
    if out.is_dir():
        raise ExportError(f"{out} is a folder; name the file to write, e.g. {out / (layer + export_format.suffixes[0])}.")
    country = country.upper() if country else None
    data = _load(run_dir, manifest, source, country)
    describe = partial(build_sidecar, manifest, source, export_format.name, export_format.title, out, country,
                       now_text())
    with _earlier_file_kept(out):
        try:
            details = export_format.write(data, source.name, out, describe)
            metadata = describe(details)
            sidecar = write_sidecar(metadata, out)
        except WRITE_ERRORS as exc:
            raise ExportError(write_problem(out, exc)) from None
    log.info("exported %s%s as %s to %s", layer, f" ({country})" if country else "", export_format.name, out)
    return ExportResult(out, sidecar, metadata)


#: What writing a file can raise when the disk is full or the folder may not be written: the OS's errors, and
#: GDAL's (through pyogrio and rasterio, which raises GDAL's errors as its CPLE_* classes without exporting
#: them) and SQLite's (the GeoPackage style) for the same causes.
WRITE_ERRORS = (OSError, sqlite3.Error, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                pyogrio.errors.FieldError, pyogrio.errors.GeometryError, pyogrio.errors.FeatureError,
                RasterioError, CPLE_BaseError)

_WHY = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
        errno.EROFS: "the folder is on a read-only disk", errno.EACCES: "you may not write there",
        errno.EPERM: "you may not write there (the folder or file is protected)",
        errno.EISDIR: "a folder of that name is in the way", errno.ENOENT: "the folder does not exist",
        errno.ENOTDIR: "a part of the path is a file, not a folder"}


@contextmanager
def _earlier_file_kept(out: Path) -> Iterator[None]:
    """On a failure in the block, put back the file `out` was before it (or remove the new one): the export is
    written before its sidecar, and a sidecar that fails (a full disk) must not leave an export without one.
    The earlier file is kept by a hard link, which takes no space."""
    existed = out.exists()
    kept = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.earlier")
    try:
        os.link(out, kept)
    except OSError:  # no earlier file, or one that cannot be linked (protected, another file system)
        kept = None
    try:
        yield
    except BaseException:
        with suppress(OSError):  # the failure being reported matters more than a failed clean-up
            if kept is not None:
                os.replace(kept, out)
            elif not existed:
                out.unlink(missing_ok=True)
        raise
    finally:
        if kept is not None:
            kept.unlink(missing_ok=True)


def write_problem(out: Path, exc: BaseException) -> str:
    """A plain message for a failed write of the export `out`: why, that nothing was left, and the fix."""
    why = _WHY.get(getattr(exc, "errno", None)) or str(getattr(exc, "strerror", None) or exc).strip()
    return (f"{out}: the export could not be written: {why}. Nothing was left half-written (an earlier file "
            "of that name is as it was). Free some space or choose a folder you may write to, e.g. -o "
            f"~/{out.name}.")


def _load(run_dir: Path, manifest: dict[str, Any], source: LayerSource, country: str | None):
    """The layer's data, limited to `country` (cut at the outline the run carries) when one is given."""
    if country is None:
        return activity_extract(source.path) if source.kind == "raster" else read_frame(source)
    if source.kind == "table":
        return filter_table(read_frame(source), country, source.name)
    boundaries = run_reference(run_dir, manifest).boundaries
    if source.kind == "raster":
        return activity_extract(source.path, boundaries, country)
    frame = read_frame(source)
    return clip_vector(frame, country_outline(boundaries, country, frame.crs))
