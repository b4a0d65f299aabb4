"""Multispectral scene files: finding them, sorting them into periods, reading them onto the grid.

A scene file is ONE multi-band GeoTIFF per acquisition (Sentinel-2 L2A-like), with the bands B02 B03 B04
B08 B11 B12 and the scene classification SCL, in any order, found by their band descriptions; the
acquisition date is in the file name as YYYYMMDD (e.g. ``S2B_MSIL2A_20240105_T29PNL.tif``). Scenes may be
in any CRS and resolution: `read_scene_window` warps one window of the target grid at a time (bilinear for
reflectance, nearest for SCL), GDAL reading only the blocks of the file that window needs. Outside the
scene's extent, where SCL is 0 or the file's nodata value, and where a band is 0, there is no observation
(NaN reflectance, SCL 0).

A STAC item (`raster.stac.items`) is a `Scene` with one single-band COG per band (`Scene.assets`, paths or
URLs read over HTTP range requests) and its own reflectance offset; it is read the same way, band by band.

Every file is opened through `mrumonitor.raster.io` (GeoTIFF only, CRS required, read errors name the file).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.enums import Resampling
from rasterio.errors import WarpOperationError
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window
from scipy.ndimage import binary_dilation

from mrumonitor.config import PeriodSettings
from mrumonitor.errors import InputFileError
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.io import open_raster, read_checked

log = logging.getLogger(__name__)

#: The bands every scene file carries, by band description.
SCENE_BANDS = ("B02", "B03", "B04", "B08", "B11", "B12", "SCL")
#: SCL class 0: no data. Also what `read_scene_window` returns outside the scene footprint.
SCL_NODATA = 0
#: File name suffixes taken as scene files; other files in the folder are skipped (and logged).
SCENE_SUFFIXES = (".tif", ".tiff")

NAMING_RULE = ("name each scene file with its acquisition date as YYYYMMDD, e.g. "
               "S2B_MSIL2A_20240105_T29PNL.tif (the first 8-digit date in the name is used)")

#: Largest error (in source pixels) allowed to GDAL's approximate transformer. With its default (1/8
#: pixel) a warped value depends on where the window boundaries fall, by up to 0.006 of reflectance at a
#: sharp edge; 1/1000 costs no measurable time and keeps that below 5e-5.
WARP_TOLERANCE_PX = 1e-3

_DATE = re.compile(r"(?<!\d)(\d{8})(?!\d)")


@dataclass(frozen=True)
class Scene:
    """One acquisition: where its bands are, its acquisition date and its reflectance offset.

    A scene file holds every band (found by band description, `band_indexes`). A STAC item (`raster.stac.items`)
    has one single-band COG per band: `assets` maps each band of `SCENE_BANDS` it provides to its URL, and `path`
    then names the item (for messages). `offset` is the digital-number offset of this acquisition read from its
    metadata (-1000 for Sentinel-2 processing baseline 04.00 and later); None: `detector.reflectance_offset`.
    """

    path: Path | str
    date: dt.date
    assets: tuple[tuple[str, str], ...] = ()
    offset: float | None = None


def discover_scenes(folder: str | Path) -> list[Scene]:
    """Every scene file of `folder`, checked (GeoTIFF, CRS, 7 named bands) and sorted by date.

    Raises `InputFileError` for a missing folder, a folder without scene files, a file whose name holds no
    date, or a file that is not a valid scene (naming the file, the problem and the fix).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "scene folder not found.",
                             "set `path` of the scenes input to the folder holding the scene GeoTIFFs.")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SCENE_SUFFIXES)
    skipped = sorted(p.name for p in folder.iterdir() if p.is_file() and p not in files)
    if skipped:
        log.info("%s: %d non-GeoTIFF file(s) skipped: %s", folder, len(skipped), ", ".join(skipped[:5]))
    if not files:
        raise InputFileError(folder, "holds no scene file (*.tif, *.tiff).",
                             "put one multi-band GeoTIFF per acquisition in this folder.")
    scenes = sorted((Scene(path, _acquisition_date(path)) for path in files), key=lambda s: (s.date, s.path))
    for scene in scenes:
        with open_raster(scene.path, bands=len(SCENE_BANDS)) as dataset:
            band_indexes(dataset)
    log.info("%s: %d scenes, %s to %s", folder, len(scenes), scenes[0].date, scenes[-1].date)
    return scenes


def assign_periods(scenes: Iterable[Scene], periods: Sequence[PeriodSettings]) -> dict[str, list[Scene]]:
    """The scenes of each period (start and end inclusive), keyed by period name, in period order.

    A period without scenes maps to an empty list. A scene in no period is logged and skipped; a scene in
    overlapping periods goes to each of them.
    """
    by_period: dict[str, list[Scene]] = {period.name: [] for period in periods}
    for scene in scenes:
        names = [p.name for p in periods if p.start <= scene.date <= p.end]
        if not names:
            log.warning("%s: acquired %s, outside every period; skipped", scene.path.name, scene.date)
        for name in names:
            by_period[name].append(scene)
    return by_period


def band_indexes(dataset, required: Sequence[str] = SCENE_BANDS) -> dict[str, int]:
    """1-based band index of each required band, found by band description (case-insensitive)."""
    found = {(d or "").strip().upper(): i for i, d in enumerate(dataset.descriptions, start=1)}
    missing = [band for band in required if band.upper() not in found]
    if missing:
        named = ", ".join(d or "(none)" for d in dataset.descriptions)
        raise InputFileError(
            dataset.name,
            f"lacks band{'s' if len(missing) > 1 else ''} {', '.join(missing)} (band descriptions: {named}).",
            f"write each band's name as its band description ({' '.join(SCENE_BANDS)}), e.g. with "
            "`rio edit-info --bidx N --description B11 FILE` or GDAL's SetDescription.",
        )
    return {band: found[band.upper()] for band in required}


def read_scene_window(scene: Scene, grid: Grid, window: Window, bands: Sequence[str], scale: float,
                      valid_scl: Sequence[int] | None = None, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One window of `grid` from `scene`: reflectance of `bands` and the SCL classes.

    Returns ``(reflectance, scl)``: float32 ``(len(bands), h, w)`` surface reflectance (digital numbers
    plus `offset`, divided by `scale`; NaN = no observation) and uint8 ``(h, w)`` SCL (0 = no observation), warped from
    the scene's CRS and resolution through a `WarpedVRT` (bilinear, nearest); GDAL reads only the blocks
    of the file under the window. No observation: outside the scene's extent, SCL 0 (no data, or the
    file's nodata value), or a digital number of 0; with `valid_scl`, also every SCL class not in it.
    Reflectance is NaN there and one pixel around it (3 x 3), since bilinear resampling mixes a cloud, a
    shadow or the no-data fill into the pixels next to them. The neighbours come from a one-pixel halo
    read around the window, so the result does not depend on where the window boundaries fall.
    """
    halo = 1
    outer = Window(window.col_off - halo, window.row_off - halo, window.width + 2 * halo,
                   window.height + 2 * halo)
    reflectance, scl, covered = _warp_window(scene, grid, outer, bands, scale)
    masked = (scl == SCL_NODATA) | ~(reflectance > 0).all(axis=0)
    if valid_scl is not None:
        masked |= ~np.isin(scl, valid_scl)
    # beyond the raster's extent GDAL mixes nothing in, so only what lies inside it is dilated
    masked = binary_dilation(masked & covered, np.ones((3, 3), bool)) | ~covered
    reflectance[:, masked] = np.nan
    reflectance += np.float32(offset / scale)  # after the DN-0 no-data test, which is on raw numbers
    inner = (slice(None), slice(halo, halo + int(window.height)), slice(halo, halo + int(window.width)))
    return reflectance[inner], scl[inner[1:]]


def _warp_window(scene: Scene, grid: Grid, window: Window, bands: Sequence[str], scale: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`window` of `grid` (may reach outside it) warped from the scene: reflectance, SCL, coverage.

    The warp declares no nodata (GDAL's fast kernels, ~3x faster than with one), so the file's no-data
    fill is resampled like any value: the caller masks where it was mixed in. `covered` is False beyond
    the raster's extent (from the alpha band GDAL adds to the nearest-neighbour warp). A scene with `assets`
    is read from one single-band COG per band (each at its own resolution), a URL over HTTP range requests.
    """
    if scene.assets:
        return _warp_assets(scene, grid, window, bands, scale)
    with open_raster(scene.path, bands=len(SCENE_BANDS)) as dataset:
        indexes = band_indexes(dataset)
        if not _overlaps(dataset, grid, window):
            return _outside(window, len(bands))
        values = _warp_bands(scene.path, dataset, grid, window, [indexes[band] for band in bands])
        scl, covered = _warp_scl(scene.path, dataset, grid, window, indexes["SCL"])
    values /= np.float32(scale)
    return values, scl, covered


def _warp_assets(scene: Scene, grid: Grid, window: Window, bands: Sequence[str], scale: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_warp_window` for a scene given as one single-band COG (path or URL) per band."""
    urls = dict(scene.assets)
    missing = [band for band in (*bands, "SCL") if band not in urls]
    if missing:
        raise InputFileError(scene.path, f"has no asset for band{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(missing)}.", "name the asset key of each band in the provider's `assets`.")
    with open_raster(urls["SCL"], bands=1) as dataset:
        if not _overlaps(dataset, grid, window):
            return _outside(window, len(bands))
        scl, covered = _warp_scl(urls["SCL"], dataset, grid, window, 1)
    values = np.empty((len(bands), int(window.height), int(window.width)), np.float32)
    for i, band in enumerate(bands):
        with open_raster(urls[band], bands=1) as dataset:
            values[i] = _warp_bands(urls[band], dataset, grid, window, [1])[0]
    values /= np.float32(scale)
    return values, scl, covered


def _outside(window: Window, bands: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What `_warp_window` returns for a window the scene does not reach: nothing covered."""
    shape = (int(window.height), int(window.width))
    return np.zeros((bands, *shape), np.float32), np.full(shape, SCL_NODATA, np.uint8), np.zeros(shape, bool)


def _warp_bands(source: Path | str, dataset, grid: Grid, window: Window, indexes: list[int]) -> np.ndarray:
    """Bands `indexes` of `dataset` warped bilinearly onto `window` of `grid`, as float32 digital numbers."""
    with WarpedVRT(dataset, resampling=Resampling.bilinear, dtype="float32", **_target(dataset, grid, window)) as vrt:
        return _read(source, vrt, indexes)


def _warp_scl(source: Path | str, dataset, grid: Grid, window: Window, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Band `index` (SCL) of `dataset` warped (nearest) onto `window` of `grid`: uint8 classes and coverage."""
    with WarpedVRT(dataset, resampling=Resampling.nearest, add_alpha=True, **_target(dataset, grid, window)) as vrt:
        scl, alpha = _read(source, vrt, [index, vrt.count])
    if dataset.nodata is not None:
        scl[scl == dataset.nodata] = SCL_NODATA
    return np.where(scl > 255, SCL_NODATA, scl).astype(np.uint8), alpha > 0


def _target(dataset, grid: Grid, window: Window) -> dict:
    """WarpedVRT options putting `dataset` onto `window` of `grid`."""
    return dict(crs=grid.crs, transform=_window_transform(grid, window), width=int(window.width),
                height=int(window.height), src_nodata=None, nodata=None, tolerance=WARP_TOLERANCE_PX,
                **_kernel_scale(dataset, grid))


def _read(source: Path | str, vrt, indexes):
    """`read_checked` through a WarpedVRT, with errors naming the scene file or asset URL (not the VRT)."""
    try:
        return read_checked(vrt, indexes)
    except InputFileError as exc:
        raise InputFileError(source, exc.problem, exc.fix) from None
    except WarpOperationError as exc:
        raise InputFileError(source, f"is damaged or truncated: warping it failed ({exc}).",
                             "copy or download the file again.") from None


def _kernel_scale(dataset, grid: Grid) -> dict[str, float]:
    """Fixed GDAL warp XSCALE/YSCALE (destination pixels per source pixel).

    GDAL otherwise estimates them per warp chunk, so the resampling kernel would depend on the window.
    """
    return {"XSCALE": abs(dataset.res[0]) / grid.resolution, "YSCALE": abs(dataset.res[1]) / grid.resolution}


def _window_transform(grid: Grid, window: Window) -> Affine:
    return grid.transform @ Affine.translation(window.col_off, window.row_off)


def _overlaps(dataset, grid: Grid, window: Window) -> bool:
    """Whether the scene's footprint reaches the window (which may reach outside the grid) at all."""
    west, south, east, north = _footprint(dataset.crs.to_wkt(), tuple(dataset.bounds), grid.crs.to_wkt())
    left, top = grid.left + window.col_off * grid.resolution, grid.top - window.row_off * grid.resolution
    right, bottom = left + window.width * grid.resolution, top - window.height * grid.resolution
    return west < right and east > left and south < top and north > bottom


@lru_cache(maxsize=256)
def _footprint(src_wkt: str, bounds: tuple[float, ...], dst_wkt: str) -> tuple[float, ...]:
    """Bounds of a scene in the grid CRS (cached: building the transformation takes ~20 ms)."""
    return tuple(transform_bounds(src_wkt, dst_wkt, *bounds, densify_pts=21))


def _acquisition_date(path: Path) -> dt.date:
    """The first valid YYYYMMDD date in the file name."""
    for match in _DATE.finditer(path.name):
        try:
            return dt.datetime.strptime(match.group(1), "%Y%m%d").date()
        except ValueError:
            continue
    raise InputFileError(path, "has no acquisition date (YYYYMMDD) in its file name.", NAMING_RULE + ".")
