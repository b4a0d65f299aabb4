"""Network faults while reading STAC assets (issue 16 §4), injected into a real local STAC API: an asset answering
500 to every try, one answering slower than the timeout, a truncated COG, and a 500 once then OK. A window
whose asset stays unreadable after GDAL's retries is no observation (activity 255, never 0), is not saved (a
later run reads it again), and becomes a row of the gap report with its reason; a fault that a retry clears
leaves no trace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import shapely
from stac_catalog import ItemSpec, asset_requests, daily_specs, served
from test_stac_composite import IMAGERY, UTM_GRID, composite_of, whole

from mrumonitor.config import load_settings
from mrumonitor.raster.blocks import on_grid
from mrumonitor.raster.gaps import NO_OBSERVATION, gap_summary, observation_gaps
from mrumonitor.raster.stac.composite import composite_activity
from mrumonitor.reference import load_boundaries
from mrumonitor.schema import ACTIVITY_NODATA

pytestmark = [pytest.mark.integration, pytest.mark.hostile]

#: The top-left window of UTM_GRID in chunks of 32: the only one the partial item covers.
CHUNK = 32
TOP_LEFT = shapely.box(286_000.0, 955_320.0, 286_320.0, 955_640.0)
#: The asset the faults hit: band B04 of the partial item.
TARGET = "B04.tif"


def specs() -> tuple[ItemSpec, ItemSpec]:
    """An item over the whole grid, and one over its top-left 30 x 30 pixels only (clear of the one-pixel halo the
    neighbouring windows read)."""
    whole_item, partial = daily_specs(2)
    return whole_item, ItemSpec(partial.id, partial.datetime, shape=(30, 30))


class Fault:
    """WSGI middleware factory: requests for `target` (the path's end: an item's asset) get `answer` (the first
    `times` of them; all when None), the others go to the API. `hits` counts the requests for `target`."""

    def __init__(self, answer: Callable, target: str = "", times: int | None = None):
        self.answer, self.times, self.hits = answer, times, 0
        self.target = target or f"{specs()[1].id}/{TARGET}"

    def __call__(self, app):
        def middleware(environ, start_response):
            if environ.get("PATH_INFO", "").endswith(self.target):
                self.hits += 1
                if self.times is None or self.hits <= self.times:
                    return self.answer(app, environ, start_response)
            return app(environ, start_response)
        return middleware


def server_error(app, environ, start_response):
    start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
    return [b"the disk is on fire"]


def forbidden(app, environ, start_response):
    start_response("403 Forbidden", [("Content-Type", "application/xml")])
    return [b"<Error><Code>AuthenticationFailed</Code><Message>Signature expired</Message></Error>"]


def login_page(app, environ, start_response):
    body = b"<html><body>Please sign in</body></html>"
    start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
    return [body]


def too_slow(app, environ, start_response):
    time.sleep(IMAGERY.timeout_s + 1.0)
    return app(environ, start_response)


def truncate_target(root: Path) -> None:
    (path,) = root.glob(f"**/{specs()[1].id}/{TARGET}")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 64])


@pytest.fixture(scope="module")
def boundaries():
    settings = load_settings()
    return load_boundaries(settings.paths.reference, UTM_GRID.crs)


def faulty_composite(tmp_path: Path, wrap=None, damage=None):
    """The composite of both items read through `wrap` (or with `damage` done to the served folder), and the
    clean baseline composite of the whole item: the first, and its activity against the second."""
    root = tmp_path / "stac"
    with served(root, list(specs())) as (_, items):
        base = composite_of(items[:1], tmp_path / "base", chunk=CHUNK)
    root = tmp_path / "faulty"
    with served(root, list(specs()), wrap=wrap) as (_, items):
        if damage:
            damage(root)
        period = composite_of(items, tmp_path / "cache", chunk=CHUNK)
    activity = composite_activity(base, period, load_settings().detector).compute(scheduler="sync")
    return period, activity


@pytest.mark.parametrize(("wrap", "damage", "words", "tries"), [
    (lambda: Fault(server_error), None, "500", 1 + IMAGERY.retries),
    pytest.param(lambda: Fault(too_slow), None, "timed out", 1 + IMAGERY.retries, marks=pytest.mark.slow),
    (lambda: Fault(forbidden), None, "403", 1),
    (lambda: Fault(login_page), None, "not recognized", 2),  # its size (HEAD), then its first bytes
    (lambda: None, truncate_target, "truncated", None),
], ids=["500 on every try", "slower than the timeout", "403 (an expired signature)", "a web page, not a COG",
        "truncated COG"])
def test_unreadable_asset_leaves_its_window_without_observation(tmp_path, boundaries, wrap, damage, words, tries):
    """`tries`: the requests for the asset (GDAL retries 429 and 5xx answers and timeouts, nothing else)."""
    fault = wrap()
    period, activity = faulty_composite(tmp_path, fault, damage)
    (failure,) = period.failures
    partial = specs()[1].id
    assert (failure.period, failure.item, failure.band) == ("P1", partial, "B04")
    assert failure.window.equals(TOP_LEFT)
    assert words in failure.reason
    if fault is not None:
        assert fault.hits == tries, "GDAL did not retry as [imagery] retries says"
    layers = whole(period)
    assert (layers[-1][:32, :32] == 0).all() and np.isnan(layers[:-1, :32, :32]).all()
    assert (layers[-1][32:, :] == 1).all() and (layers[-1][:32, 32:] == 1).all()
    assert (activity[:32, :32] == ACTIVITY_NODATA).all()
    assert (activity[32:, :] == 0).all() and (activity[:32, 32:] == 0).all()
    assert not period.window_file(next(UTM_GRID.windows(CHUNK))).exists() and not period.cog.exists()
    assert len(list((period.folder / "windows").iterdir())) == 3

    gaps = observation_gaps(on_grid(da.from_array(activity, chunks=CHUNK), UTM_GRID),
                            UTM_GRID, boundaries, "P1", CHUNK, [(failure.window, failure.describe())])
    assert gaps[["period", "country"]].values.tolist() == [["P1", "SLE"]]
    assert gaps["reason"].iloc[0] == f"read_failed: {partial} B04: {failure.reason}"
    assert gaps["area_ha"].iloc[0] == pytest.approx(320 * 320 / 10_000)
    assert gap_summary(gaps)[0]["reason"].startswith("read_failed: ")

    with served(tmp_path / "mended", list(specs())) as (api, items):  # the next run reads only that window
        mended = composite_of(items, tmp_path / "cache", chunk=CHUNK)
        assert any(f"/{partial}/" in path for _, path, _ in asset_requests(api))
    assert mended.failures == () and mended.cog.is_file()
    assert (whole(mended)[-1][:30, :30] == 2).all() and (whole(mended)[-1][:32, 30:32] == 1).all()


def test_a_500_that_a_retry_clears_leaves_no_gap(tmp_path):
    fault = Fault(server_error, times=1)
    period, activity = faulty_composite(tmp_path, fault)
    assert fault.hits >= 2, "the asset was not asked again after its 500"
    assert period.failures == () and period.cog.is_file()
    assert (whole(period)[-1][:30, :30] == 2).all()
    assert (activity != ACTIVITY_NODATA).all()


def test_gap_rows_without_failures_say_no_observation(boundaries):
    activity = np.zeros(UTM_GRID.shape, np.uint8)
    activity[:10, :10] = ACTIVITY_NODATA
    gaps = observation_gaps(on_grid(da.from_array(activity, chunks=CHUNK), UTM_GRID),
                            UTM_GRID, boundaries, "P1", CHUNK)
    assert gaps[["country", "reason"]].values.tolist() == [["SLE", NO_OBSERVATION]]
    assert gaps["area_ha"].iloc[0] == pytest.approx(100 * 100 / 10_000)
