"""The whole demo region: synthetic cadastres, activity periods from the real detections, synthetic scene
stacks as a static STAC collection, and the configuration file that points at all of them.

The configuration's imagery provider is the collection's folder (`[imagery.providers.demo] folder`): every command
run on it (`mrumonitor demo`, and later `mrumonitor run`, `detect`, `scenes search`) serves the folder as a STAC API on
127.0.0.1 for as long as it runs and reads the imagery through it, like a deployment reads a remote API.
"""

from __future__ import annotations

import json
from pathlib import Path

from mrumonitor.config import STAC_BANDS, load_settings
from mrumonitor.demo.activity import write_demo_activity
from mrumonitor.demo.areas import write_example_area
from mrumonitor.demo.imagery import DEMO_COLLECTION, write_demo_imagery
from mrumonitor.demo.inputs import CONFIG_NAME, demo_config_text, write_demo_inputs
from mrumonitor.demo.scenes import SceneArea, write_scene_stacks

#: The STAC collection folder of the demo, relative to its working folder.
IMAGERY_FOLDER = Path("inputs") / "imagery"
#: The name of the demo's [imagery.providers.<name>] block.
DEMO_PROVIDER = "demo"


def build_demo(workdir: Path, seed: int = 2026) -> Path:
    """Write every demo input and its configuration under `workdir`; returns the configuration file.

    The same seed writes the same inputs.
    """
    workdir = Path(workdir)
    text, areas = write_demo_files(workdir, seed)
    blocks = [text, _provider_block(), *(_input_block(area, workdir) for area in areas)]
    config_file = workdir / CONFIG_NAME
    config_file.write_text("\n".join(blocks), encoding="utf-8")
    return config_file


def write_demo_files(workdir: Path, seed: int = 2026) -> tuple[str, list[SceneArea]]:
    """Write every demo input under `workdir`, and an example watched area (`demo.areas`).

    Returns the configuration text of the cadastres and the detections, and the areas of the scene stacks (whose
    imagery the demo serves).
    """
    cadastres = write_demo_inputs(workdir, seed=seed)
    activity = write_demo_activity(workdir / "inputs" / "activity", seed=seed, relative_to=workdir)
    detector = load_settings().detector
    areas = write_scene_stacks(workdir / "inputs" / "scenes", seed=seed, resolution=detector.resolution_m)
    write_demo_imagery(areas, workdir / IMAGERY_FOLDER)
    write_example_area(workdir, areas)
    return "\n".join([demo_config_text(cadastres), activity["config"]]), areas


def _provider_block() -> str:
    assets = ", ".join(f'{band} = "{band}"' for band in STAC_BANDS)
    return (f"[imagery.providers.{DEMO_PROVIDER}]\n"
            f"# SYNTHETIC Sentinel-2 L2A-like imagery (demo data, not real imagery): the demo's scene stacks as a\n"
            f"# static STAC collection (one item per acquisition, one COG per band). Every command run on this\n"
            f"# configuration serves the folder as a STAC API on 127.0.0.1 while it runs and reads it over HTTP, as\n"
            f"# from a remote API; `mrumonitor scenes serve {IMAGERY_FOLDER.as_posix()}` serves it for other clients.\n"
            f'description = "SYNTHETIC demo imagery (demo data, not real imagery)"\n'
            f"folder = {json.dumps(IMAGERY_FOLDER.as_posix())}\n"
            f"collection = {json.dumps(DEMO_COLLECTION)}\n"
            f"assets = {{ {assets} }}\n")


def _input_block(area: SceneArea, workdir: Path) -> str:
    bounds = ", ".join(f"{value:.5f}" for value in area.bounds_wgs84)
    scenes = json.dumps(area.folder.relative_to(workdir).as_posix())
    return (f"[activity.inputs.scenes_{area.name}]\n"
            f"# SYNTHETIC Sentinel-2-like imagery around {area.name}, with pits painted at real detections and a\n"
            f"# ground-truth mask per period: STAC items of the demo provider, composited per period and given to\n"
            f"# the built-in detector. The same pixels as scene files: kind = \"scenes\" with path = {scenes}.\n"
            f'kind = "stac"\n'
            f"provider = {json.dumps(DEMO_PROVIDER)}\n"
            f"bounds = [{bounds}]\n"
            f"# every acquisition, even the cloudiest: clouds are masked per pixel from SCL\n"
            f"max_cloud_cover = 100\n")
