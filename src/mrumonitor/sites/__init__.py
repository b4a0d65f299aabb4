"""Sites: the patches of every period's activity -> mining sites with stable ids, lineage and country shares.

`track_sites` (rules in `sites.tracking`) builds the `SiteLayers` of a run; `country_shares` splits any
footprints between country outlines (`OUTSIDE` for the part outside them all). Patches come from the raster
stage (`raster.vectorise`); this package imports no stage.
"""

from mrumonitor.schema import SITE_COLUMNS, SITE_COUNTRY_AREA_COLUMNS, SITE_LINEAGE_COLUMNS, SITE_PERIOD_COLUMNS
from mrumonitor.sites.countries import OUTSIDE, country_shares
from mrumonitor.sites.layers import SiteLayers
from mrumonitor.sites.tracking import ID_PREFIX, track_sites

__all__ = [
    "ID_PREFIX",
    "OUTSIDE",
    "SITE_COLUMNS",
    "SITE_COUNTRY_AREA_COLUMNS",
    "SITE_LINEAGE_COLUMNS",
    "SITE_PERIOD_COLUMNS",
    "SiteLayers",
    "country_shares",
    "track_sites",
]
