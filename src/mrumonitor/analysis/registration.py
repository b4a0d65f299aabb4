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

Everything is vectorised, and runs chunk by chunk so that memory stays bounded at any number of sites: the
footprints are taken in spatial order (Hilbert order of their envelopes) in chunks of at most
`CHUNK_FOOTPRINTS`, one chunk per core at a time (`threads.in_threads`; each thread overlays with its own
prepared copy of the licences). For each chunk, one spatial-index query gives the (footprint, licence record)
pairs whose envelopes meet, of which the records in force for the footprint's period are kept (judged once
per record and period, not per pair), and the licences of a footprint are applied in precedence order, pass k
taking the k-th licence of every footprint at once (a loop over a footprint's number of licences, never over
footprints): a licence takes what it covers of the part earlier licences left, whole where it covers it all
(a prepared `covers`, no overlay); one that does not meet that part is skipped; a footprint with nothing left
needs no overlay with its later licences. A footprint's pieces depend only on its own licences, so the chunks
give the same answers as one pass over all footprints would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.analysis.licence_history import in_force, licence_snapshots
from mrumonitor.analysis.threads import MIN_SPLIT, PreparedCopies, in_threads, workers
from mrumonitor.config import PeriodSettings
from mrumonitor.polygons import polygonal
from mrumonitor.schema import (
    PRODUCTION_LICENCE_TYPES,
    REGISTRATION_CLASSES,
    SITE_REGISTRATION_COLUMNS,
    UNREGISTERED_CLASSES,
)

log = logging.getLogger(__name__)

#: Footprints registered at once, one chunk per core at a time. A chunk's working memory (licence pairs,
#: overlays) is about 50 MB at 3 licences a footprint; the answers do not depend on it.
CHUNK_FOOTPRINTS = 50_000

_EMPTY = shapely.MultiPolygon()

#: Pieces smaller than this (hectares; 0.01 m²) are overlay noise and dropped.
_NOISE_HA = 1e-6

#: The `concessions` columns a licence record is judged by (`in_force`, `licence_classes`).
_JUDGED = ("country", "snapshot", "licence_type", "commodity", "status", "granted", "expires")
_REGISTERED, _WRONG_COMMODITY, _NO_LICENCE, _NOT_ASSESSED = (
    REGISTRATION_CLASSES.index(name) for name in ("registered", "wrong_commodity", "no_licence", "not_assessed"))


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
    names = [period.name for period in periods]
    period = pd.Categorical(footprints["period"], names).codes.astype(np.int64)
    if (period < 0).any():
        unknown = sorted(map(str, footprints["period"][period < 0].unique()))
        raise ValueError(f"site footprints of period(s) {', '.join(unknown)} that the configuration "
                         f"does not list; valid periods: {', '.join(names)}")
    snapshots = licence_snapshots(concessions, periods, countries)
    licences = _Licences.of(concessions, periods, snapshots)
    sites = _Sites.of(footprints, period, commodity, assessed)
    chunks = _spatial_chunks(sites.geometry)
    done = in_threads(lambda chunk: _register_chunk(sites, licences, *chunk), list(enumerate(chunks, start=1)))
    pieces = pd.concat([chunk_pieces for chunk_pieces, _ in done], ignore_index=True)
    main = pd.concat([summary.set_axis(rows) for rows, (_, summary) in zip(chunks, done, strict=True)]).sort_index()
    return Registration(_layer(pieces, sites, licences, footprints.crs), _per_period(main, licences), snapshots)


@dataclass(frozen=True)
class _Sites:
    """The footprints as arrays: geometry, period (position in the periods), the site's commodity, the site_id
    and period columns (pandas arrays, taken for the pieces), and where the cadastres apply."""

    geometry: np.ndarray
    period: np.ndarray
    commodity: np.ndarray
    site_id: pd.api.extensions.ExtensionArray
    name: pd.api.extensions.ExtensionArray
    assessed: PreparedCopies | None

    @classmethod
    def of(cls, footprints: gpd.GeoDataFrame, period: np.ndarray, commodity: pd.Series,
           assessed: shapely.Geometry | None) -> _Sites:
        return cls(np.asarray(footprints.geometry), period, footprints["site_id"].map(commodity).to_numpy(dtype=object),
                   footprints["site_id"].array, footprints["period"].array,
                   None if assessed is None else PreparedCopies(np.array([assessed])))


@dataclass(frozen=True)
class _Licences:
    """The licence records as arrays: geometries, their index and a prepared copy per thread, licence ids
    (`order`: the rank of each record's id among the sorted ids), and the class each record gives in each
    period before the site's commodity is known (`rank`: records x periods, position in REGISTRATION_CLASSES
    by rules 1-4, else registered; -1 where the record is not in force), judged once per record and period."""

    geometry: np.ndarray
    tree: shapely.STRtree
    licence_id: pd.api.extensions.ExtensionArray
    order: np.ndarray
    commodity: np.ndarray
    rank: np.ndarray
    copies: PreparedCopies

    @classmethod
    def of(cls, concessions: gpd.GeoDataFrame, periods: list[PeriodSettings], snapshots: pd.DataFrame) -> _Licences:
        n, m = len(concessions), len(periods)
        records = pd.DataFrame({column: concessions[column].to_numpy() for column in _JUDGED if column in concessions})
        records = records.iloc[np.tile(np.arange(n), m)].reset_index(drop=True)
        period = np.repeat(np.arange(m), n)
        keep, dates_only = in_force(records, np.array([p.name for p in periods], dtype=object)[period], snapshots)
        records["status"] = records["status"].mask(dates_only, "unknown")
        on = np.array([p.observed_on for p in periods], dtype="datetime64[D]")[period]
        classes = licence_classes(records, on, records["commodity"].to_numpy(dtype=object))  # rule 5 never applies
        rank = np.where(keep, pd.Categorical(classes, REGISTRATION_CLASSES).codes, -1).astype(np.int8)
        geometry = np.asarray(concessions.geometry)
        return cls(geometry, shapely.STRtree(geometry), concessions["licence_id"].array,
                   pd.factorize(concessions["licence_id"], sort=True)[0],
                   concessions["commodity"].to_numpy(dtype=object), rank.reshape(m, n).T, PreparedCopies(geometry))


def _spatial_chunks(geoms: np.ndarray) -> list[np.ndarray]:
    """Footprint positions in chunks of at most CHUNK_FOOTPRINTS, at least one per core, neighbours together
    (Hilbert order of the envelopes' centres; empty geometries last), so each chunk asks the licence index
    about one area."""
    drawn = ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)
    inside = np.flatnonzero(drawn)
    hilbert = gpd.GeoSeries(geoms[inside]).hilbert_distance().to_numpy() if len(inside) else inside
    order = np.concatenate([inside[np.argsort(hilbert, kind="stable")], np.flatnonzero(~drawn)])
    count = max(-(-len(order) // CHUNK_FOOTPRINTS), workers() if len(order) >= MIN_SPLIT else 1)
    return np.array_split(order, count)


def _register_chunk(sites: _Sites, licences: _Licences, number: int,
                    rows: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pieces of the footprints `rows` (chunk `number`: item, rank, licence (-1: none), area_ha, geometry),
    and the main class of each footprint (`_main_class`, aligned with `rows`).

    The index is asked for the licences whose envelope meets each footprint: whether a licence really meets
    it is tested only where it is needed (`_resolve_overlaps`), not for the licences that come after one
    covering the footprint whole.
    """
    start, cpu = time.perf_counter(), time.thread_time()
    geoms = sites.geometry[rows]
    item, lic = licences.tree.query(geoms)
    rank = licences.rank[lic, sites.period[rows][item]]
    item, lic, rank = item[rank >= 0], lic[rank >= 0], rank[rank >= 0]
    other = (rank == _REGISTERED) & (licences.commodity[lic] != sites.commodity[rows][item])
    rank[other] = _WRONG_COMMODITY
    order = np.lexsort((licences.order[lic], rank, item))
    item, lic, rank = item[order], lic[order], rank[order]
    licensed, remaining = _resolve_overlaps(item, licences.copies.prepared()[lic], geoms)
    rest = _pieces(np.arange(len(rows)), np.full(len(rows), _NO_LICENCE, dtype=np.int8), np.full(len(rows), -1),
                   remaining)
    if sites.assessed is not None:
        rest = _outside_assessed(rest, sites.assessed.prepared()[0])
    pieces = pd.concat([_pieces(item, rank, lic, licensed), rest], ignore_index=True)
    summary = _main_class(pieces, len(rows))
    log.debug("registration chunk %d: %d footprints, %d licence pairs, %.2f s (%.2f s CPU)", number, len(rows),
              len(item), time.perf_counter() - start, time.thread_time() - cpu)
    return pieces.assign(item=rows[pieces["item"].to_numpy()]), summary


def _resolve_overlaps(item: np.ndarray, licences: np.ndarray, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each footprint's piece under each of its licences, in precedence order: what the licence covers of the
    part earlier licences left (empty where it covers none of it).

    `item` must be sorted with the licences (`licences`, prepared) in precedence order within each footprint;
    pass k handles the k-th licence of every footprint at once. A licence covering what is left takes it whole
    (no overlay); one that does not meet it is skipped; a footprint with nothing left needs none of its later
    licences. Returns the pieces and, per footprint, the part no licence covers.
    """
    remaining = geoms.copy()
    pieces = np.full(len(item), _EMPTY, dtype=object)
    left = np.ones(len(geoms), dtype=bool)
    position = pd.Series(item).groupby(item).cumcount().to_numpy()
    for k in range(int(position.max()) + 1 if len(position) else 0):
        at = np.flatnonzero((position == k) & left[item])
        if not len(at):
            break
        whole = shapely.covers(licences[at], remaining[item[at]])
        pieces[at[whole]] = remaining[item[at[whole]]]
        remaining[item[at[whole]]] = _EMPTY
        left[item[at[whole]]] = False
        at = at[~whole]
        at = at[shapely.intersects(licences[at], remaining[item[at]])]
        rest = remaining[item[at]]
        pieces[at] = _polygonal(shapely.intersection(rest, licences[at]))
        remaining[item[at]] = _polygonal(shapely.difference(rest, licences[at]))
        left[item[at]] = ~shapely.is_empty(remaining[item[at]])
    return pieces, remaining


def _pieces(item: np.ndarray, rank: np.ndarray, licence: np.ndarray, geoms: np.ndarray) -> pd.DataFrame:
    """Pieces as a frame (item, rank, licence, area_ha, geometry), overlay noise dropped."""
    area = shapely.area(geoms) / 10_000.0
    keep = area > _NOISE_HA
    return pd.DataFrame({"item": item[keep], "rank": rank[keep], "licence": licence[keep], "area_ha": area[keep],
                         "geometry": geoms[keep]})


def _outside_assessed(rest: pd.DataFrame, assessed: shapely.Geometry) -> pd.DataFrame:
    """Split no_licence pieces at the edge of the assessed area (prepared); the part outside is not_assessed."""
    geoms = rest["geometry"].to_numpy()
    inside = shapely.covers(assessed, geoms)
    cut = ~inside & shapely.intersects(assessed, geoms)
    inner, outer = geoms.copy(), geoms.copy()
    inner[cut] = shapely.intersection(geoms[cut], assessed)
    outer[cut] = shapely.difference(geoms[cut], assessed)
    within = rest[inside | cut].assign(geometry=inner[inside | cut])
    outside = rest[~inside].assign(rank=np.int8(_NOT_ASSESSED), geometry=outer[~inside])
    split = pd.concat([within, outside], ignore_index=True)
    split["geometry"] = _polygonal(split["geometry"].to_numpy())
    split["area_ha"] = shapely.area(split["geometry"].to_numpy()) / 10_000.0
    return split[split["area_ha"] > _NOISE_HA].reset_index(drop=True)


def _layer(pieces: pd.DataFrame, sites: _Sites, licences: _Licences, crs) -> gpd.GeoDataFrame:
    """The `site_registration` layer: the pieces sorted by period, site_id, class (in precedence order) and
    licence_id (none last)."""
    footprint = np.empty(len(sites.geometry), dtype=np.int64)
    footprint[np.lexsort((pd.factorize(sites.site_id, sort=True)[0], pd.factorize(sites.name, sort=True)[0]))] = \
        np.arange(len(footprint))
    licence = np.append(licences.order, len(licences.order))[pieces["licence"].to_numpy()]  # -1 (none): last
    pieces = pieces.take(np.lexsort((licence, pieces["rank"].to_numpy(), footprint[pieces["item"].to_numpy()])))
    item = pieces["item"].to_numpy()
    layer = gpd.GeoDataFrame({
        "site_id": sites.site_id.take(item), "period": sites.name.take(item),
        "registration": pd.Categorical.from_codes(pieces["rank"].to_numpy(), REGISTRATION_CLASSES),
        "licence_id": licences.licence_id.take(pieces["licence"].to_numpy(), allow_fill=True),
        "area_ha": pieces["area_ha"].to_numpy()}, geometry=pieces["geometry"].to_numpy(), crs=crs)
    return layer.astype(SITE_REGISTRATION_COLUMNS)


def _main_class(pieces: pd.DataFrame, n: int) -> pd.DataFrame:
    """Per footprint (`item` 0 to `n` - 1): its main class (the largest by area; ties to the earlier class; -1
    without pieces), the licence of its largest licensed piece of that class (-1: none), and its registered and
    unregistered areas."""
    item, rank, lic, area = (pieces[column].to_numpy() for column in ("item", "rank", "licence", "area_ha"))
    by_class = pd.DataFrame({"item": item, "rank": rank, "area_ha": area}).groupby(["item", "rank"], as_index=False)[
        "area_ha"].sum()
    main = by_class.take(np.lexsort((by_class["rank"], -by_class["area_ha"], by_class["item"])))
    main = main[~main["item"].duplicated()]
    main_rank = np.full(n, -1)
    main_rank[main["item"].to_numpy()] = main["rank"].to_numpy()
    licensed = np.flatnonzero((lic >= 0) & (rank == main_rank[item]))
    licensed = licensed[np.lexsort((-area[licensed], item[licensed]))]
    largest = licensed[np.r_[True, item[licensed][1:] != item[licensed][:-1]]] if len(licensed) else licensed
    licence = np.full(n, -1)
    licence[item[largest]] = lic[largest]
    return pd.DataFrame({"rank": main_rank, "licence": licence,
                         "registered_ha": _area_of(("registered",), item, rank, area, n),
                         "unregistered_ha": _area_of(UNREGISTERED_CLASSES, item, rank, area, n)})


def _per_period(main: pd.DataFrame, licences: _Licences) -> pd.DataFrame:
    """`Registration.per_period` from the `_main_class` of every footprint."""
    return pd.DataFrame({
        "registration": pd.Categorical.from_codes(main["rank"].to_numpy(), REGISTRATION_CLASSES),
        "licence_id": licences.licence_id.take(main["licence"].to_numpy(), allow_fill=True),
        "registered_ha": main["registered_ha"].to_numpy(), "unregistered_ha": main["unregistered_ha"].to_numpy(),
    }).astype({"registration": "string", "licence_id": "string"})


def _area_of(classes: Sequence[str], item: np.ndarray, rank: np.ndarray, area: np.ndarray, n: int) -> np.ndarray:
    """Per footprint (0 to `n` - 1), the area of its pieces of `classes`."""
    chosen = np.isin(rank, [REGISTRATION_CLASSES.index(name) for name in classes])
    return np.bincount(item[chosen], weights=area[chosen], minlength=n).astype(np.float64)  # int64 when empty


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """The polygonal parts of overlay results (an empty MultiPolygon where none is left, so unions hold)."""
    return polygonal(geoms, missing=_EMPTY)
