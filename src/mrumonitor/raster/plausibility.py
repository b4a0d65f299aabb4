"""Plausibility of raster activity inputs: checked once per file, in the driver, on metadata and a sample.

A raster that opens and warps fine can still be the wrong raster, or the right one declared wrongly. Before
a probability or class raster is warped, `check_raster_input` looks at its georeferencing and at a
decimated sample (at most `SAMPLE_SIDE`² pixels, nearest neighbour, so the values are the file's own; GDAL
reads overviews where the file has them), and:

- refuses (`InputFileError`) a raster that covers none of the regional grid (over Norway, or in the wrong
  CRS), whose bounds are not coordinates of its CRS, or whose sample holds no valid pixel (all no data);
- refuses a probability raster whose values go beyond the range its `scale` declares (a 0-255 raster
  declared 0-1 would make every pixel above 1 fully active: 67 times more activity, once) or below 0,
  naming the maximum found and the `scale` that fits; values within `RANGE_TOLERANCE` of the range are
  rounding and are clipped;
- publishes with a recorded warning (`runwarnings.record_warning`) a raster holding NaN or infinite values
  that its nodata does not declare (treated as no data), a raster whose values are all within 0-1 while
  `scale` declares 0-100 or more (it would read as at most 1 % active), and a class raster in whose sample
  none of `active_classes` occurs.

A sample can miss what is rare (a few blobs of a 60,000² raster); the refusals are for what a sample
cannot get wrong by chance: a range exceeded somewhere in it. A sample without any valid pixel is confirmed
by scanning the raster in pieces (the blocks a sparse file never wrote skipped) before it is refused.

A scene input is checked the same way on its files' georeferencing (`check_scene_area`): a detection area
outside the region is a ConfigError, a folder none of whose scenes reach the area is refused, and a scene
that misses the area is used (it adds nothing) with a recorded warning.

Once a period's inputs are combined, `check_active_share` refuses a layer active over more than
`MAX_ACTIVE_SHARE` of the regional grid: whatever the inputs, that is not mining (the 5,026 real detections
of the region cover 0.2 % of it) but an input declared wrongly — a detection of 1e12 ha, class codes or a
scale mixed up — and drawing sites from it would make the whole region one site.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import xarray as xr
from pyproj import CRS
from rasterio.crs import CRS as RioCRS
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from mrumonitor.config import ActivityInput
from mrumonitor.crs import norm_crs
from mrumonitor.errors import ConfigError, InputFileError
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.io import open_raster, read_checked, unwritten
from mrumonitor.runwarnings import record_warning
from mrumonitor.schema import ACTIVITY_NODATA

#: Longest side, in pixels, of the sample a raster input is checked on.
SAMPLE_SIDE = 1024

#: Side, in pixels, of the pieces a raster whose sample holds no valid pixel is scanned in.
SCAN_SIDE = 2048

#: Values up to this fraction of `scale` beyond 0..scale are taken as rounding (clipped), not a wrong range.
RANGE_TOLERANCE = 0.01

#: Scales a refused probability raster is told to use: the smallest that holds its maximum.
COMMON_SCALES = (1.0, 100.0, 255.0, 10_000.0, 65_535.0)

#: Largest share of the regional grid a period's combined activity may cover (25 times what the region's
#: 5,026 real detections cover, 0.2 %).
MAX_ACTIVE_SHARE = 0.05

#: Class codes listed at most in a warning.
_LISTED_CLASSES = 12


def check_raster_input(name: str, spec: ActivityInput, path: str | Path, grid: Grid) -> None:
    """Check a probability or class raster input `name` (file `path`) before it is warped onto `grid`.

    Raises
    ------
    InputFileError
        For a raster that covers none of the grid, holds no valid pixel, or (probability) whose values
        go beyond the range its scale declares; see the module docstring. Warnings are recorded.
    """
    path, label = Path(path), f"activity.inputs.{name}"
    with open_raster(path, require_crs=spec.crs is None, bands=1) as dataset:
        crs = dataset.crs or RioCRS.from_user_input(norm_crs(spec.crs, f"{label}.crs"))
        _check_covers(path, tuple(dataset.bounds), crs, grid, label)
        sample = _sample(dataset)
        values = sample.compressed()
        finite = np.isfinite(values)
        if not finite.any() and sample.size < dataset.width * dataset.height and _any_valid(dataset):
            return  # valid pixels too few for the sample to meet: nothing to judge a range or classes on
    if not finite.any():
        raise InputFileError(path, f"holds no valid pixel: every pixel of a {sample.shape[0]} x {sample.shape[1]} "
                                   f"sample across the raster is no data "
                                   f"({'NaN or infinite values' if len(values) else 'its nodata value or mask'}).",
                             f"check that it is the right file, and its nodata value, or remove {label}.")
    if not finite.all():
        record_warning("detect", path, f"holds NaN or infinite values its nodata does not declare "
                                       f"({(~finite).mean():.1%} of a sample); they are treated as no data.")
    values = values[finite].astype("float64")
    if spec.kind == "probability":
        _check_range(path, values, spec.scale, label)
    else:
        _check_classes(path, values, spec.active_classes, label)


def _check_covers(path: Path, bounds: tuple[float, ...], crs: RioCRS, grid: Grid, label: str) -> None:
    """Refuse a raster whose extent misses the regional grid, or whose bounds are not coordinates of its CRS."""
    west, south, east, north = transform_bounds(crs, grid.crs, *bounds, densify_pts=21)  # inf when out of domain
    where = f"its bounds {_rounded(bounds)} in {_crs_name(crs)}"
    if not all(map(math.isfinite, (west, south, east, north))):
        raise InputFileError(path, f"has bounds that are not coordinates of its CRS: {where}.",
                             f"assign the CRS its coordinates are in (gdal_edit.py -a_srs) or set {label}.crs.")
    if not _overlap((west, south, east, north), grid.bounds):
        region = _rounded(transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=21))
        raise InputFileError(path, f"covers none of the region: {where}; the region spans {region} in "
                                   "longitude/latitude (WGS84).",
                             "check that it is the right file and that its CRS is right (a raster in another CRS "
                             "lands elsewhere).")


def _sample(dataset) -> np.ma.MaskedArray:
    """A nearest-neighbour sample of band 1 of at most `SAMPLE_SIDE` pixels a side, no data masked."""
    shrink = max(1.0, max(dataset.height, dataset.width) / SAMPLE_SIDE)
    shape = (max(1, round(dataset.height / shrink)), max(1, round(dataset.width / shrink)))
    return read_checked(dataset, 1, out_shape=shape, masked=True)


def _any_valid(dataset) -> bool:
    """Whether band 1 has a valid (unmasked, finite) pixel anywhere: read in `SCAN_SIDE` pieces, the blocks a
    sparse file never wrote skipped, stopping at the first one found."""
    for top in range(0, dataset.height, SCAN_SIDE):
        for left in range(0, dataset.width, SCAN_SIDE):
            piece = Window(left, top, min(SCAN_SIDE, dataset.width - left), min(SCAN_SIDE, dataset.height - top))
            if unwritten(dataset, piece) and dataset.nodata is not None:
                continue
            read = read_checked(dataset, 1, window=piece, masked=True)
            if np.isfinite(read.compressed()).any():
                return True
    return False


def _check_range(path: Path, values: np.ndarray, scale: float, label: str) -> None:
    low, high = float(values.min()), float(values.max())
    declared = f"scale = {scale:g} declares values of 0-{scale:g}"
    if high > scale * (1 + RANGE_TOLERANCE):
        fits = next((s for s in COMMON_SCALES if s >= high), high)
        raise InputFileError(path, f"has values up to {high:g} (in a sample) but {declared}: every pixel above "
                                   f"{scale:g} would count as fully active.",
                             f"set {label}.scale = {fits:g} (the range the raster really has).")
    if low < -scale * RANGE_TOLERANCE:
        raise InputFileError(path, f"has values down to {low:g} (in a sample); a probability cannot be negative.",
                             "check that it is a probability raster, and set its nodata value if that is one.")
    if scale > 1 and 0 < high <= 1:
        record_warning("detect", path, f"all values lie within 0-1 (maximum {high:g} in a sample) while {declared}: "
                                       f"it reads as at most {100 / scale:.2g} % active. If it is a 0-1 "
                                       f"probability, set {label}.scale = 1.")


def _check_classes(path: Path, values: np.ndarray, active: list[int], label: str) -> None:
    found = np.unique(values)
    if not np.isin(found, active).any():
        listed = ", ".join(f"{v:g}" for v in found[:_LISTED_CLASSES]) + (", ..." if len(found) > _LISTED_CLASSES else "")
        record_warning("detect", path, f"none of {label}.active_classes ({', '.join(map(str, active))}) occurs in a "
                                       f"sample of the raster, whose values are {listed}; check active_classes.")


def _rounded(bounds) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in bounds) + "]"


def _crs_name(crs: RioCRS) -> str:
    return CRS.from_user_input(crs).name


def check_active_share(activity: xr.DataArray, threshold: int, period: str, inputs: dict[str, ActivityInput]
                       ) -> None:
    """Refuse a period's combined activity (on the regional grid) that is active over more than
    `MAX_ACTIVE_SHARE` of the grid; computed block by block. `inputs` name the period's inputs in the message."""
    share = float(((activity >= threshold) & (activity != ACTIVITY_NODATA)).mean().compute())
    if share > MAX_ACTIVE_SHARE:
        named = "; ".join(f"{name} ({spec.kind}, {spec.path})" for name, spec in inputs.items())
        raise ConfigError(f"period {period}: {share:.0%} of the regional grid is active (at or above "
                          f"raster.activity_threshold = {threshold}), more than {MAX_ACTIVE_SHARE:.0%}: that is not "
                          "mining (the region's real detections cover 0.2 %) but an input declared wrongly. Check "
                          f"the scale, active_classes and areas of the inputs: {named}.")


def check_area_in_region(name: str, area: Grid, grid: Grid) -> None:
    """Refuse the detection `area` (a grid) of scene or STAC input `name` when it lies outside the regional `grid`."""
    if not _overlap(area.bounds, grid.bounds):
        region = _rounded(transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=21))
        raise ConfigError(f"activity.inputs.{name}.bounds lie outside the region, which spans {region} in "
                          "longitude/latitude (WGS84): set the detection area inside it.")


def check_scene_area(name: str, folder: str | Path, scenes: list[Path], area: Grid, grid: Grid) -> None:
    """Check scene input `name`: its detection `area` (a grid) lies in the regional `grid`, and its `scenes`
    (files of `folder`) reach the area; a scene that does not is recorded as a warning."""
    check_area_in_region(name, area, grid)
    missing = []
    for path in scenes:
        with open_raster(path) as dataset:
            footprint = transform_bounds(dataset.crs, area.crs, *dataset.bounds, densify_pts=21)
        if not (all(map(math.isfinite, footprint)) and _overlap(footprint, area.bounds)):
            missing.append(path)
    if missing and len(missing) == len(scenes):
        raise InputFileError(folder, f"holds no scene that reaches the detection area of activity.inputs.{name} "
                                     f"({len(scenes)} scenes).",
                             f"check the scenes' CRS and activity.inputs.{name}.bounds.")
    for path in missing:
        record_warning("detect", path, f"covers none of the detection area of activity.inputs.{name}; it adds "
                                       "no observation.")


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]
