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


def file_record(path: str | Path, known: Mapping[str, Mapping] | None = None, **extra) -> dict:
    """``{"path" (absolute), "bytes", "mtime_ns", "sha256", **extra}`` of a file, the form manifests list files in.

    `known` maps absolute paths to records of an earlier run (`records_by_path`): a file whose size and
    modification time (in nanoseconds) are those recorded there keeps the recorded SHA-256 without being
    read again, so that re-describing a long history of unchanged inputs costs a `stat` per file.
    """
    path = Path(path).absolute()
    stat = path.stat()
    before = (known or {}).get(str(path))
    if before and before.get("bytes") == stat.st_size and before.get("mtime_ns") == stat.st_mtime_ns:
        sha256 = before["sha256"]
    else:
        sha256 = sha256_file(path)
    return {"path": str(path), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256, **extra}


def records_by_path(records: list[Mapping] | None) -> dict[str, Mapping]:
    """File records (a manifest's ``inputs``) by path, for `file_record(known=...)`."""
    return {record["path"]: record for record in records or [] if "sha256" in record}
