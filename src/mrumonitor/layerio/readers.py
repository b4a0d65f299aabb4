"""Readers: one small interface over every vector format a cadastre or a detections file arrives in.

`open_vector(path, fmt, label, ...)` picks the reader for `fmt` from `READERS` and returns a
`RecordStream`: the file's CRS (resolved once, see `resolve_crs`), its record count, and batches of raw
records as GeoDataFrames in the file's own CRS with a 1-based `source_row`. Reading is streamed in
batches so that progress shows on long files and memory stays bounded. `label` is the configuration key
that messages tell the user to fix (``sources.sle``, ``activity.inputs.earth_index``). The stages open
their files through it: `ingest.sources.open_source` a cadastre, `raster.footprints` a detections file.
"""

from __future__ import annotations

import codecs
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from mrumonitor.config import CsvGeometry
from mrumonitor.crs import norm_crs
from mrumonitor.errors import ConfigError, InputFileError, MissingCRSError
from mrumonitor.layerio.filechecks import check_shapefile

#: Column a reader adds: True where the file held geometry text that could not be parsed.
UNPARSEABLE = "_geometry_unparseable"

#: The GDAL driver each OGR-read format must turn out to be (a .geojson that is really a Shapefile fails).
_DRIVERS = {"shapefile": "ESRI Shapefile", "gpkg": "GPKG", "geojson": "GeoJSON", "flatgeobuf": "FlatGeobuf"}

#: What GDAL raises on a file it cannot read, pyogrio on names that are not UTF-8, and pyarrow on bytes that are
#: not the declared text.
_READ_ERRORS = (DataSourceError, DataLayerError, OSError, UnicodeDecodeError, pa.ArrowException)

#: Python's canonical codec names GDAL (iconv) knows by another name.
_GDAL_ENCODINGS = {"mac-roman": "MACINTOSH"}

#: Byte-order marks at the start of a text file, and the encoding each one means.
_BOMS = {codecs.BOM_UTF8: "UTF-8", codecs.BOM_UTF16_LE: "UTF-16", codecs.BOM_UTF16_BE: "UTF-16"}

#: Column separators a CSV may turn out to use when the configured one is not in its header.
_DELIMITERS = (";", ",", "\t", "|")

#: A number written with a decimal comma ("-11,25").
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


@dataclass
class RecordStream:
    """An opened source: what is known before reading, and a way to read it in batches."""

    name: str  # the label given to `open_vector`; for a cadastre, its source name (`ingest.sources`)
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


def _read_ogr(source: VectorFile) -> RecordStream:
    path, label = source.path, source.label
    if source.format == "shapefile":
        check_shapefile(path, label, source.encoding)
    layer = _layer(source)
    encoding = _gdal_encoding(source.encoding, source.format)
    options = {"layer": layer, "encoding": encoding}
    try:
        with _gdal_warnings_muted():
            info = pyogrio.read_info(path, force_feature_count=True, **options)
    except _READ_ERRORS as exc:
        raise _unopenable(source, exc) from None
    if info["driver"] != _DRIVERS[source.format]:
        raise InputFileError(path, f"is a {info['driver']} file, not {source.format}.",
                             f"set {label}.format to match the file, or convert it.")
    crs = resolve_crs(info["crs"], source.crs, path, label)
    shown_encoding = source.encoding or info.get("encoding") or "UTF-8"

    def batches(batch_size: int) -> Iterator[gpd.GeoDataFrame]:
        first_row = 1
        try:
            with pyogrio.open_arrow(path, batch_size=batch_size, use_pyarrow=True, **options) as (meta, reader):
                geometry_column = meta["geometry_name"] or "wkb_geometry"
                for batch in reader:
                    _require_valid(batch, path, label, shown_encoding, first_row)
                    frame = batch.to_pandas(date_as_object=False)
                    wkb = frame.pop(geometry_column).to_numpy() if geometry_column in frame else None
                    geometry = shapely.from_wkb(wkb, on_invalid="ignore") if wkb is not None else None
                    yield _frame(frame, geometry, crs, first_row, unparseable=np.zeros(len(frame), bool))
                    first_row += len(frame)
        except _READ_ERRORS as exc:
            raise InputFileError(path, f"failed while reading near record {first_row} ({exc}).",
                                 "the file is damaged past that point (truncated or cut short in a copy); "
                                 "export or download it again.") from None

    return RecordStream(label, path, crs, int(info["features"]), [str(f) for f in info["fields"]], batches)


def _unopenable(source: VectorFile, exc: Exception) -> InputFileError:
    """The error for a file GDAL cannot open as its configured format."""
    return InputFileError(source.path, f"cannot be opened as {source.format} ({exc}).",
                          f"check that the file is a complete {source.format} export.")


def _layer(source: VectorFile) -> str | None:
    """The layer to read: the configured one, which must exist, or the file's only layer with geometry.

    A file with several layers and none configured is an error listing them: reading "the first layer" may
    read a stale copy while the current one is never read.
    """
    path, label = source.path, source.label
    try:
        with _gdal_warnings_muted():
            layers = pyogrio.list_layers(path)
    except _READ_ERRORS as exc:
        raise _unopenable(source, exc) from None
    if not len(layers):
        raise InputFileError(path, "holds no layer at all (it is empty or damaged).",
                             f"check that the file is a complete {source.format} export.")
    spatial = [str(name) for name, geometry_type in layers if geometry_type is not None]
    if source.layer is not None:
        if source.layer not in {str(name) for name, _ in layers}:
            raise InputFileError(path, f"has no layer {source.layer!r}; its layers are: "
                                       f"{', '.join(spatial) or '(none with geometry)'}.",
                                 f"set {label}.layer to one of them.")
        return source.layer
    if not spatial:
        raise InputFileError(path, f"has no layer with geometry (its tables: {', '.join(map(str, layers[:, 0]))}).",
                             "export the licence polygons as a spatial layer.")
    if len(spatial) > 1:
        raise InputFileError(path, f"holds {len(spatial)} layers with geometry ({', '.join(spatial)}) and "
                                   f"{label}.layer does not say which one is the cadastre.",
                             f"set {label}.layer to the layer that holds the current licences.")
    return spatial[0]


@contextmanager
def _gdal_warnings_muted() -> Iterator[None]:
    """GDAL's warnings while a damaged file is opened ("bad application_id", "retrying with IMMUTABLE=YES") would
    reach the user as Python warnings with library source lines; the error that follows says what matters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _gdal_encoding(encoding: str | None, fmt: str) -> str | None:
    """The name GDAL knows a configured encoding by; None where the format's text is always UTF-8.

    GDAL recodes through iconv, which does not know every Python alias: given 'latin-1' it silently returns
    undecoded bytes, so the Python name is first made canonical ('iso8859-1').
    """
    if not encoding:
        return None
    name = codecs.lookup(encoding).name
    if fmt != "shapefile" and name in ("utf-8", "ascii"):
        return None
    return _GDAL_ENCODINGS.get(name, name)


def _require_valid(batch: pa.RecordBatch, path: Path, label: str, encoding: str, first_row: int) -> None:
    """Check a batch GDAL handed over before anything reads it.

    Text GDAL could not decode comes back as invalid UTF-8, which would break every later write: an error
    naming the encoding. A damaged file can give arrays whose offsets point anywhere, which would crash the
    process when read: `pa.ArrowInvalid`, reported by the reader as damage.
    """
    try:
        batch.validate(full=True)
    except pa.ArrowInvalid:
        for name, column in zip(batch.schema.names, batch.columns):
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                try:
                    column.validate(full=True)
                except pa.ArrowInvalid:
                    raise InputFileError(
                        path, f"column {name!r} near record {first_row} is not valid {encoding} text.",
                        f"set {label}.encoding to the encoding the file was written in (e.g. 'cp1252' or "
                        "'latin-1'), or export it again as UTF-8.") from None
        raise


def _read_csv(source: VectorFile) -> RecordStream:
    path, spec, label = source.path, source.csv, source.label
    if spec is None:  # SourceSettings validation makes sure a cadastre CSV has one
        raise ConfigError(f"{label}.csv: a CSV needs to say where its geometry is (wkt, or x and y).")
    encoding = _csv_encoding(path, label, source.encoding or "utf-8")
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
    _check_delimiter(header, spec.delimiter, path, label)

    def batches(batch_size: int) -> Iterator[gpd.GeoDataFrame]:
        first_row = 1
        try:
            for frame in pd.read_csv(path, chunksize=batch_size, **options):
                geometry, unparseable = _csv_geometry(frame, spec, path, label, first_row)
                yield _frame(frame, geometry, crs, first_row, unparseable)
                first_row += len(frame)
        except UnicodeDecodeError as exc:
            raise _decode_error(path, label, encoding, exc) from None
        except pd.errors.ParserError as exc:
            raise InputFileError(path, f"has a malformed line after data row {first_row} ({exc}).",
                                 "quote fields that contain the delimiter, or fix the line.") from None

    return RecordStream(label, path, crs, total, header, batches)


def _csv_encoding(path: Path, label: str, encoding: str) -> str:
    """The encoding to read a CSV with: a UTF-8 byte-order mark is skipped, one that contradicts
    `<label>.encoding` is an error."""
    with open(path, "rb") as f:
        start = f.read(4)
    bom = next((name for mark, name in _BOMS.items() if start.startswith(mark)), None)
    configured = codecs.lookup(encoding).name
    if bom == "UTF-8" and configured == "utf-8":
        return "utf-8-sig"
    if bom is not None and not configured.startswith(bom.lower()):
        raise InputFileError(path, f"starts with a {bom} byte-order mark, so it is {bom} text, but {label}.encoding "
                                   f"is {encoding!r}.", f"set {label}.encoding = {bom!r}.")
    return encoding


def _check_delimiter(header: list[str], delimiter: str, path: Path, label: str) -> None:
    """A header read as one column that holds another separator means the delimiter is wrong."""
    if len(header) != 1:
        return
    found = [other for other in _DELIMITERS if other != delimiter and other in str(header[0])]
    if found:
        shown = {"\t": "\\t"}.get(found[0], found[0])
        raise InputFileError(path, f"reads as a single column with {label}.csv.delimiter = {delimiter!r}: its "
                                   f"header {str(header[0])[:80]!r} is separated by {found[0]!r}.",
                             f"set {label}.csv.delimiter = \"{shown}\".")


def _csv_geometry(frame: pd.DataFrame, spec: CsvGeometry, path: Path, label: str, first_row: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Geometry from a WKT column or from x/y columns; returns (geometries, unparseable mask).

    The WKT or coordinate columns stay in `frame`, so a quarantined record keeps the text it had.
    """
    if spec.wkt:
        text = frame[spec.wkt].fillna("").str.strip().to_numpy(dtype=object)
        given = text != ""
        geometry = np.full(len(text), None, dtype=object)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # shapely warns per invalid WKT; each is quarantined
            geometry[given] = shapely.from_wkt(text[given], on_invalid="ignore")
    else:
        x_text, y_text = frame[spec.x].str.strip(), frame[spec.y].str.strip()
        if spec.decimal == ",":
            x_text, y_text = x_text.str.replace(",", ".", regex=False), y_text.str.replace(",", ".", regex=False)
        else:
            _refuse_decimal_commas(pd.concat([x_text, y_text]), path, label, first_row)
        x, y = pd.to_numeric(x_text, errors="coerce"), pd.to_numeric(y_text, errors="coerce")
        ok = (x.notna() & y.notna()).to_numpy()
        geometry = np.where(ok, shapely.points(x.fillna(0), y.fillna(0)), None)
        given = ((x_text != "") | (y_text != "")).to_numpy()
    unparseable = given & shapely.is_missing(geometry)
    return geometry, unparseable


def _refuse_decimal_commas(coordinates: pd.Series, path: Path, label: str, first_row: int) -> None:
    """Coordinates written with decimal commas and none with a decimal point: the file's convention, not a
    flaw of some records."""
    commas = coordinates.str.match(_DECIMAL_COMMA)
    if commas.any() and not coordinates.str.contains(".", regex=False).any():
        row = first_row + int(np.flatnonzero(commas.to_numpy())[0] % (len(coordinates) // 2))
        fix = (f"set {label}.csv.decimal = \",\" (with a delimiter other than ',', e.g. ';')."
               if label.startswith("sources.") else "write the coordinates with a decimal point ('-11.25').")
        raise InputFileError(path, f"writes coordinates with a decimal comma (row {row}: "
                                   f"{coordinates[commas].iloc[0]!r}).", fix)


def _frame(attributes: pd.DataFrame, geometry, crs: CRS, first_row: int, unparseable: np.ndarray
           ) -> gpd.GeoDataFrame:
    attributes = attributes.reset_index(drop=True)
    attributes["source_row"] = np.arange(first_row, first_row + len(attributes), dtype="int64")
    attributes[UNPARSEABLE] = unparseable
    if geometry is None:
        geometry = np.full(len(attributes), None, dtype=object)
    return gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(geometry, crs=crs), crs=crs)


def _decode_error(path: Path, label: str, encoding: str, exc: UnicodeDecodeError) -> InputFileError:
    shown = "UTF-8" if encoding == "utf-8-sig" else encoding
    return InputFileError(path, f"is not valid {shown} text (byte {exc.start}: {exc.reason}).",
                          f"set {label}.encoding to the file's encoding, e.g. 'cp1252' or 'latin-1'.")


#: Format name -> reader. Add a format by adding a reader here (and to config.SourceFormat).
READERS: dict[str, Callable[[VectorFile], RecordStream]] = {
    "shapefile": _read_ogr,
    "gpkg": _read_ogr,
    "geojson": _read_ogr,
    "flatgeobuf": _read_ogr,
    "csv": _read_csv,
}
