"""A disk that cannot take the store (full, read-only, not writable) as one StoreError that says what to do.

An `OSError` raised while a run writes is a store problem when its cause can only come from writing
(no space left, quota exceeded, read-only file system), or when it concerns a path inside the store
(permission denied, a file where a folder should be). Libraries that wrap the error (pyarrow, GDAL) keep
the system's wording in the message, so the cause is also recognised from the text. Any other OSError
(an input file that cannot be read, say) passes through unchanged.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mrumonitor.errors import StoreError

#: Causes that only writing can have.
_WRITE_ONLY = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
               errno.EROFS: "the file system is read-only"}
#: Causes that are the store's only when they concern a path inside it.
_IN_STORE = {errno.EACCES: "permission denied", errno.EPERM: "the operation is not permitted",
             errno.ENOTDIR: "part of the path is a file, not a folder",
             errno.EEXIST: "a file is in the way of a folder"}


@contextmanager
def storage_errors(store_dir: str | Path) -> Iterator[None]:
    """Turn an OSError of the disk under `store_dir` raised inside the block into a StoreError."""
    try:
        yield
    except OSError as exc:
        problem = storage_problem(exc, Path(store_dir))
        if problem is None:
            raise
        where = exc.filename or store_dir
        raise StoreError(f"cannot write to the layer store {store_dir}: {problem} ({where}). Free space on that "
                         "disk, or point [paths] store at a writable folder with room, then run again. "
                         "Nothing was published; the latest run is unchanged.") from exc


def storage_problem(exc: OSError, store_dir: Path) -> str | None:
    """What is wrong with the disk under `store_dir`, in plain words, or None if `exc` is about something else."""
    code = exc.errno if exc.errno in _WRITE_ONLY | _IN_STORE else _code_in_text(str(exc))
    if code in _WRITE_ONLY:
        return _WRITE_ONLY[code]
    if code in _IN_STORE and _concerns(exc, store_dir):
        return _IN_STORE[code]
    return None


def _code_in_text(text: str) -> int | None:
    return next((code for code in (*_WRITE_ONLY, *_IN_STORE) if os.strerror(code) in text), None)


def _concerns(exc: OSError, store_dir: Path) -> bool:
    store = str(Path(store_dir).absolute())
    paths = [str(Path(os.fsdecode(p)).absolute()) for p in (exc.filename, exc.filename2)
             if isinstance(p, str | bytes | os.PathLike)]
    return any(p == store or p.startswith(store + os.sep) for p in paths) or store in str(exc)
