"""File checksums for manifests: the inputs a run read and the layers it wrote."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

_BLOCK = 1024 * 1024


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as hex, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: str | Path, known: Mapping[str, Mapping] | None = None, base: Path | None = None,
                **extra) -> dict:
    """``{"path" (absolute), "relpath", "bytes", "mtime_ns", "sha256", **extra}`` of a file, the form manifests
    list files in; ``relpath`` (POSIX) is the path relative to `base`, present only for a file under `base`.

    `known` holds the records of an earlier run (`records_by_path`): a file whose size and modification time
    (in nanoseconds) are those recorded there keeps the recorded SHA-256 without being read again, so that
    re-describing a long history of unchanged inputs costs a `stat` per file. A file under `base` is looked up
    by its relative path, so that this holds after the folder was moved or copied (with its times kept).
    """
    path = Path(path).absolute()
    stat = path.stat()
    relative = {"relpath": path.relative_to(base).as_posix()} if base and path.is_relative_to(base) else {}
    before = (known or {}).get(_key({"path": str(path), **relative}))
    if before and before.get("bytes") == stat.st_size and before.get("mtime_ns") == stat.st_mtime_ns:
        sha256 = before["sha256"]
    else:
        sha256 = sha256_file(path)
    return {"path": str(path), **relative, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256,
            **extra}


def records_by_path(records: list[Mapping] | None) -> dict[str, Mapping]:
    """File records (a manifest's ``inputs``) by relative path where they have one, else by absolute path, for
    `file_record(known=...)`."""
    return {_key(record): record for record in records or [] if "sha256" in record}


def _key(record: Mapping) -> str:
    return f"relpath:{record['relpath']}" if "relpath" in record else record["path"]
