"""Canonical layer schemas: the column names, types and vocabularies every stage agrees on.

See DESIGN.md ("Canonical layers"). The readers harmonise national files into these; the analysis, the store
and the dashboard read only these.
"""

from __future__ import annotations

from enum import StrEnum

#: Countries of the Mano River Union covered by the KP Regional Approach (ISO 3166-1 alpha-3).
MRU_COUNTRIES = ("SLE", "GIN", "LBR", "CIV")

LICENCE_TYPES = ("artisanal", "small_scale", "large_scale", "exploration", "reconnaissance", "other")
COMMODITIES = ("diamond", "gold", "other")
LICENCE_STATUSES = ("active", "expired", "suspended", "pending", "unknown")

#: Licence types that allow production; exploration and reconnaissance do not.
PRODUCTION_LICENCE_TYPES = ("artisanal", "small_scale", "large_scale")

#: Columns of the `concessions` layer, in order, with their pandas dtypes (geometry last).
CONCESSION_COLUMNS: dict[str, str] = {
    "licence_id": "string",
    "country": "string",
    "holder": "string",
    "licence_type": "string",
    "commodity": "string",
    "status": "string",
    "granted": "datetime64[ms]",
    "expires": "datetime64[ms]",
    "geometry_repaired": "bool",
    "source_name": "string",
    "source_file": "string",
    "source_row": "int64",
}

#: Columns of the `quarantine` layer: every input record that could not be used, and why.
QUARANTINE_COLUMNS: dict[str, str] = {
    "layer": "string",
    "source_name": "string",
    "country": "string",
    "source_file": "string",
    "source_row": "int64",
    "record_id": "string",
    "reason": "string",
    "detail": "string",
    "attributes": "string",
}


class Reason(StrEnum):
    """Why a record went to quarantine. The value is the code stored in the `reason` column."""

    UNPARSEABLE_GEOMETRY = "unparseable_geometry"
    EMPTY_GEOMETRY = "empty_geometry"
    NOT_POLYGON = "not_polygon"
    INVALID_GEOMETRY = "invalid_geometry"
    OUTSIDE_COUNTRY = "outside_country"
    MISSING_LICENCE_ID = "missing_licence_id"
    UNKNOWN_LICENCE_TYPE = "unknown_licence_type"
    UNKNOWN_COMMODITY = "unknown_commodity"
    UNKNOWN_STATUS = "unknown_status"
    UNPARSEABLE_DATE = "unparseable_date"
    EXPIRY_BEFORE_GRANT = "expiry_before_grant"
    DUPLICATE_LICENCE_ID = "duplicate_licence_id"
    CONFLICTING_LICENCE_ID = "conflicting_licence_id"
    INVALID_AREA = "invalid_area"


# --- activity rasters and sites (mrumonitor detect) ---------------------------------------------------

#: Activity layers: uint8 activity probability in percent, 0-100; this value means "no data" (no valid
#: observation), which is never the same as 0 ("observed, no activity").
ACTIVITY_DTYPE = "uint8"
ACTIVITY_NODATA = 255
ACTIVITY_MAX = 100

#: Columns of the `sites` layer written by detection (the analysis adds registration and leakage columns).
SITE_COLUMNS: dict[str, str] = {
    "site_id": "string",
    "country": "string",
    "countries": "string",
    "transboundary": "bool",
    "first_seen": "string",
    "last_seen": "string",
    "periods_seen": "int64",
    "area_ha": "float64",
    "max_area_ha": "float64",
}

#: Lineage columns of `sites`: a site absorbed by another keeps its rows and names the absorber in
#: `merged_into` (count current sites with `merged_into.isna()`); a part split off names its origin.
SITE_LINEAGE_COLUMNS: dict[str, str] = {"merged_into": "string", "split_from": "string"}

#: `site_periods`: one row per site and period it was seen in, with that period's footprint.
SITE_PERIOD_COLUMNS: dict[str, str] = {
    "site_id": "string",
    "period": "string",
    "area_ha": "float64",
}

#: `site_country_areas`: a site's area in each period split between the countries it lies in; summing
#: area_ha by country never counts a transboundary site twice. Country "" is area outside every outline
#: (sea, or beyond the region); it is never given to a country it may not be in, so `sites.country` can be "".
SITE_COUNTRY_AREA_COLUMNS: dict[str, str] = {
    "site_id": "string",
    "period": "string",
    "country": "string",
    "area_ha": "float64",
}
