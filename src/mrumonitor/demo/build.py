"""The whole demo region: synthetic cadastres, activity periods from the real detections, synthetic scene
stacks served as STAC imagery, and the configuration file that points at all of them.

`running_demo(workdir)` writes every input, serves the imagery (`demo.imagery.serve_demo_imagery`) and yields
the configuration file, whose STAC inputs read from that server until the context ends. `demo_imagery_served`
serves the imagery of a demo built before, for commands run on its configuration after the demo has stopped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mrumonitor.config import STAC_BANDS, load_settings
from mrumonitor.demo.activity import write_demo_activity
from mrumonitor.demo.imagery import DEMO_COLLECTION, serve_demo_imagery, write_demo_imagery
from mrumonitor.demo.inputs import CONFIG_NAME, demo_config_text, write_demo_inputs
from mrumonitor.demo.scenes import SceneArea, write_scene_stacks

#: The STAC collection folder of the demo, relative to its working folder.
IMAGERY_FOLDER = Path("inputs") / "imagery"
#: The name of the demo's [imagery.providers.<name>] block.
DEMO_PROVIDER = "demo"
#: Where the demo configuration says its imagery is served when no demo serves it (`mrumonitor scenes serve`'s port).
DEFAULT_PORT = 8081
_API_LINE = re.compile(r'^api = "http://127\.0\.0\.1:\d+"$', re.MULTILINE)


@contextmanager
def running_demo(workdir: Path, seed: int = 2026) -> Iterator[Path]:
    """Write every demo input under `workdir`, serve its imagery, and yield the path of its configuration file.

    The imagery is served on 127.0.0.1 at a free port (written into the configuration as the demo provider's
    `api`) until the context ends. The same seed writes the same inputs.
    """
    workdir = Path(workdir)
    text, areas = write_demo_files(workdir, seed)
    blocks = [text, _provider_block(workdir), *(_input_block(area, workdir) for area in areas)]
    (workdir / CONFIG_NAME).write_text("\n".join(blocks), encoding="utf-8")
    with demo_imagery_served(workdir) as config_file:
        yield config_file


@contextmanager
def demo_imagery_served(workdir: Path) -> Iterator[Path]:
    """Serve the imagery of the demo built under `workdir` and point its configuration at it; yields the file.

    The collection under ``workdir/inputs/imagery`` is served on 127.0.0.1 at a free port until the context ends;
    the `api` of the configuration's demo provider is rewritten to that address (commands run on the
    configuration meanwhile read the demo's imagery from it).
    """
    config_file = Path(workdir) / CONFIG_NAME
    with serve_demo_imagery(Path(workdir) / IMAGERY_FOLDER) as api:
        text = config_file.read_text(encoding="utf-8")
        config_file.write_text(_API_LINE.sub(f"api = {json.dumps(api)}", text, count=1), encoding="utf-8")
        yield config_file


def write_demo_files(workdir: Path, seed: int = 2026) -> tuple[str, list[SceneArea]]:
    """Write every demo input under `workdir`.

    Returns the configuration text of the cadastres and the detections, and the areas of the scene stacks (whose
    imagery the demo serves).
    """
    cadastres = write_demo_inputs(workdir, seed=seed)
    activity = write_demo_activity(workdir / "inputs" / "activity", seed=seed, relative_to=workdir)
    detector = load_settings().detector
    areas = write_scene_stacks(workdir / "inputs" / "scenes", seed=seed, resolution=detector.resolution_m)
    write_demo_imagery(areas, workdir / IMAGERY_FOLDER)
    return "\n".join([demo_config_text(cadastres), activity["config"]]), areas


def _provider_block(workdir: Path) -> str:
    assets = ", ".join(f'{band} = "{band}"' for band in STAC_BANDS)
    return (f"[imagery.providers.{DEMO_PROVIDER}]\n"
            f"# SYNTHETIC Sentinel-2 L2A-like imagery (demo data, not real imagery): the demo's scene stacks as a\n"
            f"# static STAC collection in {IMAGERY_FOLDER.as_posix()}/ (one item per acquisition, one COG per band).\n"
            f"# `mrumonitor demo` serves it on this machine while it runs, at the address below (a free port, another\n"
            f"# each time). To run this configuration without the demo, serve the collection yourself:\n"
            f"#   mrumonitor scenes serve {(workdir / IMAGERY_FOLDER).resolve().as_posix()} --port {DEFAULT_PORT}\n"
            f'# and set api = "http://127.0.0.1:{DEFAULT_PORT}".\n'
            f'description = "SYNTHETIC demo imagery served by mrumonitor demo (demo data, not real imagery)"\n'
            f'api = "http://127.0.0.1:{DEFAULT_PORT}"\n'
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
