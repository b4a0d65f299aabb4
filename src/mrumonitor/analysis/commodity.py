"""Which commodity a site mines, from the commodity zones (see `mrumonitor.reference.commodity`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def commodity_at(points: np.ndarray, zones: gpd.GeoDataFrame, default: str) -> np.ndarray:
    """The commodity of the first zone (file order) holding each point; `default` outside every zone.

    Parameters
    ----------
    points : array of shapely Points
        In the CRS of `zones`.
    zones : GeoDataFrame
        commodity, geometry (`load_commodity_zones`).
    default : str
        `analysis.commodity_default`.
    """
    commodity = np.full(len(points), default, dtype=object)
    point, zone = shapely.STRtree(np.asarray(zones.geometry)).query(points, predicate="within")
    first = pd.Series(zone).groupby(point).min()
    commodity[first.index.to_numpy()] = zones["commodity"].to_numpy(dtype=object)[first.to_numpy()]
    return commodity


def site_commodity(sites: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, default: str) -> pd.DataFrame:
    """Commodity of each site and how it was decided (COMMODITY_BASES), by its footprint's representative point;
    indexed by site_id."""
    points = shapely.point_on_surface(np.asarray(sites.geometry))
    commodity = commodity_at(points, zones, "")
    basis = np.select([commodity == "diamond", commodity != ""], ["in_diamond_field", "gold_belt"], "unknown")
    return pd.DataFrame({"commodity": np.where(commodity == "", default, commodity), "commodity_basis": basis},
                        index=sites["site_id"].to_numpy())
