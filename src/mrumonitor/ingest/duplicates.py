"""Duplicate licence ids within one cadastre snapshot of a country: identical copies collapse to one,
conflicting ones all go. The same licence id in two snapshots of a country is its history, not a duplicate."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from mrumonitor.schema import Reason

#: Columns that must agree for two records with the same licence id to count as the same licence.
_CONTENT = ["holder", "licence_type", "commodity", "status", "granted", "expires"]


def find_duplicates(candidates: gpd.GeoDataFrame) -> tuple[pd.Series, pd.Series]:
    """Return (reason, detail) per candidate: None for keepers, else a duplicate reason and its explanation.

    Ids compare after trimming and upper-casing ("sl-el-01 " is "SL-EL-01"), per country and snapshot (the
    sources of a country with the same `snapshot` date form one snapshot; those without a date form one
    more). A later exact copy of an earlier record (same content and geometry) is `duplicate_licence_id`;
    when the records sharing an id differ, none can be trusted over the others and all are
    `conflicting_licence_id`.
    """
    reason = pd.Series(None, index=candidates.index, dtype=object)
    detail = pd.Series(None, index=candidates.index, dtype=object)
    snapshot = candidates["snapshot"].dt.strftime("%Y-%m-%d").fillna("undated")
    key = candidates["country"] + "/" + snapshot + "/" + candidates["licence_id"].str.strip().str.upper()
    shared = key.duplicated(keep=False)
    if not shared.any():
        return reason, detail
    group = candidates[shared]
    fingerprint = pd.util.hash_pandas_object(group[_CONTENT], index=False).astype(str) + ":" + pd.Series(
        shapely.to_wkb(shapely.normalize(group.geometry.to_numpy()), hex=True), index=group.index)
    variants = fingerprint.groupby(key[shared]).transform("nunique")
    first = group.groupby(key[shared])[["source_name", "source_row"]].transform("first")
    where = first["source_name"] + " row " + first["source_row"].astype(str)

    conflicting = variants > 1
    reason[conflicting[conflicting].index] = Reason.CONFLICTING_LICENCE_ID.value
    records = key[shared].map(key[shared].value_counts()).astype(str)
    detail[conflicting[conflicting].index] = (
        "licence id '" + group["licence_id"] + "' is used by " + records + " records that disagree (holder, "
        "type, dates or boundary); keep one record per licence in the source file")[conflicting]

    copies = ~conflicting & key[shared].duplicated(keep="first")
    reason[copies[copies].index] = Reason.DUPLICATE_LICENCE_ID.value
    detail[copies[copies].index] = ("exact copy of licence '" + group["licence_id"] + "' first listed at "
                                    + where + "; the first copy was kept")[copies]
    return reason, detail
