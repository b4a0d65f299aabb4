#!/usr/bin/env python
"""Dashboard benchmark at West-Africa scale: the demo run plus 500,000 SYNTHETIC sites, 50 users; callbacks, today's
GeoJSON site layer and the vector tiles side by side; the first page; the server's memory.

    python bench/bench_dashboard_scale.py [--quick] [--demo DIR] [--store DIR] [--users N] [--duration S]

The store, the server and the callback load are bench_dashboard.py's (imported): a layer store holding the demo
run and, as the latest run, the demo run plus N SYNTHETIC sites (`build_store`; kept in `--store DIR` and reused
when it holds as many), `mrumonitor serve` in a subprocess (gunicorn, one worker per core, the run loaded before
the workers fork), users in `--clients` processes, each repeating an action drawn from `--actions` (a filter, map
or page change and every callback it fires, 6 requests at a time as a browser) and a think time. Two phases of
load and the floor, each on a server of its own (started, warmed up with a few requests of each callback, then loaded):

1. `geojson` (today's map): the map of the page acted on gets its sites as GeoJSON from a Dash callback, as the
   map did before the vector tiles (`site_level.site_layer`, registered here as `<map>-geojson.data` with the
   inputs `maplayers.update_sites` had: the filters and the map's zoom, bounds and centre), for every filter
   change or map move on a page with a map.
2. `tiles` (the new map): the same actions, and instead of that callback the vector tiles of the view, as
   Leaflet loads them for a 1200 x 800 px map at its zoom and centre (`leaflet_tiles`, nearest the centre first),
   sites always, licences on the map page from `site_level.CONCESSION_ZOOM` for a share of the actions (users who
   switched them on); the address of each from `tiles_view.tile_url` with the action's period. A map move fetches
   the tiles of the new view; a filter change only where the tiles' address changed with it (a new period): the
   map applies the other filters to the tiles it holds (assets/map.js). Skipped, and said so, where the code has
   no tiles.
3. `floor` (the hardware limit): the requests of the `tiles` phase sent to a server that does no work: every
   callback returns at once leaving its outputs as they are, every tile is the same bytes (`answer_nothing`). What
   waitress, Flask and Dash cost alone on this machine: no code of ours can answer faster than this.

Figures: p50/p95/p99 per kind of request (callbacks, GeoJSON sites, tiles) and per callback; tiles per view; the
first page's bytes (bench_dashboard's headless Chromium); the server's memory sampled every `MEMORY_EVERY_S`:
the resident set (RSS) and the proportional set (PSS: a page shared by the gunicorn master and its workers counts
once, split between them) of all its processes summed, after the warm-up and at their peak during each phase; the
CPU the server's and the client's processes used (cores busy, of the machine's).
Targets (issue 21): p95 of callbacks and of tiles <= 250 ms with 50 users, first page <= 2 MB, server memory
<= 3 GB: the physical memory of its processes, PSS summed. RSS summed counts a page shared by several processes once
per process: with two workers, the run loaded before they fork (1.7 GB at 500,000 sites, never written to, so never
copied) would count three times, in memory the machine holds once. Prints a table and writes
bench/results/dashboard_scale.json. Client and server share the machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import resource
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import bench_dashboard as base
import numpy as np
import pandas as pd
import psutil
import requests
from demo_run import demo_workdir

from mrumonitor.config import load_settings
from mrumonitor.dashboard.components import filters_from
from mrumonitor.dashboard.filters import DEFAULT_COMMODITY
from mrumonitor.dashboard.site_level import CONCESSION_ZOOM
from mrumonitor.dashboard.site_tiles import TILE_PX, ZOOM_OFFSET
from mrumonitor.store.runs import read_manifest, resolve_run

RESULTS = Path(__file__).resolve().parent / "results" / "dashboard_scale.json"
FULL = {"synthetic": 500_000, "users": 50, "duration": 60.0}
QUICK = {"synthetic": 50_000, "users": 20, "duration": 15.0}
P95_TARGET_MS, FIRST_LOAD_TARGET_MB, MEMORY_TARGET_GB = 250.0, 2.0, 3.0
#: Seconds between two samples of the server's memory.
MEMORY_EVERY_S = 1.0
#: Share of the map page's actions whose user has switched the licences on (their tiles load from CONCESSION_ZOOM).
LICENCE_SHARE = 0.25
#: The callback this script registers for today's map, per map: `<map>-geojson.data`.
GEOJSON_OUTPUT = "{prefix}-geojson"
#: User actions drawn for the load (each sends its requests; users replay them at random). 50 users make about
#: 2,700 actions a minute, so most are made once or twice, as users exploring the map would: the server's caches
#: of answers and tiles hit where views and filters meet, not because the load repeats itself.
ACTIONS = 3_000
#: The filters the tiles' address holds (`tiles_view.tile_url`): a change of another filter fetches no tile.
TILE_ADDRESS_FILTERS = ("filter-period.value",)
#: The kinds of request the figures are given for.
KINDS = ("callbacks", "GeoJSON sites", "tiles")


# --- today's map path, registered in the server ---------------------------------------------------------

def register_geojson_sites() -> None:
    """Today's map path, for the comparison: per map, the site layer as GeoJSON from a Dash callback, as
    `maplayers.update_sites` drew it before the tiles, under an output of its own (`GEOJSON_OUTPUT`). Run in the
    server before it starts (`start_server`'s `setup`)."""
    import dash
    from dash import Input, Output

    from mrumonitor.dashboard import context
    from mrumonitor.dashboard.access import current_access
    from mrumonitor.dashboard.components import filter_inputs
    from mrumonitor.dashboard.maplayers import view_bounds
    from mrumonitor.dashboard.site_level import site_layer

    for prefix in base.MAP_PREFIXES:
        @dash.callback(Output(GEOJSON_OUTPUT.format(prefix=prefix), "data"), *filter_inputs(),
                       *(Input(f"{prefix}-map", name) for name in ("zoom", "bounds", "center")))
        def geojson_sites(country, period, commodity, classes, border, scope, zoom, bounds, center):
            data = context.run_data()
            filters = filters_from(data, country, period, commodity, classes, border)
            layer = site_layer(data, filters, current_access(), zoom, bounds or view_bounds(center, zoom))
            layer.pop("summary")
            return layer


def answer_nothing() -> None:
    """The `floor` phase's server: every callback leaves its outputs as they are (Dash answers 204) and every tile
    is the same `FLOOR_TILE_BYTES` bytes, so what is left is what waitress, Flask and Dash cost per request alone.
    Run in the server before it starts."""
    import flask
    from dash import _callback
    from dash.exceptions import PreventUpdate

    from mrumonitor.dashboard import tiles_view

    def no_work(func, *args, **kwargs):
        raise PreventUpdate

    body = bytes(FLOOR_TILE_BYTES)
    _callback._invoke_callback = no_work
    tiles_view._TileRoute.tile = lambda self, **address: flask.Response(body, mimetype=tiles_view.TILE_MEDIA_TYPE)


SERVER_SETUP = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
                "import bench_dashboard_scale; bench_dashboard_scale.register_geojson_sites(); ")
#: What the `floor` phase's server runs before it starts, after `SERVER_SETUP`.
FLOOR_SETUP = "bench_dashboard_scale.answer_nothing(); "
#: Bytes of every tile of the `floor` phase (about the mean of a gzip-compressed tile of the `tiles` phase).
FLOOR_TILE_BYTES = 1_500


# --- the tiles of a view --------------------------------------------------------------------------------

def leaflet_tiles(center: list[float], zoom: int, size: tuple[int, int] = base.MAP_PX) -> list[tuple[int, int, int]]:
    """The tiles (z, x, y) Leaflet's GridLayer loads for a map of `size` pixels centred on `center` ([lat, lon]) at
    `zoom`, tiles of `site_tiles.TILE_PX` pixels addressed `site_tiles.ZOOM_OFFSET` zooms below the map's: the tile
    range of the view's pixel bounds (`_pxBoundsToTileRange`), rows that exist, nearest the centre first (Leaflet's
    queue order)."""
    lat, lon = center
    zoom -= ZOOM_OFFSET
    world = TILE_PX * 2 ** zoom
    x = (lon + 180) / 360 * world
    sin = math.sin(math.radians(lat))
    y = (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * world
    (west, north), (east, south) = (x - size[0] / 2, y - size[1] / 2), (x + size[0] / 2, y + size[1] / 2)
    tiles = [(zoom, tx, ty) for tx in range(math.floor(west / TILE_PX), math.ceil(east / TILE_PX))
             for ty in range(math.floor(north / TILE_PX), math.ceil(south / TILE_PX)) if 0 <= ty < 2 ** zoom]
    return sorted(tiles, key=lambda t: math.hypot((t[1] + 0.5) * TILE_PX - x, (t[2] + 0.5) * TILE_PX - y))


def tile_requests(action: base.Action, run: SimpleNamespace, tile_url, rng: random.Random) -> list[str]:
    """The tiles the map of `action`'s page fetches after it: after a map move, those of the new view; after a
    filter change, those of the view if the tiles' address changed with it (`TILE_ADDRESS_FILTERS`: the map applies
    the other filters to the tiles it holds, assets/map.js); none on a page without a map, or where today's map
    fired no GeoJSON callback."""
    if not any(GEOJSON_OUTPUT.format(prefix=action.page) in body["output"] for body in action.bodies):
        return []
    if action.changed.startswith("filter-") and action.changed not in TILE_ADDRESS_FILTERS:
        return []
    values = action.values
    period = filters_from(run, "", values["filter-period.value"], None, [], [], None).period
    zoom, center = values[f"{action.page}-map.zoom"], values[f"{action.page}-map.center"]
    layers = ["sites"]
    if action.page == "mainmap" and zoom >= CONCESSION_ZOOM and rng.random() < LICENCE_SHARE:
        layers.append("concessions")
    tiles = leaflet_tiles(center, zoom)
    return [tile_url(run.run_id, layer, period).replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
            for layer in layers for z, x, y in tiles]


def tile_address_function():
    """`tiles_view.tile_url`, or None where the code has no vector tiles yet."""
    try:
        from mrumonitor.dashboard.tiles_view import tile_url
    except ImportError:
        return None
    return tile_url


# --- the server's memory --------------------------------------------------------------------------------

def tree_memory(pid: int) -> dict[int, tuple[int, int]]:
    """RSS and PSS (bytes) of process `pid` and of its children (Linux `smaps_rollup`)."""
    try:
        processes = [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        return {}
    figures = {}
    for number in processes:
        try:
            lines = Path(f"/proc/{number}/smaps_rollup").read_text().splitlines()[1:]
        except OSError:
            continue
        fields = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in lines}
        figures[number] = (fields["Rss"], fields["Pss"])
    return figures


def tree_cpu(pid: int) -> float:
    """CPU seconds (user and system) process `pid` and its children have used so far."""
    processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return sum(sum(process.cpu_times()[:2]) for process in processes)


def children_cpu() -> float:
    """CPU seconds the finished child processes of this one have used (the load's client processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class MemorySampler(threading.Thread):
    """Samples the memory of a server's processes every `MEMORY_EVERY_S` in the background, each sample tagged
    with the phase set in `phase`."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.phase, self.samples = pid, "start", []
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(MEMORY_EVERY_S):
            figures = tree_memory(self.pid)
            if figures:
                self.samples.append((self.phase, len(figures), sum(rss for rss, _ in figures.values()),
                                     sum(pss for _, pss in figures.values())))

    def stop(self) -> None:
        self._done.set()
        self.join()

    def of(self, phase: str) -> dict:
        """Peak RSS and PSS (GB, all processes summed) of the samples of `phase`, and the last ones."""
        rows = [sample for sample in self.samples if sample[0] == phase]
        if not rows:
            return {}
        return {"processes": rows[-1][1], "samples": len(rows), "peak_rss_gb": max(r[2] for r in rows) / 1e9,
                "peak_pss_gb": max(r[3] for r in rows) / 1e9, "last_rss_gb": rows[-1][2] / 1e9,
                "last_pss_gb": rows[-1][3] / 1e9}


# --- figures --------------------------------------------------------------------------------------------

def kind(request_label: str) -> str:
    """Which of `KINDS` a request (its `label`) is."""
    if request_label.startswith("/tiles/"):
        return "tiles"
    return "GeoJSON sites" if "-geojson." in request_label else "callbacks"


def by_kind(samples: list[tuple], seconds: float) -> dict:
    groups = {name: [s for s in samples if kind(s[3]) == name] for name in KINDS}
    return {name: base.summary(rows, seconds) for name, rows in groups.items() if rows}


def per_request(samples: list[tuple]) -> dict:
    """`per_callback` figures, the tiles grouped by layer and zoom ("/tiles/sites/z12")."""
    def grouped(request_label: str) -> str:
        if kind(request_label) != "tiles":
            return request_label
        _, _, _, layer, z, *_ = request_label.split("/")
        return f"/tiles/{layer}/z{z}"

    return base.per_callback([(*sample[:3], grouped(sample[3])) for sample in samples])


def ensure_store(demo: Path, store: Path, synthetic: int, seed: int) -> tuple[Path, float]:
    """The config of a store with `synthetic` synthetic sites under `store`: the one there when its latest run
    has as many, else built afresh (`build_store`); and the seconds building took (0 when reused)."""
    config = store / "store" / "mrumonitor.toml"
    if config.exists():
        caveats = read_manifest(resolve_run(store / "store" / "layers")).get("caveats", [])
        if any(f"BENCHMARK RUN: {synthetic:,} SYNTHETIC" in caveat for caveat in caveats):
            return config, 0.0
        raise SystemExit(f"{store} holds a store of another size: give an empty folder, or this size's.")
    started = time.perf_counter()
    config, _, _ = base.build_store(demo, store / "store", synthetic, seed)
    return config, time.perf_counter() - started


def run_stub(settings) -> SimpleNamespace:
    """What `filters_from` reads of a run (its id, periods, default commodity), from the manifest and sites: the
    benchmark does not load the run itself."""
    run_dir = resolve_run(settings.paths.store)
    periods = [period["name"] for period in read_manifest(run_dir)["periods"]]
    commodities = set(pd.read_parquet(run_dir / "sites.parquet", columns=["commodity"])["commodity"].astype(str))
    return SimpleNamespace(run_id=run_dir.name, periods=periods, last_period=periods[-1],
                           default_commodity=DEFAULT_COMMODITY if DEFAULT_COMMODITY in commodities else None)


def phase_actions(actions: list[base.Action], tiles: dict[int, list[str]], phase: str) -> list[list[dict | str]]:
    """What each action sends in `phase`: its callbacks, with the GeoJSON site layer (`geojson`) or the tiles of
    the view instead (`tiles`, and `floor`: the same requests); today's own site callbacks (`-sites.data`, where the
    code still has them) never, as the GeoJSON callback registered here does their work."""
    requests_ = []
    for number, action in enumerate(actions):
        bodies = [body for body in action.bodies if "-sites.data" not in body["output"]
                  and (phase == "geojson" or "-geojson." not in body["output"])]
        requests_.append(bodies + (tiles[number] if phase != "geojson" else []))
    return requests_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50,000 synthetic sites, 20 users, 15 s per phase")
    parser.add_argument("--demo", type=Path, help="a demo workdir built before (default: build one, ~1 min)")
    parser.add_argument("--store", type=Path, help="keep the built store in this folder, or reuse the one there")
    parser.add_argument("--synthetic", type=int)
    parser.add_argument("--users", type=int)
    parser.add_argument("--duration", type=float, help="seconds of load per phase")
    parser.add_argument("--phases", nargs="+", default=["geojson", "tiles", "floor"],
                        choices=["geojson", "tiles", "floor"])
    parser.add_argument("--actions", type=int, default=ACTIONS, help="user actions drawn, then replayed at random")
    parser.add_argument("--threads", type=int, default=8, help="threads per server process (serve --threads)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(),
                        help="server processes (serve --workers; 1: waitress), default: one per core")
    parser.add_argument("--clients", type=int, default=4, help="client processes the users are spread over")
    parser.add_argument("--think", type=float, nargs=2, default=(0.5, 1.5), metavar=("MIN", "MAX"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    size = {**(QUICK if args.quick else FULL),
            **{k: v for k, v in vars(args).items() if k in FULL and v is not None}}
    tile_url = tile_address_function()
    phases = [phase for phase in args.phases if phase == "geojson" or tile_url]
    if tile_url is None:
        print("no vector tiles in this code (mrumonitor.dashboard.tiles_view): the tiles phase is skipped")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-scale-") as tmp:
        demo = demo_workdir(args.demo, Path(tmp))
        config, build_s = ensure_store(demo, args.store or Path(tmp), size["synthetic"], args.seed)
        settings = load_settings(config)
        run = run_stub(settings)
        print(f"store: run {run.run_id} with {size['synthetic']:,} synthetic sites "
              f"({f'built in {build_s:.0f} s' if build_s else 'reused'})", flush=True)
        workload, results = {}, {}
        for phase in phases:
            results[phase] = run_phase(config, args, phase, size, workload, lambda url: plan(
                url, settings, run, tile_url, rng, args.actions))
            print(f"phase {phase}: {results[phase]['requests']} requests, server up in "
                  f"{results[phase]['server_start_s']:.0f} s, warm-up {results[phase]['warm_up_s']:.0f} s", flush=True)
    report(size, workload, results, args, build_s)


def plan(url: str, settings, run: SimpleNamespace, tile_url, rng: random.Random, draws: int) -> dict:
    """The load's actions (`base.user_actions`), the tiles of each, the first page's figures, from the server at
    `url`."""
    requests.get(url + "/", timeout=300)
    actions = base.user_actions(url, settings, rng, draws)
    tiles = {number: tile_requests(action, run, tile_url, rng) if tile_url else []
             for number, action in enumerate(actions)}
    page = base.first_load(url)
    print(f"{len(actions)} actions; first page load: {page['total_bytes'] / 1e6:.2f} MB", flush=True)
    return {"actions": actions, "tiles": tiles, "page": page}


def run_phase(config: Path, args, phase: str, size: dict, workload: dict, planned) -> dict:
    """One phase of load on a server of its own (no answer or tile kept from another phase): start it, plan the
    workload with the first server (`planned(url)`, kept in `workload`), warm it up with a few requests of each
    callback and 50 tiles, load it, sample its memory throughout."""
    started = time.perf_counter()
    server, url = base.start_server(config, cached=True, threads=args.threads, workers=args.workers,
                                    setup=SERVER_SETUP + (FLOOR_SETUP if phase == "floor" else ""))
    start_s = time.perf_counter() - started
    memory = MemorySampler(server.pid)
    memory.start()
    try:
        if not workload:
            workload.update(planned(url))
        requests_ = phase_actions(workload["actions"], workload["tiles"], phase)
        memory.phase, started = "warm-up", time.perf_counter()
        callbacks = {json.dumps(r, sort_keys=True): r for action in requests_ for r in action if isinstance(r, dict)}
        with requests.Session() as session:
            for request in [*base.warm_up_requests(callbacks.values()),
                            *[r for action in requests_ for r in action if isinstance(r, str)][:50]]:
                base.post(session, url, request)
        warm_up_s = time.perf_counter() - started
        memory.phase = phase
        started, server_cpu, client_cpu = time.perf_counter(), tree_cpu(server.pid), children_cpu()
        samples = base.load(url, requests_, size["users"], size["duration"], args.seed, args.clients,
                            tuple(args.think))
        seconds = time.perf_counter() - started
        cpu = {"server": (tree_cpu(server.pid) - server_cpu) / seconds,
               "client": (children_cpu() - client_cpu) / seconds}
    finally:
        base.stop(server)
        memory.stop()
    return {"requests": len(samples), "server_start_s": start_s, "warm_up_s": warm_up_s,
            "by_kind": by_kind(samples, seconds), "per_request": per_request(samples),
            "memory_after_warm_up": memory.of("warm-up"), "memory": memory.of(phase), "cpu_cores_busy": cpu}


def report(size: dict, workload: dict, results: dict, args, build_s: float) -> None:
    """Print the figures and the targets, and write them to `args.out`."""
    page, views = workload["page"], [len(t) for t in workload["tiles"].values() if t]
    print(f"\n{'phase':9} {'kind':14} {'requests':>9} {'ok':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>7} {'req/s':>6} {'mean kB':>8}")
    for phase, figures in results.items():
        for name, row in figures["by_kind"].items():
            print(f"{phase:9} {name:14} {row['requests']:>9} {row['ok']:>7} {row['p50_ms']:>7.0f} "
                  f"{row['p95_ms']:>7.0f} {row['p99_ms']:>7.0f} {row['max_ms']:>7.0f} {row['requests_per_s']:>6.1f} "
                  f"{row['mean_kb']:>8.1f}")
    print("\nserver memory (all processes summed), GB: " + "; ".join(
        f"{phase}: after the warm-up RSS {f['memory_after_warm_up'].get('last_rss_gb', 0):.2f} / PSS "
        f"{f['memory_after_warm_up'].get('last_pss_gb', 0):.2f}, peak during the load RSS "
        f"{f['memory']['peak_rss_gb']:.2f} "
        f"/ PSS {f['memory']['peak_pss_gb']:.2f}" for phase, f in results.items()))
    print("CPU cores busy (of the machine's): " + "; ".join(
        f"{phase}: server {f['cpu_cores_busy']['server']:.2f}, client {f['cpu_cores_busy']['client']:.2f}"
        for phase, f in results.items()))
    if views:
        print(f"tiles per view: mean {np.mean(views):.1f}, min {min(views)}, max {max(views)}")
    print("\nper request, slowest p95 first:")
    for phase, figures in results.items():
        rows = sorted(figures["per_request"].items(), key=lambda item: -item[1]["p95_ms"])
        for name, row in rows[:8]:
            print(f"  {phase:8} {name[:64]:64} n={row['requests']:>6} p50={row['p50_ms']:>5.0f} "
                  f"p95={row['p95_ms']:>5.0f} ms {row['mean_kb']:>7.1f} kB")
    checks = {"first page <= 2 MB": page["total_bytes"] / 1e6 <= FIRST_LOAD_TARGET_MB}
    for phase, figures in results.items():
        if phase == "floor":  # no target: what the server would do with no work of ours
            continue
        for name in ("callbacks", "tiles"):
            if name in figures["by_kind"]:
                checks[f"{phase}: {name} p95 <= 250 ms"] = figures["by_kind"][name]["p95_ms"] <= P95_TARGET_MS
        checks[f"{phase}: memory (PSS summed) <= 3 GB"] = figures["memory"]["peak_pss_gb"] <= MEMORY_TARGET_GB
    print(f"\nfirst page {page['total_bytes'] / 1e6:.2f} MB; " + "; ".join(
        f"{check}: {'PASS' if ok else 'FAIL'}" for check, ok in checks.items()))
    result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_average": os.getloadavg()},
              "size": size, "server_workers": args.workers, "server_threads": args.threads,
              "client_processes": args.clients, "think_s": list(args.think), "actions": len(workload["actions"]),
              "store_build_s": build_s, "first_page_load": page,
              "tiles_per_view": ({"mean": float(np.mean(views)), "min": min(views), "max": max(views)}
                                 if views else None),
              "phases": results, "checks": checks}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
