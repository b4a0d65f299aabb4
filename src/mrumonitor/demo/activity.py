"""The demo's activity input: per-period detection files made from the real Earth Index detections.

Positions and final areas are real (the survey of 2026-06-24, in period 2026H1); how sites appear and
grow over the earlier periods is SYNTHETIC: each detection draws, with a seeded generator, the period it
first appears in (`APPEARANCE`), and from then on its footprint has `GROWTH[period]` of its real area, so
every site present in 2026H1 has exactly its surveyed area.

The baseline period 2023H2 (the one scene-based detection compares against) holds the earliest subset:
the sites drawn as already there, at a quarter of their final area. It is not empty, because mining in
the region long predates the survey; the later periods then show both new sites and growing old ones.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.demo.detections import SURVEY_DATE, load_detections

log = logging.getLogger(__name__)


class Period(NamedTuple):
    """A period of the demo: name, first and last day (inclusive)."""

    name: str
    start: dt.date
    end: dt.date


#: The demo periods, in time order; the first is the baseline.
PERIODS = (
    Period("2023H2", dt.date(2023, 7, 1), dt.date(2023, 12, 31)),
    Period("2024H2", dt.date(2024, 7, 1), dt.date(2024, 12, 31)),
    Period("2025H2", dt.date(2025, 7, 1), dt.date(2025, 12, 31)),
    Period("2026H1", dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
)
BASELINE = PERIODS[0].name

#: Chance that a detection first appears in each period (SYNTHETIC; sums to 1).
APPEARANCE = {"2023H2": 0.15, "2024H2": 0.35, "2025H2": 0.30, "2026H1": 0.20}

#: Share of its real area a site's footprint has in each period once it has appeared (SYNTHETIC).
GROWTH = {"2023H2": 0.25, "2024H2": 0.40, "2025H2": 0.70, "2026H1": 1.00}

#: Name of the input in the demo configuration, and the file name pattern of its files.
INPUT_NAME = "earth_index"
FILE_PATTERN = "detections_{period}.csv"

#: Where the demo keeps these files, relative to the demo's working folder (the config's folder).
DEFAULT_FOLDER = "inputs/activity"

assert PERIODS[-1].start <= SURVEY_DATE <= PERIODS[-1].end, "the survey date must fall in the last period"


def write_demo_activity(folder: str | Path, seed: int = 2026, relative_to: str | Path | None = None) -> dict:
    """Write ``detections_{period}.csv`` for every demo period and a README into `folder`.

    Same seed, same bytes. Returns ``{"periods": [{"name", "start", "end"}], "baseline", "files"
    (period -> Path), "counts" (period -> rows), "readme", "config"}``, where ``config`` is the TOML of the
    ``[activity]`` block for the demo configuration. Its input path is `folder` relative to `relative_to`
    (the folder of the configuration file) when given, else ``inputs/activity`` (the demo's layout).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = period_tables(load_detections(), seed)
    files = {}
    for name, table in tables.items():
        files[name] = folder / FILE_PATTERN.format(period=name)
        table.to_csv(files[name], index=False, lineterminator="\n")
    readme = folder / "README.md"
    readme.write_text(_readme_text({name: len(table) for name, table in tables.items()}), encoding="utf-8")
    pattern = (Path(folder).resolve().relative_to(Path(relative_to).resolve()).as_posix() if relative_to
               else DEFAULT_FOLDER) + "/" + FILE_PATTERN
    log.info("demo activity: %s", ", ".join(f"{name} {len(table)} detections" for name, table in tables.items()))
    return {
        "periods": [period._asdict() for period in PERIODS],
        "baseline": BASELINE,
        "files": files,
        "counts": {name: len(table) for name, table in tables.items()},
        "readme": readme,
        "config": activity_config_text(pattern),
    }


def period_tables(detections: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    """Per period, the detections present then (det_id, lon, lat, area_ha), in det_id order."""
    names = [period.name for period in PERIODS]
    detections = detections.sort_values("det_id", kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    appears = rng.choice(len(names), size=len(detections), p=[APPEARANCE[name] for name in names])
    tables = {}
    for index, name in enumerate(names):
        present = detections[appears <= index]
        area = np.maximum((present["area_ha"] * GROWTH[name]).round(2), 0.01)
        tables[name] = present.assign(area_ha=area)[["det_id", "lon", "lat", "area_ha"]].reset_index(drop=True)
    return tables


def activity_config_text(path_pattern: str = f"{DEFAULT_FOLDER}/{FILE_PATTERN}") -> str:
    """The ``[activity]`` block of the demo configuration: the periods, the baseline and the detections."""
    observed = {PERIODS[-1].name: f", observed = {SURVEY_DATE.isoformat()}"}
    periods = ",\n".join(f'    {{ name = "{p.name}", start = {p.start.isoformat()}, end = {p.end.isoformat()}'
                         f'{observed.get(p.name, "")} }}' for p in PERIODS)
    return f"""[activity]
# Demo periods (half-years); the Earth Index survey of {SURVEY_DATE.isoformat()} falls in the last one, and
# licences are judged on that day for it (`observed`); on each earlier period's last day otherwise.
periods = [
{periods},
]
# Scene-based detection compares against this period.
baseline = "{BASELINE}"

[activity.inputs.{INPUT_NAME}]
# Real Earth Index detections (positions, and areas in the last period); their growth over the earlier
# periods is SYNTHETIC (see the README beside the files).
kind = "detections"
path = "{path_pattern}"
x = "lon"
y = "lat"
area_ha = "area_ha"
crs = "EPSG:4326"
"""


def _readme_text(counts: dict[str, int]) -> str:
    rows = "\n".join(f"| {p.name} | {p.start} | {p.end} | {counts[p.name]} | {GROWTH[p.name]:.0%} |"
                     for p in PERIODS)
    return f"""# Demo activity detections (generated by mrumonitor.demo)

The positions and final (2026H1) areas of these detections are REAL; their growth over the periods is
SYNTHETIC: each detection was given, at random (seeded), the period it first appears in, and from then on
a footprint of the share of its real area shown below, reaching its surveyed area in 2026H1.

| period | start | end | detections | share of final area |
|---|---|---|---|---|
{rows}

Columns: det_id, lon, lat (WGS84), area_ha (footprint area in hectares in that period).
{BASELINE} is the baseline period (the earliest subset, sites already there).

{DETECTIONS_CREDIT}
A detection is a ground scar that a model flagged, not a verified mining site.
"""
