"""Checks made on a file before any library reads it, for the failures libraries do not report.

GDAL reads a truncated .shp without complaint (the geometries come back None), a truncated .dbf as its
first records only, a damaged .shx as records without geometry, garbles text of a Shapefile without .cpg,
and will follow `../` names inside a zip. These checks turn each case into an `InputFileError` naming the
file and the fix. They read headers and the .shx index (8 bytes a record), never the data.
"""

from __future__ import annotations

import glob
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mrumonitor.errors import InputFileError

#: Limits on a zipped Shapefile: far above any cadastre, far below a zip bomb.
MAX_ZIP_MEMBERS = 200
MAX_ZIP_UNCOMPRESSED_BYTES = 4 * 1024**3
MAX_ZIP_RATIO = 200

#: What zipfile raises on an archive it cannot read: damaged, encrypted (RuntimeError), an unsupported
#: compression or version (NotImplementedError), cut short.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError, ValueError,
               struct.error, OSError)

_SHP_HEADER_BYTES = 100
_DBF_HEADER_BYTES = 32


def require_file(path: Path, setting: str) -> None:
    """Refuse a `path` that does not exist or is a folder; `setting` is the configuration key that names it
    (``sources.sle.file``), which the message tells the user to fix."""
    if not path.exists():
        raise InputFileError(path, "file not found.", f"check {setting} in your configuration.")
    if not path.is_file():
        raise InputFileError(path, "is a folder, not a file.", f"point {setting} at the file.")


def check_zip(path: Path) -> list[zipfile.ZipInfo]:
    """Refuse unsafe or suspicious zips; return the members."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except _ZIP_ERRORS as exc:
        raise InputFileError(path, f"is not a readable zip archive ({exc}).",
                             "re-export or re-download the zip.") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise InputFileError(path, f"holds {len(members)} files (at most {MAX_ZIP_MEMBERS} allowed).",
                             "zip only the Shapefile's own files.")
    for member in members:
        name = member.filename
        if name.startswith(("/", "\\")) or ".." in Path(name).parts or ":" in name:
            raise InputFileError(path, f"contains an unsafe member name {name!r}.",
                                 "zip the files without absolute or '..' paths.")
        if member.compress_size and member.file_size / member.compress_size > MAX_ZIP_RATIO:
            raise InputFileError(path, f"member {name!r} expands {member.file_size // member.compress_size}x "
                                       "(a zip bomb?).", "send the files unzipped or zipped normally.")
    if sum(m.file_size for m in members) > MAX_ZIP_UNCOMPRESSED_BYTES:
        raise InputFileError(path, "would expand to more than 4 GiB.", "split the export.")
    return members


def check_shapefile(path: Path, label: str, encoding: str | None) -> None:
    """A .shp (or a .zip holding one) must be complete: .shx, .dbf, an encoding, whole and consistent parts."""
    parts = _zip_parts(path) if path.suffix.lower() == ".zip" else _folder_parts(path)
    for companion in ("shx", "dbf"):
        if companion not in parts:
            raise InputFileError(path, f"the Shapefile has no .{companion} file.",
                                 "export the Shapefile again with all its files (.shp, .shx, .dbf, .prj, .cpg).")
    if "cpg" not in parts and not encoding:
        raise InputFileError(
            path, "the Shapefile has no .cpg file, so the text encoding of its attributes is unknown "
                  "(names such as 'Guéckédou' would come out garbled).",
            f"set {label}.encoding (e.g. 'UTF-8' or 'cp1252'), or add a .cpg file.")
    shp_header, shp_size = parts["shp"](_SHP_HEADER_BYTES)
    _check_shp_length(path, shp_header, shp_size)
    records = _check_dbf_length(path, *parts["dbf"](_DBF_HEADER_BYTES))
    _check_shx(path, parts["shx"](None)[0], shp_size, records)


#: Per part of a Shapefile (extension): a function returning (its first `limit` bytes, or all of them for None,
#: and its size in bytes).
Parts = dict[str, Callable[[int | None], tuple[bytes, int]]]


def _folder_parts(path: Path) -> Parts:
    def part(file: Path) -> Callable[[int | None], tuple[bytes, int]]:
        def read(limit: int | None) -> tuple[bytes, int]:
            with open(file, "rb") as f:
                return f.read(limit), file.stat().st_size
        return read

    return {p.suffix.lower().lstrip("."): part(p) for p in path.parent.glob(glob.escape(path.stem) + ".*")
            if p.is_file()}


def _zip_parts(path: Path) -> Parts:
    members = {Path(m.filename).name.lower(): m for m in check_zip(path) if not m.is_dir()}
    shps = [name for name in members if name.endswith(".shp")]
    if len(shps) != 1:
        raise InputFileError(path, f"should hold exactly one .shp file, found {len(shps)}.",
                             "zip one Shapefile (its .shp, .shx, .dbf, .prj and .cpg) per archive.")
    stem = shps[0][:-4]

    def part(member: zipfile.ZipInfo) -> Callable[[int | None], tuple[bytes, int]]:
        def read(limit: int | None) -> tuple[bytes, int]:
            try:
                with zipfile.ZipFile(path) as archive, archive.open(member) as f:
                    return f.read(limit), member.file_size
            except _ZIP_ERRORS as exc:
                why = "it is password-protected" if "encrypted" in str(exc) else f"damaged: {exc}"
                raise InputFileError(path, f"its member {member.filename!r} cannot be read ({why}).",
                                     "zip the Shapefile again, without a password.") from None
        return read

    return {name.rsplit(".", 1)[-1]: part(member) for name, member in members.items()
            if name.startswith(stem + ".")}


def _check_shp_length(path: Path, header: bytes, size: int) -> None:
    if len(header) < _SHP_HEADER_BYTES or struct.unpack(">i", header[:4])[0] != 9994:
        raise InputFileError(path, "the .shp file is not a Shapefile (bad header).", "re-export the layer.")
    declared = struct.unpack(">i", header[24:28])[0] * 2
    if size < declared:
        raise InputFileError(
            path, f"the .shp file is truncated: its header declares {declared} bytes but it has {size}.",
            "copy or download the file again; geometries past the cut would be lost.")


def _check_dbf_length(path: Path, header: bytes, size: int) -> int:
    """GDAL reads a truncated .dbf without complaint, returning only the records before the cut.

    Returns the number of records the .dbf declares.
    """
    if len(header) < _DBF_HEADER_BYTES:
        raise InputFileError(path, "the .dbf file is not a dBASE table (too short).", "re-export the layer.")
    records, header_bytes, record_bytes = struct.unpack("<IHH", header[4:12])
    declared = header_bytes + records * record_bytes
    if size < declared:
        raise InputFileError(
            path, f"the .dbf file is truncated: its header declares {records} records ({declared} bytes) but it "
                  f"has {size} bytes.", "copy or download the file again; records past the cut would be lost.")
    return records


def _check_shx(path: Path, shx: bytes, shp_size: int, records: int) -> None:
    """The .shx indexes one geometry per .dbf record, each inside the .shp (GDAL reads a damaged entry as a
    record without geometry)."""
    if len(shx) < _SHP_HEADER_BYTES or struct.unpack(">i", shx[:4])[0] != 9994:
        raise InputFileError(path, "the .shx file is not a Shapefile index (bad header).", "re-export the layer.")
    count = (len(shx) - _SHP_HEADER_BYTES) // 8
    if count != records:
        raise InputFileError(path, f"the .shx file indexes {count} geometries but the .dbf holds {records} records.",
                             "copy or download the Shapefile's files again, from the same export.")
    index = np.frombuffer(shx, dtype=">i4", count=2 * count, offset=_SHP_HEADER_BYTES).reshape(-1, 2).astype(np.int64)
    start, length = index[:, 0] * 2, index[:, 1] * 2
    outside = (start < _SHP_HEADER_BYTES) | (length < 0) | (start + 8 + length > shp_size)
    if outside.any():
        raise InputFileError(path, f"the .shx file is damaged: geometry {int(np.argmax(outside)) + 1} points "
                                   "outside the .shp file.", "copy or download the Shapefile's files again.")
