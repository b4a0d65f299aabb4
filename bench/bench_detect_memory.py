#!/usr/bin/env python
"""Peak memory of the detect stage on a 60,000 x 60,000 pixel sparse raster, beside a small raster.

    python bench/bench_detect_memory.py [--side 60000] [--cap-gb 6] [--keep DIR]

Issue 14 §2: a 168 KB sparse GeoTIFF of 60,000² pixels drove `mrumonitor detect` past 7 GB (and a 26.8 GiB
allocation at a 1 km grid). This benchmark writes such files itself (`raster.testing.write_sparse_raster`:
tiled, deflate, SPARSE_OK, zero but for three blobs of known activity): one in EPSG:4326 over the whole
region (about 24 m pixels), one of 1 m pixels over 60 km around Koidu (UTM 29N), and a 2,000² raster over
the whole region as the baseline; declares each as the `probability` input (scale 100) of a one-period
configuration, and runs the detect stage on each at the regional grid of 100 m and at a coarse 1 km grid,
every run in a fresh process. Measured: peak resident memory
(Linux `VmHWM` after the imports were reset, so it is the detect stage's own), wall time, the active
area found. A watchdog kills a run whose resident memory passes `--cap-gb` (reported as such).

Target (issue 14): every run's peak under 2 GB. Prints a table with PASS/FAIL and writes
bench/results/bench_detect_memory.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "bench_detect_memory.json"
TARGET_GB = 2.0
#: The region's box in degrees (west, south, east, north), as the regional grid covers it.
REGION = (-15.40, 4.03, -2.14, 12.98)
#: Blobs as fractions of the side: (row, col, radius in pixels of a 60,000² raster, value in percent).
BLOBS = ((0.50, 0.50, 40, 90), (0.33, 0.42, 25, 80), (0.68, 0.55, 60, 100))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=60_000, help="side of the sparse raster in pixels")
    parser.add_argument("--cap-gb", type=float, default=6.0, help="kill a run whose resident memory passes this")
    parser.add_argument("--keep", type=Path, default=None, help="keep inputs and outputs in this folder")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-detect-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        rasters = {"small 2,000²": _raster(work / "small.tif", 2_000),
                   f"sparse {args.side:,}², region": _raster(work / "sparse.tif", args.side),
                   f"sparse {args.side:,}², 1 m": _raster(work / "sparse_1m.tif", args.side, _koidu(args.side), 20)}
        for resolution in (100.0, 1000.0):
            for label, path in rasters.items():
                config = _config(work / f"{path.stem}-{int(resolution)}", path, resolution)
                rows.append({"raster": label, "file_kb": round(path.stat().st_size / 1024, 1),
                             "grid_m": resolution, **_measure(config, args.cap_gb)})
                print(rows[-1], flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    passed = all(row["peak_gb"] is not None and row["peak_gb"] < TARGET_GB for row in rows)
    print()
    print(f"{'raster':<22} {'file KB':>8} {'grid m':>7} {'peak GB':>8} {'wall s':>7} {'active ha':>10}  exit")
    for row in rows:
        peak = f"{row['peak_gb']:.2f}" if row["peak_gb"] is not None else f">{args.cap_gb:g}"
        print(f"{row['raster']:<22} {row['file_kb']:>8} {row['grid_m']:>7g} {peak:>8} {row['wall_s']:>7} "
              f"{row['active_ha']!s:>10}  {row['exit']}")
    print(f"\npeak memory under {TARGET_GB:g} GB in every run: {'PASS' if passed else 'FAIL'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                                   "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                                   "target_gb": TARGET_GB, "pass": passed, "rows": rows}, indent=2))
    print(f"written: {RESULTS}")
    return 0 if passed else 1


def _raster(path: Path, side: int, where: tuple[tuple[float, ...], str] = (REGION, "EPSG:4326"), widen: int = 1
            ) -> Path:
    """A sparse raster of `side`² pixels over `where` (bounds, CRS) with the `BLOBS`, scaled to its side and
    their radii `widen` times larger (so that blobs of 1 m pixels are sites of 50-230 ha, not specks)."""
    from mrumonitor.raster.testing import write_sparse_raster

    scale = side / 60_000 * widen
    blobs = [(int(r * side), int(c * side), max(1, int(radius * scale)), value) for r, c, radius, value in BLOBS]
    return write_sparse_raster(path, side, *where, blobs)


def _koidu(side: int) -> tuple[tuple[float, ...], str]:
    """Bounds of `side` 1 m pixels centred on Koidu (Sierra Leone's diamond district) in UTM 29N."""
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32629", always_xy=True).transform(-10.97, 8.64)
    half = side / 2
    return (round(x - half), round(y - half), round(x + half), round(y + half)), "EPSG:32629"


def _config(folder: Path, raster: Path, resolution: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "mrumonitor.toml"
    config.write_text(f"""[paths]
work = "work"
store = "layers"
[raster]
resolution_m = {resolution}
[activity]
periods = [{{ name = "P1", start = 2025-01-01, end = 2025-06-30 }}]
[activity.inputs.model]
kind = "probability"
path = "{raster}"
scale = 100.0
""", encoding="utf-8")
    return config


def _measure(config: Path, cap_gb: float) -> dict:
    """Run the detect stage on `config` in a fresh process; its peak memory, wall time and active area."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--child", str(config)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    killed = False
    while child.poll() is None:
        if _resident(child.pid) > cap_gb * 1e9:
            child.kill()
            killed = True
        time.sleep(0.1)
    out, err = child.communicate()
    wall = round(time.perf_counter() - started, 1)
    report = json.loads(out.strip().splitlines()[-1]) if child.returncode == 0 else {}
    return {"peak_gb": report.get("peak_gb"), "wall_s": wall, "active_ha": report.get("active_ha"),
            "exit": "killed over the cap" if killed else child.returncode,
            "error": "" if child.returncode == 0 else err.strip().splitlines()[-1:]}


def _resident(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def _child(config: Path) -> int:
    """In the measured process: detect on `config`, then print peak memory and active area as JSON."""
    from memory import reset_peak, rss

    from mrumonitor.config import load_settings
    from mrumonitor.raster.run import detect

    settings = load_settings(config)
    reset_peak()
    result = detect(settings)
    active = round(float(result.sites.site_periods["area_ha"].sum()), 1)
    print(json.dumps({"peak_gb": round(rss("VmHWM") / 1e9, 3), "active_ha": active}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
