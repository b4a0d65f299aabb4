#!/usr/bin/env python
"""Raster benchmark: the built-in scene detector against a one-pass numpy baseline and a `rio` CLI chain.

    python bench/bench_raster.py [--quick]

On synthetic Sentinel-2 L2A-like stacks it builds itself (UTM 29N, 20 m, 7 bands, uint16, 4 acquisitions
in a baseline period and 4 in the period analysed; forest, new pits, clouds and shadows), at 1x, 4x and 16x
the input area, it measures in ONE run:

(a) the detector (`mrumonitor.raster.detector.detect_scenes`, dask threads, chunked), end to end from the
    scene GeoTIFFs to an activity GeoTIFF: throughput in megapixels of output per second, and peak
    resident memory (ru_maxrss of a fresh subprocess per size);
(b) a one-pass numpy baseline: every scene read onto the whole grid in one go (rasterio WarpedVRT, same
    resampling and mask), the same median, indices, change and score in whole-array numpy, written once:
    the practical limit of the computation without chunking;
(c) the same steps chained with rasterio's `rio` command line (`rio warp` bilinear and nearest per scene,
    `rio mask` with cloud/shadow polygons drawn by `rasterio.features.shapes`, `rio calc` for the medians
    and for indices/change/score), intermediate files on disk.

Targets (issue 3): detector >= 0.5x the numpy baseline, faster than the CLI chain, peak memory flat within
10 % from 1x to 16x. Prints a table with pass/fail per target and writes bench/results/bench_raster.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from memory import reset_peak, rss

RESULTS = Path(__file__).resolve().parent / "results" / "bench_raster.json"
SIZES = (1, 4, 16)
THROUGHPUT_SIZE = 4  # the size the three contestants are compared at
BASE_DATES = ("20231105", "20231120", "20231210", "20231225")
PERIOD_DATES = ("20241104", "20241119", "20241209", "20241224")
CLOUD_COVER = (0.6, 0.3, 0.1, 0.0)
KONO = (-10.97, 8.64)
UTM29 = "EPSG:32629"


# --- synthetic inputs ---------------------------------------------------------------------------------------


def build_inputs(root: Path, side: int, seed: int) -> dict:
    """Scenes for a `side` x `side` grid of 20 m pixels in the analysis CRS; returns the grid's description."""
    from pyproj import Transformer
    from rasterio.warp import transform_bounds

    from mrumonitor.config import load_settings

    crs = load_settings().analysis_crs
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(*KONO)
    left, top = math.floor(x / 20) * 20, math.floor(y / 20) * 20
    grid = {"left": left, "top": top, "resolution": 20.0, "width": side, "height": side}
    west, south, east, north = transform_bounds(crs, UTM29, left, top - 20 * side, left + 20 * side, top,
                                                densify_pts=21)
    west, north = math.floor((west - 400) / 20) * 20 + 10, math.ceil((north + 400) / 20) * 20 + 10
    shape = (math.ceil((north - south + 400) / 20), math.ceil((east - west + 400) / 20))
    rng = np.random.default_rng(seed)
    land = _landscape(shape, rng)
    folder = root / "scenes"
    for k, (date, cover) in enumerate(zip(BASE_DATES + PERIOD_DATES, CLOUD_COVER * 2, strict=True)):
        _write_scene(folder / f"S2X_MSIL2A_{date}_BENCH.tif", land, k >= len(BASE_DATES), cover, shape,
                     (west, north), rng)
    return grid | {"folder": str(folder), "scene_shape": shape}


def _landscape(shape: tuple[int, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Forest texture and, for the period, pits (bare) with ponds (turbid water)."""
    coarse = rng.random((shape[0] // 32 + 1, shape[1] // 32 + 1)).astype(np.float32)
    texture = np.repeat(np.repeat(coarse, 32, 0), 32, 1)[: shape[0], : shape[1]]
    pit = np.zeros(shape, bool)
    pond = np.zeros(shape, bool)
    for _ in range(shape[0] * shape[1] // 20_000):
        r, c, radius = rng.integers(20, shape[0] - 20), rng.integers(20, shape[1] - 20), int(rng.integers(4, 15))
        pit[r - radius:r + radius, c - radius:c + radius] = True
        pond[r - radius // 3:r + radius // 3, c - radius // 3:c + radius // 3] = True
    return {"texture": texture, "pit": pit, "pond": pond}


FOREST = np.array([0.020, 0.045, 0.025, 0.320, 0.150, 0.070], np.float32)
SAVANNA = np.array([0.040, 0.070, 0.070, 0.280, 0.220, 0.120], np.float32)
BARE = np.array([0.080, 0.110, 0.160, 0.240, 0.320, 0.260], np.float32)
POND = np.array([0.070, 0.100, 0.120, 0.080, 0.030, 0.020], np.float32)
CLOUD = np.array([0.400, 0.400, 0.420, 0.450, 0.300, 0.220], np.float32)


def _write_scene(path: Path, land: dict, dug: bool, cover: float, shape, origin, rng) -> None:
    """One uncompressed, 512-tiled scene file, written band by band."""
    import rasterio
    from affine import Affine

    from mrumonitor.demo.scenes import SYNTHETIC_TAGS
    from mrumonitor.raster.scenes import SCENE_BANDS

    coarse = rng.random((shape[0] // 16 + 1, shape[1] // 16 + 1)) < cover
    clouds = np.repeat(np.repeat(coarse, 16, 0), 16, 1)[: shape[0], : shape[1]]
    shadow = np.roll(clouds, (12, -8), axis=(0, 1)) & ~clouds
    scl = np.where(dug & land["pond"], 6, np.where(dug & land["pit"], 5, 4)).astype(np.uint16)
    scl[shadow], scl[clouds] = 3, 9
    profile = {"driver": "GTiff", "width": shape[1], "height": shape[0], "count": 7, "dtype": "uint16",
               "crs": UTM29, "transform": Affine(20, 0, origin[0], 0, -20, origin[1]), "nodata": 0,
               "tiled": True, "blockxsize": 512, "blockysize": 512}
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        for b in range(6):
            band = FOREST[b] + 0.35 * land["texture"] * (SAVANNA[b] - FOREST[b])
            if dug:
                band = np.where(land["pond"], POND[b], np.where(land["pit"], BARE[b], band))
            band = np.where(shadow, band * 0.35, band)
            band = np.where(clouds, CLOUD[b], band)
            dn = np.clip(band * 10_000 + rng.integers(-40, 41, shape, dtype=np.int16), 1, 65535)
            dst.write(dn.astype(np.uint16), b + 1)
            dst.set_band_description(b + 1, SCENE_BANDS[b])
        dst.write(scl, 7)
        dst.set_band_description(7, "SCL")
        dst.update_tags(**SYNTHETIC_TAGS)


# --- contestants (each run in its own subprocess) -----------------------------------------------------------


def _grid(spec: dict):
    from mrumonitor.config import load_settings
    from mrumonitor.raster.grid import Grid

    return Grid(load_settings().analysis_crs, spec["left"], spec["top"], spec["resolution"], spec["width"],
                spec["height"])


def _periods():
    from mrumonitor.config import PeriodSettings

    return [PeriodSettings(name="2023H2", start=dt.date(2023, 7, 1), end=dt.date(2023, 12, 31)),
            PeriodSettings(name="2024H2", start=dt.date(2024, 7, 1), end=dt.date(2024, 12, 31))]


def _profile(grid) -> dict:
    return {"driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1, "dtype": "uint8",
            "crs": grid.crs, "transform": grid.transform, "nodata": 255, "tiled": True, "blockxsize": 256,
            "blockysize": 256}


class _WindowWriter:
    """`da.store` target writing each block into an open GeoTIFF (under dask's lock)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __setitem__(self, key, block):
        from rasterio.windows import Window

        rows, cols = key
        self.dataset.write(block, 1, window=Window(cols.start, rows.start, block.shape[1], block.shape[0]))


def run_detector(spec: dict, out: Path, chunk: int, threads: int) -> None:
    """(a): discover, detect, store chunk by chunk into a GeoTIFF (dask threads)."""
    import dask
    import dask.array as da
    import rasterio

    from mrumonitor.config import load_settings
    from mrumonitor.raster.detector import detect_scenes
    from mrumonitor.raster.scenes import assign_periods, discover_scenes

    settings, grid, periods = load_settings(), _grid(spec), _periods()
    scenes = assign_periods(discover_scenes(Path(spec["folder"])), periods)
    activity = detect_scenes(scenes, periods, periods[0].name, grid, settings.detector, chunk)[periods[1].name]
    with dask.config.set(scheduler="threads", num_workers=threads), \
            rasterio.open(out, "w", **_profile(grid)) as dst:
        da.store(activity.data, _WindowWriter(dst), lock=threading.Lock())


def run_numpy(spec: dict, out: Path, chunk: int, threads: int) -> None:
    """(b): every scene onto the whole grid in one read, then whole-array numpy; one write."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT
    from scipy.ndimage import binary_dilation

    from mrumonitor.config import load_settings
    from mrumonitor.raster.detector import DETECTOR_BANDS, activity_block, nanmedian
    from mrumonitor.raster.indices import INDICES
    from mrumonitor.raster.scenes import WARP_TOLERANCE_PX, assign_periods, band_indexes, discover_scenes

    settings, grid, periods = load_settings().detector, _grid(spec), _periods()
    by_period = assign_periods(discover_scenes(Path(spec["folder"])), periods)
    composites = []
    for period in periods:
        stack = np.empty((len(by_period[period.name]), len(DETECTOR_BANDS), grid.height, grid.width), np.float32)
        for i, scene in enumerate(by_period[period.name]):
            with rasterio.open(scene.path, driver="GTiff") as src:
                index = band_indexes(src)
                target = {"crs": grid.crs, "transform": grid.transform, "width": grid.width,
                          "height": grid.height, "src_nodata": None, "nodata": None, "tolerance": WARP_TOLERANCE_PX,
                          "XSCALE": src.res[0] / grid.resolution, "YSCALE": src.res[1] / grid.resolution}
                with WarpedVRT(src, resampling=Resampling.bilinear, dtype="float32", **target) as v:
                    stack[i] = v.read([index[b] for b in DETECTOR_BANDS]) / np.float32(settings.reflectance_scale)
                with WarpedVRT(src, resampling=Resampling.nearest, add_alpha=True, **target) as v:
                    scl, alpha = v.read([index["SCL"], v.count])
            covered = alpha > 0
            masked = (scl == 0) | ~(stack[i] > 0).all(axis=0) | ~np.isin(scl, settings.valid_scl)
            stack[i][:, binary_dilation(masked & covered, np.ones((3, 3), bool)) | ~covered] = np.nan
        median = nanmedian(stack)
        del stack
        named = dict(zip(DETECTOR_BANDS, median, strict=True))
        count = np.isfinite(median[0]).astype(np.float32)
        composites.append(np.stack([index(named) for index in INDICES.values()] + [count]))
    activity = activity_block(composites[0], composites[1], settings)
    with rasterio.open(out, "w", **_profile(grid)) as dst:
        dst.write(activity, 1)


def worker(name: str, spec_path: Path, out: Path, chunk: int, threads: int) -> None:
    """Run one contestant; print its wall time, resident memory before and its peak during the run."""
    spec = json.loads(spec_path.read_text())
    import mrumonitor.raster.detector  # noqa: F401  (imports: in the idle memory, not in the time)

    idle = rss("VmRSS")
    reset = reset_peak()
    start = time.perf_counter()
    {"detector": run_detector, "numpy": run_numpy}[name](spec, out, chunk, threads)
    wall = time.perf_counter() - start
    peak = rss("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"wall_s": wall, "peak_rss_bytes": peak, "idle_rss_bytes": idle, "peak_reset": reset}))




def in_subprocess(name: str, spec: dict, out: Path, chunk: int, work: Path, threads: int | None = None) -> dict:
    spec_path = work / f"spec_{out.stem}.json"
    spec_path.write_text(json.dumps(spec))
    done = subprocess.run([sys.executable, __file__, "--worker", name, "--spec", str(spec_path), "--out", str(out),
                           "--chunk", str(chunk), "--threads", str(threads or os.cpu_count())],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{name} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- (c) the rio command-line chain -------------------------------------------------------------------------


def run_cli_chain(spec: dict, out: Path, work: Path) -> dict:
    """(c): rio warp x2 per scene, rasterio.features cloud polygons + rio mask, rio calc medians and score."""
    import rasterio
    import shapely
    from rasterio.features import shapes
    from shapely.geometry import mapping, shape

    from mrumonitor.config import load_settings
    from mrumonitor.raster.scenes import assign_periods, band_indexes, discover_scenes

    rio = str(Path(sys.executable).with_name("rio"))
    settings, grid, periods = load_settings().detector, _grid(spec), _periods()
    crs = grid.crs.to_wkt()
    bounds = [str(v) for v in grid.bounds]
    start = time.perf_counter()
    calls = 0

    def call(*args: str) -> None:
        nonlocal calls
        calls += 1
        subprocess.run([rio, *args], check=True, capture_output=True)

    by_period = assign_periods(discover_scenes(Path(spec["folder"])), periods)
    medians = []
    for period in periods:
        masked_files = []
        for scene in by_period[period.name]:
            stem = work / scene.path.stem
            for method in ("bilinear", "nearest"):
                call("warp", str(scene.path), f"{stem}_{method}.tif", "--dst-crs", crs, "--res", "20",
                     "--bounds", *bounds, "--resampling", method, "--threads", str(os.cpu_count()), "--overwrite")
            with rasterio.open(scene.path) as src:
                index = band_indexes(src)  # rio warp keeps the band order, not the band descriptions
            with rasterio.open(f"{stem}_nearest.tif") as src:
                scl = src.read(index["SCL"])
                invalid = ~np.isin(scl, settings.valid_scl) & (scl != 0)
                polygons = [shape(g).buffer(grid.resolution, join_style="mitre")  # one pixel, as the detector
                            for g, _ in shapes(invalid.astype(np.uint8), mask=invalid, transform=src.transform)]
            clouds = work / f"{scene.path.stem}_clouds.geojson"
            union = shapely.union_all(polygons) if polygons else None
            clouds.write_text(json.dumps({"type": "FeatureCollection", "features": [] if union is None else [
                {"type": "Feature", "properties": {}, "geometry": mapping(union)}]}))
            if union is not None:
                call("mask", f"{stem}_bilinear.tif", f"{stem}_masked.tif", "--geojson-mask", str(clouds),
                     "--invert", "--overwrite")
            else:
                shutil.copy(f"{stem}_bilinear.tif", f"{stem}_masked.tif")
            masked_files.append((f"{stem}_masked.tif", index))
        median_file = work / f"median_{period.name}.tif"
        call("calc", "--not-masked", "-t", "float32", "--overwrite", _median_expression(masked_files),
             *[f for f, _ in masked_files], str(median_file))
        medians.append(median_file)
    call("calc", "--not-masked", "-t", "uint8", "--overwrite", _score_expression(settings),
         "--name", f"b={medians[0]}", "--name", f"p={medians[1]}", str(out))
    return {"wall_s": time.perf_counter() - start, "subprocesses": calls}


def _median_expression(files) -> str:
    """rio calc: per band (B02 B03 B04 B08 B11), the NaN-median over the masked scenes (0 = masked)."""
    bands = []
    for band in ("B02", "B03", "B04", "B08", "B11"):
        reads = " ".join(f"(where (== (read {i} {index[band]}) 0) (float32 'nan') (read {i} {index[band]} 'float32'))"
                         for i, (_, index) in enumerate(files, start=1))
        bands.append(f"(/ (nanmedian (asarray {reads}) :axis 0) 10000.0)")
    return f"(asarray {' '.join(bands)})"


def _score_expression(s) -> str:
    """rio calc: NDVI, BSI, MNDWI, NDTI of both composites, the change indicators, the score, 255 = no data."""
    def nd(x, a, b):
        return f"(/ (- (take {x} {a}) (take {x} {b})) (+ (take {x} {a}) (take {x} {b})))"

    def bsi(x):
        return (f"(/ (- (+ (take {x} 5) (take {x} 3)) (+ (take {x} 4) (take {x} 1))) "
                f"(+ (+ (take {x} 5) (take {x} 3)) (+ (take {x} 4) (take {x} 1))))")

    w = s.weights
    loss = f"(< (- {nd('p', 4, 3)} {nd('b', 4, 3)}) {s.ndvi_drop})"
    gain = f"(> (- {bsi('p')} {bsi('b')}) {s.bsi_gain})"
    water = (f"(& (& (> {nd('p', 2, 5)} {s.mndwi_water}) (> {nd('p', 3, 2)} {s.turbidity_min})) "
             f"(<= {nd('b', 2, 5)} {s.mndwi_water}))")
    score = (f"(around (* 100 (+ (* {w.vegetation_loss} {loss}) (* {w.bare_soil_gain} {gain}) "
             f"(* {w.turbid_water} {water}))))")
    return f"(where (| (isnan (take b 1)) (isnan (take p 1))) 255 (clip {score} 0 100))"


# --- orchestration -----------------------------------------------------------------------------------------


def agreement(a: Path, b: Path) -> dict:
    import rasterio

    with rasterio.open(a) as one, rasterio.open(b) as two:
        x, y = one.read(1), two.read(1)
    mask_x, mask_y = (x >= 50) & (x != 255), (y >= 50) & (y != 255)
    return {"equal_pixels": float((x == y).mean()), "equal_mask": float((mask_x == mask_y).mean()),
            "equal_nodata": float(((x == 255) == (y == 255)).mean())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument("--keep", type=Path, help="keep the generated inputs and outputs in this folder")
    parser.add_argument("--worker", choices=["detector", "numpy"], help=argparse.SUPPRESS)
    parser.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--chunk", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.spec, args.out, args.chunk, args.threads)
        return 0
    base_side, chunk = (512, 256) if args.quick else (1024, 512)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_raster_"))
    try:
        report = benchmark(root, base_side, chunk, args.quick)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"\nwritten: {RESULTS}")
    return 0


def benchmark(root: Path, base_side: int, chunk: int, quick: bool) -> dict:
    sizes = {}
    for factor in SIZES:
        side = base_side * math.isqrt(factor)
        t = time.perf_counter()
        spec = build_inputs(root / f"x{factor}", side, seed=factor)
        print(f"inputs {factor:>2}x: grid {side} x {side} px, 8 scenes of {spec['scene_shape'][1]} x "
              f"{spec['scene_shape'][0]} px x 7 bands ({time.perf_counter() - t:.1f} s to build)", flush=True)
        sizes[factor] = spec
    runs = {"detector": {}, "numpy": {}}
    for factor, spec in sizes.items():
        folder = root / f"x{factor}"
        runs["detector"][factor] = in_subprocess("detector", spec, folder / "detector.tif", chunk, folder)
        print(f"detector {factor:>2}x: {runs['detector'][factor]['wall_s']:.2f} s", flush=True)
        runs["numpy"][factor] = in_subprocess("numpy", spec, folder / "numpy.tif", chunk, folder)
        print(f"numpy    {factor:>2}x: {runs['numpy'][factor]['wall_s']:.2f} s", flush=True)
    mid = root / f"x{THROUGHPUT_SIZE}"
    single = in_subprocess("detector", sizes[THROUGHPUT_SIZE], mid / "detector_1thread.tif", chunk, mid, threads=1)
    print(f"detector {THROUGHPUT_SIZE:>2}x, 1 thread: {single['wall_s']:.2f} s", flush=True)
    chain_dir = mid / "chain"
    chain_dir.mkdir(exist_ok=True)
    cli = run_cli_chain(sizes[THROUGHPUT_SIZE], mid / "cli.tif", chain_dir)
    print(f"rio chain {THROUGHPUT_SIZE}x: {cli['wall_s']:.2f} s ({cli['subprocesses']} rio calls)", flush=True)
    return summarise(sizes, runs, single, cli, chunk, quick, agree={
        "detector_vs_numpy": agreement(mid / "detector.tif", mid / "numpy.tif"),
        "detector_vs_cli": agreement(mid / "detector.tif", mid / "cli.tif")})


def summarise(sizes: dict, runs: dict, single: dict, cli: dict, chunk: int, quick: bool, agree: dict) -> dict:
    def mpx(factor):
        return sizes[factor]["width"] * sizes[factor]["height"] / 1e6

    rows = []
    for factor in SIZES:
        for name in ("detector", "numpy"):
            run = runs[name][factor]
            rows.append({"contestant": name, "size": f"{factor}x", "megapixels": mpx(factor), "wall_s": run["wall_s"],
                         "mpx_per_s": mpx(factor) / run["wall_s"], "peak_rss_mb": run["peak_rss_bytes"] / 2**20,
                         "idle_rss_mb": run["idle_rss_bytes"] / 2**20})
    rows.append({"contestant": "detector 1 thr", "size": f"{THROUGHPUT_SIZE}x", "megapixels": mpx(THROUGHPUT_SIZE),
                 "wall_s": single["wall_s"], "mpx_per_s": mpx(THROUGHPUT_SIZE) / single["wall_s"],
                 "peak_rss_mb": single["peak_rss_bytes"] / 2**20, "idle_rss_mb": single["idle_rss_bytes"] / 2**20})
    rows.append({"contestant": "rio CLI chain", "size": f"{THROUGHPUT_SIZE}x", "megapixels": mpx(THROUGHPUT_SIZE),
                 "wall_s": cli["wall_s"], "mpx_per_s": mpx(THROUGHPUT_SIZE) / cli["wall_s"], "peak_rss_mb": None,
                 "idle_rss_mb": None})
    det = runs["detector"]
    det_tp = mpx(THROUGHPUT_SIZE) / det[THROUGHPUT_SIZE]["wall_s"]
    np_tp = mpx(THROUGHPUT_SIZE) / runs["numpy"][THROUGHPUT_SIZE]["wall_s"]
    cli_tp = mpx(THROUGHPUT_SIZE) / cli["wall_s"]
    single_tp = mpx(THROUGHPUT_SIZE) / single["wall_s"]
    growth = det[16]["peak_rss_bytes"] / det[1]["peak_rss_bytes"] - 1
    working = [det[f]["peak_rss_bytes"] - det[f]["idle_rss_bytes"] for f in SIZES]
    targets = [
        {"target": f">= 0.5x the numpy baseline ({THROUGHPUT_SIZE}x)",
         "value": f"{det_tp / np_tp:.2f}x ({single_tp / np_tp:.2f}x on 1 thread like numpy)",
         "pass": det_tp >= 0.5 * np_tp},
        {"target": f"faster than the rio CLI chain ({THROUGHPUT_SIZE}x)", "value": f"{det_tp / cli_tp:.1f}x as fast",
         "pass": det_tp > cli_tp},
        {"target": "peak memory flat within 10 % (1x -> 16x)",
         "value": f"{growth:+.1%} peak RSS (working set above the idle process: "
                  f"{' / '.join(f'{w / 2**20:.0f}' for w in working)} MB at 1x / 4x / 16x)",
         "pass": abs(growth) <= 0.10},
    ]
    print_table(rows, targets, agree, chunk)
    return {"benchmark": "bench_raster", "quick": quick, "chunk": chunk, "when": dt.datetime.now().isoformat(),
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
            "inputs": {f"{f}x": {"grid_px": [s["width"], s["height"]], "scene_px": s["scene_shape"][::-1],
                                  "scenes": 8, "bands": 7} for f, s in sizes.items()},
            "rows": rows, "targets": targets, "agreement_at_throughput_size": agree,
            "cli_subprocesses": cli["subprocesses"]}


def print_table(rows: list[dict], targets: list[dict], agree: dict, chunk: int) -> None:
    print(f"\nRaster benchmark (detector chunk {chunk} px, {os.cpu_count()} CPUs; output pixels of one period)")
    print(f"{'contestant':<15}{'size':>5}{'Mpx':>8}{'wall s':>9}{'Mpx/s':>8}{'peak RSS MB':>13}{'idle RSS MB':>13}")
    for r in rows:
        peak = f"{r['peak_rss_mb']:.0f}" if r["peak_rss_mb"] is not None else "-"
        idle = f"{r['idle_rss_mb']:.0f}" if r["idle_rss_mb"] is not None else "-"
        print(f"{r['contestant']:<15}{r['size']:>5}{r['megapixels']:>8.2f}{r['wall_s']:>9.2f}{r['mpx_per_s']:>8.2f}"
              f"{peak:>13}{idle:>13}")
    print("\ntargets:")
    for t in targets:
        print(f"  {'PASS' if t['pass'] else 'FAIL'}  {t['target']}: {t['value']}")
    print("agreement at the throughput size (share of pixels):")
    for name, a in agree.items():
        print(f"  {name}: activity equal {a['equal_pixels']:.4f}, mask equal {a['equal_mask']:.4f}, "
              f"no-data equal {a['equal_nodata']:.4f}")


if __name__ == "__main__":
    sys.exit(main())
