"""Flaws planted in the synthetic cadastres, each in a record that has that flaw and no other.

A flaw takes a clean rendered record (see `cadastres.RECORD_COLUMNS`), made from a background licence far
from any detection, and returns the flawed record(s) with the ingest outcome they must get (`expected`:
a quarantine `Reason` code, or "repaired"). `flaw_plan` says which flaws a file format can hold (a
Shapefile holds only polygons; only the CSV has WKT to garble; a GeoPackage DATE column holds only dates).
`interleave` then hides the flawed records among the clean ones, each exact duplicate after its original.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from mrumonitor.config import SourceSettings
from mrumonitor.demo.cadastres import NationalStyle, date_value, holder_name, round_coordinates
from mrumonitor.schema import Reason

#: A geometry flaw meant to put a licence outside its country must put it at least this far outside.
OUTSIDE_MIN_KM = 20.0


@dataclass(frozen=True)
class NationalFlaws:
    """National text that the config's vocabulary does not know, and CRSs a clerk might mix up."""

    licence_type: str
    commodity: str
    status: str
    dates: tuple[str, ...]  # unparseable date text; () where the file has real date columns
    wrong_crs: tuple[str, ...]  # CRSs whose coordinates get written by mistake


NATIONAL_FLAWS: dict[str, NationalFlaws] = {
    "sle": NationalFlaws("Mining Lease", "Coltan", "Revoked", ("31/02/2024", "N/A"), ("EPSG:4326", "EPSG:32628")),
    "gin": NationalFlaws("Concession minière", "Graphite", "Annulé", ("bientôt", "31/02/2024"), ("EPSG:32629",)),
    "lbr": NationalFlaws("Class D", "Coltan", "Cancelled", (), ()),
    "civ": NationalFlaws(
        "Permis de prospection", "Cuivre", "Retiré", ("31/02/2024", "bientôt"), ("EPSG:4326", "EPSG:32629")
    ),
}

#: Garbled WKT found in hand-edited CSV exports (only a CSV can hold these).
GARBAGE_WKT = (
    "POLYGON ((-5.52 8.91, -5.50 8.91, -5.50",
    "POLYGONE ((-5.52 8.91, -5.50 8.91, -5.50 8.93, -5.52 8.91))",
    "coordonnées à compléter",
)


@dataclass(frozen=True)
class FlawContext:
    """What a flaw needs beyond the record: the file's style and vocabulary, and where the country is."""

    style: NationalStyle
    source: SourceSettings
    flaws: NationalFlaws
    outline: BaseGeometry  # the country's outline, in `analysis_crs`
    detections: shapely.STRtree  # detection points, in `analysis_crs`
    analysis_crs: CRS
    rng: np.random.Generator


#: A flaw: (clean record, context, variant number) -> flawed records, or None if the record does not suit.
Flaw = Callable[[dict, FlawContext, int], list[dict] | None]


def flaw_plan(source: SourceSettings, flaws: NationalFlaws) -> list[str]:
    """Names of the flaws (see `FLAWS`) to plant in one file, repeated for each variant wanted."""
    plan = [
        "bow_tie",
        "bow_tie",
        "empty_geometry",
        "swapped_coordinates",
        "missing_licence_id",
        "missing_licence_id",
        "unknown_licence_type",
        "unknown_commodity",
        "unknown_status",
        "expiry_before_grant",
        "expiry_before_grant",
        "conflicting_holder",
        "conflicting_geometry",
    ]
    plan += ["wrong_crs"] * len(flaws.wrong_crs) + ["unparseable_date"] * len(flaws.dates)
    if source.format != "shapefile":
        plan += ["point_geometry", "line_geometry", "empty_geometry"]
    if source.format == "csv":
        plan += ["unparseable_geometry"] * len(GARBAGE_WKT)
    return plan


def plant_flaws(records: pd.DataFrame, bases: pd.DataFrame, context: FlawContext) -> pd.DataFrame:
    """Flawed records: those of `flaw_plan` built from `bases`, plus exact copies of two clean `records`.

    One copy repeats a licence that covers detections and one a background licence; their `after` column
    names the original, which `interleave` keeps in front.
    """
    supply: Iterator[dict] = iter(bases.to_dict("records"))
    flawed: list[dict] = []
    seen: dict[str, int] = {}
    for name in flaw_plan(context.source, context.flaws):
        variant = seen[name] = seen.get(name, -1) + 1
        flawed.extend(_first_fit(FLAWS[name], supply, context, variant, name))
    planted = records[records["category"] != "background"]
    for pool in (planted, records[records["category"] == "background"]):
        original = pool.iloc[int(context.rng.integers(len(pool)))].to_dict()
        flawed.append(
            original
            | _outcome(Reason.DUPLICATE_LICENCE_ID, "duplicate", "exact copy of an earlier record")
            | {"after": original["licence_id"]}
        )
    return pd.DataFrame(flawed)


def _first_fit(flaw: Flaw, supply: Iterator[dict], context: FlawContext, variant: int, name: str) -> list[dict]:
    """Apply `flaw` to the next base records until one suits it."""
    for base in supply:
        result = flaw(dict(base), context, variant)
        if result is not None:
            return result
    raise RuntimeError(f"ran out of background licences to plant the flaw {name!r}; raise FLAW_BASES")


def interleave(records: pd.DataFrame, flawed: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Clean and flawed records in one seeded random order, each exact duplicate after its original."""
    keys = pd.Series(rng.random(len(records)), index=records["licence_id"].to_numpy())
    after = flawed["after"].to_numpy()
    flawed_keys = rng.random(len(flawed))
    has_original = pd.notna(after)
    start = keys.reindex(after[has_original]).to_numpy()
    flawed_keys[has_original] = start + (1 - start) * flawed_keys[has_original]
    ordered = pd.concat([records.assign(_key=keys.to_numpy()), flawed.drop(columns="after").assign(_key=flawed_keys)])
    return ordered.sort_values("_key", kind="stable").drop(columns="_key").reset_index(drop=True)


def _outcome(expected: str, category: str, detail: str) -> dict:
    """The ground-truth columns of a flawed record."""
    return {"expected": str(expected), "category": category, "detail": detail, "after": None}


# --- the flaws ----------------------------------------------------------------------------------------------


def _bow_tie(record: dict, context: FlawContext, variant: int) -> list[dict] | None:
    """Two neighbouring vertices swapped: a self-intersecting ring that make_valid repairs."""
    ring = shapely.get_coordinates(record["geometry"].exterior)[:-1]
    if len(ring) < 4:
        return None
    ring[[1, 2]] = ring[[2, 1]]
    bow_tie = shapely.Polygon(ring)
    if bow_tie.is_valid:
        return None
    return [record | {"geometry": bow_tie} | _outcome("repaired", "bow_tie", "vertices 2 and 3 swapped")]


def _empty_geometry(record: dict, context: FlawContext, variant: int) -> list[dict]:
    """No geometry at all (variant 0) or an empty polygon (variant 1)."""
    geometry, detail = (None, "null geometry") if variant == 0 else (shapely.Polygon(), "POLYGON EMPTY")
    return [record | {"geometry": geometry} | _outcome(Reason.EMPTY_GEOMETRY, "empty_geometry", detail)]


def _point_geometry(record: dict, context: FlawContext, variant: int) -> list[dict]:
    """The licence's centroid instead of its polygon."""
    point = round_coordinates(np.array([record["geometry"].centroid]), CRS(context.style.crs))[0]
    return [record | {"geometry": point} | _outcome(Reason.NOT_POLYGON, "point_geometry", "a point")]


def _line_geometry(record: dict, context: FlawContext, variant: int) -> list[dict]:
    """The licence's boundary as a line instead of its polygon."""
    line = shapely.LineString(record["geometry"].exterior.coords)
    return [record | {"geometry": line} | _outcome(Reason.NOT_POLYGON, "line_geometry", "boundary as a line")]


def _unparseable_geometry(record: dict, context: FlawContext, variant: int) -> list[dict]:
    """WKT text that no parser reads (the record's geometry column holds the raw text)."""
    text = GARBAGE_WKT[variant % len(GARBAGE_WKT)]
    return [record | {"geometry": text} | _outcome(Reason.UNPARSEABLE_GEOMETRY, "unparseable_geometry", text)]


def _swapped_coordinates(record: dict, context: FlawContext, variant: int) -> list[dict] | None:
    """x and y (or lon and lat) exchanged: the licence lands far outside its country."""
    swapped = shapely.transform(record["geometry"], lambda coords: coords[:, ::-1])
    if not _far_outside(swapped, CRS(context.style.crs), context):
        return None
    return [record | {"geometry": swapped} | _outcome(Reason.OUTSIDE_COUNTRY, "swapped_coordinates", "x/y swapped")]


def _wrong_crs(record: dict, context: FlawContext, variant: int) -> list[dict] | None:
    """Coordinates of another CRS (another UTM zone, or degrees) written where the file's CRS is expected."""
    wrong = CRS(context.flaws.wrong_crs[variant % len(context.flaws.wrong_crs)])
    moved = gpd.GeoSeries([record["geometry"]], crs=context.style.crs).to_crs(wrong).to_numpy()
    geometry = round_coordinates(moved, wrong)[0]
    if not _far_outside(geometry, CRS(context.style.crs), context):
        return None
    detail = f"coordinates in {wrong.to_string()} written as {context.style.crs}"
    return [record | {"geometry": geometry} | _outcome(Reason.OUTSIDE_COUNTRY, "wrong_crs", detail)]


def _far_outside(geometry: BaseGeometry, crs: CRS, context: FlawContext) -> bool:
    """Whether `geometry` (read as `crs`) lies OUTSIDE_MIN_KM outside the country and covers no detection."""
    moved = gpd.GeoSeries([geometry], crs=crs).to_crs(context.analysis_crs).iloc[0]
    if not np.isfinite(shapely.get_coordinates(moved)).all():
        return False
    far = context.outline.distance(moved.point_on_surface()) > OUTSIDE_MIN_KM * 1000
    return far and not len(context.detections.query(moved, predicate="intersects"))


def _missing_licence_id(record: dict, context: FlawContext, variant: int) -> list[dict]:
    """No licence number: an empty text (variant 0) or a null (variant 1)."""
    value = "" if variant == 0 else None
    return [record | {"licence_id": value} | _outcome(Reason.MISSING_LICENCE_ID, "missing_licence_id", repr(value))]


def _unknown_term(field: str, reason: Reason) -> Flaw:
    """A flaw writing a term of `field` that the config's vocabulary does not have."""

    def flaw(record: dict, context: FlawContext, variant: int) -> list[dict]:
        term = getattr(context.flaws, field)
        return [record | {field: term} | _outcome(reason, str(reason), repr(term))]

    flaw.__doc__ = f"A {field} term missing from the config's vocabulary."
    return flaw


def _unparseable_date(record: dict, context: FlawContext, variant: int) -> list[dict]:
    """Date text that none of the source's date formats parse, in the grant (even) or expiry (odd) date."""
    field = ("granted", "expires")[variant % 2]
    text = context.flaws.dates[variant % len(context.flaws.dates)]
    return [record | {field: text} | _outcome(Reason.UNPARSEABLE_DATE, "unparseable_date", f"{field} {text!r}")]


def _expiry_before_grant(record: dict, context: FlawContext, variant: int) -> list[dict]:
    """An expiry date one to five years before the grant date."""
    rng = context.rng
    granted = dt.date(2016, 1, 1) + dt.timedelta(days=int(rng.integers(0, 3000)))
    expires = granted - dt.timedelta(days=int(rng.integers(365, 5 * 365)))
    dates = {"granted": date_value(granted, context.style, rng), "expires": date_value(expires, context.style, rng)}
    detail = f"expires {expires} before granted {granted}"
    return [record | dates | _outcome(Reason.EXPIRY_BEFORE_GRANT, "expiry_before_grant", detail)]


def _conflicting_holder(record: dict, context: FlawContext, variant: int) -> list[dict]:
    """The same licence number twice, with different holders: both records conflict."""
    other = record["holder"]
    while other == record["holder"]:
        other = holder_name(context.style, context.rng)
    outcome = _outcome(Reason.CONFLICTING_LICENCE_ID, "conflicting_holder", "same id, other holder")
    return [record | outcome, record | {"holder": other} | outcome]


def _conflicting_geometry(record: dict, context: FlawContext, variant: int) -> list[dict]:
    """The same licence number twice, the second polygon shifted by 400 m: both records conflict."""
    shift = 0.004 if CRS(context.style.crs).is_geographic else 400.0
    moved = shapely.transform(record["geometry"], lambda coords: coords + shift)
    moved = round_coordinates(np.array([moved]), CRS(context.style.crs))[0]
    outcome = _outcome(Reason.CONFLICTING_LICENCE_ID, "conflicting_geometry", "same id, shifted polygon")
    return [record | outcome, record | {"geometry": moved} | outcome]


#: Every flaw `flaw_plan` may name.
FLAWS: dict[str, Flaw] = {
    "bow_tie": _bow_tie,
    "empty_geometry": _empty_geometry,
    "point_geometry": _point_geometry,
    "line_geometry": _line_geometry,
    "unparseable_geometry": _unparseable_geometry,
    "swapped_coordinates": _swapped_coordinates,
    "wrong_crs": _wrong_crs,
    "missing_licence_id": _missing_licence_id,
    "unknown_licence_type": _unknown_term("licence_type", Reason.UNKNOWN_LICENCE_TYPE),
    "unknown_commodity": _unknown_term("commodity", Reason.UNKNOWN_COMMODITY),
    "unknown_status": _unknown_term("status", Reason.UNKNOWN_STATUS),
    "unparseable_date": _unparseable_date,
    "expiry_before_grant": _expiry_before_grant,
    "conflicting_holder": _conflicting_holder,
    "conflicting_geometry": _conflicting_geometry,
}
