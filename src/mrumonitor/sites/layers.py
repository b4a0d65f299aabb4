"""The three site layers of a run (sites, site periods, site country areas), written into and read from a run
folder under the names `runfolder.RunFolder` gives them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from mrumonitor.layerio import write_geoparquet, write_parquet
from mrumonitor.runfolder import RunFolder

#: The three layers; each is the run-folder layer of that name (`RunFolder.layer`).
_LAYERS = ("sites", "site_periods", "site_country_areas")


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
        run = RunFolder(folder)
        written = {name: write_geoparquet(getattr(self, name), run.layer(name)) for name in ("sites", "site_periods")}
        written["site_country_areas"] = write_parquet(self.site_country_areas, run.layer("site_country_areas"))
        return written

    @classmethod
    def read(cls, folder: str | Path) -> SiteLayers:
        """Read the layers `write` wrote into `folder` (for instance as the `previous` of the next run)."""
        run = RunFolder(folder)
        return cls(sites=gpd.read_parquet(run.layer("sites")),
                   site_periods=gpd.read_parquet(run.layer("site_periods")),
                   site_country_areas=pd.read_parquet(run.layer("site_country_areas")))

    @staticmethod
    def exists(folder: str | Path) -> bool:
        """Whether `folder` holds all three layers."""
        return RunFolder(folder).has_layers(*_LAYERS)
