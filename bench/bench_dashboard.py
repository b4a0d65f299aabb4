#!/usr/bin/env python
"""Dashboard benchmark: first page weight and callback latency under 50 concurrent users, on the real server.

    python bench/bench_dashboard.py [--quick] [--demo DIR] [--users N] [--duration S] [--synthetic N]

It builds a layer store holding the demo run and, as the latest run, the demo run plus 50,000 SYNTHETIC sites
(copies of real demo sites moved by up to 15 km, ids SYNTH-000000..., said so in the run's caveats), then
starts `mrumonitor serve` (production mode, auth off as in the demo; its log goes to `server.log` in the
store's folder) in a subprocess on localhost:

1. first page load: headless Chromium (Debian's) opens `/` and waits until the page is idle; the bytes on
   the wire of every response (HTML, JS/CSS bundles, layout, dependencies, initial callbacks, images) are
   summed from Chrome's network log. Target: under 2 MB.
2. callback latency: the callbacks are read from `/_dash-dependencies`; each "interaction" a user makes is a
   filter change (country, period, commodity, registration, border, border scope), a map move (region, country
   or site zoom) or a page change, and sends every server callback of the page taking that input at once, as the
   Dash renderer does, with values from the run (its periods, the four countries, viewports of a 1200 x 800 px map
   around its sites).
   N users (default 50) each repeat: interaction, think 0.5-1.5 s (`--think MIN MAX`), for the duration.
   Latency is per callback request, client side; a request whose kept-alive connection the server had
   closed is sent again on a new one, as a browser does, and its time counts from the first try. Target:
   p95 <= 250 ms.
   Until issue 21 the workload sent no border scope, so no callback taking the six filters fired, and posted the
   clientside callbacks too. The workload is harder than the first version of this script, on purpose: (a) map
   views are drawn afresh for each interaction (zoom 7-14 around a random site, as after panning; the first
   version sent 19 fixed views, and no map-layer callback at all, as it left out the maps' `center` input), so
   answers kept by the server rarely match a map request; (b) the warm-up sends a few requests of each callback,
   not every request of the load, so per-filter answers are computed during the load. The users run in `--clients`
   processes (threads of one process would time each other behind one GIL), and the server runs
   `--workers` processes (default: one per core; gunicorn, the run loaded once before forking).
3. baseline, same run: the same server with the dashboard's run cache disabled
   (`mrumonitor.dashboard.run.CACHED_RUNS = 0`: every callback reads the run's parquet files and
   rebuilds its per-view tables), one user replaying a sample of the same callback requests in turn.

Prints a table and writes bench/results/dashboard.json. The client runs on the same machine as the server.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import requests
import shapely
from demo_run import demo_workdir

from mrumonitor.config import load_settings
from mrumonitor.layerio import write_geoparquet
from mrumonitor.store.checksum import sha256_file
from mrumonitor.store.runs import new_run_id, read_manifest, resolve_run

RESULTS = Path(__file__).resolve().parent / "results" / "dashboard.json"
FULL = {"synthetic": 50_000, "users": 50, "duration": 60.0, "baseline_requests": 12}
QUICK = {"synthetic": 5_000, "users": 10, "duration": 15.0, "baseline_requests": 4}
FIRST_LOAD_TARGET_MB, P95_TARGET_MS = 2.0, 250.0
#: Largest move of a synthetic copy of a demo site, metres.
SHIFT_M = 15_000.0
#: A callback request not answered within this many seconds counts as a timeout.
TIMEOUT_S = 30.0
#: Longest wait for the server to answer, seconds (it loads the run before it listens: ~90 s at 500,000 sites).
SERVER_START_S = 600
#: The layers holding one row per site or site and period (the synthetic sites are added to each).
SITE_LAYERS = ("sites", "site_periods", "site_registration")
COUNTRIES = ("", "SLE", "GIN", "LBR", "CIV")
PAGES = ("/", "/map", "/unregistered", "/border", "/downloads", "/runs")
REGION_VIEW = {"zoom": 6, "bounds": [[4.3, -15.2], [12.7, -2.4]], "center": [8.5, -8.8]}
#: The pages' maps (prefixes of their component ids), and the size of a map in the browser (pixels, as
#: `maplayers.view_bounds` assumes).
MAP_PREFIXES = ("overview", "mainmap", "unreg")
MAP_PX = (1200, 800)


# --- the store ------------------------------------------------------------------------------------------

def build_store(demo: Path, workdir: Path, synthetic: int, seed: int) -> tuple[Path, str, str]:
    """A copy of the demo's config and run under `workdir`, plus a run with `synthetic` more sites (latest)."""
    workdir.mkdir(parents=True)
    (workdir / "inputs").symlink_to((demo / "inputs").resolve())
    shutil.copy(demo / "mrumonitor.toml", workdir / "mrumonitor.toml")
    demo_run = resolve_run(demo / "layers")
    runs = workdir / "layers" / "runs"
    runs.mkdir(parents=True)
    shutil.copytree(demo_run, runs / demo_run.name)
    run_id = new_run_id()
    run_dir = runs / run_id
    shutil.copytree(demo_run, run_dir)
    manifest = read_manifest(run_dir)
    sites = gpd.read_parquet(run_dir / "sites.parquet")
    rng = np.random.default_rng(seed)
    template = rng.integers(0, len(sites), synthetic)
    shift = rng.uniform(-SHIFT_M, SHIFT_M, size=(synthetic, 2))
    copies = {"site_id": sites["site_id"].to_numpy()[template], "new_id": [f"SYNTH-{i:06d}" for i in range(synthetic)]}
    for layer in SITE_LAYERS:
        path = run_dir / manifest["layers"][layer]["path"]
        frame = gpd.read_parquet(path).drop(columns=["bbox"], errors="ignore")
        extra = frame.merge(gpd.pd.DataFrame({**copies, "dx": shift[:, 0], "dy": shift[:, 1]}), on="site_id")
        extra = extra.assign(site_id=extra.pop("new_id"))
        geoms = np.asarray(extra.geometry)
        coords = shapely.get_coordinates(geoms)
        coords += np.repeat(extra[["dx", "dy"]].to_numpy(), shapely.get_num_coordinates(geoms), axis=0)
        extra = extra.drop(columns=["dx", "dy"]).set_geometry(shapely.set_coordinates(geoms.copy(), coords),
                                                               crs=frame.crs)
        merged = gpd.GeoDataFrame(gpd.pd.concat([frame, extra], ignore_index=True), crs=frame.crs)
        write_geoparquet(merged, path)
        manifest["layers"][layer].update(count=len(merged), bytes=path.stat().st_size, sha256=sha256_file(path))
    manifest.update(run_id=run_id, previous_run=demo_run.name)
    note = (f"BENCHMARK RUN: {synthetic:,} SYNTHETIC sites (ids SYNTH-...) added by bench/bench_dashboard.py, "
            f"copies of demo sites moved by up to {SHIFT_M / 1000:.0f} km; they keep the country of the site they copy.")
    manifest["caveats"] = [*manifest.get("caveats", []), note]
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    (runs / "LATEST").write_text(run_id, encoding="utf-8")
    return workdir / "mrumonitor.toml", demo_run.name, run_id


# --- the server -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(config: Path, cached: bool, threads: int, workers: int,
                 setup: str = "") -> tuple[subprocess.Popen, str]:
    """`mrumonitor serve` (waitress; gunicorn with `workers` > 1) in a subprocess; without `cached`, the run
    cache disabled; `setup`: Python statements the server runs before it starts (each ending with "; ").
    Its output goes to `server.log` beside the config: a pipe nobody reads would fill up (64 kB) with the
    server's log lines and then block the server in the middle of the load."""
    port = free_port()
    patch = setup + ("" if cached else "import mrumonitor.dashboard.run as d; d.CACHED_RUNS = 0; ")
    command = [sys.executable, "-c", f"{patch}from mrumonitor.cli import main; main()", "serve", "--config",
               str(config), "--port", str(port), "--threads", str(threads), "--workers", str(workers)]
    log = config.parent / "server.log"
    with log.open("a") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/_dash-dependencies", timeout=5).ok:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


# --- first page load, in headless Chromium --------------------------------------------------------------

def first_load(url: str) -> dict:
    """Bytes on the wire for opening `url` in Chromium until the network is idle, by kind of response."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options)
    try:
        start = time.monotonic()
        driver.get(url + "/")
        events, quiet_since = [], time.monotonic()
        while time.monotonic() - quiet_since < 2.0 and time.monotonic() - start < 60:
            batch = driver.get_log("performance")
            if batch:
                events += batch
                quiet_since = time.monotonic()
            time.sleep(0.2)
        seconds = quiet_since - start
    finally:
        driver.quit()
    urls, kinds = {}, {}
    for event in events:
        message = json.loads(event["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.responseReceived":
            urls[params["requestId"]] = (params["response"]["url"], params["response"].get("mimeType", ""))
        elif message["method"] == "Network.loadingFinished" and params["requestId"] in urls:
            kind = _kind(*urls[params["requestId"]])
            kinds.setdefault(kind, [0, 0])
            kinds[kind][0] += 1
            kinds[kind][1] += int(params["encodedDataLength"])
    total = sum(size for _, size in kinds.values())
    return {"total_bytes": total, "seconds_to_idle": round(seconds, 2),
            "by_kind": {kind: {"requests": n, "bytes": size} for kind, (n, size) in sorted(kinds.items())}}


def _kind(url: str, mime: str) -> str:
    if "_dash-update-component" in url:
        return "callbacks"
    if "_dash-layout" in url or "_dash-dependencies" in url:
        return "layout+dependencies"
    if "/reference/" in url:
        return "map layers"
    if "/overlay/" in url or mime.startswith("image/"):
        return "images"
    if mime in ("text/css",):
        return "css"
    if "javascript" in mime:
        return "javascript"
    return "html+other"


# --- callback requests ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    """One user action: the filter bar's and maps' values after it, the input it changed, the page (the prefix of
    the callbacks' outputs) it was made on, and the callback requests (bodies) it sends at once."""

    values: dict
    changed: str
    page: str
    bodies: list[dict]


def user_actions(url: str, settings, rng: random.Random, draws: int = 400) -> list[Action]:
    """Every action the load replays: of `draws` drawn, those that send at least one callback request."""
    dependencies = requests.get(url + "/_dash-dependencies", timeout=30).json()
    manifest = read_manifest(resolve_run(settings.paths.store))
    periods = [period["name"] for period in manifest["periods"]]
    sites = gpd.read_parquet(resolve_run(settings.paths.store) / "sites.parquet", columns=["geometry"])
    points = sites.geometry.representative_point().to_crs(4326)
    lon, lat = points.x.to_numpy(), points.y.to_numpy()
    runs = [p.name for p in (settings.paths.store / "runs").iterdir() if p.is_dir()]
    actions = []
    for _ in range(draws):
        values = {"filter-country.value": rng.choice(COUNTRIES), "filter-period.value": rng.choice(periods),
                  "filter-commodity.value": rng.choice(["", "", "diamond", "gold"]),
                  "filter-registration.value": rng.choice([[], [], ["no_licence"], ["no_licence", "expired_licence"]]),
                  "filter-border-only.value": rng.choice([[], [], ["border"]]),
                  "filter-scope.value": rng.choice(["mru", "mru", "external"]),
                  "downloads-run.value": rng.choice(runs), "downloads-country.value": rng.choice(COUNTRIES),
                  "_pages_location.pathname": rng.choice(PAGES), "_pages_location.search": ""}
        view = REGION_VIEW if rng.random() < 0.15 else _view(rng, lon, lat)
        for prefix in MAP_PREFIXES:
            values[f"{prefix}-map.zoom"], values[f"{prefix}-map.bounds"] = view["zoom"], view["bounds"]
            values[f"{prefix}-map.center"] = view["center"]
        values.update({"unreg-table.page_current": rng.choice([0, 0, 1, 2]), "unreg-table.page_size": 20,
                       "unreg-table.sort_by": rng.choice([[], [{"column_id": "risk_score", "direction": "desc"}]]),
                       "unreg-table.filter_query": ""})
        changed = rng.choice(["filter-country.value", "filter-period.value", "filter-commodity.value",
                              "filter-registration.value", "filter-border-only.value", "filter-scope.value", "map",
                              "map", "_pages_location.pathname", "downloads-country.value"])
        page = rng.choice(["overview", "mainmap", "unreg", "border", "downloads"])
        bodies = [_body(dep, values) for dep in dependencies if _fires(dep, changed, page, values)]
        if bodies:
            actions.append(Action(values, changed, page, bodies))
    return actions


def interactions(url: str, settings, rng: random.Random) -> list[list[dict]]:
    """Every interaction the load replays: the callback requests (bodies) one user action sends at once."""
    return [action.bodies for action in user_actions(url, settings, rng)]


def _view(rng: random.Random, lon: np.ndarray, lat: np.ndarray) -> dict:
    """A map view as a user leaves it after panning: a zoom of 7-14 and a centre near a random site (so two
    interactions almost never ask for the same bounds), the bounds of a `MAP_PX` map there."""
    zoom, site = rng.choice((7, 8, 8, 9, 10, 10, 11, 12, 12, 13, 13, 14)), rng.randrange(len(lon))
    degrees_per_px = 360 / 2 ** zoom / 256
    x = lon[site] + rng.uniform(-0.25, 0.25) * MAP_PX[0] * degrees_per_px
    y = lat[site] + rng.uniform(-0.125, 0.125) * MAP_PX[0] * degrees_per_px
    half_x, half_y = MAP_PX[0] / 2 * degrees_per_px, MAP_PX[1] / 2 * degrees_per_px
    return {"zoom": zoom, "bounds": [[y - half_y, x - half_x], [y + half_y, x + half_x]], "center": [y, x]}


def _fires(dep: dict, changed: str, page: str, values: dict) -> bool:
    """Whether callback `dep` runs on the server when `changed` changes on `page` (all its inputs known, not a
    click; a clientside callback runs in the browser)."""
    names = [f"{item['id']}.{item['property']}" for item in dep["inputs"]]
    if dep.get("clientside_function") or not names or any(name not in values for name in names):
        return False
    if changed == "_pages_location.pathname":
        return "_pages_location.pathname" in names
    if not dep["output"].lstrip(".").startswith(page):
        return False
    return any(name == changed or (changed == "map" and name.endswith((".zoom", ".bounds"))) for name in names)


def _body(dep: dict, values: dict) -> dict:
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in dep["output"].strip(".").split("...")]
    given = [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in dep["inputs"]]
    state = [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in dep["state"]]
    return {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
            "inputs": given, "state": state, "changedPropIds": [f"{i['id']}.{i['property']}" for i in dep["inputs"]]}


def warm_up_requests(bodies, per_callback: int = 4) -> list[dict]:
    """A few requests of each callback (so each server process has imported and run every callback once):
    not every request of the load, which would leave nothing for the load to compute."""
    seen = collections.Counter()
    chosen = []
    for body in bodies:
        seen[body["output"]] += 1
        if seen[body["output"]] <= per_callback:
            chosen.append(body)
    return chosen


def post(session: requests.Session, url: str, request: dict | str) -> tuple[float, int | str, int]:
    """Latency (ms), status and response bytes of one request: a callback request (a body, POSTed) or a path to
    GET (a tile). As a browser does, a request whose kept-alive connection the server closed in the meantime is
    sent once more on a new one (the time of both counts); a timeout counts as a failed request of `TIMEOUT_S`,
    a refused or broken connection as "error"."""
    start = time.perf_counter()
    for attempt in (1, 2):
        try:
            if isinstance(request, str):
                answer = session.get(url + request, timeout=TIMEOUT_S)
            else:
                answer = session.post(url + "/_dash-update-component", json=request, timeout=TIMEOUT_S)
            return (time.perf_counter() - start) * 1000, answer.status_code, len(answer.content)
        except requests.Timeout:
            return (time.perf_counter() - start) * 1000, "timeout", 0
        except requests.ConnectionError:
            if attempt == 2:
                return (time.perf_counter() - start) * 1000, "error", 0


def label(request: dict | str) -> str:
    """What a request is, in the figures: a callback's output, or a GET's path up to its query."""
    return request.split("?")[0] if isinstance(request, str) else request["output"]


def load(url: str, actions: list[list[dict | str]], users: int, duration: float, seed: int, processes: int,
         think: tuple[float, float]) -> list[tuple]:
    """`users` users spread over `processes` client processes (the client's own Python work must not share
    one GIL with 50 users' threads and delay the timings it takes), for `duration` seconds."""
    stop_at = time.time() + duration
    groups = [list(range(first, users, processes)) for first in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.starmap(_users, [(url, actions, group, stop_at, seed, think) for group in groups])
    return [sample for part in parts for sample in part]


def _users(url: str, actions: list[list[dict | str]], numbers: list[int], stop_at: float, seed: int,
           think: tuple[float, float]) -> list[tuple]:
    """A thread per user of `numbers`, each: an interaction (its requests in parallel, 6 at most as a
    browser), then a think time drawn from `think` (seconds), until the wall clock reaches `stop_at`. Returns (ms,
    status, bytes, `label`) per request."""
    samples, lock = [], threading.Lock()

    def user(number: int) -> None:
        rng, session = random.Random(seed + number), requests.Session()
        time.sleep(rng.uniform(0, 1.5))
        with ThreadPoolExecutor(6) as pool:
            while time.time() < stop_at:
                bodies = rng.choice(actions)
                results = list(pool.map(lambda request: (*post(session, url, request), label(request)), bodies))
                with lock:
                    samples.extend(results)
                time.sleep(rng.uniform(*think))

    threads = [threading.Thread(target=user, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


def summary(samples: list[tuple], seconds: float | None = None) -> dict:
    ms = np.array([s[0] for s in samples])
    statuses = collections.Counter(str(s[1]) for s in samples)
    ok = statuses["200"] + statuses["204"]  # 204: the callback left its outputs as they were (no_update)
    figures = {"requests": len(samples), "ok": ok, "statuses": dict(statuses), "p50_ms": float(np.percentile(ms, 50)),
               "p95_ms": float(np.percentile(ms, 95)), "p99_ms": float(np.percentile(ms, 99)),
               "max_ms": float(ms.max()), "mean_kb": float(np.mean([s[2] for s in samples]) / 1024)}
    if seconds:
        figures["requests_per_s"] = len(samples) / seconds
    return figures


def per_callback(samples: list[tuple]) -> dict:
    outputs = sorted({s[3] for s in samples})
    return {out: summary([s for s in samples if s[3] == out]) for out in outputs}


# --- main -----------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 synthetic sites, 10 users, 15 s")
    parser.add_argument("--demo", type=Path, help="a demo workdir built before (default: build one, ~1 min)")
    parser.add_argument("--synthetic", type=int)
    parser.add_argument("--users", type=int)
    parser.add_argument("--duration", type=float)
    parser.add_argument("--baseline-requests", type=int)
    parser.add_argument("--threads", type=int, default=8, help="threads per server process (serve --threads)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(),
                        help="server processes (serve --workers; 1: waitress), default: one per core")
    parser.add_argument("--clients", type=int, default=4, help="client processes the users are spread over")
    parser.add_argument("--think", type=float, nargs=2, default=(0.5, 1.5), metavar=("MIN", "MAX"),
                        help="think time of a user between two interactions, seconds (default 0.5 1.5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    size = {**(QUICK if args.quick else FULL),
            **{k: v for k, v in vars(args).items() if k in FULL and v is not None}}
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        tmp = Path(tmp)
        demo = demo_workdir(args.demo, tmp)
        started = time.perf_counter()
        config, demo_run, run_id = build_store(demo, tmp / "store", size["synthetic"], args.seed)
        settings = load_settings(config)
        print(f"store: demo run {demo_run} + run {run_id} with {size['synthetic']:,} synthetic sites "
              f"({time.perf_counter() - started:.1f} s)", flush=True)

        server, url = start_server(config, cached=True, threads=args.threads, workers=args.workers)
        try:
            started = time.perf_counter()
            requests.get(url + "/", timeout=300)
            actions = interactions(url, settings, rng)
            distinct = {json.dumps(body, sort_keys=True): body for action in actions for body in action}
            with requests.Session() as session:
                cold = [post(session, url, body)[0] for body in list(distinct.values())[:3]]
                for body in warm_up_requests(distinct.values()):
                    post(session, url, body)
            warm_up_s = time.perf_counter() - started
            print(f"server up; {len(actions)} interactions, {len(distinct)} distinct callback requests; "
                  f"warm-up {warm_up_s:.1f} s (first callbacks {', '.join(f'{c:.0f}' for c in cold)} ms)", flush=True)
            page = first_load(url)
            print(f"first page load: {page['total_bytes'] / 1e6:.2f} MB in {page['seconds_to_idle']} s", flush=True)
            started = time.perf_counter()
            samples = load(url, actions, size["users"], size["duration"], args.seed, args.clients,
                           tuple(args.think))
            seconds = time.perf_counter() - started
            loaded = summary(samples, seconds)
        finally:
            stop(server)
        server, url = start_server(config, cached=False, threads=args.threads, workers=args.workers)
        try:
            sample = rng.sample(list(distinct.values()), min(size["baseline_requests"], len(distinct)))
            with requests.Session() as session:
                base = [(*post(session, url, body), body["output"]) for body in sample]
            baseline = summary(base)
        finally:
            stop(server)

    print()
    print(f"{'':34} {'requests':>9} {'ok':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'req/s':>7}")
    label = f"cached, {size['users']} users, think {args.think[0]:g}-{args.think[1]:g} s"
    print(f"{label:34} "
          f"{loaded['requests']:>9} {loaded['ok']:>6} {loaded['p50_ms']:>8.0f} {loaded['p95_ms']:>8.0f} "
          f"{loaded['p99_ms']:>8.0f} {loaded['max_ms']:>8.0f} {loaded['requests_per_s']:>7.1f}")
    print(f"{'baseline (no run cache), 1 user':34} {baseline['requests']:>9} {baseline['ok']:>6} "
          f"{baseline['p50_ms']:>8.0f} {baseline['p95_ms']:>8.0f} {baseline['p99_ms']:>8.0f} {baseline['max_ms']:>8.0f}")
    print()
    print("per callback (cached, under load):")
    for output, figures in per_callback(samples).items():
        print(f"  {output[:70]:70} n={figures['requests']:>5} p50={figures['p50_ms']:>6.0f} "
              f"p95={figures['p95_ms']:>6.0f} ms  {figures['mean_kb']:>7.1f} kB")
    first_ok = page["total_bytes"] / 1e6 < FIRST_LOAD_TARGET_MB
    p95_ok = loaded["p95_ms"] <= P95_TARGET_MS
    print(f"\nfirst page load {page['total_bytes'] / 1e6:.2f} MB (target < {FIRST_LOAD_TARGET_MB} MB): "
          f"{'PASS' if first_ok else 'FAIL'}; " + ", ".join(f"{k} {v['bytes'] / 1e3:.0f} kB"
                                                             for k, v in page["by_kind"].items()))
    print(f"p95 callback latency {loaded['p95_ms']:.0f} ms (target <= {P95_TARGET_MS:.0f} ms with "
          f"{size['users']} users): {'PASS' if p95_ok else 'FAIL'}")
    result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "size": size,
              "synthetic_sites": size["synthetic"], "server_threads": args.threads, "server_workers": args.workers,
              "client_processes": args.clients, "think_s": list(args.think), "first_page_load": page,
              "load": loaded, "per_callback": per_callback(samples), "baseline_no_cache_one_user": baseline,
              "baseline_per_callback": per_callback(base), "warm_up_s": warm_up_s, "first_callbacks_ms": cold,
              "targets": {"first_load_mb": FIRST_LOAD_TARGET_MB, "p95_ms": P95_TARGET_MS,
                          "first_load_pass": first_ok, "p95_pass": p95_ok}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
