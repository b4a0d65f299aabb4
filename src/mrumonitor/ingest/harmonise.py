"""One batch of raw national records -> canonical `concessions` candidates + `quarantine` rows.

Checks run in a fixed order and the first that fails is the record's reason (see `schema.Reason`):
geometry (unparseable, empty, not a polygon, unrepairable, outside its country), then attributes
(missing licence id, unknown licence type / commodity / status, unparseable date, expiry before grant).
Each candidate carries the snapshot date of its source (NaT when the source states none). Duplicate licence
ids are resolved later, over each snapshot of a country (see `ingest.duplicates`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from mrumonitor.config import SourceSettings
from mrumonitor.ingest.geometry import check_geometries
from mrumonitor.ingest.terms import as_text, impossible_date, map_terms, parse_dates
from mrumonitor.layerio import UNPARSEABLE, quarantine_rows
from mrumonitor.schema import CONCESSION_COLUMNS, Reason


@dataclass(frozen=True)
class SourceContext:
    """What harmonising one source needs besides its records."""

    name: str
    source: SourceSettings
    country_outline: shapely.Geometry
    analysis_crs: CRS
    tolerance_km: float

    def origin(self) -> dict:
        """Where this source's quarantine rows come from (the keywords of `quarantine_rows`)."""
        return {"layer": "concessions", "source_name": self.name, "country": self.source.country,
                "source_file": self.source.file, "crs": self.analysis_crs}


def harmonise_batch(raw: gpd.GeoDataFrame, ctx: SourceContext) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return (canonical candidates, quarantined records) for one batch; together they hold every record."""
    unparseable = raw[UNPARSEABLE].to_numpy(dtype=bool)
    geometry = check_geometries(raw.geometry, unparseable, ctx.country_outline, ctx.source.country,
                                ctx.analysis_crs, ctx.tolerance_km, _unparseable_detail(raw, unparseable, ctx))
    canonical, problems = _attributes(raw, ctx)
    reason = pd.Series(geometry.reason, index=raw.index, dtype=object)
    detail = pd.Series(geometry.detail, index=raw.index, dtype=object)
    for code, mask, text in problems:
        new = mask & reason.isna()
        reason[new], detail[new] = code.value, text[new]

    ok = reason.isna().to_numpy()
    canonical["geometry_repaired"] = geometry.repaired
    accepted = gpd.GeoDataFrame(canonical[ok], geometry=geometry.geometry[ok], crs=ctx.analysis_crs)
    return accepted, quarantine_rows(raw[~ok], reason[~ok], detail[~ok], canonical["licence_id"][~ok],
                                     **ctx.origin())


def _unparseable_detail(raw: gpd.GeoDataFrame, unparseable: np.ndarray, ctx: SourceContext) -> np.ndarray:
    """Why each unreadable geometry text is unreadable, in the terms of the source (WKT, or x and y columns)."""
    detail = np.full(len(raw), None, dtype=object)
    spec = ctx.source.csv
    at = np.flatnonzero(unparseable)
    if spec is None or not len(at):
        return detail
    if spec.x:
        x, y = (raw[column].to_numpy(dtype=object)[at].astype(str) for column in (spec.x, spec.y))
        detail[at] = (f"the coordinates {spec.x} = '" + x.astype(object) + f"' and {spec.y} = '" + y.astype(object)
                      + f"' are not both numbers (decimal separator {spec.decimal!r}); correct them in the source file")
        return detail
    for position, text in zip(at, raw[spec.wkt].to_numpy(dtype=object)[at].astype(str), strict=True):
        try:
            shapely.from_wkt(text)
            why = "it is not a geometry"
        except shapely.errors.GEOSException as exc:
            why = str(exc)
        shown = text if len(text) <= 60 else text[:57] + "..."
        detail[position] = (f"the WKT '{shown}' ({spec.wkt}) could not be parsed ({why}); fix the WKT of this "
                            "record in the source file")
    return detail


def _attributes(raw: gpd.GeoDataFrame, ctx: SourceContext) -> tuple[pd.DataFrame, list]:
    """Canonical attribute columns and the list of (reason, mask, detail) attribute problems, in order."""
    fields, values, name = ctx.source.fields, ctx.source.values, ctx.name

    def column(canonical: str) -> pd.Series:
        source_column = getattr(fields, canonical)
        if source_column is None:
            return pd.Series(pd.NA, index=raw.index, dtype="string")
        return raw[source_column]

    def text(canonical: str) -> pd.Series:
        return as_text(column(canonical)).str.strip().replace("", pd.NA)

    licence_id, licence_type_raw, commodity_raw, status_raw = (
        text("licence_id"), text("licence_type"), text("commodity"), text("status"))
    licence_type, unknown_type = map_terms(licence_type_raw, values.licence_type)
    commodity, unknown_commodity = map_terms(commodity_raw, values.commodity)
    status, unknown_status = map_terms(status_raw, values.status)
    granted, bad_granted = parse_dates(column("granted"), ctx.source.date_formats)
    expires, bad_expires = parse_dates(column("expires"), ctx.source.date_formats)

    canonical = pd.DataFrame({
        "licence_id": licence_id,
        "country": ctx.source.country,
        "holder": text("holder"),
        "licence_type": licence_type,
        "commodity": commodity,
        "status": status.fillna("unknown"),
        "granted": granted,
        "expires": expires,
        "geometry_repaired": False,
        "source_name": name,
        "source_file": str(ctx.source.file),
        "source_row": raw["source_row"],
        "snapshot": pd.Timestamp(ctx.source.snapshot) if ctx.source.snapshot else pd.NaT,
    }).astype(CONCESSION_COLUMNS)

    choices = {key: ", ".join(sorted(set(getattr(values, key).values()))) for key in ("licence_type", "commodity")}
    problems = [
        (Reason.MISSING_LICENCE_ID, licence_id.isna(),
         _const(raw, f"the licence id ({fields.licence_id}) is empty; fill it in the source file")),
        (Reason.UNKNOWN_LICENCE_TYPE, unknown_type | licence_type_raw.isna(),
         _quoted(licence_type_raw, "licence type ", f" is not in sources.{name}.values.licence_type; add it "
                 f"there with its canonical type ({choices['licence_type']} ...)")),
        (Reason.UNKNOWN_COMMODITY, unknown_commodity | commodity_raw.isna(),
         _quoted(commodity_raw, "commodity ", f" is not in sources.{name}.values.commodity; add it there "
                 f"with its canonical commodity ({choices['commodity']} ...)")),
        (Reason.UNKNOWN_STATUS, unknown_status,
         _quoted(status_raw, "status ", f" is not in sources.{name}.values.status; add it there with its "
                 "canonical status (active, expired, suspended, pending, unknown)")),
        (Reason.UNPARSEABLE_DATE, bad_granted | bad_expires,
         _date_detail(column("granted"), bad_granted, column("expires"), bad_expires, ctx)),
        (Reason.EXPIRY_BEFORE_GRANT, (expires < granted).fillna(False).astype(bool),
         "expiry date " + expires.dt.strftime("%Y-%m-%d").fillna("") + " is before grant date "
         + granted.dt.strftime("%Y-%m-%d").fillna("") + "; correct the dates in the source file"),
    ]
    return canonical, [(code, mask.to_numpy(dtype=bool), np.asarray(detail, dtype=object))
                       for code, mask, detail in problems]


def _const(raw: pd.DataFrame, message: str) -> pd.Series:
    return pd.Series(message, index=raw.index, dtype=object)


def _quoted(values: pd.Series, before: str, after: str) -> pd.Series:
    shown = ("'" + values.astype(object).where(values.notna(), "") + "'").where(values.notna(), "(empty)")
    return before + shown + after


def _date_detail(granted: pd.Series, bad_granted: pd.Series, expires: pd.Series, bad_expires: pd.Series,
                 ctx: SourceContext) -> np.ndarray:
    """Per record with a bad date: the value, why it is not a date, and the fix (computed for those records only)."""
    formats, fields = ctx.source.date_formats, ctx.source.fields
    detail = np.full(len(granted), None, dtype=object)
    for bad, values, field in ((bad_expires, expires, fields.expires), (bad_granted, granted, fields.granted)):
        at = np.flatnonzero(bad.to_numpy(dtype=bool))  # granted last: its detail wins when both dates are bad
        if not len(at):
            continue
        numeric = pd.api.types.is_numeric_dtype(values)
        for position, value in zip(at, as_text(values).to_numpy(dtype=object)[at], strict=True):
            why = impossible_date(value.strip(), formats)
            if why is not None:
                detail[position] = (f"date '{value}' ({field}) is not a real calendar date ({why}); correct the date "
                                    "in the source file")
            elif numeric:
                detail[position] = (f"date '{value}' ({field}) matches none of sources.{ctx.name}.date_formats "
                                    f"({', '.join(formats)}); column {field} holds numbers, not dates: export it as "
                                    "dates, or add '%Y%m%d' to date_formats if the numbers are written YYYYMMDD")
            else:
                detail[position] = (f"date '{value}' ({field}) matches none of sources.{ctx.name}.date_formats "
                                    f"({', '.join(formats)}); correct the date or add its format")
    return detail
