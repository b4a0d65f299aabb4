"""Drawing a stratified random sample of a run's sites for the field: `draw_sample` gives a `SampleDesign`.

The population is the sites a run saw in one period (by default its last period with sites), as its
`site_periods` layer describes them there (registration, licence, area, border zone, footprint) with their
country and commodity from `sites`. Sites already classed ``verified_not_mining`` are left out: a field visit
has told their truth already. A stratum is a combination of the values of the `strata_by` columns
(`design.STRATA_COLUMNS`), its key the values joined with ``|`` ("no_licence|SLE").

Allocation (Olofsson et al. 2014, "Good practices for estimating area and assessing accuracy of land change",
section 5.1.2, recommend a minimum sample for small strata and the rest proportional): each stratum gets
min(N_h, min_per_stratum) sites; the rest of n goes to the strata in proportion to their mapped area, by
largest remainder, capped at a stratum's N_h sites, the excess redistributed among the strata still open until
n is reached or every site is drawn. When the minima alone exceed n the design is refused (raise n, lower the
minimum or use fewer strata); when n reaches the population, every site is drawn (a census).

Within each stratum the sites are drawn at random without replacement (`numpy.random.default_rng(seed)`; a
seed drawn from `secrets` when none is given, and recorded, so that any sample can be drawn again); a unit's
`draw` is its order in its stratum. Each unit carries where to go: a point on its footprint (WGS84, 6
decimals), the nearest town of the run's `places` reference layer with distance and direction ("Koidu, 3.2 km
NE") and the nearest official crossing of its `border_posts` ("Gbalamuya (SLE-GIN-01), 12.5 km"). Distances
are measured in the run's analysis CRS, directions from the WGS84 points.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import Geod

from mrumonitor.errors import VerificationError
from mrumonitor.manifest import read_manifest
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import NOT_MINING_CLASS
from mrumonitor.verification.design import STRATA_COLUMNS, STRATUM_COLUMNS, UNIT_COLUMNS, SampleDesign

#: The kind of border post a field team can cross at (`border_posts.kind`).
OFFICIAL_CROSSING = "official"
#: A stratum key's value where the site has none (a site with no country or commodity on record).
UNKNOWN_KEY = "unknown"

_WGS84 = "EPSG:4326"
_GEOD = Geod(ellps="WGS84")
_COMPASS = np.array(["N", "NE", "E", "SE", "S", "SW", "W", "NW"])
_ID_TIME = "%Y%m%dT%H%M%SZ"
_SEED_BITS = 32
#: Prefix of a population's columns holding a site's stratum key values (`_key_values`).
_KEY = "key_"


def draw_sample(run_dir: Path, run_id: str, *, n: int, strata_by: tuple[str, ...] = ("registration",),
                period: str | None = None, seed: int | None = None, min_per_stratum: int = 5,
                created_by: str) -> SampleDesign:
    """Draw a stratified random sample of `n` sites of the run in `run_dir` (rules: the module docstring).

    Parameters
    ----------
    run_dir : Path
        The run folder (a published run).
    run_id : str
        Its id, recorded in the design.
    n : int
        Sites to draw in all.
    strata_by : tuple of str
        Columns of `design.STRATA_COLUMNS` making a stratum.
    period : str, optional
        The period whose sites are sampled; default: the run's last period with sites.
    seed : int, optional
        Seed of the random draw; default: one drawn from `secrets` (recorded in the design).
    min_per_stratum : int
        Sites each stratum gets before the rest is shared by mapped area (fewer where it holds fewer).
    created_by : str
        Who draws the sample.

    Raises
    ------
    VerificationError
        Unknown strata columns, a period the run has no sites in, no site to draw, minima that exceed `n`, or a
        run folder whose layers cannot be read.
    """
    strata_by = _checked_strata(strata_by)
    if n < 1 or min_per_stratum < 1:
        raise VerificationError(f"a sample needs n >= 1 and a minimum per stratum >= 1 (got n={n}, "
                                f"min_per_stratum={min_per_stratum}).")
    folder = RunFolder(run_dir)
    period, population, excluded = _population(folder, period, strata_by)
    strata = _strata(population, strata_by)
    strata["allocated"] = allocate(strata["population"].to_numpy(), strata["mapped_ha"].to_numpy(), n,
                                   min_per_stratum)
    seed = secrets.randbits(_SEED_BITS) if seed is None else int(seed)
    units = _draw(population, strata, np.random.default_rng(seed))
    units = _located(units, folder)
    now = dt.datetime.now(dt.UTC)
    return SampleDesign(
        sample_id=f"S{now.strftime(_ID_TIME)}-{secrets.token_hex(2)}", run_id=run_id, period=period,
        strata_by=strata_by, n=n, seed=seed, min_per_stratum=min_per_stratum,
        allocation=allocation_text(n, min_per_stratum, len(population), excluded),
        created=now.isoformat(timespec="seconds").replace("+00:00", "Z"), created_by=created_by,
        strata=strata[["stratum", *strata_by, *list(STRATUM_COLUMNS)[1:]]].astype(
            {**STRATUM_COLUMNS, **{column: "string" for column in strata_by}}),
        units=units)


def allocate(population: np.ndarray, mapped_ha: np.ndarray, n: int, min_per_stratum: int) -> np.ndarray:
    """Sites to draw per stratum: min(N_h, min_per_stratum) each, the rest of `n` by mapped area (largest
    remainder, capped at N_h, redistributed until `n` is reached or every site is drawn).

    Raises
    ------
    VerificationError
        The minima alone exceed `n` (the message gives the fixes).
    """
    population = np.asarray(population, dtype=np.int64)
    allocated = np.minimum(population, min_per_stratum)
    if allocated.sum() > n:
        raise VerificationError(
            f"a sample of n={n} cannot give each of the {len(population)} strata its minimum of {min_per_stratum} "
            f"sites ({allocated.sum()} in all). Fixes: raise --n to {allocated.sum()}, lower --min-per-stratum, "
            "or use fewer strata (--strata).")
    while (rest := min(n, population.sum()) - allocated.sum()) > 0:
        allocated += _largest_remainder(rest, np.asarray(mapped_ha, dtype=float), population - allocated)
    return allocated


def allocation_text(n: int, min_per_stratum: int, population: int, excluded: int) -> str:
    """The allocation rule of a design in one sentence (what `SampleDesign.allocation` holds)."""
    census = (f"; n = {n} reaches the {population} sites of the period, so every site is drawn (a census)"
              if n >= population else "")
    return (f"Each stratum gets min(its sites, {min_per_stratum}) sites and the rest of n = {n} goes to the strata "
            "in proportion to their mapped area (largest remainder, capped at a stratum's sites, redistributed "
            "until n is reached or every site is drawn), after Olofsson et al. 2014, section 5.1.2; sites are drawn "
            f"at random without replacement within each stratum{census}; sites already verified not mining ({excluded} "
            "in the period) are left out, their truth being known.")


def _largest_remainder(count: int, weights: np.ndarray, room: np.ndarray) -> np.ndarray:
    """`count` sites shared among the strata with `room` in proportion to `weights` (their site counts where
    none of them has any weight), by largest remainder, none given more than its room."""
    open_ = room > 0
    weights = np.where(open_, np.nan_to_num(weights), 0.0)
    if weights.sum() <= 0:
        weights = open_.astype(float) * room
    quota = count * weights / weights.sum()
    share = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - share), kind="stable")
    order = order[open_[order]]
    share[order[: count - share.sum()]] += 1
    return np.minimum(share, room)


def _checked_strata(strata_by: tuple[str, ...]) -> tuple[str, ...]:
    strata_by = tuple(dict.fromkeys(column.strip() for column in strata_by if column.strip()))
    unknown = [column for column in strata_by if column not in STRATA_COLUMNS]
    if unknown or not strata_by:
        raise VerificationError(f"cannot make strata of {', '.join(unknown) or 'nothing'}: strata are made of one "
                                f"or more of {', '.join(STRATA_COLUMNS)} (e.g. --strata registration,country).")
    return strata_by


def _population(folder: RunFolder, period: str | None,
                strata_by: tuple[str, ...]) -> tuple[str, gpd.GeoDataFrame, int]:
    """The period sampled, its sites (stratum, registration, licence_id, area_ha, country, commodity,
    in_border_zone, footprint; sorted by site_id) and how many verified_not_mining sites were left out."""
    periods = _read(folder, "site_periods", ("site_id", "period", "registration", "licence_id", "area_ha",
                                             "in_border_zone"))
    sites = _read(folder, "sites", ("site_id", "country", "commodity"))[["site_id", "country", "commodity"]]
    seen = _periods_in_order(folder, periods["period"])
    if not seen:
        raise VerificationError(f"run {folder.name} has no site in any period: there is nothing to sample.")
    period = seen[-1] if period is None else period
    if period not in seen:
        raise VerificationError(f"run {folder.name} has no site in period {period!r}; periods with sites: "
                                f"{', '.join(seen)} (--period).")
    rows = periods[periods["period"] == period]
    verified = rows["registration"] == NOT_MINING_CLASS
    population = rows[~verified].merge(pd.DataFrame(sites), on="site_id", how="left").sort_values("site_id")
    population = gpd.GeoDataFrame(population, geometry="geometry", crs=periods.crs).reset_index(drop=True)
    if population.empty:
        raise VerificationError(f"run {folder.name}: every site of period {period} is verified not mining; "
                                "there is nothing left to sample.")
    keys = _key_values(population[list(strata_by)])
    population["stratum"] = keys.agg("|".join, axis=1).astype("string")
    population[[_KEY + column for column in strata_by]] = keys.to_numpy()
    return period, population, int(verified.sum())


def _periods_in_order(folder: RunFolder, periods: pd.Series) -> list[str]:
    """The periods holding sites, in the order of the run's manifest (its periods list)."""
    listed = [entry.get("name") for entry in read_manifest(folder.path).get("periods") or []
              if isinstance(entry, dict)]
    present = set(periods.dropna().astype(str))
    return [name for name in listed if name in present] + sorted(present - set(listed))


def _strata(population: gpd.GeoDataFrame, strata_by: tuple[str, ...]) -> pd.DataFrame:
    """STRATUM_COLUMNS (allocated not yet) and the key columns, one row per stratum, sorted by stratum."""
    grouped = population.groupby("stratum", sort=True)
    keys = grouped[[_KEY + column for column in strata_by]].first()
    strata = keys.set_axis(list(strata_by), axis=1).join(
        grouped.agg(population=("site_id", "size"), mapped_ha=("area_ha", "sum")))
    return strata.reset_index()


def _key_values(keys: pd.DataFrame) -> pd.DataFrame:
    """The values of the strata columns as text, `UNKNOWN_KEY` where a site has none (missing or empty)."""
    text = keys.astype("string")
    return text.mask(text.isna() | (text.apply(lambda column: column.str.strip()) == ""), UNKNOWN_KEY)


def _draw(population: gpd.GeoDataFrame, strata: pd.DataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The allocated number of sites of each stratum, drawn without replacement: a random key per site,
    sorted within the stratum; `draw` is the rank (1 = the first drawn)."""
    keyed = population.assign(_key=rng.random(len(population))).sort_values(["stratum", "_key"], kind="stable")
    keyed["draw"] = keyed.groupby("stratum").cumcount() + 1
    quota = keyed["stratum"].map(strata.set_index("stratum")["allocated"])
    return keyed[keyed["draw"] <= quota].drop(columns="_key").reset_index(drop=True)


def _located(units: gpd.GeoDataFrame, folder: RunFolder) -> pd.DataFrame:
    """UNIT_COLUMNS of the drawn sites: a point on each footprint (WGS84), the nearest town and crossing."""
    points = gpd.GeoSeries(shapely.point_on_surface(units.geometry.values), crs=units.crs)
    lonlat = points.to_crs(_WGS84)
    places = _reference(folder, "places", units.crs)
    posts = _reference(folder, "border_posts", units.crs)
    if len(posts):
        posts = posts[posts["kind"] == OFFICIAL_CROSSING]
    located = units.assign(lon=lonlat.x.round(6), lat=lonlat.y.round(6),
                           nearest_place=_nearest_place(points, lonlat, places),
                           nearest_crossing=_nearest_crossing(points, posts))
    return pd.DataFrame(located[list(UNIT_COLUMNS)]).astype(UNIT_COLUMNS)


def _nearest(points: gpd.GeoSeries, targets: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the position of its nearest target and the distance in km (analysis CRS)."""
    (item, target), distance = shapely.STRtree(targets.geometry.values).query_nearest(
        points.values, return_distance=True, all_matches=False)
    nearest = np.empty(len(points), dtype=np.int64)
    km = np.empty(len(points))
    nearest[item], km[item] = target, distance / 1000.0
    return nearest, km


def _nearest_place(points: gpd.GeoSeries, lonlat: gpd.GeoSeries, places: gpd.GeoDataFrame) -> np.ndarray:
    """"Koidu, 3.2 km NE": the nearest town, how far and in which direction the site lies from it."""
    if places.empty:
        return np.full(len(points), "", dtype=object)
    nearest, km = _nearest(points, places)
    towns = places.iloc[nearest]
    town_lonlat = towns.geometry.to_crs(_WGS84)
    azimuth, _, _ = _GEOD.inv(town_lonlat.x.to_numpy(), town_lonlat.y.to_numpy(), lonlat.x.to_numpy(),
                              lonlat.y.to_numpy())
    direction = _COMPASS[np.round(np.mod(azimuth, 360.0) / 45.0).astype(int) % 8]
    return (towns["name"].astype(str).to_numpy() + ", " + np.char.mod("%.1f", km).astype(object) + " km "
            + direction.astype(object))


def _nearest_crossing(points: gpd.GeoSeries, posts: gpd.GeoDataFrame) -> np.ndarray:
    """"Gbalamuya (SLE-GIN-01), 12.5 km": the nearest official crossing and how far."""
    if posts.empty:
        return np.full(len(points), "", dtype=object)
    nearest, km = _nearest(points, posts)
    chosen = posts.iloc[nearest]
    return (chosen["name"].astype(str).to_numpy() + " (" + chosen["post_id"].astype(str).to_numpy() + "), "
            + np.char.mod("%.1f", km).astype(object) + " km")


def _read(folder: RunFolder, name: str, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    """A vector layer of the run, refused with a message when it is missing, unreadable or lacks `columns`."""
    path = folder.layer(name)
    fix = "Publish a run with analysed sites (`mrumonitor run`) and sample that one."
    if not path.is_file():
        raise VerificationError(f"run {folder.name} has no {name} layer ({path}): it holds no analysed sites to "
                                f"sample. {fix}")
    frame = _read_file(path, name)
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise VerificationError(f"{path}: the {name} layer has no {', '.join(missing)} column (a run made before "
                                f"it was published, or not analysed). {fix}")
    return frame


def _reference(folder: RunFolder, name: str, crs) -> gpd.GeoDataFrame:
    """A reference layer the run carries, in `crs`; an empty one when the run has none (older runs)."""
    path = folder.reference(name)
    if not path.is_file():
        return gpd.GeoDataFrame({"name": pd.Series(dtype="string")}, geometry=[], crs=crs)
    return _read_file(path, name).to_crs(crs)


def _read_file(path: Path, name: str) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise VerificationError(f"{path}: the {name} layer of the run cannot be read ({exc}). Publish the run "
                                "again (`mrumonitor run`).") from None
