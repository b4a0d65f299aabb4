"""Raster stage: activity rasters from detections, external models and scenes, on one grid; sites drawn from them.

Entry points: `detect` (the stage, `raster.run`) and the `DetectResult` it returns; `Grid`, the one grid every
activity layer lands on; `read_activity` and `write_activity_cog`, the activity COGs. The sites drawn from the
activity are tracked in `mrumonitor.sites`; vector files are read through `mrumonitor.layerio`.
"""

from mrumonitor.raster.cog import read_activity, write_activity_cog
from mrumonitor.raster.grid import Grid
from mrumonitor.raster.run import DetectResult, detect

__all__ = ["DetectResult", "Grid", "detect", "read_activity", "write_activity_cog"]
