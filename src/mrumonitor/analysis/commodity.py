"""Which commodity a site mines, and how that was decided, from the commodity zones
(see `mrumonitor.reference.commodity`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.crs import norm_crs, require_projected
from mrumonitor.reference.commodity import zone_kinds
from mrumonitor.schema import COMMODITY_BASES


def site_commodity(sites: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, default: str,
                   near_field_km: float) -> pd.DataFrame:
    """Commodity of each site and how it was decided, by its footprint's representative point.

    The first rule that holds decides (`schema.COMMODITY_BASES`):

    1. inside a mapped diamond field: diamond, ``in_diamond_field``;
    2. within `near_field_km` of one: diamond, ``near_diamond_field`` (the mapped fields are approximate, and
       alluvial gravels run on along the rivers);
    3. inside a gold belt: gold, ``gold_belt``;
    4. elsewhere: `default` (``analysis.commodity_default``), ``unknown``: an assumption, not a finding.

    A site near a diamond field and inside a gold belt is taken as diamond: the KP review asks about
    diamonds, so a possible diamond site is kept in its picture, and the basis says it was only "near".

    Parameters
    ----------
    sites : GeoDataFrame
        site_id, geometry (footprints) in the CRS of `zones`.
    zones : GeoDataFrame
        commodity, optional kind, geometry (`load_commodity_zones`), in a projected CRS in metres.
    default : str
        `analysis.commodity_default`.
    near_field_km : float
        `analysis.near_field_km`.

    Returns
    -------
    DataFrame
        commodity, commodity_basis; indexed by site_id.
    """
    require_projected(norm_crs(zones.crs, "commodity zone CRS"), "commodity zone CRS")
    points = shapely.point_on_surface(np.asarray(sites.geometry))
    kind = zone_kinds(zones).to_numpy()
    geometry = np.asarray(zones.geometry)
    fields, belts = geometry[kind == "diamond_field"], geometry[kind == "gold_belt"]
    inside = _hit(points, fields, "intersects")
    near = _hit(points, fields, "dwithin", near_field_km * 1000.0)
    in_belt = _hit(points, belts, "intersects")
    basis = np.select([inside, near, in_belt], list(COMMODITY_BASES[:3]), COMMODITY_BASES[3])
    commodity = np.select([inside | near, in_belt], ["diamond", "gold"], default)
    return pd.DataFrame({"commodity": commodity, "commodity_basis": basis}, index=sites["site_id"].to_numpy())


def _hit(points: np.ndarray, geometries: np.ndarray, predicate: str, distance: float | None = None) -> np.ndarray:
    """Whether each point meets at least one of `geometries` by `predicate` (e.g. "dwithin" `distance`)."""
    hit = np.zeros(len(points), dtype=bool)
    point, _ = shapely.STRtree(geometries).query(points, predicate=predicate, distance=distance)
    hit[point] = True
    return hit
