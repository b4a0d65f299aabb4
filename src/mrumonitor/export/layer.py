"""Export one layer of a published run, for one country or the whole region, with its metadata sidecar."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd

from mrumonitor.errors import ExportError
from mrumonitor.export.clip import activity_extract, clip_vector, country_outline, filter_table
from mrumonitor.export.formats import check_export, get_format
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
                 country: str | None = None, boundaries: gpd.GeoDataFrame | None = None) -> ExportResult:
    """Write `layer` of the run in `run_dir` as `fmt` to `out`, with a metadata sidecar beside it.

    Parameters
    ----------
    run_dir : Path
        Folder of a published run (holding `manifest.json`).
    manifest : dict
        Its manifest: `layers` (name -> path, kind, title, description ...), `run_id`, `created`, `caveats`.
    layer : str
        A layer name of the manifest.
    fmt : str
        An export format: gpkg, shp, geojson, csv, parquet (vectors and tables as each allows) or cog (rasters).
    out : Path
        The file to write; its name must end like the format (.gpkg, .zip, .geojson, .csv, .parquet, .tif).
        It is replaced in one step: a failed export leaves an earlier file as it was.
    country : str, optional
        ISO3 code: export only this country, cut exactly at its border (see `mrumonitor.export.clip`).
    boundaries : GeoDataFrame, optional
        The consistent country outlines (iso3, geometry), required with `country` for vectors and rasters.

    Returns
    -------
    ExportResult
        The export, its sidecar and the sidecar's content.

    Raises
    ------
    ExportError
        For an unknown layer, format or country, a format the layer cannot take, a file name not ending like
        the format or inside the run folder, or a manifest path leading out of the run folder.
    """
    run_dir, out = Path(run_dir), Path(out)
    if out.resolve().is_relative_to(run_dir.resolve()):
        raise ExportError(f"{out}: exports are never written inside the run folder {run_dir} (published runs "
                          "do not change); write it elsewhere.")
    source = layer_source(run_dir, manifest, layer)
    export_format = get_format(fmt)
    check_export(export_format, source.kind, layer, out)
    country = country.upper() if country else None
    data = _load(source, country, boundaries)
    describe = partial(build_sidecar, manifest, source, export_format.name, export_format.title, out, country,
                       now_text())
    details = export_format.write(data, source.name, out, describe)
    metadata = describe(details)
    sidecar = write_sidecar(metadata, out)
    log.info("exported %s%s as %s to %s", layer, f" ({country})" if country else "", export_format.name, out)
    return ExportResult(out, sidecar, metadata)


def _load(source: LayerSource, country: str | None, boundaries: gpd.GeoDataFrame | None):
    """The layer's data, limited to `country` when one is given."""
    if source.kind == "raster":
        return activity_extract(source.path, boundaries, country)
    frame = read_frame(source)
    if country is None:
        return frame
    if source.kind == "table":
        return filter_table(frame, country, source.name)
    return clip_vector(frame, country_outline(boundaries, country, frame.crs))
