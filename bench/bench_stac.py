#!/usr/bin/env python
"""STAC benchmark: the scene and STAC paths against merely reading the same bytes, and the cost at MRU scale.

    python bench/bench_stac.py [--quick] [--keep DIR]

On bench_raster.py's synthetic Sentinel-2 L2A-like scenes (sizes 1x, 4x, 16x; 4 acquisitions in a baseline
period and 4 in the period analysed), also published as one DEFLATE COG per band with a STAC item per
acquisition and served over HTTP on 127.0.0.1, it measures in ONE run, on the same inputs and grid:

(a) `read scenes`: every byte the scene detector reads (the source window under each grid window, halo
    included, of the 5 detector bands and SCL of each scene) read through GDAL, no warp, no processing;
(b) `scene path`: the scene detector end to end (bench_raster's `detector` row);
(c) `read COGs over HTTP`: the same source windows read from the per-band COGs through /vsicurl/;
(d) `STAC path`: the composite and activity of a kind = "stac" input over the same COGs (empty imagery
    cache), and again with the cache the first run filled (`STAC path warm`).

Throughput in megapixels of output (one period) per second, the ratio of each path to its read row (target
>= 0.5x), peak RSS of each run in a fresh subprocess (target: flat within 10 % from 1x to 16x). Then one
window profiled step by step (HTTP, decompression, warp, masking, median, indices), and the projection of
one period over the whole Mano River Union at 10 m and 20 m on 2 cores and on a 32-worker dask cluster.
Prints the figures side by side and writes bench/results/stac.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

import numpy as np
from bench_raster import SIZES, THROUGHPUT_SIZE, _grid, _periods, agreement, build_inputs, run_detector
from memory import reset_peak, rss

RESULTS = Path(__file__).resolve().parent / "results" / "stac.json"
TARGET_RATIO = 0.5
MEMORY_TOLERANCE = 0.10
#: Sentinel-2 bands at 10 m (the others the detector reads are at 20 m).
TEN_M_BANDS = ("B02", "B03", "B04", "B08")


# --- inputs: the scenes as a STAC collection of per-band COGs ----------------------------------------------


def publish_items(spec: dict, root: Path) -> dict:
    """The scene files of `spec` as STAC items of one DEFLATE COG per band under `root` (the demo's writer, which
    also gives acquisitions of baseline 04.00 and later their +1000 offset); returns what the rows need."""
    from rasterio.warp import transform_bounds

    from mrumonitor.config import STAC_BANDS
    from mrumonitor.demo.imagery import DEMO_COLLECTION, write_demo_imagery
    from mrumonitor.demo.scenes import SceneArea

    grid = _grid(spec)
    bounds = transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=21)
    folder = write_demo_imagery([SceneArea("bench", Path(spec["folder"]), bounds, {})], root)
    items = sorted(path.stem for path in (folder / "items").glob("*.json"))
    cogs = {band: [folder / "assets" / item / f"{band}.tif" for item in items] for band in STAC_BANDS}
    source_px = len(items) * math.prod(spec["scene_shape"])
    return {"root": str(root), "collection": DEMO_COLLECTION, "items": items, "bounds_wgs84": list(bounds),
            "bytes_per_px": {band: sum(p.stat().st_size for p in paths) / source_px for band, paths in cogs.items()}}


def asset(catalogue: dict, base: str, item: str, band: str) -> str:
    """Where the COG of `band` of `item` lies below `base` (the API's URL + /files, or the folder served)."""
    return f"{base}/{catalogue['collection']}/assets/{item}/{band}.tif"


# --- what is read: the source windows under the grid's windows ---------------------------------------------


def source_window(dataset, grid, window, halo: int = 1):
    """The window of `dataset` under `window` of `grid` (plus a `halo` of grid pixels), or None outside it."""
    from rasterio.errors import WindowError
    from rasterio.windows import Window, from_bounds

    outer = Window(window.col_off - halo, window.row_off - halo, window.width + 2 * halo, window.height + 2 * halo)
    to_source = _transformer(grid.crs.to_wkt(), dataset.crs.to_wkt(), threading.get_ident())
    bounds = to_source.transform_bounds(*grid.window_bounds(outer), densify_pts=21)
    exact = from_bounds(*bounds, transform=dataset.transform)
    col, row = math.floor(exact.col_off), math.floor(exact.row_off)
    wanted = Window(col, row, math.ceil(exact.col_off + exact.width) - col, math.ceil(exact.row_off + exact.height) - row)
    try:
        return wanted.intersection(Window(0, 0, dataset.width, dataset.height))
    except WindowError:  # no intersection
        return None


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str, thread: int):
    """A pyproj transformer, one per thread (they are not thread-safe; building one takes ~20 ms)."""
    from pyproj import Transformer

    return Transformer.from_crs(src_wkt, dst_wkt, always_xy=True)


def read_scene_files(spec: dict, grid, window) -> int:
    """(a) for one grid window: the detector bands and SCL of every scene file, as stored. Returns bytes read."""
    from mrumonitor.raster.detector import DETECTOR_BANDS
    from mrumonitor.raster.io import open_raster, read_checked
    from mrumonitor.raster.scenes import band_indexes

    read = 0
    for path in sorted(Path(spec["folder"]).glob("*.tif")):
        with open_raster(path) as dataset:
            index = band_indexes(dataset)
            wanted = source_window(dataset, grid, window)
            if wanted is not None:
                read += read_checked(dataset, [index[b] for b in (*DETECTOR_BANDS, "SCL")], window=wanted).nbytes
    return read


def read_band_cogs(spec: dict, grid, window, base: str | None = None) -> int:
    """(c) for one grid window: the same source windows from each item's per-band COGs, over HTTP (or below the
    folder `base`). Returns bytes read."""
    from mrumonitor.config import STAC_BANDS
    from mrumonitor.raster.io import open_raster, read_checked

    read = 0
    for item in spec["catalogue"]["items"]:
        for band in STAC_BANDS:
            with open_raster(asset(spec["catalogue"], base or spec["files_url"], item, band)) as dataset:
                wanted = source_window(dataset, grid, window)
                if wanted is not None:
                    read += read_checked(dataset, 1, window=wanted).nbytes
    return read


def read_windows(reader: Callable, spec: dict, chunk: int, threads: int) -> None:
    """Every window of the grid read by `reader`, on `threads` threads (as dask's threaded scheduler would)."""
    import rasterio

    from mrumonitor.config import load_settings
    from mrumonitor.raster.io import http_options

    grid, options = _grid(spec), http_options(load_settings().imagery)

    def one(window):
        with rasterio.Env(**options):
            return reader(spec, grid, window)

    with ThreadPoolExecutor(threads) as pool:
        spec["bytes_read"] = sum(pool.map(one, grid.windows(chunk)))


def run_read_scenes(spec: dict, out: Path, chunk: int, threads: int) -> None:
    """(a): `read_scene_files` of every window (`out` unused: nothing is written)."""
    read_windows(read_scene_files, spec, chunk, threads)


def run_read_cogs(spec: dict, out: Path, chunk: int, threads: int) -> None:
    """(c): `read_band_cogs` of every window, over HTTP (`out` unused: nothing is written)."""
    read_windows(read_band_cogs, spec, chunk, threads)


def run_stac_path(spec: dict, out: Path, chunk: int, threads: int) -> None:
    """(d): the activity of a kind = "stac" input on the grid: search, composites (or the cache's), activity."""
    import dask
    import dask.array as da
    import rasterio
    from bench_raster import _profile, _WindowWriter

    from mrumonitor.raster.stac.detect import stac_activity

    settings, grid, periods = stac_settings(spec, chunk), _grid(spec), _periods()
    with dask.config.set(scheduler="threads", num_workers=threads):
        activity = stac_activity(settings, "bench", grid, [periods[1].name])[0][periods[1].name]
        with rasterio.open(out, "w", **_profile(grid)) as dst:
            da.store(activity.data, _WindowWriter(dst), lock=threading.Lock())


def stac_settings(spec: dict, chunk: int):
    """The default settings with the bench's periods and one kind = "stac" input over the served collection
    (every item used: no cloud-cover limit, as the scene path uses every scene), its cache in `spec["cache"]`."""
    from mrumonitor.config import STAC_BANDS, Settings, load_settings

    periods, catalogue = _periods(), spec["catalogue"]
    raw = load_settings().model_dump(mode="json")
    raw["paths"]["imagery_cache"] = spec["cache"]
    raw["raster"]["chunk_size"] = chunk
    raw["imagery"]["providers"] = {"bench": {"api": spec["api_url"], "collection": catalogue["collection"],
                                             "assets": {band: band for band in STAC_BANDS}}}
    raw["activity"] |= {"periods": [p.model_dump(mode="json") for p in periods], "baseline": periods[0].name,
                        "inputs": {"bench": {"kind": "stac", "provider": "bench", "bounds": catalogue["bounds_wgs84"],
                                             "max_cloud_cover": 100}}}
    return Settings.model_validate(raw)


CONTESTANTS = {"read scenes": run_read_scenes, "scene path": run_detector, "read COGs over HTTP": run_read_cogs,
               "STAC path": run_stac_path, "STAC path warm": run_stac_path}
#: Each path and the read row it is compared with.
PAIRS = {"scene path": "read scenes", "STAC path": "read COGs over HTTP"}


# --- one contestant, timed: in its own process, or in this one (--quick) ------------------------------------


def timed_run(name: str, spec: dict, out: Path, chunk: int, threads: int) -> dict:
    """Run one contestant: its wall time, the resident memory before it and its peak during it."""
    spec = dict(spec)
    idle, reset = rss("VmRSS"), reset_peak()
    start = time.perf_counter()
    CONTESTANTS[name](spec, out, chunk, threads)
    wall = time.perf_counter() - start
    peak = rss("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"wall_s": wall, "peak_rss_bytes": peak, "idle_rss_bytes": idle, "bytes_read": spec.get("bytes_read")}


def worker(name: str, spec_path: Path, out: Path, chunk: int, threads: int) -> None:
    """`timed_run` in a worker process, its figures printed as JSON."""
    import mrumonitor.raster.stac.detect  # noqa: F401  (imports count in the idle memory, not in the time)

    print(json.dumps(timed_run(name, json.loads(spec_path.read_text()), out, chunk, threads)))


def measure(name: str, spec: dict, out: Path, chunk: int, threads: int, fresh: bool = True) -> dict:
    """`timed_run` in a fresh Python process (so peak RSS is this run's alone), or in this one unless `fresh`
    (5 s less per run: --quick; its peaks then include what earlier runs left allocated)."""
    if not fresh:
        return timed_run(name, spec, out, chunk, threads)
    spec_path = out.with_suffix(".spec.json")
    spec_path.write_text(json.dumps(spec))
    done = subprocess.run([sys.executable, __file__, "--worker", name, "--spec", str(spec_path), "--out", str(out),
                           "--chunk", str(chunk), "--threads", str(threads)], capture_output=True, text=True,
                          check=False)
    if done.returncode:
        raise RuntimeError(f"{name} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- where the time of one window goes ----------------------------------------------------------------------


def profile_window(spec: dict, chunk: int, repeats: int = 3) -> dict[str, float]:
    """Seconds (best of `repeats`, one thread) of each step of one central window of the grid, all 8 scenes.

    Differences of nested reads: `HTTP` = the COGs over /vsicurl/ (GDAL's HTTP cache off) minus the same COGs
    read as local files; `decompression` = the local DEFLATE COGs minus the uncompressed scene files; `warp` =
    the detector's reads of the scenes (`read_scene_window`) minus reading their source windows and minus the
    masking (SCL test and 3 x 3 dilation, timed alone on the window's shape); then the median of each period
    and the indices and score.
    """
    import rasterio
    from rasterio.windows import Window
    from scipy.ndimage import binary_dilation

    from mrumonitor.config import load_settings
    from mrumonitor.raster.detector import DETECTOR_BANDS, INDICES, activity_block, nanmedian
    from mrumonitor.raster.io import http_options
    from mrumonitor.raster.scenes import assign_periods, discover_scenes, read_scene_window

    settings, grid, periods = load_settings(), _grid(spec), _periods()
    detector = settings.detector
    window = Window((grid.width - chunk) // 2, (grid.height - chunk) // 2, chunk, chunk)
    by_period = assign_periods(discover_scenes(Path(spec["folder"])), periods)
    stacks, medians = {}, {}

    def detector_reads():
        for period in periods:
            stacks[period.name] = np.stack([
                read_scene_window(scene, grid, window, DETECTOR_BANDS, detector.reflectance_scale,
                                  detector.valid_scl, detector.reflectance_offset)[0]
                for scene in by_period[period.name]])

    def masking():
        scl = np.full((chunk + 2, chunk + 2), 4, np.uint8)
        for _ in range(sum(map(len, by_period.values()))):
            binary_dilation(~np.isin(scl, detector.valid_scl), np.ones((3, 3), bool))

    def median():
        medians.update((name, nanmedian(stack)) for name, stack in stacks.items())

    def indices_and_score():
        composites = [np.stack([index(dict(zip(DETECTOR_BANDS, medians[p.name], strict=True)))
                                for index in INDICES.values()] + [np.isfinite(medians[p.name][0])])
                      for p in periods]
        activity_block(*composites, detector)

    steps = {"scene files": lambda: read_scene_files(spec, grid, window),
             "local COGs": lambda: read_band_cogs(spec, grid, window, spec["catalogue"]["root"]),
             "COGs over HTTP": lambda: read_band_cogs(spec, grid, window),
             "detector reads": detector_reads, "masking": masking, "median": median,
             "indices and score": indices_and_score}
    no_http_cache = {**http_options(settings.imagery), "CPL_VSIL_CURL_NON_CACHED": f"/vsicurl/{spec['files_url']}"}
    with rasterio.Env(**no_http_cache):
        best = {name: min(_timed(step) for _ in range(repeats)) for name, step in steps.items()}
    return {"HTTP": best["COGs over HTTP"] - best["local COGs"],
            "decompression": best["local COGs"] - best["scene files"],
            "reading (uncompressed, local)": best["scene files"],
            "warp": best["detector reads"] - best["scene files"] - best["masking"],
            "masking": best["masking"], "median": best["median"], "indices and score": best["indices and score"],
            "window_px": chunk * chunk}


def _timed(step: Callable) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


# --- the Mano River Union at scale --------------------------------------------------------------------------


def mru_pixels() -> dict[str, float]:
    """Pixels of the four countries' outlines (their union, equal-area analysis CRS) at 10 m and at 20 m."""
    from mrumonitor.config import load_settings
    from mrumonitor.reference import load_boundaries

    settings = load_settings()
    outlines = load_boundaries(settings.paths.reference, settings.analysis_crs)
    area = outlines[outlines["iso3"].isin(settings.project.countries)].union_all().area
    return {"area_km2": area / 1e6, "10 m": area / 100, "20 m": area / 400}


def projection(pixels: dict, throughput: dict, bytes_per_px: dict, args) -> dict:
    """Hours of one period over the MRU: 2 cores as measured; `args.workers` workers, compute or network bound.

    As the bench does: the composites of the period and of its baseline, `args.observations` acquisitions each
    (the bench has `args.bench_observations`; the time is scaled linearly), then the activity. `throughput` holds
    Mpx/s of the path on 1 thread and on 2; a cluster worker runs at the 1-thread figure times the measured
    efficiency of the second thread. Bytes read per output pixel come from the COGs (`_native_share`).
    """
    efficiency = throughput["2 threads"] / (2 * throughput["1 thread"])
    observations = args.observations / args.bench_observations
    nodes = math.ceil(args.workers / args.workers_per_node)
    rows = {}
    for resolution in ("10 m", "20 m"):
        per_px = sum(size * _native_share(band, resolution) for band, size in bytes_per_px.items())
        read_bytes = pixels[resolution] * per_px * 2 * args.observations
        two_cores = pixels[resolution] * observations / (throughput["2 threads"] * 1e6)
        compute = pixels[resolution] * observations / (throughput["1 thread"] * efficiency * args.workers * 1e6)
        network = read_bytes * 8 / (nodes * args.node_gbit * 1e9)
        rows[resolution] = {"pixels": pixels[resolution], "read_tb": read_bytes / 1e12, "2 cores h": two_cores / 3600,
                            "cluster compute h": compute / 3600, "cluster network h": network / 3600,
                            "cluster h": max(compute, network) / 3600,
                            "cluster bound": "network" if network > compute else "compute"}
    return {"efficiency_second_thread": efficiency, "nodes": nodes, "rows": rows}


def _native_share(band: str, resolution: str) -> float:
    """Source pixels of `band` read per output pixel: at 10 m a quarter for the 20 m bands (B11, SCL) and one for
    the 10 m bands; at 20 m one for every band (the 10 m bands through their 20 m overview)."""
    return 0.25 if resolution == "10 m" and band not in TEN_M_BANDS else 1.0


# --- orchestration -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="grids of 128², 256² and 512² pixels, every run in this process (under a minute)")
    parser.add_argument("--keep", type=Path, help="keep the generated inputs and outputs in this folder")
    parser.add_argument("--workers", type=int, default=32, help="dask workers of the projected cluster (32)")
    parser.add_argument("--workers-per-node", type=int, default=8,
                        help="workers per node of that cluster, one per core (assumption: 8)")
    parser.add_argument("--node-gbit", type=float, default=10.0,
                        help="network bandwidth of a node from S3, Gbit/s (assumption: 10)")
    parser.add_argument("--observations", type=int, default=18,
                        help="acquisitions read per period over the MRU (assumption: 18, a quarter at 5-day revisit)")
    for hidden in ("--worker", "--spec", "--out", "--chunk", "--threads"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, Path(args.spec), Path(args.out), int(args.chunk), int(args.threads))
        return 0
    args.bench_observations = 4
    base_side, chunk = (128, 128) if args.quick else (1024, 512)
    with nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory(prefix="bench_stac_") as root:
        report = benchmark(Path(root), base_side, chunk, args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"\nwritten: {RESULTS}")
    return 0


def benchmark(root: Path, base_side: int, chunk: int, args) -> dict:
    from mrumonitor.raster.stac.server import LocalStacApi

    threads, fresh = os.cpu_count() or 1, not args.quick
    sizes = {}
    for factor in SIZES:
        side = base_side * math.isqrt(factor)
        start = time.perf_counter()
        spec = build_inputs(root / f"x{factor}", side, seed=factor)
        spec["catalogue"] = publish_items(spec, root / "stac" / f"x{factor}")
        spec["cache"] = str(root / f"x{factor}" / "imagery-cache")
        print(f"inputs {factor:>2}x: grid {side} x {side} px, 8 scenes of {spec['scene_shape'][1]} x "
              f"{spec['scene_shape'][0]} px, as scene files and as STAC items of per-band COGs "
              f"({time.perf_counter() - start:.1f} s to build)", flush=True)
        sizes[factor] = spec
    runs: dict[str, dict] = {name: {} for name in CONTESTANTS}
    for factor, spec in sizes.items():
        with LocalStacApi(spec["catalogue"]["root"]) as api:
            spec["api_url"], spec["files_url"] = api.url, f"{api.url}/files"
            for name in CONTESTANTS:
                runs[name][factor] = counted(api, name, spec, _output(root, factor, name), chunk, threads, fresh)
                print(f"{name:<22}{factor:>3}x: {runs[name][factor]['wall_s']:.2f} s", flush=True)
            if factor == THROUGHPUT_SIZE:
                mid = {**spec, "cache": str(root / "imagery-cache-1-thread")}
                single = {name: counted(api, name, mid, _output(root, factor, f"{name} 1 thread"), chunk, 1, fresh)
                          for name in PAIRS}
                profile = profile_window(mid, chunk)
    agree = agreement(_output(root, THROUGHPUT_SIZE, "scene path"), _output(root, THROUGHPUT_SIZE, "STAC path"))
    return summarise(sizes, runs, single, profile, agree, chunk, args)


def counted(api, *args) -> dict:
    """`measure(*args)`, with the number of HTTP requests `api` (a `LocalStacApi`) received meanwhile."""
    before = len(api.requests)
    run = measure(*args)
    return run | {"http_requests": len(api.requests) - before}


def _output(root: Path, factor: int, name: str) -> Path:
    return root / f"x{factor}" / f"{name.replace(' ', '_')}.tif"


def summarise(sizes: dict, runs: dict, single: dict, profile: dict, agree: dict, chunk: int, args) -> dict:
    def mpx(factor):
        return sizes[factor]["width"] * sizes[factor]["height"] / 1e6

    def row(label: str, factor: int, run: dict) -> dict:
        return {"row": label, "size": f"{factor}x", "megapixels": mpx(factor), "wall_s": run["wall_s"],
                "mpx_per_s": mpx(factor) / run["wall_s"], "peak_rss_mb": run["peak_rss_bytes"] / 2**20,
                "idle_rss_mb": run["idle_rss_bytes"] / 2**20, "http_requests": run["http_requests"],
                "bytes_read": run["bytes_read"]}

    rows = [row(name, factor, run) for name, by_size in runs.items() for factor, run in by_size.items()]
    rows += [row(f"{name} 1 thr", THROUGHPUT_SIZE, run) for name, run in single.items()]
    targets = []
    for path, read in PAIRS.items():
        ratio = runs[read][16]["wall_s"] / runs[path][16]["wall_s"]
        targets.append({"target": f"{path} >= {TARGET_RATIO}x {read} (16x)", "value": f"{ratio:.2f}x",
                        "pass": ratio >= TARGET_RATIO})
        peaks = [runs[path][factor]["peak_rss_bytes"] for factor in SIZES]
        growth = peaks[-1] / peaks[0] - 1
        targets.append({"target": f"{path} peak memory flat within 10 % (1x -> 16x)",
                        "value": f"{growth:+.1%} ({' / '.join(f'{peak / 2**20:.0f}' for peak in peaks)} MB)"
                                 + (" in one process with the runs before it: not judged" if args.quick else ""),
                        "pass": None if args.quick else abs(growth) <= MEMORY_TOLERANCE})
    pixels = mru_pixels()
    projections = {path: projection(pixels, {"1 thread": mpx(THROUGHPUT_SIZE) / single[path]["wall_s"],
                                             "2 threads": mpx(THROUGHPUT_SIZE) / runs[path][THROUGHPUT_SIZE]["wall_s"]},
                                    sizes[16]["catalogue"]["bytes_per_px"], args)
                   for path in PAIRS}
    report = {"benchmark": "bench_stac", "quick": args.quick, "chunk": chunk, "when": dt.datetime.now().isoformat(),
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "platform": platform.platform()},
              "inputs": {f"{f}x": {"grid_px": [s["width"], s["height"]], "scene_px": s["scene_shape"][::-1],
                                   "scenes": 8, "cog_bytes_per_px": s["catalogue"]["bytes_per_px"]}
                         for f, s in sizes.items()},
              "rows": rows, "targets": targets, "scene_vs_stac_path": agree, "profile_one_window_s": profile,
              "mru": pixels,
              "assumptions": {"workers": args.workers, "workers_per_node": args.workers_per_node,
                              "node_gbit_s": args.node_gbit, "observations_per_period": args.observations,
                              "bench_observations_per_period": args.bench_observations},
              "projection": projections}
    print_report(report)
    return report


def print_report(report: dict) -> None:
    print(f"\nSTAC benchmark (chunk {report['chunk']} px, {os.cpu_count()} CPUs; output pixels of one period)")
    print(f"{'row':<26}{'size':>5}{'Mpx':>8}{'wall s':>9}{'Mpx/s':>8}{'peak RSS MB':>13}{'idle RSS MB':>13}"
          f"{'HTTP requests':>15}")
    for r in report["rows"]:
        print(f"{r['row']:<26}{r['size']:>5}{r['megapixels']:>8.2f}{r['wall_s']:>9.2f}{r['mpx_per_s']:>8.2f}"
              f"{r['peak_rss_mb']:>13.0f}{r['idle_rss_mb']:>13.0f}{r.get('http_requests', '-'):>15}")
    print("\ntargets:")
    for t in report["targets"]:
        print(f"  {'SKIP' if t['pass'] is None else 'PASS' if t['pass'] else 'FAIL'}  {t['target']}: {t['value']}")
    a = report["scene_vs_stac_path"]
    print(f"scene path vs STAC path ({THROUGHPUT_SIZE}x, share of pixels): activity equal {a['equal_pixels']:.4f}, "
          f"mask equal {a['equal_mask']:.4f}, no-data equal {a['equal_nodata']:.4f}")
    profile = report["profile_one_window_s"]
    steps = {k: v for k, v in profile.items() if k != "window_px"}
    total = sum(max(v, 0) for v in steps.values())
    print(f"\none window of {profile['window_px'] / 1e6:.2f} Mpx, 8 scenes, one thread (best of 3):")
    for name, seconds in steps.items():
        print(f"  {name:<30}{seconds * 1000:>9.1f} ms {max(seconds, 0) / total:>6.0%}")
    a = report["assumptions"]
    print(f"\none period over the MRU ({report['mru']['area_km2']:,.0f} km2), {a['observations_per_period']} "
          f"acquisitions per period (the bench reads {a['bench_observations_per_period']}; time scaled linearly); "
          f"cluster: {a['workers']} workers, {a['workers_per_node']} per node, {a['node_gbit_s']:g} Gbit/s per node "
          "from S3 (ASSUMED)" + ("; --quick: tiny grids, where per-window costs dominate: not figures to quote"
                                  if report["quick"] else ""))
    for path, p in report["projection"].items():
        print(f"  {path} (second thread adds {2 * p['efficiency_second_thread'] - 1:.0%} of the first):")
        for resolution, row in p["rows"].items():
            print(f"    {resolution}: {row['pixels'] / 1e9:.2f} Gpx, {row['read_tb']:.2f} TB read; 2 cores "
                  f"{row['2 cores h']:.1f} h; {a['workers']} workers {row['cluster h']:.2f} h "
                  f"({row['cluster bound']} bound: compute {row['cluster compute h']:.2f} h, network "
                  f"{row['cluster network h']:.2f} h)")


if __name__ == "__main__":
    sys.exit(main())
