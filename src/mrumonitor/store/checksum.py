"""File checksums for manifests: the inputs a run read and the layers it wrote."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1024 * 1024


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as hex, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: str | Path, **extra) -> dict:
    """``{"path" (absolute), "bytes", "sha256", **extra}`` of a file, the form manifests list files in."""
    path = Path(path).absolute()
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": sha256_file(path), **extra}
