"""Tracking mining sites across periods and runs: stable ids, lineage, and areas split between countries.

The patches of each period come from its activity raster (`mrumonitor.raster.vectorise`: active pixels
polygonised exactly whatever the chunking, patches under the minimum area dropped, area_ha = pixel count x
pixel area). `track_sites` turns the patches of every period into `SiteLayers`, by these rules:

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

The engine: in each period the patches are matched against *candidates*: the previous run's footprints
of this very period (anchors, ranked first so that re-running a published period gives back its ids), and
every other live site's latest footprint before it. Pairs sharing area are taken greedily, best first
(anchor, then larger overlap, larger patch, smaller id), by rounds of mutually best pairs; what is left
over is a merge (a candidate that overlaps a patch but got none) or a split (a patch that overlaps a
candidate but got no id).
"""

from __future__ import annotations

import hashlib
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.schema import SITE_COLUMNS, SITE_COUNTRY_AREA_COLUMNS, SITE_LINEAGE_COLUMNS, SITE_PERIOD_COLUMNS
from mrumonitor.sites.countries import OUTSIDE, country_shares
from mrumonitor.sites.layers import SiteLayers

log = logging.getLogger(__name__)

#: Prefix of every site id.
ID_PREFIX = "MS-"


def track_sites(
    patches_by_period: dict[str, gpd.GeoDataFrame],
    boundaries: gpd.GeoDataFrame,
    previous: SiteLayers | None = None,
) -> SiteLayers:
    """Give the patches of each period stable site ids and build the site layers (rules: the module's docstring).

    Parameters
    ----------
    patches_by_period : dict of str to GeoDataFrame
        Period name -> patches (area_ha, geometry) as `raster.vectorise.vectorise` returns them, periods in time order.
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
    crs = boundaries.crs
    history = _History.of(previous, list(patches_by_period), crs)
    rows, shares = history.rows, [history.shares]
    events = [pd.DataFrame({"site_id": [], "kind": [], "other": [], "order": []}, dtype=object)]
    for order, (period, patches) in enumerate(patches_by_period.items()):
        _check_crs(patches, crs, period)
        patches = patches.reset_index(drop=True)
        share = country_shares(np.asarray(patches.geometry), patches["area_ha"].to_numpy(), boundaries)
        candidates = history.candidates(rows, period, order)
        taken = history.ids | set(rows["site_id"])
        ids, event = _identify(patches, candidates, _main_country(share, len(patches)), taken)
        event["order"] = order
        events.append(event)
        history.retire(event.loc[event["kind"] == "merged", "site_id"])
        found = gpd.GeoDataFrame({"site_id": ids, "period": period, "order": order,
                                  "area_ha": patches["area_ha"].to_numpy(dtype=float)},
                                 geometry=np.asarray(patches.geometry), crs=crs)
        rows = pd.concat([rows, found], ignore_index=True)
        shares.append(share.assign(site_id=ids[share["item"].to_numpy()], period=period, order=order))
        kinds = event["kind"].value_counts()
        log.info("period %s: %d sites (%d new, %d split off, %d merged away)", period, len(found),
                 kinds.get("new", 0), kinds.get("split", 0), kinds.get("merged", 0))
    areas = _country_areas(pd.concat(shares, ignore_index=True))
    layers = SiteLayers(*_assemble(rows, areas, pd.concat(events, ignore_index=True), history, crs))
    log.info("%d sites over %d periods (%d transboundary)", len(layers.sites), layers.site_periods["period"].nunique(),
             layers.sites["transboundary"].sum())
    return layers



def _check_crs(patches: gpd.GeoDataFrame, crs, period: str) -> None:
    """Refuse patches in another CRS than the outlines: areas are only exact on the analysis grid."""
    if patches.crs != crs:
        raise ValueError(f"patches of period {period!r} are in {patches.crs}, the country outlines in {crs}; "
                         "vectorise on the analysis grid and pass outlines in the analysis CRS.")


class _History:
    """What the previous run tells this one: history rows, anchors per period, lineage, retired ids."""

    def __init__(self, rows: gpd.GeoDataFrame, anchors: gpd.GeoDataFrame, shares: pd.DataFrame,
                 lineage: pd.DataFrame, retired: set[str]):
        self.rows, self.anchors, self.shares, self.lineage, self.retired = rows, anchors, shares, lineage, retired
        #: Every id the previous run gave out: never given to another site.
        self.ids = set(lineage.index) | set(rows["site_id"]) | set(anchors["site_id"])

    @classmethod
    def of(cls, previous: SiteLayers | None, periods: list[str], crs) -> _History:
        """Split the previous run into history (periods not processed again) and anchors (the others)."""
        empty = gpd.GeoDataFrame({"site_id": pd.Series(dtype=object), "period": pd.Series(dtype=object),
                                  "order": pd.Series(dtype=np.int64), "area_ha": pd.Series(dtype=float)},
                                 geometry=gpd.GeoSeries(crs=crs), crs=crs)
        no_shares = pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                                  {"site_id": object, "period": object, "order": np.int64,
                                   "country": object, "area_ha": float}.items()})
        if previous is None:
            return cls(empty, empty, no_shares, pd.DataFrame(columns=["merged_into", "split_from"]), set())
        past = previous.site_periods.to_crs(crs)
        past = gpd.GeoDataFrame(past[["site_id", "period", "area_ha"]].astype(object).astype(
            {"area_ha": float}), geometry=np.asarray(past.geometry), crs=crs)
        earlier = [p for p in pd.unique(past["period"]) if p not in periods]
        rank = {p: i - len(earlier) for i, p in enumerate(earlier)}
        past["order"] = past["period"].map(rank).fillna(len(periods)).astype(np.int64)
        history = past[past["order"] < 0].reset_index(drop=True)
        shares = previous.site_country_areas.astype(object).astype({"area_ha": float})
        shares = shares[shares["period"].isin(earlier)].assign(order=lambda f: f["period"].map(rank))
        sites = previous.sites.set_index(previous.sites["site_id"].astype(object))
        lineage = sites.reindex(columns=list(SITE_LINEAGE_COLUMNS)).astype(object)
        lineage = lineage.where(lineage.notna() & (lineage != ""), None)
        retired = set(lineage.index[lineage["merged_into"].notna() & sites["last_seen"].isin(earlier)])
        return cls(history, past[past["order"] >= 0], shares.reset_index(drop=True), lineage, retired)

    def candidates(self, rows: gpd.GeoDataFrame, period: str, order: int) -> gpd.GeoDataFrame:
        """Anchors of `period` (priority 1), then each other live site's latest footprint (priority 0)."""
        anchors = self.anchors[(self.anchors["period"] == period) & ~self.anchors["site_id"].isin(self.retired)]
        latest = rows[rows["order"] < order].sort_values("order", kind="stable").drop_duplicates(
            "site_id", keep="last")
        latest = latest[~latest["site_id"].isin(self.retired) & ~latest["site_id"].isin(anchors["site_id"])]
        both = pd.concat([anchors.assign(priority=1), latest.assign(priority=0)], ignore_index=True)
        return both[["site_id", "priority", "geometry"]]

    def retire(self, site_ids: pd.Series) -> None:
        self.retired.update(site_ids)


def _identify(patches: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, country: np.ndarray,
              taken: set[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Site id of each patch, and the events of the period (site_id, kind: new/split/merged, other)."""
    pairs = _overlaps(patches, candidates)
    matched = _greedy(pairs)
    ids = np.full(len(patches), None, dtype=object)
    ids[matched["patch"].to_numpy()] = matched["site_id"].to_numpy()
    fresh = np.flatnonzero(pd.isna(ids))
    ids[fresh] = _new_ids(patches.iloc[fresh], country[fresh], taken)
    by_overlap = pairs.sort_values(["overlap", "site_id"], ascending=[False, True], kind="stable")
    absorbed = by_overlap[~by_overlap["site_id"].isin(matched["site_id"])].drop_duplicates("site_id")
    parent = by_overlap[by_overlap["patch"].isin(fresh)].drop_duplicates("patch").set_index("patch")
    born = pd.DataFrame({"site_id": ids[fresh], "other": parent["site_id"].reindex(fresh).to_numpy()})
    born["kind"] = np.where(born["other"].isna(), "new", "split")
    merged = pd.DataFrame({"site_id": absorbed["site_id"].to_numpy(), "kind": "merged",
                           "other": ids[absorbed["patch"].to_numpy()]})
    return ids, pd.concat([born, merged], ignore_index=True)


def _overlaps(patches: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every (patch, candidate) pair sharing area, sorted best first for the greedy matching."""
    geoms, others = np.asarray(patches.geometry), np.asarray(candidates.geometry)
    patch, cand = shapely.STRtree(others).query(geoms, predicate="intersects")
    overlap = shapely.area(shapely.intersection(geoms[patch], others[cand]))
    pairs = pd.DataFrame({"patch": patch, "cand": cand, "overlap": overlap,
                          "priority": candidates["priority"].to_numpy()[cand],
                          "patch_area": patches["area_ha"].to_numpy()[patch],
                          "site_id": candidates["site_id"].to_numpy()[cand]})
    pairs = pairs[pairs["overlap"] > 0]
    return pairs.sort_values(["priority", "overlap", "patch_area", "site_id", "patch"],
                             ascending=[False, False, False, True, True], kind="stable", ignore_index=True)


def _greedy(pairs: pd.DataFrame) -> pd.DataFrame:
    """Greedy one-to-one matching of sorted pairs, by rounds of mutually best pairs (same result)."""
    taken = [pairs.iloc[:0]]
    while len(pairs):
        best = ~pairs["patch"].duplicated() & ~pairs["cand"].duplicated()
        taken.append(pairs[best])
        done = pairs["patch"].isin(pairs.loc[best, "patch"]) | pairs["cand"].isin(pairs.loc[best, "cand"])
        pairs = pairs[~done]
    return pd.concat(taken, ignore_index=True)


def _new_ids(patches: gpd.GeoDataFrame, country: np.ndarray, taken: set[str]) -> np.ndarray:
    """Deterministic ids from country and centroid; collisions hashed again with a counter, in key order."""
    centroid = shapely.get_coordinates(shapely.centroid(np.asarray(patches.geometry))).round().astype(np.int64)
    keys = pd.DataFrame({"key": [f"{c}|{x}|{y}" for c, (x, y) in zip(country, centroid, strict=True)],
                         "area": patches["area_ha"].to_numpy(),
                         "wkb": shapely.to_wkb(np.asarray(patches.geometry))})
    order = keys.sort_values(["key", "area", "wkb"], kind="stable").index.to_numpy()
    ids = np.full(len(keys), None, dtype=object)
    pending, salt, taken = order, 0, set(taken)
    while pending.size:
        digests = np.array([_digest(key, salt) for key in keys["key"].to_numpy()[pending]], dtype=object)
        free = ~pd.Series(digests).duplicated().to_numpy() & ~np.isin(digests, list(taken))
        ids[pending[free]] = digests[free]
        taken.update(digests[free])
        pending, salt = pending[~free], salt + 1
    return ids


def _digest(key: str, salt: int) -> str:
    text = key if salt == 0 else f"{key}|{salt}"
    return ID_PREFIX + hashlib.sha1(text.encode()).hexdigest()[:10]


def _main_country(shares: pd.DataFrame, n: int) -> np.ndarray:
    """The country holding the largest share of each item ("" when it lies in no country)."""
    return _largest_named(shares, "item").reindex(range(n)).fillna(OUTSIDE).to_numpy()


def _largest_named(shares: pd.DataFrame, by: str) -> pd.Series:
    """Country of the largest share (ties: first by code) of each `by`, among actual countries."""
    named = shares[shares["country"] != OUTSIDE]
    named = named.sort_values([by, "area_ha", "country"], ascending=[True, False, True])
    return named.drop_duplicates(by).set_index(by)["country"]


def _country_areas(shares: pd.DataFrame) -> pd.DataFrame:
    return shares.sort_values(["order", "site_id", "country"], ignore_index=True)[
        ["site_id", "period", "order", "country", "area_ha"]]


def _assemble(rows: gpd.GeoDataFrame, areas: pd.DataFrame, events: pd.DataFrame, history: _History, crs
              ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Build the three layers from every site-period row, its country shares and the lineage events."""
    rows = rows.sort_values(["order", "site_id"], ignore_index=True)
    last = rows.drop_duplicates("site_id", keep="last").set_index("site_id")
    first = rows.drop_duplicates("site_id", keep="first").set_index("site_id")
    grouped = rows.groupby("site_id")["area_ha"]
    sites = pd.DataFrame({"first_seen": first["period"], "last_seen": last["period"],
                          "periods_seen": grouped.size(), "area_ha": last["area_ha"],
                          "max_area_ha": grouped.max()})
    sites = sites.join(_country_columns(areas, last)).join(_lineage(events, last, history))
    sites = sites.rename_axis("site_id").reset_index().sort_values("site_id", ignore_index=True)
    sites = gpd.GeoDataFrame(sites, geometry=np.asarray(last["geometry"].reindex(sites["site_id"])), crs=crs)
    sites = sites.astype({**SITE_COLUMNS, **SITE_LINEAGE_COLUMNS})
    columns = [*SITE_COLUMNS, *SITE_LINEAGE_COLUMNS, "geometry"]
    periods = gpd.GeoDataFrame(rows[list(SITE_PERIOD_COLUMNS)].astype(SITE_PERIOD_COLUMNS),
                               geometry=np.asarray(rows.geometry), crs=crs)
    country_areas = areas[list(SITE_COUNTRY_AREA_COLUMNS)].astype(SITE_COUNTRY_AREA_COLUMNS)
    return sites[columns], periods, country_areas


def _country_columns(areas: pd.DataFrame, last: pd.DataFrame) -> pd.DataFrame:
    """country, countries and transboundary of each site, from its shares in the last period it was seen."""
    final = areas.merge(last["period"].rename("last").rename_axis("site_id").reset_index(), on="site_id")
    final = final[final["period"] == final["last"]]
    named = final[final["country"] != OUTSIDE]
    columns = pd.DataFrame(index=last.index)
    columns["country"] = _largest_named(final, "site_id")
    columns["countries"] = named.sort_values(["site_id", "country"]).groupby("site_id")["country"].agg(";".join)
    columns["transboundary"] = named.groupby("site_id").size().reindex(last.index).fillna(0) > 1
    return columns.fillna({"country": OUTSIDE, "countries": ""})


def _lineage(events: pd.DataFrame, last: pd.DataFrame, history: _History) -> pd.DataFrame:
    """merged_into (if absorbed after it was last seen) and split_from; the previous run's where this run is
    silent."""
    seen = last["order"]
    merged = events[events["kind"] == "merged"].sort_values("order").drop_duplicates("site_id", keep="last")
    merged = merged[merged["order"].to_numpy() > seen.reindex(merged["site_id"]).to_numpy()]
    split = events[events["kind"] == "split"].drop_duplicates("site_id")
    lineage = pd.DataFrame(index=last.index)
    lineage["merged_into"] = merged.set_index("site_id")["other"]
    lineage["split_from"] = split.set_index("site_id")["other"]
    past = history.lineage.reindex(last.index)
    past.loc[seen.to_numpy() >= 0, "merged_into"] = None
    return lineage.fillna(past).astype(object).where(lambda f: f.notna(), None)
