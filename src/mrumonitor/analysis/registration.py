"""Unregistered production: each site's footprint, in each period, against the licences valid that day.

Which record of a licence judges a period comes from the cadastre snapshots (`analysis.licence_history`): the
record of the newest snapshot of the licence's country on or before the observation day; a period older than
every snapshot of the country is judged from the earliest snapshot's records by their dates only (their status
is read as ``unknown``); records of sources without a snapshot date count in every period. A licence that the
snapshot in force lacks covers nothing in that period: a status is never carried back before the snapshot
that first shows it.

A licence (its record in force) gives the part of a footprint it covers one class, judged on the period's
observation day `d` (`PeriodSettings.observed_on`) for the site's commodity `c`; the first rule that applies
wins:

1. status ``suspended``                                            -> suspended
2. status ``expired``, or an expiry date before `d`                 -> expired_licence
3. status ``pending``, or granted after `d` (not yet in force)      -> no_licence (the licence id is kept)
4. a type that allows no production (exploration, reconnaissance,
   or `other`, which the cadastre does not say allows it)           -> exploration_only
5. commodity other than `c`                                         -> wrong_commodity
6. otherwise (status active, or unknown and in force by its dates)  -> registered

A licence is in force through its expiry day: one that expires on `d` still covers `d`, one that expired
the day before does not. Where licences overlap, a piece takes the class that comes first in
`REGISTRATION_CLASSES` (the licence nearest to a valid production right); the part of a footprint no licence
covers is ``no_licence`` where it lies in a country of the project, and ``not_assessed`` outside them
(a neighbour such as Ghana, whose cadastre the platform does not hold, or the sea): activity there is shown,
never called unregistered. The pieces of a footprint sum to its area: a site half inside a licence is half
``registered`` (say) and half ``no_licence``.

Everything is vectorised: one spatial-index query for all (footprint, licence record) pairs, of which the
records of the snapshot in force for the footprint's period and the licence's country are kept, array-wise
intersections (skipped where a licence covers the footprint whole), and the overlaps between licences
resolved rank by rank (a loop over a footprint's number of licences, never over footprints). The overlays
run on every core (`threads`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.analysis.licence_history import in_force, licence_snapshots
from mrumonitor.analysis.threads import query, threaded, threaded_by
from mrumonitor.config import PeriodSettings
from mrumonitor.polygons import polygonal
from mrumonitor.schema import (
    PRODUCTION_LICENCE_TYPES,
    REGISTRATION_CLASSES,
    SITE_REGISTRATION_COLUMNS,
    UNREGISTERED_CLASSES,
)

_EMPTY = shapely.MultiPolygon()

#: Pieces smaller than this (hectares; 0.01 m²) are overlay noise and dropped.
_NOISE_HA = 1e-6


@dataclass(frozen=True)
class Registration:
    """What `register` found.

    Attributes
    ----------
    pieces : GeoDataFrame
        SITE_REGISTRATION_COLUMNS + geometry: every footprint cut by class and licence.
    per_period : DataFrame
        One row per row of the input footprints (same order): registration (the class with the largest
        area; ties go to the earlier class), licence_id (of the largest licensed piece of that class),
        registered_ha, unregistered_ha.
    licence_snapshots : DataFrame
        LICENCE_SNAPSHOT_COLUMNS: per period and country, the cadastre snapshot its licences were judged from.
    """

    pieces: gpd.GeoDataFrame
    per_period: pd.DataFrame
    licence_snapshots: pd.DataFrame


def licence_classes(licences: pd.DataFrame, on: np.ndarray, commodity: np.ndarray) -> np.ndarray:
    """Class each licence gives activity of `commodity` seen on day `on` (rules of the module docstring).

    Parameters
    ----------
    licences : DataFrame
        Canonical `concessions` columns licence_type, commodity, status, granted, expires; one row per pair.
    on : array of datetime64
        Observation day of each pair.
    commodity : array of str
        Commodity of the site of each pair.
    """
    status = licences["status"].to_numpy(dtype=object)
    granted = licences["granted"].to_numpy(dtype="datetime64[D]")
    expires = licences["expires"].to_numpy(dtype="datetime64[D]")
    on = np.asarray(on, dtype="datetime64[D]")
    conditions = [
        status == "suspended",
        (status == "expired") | (~np.isnat(expires) & (expires < on)),
        (status == "pending") | (~np.isnat(granted) & (granted > on)),
        ~licences["licence_type"].isin(PRODUCTION_LICENCE_TYPES).to_numpy(),
        licences["commodity"].to_numpy(dtype=object) != np.asarray(commodity, dtype=object),
    ]
    choices = ["suspended", "expired_licence", "no_licence", "exploration_only", "wrong_commodity"]
    return np.select(conditions, choices, default="registered").astype(object)


def register(
    footprints: gpd.GeoDataFrame,
    concessions: gpd.GeoDataFrame,
    commodity: pd.Series,
    periods: list[PeriodSettings],
    assessed: shapely.Geometry | None = None,
    countries: Sequence[str] = (),
) -> Registration:
    """Cut each footprint by the licences covering it and class every piece.

    Parameters
    ----------
    footprints : GeoDataFrame
        site_id, period, area_ha, geometry: `site_periods` (analysis CRS).
    concessions : GeoDataFrame
        The canonical `concessions` layer, in the same CRS: every snapshot of every country.
    commodity : Series
        Commodity of each site, indexed by site_id.
    periods : list of PeriodSettings
        The periods of `footprints`, giving each its observation day.
    assessed : shapely geometry, optional
        Where the cadastres apply (the project countries' outlines, unioned). Unlicensed area outside it is
        ``not_assessed``. Default: everywhere.
    countries : sequence of str
        The countries whose licence snapshots are reported (the project's), besides those of `concessions`.

    Returns
    -------
    Registration

    Raises
    ------
    ValueError
        When the layers are in different CRSs, or a footprint's period is not among `periods`.
    """
    if concessions.crs != footprints.crs:
        raise ValueError(f"concessions are in {concessions.crs}, the site footprints in {footprints.crs}; "
                         f"bring both to the analysis CRS first")
    observed = {period.name: np.datetime64(period.observed_on, "D") for period in periods}
    unknown = set(footprints["period"]) - set(observed)
    if unknown:
        raise ValueError(f"site footprints of period(s) {', '.join(sorted(unknown))} that the configuration "
                         f"does not list; valid periods: {', '.join(observed)}")
    geoms = np.asarray(footprints.geometry)
    snapshots = licence_snapshots(concessions, periods, countries)
    licensed, remaining = _licensed_pieces(footprints, geoms, concessions, commodity, observed, snapshots)
    rest = _uncovered(footprints, remaining)
    if assessed is not None:
        rest = _outside_assessed(rest, assessed)
    pieces = pd.concat([licensed, rest], ignore_index=True)
    layer = gpd.GeoDataFrame(pieces, geometry="geometry", crs=footprints.crs)
    layer = layer.sort_values(["period", "site_id", "registration", "licence_id"], key=_class_order,
                              ignore_index=True)
    return Registration(layer[[*SITE_REGISTRATION_COLUMNS, "geometry"]].astype(SITE_REGISTRATION_COLUMNS),
                        _per_period(pieces, len(footprints)), snapshots)


def _licensed_pieces(footprints, geoms, concessions, commodity, observed,
                     snapshots) -> tuple[pd.DataFrame, np.ndarray]:
    """The pieces of footprints under a licence record in force, overlaps resolved (item, class, licence, area,
    geometry), and the part of each footprint that no licence covers."""
    licences = np.asarray(concessions.geometry)
    item, lic = query(shapely.STRtree(licences), geoms, "intersects")
    keep, dates_only = in_force(concessions.iloc[lic], footprints["period"].to_numpy()[item], snapshots)
    item, lic, dates_only = item[keep], lic[keep], dates_only[keep]
    attributes = concessions.iloc[lic]
    attributes = attributes.assign(status=attributes["status"].mask(dates_only, "unknown"))
    on = footprints["period"].map(observed).to_numpy()[item]
    site_commodity = footprints["site_id"].map(commodity).to_numpy(dtype=object)[item]
    classes = licence_classes(attributes, on, site_commodity)
    whole = _covers(lic, licences, geoms[item])
    pieces = geoms[item].copy()
    pieces[~whole] = threaded(shapely.intersection, pieces[~whole], licences[lic[~whole]])
    pairs = pd.DataFrame({"item": item, "rank": pd.Categorical(classes, REGISTRATION_CLASSES).codes,
                          "registration": classes, "licence_id": attributes["licence_id"].to_numpy(dtype=object),
                          "whole": whole, "geometry": _polygonal(pieces)})
    pairs = pairs.sort_values(["item", "rank", "licence_id"], ignore_index=True)
    resolved, remaining = _resolve_overlaps(pairs["item"].to_numpy(), pairs["geometry"].to_numpy(),
                                            pairs["whole"].to_numpy(), geoms)
    pairs = pairs.drop(columns=["rank", "whole"]).assign(geometry=resolved, area_ha=shapely.area(resolved) / 10_000.0)
    pairs = pairs[pairs["area_ha"] > _NOISE_HA].reset_index(drop=True)
    pairs = pairs.assign(site_id=footprints["site_id"].to_numpy()[pairs["item"]],
                         period=footprints["period"].to_numpy()[pairs["item"]])
    return pairs, remaining


def _covers(lic: np.ndarray, licences: np.ndarray, footprints: np.ndarray) -> np.ndarray:
    """Whether licence `lic` covers its footprint whole (then the piece is the footprint: no overlay needed)."""
    shapely.prepare(licences)
    return threaded_by(shapely.covers, lic, licences[lic], footprints)


def _resolve_overlaps(item: np.ndarray, pieces: np.ndarray, whole: np.ndarray,
                      geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove from each piece what earlier pieces of the same footprint already cover.

    `item` must be sorted with the pieces in precedence order within each footprint; pass k handles the
    k-th piece of every footprint at once. A piece that is its whole footprint (`whole`) leaves nothing to
    the later ones. Returns the resolved pieces and, per footprint, the part no piece covers.
    """
    covered = np.full(len(geoms), None, dtype=object)
    full = np.zeros(len(geoms), dtype=bool)
    position = pd.Series(item).groupby(item).cumcount().to_numpy()
    resolved = pieces.copy()
    for k in range(int(position.max()) + 1 if len(position) else 0):
        at = position == k
        if k:
            done = at & full[item]
            resolved[done] = _EMPTY
            cut = at & ~full[item]
            resolved[cut] = _polygonal(threaded(shapely.difference, pieces[cut], covered[item[cut]]))
            covered[item[cut]] = threaded(shapely.union, covered[item[cut]], pieces[cut])
        else:
            covered[item[at]] = pieces[at]
        full[item[at & whole]] = True
    remaining = geoms.copy()
    remaining[full] = _EMPTY
    cut = pd.notna(covered) & ~full
    remaining[cut] = _polygonal(threaded(shapely.difference, geoms[cut], covered[cut]))
    return resolved, remaining


def _uncovered(footprints: gpd.GeoDataFrame, remaining: np.ndarray) -> pd.DataFrame:
    """The part of each footprint no licence covers, as no_licence pieces."""
    area = shapely.area(remaining) / 10_000.0
    keep = area > _NOISE_HA
    return pd.DataFrame({"item": np.flatnonzero(keep), "site_id": footprints["site_id"].to_numpy()[keep],
                         "period": footprints["period"].to_numpy()[keep], "registration": "no_licence",
                         "licence_id": None, "area_ha": area[keep], "geometry": remaining[keep]})


def _outside_assessed(rest: pd.DataFrame, assessed: shapely.Geometry) -> pd.DataFrame:
    """Split no_licence pieces at the edge of the assessed area; the part outside is not_assessed."""
    geoms = rest["geometry"].to_numpy()
    shapely.prepare(assessed)
    inside = shapely.covers(assessed, geoms)
    cut = ~inside & shapely.intersects(assessed, geoms)
    inner, outer = geoms.copy(), geoms.copy()
    inner[cut] = shapely.intersection(geoms[cut], assessed)
    outer[cut] = shapely.difference(geoms[cut], assessed)
    within = rest[inside | cut].assign(geometry=inner[inside | cut])
    outside = rest[~inside].assign(registration="not_assessed", geometry=outer[~inside])
    split = pd.concat([within, outside], ignore_index=True)
    split["geometry"] = _polygonal(split["geometry"].to_numpy())
    split["area_ha"] = shapely.area(split["geometry"].to_numpy()) / 10_000.0
    return split[split["area_ha"] > _NOISE_HA].reset_index(drop=True)


def _per_period(pieces: pd.DataFrame, n: int) -> pd.DataFrame:
    """Main class, its licence and the registered / unregistered areas of each footprint."""
    by_class = pieces.groupby(["item", "registration"], observed=True)["area_ha"].sum().reset_index()
    by_class["rank"] = pd.Categorical(by_class["registration"], REGISTRATION_CLASSES).codes
    main = by_class.sort_values(["item", "area_ha", "rank"], ascending=[True, False, True]).drop_duplicates("item")
    licensed = pieces[pieces["licence_id"].notna()].merge(main[["item", "registration"]])
    licence = licensed.sort_values(["item", "area_ha"], ascending=[True, False]).drop_duplicates("item")
    registered = pieces["registration"] == "registered"
    index = pd.RangeIndex(n)
    frame = pd.DataFrame({
        "registration": main.set_index("item")["registration"].reindex(index),
        "licence_id": licence.set_index("item")["licence_id"].reindex(index),
        "registered_ha": pieces[registered].groupby("item")["area_ha"].sum().reindex(index, fill_value=0.0),
        "unregistered_ha": pieces[pieces["registration"].isin(UNREGISTERED_CLASSES)]
        .groupby("item")["area_ha"].sum().reindex(index, fill_value=0.0),
    }, index=index)
    return frame.astype({"registration": "string", "licence_id": "string"})


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """The polygonal parts of overlay results (an empty MultiPolygon where none is left, so unions hold)."""
    return polygonal(geoms, missing=_EMPTY)


def _class_order(column: pd.Series) -> pd.Series:
    """Sort key putting registration classes in precedence order (other columns unchanged)."""
    if column.name == "registration":
        return pd.Series(pd.Categorical(column, REGISTRATION_CLASSES).codes, index=column.index)
    return column
