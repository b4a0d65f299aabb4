"""Splitting footprints between country outlines, the part outside them all included (`OUTSIDE`); the rule is
stated in `sites.tracking` (**Countries**)."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Country code of the part of a footprint that lies outside every outline.
OUTSIDE = ""
#: Shares smaller than this (hectares; 0.01 m²) are floating-point noise of the overlay.
_NOISE_HA = 1e-6


def country_shares(geoms: np.ndarray, area_ha: np.ndarray, boundaries: gpd.GeoDataFrame, key: str = "iso3"
                   ) -> pd.DataFrame:
    """Area of each footprint in each country, summing exactly to `area_ha`.

    Parameters
    ----------
    geoms : array of shapely geometries
        Footprints in the CRS of `boundaries` (metres).
    area_ha : array of float
        Their exact areas (pixel counts x pixel area).
    boundaries : GeoDataFrame
        iso3, geometry: non-overlapping country outlines (or any non-overlapping areas, named by `key`).
    key : str
        Column of `boundaries` naming each area; its values fill the `country` column of the result.

    Returns
    -------
    DataFrame
        item (position in `geoms`), country (iso3, or `OUTSIDE` for the part outside every outline) and
        area_ha > 0. Overlay noise (< 0.01 m²) is folded into each item's largest share.
    """
    outlines = np.asarray(boundaries.geometry)
    iso = boundaries[key].astype(object).to_numpy()
    shapely.prepare(outlines)
    item, land = shapely.STRtree(outlines).query(geoms)
    whole = shapely.covers(outlines[land], geoms[item])
    cut = ~np.isin(item, item[whole])
    cut[cut] = shapely.intersects(outlines[land[cut]], geoms[item[cut]])
    inside = np.zeros(len(item))
    inside[whole] = area_ha[item[whole]]
    inside[cut] = shapely.area(shapely.intersection(geoms[item[cut]], outlines[land[cut]])) / 10_000.0
    shares = pd.DataFrame({"item": item, "country": iso[land], "area_ha": inside})
    outside = area_ha - np.bincount(item, weights=inside, minlength=len(geoms))
    shares = pd.concat([shares, pd.DataFrame({"item": np.arange(len(geoms)), "country": OUTSIDE,
                                              "area_ha": outside})], ignore_index=True)
    return _fold_noise(shares[shares["area_ha"] > _NOISE_HA], area_ha)


def _fold_noise(shares: pd.DataFrame, area_ha: np.ndarray) -> pd.DataFrame:
    """Make each item's shares sum to its area: the largest becomes the area minus the others."""
    shares = shares.sort_values(["item", "area_ha", "country"], ascending=[True, False, True], ignore_index=True)
    largest = ~shares["item"].duplicated()
    others = np.bincount(shares["item"], weights=np.where(largest, 0.0, shares["area_ha"]), minlength=area_ha.size)
    item = shares.loc[largest, "item"].to_numpy()
    shares.loc[largest, "area_ha"] = area_ha[item] - others[item]
    return shares
