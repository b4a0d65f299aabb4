"""What detect is told to re-use from the previous run: a `DetectPlan` (the pipeline makes it,
`mrumonitor.pipeline.incremental`), and how a re-used file is put into the new run (`link_layer`).

Re-used files (activity COGs, scene-area COGs) are hard-linked from the previous run into the new one
(copied across file systems): runs never change after publishing, and every writer replaces a file by a
new one (`os.replace`), so a link is never written through.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DetectPlan:
    """Which periods a detect run re-uses from the previous run and which it processes.

    Attributes
    ----------
    fingerprints : dict
        Period name -> fingerprint, for every configured period, in period order.
    reuse : tuple of str
        Periods whose layers are taken from `source` (a leading run of the periods).
    source : Path or None
        The previous run's folder.
    made_by : dict
        Re-used period -> id of the run that computed its layers.
    countries : tuple of str
        The countries a limited run refreshes (``()``: the whole region).
    previous : Path or None
        The previous run's folder, whose layers fill a limited run's periods outside its countries.
    """

    fingerprints: dict[str, str]
    reuse: tuple[str, ...] = ()
    source: Path | None = None
    made_by: dict[str, str] = field(default_factory=dict)
    countries: tuple[str, ...] = ()
    previous: Path | None = None

    @property
    def process(self) -> list[str]:
        """The periods to process, in period order."""
        return [name for name in self.fingerprints if name not in self.reuse]


def link_layer(source: Path, target: Path) -> Path:
    """Put the published file `source` at `target`: a hard link, or a copy where linking is impossible."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target
