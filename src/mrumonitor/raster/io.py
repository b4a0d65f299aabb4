"""Opening raster inputs safely: an explicit driver, no VRT indirection, and errors that name the file.

GDAL opens a VRT renamed .tif as a VRT (and then reads other local files), opens a truncated COG without
complaint and fails only on the damaged blocks. Every raster input goes through `open_raster`, which checks
the TIFF signature and opens with the GTiff driver only (so a renamed VRT is refused without disabling the
VRT driver that warping uses), and `read_checked` turns a failure while reading into the same error.

A STAC asset is a COG behind a URL: `open_raster` opens it through GDAL's ``/vsicurl/`` (HTTP range requests,
GTiff driver only, so a URL answering a VRT is refused the same way), and `http_options` are the GDAL settings
of timeout, retries with backoff and caching that `settings.imagery` gives; wrap the reading in
``rasterio.Env(**http_options(imagery))`` where it runs (GDAL options are per thread: once per dask task).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterBlockError, RasterioIOError
from rasterio.windows import Window

from mrumonitor.config import ImagerySettings
from mrumonitor.errors import InputFileError, MissingCRSError

#: Held around every rasterio call that wraps a numpy array in an in-memory dataset (`features.rasterize`,
#: `features.shapes`): in rasterio 1.4 that dataset enters `warnings.catch_warnings()`, which is not
#: thread-safe, so concurrent calls in dask worker threads can leave the whole process ignoring warnings.
IN_MEMORY_DATASET_LOCK = threading.Lock()

#: Drivers accepted for raster inputs: GeoTIFF (COG is a GeoTIFF layout) and nothing that points elsewhere.
RASTER_DRIVERS = ("GTiff",)

#: HTTP answers worth another try (GDAL's reads and the STAC search, `ImagerySettings.backoff_s` between tries): too
#: many requests, and the server's or a gateway's failures.
RETRY_STATUS = (429, 500, 502, 503, 504)
RETRY_CODES = ",".join(map(str, RETRY_STATUS))

_URL_SCHEMES = ("http://", "https://")


def is_url(path: str | Path) -> bool:
    """Whether `path` is an http(s) URL (a STAC asset) rather than a local file."""
    return isinstance(path, str) and path.startswith(_URL_SCHEMES)


def http_options(imagery: ImagerySettings) -> dict[str, str]:
    """GDAL configuration options for reading COGs over HTTP as `imagery` says (for ``rasterio.Env``).

    Timeouts and retries (GDAL waits `backoff_s`, doubling, between tries of a 429 or 5xx answer or a timeout),
    no directory listing next to an asset, only .tif/.tiff URLs, and GDAL's cache of the blocks it fetched.
    """
    timeout = str(max(1, round(imagery.timeout_s)))
    return {"GDAL_HTTP_TIMEOUT": timeout, "GDAL_HTTP_CONNECTTIMEOUT": timeout,
            "GDAL_HTTP_MAX_RETRY": str(imagery.retries), "GDAL_HTTP_RETRY_DELAY": str(imagery.backoff_s),
            "GDAL_HTTP_RETRY_CODES": RETRY_CODES, "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
            "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff,.TIF,.TIFF", "VSI_CACHE": "TRUE"}


@contextmanager
def open_raster(path: str | Path, require_crs: bool = True, bands: int | None = None) -> Iterator:
    """Open a GeoTIFF (a local file or an http(s) URL) for reading; refuse other formats, a missing CRS and
    (if given) another band count. A URL that cannot be read after GDAL's retries is an `InputFileError`."""
    dataset = _open_url(path) if is_url(path) else _open_file(Path(path))
    path = path if is_url(path) else Path(path)
    with dataset:
        if require_crs and dataset.crs is None:
            raise MissingCRSError(path, "the raster has no CRS.",
                                  "assign one (gdal_edit.py -a_srs EPSG:XXXX) or set `crs` for this input.")
        if bands is not None and dataset.count != bands:
            raise InputFileError(path, f"has {dataset.count} bands, {bands} expected.",
                                 "check that the file is the product the configuration describes.")
        yield dataset


def _open_file(path: Path):
    if not path.is_file():
        raise InputFileError(path, "raster file not found.", "check the path in the [activity] configuration.")
    try:
        dataset = rasterio.open(path, driver=RASTER_DRIVERS[0]) if _looks_like_tiff(path) else None
    except RasterioIOError as exc:
        raise InputFileError(path, f"is not a readable GeoTIFF ({exc}).",
                             "re-export the raster as GeoTIFF or COG.") from None
    if dataset is None:
        raise InputFileError(path, "is not a GeoTIFF (its first bytes are not a TIFF header).",
                             "convert it to GeoTIFF or COG (e.g. gdal_translate -of COG).")
    return dataset


def _open_url(url: str):
    try:
        return rasterio.open(f"/vsicurl/{url}", driver=RASTER_DRIVERS[0])
    except RasterioIOError as exc:
        raise InputFileError(url, f"cannot be read as a GeoTIFF over HTTP ({exc}).",
                             "check that the server is reachable and serves the asset (a signed URL may have "
                             "expired: run again), or raise [imagery] timeout_s / retries.") from None


def read_checked(dataset, indexes=None, window: Window | None = None, **kwargs) -> np.ndarray:
    """`dataset.read`, with a damaged or truncated block reported as an `InputFileError` naming the file."""
    try:
        return dataset.read(indexes, window=window, **kwargs)
    except RasterioIOError as exc:
        where = f" in window {window}" if window is not None else ""
        raise InputFileError(dataset.name, f"is damaged or truncated: reading failed{where} ({exc}).",
                             "copy or download the file again.") from None


def unwritten(dataset, window: Window) -> bool:
    """Whether no block of band 1 under `window` was ever written (a sparse GeoTIFF, GDAL's SPARSE_OK, leaves
    them out; they read as the nodata value, or 0)."""
    height, width = dataset.block_shapes[0]
    for i in range(int(window.row_off) // height, (int(window.row_off) + int(window.height) - 1) // height + 1):
        for j in range(int(window.col_off) // width, (int(window.col_off) + int(window.width) - 1) // width + 1):
            try:
                if dataset.block_size(1, i, j):
                    return False
            except RasterBlockError:  # GDAL knows no size for an unwritten block
                continue
    return True


def _looks_like_tiff(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
