"""Readers: one small interface over every vector format a national cadastre arrives in.

`open_vector(path, fmt, label, ...)` picks the reader for `fmt` from `READERS` and returns a
`RecordStream`: the file's CRS (resolved once, see `resolve_crs`), its record count, and batches of raw
records as GeoDataFrames in the file's own CRS with a 1-based `source_row`. Reading is streamed in
batches so that progress shows on long files and memory stays bounded. `label` is the configuration key
that messages tell the user to fix (``sources.sle``, ``activity.inputs.earth_index``); `open_source`
opens a cadastre source of the configuration through it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from mrumonitor.config import CsvGeometry, SourceSettings
from mrumonitor.crs import norm_crs
from mrumonitor.errors import ConfigError, InputFileError, MissingCRSError
from mrumonitor.ingest.filechecks import check_shapefile, require_file

log = logging.getLogger(__name__)

#: Column a reader adds: True where the file held geometry text that could not be parsed.
UNPARSEABLE = "_geometry_unparseable"

#: The GDAL driver each OGR-read format must turn out to be (a .geojson that is really a Shapefile fails).
_DRIVERS = {"shapefile": "ESRI Shapefile", "gpkg": "GPKG", "geojson": "GeoJSON", "flatgeobuf": "FlatGeobuf"}


@dataclass
class RecordStream:
    """An opened source: what is known before reading, and a way to read it in batches."""

    name: str  # the label given to `open_vector`; for `open_source`, the source's name
    path: Path
    crs: CRS
    total: int
    columns: list[str]
    batches: Callable[[int], Iterator[gpd.GeoDataFrame]]


@dataclass(frozen=True)
class VectorFile:
    """A vector file and how to read it: everything a reader needs (see `open_vector`)."""

    path: Path
    format: str
    label: str
    crs: str | None = None
    encoding: str | None = None
    csv: CsvGeometry | None = None
    layer: str | None = None


def open_vector(path: Path, fmt: str, label: str, crs: str | None = None, encoding: str | None = None,
                csv: CsvGeometry | None = None, layer: str | None = None) -> RecordStream:
    """Open a vector file with the reader of its format.

    Parameters
    ----------
    path : Path
        The file (a .zip for a zipped Shapefile).
    fmt : str
        A format of `READERS`; any other is a `ConfigError` listing them.
    label : str
        The configuration key of the file, e.g. ``sources.sle``: messages name ``<label>.crs``,
        ``<label>.encoding`` ... as the setting to fix.
    crs : str, optional
        CRS assumed when the file declares none (the file's own CRS wins).
    encoding : str, optional
        Text encoding of the attributes (default: the file's own, UTF-8 for a CSV).
    csv : CsvGeometry, optional
        Where a CSV keeps its geometry; required for format "csv".
    layer : str, optional
        Layer of a multi-layer file (GeoPackage).

    Returns
    -------
    RecordStream
        Named `label`.
    """
    try:
        reader = READERS[fmt]
    except KeyError:
        raise ConfigError(f"{label}.format: unknown format {fmt!r}; known formats: {', '.join(READERS)}") from None
    return reader(VectorFile(Path(path), fmt, label, crs, encoding, csv, layer))


def open_source(name: str, source: SourceSettings) -> RecordStream:
    """Open the file of `sources.<name>` with the reader its format names."""
    require_file(source.file, name)
    stream = open_vector(source.file, source.format, f"sources.{name}", source.crs, source.encoding, source.csv,
                         source.layer)
    stream = replace(stream, name=name)  # a cadastre stream is named by its source name, not its label
    missing = [column for column in _mapped_columns(source) if column not in stream.columns]
    if missing:
        raise InputFileError(
            source.file, f"has no column {', '.join(map(repr, missing))} (named in sources.{name}.fields); "
                         f"its columns are: {', '.join(stream.columns)}.",
            f"correct sources.{name}.fields to the file's column names.")
    return stream


def resolve_crs(file_crs: object, configured: str | None, path: Path, label: str) -> CRS:
    """The file's own CRS wins; the configured one (`<label>.crs`) is only an assumption for files that
    declare none."""
    if file_crs:
        crs = norm_crs(file_crs, str(path))
        if configured and norm_crs(configured, f"{label}.crs") != crs:
            warnings.warn(f"{path}: the file declares {crs.to_string()}; {label}.crs = {configured!r} "
                          "is ignored (it applies only to files without a CRS).", stacklevel=2)
        return crs
    if configured:
        return norm_crs(configured, f"{label}.crs")
    raise MissingCRSError(path, "declares no coordinate reference system.",
                          f"set {label}.crs to the CRS its coordinates are in, e.g. 'EPSG:32629'.")


def _mapped_columns(source: SourceSettings) -> list[str]:
    columns = [column for column in source.fields.model_dump().values() if column]
    if source.csv is not None:
        columns += [column for column in (source.csv.wkt, source.csv.x, source.csv.y) if column]
    return columns


def _read_ogr(source: VectorFile) -> RecordStream:
    path, label = source.path, source.label
    if source.format == "shapefile":
        # check_shapefile names `sources.<its argument>.encoding`: the cadastre's key, given the bare name
        check_shapefile(path, label, source.encoding)
    options = {"layer": source.layer, "encoding": source.encoding}
    try:
        info = pyogrio.read_info(path, force_feature_count=True, **options)
    except (DataSourceError, DataLayerError) as exc:
        raise InputFileError(path, f"cannot be opened as {source.format} ({exc}).",
                             f"check that the file is a complete {source.format} export"
                             + (f" and that {label}.layer names one of its layers." if source.layer else "."))
    if info["driver"] != _DRIVERS[source.format]:
        raise InputFileError(path, f"is a {info['driver']} file, not {source.format}.",
                             f"set {label}.format to match the file, or convert it.")
    crs = resolve_crs(info["crs"], source.crs, path, label)

    def batches(batch_size: int) -> Iterator[gpd.GeoDataFrame]:
        first_row = 1
        try:
            with pyogrio.open_arrow(path, batch_size=batch_size, use_pyarrow=True, **options) as (meta, reader):
                geometry_column = meta["geometry_name"] or "wkb_geometry"
                for batch in reader:
                    frame = batch.to_pandas(date_as_object=False)
                    wkb = frame.pop(geometry_column).to_numpy() if geometry_column in frame else None
                    geometry = shapely.from_wkb(wkb, on_invalid="ignore") if wkb is not None else None
                    yield _frame(frame, geometry, crs, first_row, unparseable=np.zeros(len(frame), bool))
                    first_row += len(frame)
        except (DataSourceError, DataLayerError) as exc:
            raise InputFileError(path, f"failed while reading near record {first_row} ({exc}).",
                                 "the file is damaged past that point; export it again.") from exc

    return RecordStream(label, path, crs, int(info["features"]), [str(f) for f in info["fields"]], batches)


def _read_csv(source: VectorFile) -> RecordStream:
    path, spec, label = source.path, source.csv, source.label
    if spec is None:  # SourceSettings validation makes sure a cadastre CSV has one
        raise ConfigError(f"{label}.csv: a CSV needs to say where its geometry is (wkt, or x and y).")
    encoding = source.encoding or "utf-8"
    crs = resolve_crs(None, source.crs, path, label)
    options = {"sep": spec.delimiter, "dtype": str, "keep_default_na": False, "encoding": encoding}
    try:
        header = pd.read_csv(path, nrows=0, **options).columns.tolist()
        with open(path, "rb") as f:
            total = max(sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1, 0)
    except UnicodeDecodeError as exc:
        raise _decode_error(path, label, encoding, exc) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(path, f"is not a readable CSV ({exc}).",
                             f"check {label}.csv.delimiter and the file's header line.") from None

    def batches(batch_size: int) -> Iterator[gpd.GeoDataFrame]:
        first_row = 1
        try:
            for frame in pd.read_csv(path, chunksize=batch_size, **options):
                geometry, unparseable = _csv_geometry(frame, spec)
                yield _frame(frame, geometry, crs, first_row, unparseable)
                first_row += len(frame)
        except UnicodeDecodeError as exc:
            raise _decode_error(path, label, encoding, exc) from None
        except pd.errors.ParserError as exc:
            raise InputFileError(path, f"has a malformed line after data row {first_row} ({exc}).",
                                 "quote fields that contain the delimiter, or fix the line.") from None

    return RecordStream(label, path, crs, total, header, batches)


def _csv_geometry(frame: pd.DataFrame, spec) -> tuple[np.ndarray, np.ndarray]:
    """Geometry from a WKT column or from x/y columns; returns (geometries, unparseable mask)."""
    if spec.wkt:
        text = frame.pop(spec.wkt).fillna("").str.strip().to_numpy(dtype=object)
        given = text != ""
        geometry = np.full(len(text), None, dtype=object)
        geometry[given] = shapely.from_wkt(text[given], on_invalid="ignore")
    else:
        x_text, y_text = frame[spec.x].str.strip(), frame[spec.y].str.strip()
        x, y = pd.to_numeric(x_text, errors="coerce"), pd.to_numeric(y_text, errors="coerce")
        ok = (x.notna() & y.notna()).to_numpy()
        geometry = np.where(ok, shapely.points(x.fillna(0), y.fillna(0)), None)
        given = ((x_text != "") | (y_text != "")).to_numpy()
    unparseable = given & shapely.is_missing(geometry)
    return geometry, unparseable


def _frame(attributes: pd.DataFrame, geometry, crs: CRS, first_row: int, unparseable: np.ndarray
           ) -> gpd.GeoDataFrame:
    attributes = attributes.reset_index(drop=True)
    attributes["source_row"] = np.arange(first_row, first_row + len(attributes), dtype="int64")
    attributes[UNPARSEABLE] = unparseable
    if geometry is None:
        geometry = np.full(len(attributes), None, dtype=object)
    return gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(geometry, crs=crs), crs=crs)


def _decode_error(path: Path, label: str, encoding: str, exc: UnicodeDecodeError) -> InputFileError:
    return InputFileError(path, f"is not valid {encoding} text (byte {exc.start}: {exc.reason}).",
                          f"set {label}.encoding to the file's encoding, e.g. 'cp1252' or 'latin-1'.")


#: Format name -> reader. Add a format by adding a reader here (and to config.SourceFormat).
READERS: dict[str, Callable[[VectorFile], RecordStream]] = {
    "shapefile": _read_ogr,
    "gpkg": _read_ogr,
    "geojson": _read_ogr,
    "flatgeobuf": _read_ogr,
    "csv": _read_csv,
}
