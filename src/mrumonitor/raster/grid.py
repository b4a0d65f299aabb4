"""The common grid: every raster lands on a grid in the analysis CRS, aligned to whole multiples of its
resolution, so that grids of different resolutions (100 m regional, 20 m scene areas) nest exactly."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS
from rasterio.windows import Window
from rasterio.windows import bounds as window_bounds

from mrumonitor.crs import norm_crs, require_projected


@dataclass(frozen=True)
class Grid:
    """A north-up grid: `width` x `height` pixels of `resolution` metres from (`left`, `top`) in `crs`."""

    crs: CRS
    left: float
    top: float
    resolution: float
    width: int
    height: int

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], crs, resolution: float) -> Grid:
        """The smallest aligned grid covering `bounds` (minx, miny, maxx, maxy) in `crs`."""
        crs = require_projected(norm_crs(crs, "grid CRS"), "grid CRS")
        if resolution <= 0:
            raise ValueError(f"grid resolution must be positive, got {resolution}")
        minx, miny, maxx, maxy = bounds
        left, bottom = math.floor(minx / resolution) * resolution, math.floor(miny / resolution) * resolution
        right, top = math.ceil(maxx / resolution) * resolution, math.ceil(maxy / resolution) * resolution
        return cls(crs, left, top, float(resolution), max(1, round((right - left) / resolution)),
                   max(1, round((top - bottom) / resolution)))

    @property
    def transform(self) -> Affine:
        return Affine(self.resolution, 0.0, self.left, 0.0, -self.resolution, self.top)

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.left, self.top - self.height * self.resolution, self.left + self.width * self.resolution,
                self.top)

    @property
    def pixel_area_ha(self) -> float:
        return self.resolution**2 / 10_000.0

    def windows(self, chunk: int) -> Iterator[Window]:
        """Row-major windows of at most `chunk` x `chunk` pixels tiling the grid."""
        for row in range(0, self.height, chunk):
            for col in range(0, self.width, chunk):
                yield Window(col, row, min(chunk, self.width - col), min(chunk, self.height - row))

    def window_bounds(self, window: Window) -> tuple[float, float, float, float]:
        return window_bounds(window, self.transform)

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates (x of columns, y of rows)."""
        half = self.resolution / 2
        x = self.left + half + self.resolution * np.arange(self.width)
        y = self.top - half - self.resolution * np.arange(self.height)
        return x, y
