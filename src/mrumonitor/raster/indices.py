"""Spectral indices as small typed callables, in the style of rio-tiler's `NormalizedIndex`.

Each index declares the bands it reads (`input_bands`, Sentinel-2 names) and its `output_dtype`, and is
called with a mapping of band name -> reflectance array (numpy, dask or xarray; an `xarray.Dataset` is such
a mapping). Every index here is a normalised difference ``(sum(positive) - sum(negative)) / (sum(positive) +
sum(negative))``; where the denominator is zero the result is NaN, never ±inf.

>>> import numpy as np
>>> float(NDVI({"B08": np.array(0.3), "B04": np.array(0.1)}))
0.5
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class NormalizedIndex:
    """``(sum(positive) - sum(negative)) / (sum(positive) + sum(negative))`` of reflectance bands."""

    name: str
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    description: str = ""
    output_dtype: type = np.float32

    @property
    def input_bands(self) -> tuple[str, ...]:
        """The bands this index reads, positive terms first."""
        return self.positive + self.negative

    @property
    def input_nbands(self) -> int:
        return len(self.input_bands)

    def __call__(self, bands: Mapping[str, Any]) -> Any:
        """The index of `bands` (name -> reflectance array), as `output_dtype`; NaN where undefined."""
        missing = [band for band in self.input_bands if band not in bands]
        if missing:
            raise KeyError(f"{self.name} needs bands {', '.join(self.input_bands)}; missing {', '.join(missing)}")
        plus = _band_sum(bands, self.positive, self.output_dtype)
        minus = _band_sum(bands, self.negative, self.output_dtype)
        return (plus - minus) / _nan_where_zero(plus + minus)


def _band_sum(bands: Mapping[str, Any], names: tuple[str, ...], dtype: type) -> Any:
    """Sum of the named bands, cast first (integer digital numbers must not wrap around)."""
    total = bands[names[0]].astype(dtype)
    for name in names[1:]:
        total = total + bands[name].astype(dtype)
    return total


def _nan_where_zero(denominator: Any) -> Any:
    """`denominator` with zeros replaced by NaN, keeping its type (numpy, dask or xarray)."""
    if hasattr(denominator, "dims"):  # xarray: keep coordinates and attributes
        return denominator.where(denominator != 0)
    return np.where(denominator != 0, denominator, np.asarray(np.nan, dtype=denominator.dtype))


NDVI = NormalizedIndex("ndvi", ("B08",), ("B04",), "vegetation: (B08 - B04) / (B08 + B04)")
MNDWI = NormalizedIndex("mndwi", ("B03",), ("B11",), "open water: (B03 - B11) / (B03 + B11)")
BSI = NormalizedIndex("bsi", ("B11", "B04"), ("B08", "B02"),
                      "bare soil: ((B11 + B04) - (B08 + B02)) / ((B11 + B04) + (B08 + B02))")
NDTI = NormalizedIndex("ndti", ("B04",), ("B03",), "turbidity: (B04 - B03) / (B04 + B03)")

#: The indices the detector computes, by name, in the order it stacks them.
INDICES: dict[str, NormalizedIndex] = {index.name: index for index in (NDVI, MNDWI, BSI, NDTI)}


def index_bands(indices: Mapping[str, NormalizedIndex] = INDICES) -> tuple[str, ...]:
    """The bands the given indices read, each once, in Sentinel-2 band order."""
    return tuple(sorted({band for index in indices.values() for band in index.input_bands}))
