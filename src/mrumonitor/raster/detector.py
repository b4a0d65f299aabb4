"""The built-in detector: mining activity from multispectral scenes, change against a baseline period.

Per window of the target grid (so that peak memory follows the chunk size, never the raster size):

1. every scene of a period is warped onto the window (`scenes.read_scene_window`) and masked by its SCL
   classes (`DetectorSettings.valid_scl`: clouds, shadows and no data are dropped), plus one pixel around
   each masked pixel, where bilinear resampling has mixed the cloud or shadow into a clear pixel;
2. the per-period composite is the per-band median over the valid observations (NaN where none);
3. the indices NDVI, MNDWI, BSI and NDTI (`indices.INDICES`) are computed on the composite;
4. against the baseline composite, three change indicators, each 0 or 1 (hard thresholds of the config):

   - vegetation loss: ``NDVI - NDVI_baseline < ndvi_drop``;
   - bare-soil gain: ``BSI - BSI_baseline > bsi_gain``;
   - new turbid water: ``MNDWI > mndwi_water`` and ``NDTI > turbidity_min`` where the baseline was not
     water (``MNDWI_baseline <= mndwi_water``); a river that was already there is not new;

5. score = the weighted sum of the indicators (`DetectorSettings.weights`); activity = round(100 * score)
   clipped to 0-100, so the activity says which share of the weight fired (0.5/0.3/0.2 weights give
   0, 20, 30, 50, 70, 80 or 100). A pixel with no valid observation in the period OR in the baseline is
   `ACTIVITY_NODATA` (255), never 0.

The work is a dask graph: one task per window for the baseline composite (shared by every period computed
in the same `dask.compute`), one per window and period for its composite, and one `map_blocks` step for the
activity. The same graph runs on the threaded scheduler or a dask.distributed cluster.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache

import dask
import dask.array as da
import numpy as np
import xarray as xr
from dask.base import tokenize
from rasterio.windows import Window

from mrumonitor.config import DetectorSettings, PeriodSettings
from mrumonitor.errors import ConfigError
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.indices import INDICES, index_bands
from mrumonitor.raster.scenes import Scene, read_scene_window
from mrumonitor.schema import ACTIVITY_DTYPE, ACTIVITY_MAX, ACTIVITY_NODATA

log = logging.getLogger(__name__)

#: Bands the detector reads from each scene: those the indices need (B12 is not used).
DETECTOR_BANDS = index_bands(INDICES)
#: Layers of a composite block: the indices, then the number of valid observations.
COMPOSITE_LAYERS = (*INDICES, "count")


def detect_scenes(scenes_by_period: Mapping[str, Sequence[Scene]], periods: Sequence[PeriodSettings],
                  baseline: str, grid: Grid, settings: DetectorSettings, chunk: int) -> dict[str, xr.DataArray]:
    """Lazy activity (uint8 percent, 255 = no data) of every period but the baseline, on `grid`.

    `scenes_by_period` is `scenes.assign_periods` output; `periods` gives the order; `chunk` is the side
    of the square windows processed one at a time. Each result is a dask-backed DataArray (dims y, x;
    coords of `grid.coords()`; attrs period, source, baseline, nodata, units, crs, transform).
    """
    names = [period.name for period in periods]
    if baseline not in names:
        raise ConfigError(f"activity.baseline: {baseline!r} is not one of the periods ({', '.join(names)}). "
                          "Set it to the name of the period to detect change against.")
    if chunk < 1:
        raise ValueError(f"chunk must be a positive number of pixels, got {chunk}")
    base_scenes = list(scenes_by_period.get(baseline, []))
    if not base_scenes:
        log.warning("baseline %s has no scenes: every pixel of every period will be no data", baseline)
    base = composite_array(base_scenes, grid, settings, chunk)
    results = {}
    for name in names:
        if name == baseline:
            continue
        scenes = list(scenes_by_period.get(name, []))
        log.info("period %s: %d scenes against %d baseline scenes (%s), %d x %d pixels in %d chunks",
                 name, len(scenes), len(base_scenes), baseline, grid.width, grid.height,
                 base.numblocks[1] * base.numblocks[2])
        period = composite_array(scenes, grid, settings, chunk)
        activity = da.map_blocks(activity_block, base, period, settings=settings, drop_axis=0,
                                 dtype=ACTIVITY_DTYPE, name=f"activity-{name}-{tokenize(base.name, period.name)}")
        results[name] = _as_dataarray(activity, grid, name, baseline)
    return results


def detection_mask(activity, settings: DetectorSettings):
    """True where the activity reaches `score_threshold` (as a percent); never where it is no data."""
    threshold = math.ceil(round(100 * settings.score_threshold, 6))
    return (activity != ACTIVITY_NODATA) & (activity >= threshold)


def composite_array(scenes: Sequence[Scene], grid: Grid, settings: DetectorSettings, chunk: int) -> da.Array:
    """Lazy float32 ``(len(COMPOSITE_LAYERS), height, width)`` composite indices of `scenes`, one task per window."""
    rows: dict[int, list[da.Array]] = {}
    for window in grid.windows(chunk):
        task = dask.delayed(composite_block, pure=True)(scenes, grid, window, settings)
        shape = (len(COMPOSITE_LAYERS), int(window.height), int(window.width))
        rows.setdefault(window.row_off, []).append(da.from_delayed(task, shape=shape, dtype=np.float32))
    return da.block(list(rows.values()))


def composite_block(scenes: Sequence[Scene], grid: Grid, window: Window, settings: DetectorSettings) -> np.ndarray:
    """The composite indices (and the valid-observation count) of one window, as float32 layers."""
    return composite_indices(*median_composite(scenes, grid, window, settings))


def composite_indices(median: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The layers `COMPOSITE_LAYERS` (indices, then count) of a median composite of `DETECTOR_BANDS`, as float32."""
    named = dict(zip(DETECTOR_BANDS, median, strict=True))
    layers = [index(named) for index in INDICES.values()]
    return np.stack([*layers, count.astype(np.float32)])


def median_composite(scenes: Sequence[Scene], grid: Grid, window: Window, settings: DetectorSettings
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per-band median reflectance over the valid observations of `scenes` in one window, and their count.

    Returns float32 ``(len(DETECTOR_BANDS), h, w)`` (NaN where no observation is valid) and the uint16
    count of valid observations per pixel. An observation is valid where its SCL class is in
    `settings.valid_scl` and every band has a value. Each scene's digital numbers are shifted by its own
    `Scene.offset` (a STAC item's, from its metadata), else by `settings.reflectance_offset`.
    """
    shape = (len(DETECTOR_BANDS), int(window.height), int(window.width))
    stack = np.full((len(scenes), *shape), np.nan, dtype=np.float32)
    for i, scene in enumerate(scenes):
        reflectance, scl = read_scene_window(scene, grid, window, DETECTOR_BANDS, settings.reflectance_scale,
                                             settings.valid_scl, _offset(scene, settings))
        valid = np.isin(scl, settings.valid_scl) & np.isfinite(reflectance).all(axis=0)
        np.copyto(stack[i], reflectance, where=valid)
    return nanmedian(stack), np.isfinite(stack[:, 0]).sum(axis=0, dtype=np.uint16)


def _offset(scene: Scene, settings: DetectorSettings) -> float:
    return settings.reflectance_offset if scene.offset is None else scene.offset


def nanmedian(stack: np.ndarray) -> np.ndarray:
    """Median over axis 0 ignoring NaN (NaN where all are NaN): `np.nanmedian`, several times faster.

    The few observations of a period are sorted by a sorting network of elementwise min/max passes
    (Batcher's odd-even merge sort; `np.fmin` keeps the number and `np.maximum` the NaN, so NaN sorts last, as
    infinity does), then each pixel takes the middle of its finite ones. The passes write into preallocated
    rows that are swapped, never copied.
    """
    n = stack.shape[0]
    if n == 0:
        return np.full(stack.shape[1:], np.nan, dtype=stack.dtype)
    rows = list(stack.copy())
    spare = np.empty_like(rows[0])
    for i, j in _sorting_network(n):
        np.fmin(rows[i], rows[j], out=spare)
        np.maximum(rows[i], rows[j], out=rows[j])
        rows[i], spare = spare, rows[i]
    count = np.zeros(rows[0].shape, np.int16)  # finite observations per pixel: they come first
    for row in rows:
        count += np.isfinite(row)
    low_index, high_index = (count - 1) // 2, count // 2
    low, high = rows[0].copy(), rows[0].copy()
    for k in range(1, n):  # pick the middle observation(s) per pixel; faster than take_along_axis
        np.copyto(low, rows[k], where=low_index == k)
        np.copyto(high, rows[k], where=high_index == k)
    median = (low + high) / 2
    median[count == 0] = np.nan
    return median.astype(stack.dtype, copy=False)


@lru_cache(maxsize=64)
def _sorting_network(n: int) -> tuple[tuple[int, int], ...]:
    """Compare-exchange pairs of Batcher's odd-even merge sort for `n` items (any n)."""
    pairs = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return tuple(pairs)


def activity_block(base: np.ndarray, period: np.ndarray, settings: DetectorSettings) -> np.ndarray:
    """uint8 activity (0-100, 255 = no data) of one window from its baseline and period composites."""
    b = dict(zip(COMPOSITE_LAYERS, base, strict=True))
    p = dict(zip(COMPOSITE_LAYERS, period, strict=True))
    weights = settings.weights
    loss = (p["ndvi"] - b["ndvi"]) < settings.ndvi_drop
    gain = (p["bsi"] - b["bsi"]) > settings.bsi_gain
    water = (p["mndwi"] > settings.mndwi_water) & (p["ndti"] > settings.turbidity_min) \
        & ~(b["mndwi"] > settings.mndwi_water)
    score = weights.vegetation_loss * loss + weights.bare_soil_gain * gain + weights.turbid_water * water
    activity = np.clip(np.round(100 * score), 0, ACTIVITY_MAX).astype(ACTIVITY_DTYPE)
    activity[(b["count"] == 0) | (p["count"] == 0)] = ACTIVITY_NODATA
    return activity


def _as_dataarray(activity: da.Array, grid: Grid, period: str, baseline: str) -> xr.DataArray:
    x, y = grid.coords()
    return xr.DataArray(
        activity, dims=("y", "x"), coords={"y": y, "x": x}, name="activity",
        attrs={"period": period, "source": "scenes", "baseline": baseline, "units": "percent",
               "nodata": ACTIVITY_NODATA, "crs": grid.crs.to_wkt(), "transform": tuple(grid.transform)[:6]},
    )
