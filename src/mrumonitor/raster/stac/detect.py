"""The detect stage on a STAC input: the composites of its area per period, and the activity against the baseline.

A STAC input is an area like a scene area (its `bounds`, or the region's: `search.input_bounds`) on the
detector's grid. Its items per period come from `search.period_items`; the baseline's and each processed
period's composites are made or re-used from the cache (`composite.period_composite`), and the activity of a
window is `detector.activity_block` on the two composites read back, the same rule as for scene folders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import shapely
import xarray as xr

from mrumonitor.config import Settings
from mrumonitor.raster.blocks import on_grid
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.stac.composite import Composite, composite_activity, period_composite
from mrumonitor.raster.stac.search import input_provider, period_items

#: Gap areas of a period: (window polygon in the grid CRS, reason in plain words), as `gaps.observation_gaps` takes.
FailedAreas = list[tuple[shapely.Polygon, str]]


def stac_activity(settings: Settings, name: str, grid: Grid, periods: Sequence[str],
                  on_window: Callable[[str, int, int], None] | None = None
                  ) -> tuple[dict[str, xr.DataArray], dict[str, FailedAreas]]:
    """Lazy activity of STAC input `name` on `grid` for each of `periods` but the baseline, and its read failures.

    Parameters
    ----------
    settings : Settings
    name : str
        The input (``[activity.inputs.<name>]`` of kind "stac").
    grid : Grid
        The detection grid of its area (`region.area_grid` at ``detector.resolution_m``).
    periods : sequence of str
        The periods to detect; their items and the baseline's are searched, no other.
    on_window : callable, optional
        Progress hook ``(label, windows done, windows in all)`` while composites are computed.

    Returns
    -------
    activity : dict
        Period -> uint8 activity (255 = no data), dask-backed, on `grid`.
    failures : dict
        Period -> the windows left without observation because an asset could not be read, in the period's
        composite or the baseline's (which leaves the period without activity there as well).
    """
    baseline = settings.activity.baseline
    provider = input_provider(settings, name)
    wanted = [period for period in settings.activity.periods if period.name in {*periods, baseline}]
    items = period_items(settings, name, wanted)

    def composite(period: str) -> Composite:
        hook = (lambda done, total: on_window(f"{name} {period} composite", done, total)) if on_window else None
        return period_composite(period, items.get(period, []), provider, grid,
                                settings.raster.chunk_size, settings.detector, settings.imagery,
                                settings.imagery_cache / name, settings.dask.blocks_in_flight, hook)

    base = composite(baseline)
    activity, failures = {}, {}
    for period in (p for p in periods if p != baseline):
        current = composite(period)
        data = composite_activity(base, current, settings.detector)
        activity[period] = on_grid(data, grid).assign_attrs(period=period, source="stac", baseline=baseline)
        failures[period] = [(failure.window, failure.describe()) for failure in (*base.failures, *current.failures)]
    return activity, failures
