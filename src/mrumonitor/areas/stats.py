"""What a published run holds inside a watched area, period by period (`area_statistics`), and its sites as a file.

The rules:

- a site counts in a period when its footprint in that period (``site_periods``) intersects the area; its
  ``active_ha`` is the footprint clipped to the area, measured in the run's analysis CRS;
- the clipped hectares split into registered and unregistered by the footprint's own shares
  (``registered_ha``/``unregistered_ha`` of its ``site_periods`` row), and into registration classes by the shares
  of its pieces (``site_registration``): a site cut in half by the area brings half of each;
- licences are those in force now (the latest cadastre snapshot, `ingest.snapshots.current_licences`) that
  intersect the area, with the hectares they share with it;
- distances to each border line and to the five nearest border posts are measured from the area's edge (0 when the
  area crosses the line);
- an agency user (`country`) sees the sites and licences of its country only, and a caveat says so.

The caveats are written in the current language (`mrumonitor.i18n`: English for the CLI, the user's on the
dashboard); the run's own caveats are passed on as the run wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from mrumonitor.areas.resolve import RunContext, WatchedArea
from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.crs import WGS84
from mrumonitor.errors import AreaError
from mrumonitor.frames import empty_frame
from mrumonitor.i18n import N_, _, percent
from mrumonitor.i18n.vocabulary import word
from mrumonitor.ingest.snapshots import current_licences
from mrumonitor.layerio import written_aside
from mrumonitor.schema import AREA_STATS_COLUMNS, REGISTRATION_CLASSES

#: The columns of `AreaStatistics.licences` (overlap_ha: hectares the licence shares with the area).
LICENCE_COLUMNS = ["licence_id", "country", "holder", "licence_type", "commodity", "status", "expires", "overlap_ha"]
#: The columns of `AreaStatistics.crossings`, and how many border posts it lists.
CROSSING_COLUMNS = ["post_id", "name", "kind", "country", "neighbour", "dist_km"]
NEAREST_POSTS = 5
#: The formats `write_area_sites` writes, by suffix.
SITE_FORMATS = (".gpkg", ".geojson", ".csv", ".parquet")
#: The caveat of an area that touches no country outline of the run.
OUTSIDE = N_("The area lies outside the monitored region: no figures.")


@dataclass(frozen=True)
class AreaStatistics:
    """The figures of a run inside a watched area.

    Attributes
    ----------
    area : WatchedArea
    run_id : str
    area_km2 : float
        Measured in the run's analysis CRS.
    periods : DataFrame
        schema.AREA_STATS_COLUMNS, then ``<class>_ha`` per schema.REGISTRATION_CLASSES (the "registered" class is
        the ``registered_ha`` column already there); one row per period.
    licences : DataFrame
        `LICENCE_COLUMNS`, largest overlap first.
    borders : DataFrame
        border_pair, dist_km (0 when the area crosses it), nearest first.
    crossings : DataFrame
        `CROSSING_COLUMNS` of the five nearest border posts, nearest first.
    sites : GeoDataFrame
        The run's sites whose footprint in some period intersects the area (the `sites` columns), WGS84.
    country : str or None
        The agency country the figures were limited to, None for everything.
    caveats : list of str
    """

    area: WatchedArea
    run_id: str
    area_km2: float
    periods: pd.DataFrame
    licences: pd.DataFrame
    borders: pd.DataFrame
    crossings: pd.DataFrame
    sites: gpd.GeoDataFrame
    country: str | None
    caveats: list[str]


def area_statistics(run_dir: Path, area: WatchedArea, country: str | None = None) -> AreaStatistics:
    """The figures of the run at `run_dir` inside `area` (the module docstring gives the rules).

    Raises
    ------
    StoreError
        The run lacks a layer the figures need (an older run).
    """
    run = RunContext.read(Path(run_dir))
    shape = gpd.GeoSeries([area.geometry], crs=WGS84).to_crs(run.crs).iloc[0]
    sites = run.layer("sites")
    if country:
        sites = sites[sites["country"] == country]
    footprints = run.layer("site_periods")
    footprints = footprints[footprints["site_id"].isin(sites["site_id"])]
    clipped = _clipped(footprints, shape)
    inside = sites[sites["site_id"].isin(clipped["site_id"])]
    return AreaStatistics(
        area=area, run_id=run.folder.name, area_km2=shape.area / 1e6,
        periods=_periods(run, clipped), licences=_licences(run, shape, country), borders=_borders(run, shape),
        crossings=_crossings(run, shape), sites=inside.to_crs(WGS84).reset_index(drop=True), country=country,
        caveats=_caveats(run, shape, country))


def write_area_sites(stats: AreaStatistics, path: Path) -> Path:
    """Write the area's sites to `path` (.gpkg, .geojson, .csv with a WKT geometry column, or .parquet),
    atomically.

    Raises
    ------
    AreaError
        Another suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SITE_FORMATS:
        raise AreaError(_("%(path)s: cannot write the sites as %(suffix)s; name the file with one of %(formats)s.",
                          path=path, suffix=suffix or _("a file without suffix"), formats=", ".join(SITE_FORMATS)))
    with written_aside(path) as partial:
        if suffix == ".parquet":
            stats.sites.to_parquet(partial, schema_version="1.1.0")
        elif suffix == ".csv":
            frame = pd.DataFrame(stats.sites.drop(columns="geometry"))
            frame.assign(geometry=stats.sites.geometry.to_wkt()).to_csv(partial, index=False)
        else:
            stats.sites.to_file(partial, driver="GPKG" if suffix == ".gpkg" else "GeoJSON", layer="sites")
    return path


def _clipped(footprints: gpd.GeoDataFrame, shape: shapely.Geometry) -> pd.DataFrame:
    """The footprints that intersect `shape`: site_id, period, area_ha, active_ha (clipped), and the clipped
    registered_ha/unregistered_ha."""
    hits = footprints.iloc[footprints.sindex.query(shape, predicate="intersects")]
    active = shapely.area(shapely.intersection(hits.geometry.to_numpy(), shape)) / 10_000
    share = active / hits["area_ha"].where(hits["area_ha"] > 0).to_numpy()
    return pd.DataFrame({"site_id": hits["site_id"].to_numpy(), "period": hits["period"].to_numpy(),
                         "active_ha": active, "registered_ha": (hits["registered_ha"] * share).to_numpy(),
                         "unregistered_ha": (hits["unregistered_ha"] * share).to_numpy(), "share": share})


def _periods(run: RunContext, clipped: pd.DataFrame) -> pd.DataFrame:
    """One row per period of the run: AREA_STATS_COLUMNS and ``<class>_ha``."""
    names = [period["name"] for period in run.manifest.get("periods") or []] or sorted(clipped["period"].unique())
    pieces = run.table("site_registration", ["site_id", "period", "registration", "area_ha"])
    shares = pieces.merge(clipped[["site_id", "period", "share"]], on=["site_id", "period"])
    classes = (shares["area_ha"] * shares["share"]).groupby([shares["period"], shares["registration"]]).sum()
    by_class = classes.unstack(fill_value=0.0).reindex(index=names, columns=list(REGISTRATION_CLASSES),
                                                       fill_value=0.0).fillna(0.0)
    totals = clipped.groupby("period").agg(sites=("site_id", "nunique"), active_ha=("active_ha", "sum"),
                                           registered_ha=("registered_ha", "sum"),
                                           unregistered_ha=("unregistered_ha", "sum")).reindex(names)
    frame = totals.fillna(0.0).assign(
        unregistered_share=lambda f: f["unregistered_ha"] / f["active_ha"].where(f["active_ha"] > 0))
    frame = frame.rename_axis("period").reset_index()
    frame = frame.astype({c: t for c, t in AREA_STATS_COLUMNS.items()})[list(AREA_STATS_COLUMNS)]
    by_class = by_class.add_suffix("_ha").reset_index(drop=True)
    return pd.concat([frame, by_class.drop(columns=list(AREA_STATS_COLUMNS), errors="ignore")], axis=1)


def _licences(run: RunContext, shape: shapely.Geometry, country: str | None) -> pd.DataFrame:
    licences = current_licences(run.layer("concessions"))
    if country:
        licences = licences[licences["country"] == country]
    hits = licences.iloc[licences.sindex.query(shape, predicate="intersects")]
    if hits.empty:
        return empty_frame({c: "object" for c in LICENCE_COLUMNS})
    overlap = shapely.area(shapely.intersection(hits.geometry.to_numpy(), shape)) / 10_000
    return (pd.DataFrame(hits.drop(columns="geometry")).assign(overlap_ha=overlap)[LICENCE_COLUMNS]
            .sort_values("overlap_ha", ascending=False, kind="stable").reset_index(drop=True))


def _borders(run: RunContext, shape: shapely.Geometry) -> pd.DataFrame:
    borders = run.reference.borders
    return (pd.DataFrame({"border_pair": borders["pair"].to_numpy(),
                          "dist_km": borders.geometry.distance(shape).to_numpy() / 1000})
            .sort_values("dist_km", kind="stable").reset_index(drop=True))


def _crossings(run: RunContext, shape: shapely.Geometry) -> pd.DataFrame:
    posts = run.reference.border_posts
    frame = pd.DataFrame(posts.drop(columns="geometry")).assign(dist_km=posts.geometry.distance(shape) / 1000)
    return frame.nsmallest(NEAREST_POSTS, "dist_km")[CROSSING_COLUMNS].reset_index(drop=True)


def _caveats(run: RunContext, shape: shapely.Geometry, country: str | None) -> list[str]:
    """What goes with the figures: the agency limit, an area outside the region, the run's SYNTHETIC flags and the
    detections' credit."""
    caveats = []
    if country:
        caveats.append(_("Only the sites and licences of %(country)s are counted (your role sees that country's "
                         "site-level data only); other countries' sites in the area are left out.",
                         country=word("country", country)))
    outlines = run.reference.boundaries
    region = shapely.union_all(outlines[outlines["iso3"].isin(run.countries)].geometry.to_numpy())
    covered = shape.intersection(region).area / shape.area if shape.area else 0.0
    if covered == 0:
        caveats.append(_(OUTSIDE))
    elif covered < 0.999:
        caveats.append(_("%(share)s of the area lies outside the monitored countries (%(countries)s): nothing is "
                         "counted there.", share=percent(1 - covered),
                         countries=", ".join(word("country", code) for code in run.countries)))
    run_caveats = [str(text) for text in run.manifest.get("caveats") or []]
    caveats += [text for text in run_caveats if "SYNTHETIC" in text or text == DETECTIONS_CREDIT]
    return caveats
