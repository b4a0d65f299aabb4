"""Raster stage: activity rasters from detections, external models, scenes and STAC imagery, on one grid; sites drawn
from them.

Entry points: `detect` (the stage, `raster.run`) and the `DetectResult` it returns; `Grid`, the one grid every
activity layer lands on; `read_activity` and `write_activity_cog`, the activity COGs. The sites drawn from the
activity are tracked in `mrumonitor.sites`; vector files are read through `mrumonitor.layerio`. The entry points are
loaded when first asked for (they bring in dask and rasterio), so that a command that only needs a module of the
stage, such as `mrumonitor scenes serve`, starts light.
"""

__all__ = ["DetectResult", "Grid", "detect", "read_activity", "write_activity_cog"]

_MODULES = {"DetectResult": "run", "detect": "run", "Grid": "grid", "read_activity": "cog",
            "write_activity_cog": "cog"}


def __getattr__(name: str):
    if name in _MODULES:
        from importlib import import_module

        return getattr(import_module(f"mrumonitor.raster.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
