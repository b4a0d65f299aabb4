"""The pipeline: one batch update of the layer store (ingest -> detect -> analyse -> publish).

- `build`: `run_pipeline` (what `mrumonitor run` and the scheduler call) and `build_run` (a run's layers
  and manifest body, into a staging folder of the store);
- `scope`: what a run refreshes (`RunScope`, `run_scope`: the whole region, or some countries);
- `incremental`: which periods of the previous run detect re-uses (`plan_detect`);
- `provenance`: what a run records about its inputs, thresholds and caveats.

The pipeline sits above the stages and the store: it imports them, none of them imports it.
"""

from mrumonitor.pipeline.build import build_run, run_pipeline
from mrumonitor.pipeline.scope import RunScope, run_scope

__all__ = ["RunScope", "build_run", "run_pipeline", "run_scope"]
