"""The whole demo region in one call: synthetic cadastres, activity periods from the real detections,
synthetic scene stacks, and the configuration file that points at all of them."""

from __future__ import annotations

import json
from pathlib import Path

from mrumonitor.config import load_settings
from mrumonitor.demo.activity import write_demo_activity
from mrumonitor.demo.inputs import demo_config_text, write_demo_inputs
from mrumonitor.demo.scenes import SceneArea, write_scene_stacks


def build_demo(workdir: Path, seed: int = 2026) -> Path:
    """Write every demo input under `workdir` and return the path of its configuration file."""
    workdir = Path(workdir)
    cadastres = write_demo_inputs(workdir, seed=seed)
    activity = write_demo_activity(workdir / "inputs" / "activity", seed=seed, relative_to=workdir)
    detector = load_settings().detector
    areas = write_scene_stacks(workdir / "inputs" / "scenes", seed=seed, resolution=detector.resolution_m)
    text = "\n".join([demo_config_text(cadastres), activity["config"], *(_scene_block(a, workdir) for a in areas)])
    cadastres.config_file.write_text(text, encoding="utf-8")
    return cadastres.config_file


def _scene_block(area: SceneArea, workdir: Path) -> str:
    bounds = ", ".join(f"{value:.5f}" for value in area.bounds_wgs84)
    return (f"[activity.inputs.scenes_{area.name}]\n"
            f"# SYNTHETIC Sentinel-2-like scene stack around {area.name}, with pits painted at real detections\n"
            f"# and a ground-truth mask per period; the built-in detector runs on it.\n"
            f'kind = "scenes"\n'
            f"path = {json.dumps(area.folder.relative_to(workdir).as_posix())}\n"
            f"bounds = [{bounds}]\n")
