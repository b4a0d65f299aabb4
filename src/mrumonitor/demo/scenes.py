"""Synthetic Sentinel-2 L2A-like scene stacks with a ground truth, to exercise the built-in detector.

`write_scene_stacks(folder, seed, analysis_crs)` writes three small areas (6 x 6 km), each centred on the
densest group of REAL detections (`load_detections`) near a named place: Koidu (Kono, SLE), the Sierra
Leone-Guinea-Liberia tri-border and Séguéla (CIV). Per area, in ``folder/<area>/``:

- ``scenes/``: one 7-band GeoTIFF per acquisition (B02 B03 B04 B08 B11 B12 SCL, uint16 digital numbers =
  reflectance x 10000, nodata 0), in the local UTM zone, four acquisitions in each of the periods
  `DEMO_PERIODS` (baseline 2023H2, then 2024H2, 2025H2, 2026H1). The band order differs per area (the
  detector finds bands by description).
- ``truth/truth_<period>.tif``: uint8 mask on the detection grid (analysis CRS, `detector.resolution_m`):
  1 where mining changed the ground since the baseline (pixel centre in ground dug since then, or in pit
  water that was dry ground in the baseline), i.e. the activity the detector should flag.

The landscape: forest (Kono, the tri-border) or savanna woodland (Séguéla) with a smooth texture, a river
(brown with sediment all year: turbid, but water in the baseline too, so not new), mining pits at the real
detection positions with the footprint of their area_ha (irregular, bare laterite with a turbid pond in
some), growing over the periods (large scars, >= `LEGACY_PIT_HA`, already half-dug in the baseline), and in
Koidu a small farm clearing (not mining: a false positive any change detector makes). Each acquisition
has its own atmosphere (band gains), noise, clouds (SCL 8/9), cloud shadows (SCL 3) and a one-pixel ring
of haze the SCL misses; one acquisition per period is heavily cloudy, every acquisition of the tri-border
in 2025H2 is fully cloudy (the detector must say no data), and the tri-border baseline never sees the
area's north-west corner (swath edge, nodata).

Every file is tagged ``SYNTHETIC="demo data, not real imagery"``; the same seed writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.warp import transform_bounds
from scipy.ndimage import binary_dilation, gaussian_filter

from mrumonitor.config import PeriodSettings
from mrumonitor.crs import WGS84, norm_crs
from mrumonitor.demo.detections import load_detections
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.region import area_grid
from mrumonitor.raster.scenes import SCENE_BANDS

log = logging.getLogger(__name__)

#: Tag written into every file.
SYNTHETIC_TAGS = {"SYNTHETIC": "demo data, not real imagery"}

#: The periods of the demo: the baseline first.
DEMO_BASELINE = "2023H2"
DEMO_PERIODS = (
    PeriodSettings(name="2023H2", start=dt.date(2023, 7, 1), end=dt.date(2023, 12, 31)),
    PeriodSettings(name="2024H2", start=dt.date(2024, 7, 1), end=dt.date(2024, 12, 31)),
    PeriodSettings(name="2025H2", start=dt.date(2025, 7, 1), end=dt.date(2025, 12, 31)),
    PeriodSettings(name="2026H1", start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)),
)

AREA_SIDE_M = 6_000.0
#: The scenes cover the area plus this margin (so that warping never runs out of pixels).
SCENE_MARGIN_M = 1_000.0
#: Detections this large already existed (half dug) in the baseline.
LEGACY_PIT_HA = 80.0
#: Reflectance -> digital number.
SCALE = 10_000.0

# Surface reflectance of each cover class, bands B02 B03 B04 B08 B11 B12.
_VEG, _SAVANNA, _BARE, _POND, _RIVER, _FARM = range(6)
_SPECTRA = np.array([
    [0.020, 0.045, 0.025, 0.320, 0.150, 0.070],  # forest (NDVI ~0.85)
    [0.040, 0.070, 0.070, 0.280, 0.220, 0.120],  # savanna woodland (NDVI ~0.6)
    [0.080, 0.110, 0.160, 0.240, 0.320, 0.260],  # bare laterite of a pit
    [0.070, 0.100, 0.120, 0.080, 0.030, 0.020],  # turbid pit pond
    [0.060, 0.085, 0.095, 0.050, 0.018, 0.012],  # river, brown with sediment all year (turbid water)
    [0.060, 0.090, 0.110, 0.260, 0.260, 0.180],  # cleared farm plot
], dtype=np.float32)
_CLOUD = np.array([0.40, 0.40, 0.42, 0.45, 0.30, 0.22], dtype=np.float32)
_SCL_OF_COVER = np.array([4, 4, 5, 6, 6, 5], dtype=np.uint16)
_SCL_SHADOW, _SCL_CLOUD_MEDIUM, _SCL_CLOUD_HIGH = 3, 8, 9
_REFLECTANCE_BANDS = SCENE_BANDS[:6]


@dataclass(frozen=True)
class SceneArea:
    """One synthetic scene stack: its scenes folder, extent and ground truth per period."""

    name: str
    folder: Path  # the scenes folder: `path` of a kind = "scenes" activity input
    bounds_wgs84: tuple[float, float, float, float]  # west, south, east, north
    truth_paths: dict[str, Path]  # period -> ground-truth mask on the detection grid
    fully_cloudy: tuple[str, ...] = ()  # periods whose every acquisition is cloud-covered
    pits: int = 0  # real detections painted as pits


@dataclass(frozen=True)
class _AreaSpec:
    name: str
    place: tuple[float, float]  # lon, lat of the named place
    savanna: bool
    resolution: float  # metres, of the scene files
    band_order: tuple[str, ...]
    fully_cloudy: tuple[str, ...] = ()
    baseline_gap: bool = False  # the baseline never sees the north-west corner
    farm: bool = False
    day_offset: int = 0


_AREAS = (
    _AreaSpec("koidu", (-10.97, 8.64), savanna=False, resolution=20.0, band_order=SCENE_BANDS, farm=True),
    _AreaSpec("triborder", (-10.3, 8.5), savanna=False, resolution=20.0,
              band_order=("SCL", "B02", "B03", "B04", "B08", "B11", "B12"),
              fully_cloudy=("2025H2",), baseline_gap=True, day_offset=5),
    _AreaSpec("seguela", (-6.67, 7.96), savanna=True, resolution=10.0,
              band_order=("B12", "B11", "B08", "B04", "B03", "B02", "SCL"), day_offset=10),
)

#: Acquisition days (month, day) in an H2 and an H1 period, and the cloud cover of each (shuffled).
_H2_DAYS = ((10, 12), (11, 6), (11, 26), (12, 16))
_H1_DAYS = ((1, 10), (2, 4), (3, 1), (3, 26))
_CLOUD_COVER = (0.85, 0.35, 0.15, 0.05)


@dataclass
class _Pit:
    x: float
    y: float
    radius: float  # metres, of the final footprint (mean radius)
    start: int  # first period index where it exists (0 = baseline)
    pond: bool
    harmonics: tuple[float, float, float, float] = field(default=(0.0, 0.0, 0.0, 0.0))

    def fraction(self, period: int, last: int) -> float:
        """Share of the final area dug by period index `period` (0 = baseline)."""
        if period < self.start:
            return 0.0
        if self.start == 0:
            return 0.5 + 0.5 * period / last
        return (period - self.start + 1) / (last - self.start + 1)


def write_scene_stacks(folder: str | Path, seed: int = 2026, analysis_crs=None,
                       resolution: float = 20.0) -> list[SceneArea]:
    """Write the synthetic scene stacks and their ground truth under `folder`; see the module docstring.

    `analysis_crs` defaults to the analysis CRS of configs/default.toml and `resolution` is the detection
    grid's (`detector.resolution_m`). The same seed writes the same files.
    """
    if analysis_crs is None:
        from mrumonitor.config import load_settings

        analysis_crs = load_settings().analysis_crs
    crs = norm_crs(analysis_crs, "analysis CRS")
    detections = load_detections()
    folder = Path(folder)
    areas = []
    for index, spec in enumerate(_AREAS):
        rng = np.random.default_rng([seed, index])
        areas.append(_write_area(folder / spec.name, spec, detections, crs, resolution, rng))
    return areas


def write_scene(path: Path, reflectance: np.ndarray, scl: np.ndarray, transform: Affine, crs,
                band_order: Sequence[str] = SCENE_BANDS, tags: dict[str, str] | None = None,
                scale: float = SCALE, **creation) -> Path:
    """Write one scene file: `reflectance` (6, h, w; B02 B03 B04 B08 B11 B12; NaN = no data) and `scl`.

    Digital numbers are reflectance x `scale` as uint16, nodata 0 (where SCL is 0 or a band is NaN);
    bands go in `band_order`, each named by its description. `creation` overrides GeoTIFF creation
    options (default: tiled 256, deflate with predictor 2).
    """
    missing = np.isnan(reflectance).any(axis=0) | (scl == 0)
    digital = np.clip(np.round(np.nan_to_num(reflectance) * scale), 1, 65535).astype(np.uint16)
    layers = dict(zip(_REFLECTANCE_BANDS, digital, strict=True))
    layers["SCL"] = scl.astype(np.uint16)
    height, width = scl.shape
    profile = {"driver": "GTiff", "width": width, "height": height, "count": len(SCENE_BANDS), "dtype": "uint16",
               "crs": crs, "transform": transform, "nodata": 0, "tiled": True, "blockxsize": 256,
               "blockysize": 256, "compress": "deflate", "predictor": 2}
    profile.update(creation)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        for i, band in enumerate(band_order, start=1):
            dst.write(np.where(missing, 0, layers[band]), i)
            dst.set_band_description(i, band)
        dst.update_tags(**SYNTHETIC_TAGS, **(tags or {}))
    return path


# --- one area ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """Where an area lies: its detection grid, its scene grid (UTM) and pixel centres in the analysis CRS."""

    bounds_wgs84: tuple[float, float, float, float]
    centre: tuple[float, float]  # analysis CRS
    grid: Grid
    utm: CRS
    scene_transform: Affine
    scene_xy: tuple[np.ndarray, np.ndarray]
    grid_xy: tuple[np.ndarray, np.ndarray]


def _write_area(root: Path, spec: _AreaSpec, detections, crs: CRS, resolution: float,
                rng: np.random.Generator) -> SceneArea:
    frame = _frame(spec, detections, crs, resolution)
    pits = _pits(detections, Transformer.from_crs(WGS84, crs, always_xy=True), frame.grid, rng)
    river = _river(pits, *frame.centre, rng)
    texture = _smooth(rng, frame.scene_xy[0].shape, 400.0 / spec.resolution)
    last = len(DEMO_PERIODS) - 1
    base_cover = _mining_cover(pits, 0, last, *frame.grid_xy)
    truth_paths = {}
    for k, period in enumerate(DEMO_PERIODS):
        cover = _cover(frame.scene_xy, pits, river, k, last, spec, *frame.centre)
        surface = _surface(cover, texture, spec.savanna, dry=period.start.month == 1)
        _write_period(root / "scenes", spec, frame, period, cover, surface, k == 0, rng)
        if k:
            truth = _mining_cover(pits, k, last, *frame.grid_xy) != base_cover
            truth_paths[period.name] = _write_truth(root / "truth" / f"truth_{period.name}.tif", truth,
                                                    frame.grid, period.name, spec.name)
    log.info("scene stack %s: %d pits at real detections, %d scenes", spec.name, len(pits),
             len(_H2_DAYS) * len(DEMO_PERIODS))
    return SceneArea(spec.name, root / "scenes", frame.bounds_wgs84, truth_paths, spec.fully_cloudy, len(pits))


def _frame(spec: _AreaSpec, detections, crs: CRS, resolution: float) -> _Frame:
    """A 6 km area around the densest real detections near the named place, and its two grids."""
    lon, lat = _densest_centre(detections, spec.place)
    cx, cy = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lon, lat)
    half = AREA_SIDE_M / 2
    bounds_wgs84 = tuple(round(v, 5) for v in transform_bounds(crs, WGS84, cx - half, cy - half, cx + half,
                                                               cy + half))
    grid = area_grid(bounds_wgs84, resolution, crs)  # the grid `mrumonitor detect` builds for the area
    utm = CRS.from_epsg(32600 + int((lon + 180) // 6) + 1)
    scene_transform, scene_shape = _scene_grid(grid, crs, utm, spec.resolution)
    rows, cols = np.mgrid[0:scene_shape[0], 0:scene_shape[1]] + 0.5
    scene_xy = Transformer.from_crs(utm, crs, always_xy=True).transform(*(scene_transform @ (cols, rows)))
    return _Frame(bounds_wgs84, (cx, cy), grid, utm, scene_transform, scene_xy, tuple(np.meshgrid(*grid.coords())))


def _write_period(folder: Path, spec: _AreaSpec, frame: _Frame, period: PeriodSettings, cover: np.ndarray,
                  surface: np.ndarray, baseline: bool, rng: np.random.Generator) -> None:
    """The acquisitions of one period, each with its share of clouds."""
    days = _H1_DAYS if period.start.month == 1 else _H2_DAYS
    swath = _baseline_gap(frame.scene_xy, frame.grid) if spec.baseline_gap and baseline else None
    for (month, day), cloud in zip(days, rng.permutation(_CLOUD_COVER), strict=True):
        date = dt.date(period.start.year, month, day) + dt.timedelta(days=spec.day_offset)
        cloud = 1.0 if period.name in spec.fully_cloudy else float(cloud)
        reflectance, scl = _acquisition(surface, cover, cloud, swath, rng)
        write_scene(folder / f"S2X_MSIL2A_{date:%Y%m%d}_{spec.name.upper()}_SYNTHETIC.tif", reflectance, scl,
                    frame.scene_transform, frame.utm, spec.band_order,
                    {"ACQUISITION_DATE": date.isoformat(), "AREA": spec.name})


def _densest_centre(detections, place: tuple[float, float], search_km: float = 60.0) -> tuple[float, float]:
    """The detection (within `search_km` of `place`) with the most detections in a 6 km box around it.

    Ties go to the one nearest `place`. Nearly equal-area degrees are fine for choosing a centre.
    """
    lon, lat = detections["lon"].to_numpy(), detections["lat"].to_numpy()
    kx = 111.32 * math.cos(math.radians(place[1]))
    dist = np.hypot((lon - place[0]) * kx, (lat - place[1]) * 110.57)
    near = np.flatnonzero(dist <= search_km)
    half = AREA_SIDE_M / 2000.0
    dx = np.abs(lon[near, None] - lon[None, near]) * kx
    dy = np.abs(lat[near, None] - lat[None, near]) * 110.57
    counts = ((dx <= half) & (dy <= half)).sum(axis=1)
    best = near[np.lexsort((dist[near], -counts))[0]]
    return float(lon[best]), float(lat[best])


def _scene_grid(grid: Grid, crs: CRS, utm: CRS, resolution: float) -> tuple[Affine, tuple[int, int]]:
    """A UTM grid covering the detection grid plus the margin, on a Sentinel-2-like 10 m lattice."""
    west, south, east, north = transform_bounds(crs, utm, *grid.bounds, densify_pts=21)
    west, north = math.floor((west - SCENE_MARGIN_M) / 10) * 10, math.ceil((north + SCENE_MARGIN_M) / 10) * 10
    width = math.ceil((east + SCENE_MARGIN_M - west) / resolution)
    height = math.ceil((north - south + SCENE_MARGIN_M) / resolution)
    return Affine(resolution, 0, west, 0, -resolution, north), (height, width)


def _pits(detections, to_crs: Transformer, grid: Grid, rng: np.random.Generator) -> list[_Pit]:
    """Pits at the real detections within reach of the grid, with footprints of their area_ha."""
    x, y = to_crs.transform(detections["lon"].to_numpy(), detections["lat"].to_numpy())
    west, south, east, north = grid.bounds
    pits = []
    for xi, yi, area in zip(x, y, detections["area_ha"].to_numpy(), strict=True):
        radius = math.sqrt(area * 10_000 / math.pi / 1.0212)  # harmonics add ~2 % to the area
        if not (west - radius <= xi <= east + radius and south - radius <= yi <= north + radius):
            continue
        start = 0 if area >= LEGACY_PIT_HA else int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
        harmonics = (0.18, float(rng.uniform(0, 2 * np.pi)), 0.10, float(rng.uniform(0, 2 * np.pi)))
        pits.append(_Pit(float(xi), float(yi), radius, start, bool(rng.random() < 0.6), harmonics))
    return pits


def _pit_masks(pit: _Pit, fraction: float, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dug, pond) of one pit at `fraction` of its final area, at points (x, y) of the analysis CRS."""
    if fraction <= 0:
        return np.zeros(x.shape, bool), np.zeros(x.shape, bool)
    a2, p2, a3, p3 = pit.harmonics
    dx, dy = x - pit.x, y - pit.y
    theta = np.arctan2(dy, dx)
    edge = pit.radius * math.sqrt(fraction) * (1 + a2 * np.cos(2 * theta + p2) + a3 * np.cos(3 * theta + p3))
    dist = np.hypot(dx, dy)
    return dist <= edge, (dist <= 0.5 * edge) if pit.pond else np.zeros(x.shape, bool)


def _mining_cover(pits: list[_Pit], period: int, last: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """0 undisturbed, 1 dug ground, 2 pit water, at period index `period`."""
    cover = np.zeros(x.shape, np.uint8)
    for pit in pits:
        dug, pond = _pit_masks(pit, pit.fraction(period, last), x, y)
        cover[dug & (cover == 0)] = 1
        cover[pond] = 2
    return cover


def _river(pits: list[_Pit], cx: float, cy: float, rng: np.random.Generator) -> dict[str, float]:
    """A meandering river across the area, at the offset (of a few tried) that keeps clear of the pits."""
    amplitude, wavelength = float(rng.uniform(250, 450)), float(rng.uniform(2500, 4000))
    phase, width = float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(30, 50))
    px = np.array([p.x - cx for p in pits]) if pits else np.zeros(0)
    py = np.array([p.y - cy for p in pits]) if pits else np.zeros(0)
    pr = np.array([p.radius for p in pits]) if pits else np.zeros(0)
    offsets = np.linspace(-2400, 2400, 25)
    clearance = [np.min(np.abs(py - (o + amplitude * np.sin(2 * np.pi * px / wavelength + phase))) - pr,
                        initial=1e9) for o in offsets]
    return {"offset": float(offsets[int(np.argmax(clearance))]), "amplitude": amplitude,
            "wavelength": wavelength, "phase": phase, "width": width}


def _cover(xy, pits: list[_Pit], river: dict[str, float], period: int, last: int, spec: _AreaSpec,
           cx: float, cy: float) -> np.ndarray:
    """Cover class of each point (x, y arrays of the analysis CRS) at period index `period`."""
    x, y = xy
    u, v = x - cx, y - cy
    cover = np.full(x.shape, _SAVANNA if spec.savanna else _VEG, dtype=np.uint8)
    centre_line = river["offset"] + river["amplitude"] * np.sin(2 * np.pi * u / river["wavelength"] + river["phase"])
    cover[np.abs(v - centre_line) <= river["width"] / 2] = _RIVER
    if spec.farm and period >= 2:
        cover[(np.abs(u + 1500) <= 90) & (np.abs(v + 1800) <= 80)] = _FARM  # ~2.9 ha
    for pit in pits:
        dug, pond = _pit_masks(pit, pit.fraction(period, last), x, y)
        cover[dug] = _BARE
        cover[pond] = _POND
    return cover


def _surface(cover: np.ndarray, texture: np.ndarray, savanna: bool, dry: bool) -> np.ndarray:
    """Cloud-free surface reflectance (6, h, w) of a cover map; vegetation textured, drier in H1."""
    surface = _SPECTRA[cover].transpose(2, 0, 1).copy()
    vegetation = (cover == _VEG) | (cover == _SAVANNA)
    towards = (_SPECTRA[_VEG] if savanna else _SPECTRA[_SAVANNA])[:, None, None]  # gallery forest / farm bush
    mixed = surface + 0.35 * texture[None] * (towards - surface)
    surface = np.where(vegetation[None], mixed, surface)
    if dry:
        surface[3] = np.where(vegetation, surface[3] * 0.93, surface[3])  # less NIR in the dry season
        surface[2] = np.where(vegetation, surface[2] * 1.10, surface[2])
    return surface.astype(np.float32)


def _acquisition(surface: np.ndarray, cover: np.ndarray, cloud: float, swath: np.ndarray | None,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One acquisition: atmosphere, noise, clouds, shadows, an unflagged haze ring; SCL to match."""
    shape = cover.shape
    gains = rng.uniform(0.96, 1.04, size=6).astype(np.float32)
    reflectance = surface * gains[:, None, None] + rng.normal(0, 0.004, size=surface.shape).astype(np.float32)
    scl = _SCL_OF_COVER[cover].copy()
    scl[rng.random(shape) < 0.01] = 7  # unclassified
    if cloud >= 1.0:
        clouds = np.ones(shape, bool)
    elif cloud > 0:
        field_ = _smooth(rng, shape, 12.0)
        clouds = field_ >= np.quantile(field_, 1 - cloud)
    else:
        clouds = np.zeros(shape, bool)
    shadow = np.roll(clouds, (9, -12), axis=(0, 1)) & ~clouds
    haze = binary_dilation(clouds | shadow) & ~clouds & ~shadow
    reflectance[:, shadow] *= 0.35
    reflectance[:, haze] += 0.02
    brightness = 0.85 + 0.3 * _smooth(rng, shape, 6.0)
    reflectance = np.where(clouds[None], _CLOUD[:, None, None] * brightness[None], reflectance)
    scl[shadow] = _SCL_SHADOW
    scl[clouds] = np.where(brightness[clouds] > 1.0, _SCL_CLOUD_HIGH, _SCL_CLOUD_MEDIUM)
    reflectance = np.clip(reflectance, 0.0001, 1.0)
    if swath is not None:
        scl[swath] = 0
        reflectance[:, swath] = np.nan
    return reflectance, scl


def _baseline_gap(xy, grid: Grid) -> np.ndarray:
    """The north-west corner triangle of the detection grid (a swath edge the baseline never saw)."""
    x, y = xy
    west, _, _, north = grid.bounds
    return (x - west) + (north - y) < 1_500.0


def _smooth(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """A smooth random field scaled to 0-1."""
    field_ = gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma, mode="wrap")
    low, high = field_.min(), field_.max()
    return (field_ - low) / (high - low if high > low else 1.0)


def _write_truth(path: Path, truth: np.ndarray, grid: Grid, period: str, area: str) -> Path:
    """The ground-truth mask (uint8, 1 = new mining since the baseline) on the detection grid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {"driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1, "dtype": "uint8",
               "crs": grid.crs, "transform": grid.transform, "compress": "deflate"}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(truth.astype(np.uint8), 1)
        dst.set_band_description(1, "new mining since the baseline")
        dst.update_tags(**SYNTHETIC_TAGS, PERIOD=period, BASELINE=DEMO_BASELINE, AREA=area,
                        MEANING="1 = ground changed by mining since the baseline (new pit or pit water), 0 = not")
    return path
