"""Mining sites from activity rasters: patches per period, ids stable across periods and runs, areas split
between countries.

Two steps:

1. `vectorise` (implemented in `mrumonitor.raster.vectorise`): one period's activity raster -> patches
   (area_ha, geometry). Active pixels (value >= threshold, not no-data) are polygonised block by block and
   the pieces of a patch cut by block edges are joined exactly, so the patches do not depend on the chunk
   size; patches under the minimum area are dropped; area_ha is the pixel count times the pixel area.
2. `track_sites` (engine in `mrumonitor.raster.tracking`): the patches of every period -> `SiteLayers`,
   by these rules:

   - **Same site.** A patch that overlaps (shares area with, touching is not enough) a known site's latest
     footprint keeps its id, also across periods in which the site was not seen (clouds, a pause).
   - **Across runs.** The previous run's footprints of a period this run processes again come first, so a
     re-run gives back the published ids. Its periods this run does not process are kept as history (taken
     to precede this run's periods): their rows stay in the layers and their sites can be matched.
   - **Merge.** A patch overlapping several sites keeps the id of the one it overlaps most; each other gets
     `merged_into` = that id and is never matched again (its rows stay: its history is not rewritten).
   - **Split.** Of the patches overlapping one site, the one that overlaps it most keeps the id; each other
     part gets a new id and `split_from` = the old id.
   - **New ids** are ``MS-`` + 10 hex digits of SHA-1("country|x|y"): the patch's main country and its
     centroid in whole metres, in the period it first appears. Fresh runs on the same data give the same
     ids; a collision with any id the run knows, or between two new patches (a blob inside a ring has the
     ring's centroid), is hashed again with a counter (``|1``, ``|2``...), new patches taken in a canonical
     order. An id once given is never given to another site.
   - **Countries.** Each footprint is cut by the consistent outlines (no overlap, no gap between
     neighbours). The part outside every outline (sea, or a country beyond the region) is recorded as
     country "" and not given to the nearest country, which would invent area for it. A site's shares in a
     period sum to its area, so summing `site_country_areas` by country never counts a transboundary site
     twice. `country` is the country of the largest share in the last period seen ("" when it lies in
     none), `countries` every country with area there (";"-joined, sorted), `transboundary` whether there
     are several ("" does not count).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from mrumonitor.layerio import write_geoparquet, write_parquet
from mrumonitor.raster.tracking import ID_PREFIX, OUTSIDE, country_shares, track
from mrumonitor.raster.vectorise import vectorise
from mrumonitor.schema import SITE_LINEAGE_COLUMNS

log = logging.getLogger(__name__)

__all__ = [
    "ID_PREFIX",
    "OUTSIDE",
    "SITE_LINEAGE_COLUMNS",
    "SiteLayers",
    "country_shares",
    "track_sites",
    "vectorise",
]

#: File of each layer in a run folder.
_FILES = {"sites": "sites.parquet", "site_periods": "site_periods.parquet",
          "site_country_areas": "site_country_areas.parquet"}


@dataclass(frozen=True)
class SiteLayers:
    """The three site layers of one run, in the analysis CRS.

    Attributes
    ----------
    sites : GeoDataFrame
        SITE_COLUMNS + SITE_LINEAGE_COLUMNS + geometry (the footprint in the last period seen), by site_id.
    site_periods : GeoDataFrame
        SITE_PERIOD_COLUMNS + geometry (the footprint that period), in period order, then by site_id.
    site_country_areas : DataFrame
        SITE_COUNTRY_AREA_COLUMNS: each site's area per period split between countries ("" = outside all).
    """

    sites: gpd.GeoDataFrame
    site_periods: gpd.GeoDataFrame
    site_country_areas: pd.DataFrame

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write the layers as (Geo)Parquet into `folder`, each file atomically; name -> path."""
        folder = Path(folder)
        written = {name: write_geoparquet(getattr(self, name), folder / _FILES[name])
                   for name in ("sites", "site_periods")}
        areas = folder / _FILES["site_country_areas"]
        written["site_country_areas"] = write_parquet(self.site_country_areas, areas)
        return written

    @classmethod
    def read(cls, folder: str | Path) -> SiteLayers:
        """Read the layers `write` wrote into `folder` (for instance as the `previous` of the next run)."""
        folder = Path(folder)
        return cls(sites=gpd.read_parquet(folder / _FILES["sites"]),
                   site_periods=gpd.read_parquet(folder / _FILES["site_periods"]),
                   site_country_areas=pd.read_parquet(folder / _FILES["site_country_areas"]))

    @staticmethod
    def exists(folder: str | Path) -> bool:
        """Whether `folder` holds all three layers."""
        return all((Path(folder) / name).is_file() for name in _FILES.values())


def track_sites(
    patches_by_period: dict[str, gpd.GeoDataFrame],
    boundaries: gpd.GeoDataFrame,
    previous: SiteLayers | None = None,
) -> SiteLayers:
    """Give the patches of each period stable site ids and build the site layers (rules: module docstring).

    Parameters
    ----------
    patches_by_period : dict of str to GeoDataFrame
        Period name -> patches (area_ha, geometry) as `vectorise` returns them, periods in time order.
    boundaries : GeoDataFrame
        iso3, geometry: the consistent country outlines (`mrumonitor.reference.load_boundaries`), in the
        CRS of the patches: the analysis CRS.
    previous : SiteLayers, optional
        The layers of the previous run, for instance read back with `SiteLayers.read`.

    Returns
    -------
    SiteLayers

    Raises
    ------
    ValueError
        When the patches of a period are not in the CRS of `boundaries`.
    """
    sites, site_periods, site_country_areas = track(patches_by_period, boundaries, previous)
    log.info("%d sites over %d periods (%d transboundary)", len(sites), site_periods["period"].nunique(),
             sites["transboundary"].sum())
    return SiteLayers(sites, site_periods, site_country_areas)
