"""Per-period composites of STAC items on the detection grid, computed window by window and kept in a cache.

A composite is the per-band median reflectance of `detector.DETECTOR_BANDS` over the valid observations of a
period's items, and their count (`detector.median_composite`, the same code as for scene folders). Each window
of the grid is one dask task, computed on the current scheduler with a bounded number in flight; its result is
saved at once, atomically, in the cache folder of the composite::

    <imagery_cache>/<input>/<key>/items.json          the items, as a STAC ItemCollection
    <imagery_cache>/<input>/<key>/windows/<row>_<col>.npy   one window's bands and count, while incomplete
    <imagery_cache>/<input>/<key>/composite.tif       the whole composite as a COG, once every window is there

`key` hashes the items' fingerprints, the grid, the chunk, the detector's compositing settings and
`COMPOSITE_VERSION`, so a changed item or setting makes a new composite and an unchanged one is re-used: a run
killed mid-period resumes with the windows it saved, and a later run finds the COG and reads no asset at all.

A window whose asset cannot be read after GDAL's retries (HTTP errors, a timeout, a truncated COG) is not saved
(the next run tries it again): it reads as no observation (count 0, so the activity there is 255, never 0),
and the failure is returned as a `ReadFailure` for the gap report. `composite_activity` is the detector's
activity (`detector.activity_block`) of a period's composite against the baseline's, read back window by window.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pystac
import rasterio
import shapely
from rasterio.windows import Window

from mrumonitor.config import DetectorSettings, ImagerySettings, StacProvider
from mrumonitor.errors import InputFileError
from mrumonitor.layerio import written_aside
from mrumonitor.raster.blocks import grid_array
from mrumonitor.raster.cog import ASIDE_OPTIONS, COG_OPTIONS, cog_written_aside
from mrumonitor.raster.detector import DETECTOR_BANDS, activity_block, composite_indices, median_composite
from mrumonitor.raster.engine import compute_bounded
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.io import http_options, open_raster, read_checked
from mrumonitor.raster.scenes import Scene
from mrumonitor.raster.stac.items import item_fingerprint, item_scene

log = logging.getLogger(__name__)

#: Raised when the way a composite is computed changes, so that composites cached before are not re-used.
COMPOSITE_VERSION = 1
#: Layers of a composite: the median reflectance of each detector band, then the valid-observation count.
LAYERS = (*DETECTOR_BANDS, "count")
#: Creation options of the composite COG: float32 layers, floating-point predictor, no overviews, ZSTD level 1
#: (measured on 6 x 2048 x 2048 float32: 1.1 s against DEFLATE's 5.5 s, the same size).
_COG_OPTIONS = {**COG_OPTIONS, "compress": "ZSTD", "level": 1, "predictor": "FLOATING_POINT", "overviews": "NONE"}


@dataclass(frozen=True)
class ReadFailure:
    """A window of a period's composite left without observation because an asset could not be read."""

    period: str
    window: shapely.Polygon
    item: str
    band: str
    reason: str

    def describe(self) -> str:
        """The failure in plain words, as the gap report gives it."""
        return f"read_failed: {self.item} {self.band}: {self.reason}"


@dataclass(frozen=True)
class Composite:
    """A period's composite in its cache folder: complete (a COG) or some windows saved so far."""

    folder: Path
    grid: Grid
    chunk: int
    failures: tuple[ReadFailure, ...] = ()

    @property
    def cog(self) -> Path:
        return self.folder / "composite.tif"

    def window_file(self, window: Window) -> Path:
        return self.folder / "windows" / f"{int(window.row_off)}_{int(window.col_off)}.npy"

    def read(self, window: Window) -> np.ndarray:
        """float32 ``(len(LAYERS), h, w)`` of one window of `grid.windows(chunk)`; no observation where unsaved."""
        if self.cog.is_file():
            with open_raster(self.cog, bands=len(LAYERS)) as dataset:
                return read_checked(dataset, window=window)
        path = self.window_file(window)
        if path.is_file():
            return np.load(path)
        return no_observation(window)


def no_observation(window: Window) -> np.ndarray:
    """The composite layers of a window without any valid observation: NaN reflectance, count 0."""
    layers = np.full((len(LAYERS), int(window.height), int(window.width)), np.nan, np.float32)
    layers[-1] = 0
    return layers


def composite_key(fingerprints: Sequence[str], grid: Grid, chunk: int, settings: DetectorSettings) -> str:
    """The cache key of a composite: sha256 of the items, the grid, the chunk, the compositing settings."""
    payload = {"version": COMPOSITE_VERSION, "items": sorted(fingerprints), "chunk": chunk,
               "grid": [grid.crs.to_wkt(), grid.left, grid.top, grid.resolution, grid.width, grid.height],
               "detector": {"bands": list(DETECTOR_BANDS), "scale": settings.reflectance_scale,
                            "offset": settings.reflectance_offset, "valid_scl": sorted(settings.valid_scl)}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def period_composite(period: str, items: Sequence[pystac.Item], provider: StacProvider, grid: Grid, chunk: int,
                     settings: DetectorSettings, imagery: ImagerySettings, cache: Path, in_flight: int = 1,
                     on_window: Callable[[int, int], None] | None = None) -> Composite:
    """The composite of `period` from its items, re-using what `cache` holds and computing the rest.

    Parameters
    ----------
    period
        The period's name (for failures and the log).
    items, provider
        The period's STAC items (`stac.search.period_items`) and the provider that names their assets.
    grid, chunk
        The detection grid and the side of its windows (`Grid.windows`).
    settings, imagery
        The detector's compositing settings; GDAL's HTTP settings (timeout, retries, backoff).
    cache
        The input's cache folder (``settings.imagery_cache / <input name>``).
    in_flight
        Windows computed at once (`engine.compute_bounded`).
    on_window
        Called as ``on_window(done, total)`` after each window computed, for progress bars.

    Returns
    -------
    Composite
        Complete (its COG written, the window files removed) unless a window failed; its `failures` say which.
    """
    fingerprints = [item_fingerprint(item) for item in items]
    composite = Composite(cache / composite_key(fingerprints, grid, chunk, settings), grid, chunk)
    if composite.cog.is_file():
        log.info("period %s: composite of %d items re-used from %s", period, len(items), composite.folder)
        return composite
    (composite.folder / "windows").mkdir(parents=True, exist_ok=True)
    _write_atomically(composite.folder / "items.json",
                      json.dumps(pystac.ItemCollection(items).to_dict(transform_hrefs=False)).encode())
    todo = [window for window in grid.windows(chunk) if not composite.window_file(window).is_file()]
    log.info("period %s: composite of %d items, %d of %d windows to read", period, len(items), len(todo),
             len(list(grid.windows(chunk))))
    scenes = [item_scene(item, provider) for item in items]
    tasks = [dask.delayed(window_composite, pure=True)(scenes, grid, window, settings, imagery) for window in todo]
    failures = []
    for done, (k, result) in enumerate(compute_bounded(tasks, in_flight), start=1):
        if isinstance(result, np.ndarray):
            _write_atomically(composite.window_file(todo[k]), _npy(result))
        else:
            scene, band, reason = result
            failures.append(ReadFailure(period, shapely.box(*grid.window_bounds(todo[k])), items[scene].id, band,
                                        reason))
        if on_window is not None:
            on_window(done, len(todo))
    if failures:
        log.warning("period %s: %d windows without observation, their assets unreadable (first: %s)", period,
                    len(failures), failures[0].describe())
        return Composite(composite.folder, grid, chunk, tuple(failures))
    _finish(composite)
    return composite


def composite_activity(base: Composite, period: Composite, settings: DetectorSettings) -> da.Array:
    """Lazy uint8 activity of `period` against `base` (composites on the same grid and chunk), window by window."""
    return grid_array(base.grid, base.chunk, _activity_window, base, period, settings, name="stac-activity")


def _activity_window(window: Window, base: Composite, period: Composite, settings: DetectorSettings) -> np.ndarray:
    return activity_block(_indices(base.read(window)), _indices(period.read(window)), settings)


def _indices(layers: np.ndarray) -> np.ndarray:
    """`detector.COMPOSITE_LAYERS` of composite layers (median bands, then count) read from the cache."""
    return composite_indices(layers[:-1], layers[-1])


def window_composite(scenes: Sequence[Scene], grid: Grid, window: Window, settings: DetectorSettings,
                     imagery: ImagerySettings) -> np.ndarray | tuple[int, str, str]:
    """One window's composite layers (`LAYERS`), or (scene index, band, reason) when an asset could not be read."""
    with rasterio.Env(**http_options(imagery)):
        try:
            median, count = median_composite(scenes, grid, window, settings)
        except InputFileError as exc:
            return failed_asset(scenes, exc)
    return np.concatenate([median, count[np.newaxis].astype(np.float32)])


def failed_asset(scenes: Sequence[Scene], exc: InputFileError) -> tuple[int, str, str]:
    """(scene index, band, reason) of a read error: the scene and band whose asset the error names."""
    for index, scene in enumerate(scenes):
        for band, url in scene.assets:
            if Path(url) == exc.path:
                return index, band, exc.problem
    raise exc


def _finish(composite: Composite) -> None:
    """Assemble the saved windows into the composite COG and remove them."""
    grid = composite.grid
    profile = {**ASIDE_OPTIONS, "predictor": 3, "width": grid.width, "height": grid.height, "count": len(LAYERS),
               "dtype": "float32", "crs": grid.crs, "transform": grid.transform, "nodata": float("nan")}
    with cog_written_aside(composite.cog, _COG_OPTIONS) as aside, rasterio.open(aside, "w", **profile) as dataset:
        dataset.descriptions = LAYERS
        for window in grid.windows(composite.chunk):
            dataset.write(np.load(composite.window_file(window)), window=window)
    shutil.rmtree(composite.folder / "windows", ignore_errors=True)  # another run may have finished it too
    log.info("composite %s complete: %.1f MB", composite.cog, composite.cog.stat().st_size / 1e6)


def _npy(array: np.ndarray) -> bytes:
    buffer = BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` beside `path` and move it into place: a killed run leaves no partial file under its name."""
    with written_aside(path) as partial:
        partial.write_bytes(data)
