"""The pipeline: one batch update of the layer store (ingest -> detect -> analyse -> publish).

- `build`: `run_pipeline` (what `mrumonitor run` and the scheduler call) and `build_run` (a run's layers
  and manifest body, into a staging folder of the store);
- `scope`: what a run refreshes (`RunScope`, `run_scope`: the whole region, or some countries);
- `incremental`: which periods of the previous run detect re-uses (`plan_detect`);
- `provenance`: what a run records about its inputs, thresholds and caveats.

The pipeline sits above the stages and the store: it imports them, none of them imports it. `run_pipeline`
and `build_run` are loaded when first asked for (they bring in every stage, dask and rasterio), so that a
process that only reads a run's scope — the scheduler and its jobs — starts light.
"""

from mrumonitor.pipeline.scope import RunScope, run_scope

__all__ = ["RunScope", "build_run", "run_pipeline", "run_scope"]

_BUILD = ("build_run", "run_pipeline")


def __getattr__(name: str):
    if name in _BUILD:
        from mrumonitor.pipeline import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
