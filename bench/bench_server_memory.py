#!/usr/bin/env python
"""Server memory under oversized requests: the real `mrumonitor serve` while a logged-in user posts huge bodies.

    python bench/bench_server_memory.py [--demo DIR] [--posts 4] [--size-mb 600] [--servers waitress gunicorn]

It starts `mrumonitor serve` on 127.0.0.1 with auth on (one agency user) over the demo run (built in a
temporary folder, about a minute, unless --demo names one): once on waitress (one process), once on gunicorn
(`--workers 2`). For each, it logs the user in, measures the server's idle resident memory (the server
process and all its children, summed: for gunicorn the master and both workers, shared pages counted once
per process, so an over-estimate), then sends `--posts` POSTs of `--size-mb` MB each to
`/_dash-update-component` AT ONCE, half with a Content-Length header and half in chunks without one, each
streamed in 1 MB pieces from a generator (the client never holds the body), each stopped after 60 s. A
sampler reads the server's memory every 20 ms. Then it checks that the server still answers the user.
`--max-request-kb 1048576` raises the cap above the bodies' size, to see the server as it was without one
(write the figures elsewhere with --out).

Target (issue 14): peak resident memory of the server under 2 GB (it went from 0.6 to 8.8 GB before the
request cap). Prints a table and writes bench/results/server_memory.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests
from werkzeug.security import generate_password_hash

from demo_run import demo_workdir

RESULTS = Path(__file__).resolve().parent / "results" / "server_memory.json"
TARGET_GB = 2.0
CHUNK = 1024 * 1024
POST_TIMEOUT_S = 60.0
USER, PASSWORD = "nma_sle", "bench-" + secrets.token_hex(8)
SECRET_ENV = "MRUMONITOR_BENCH_SECRET_KEY"
SERVERS = {"waitress": 1, "gunicorn": 2}  # name: serve --workers


def write_config(demo: Path, folder: Path, max_request_kb: int | None) -> Path:
    """The demo's configuration with auth on and one SLE agency user, its store and inputs linked in (and
    `max_request_kb` when given)."""
    for name in ("layers", "inputs"):
        (folder / name).symlink_to((demo / name).resolve())
    text = (demo / "mrumonitor.toml").read_text(encoding="utf-8")
    if max_request_kb:
        text += f"\n[dashboard]\nmax_request_kb = {max_request_kb}\n"
    text += (f'\n[dashboard.auth]\nenabled = true\nsecret_key_env = "{SECRET_ENV}"\n'
             f'[dashboard.auth.users.{USER}]\nrole = "agency"\ncountry = "SLE"\n'
             f'password_hash = "{generate_password_hash(PASSWORD)}"\n')
    config = folder / "mrumonitor.toml"
    config.write_text(text, encoding="utf-8")
    return config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(config: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = config.parent / f"server-{workers}.log"
    env = {**os.environ, SECRET_ENV: secrets.token_hex(32)}
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "mrumonitor.cli", "serve", "--config", str(config),
                                    "--port", str(port), "--workers", str(workers)], stdout=sink,
                                   stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=5).ok:
                time.sleep(2 if workers > 1 else 0)  # every gunicorn worker up
                return process, port
        except requests.ConnectionError:
            time.sleep(0.3)
        if process.poll() is not None:
            break
    stop(process)
    raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def server_rss(pid: int) -> int:
    """Resident bytes of process `pid` and all its children, summed."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


class Sampler(threading.Thread):
    """Peak of `server_rss` while it runs, sampled every 20 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, server_rss(self.pid))
            time.sleep(0.02)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak


def log_in(port: int) -> requests.Session:
    session = requests.Session()
    base = f"http://127.0.0.1:{port}"
    token = re.search(r'name="csrf" value="([^"]+)"', session.get(base + "/login", timeout=30).text).group(1)
    reply = session.post(base + "/login", data={"username": USER, "password": PASSWORD, "csrf": token},
                         allow_redirects=False, timeout=30)
    assert reply.status_code == 302, (reply.status_code, reply.text[:300])
    return session


def huge_post(port: int, cookie: str, size: int, with_length: bool) -> dict:
    """POST `size` bytes of JSON-ish filler to the callback endpoint, streamed; what the server answered, how
    much it took before answering or closing, and how long it took."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=POST_TIMEOUT_S)
    started, sent, outcome = time.monotonic(), 0, ""
    try:
        connection.putrequest("POST", "/_dash-update-component")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Cookie", cookie)
        connection.putheader(*(("Content-Length", str(size)) if with_length else ("Transfer-Encoding", "chunked")))
        connection.endheaders()
        piece = b'{"output":"' + b"x" * (CHUNK - 11)
        while sent < size and time.monotonic() - started < POST_TIMEOUT_S:
            data = piece[:min(CHUNK, size - sent)]
            connection.send(data if with_length else b"%x\r\n%s\r\n" % (len(data), data))
            sent += len(data)
        if not with_length:
            connection.send(b"0\r\n\r\n")
    except OSError as exc:  # the server answered and closed the connection before the body was all sent
        outcome = f"closed by the server ({type(exc).__name__})"
    try:
        answer = connection.getresponse()
        outcome = f"{answer.status} " + " ".join(answer.read(300).decode(errors="replace").split())[:120]
    except (OSError, http.client.HTTPException) as exc:
        outcome = outcome or f"no answer ({type(exc).__name__})"
    finally:
        connection.close()
    return {"with_length": with_length, "sent_mb": round(sent / 1e6, 1), "seconds": round(time.monotonic() - started, 2),
            "outcome": outcome}


def measure(config: Path, name: str, workers: int, posts: int, size: int) -> dict:
    process, port = start_server(config, workers)
    try:
        session = log_in(port)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        time.sleep(1)
        idle = server_rss(process.pid)
        sampler = Sampler(process.pid)
        sampler.start()
        started = time.monotonic()
        with ThreadPoolExecutor(posts) as pool:
            replies = list(pool.map(lambda i: huge_post(port, cookie, size, with_length=i % 2 == 0), range(posts)))
        elapsed = time.monotonic() - started
        time.sleep(0.5)
        peak = sampler.stop()
        still = session.get(f"http://127.0.0.1:{port}/_dash-layout", timeout=30).status_code
        after = server_rss(process.pid)
    finally:
        stop(process)
    return {"server": name, "workers": workers, "idle_mb": round(idle / 1e6), "peak_mb": round(peak / 1e6),
            "after_mb": round(after / 1e6), "posts": replies, "seconds": round(elapsed, 1),
            "answers_after": still, "pass": peak < TARGET_GB * 1e9 and still == 200}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=Path, help="a demo workdir built before (default: build one, ~1 min)")
    parser.add_argument("--posts", type=int, default=4, help="oversized POSTs sent at once (default 4)")
    parser.add_argument("--size-mb", type=int, default=600, help="size of each POST, MB (default 600)")
    parser.add_argument("--servers", nargs="+", choices=sorted(SERVERS), default=list(SERVERS))
    parser.add_argument("--max-request-kb", type=int, default=None,
                        help="[dashboard] max_request_kb of the server (default: the configured default, 1024); "
                             "1048576 (1 GiB, the largest allowed) lets 600 MB bodies through, as before the cap")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-server-memory-") as tmp:
        tmp = Path(tmp)
        demo = demo_workdir(args.demo, tmp)
        folder = tmp / "served"
        folder.mkdir()
        config = write_config(demo, folder, args.max_request_kb)
        rows = []
        for name in args.servers:
            row = measure(config, name, SERVERS[name], args.posts, args.size_mb * 1_000_000)
            rows.append(row)
            print(f"{name:<9} workers {row['workers']}  idle {row['idle_mb']:>5} MB  peak {row['peak_mb']:>5} MB  "
                  f"after {row['after_mb']:>5} MB  {args.posts} x {args.size_mb} MB in {row['seconds']} s  "
                  f"answers after: {row['answers_after']}  {'PASS' if row['pass'] else 'FAIL'} (< {TARGET_GB} GB)",
                  flush=True)
            for post in row["posts"]:
                print(f"    {'Content-Length' if post['with_length'] else 'chunked       '}: {post['sent_mb']:>6} MB "
                      f"sent in {post['seconds']} s -> {post['outcome']}", flush=True)
    result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "max_request_kb": args.max_request_kb or 1024, "posts": args.posts, "size_mb": args.size_mb, "target_gb": TARGET_GB, "servers": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
