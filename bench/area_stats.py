#!/usr/bin/env python
"""How long the statistics of an area take as the area grows, against the floor of reading the run's layers.

    python bench/area_stats.py RUN_FOLDER [--repeat N] [--json PATH]

RUN_FOLDER is a published run (<store>/runs/<run_id>, e.g. the demo's mrumonitor-demo/layers/runs/<run_id>).
Squares of 10, 100, 1,000, 10,000 and 100,000 km² centred on the run's busiest site (the site with the largest
area in the last period) go through `areas.stats.area_statistics`, as the Area statistics page and `mrumonitor
stats` call it; each is timed N times (default 3) and the best kept. Beside them, the floor: reading the layers
the statistics read (sites, site_periods, site_registration, concessions and the reference layers) with nothing
else done. Printed and written to bench/results/area_stats.json (or --json): per size the km², the sites and
active hectares found in the last period, the seconds, and the seconds above the floor.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import geopandas as gpd
import shapely

from mrumonitor.areas.resolve import WatchedArea
from mrumonitor.areas.stats import area_statistics
from mrumonitor.crs import WGS84
from mrumonitor.manifest import RunManifest
from mrumonitor.runfolder import RunFolder

SIDES_KM2 = (10, 100, 1_000, 10_000, 100_000)
READ = ("sites", "site_periods", "site_registration", "concessions")


def best_of(repeat: int, work) -> tuple[float, object]:
    """The shortest of `repeat` timings of `work()`, and its last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def read_floor(folder: RunFolder) -> None:
    """Read what the statistics read, and nothing else."""
    for name in READ:
        gpd.read_parquet(folder.layer(name))
    for path in RunManifest.read(folder).reference.values():
        gpd.read_parquet(folder.path / path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a published run folder (<store>/runs/<run_id>)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "area_stats.json")
    args = parser.parse_args()
    folder = RunFolder(args.run)
    sites = gpd.read_parquet(folder.layer("sites"))
    centre = sites.loc[sites["area_ha"].idxmax()].geometry.centroid
    floor, _ = best_of(args.repeat, lambda: read_floor(folder))
    rows = []
    for km2 in SIDES_KM2:
        half = km2 ** 0.5 * 1000 / 2
        square = gpd.GeoSeries([centre.buffer(half, cap_style="square")], crs=sites.crs).to_crs(WGS84).iloc[0]
        area = WatchedArea("drawn", "drawn", f"{km2:,} km² square", shapely.normalize(square))
        seconds, stats = best_of(args.repeat, lambda area=area: area_statistics(args.run, area))
        last = stats.periods.iloc[-1]
        rows.append({"km2": km2, "sites_last_period": int(last["sites"]), "active_ha_last_period":
                     round(float(last["active_ha"]), 1), "seconds": round(seconds, 3),
                     "above_floor_s": round(seconds - floor, 3)})
    figures = {"run": str(args.run.resolve()), "sites_in_run": len(sites), "repeat": args.repeat,
               "floor_read_layers_s": round(floor, 3), "areas": rows}
    print(f"run {args.run.name}: {len(sites):,} sites; floor (reading the layers the statistics read): {floor:.3f} s")
    print(f"{'area km²':>10} {'sites':>7} {'active ha':>10} {'seconds':>8} {'above floor':>12}")
    for row in rows:
        print(f"{row['km2']:>10,} {row['sites_last_period']:>7,} {row['active_ha_last_period']:>10,.1f} "
              f"{row['seconds']:>8.3f} {row['above_floor_s']:>12.3f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(f"written: {args.json}")


if __name__ == "__main__":
    main()
