"""Writing an export in one step: everything is written beside the destination, then moved onto it.

Names written aside are unique (two downloads of the same layer never share one) and keep the destination's
suffix, because GDAL drivers check it (the GeoPackage driver warns about any other extension).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_aside(out: Path) -> Iterator[Path]:
    """Yield a fresh path beside `out`; when the block succeeds, move what was written there onto `out`.

    On any failure `out` is left as it was and the file written aside is removed.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}.partial{out.suffix}")
    try:
        yield partial
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
