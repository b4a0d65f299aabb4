#!/usr/bin/env python
"""Incremental update benchmark: the cost of adding one period to a history of 3 and of 12 periods.

    python bench/bench_incremental.py [--resolution M] [--histories 3 12] [--keep DIR]

For each history length H it builds its own inputs (the demo's 5,026 REAL Earth Index detection positions,
CC BY 4.0, with SYNTHETIC areas growing period by period; one detections CSV per half-year period) and the
demo's four synthetic cadastres, publishes a run of H periods, then times in ONE run:

(a) incremental: the scheduled update — the configuration gains period H+1 and `run_pipeline` publishes a
    new run, re-using the H published periods (`pipeline.incremental`);
(b) full recompute: the same H+1 periods published into an empty store (what every update cost before);
(c) incremental, limited to Sierra Leone: update (a) run as `--countries SLE` on a copy of the published
    history — period H+1 computed over the blocks of the regional grid touching Sierra Leone only, the other
    countries' cadastres and pixels kept from the published run (`pipeline.scope`).

For each it reports the wall time, the seconds per stage from the manifest, the periods processed, and what
was read: the cadastre sources and detection files opened (recorded at the readers), the input bytes hashed
and the blocks of the regional grid computed. The activity layers and sites of (a) and (b) are compared
(exit 1 when they differ). Prints a table and writes bench/results/incremental.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio

from mrumonitor.config import load_settings
from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.demo.inputs import write_demo_inputs
from mrumonitor.ingest import run as ingest_run
from mrumonitor.pipeline import run_pipeline
from mrumonitor.raster import footprints
from mrumonitor.resources import project_root
from mrumonitor.store import checksum

DETECTIONS = project_root() / "src" / "mrumonitor" / "demo" / "data" / "mining_detections_mru.csv"
RESULTS = Path(__file__).parent / "results" / "incremental.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=float, default=250.0, help="regional grid resolution, metres")
    parser.add_argument("--histories", type=int, nargs="+", default=[3, 12])
    parser.add_argument("--keep", type=Path, default=None, help="keep inputs and stores in this folder")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    recorder = _Recorder()
    rows, same = [], True
    try:
        for history in args.histories:
            folder = work / f"h{history}"
            _write_inputs(folder, history + 1, args.resolution)
            _config(folder, history, "store_inc")
            run_pipeline(load_settings(folder / "store_inc.toml"))  # the published history
            shutil.copytree(folder / "store_inc", folder / "store_sle")
            for mode, store, countries in (("incremental", "store_inc", None), ("full recompute", "store_full", None),
                                           ("incremental, SLE only", "store_sle", ["SLE"])):
                config = _config(folder, history + 1, store)
                with recorder:
                    started = time.perf_counter()
                    published = run_pipeline(load_settings(config), countries=countries)
                    wall = time.perf_counter() - started
                blocks = published.manifest.scope.get("blocks")
                rows.append({"history": history, "mode": mode, "wall_s": round(wall, 2),
                             **{f"{k}_s": v for k, v in published.manifest.timings_s.items()},
                             "processed": len(published.manifest.detect["processed"]),
                             "cadastres_read": len(recorder.sources),
                             "detection_files_read": len(recorder.opened),
                             "input_mb_hashed": round(recorder.hashed_bytes / 1e6, 2),
                             "blocks_computed": f"{blocks['computed']}/{blocks['total']}" if blocks else "all",
                             "run": str(published.path)})
            same &= _identical(Path(rows[-3]["run"]), Path(rows[-2]["run"]), history + 1)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    table = pd.DataFrame(rows).drop(columns="run")
    print(table.to_string(index=False))
    inc = table[table["mode"] == "incremental"].set_index("history")["wall_s"]
    sle = table[table["mode"] == "incremental, SLE only"].set_index("history")["wall_s"]
    print(f"\nadding one period: {' vs '.join(f'{inc[h]:.1f} s at {h} periods' for h in inc.index)} "
          f"({' and '.join(f'{sle[h]:.1f} s' for h in sle.index)} limited to Sierra Leone); "
          f"incremental and full recompute give identical layers: {same}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                                   "machine": {"python": platform.python_version(), "cpus": _cpus()},
                                   "resolution_m": args.resolution, "identical": bool(same),
                                   "credit": DETECTIONS_CREDIT, "rows": table.to_dict("records")}, indent=2))
    print(f"written: {RESULTS}")
    return 0 if same else 1


class _Recorder:
    """Counts the cadastre sources and detection files opened and the bytes hashed while active."""

    def __enter__(self):
        self.opened, self.sources, self.hashed_bytes = [], [], 0
        self._open, self._hash, self._source = footprints.open_vector, checksum.sha256_file, ingest_run.open_source

        def opening(path, *a, **k):
            self.opened.append(str(path))
            return self._open(path, *a, **k)

        def opening_source(name, *a, **k):
            self.sources.append(name)
            return self._source(name, *a, **k)

        def hashing(path):
            self.hashed_bytes += Path(path).stat().st_size
            return self._hash(path)

        footprints.open_vector, checksum.sha256_file, ingest_run.open_source = opening, hashing, opening_source
        return self

    def __exit__(self, *exc):
        footprints.open_vector, checksum.sha256_file, ingest_run.open_source = self._open, self._hash, self._source


def _write_inputs(folder: Path, periods: int, resolution: float) -> None:
    """Detections of every period (final areas real, earlier ones SYNTHETIC growth) and the demo cadastres."""
    folder.mkdir(parents=True, exist_ok=True)
    detections = pd.read_csv(DETECTIONS)
    rng = np.random.default_rng(7)
    start = rng.integers(0, periods, len(detections))  # the period each site appears in
    for k in range(periods):
        seen = detections[start <= k].copy()
        seen["area_ha"] = (seen["area_ha"] * (k + 1 - start[start <= k]) / (periods - start[start <= k])).round(2)
        seen.to_csv(folder / f"detections_{_name(k)}.csv", index=False)
    cadastres = write_demo_inputs(folder, seed=2026).cadastres  # the demo's SYNTHETIC cadastres
    (folder / "sources.toml").write_text("".join(f'[sources.{name}]\nfile = "{Path(path).resolve()}"\n'
                                                 for name, path in cadastres.items()) +
                                         f"[raster]\nresolution_m = {resolution}\n")


def _config(folder: Path, periods: int, store: str) -> Path:
    names = ", ".join(f'{{ name = "{_name(k)}", start = {_start(k)}, end = {_end(k)} }}' for k in range(periods))
    path = folder / f"{store}.toml"
    path.write_text(f'[paths]\nstore = "{store}"\nwork = "work"\n' + (folder / "sources.toml").read_text() +
                    f'[activity]\nperiods = [{names}]\n[activity.inputs.survey]\nkind = "detections"\n'
                    'path = "detections_{period}.csv"\nx = "lon"\ny = "lat"\narea_ha = "area_ha"\ncrs = "EPSG:4326"\n')
    return path


def _name(k: int) -> str:
    return f"{2015 + k // 2}H{k % 2 + 1}"


def _start(k: int) -> str:
    return f"{2015 + k // 2}-{'01' if k % 2 == 0 else '07'}-01"


def _end(k: int) -> str:
    return f"{2015 + k // 2}-{'06-30' if k % 2 == 0 else '12-31'}"


def _identical(a: Path, b: Path, periods: int) -> bool:
    for k in range(periods):
        with rasterio.open(a / f"activity_{_name(k)}.tif") as x, rasterio.open(b / f"activity_{_name(k)}.tif") as y:
            if not np.array_equal(x.read(), y.read()):
                return False
    return pd.read_parquet(a / "sites.parquet").equals(pd.read_parquet(b / "sites.parquet"))


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
