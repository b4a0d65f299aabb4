"""The demo run the dashboard benchmarks serve: the one given (`--demo DIR`), or one built for the benchmark."""

from __future__ import annotations

from pathlib import Path


def demo_workdir(given: Path | None, scratch: Path) -> Path:
    """`given` when set, else a demo built and published under `scratch` (about a minute)."""
    if given is not None:
        return given
    from mrumonitor.config import load_settings
    from mrumonitor.demo.build import build_demo
    from mrumonitor.pipeline import run_pipeline

    print("building the demo (about a minute)...", flush=True)
    run_pipeline(load_settings(build_demo(scratch / "demo")))
    return scratch / "demo"
