"""Synthetic national cadastres: fictitious licences placed around the real detections.

Two steps. `plant_licences` draws one country's licences in the metric analysis CRS with canonical
attributes and a planting category: licences covering clusters of detections (one category each, see
`CATEGORIES`) and background licences far from any detection. `render_records` then writes them the way
that country's cadastre does: the national terms of the source's ``[values]`` tables in default.toml,
the national CRS, licence-number style and date formats of its `NationalStyle`.

Every licence, holder and licence number is fictitious; every record carries `SYNTHETIC_MARK`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from mrumonitor.config import SourceSettings
from mrumonitor.demo.detections import SURVEY_DATE

#: Planting categories of licences that cover detections, and the registration each one implies.
CATEGORY_REGISTRATION: dict[str, str] = {
    "active_right_type": "registered",
    "expired": "expired_licence",
    "exploration": "exploration_only",
    "wrong_commodity": "wrong_commodity",
    "suspended": "suspended",
    "none": "no_licence",
}
CATEGORIES = tuple(c for c in CATEGORY_REGISTRATION if c != "none")
_CATEGORY_WEIGHTS = (0.35, 0.2, 0.15, 0.15, 0.15)

#: Written in the remarks column of every record of every synthetic file.
SYNTHETIC_MARK = "SYNTHETIC DEMO DATA - fictitious licence"

#: Columns of a rendered record: the canonical names holding the national text, the remarks, the ground
#: truth (`expected` outcome of the ingest, planting `category`, free-text `detail`) and the geometry.
RECORD_COLUMNS = (
    "licence_id",
    "holder",
    "licence_type",
    "commodity",
    "status",
    "granted",
    "expires",
    "remarks",
    "expected",
    "category",
    "detail",
    "geometry",
)

#: The expired licence that every country has: it lapsed the day before the detection survey.
LAST_DAY_EXPIRY = SURVEY_DATE - dt.timedelta(days=1)

#: Export day of each synthetic cadastre: before the survey, so that its period is judged from them (the earlier
#: periods, older than every snapshot of their country, are judged from the licences' dates only).
SNAPSHOTS: dict[str, dt.date] = {"sle": dt.date(2026, 6, 1), "gin": dt.date(2026, 5, 15),
                                 "lbr": dt.date(2026, 6, 10), "civ": dt.date(2026, 4, 30)}

#: Older exports the demo also ships (licence history): source -> export day. The older SLE cadastre lacks the
#: licences granted after that day and shows the planted suspended licences still active.
OLDER_SNAPSHOTS: dict[str, dt.date] = {"sle": dt.date(2024, 12, 1)}

#: Grant day of the licence planted as granted between a country's older and current snapshots.
GRANTED_BETWEEN: dict[str, dt.date] = {"sle": dt.date(2025, 9, 1)}

LICENSED_SHARE = 0.5  # share of a country's detections that planted licences try to cover
CORE_MARGIN_M = 3_000.0  # licence interior points stay this far inside their country
CLEARANCE_M = 300.0  # gap kept between licences, and between a licence and detections it does not cover
BACKGROUND_CLEARANCE_M = 2_000.0  # background licences stay this far from any detection
MIN_HA, MAX_HA = 50.0, 5_000.0
_MAX_FOOTPRINT_M = 600.0  # cap on the footprint radius a licence is drawn around

_PRODUCTION = ("artisanal", "small_scale", "large_scale")
_PRODUCTION_WEIGHTS = (0.5, 0.35, 0.15)


@dataclass(frozen=True)
class NationalStyle:
    """How one national cadastre writes its records (the vocabulary itself comes from the config)."""

    source: str
    crs: str
    id_pattern: str  # str.format with prefix, number, year
    id_prefix: Mapping[str, str]  # canonical licence type -> licence-number prefix
    date_formats: tuple[str, ...]  # strftime formats for text dates, () for real date columns
    date_weights: tuple[float, ...]
    remarks_field: str
    holder_patterns: tuple[str, ...]  # str.format with place, name
    places: tuple[str, ...]
    names: tuple[str, ...]
    background: int  # background licences, far from any detection


STYLES: dict[str, NationalStyle] = {
    "sle": NationalStyle(
        source="sle",
        crs="EPSG:32629",
        id_pattern="{prefix} {number:04d}/{year}",
        id_prefix={
            "reconnaissance": "RL",
            "exploration": "EL",
            "artisanal": "AML",
            "small_scale": "SSML",
            "large_scale": "LML",
            "other": "ML",
        },
        date_formats=("%d/%m/%Y",),
        date_weights=(1.0,),
        remarks_field="REMARKS",
        holder_patterns=(
            "{place} Artisanal Miners Cooperative",
            "{place} Alluvial Mining Group",
            "{name} & Sons Mining Ltd",
            "{place} Youth Mining Association",
            "Société Minière de {place} Ltd",
            "{name} Gold and Diamond Ventures",
        ),
        places=("Sewa", "Moa", "Bafi", "Tankoro", "Gbense", "Nimiyama", "Bambara", "Gorama", "Nongowa"),
        names=("Kamara", "Sesay", "Koroma", "Conteh", "Bangura", "Kanu", "Turay", "Fofanah"),
        background=70,
    ),
    "gin": NationalStyle(
        source="gin",
        crs="EPSG:32628",
        id_pattern="{prefix}/{year}/{number:04d}",
        id_prefix={
            "reconnaissance": "AR",
            "exploration": "PR",
            "artisanal": "PEA",
            "small_scale": "AESM",
            "large_scale": "PEI",
            "other": "TM",
        },
        date_formats=("%Y-%m-%d", "%d/%m/%Y"),
        date_weights=(0.75, 0.25),
        remarks_field="observation",
        holder_patterns=(
            "Coopérative minière de {place}",
            "Groupement des orpailleurs de {place}",
            "Union des diamantaires de {place}",
            "Entreprise {name} et Frères",
            "Société d'Exploitation Aurifère de {place}",
            "Coopérative des femmes orpailleuses de {place}",
        ),
        places=(
            "Guéckédou",
            "Kérouané",
            "Siguiri",
            "Mandiana",
            "Kouroussa",
            "Banankoro",
            "Macenta",
            "Nzérékoré",
            "Beyla",
            "Faranah",
            "Léro",
            "Kintinian",
        ),
        names=("Camara", "Condé", "Diallo", "Touré", "Kourouma", "Béavogui", "Keïta", "Sylla"),
        background=90,
    ),
    "lbr": NationalStyle(
        source="lbr",
        crs="EPSG:4326",
        id_pattern="{prefix}-{number:04d}-{year}",
        id_prefix={
            "reconnaissance": "RL",
            "exploration": "MEL",
            "artisanal": "MLC",
            "small_scale": "MLB",
            "large_scale": "MLA",
            "other": "ML",
        },
        date_formats=(),
        date_weights=(),
        remarks_field="remarks",
        holder_patterns=(
            "{place} Artisanal Miners Association",
            "{place} Gold & Diamond Cooperative",
            "{name} Mining Inc.",
            "{place} Youth Diggers Union",
            "{name} Brothers Alluvial Mining",
        ),
        places=("Weasua", "Gbarpolu", "Lofa", "Nimba", "Gbapa", "Kinjor", "Sinoe", "River Cess", "Toe Town"),
        names=("Kollie", "Flomo", "Kpoto", "Dolo", "Tarr", "Gbowee", "Kamara", "Zuo"),
        background=70,
    ),
    "civ": NationalStyle(
        source="civ",
        crs="EPSG:32630",
        id_pattern="{prefix}-{year}-{number:04d}",
        id_prefix={
            "reconnaissance": "AP",
            "exploration": "PR",
            "artisanal": "AEMA",
            "small_scale": "AEMSI",
            "large_scale": "PE",
            "other": "TM",
        },
        date_formats=("%d/%m/%Y",),
        date_weights=(1.0,),
        remarks_field="observation",
        holder_patterns=(
            "Société Minière du Worodougou",
            "Société Minière de {place}",
            "Coopérative des orpailleurs de {place}",
            "Groupement d'exploitants miniers de {place}",
            "Établissements {name} et Associés",
            "Coopérative minière féminine de {place}",
        ),
        places=("Worodougou", "Séguéla", "Tortiya", "Béré", "Hiré", "Tengréla", "Kouto", "Issia", "Didiévi"),
        names=("Koné", "Ouattara", "Coulibaly", "Bamba", "Traoré", "Kouassi", "Yéo", "Soro"),
        background=80,
    ),
}


# --- planting: geometry and canonical attributes, in the analysis CRS -------------------------------------


def country_core(iso: str, outline_sets: list[gpd.GeoSeries]) -> BaseGeometry:
    """Where licence interior points may go: CORE_MARGIN_M inside `iso` and as far from its neighbours.

    Each set of outlines (ISO3 index) must agree: with the raw, overlapping outlines and the consistent ones
    both given, a point of the core is well inside the country whichever border rule the ingest applies.
    """
    core = None
    for outlines in outline_sets:
        inside = outlines[iso].buffer(-CORE_MARGIN_M)
        core = inside if core is None else core.intersection(inside)
        neighbours = outlines.drop(index=iso).buffer(CORE_MARGIN_M).to_numpy()
        core = core.difference(shapely.union_all(neighbours))
    shapely.prepare(core)
    return core


def plant_licences(
    detections: gpd.GeoDataFrame,
    iso: str,
    core: BaseGeometry,
    placed: list[BaseGeometry],
    rng: np.random.Generator,
    background: int,
) -> gpd.GeoDataFrame:
    """Licences of one country: planted around clusters of its detections, then `background` far from all.

    `placed` holds the polygons of licences already drawn (any country); new ones are appended to it and
    keep CLEARANCE_M away from them. Returns canonical attributes, `category` and polygons in the CRS of
    `detections`.
    """
    planted = _plant_around_clusters(detections, iso, core, placed, rng)
    far = _background(detections, core, placed, rng, background)
    frame = pd.DataFrame(planted + far)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=detections.crs)


def _plant_around_clusters(detections, iso, core, placed, rng) -> list[dict]:
    """Cover a seeded choice of clusters (larger ones more likely) until LICENSED_SHARE is reached."""
    tree = shapely.STRtree(detections.geometry.to_numpy())
    xy = shapely.get_coordinates(detections.geometry.to_numpy())
    radius = np.minimum(np.sqrt(detections["area_ha"].to_numpy() * 1e4 / np.pi), _MAX_FOOTPRINT_M)
    mine = detections["country"].to_numpy() == iso
    clusters = pd.Series(np.flatnonzero(mine)).groupby(detections["cluster"].to_numpy()[mine]).apply(list)
    sizes = clusters.map(len).to_numpy(dtype=float)
    order = np.argsort(-(rng.random(len(clusters)) ** (1.0 / sizes)))  # weighted random permutation
    target, covered, licences = LICENSED_SHARE * mine.sum(), 0, []
    for members in clusters.iloc[order]:
        if covered >= target:
            break
        found = _cover_cluster(members, xy, radius, tree, rng)
        if found is None or not _fits(*found, detections, iso, core, placed):
            continue
        polygon, members = found
        category = (
            CATEGORIES[len(licences)]
            if len(licences) < len(CATEGORIES)
            else rng.choice(CATEGORIES, p=_CATEGORY_WEIGHTS)
        )
        commodity = detections["commodity"].iat[members[0]]
        first_expired = category == "expired" and not any(lic["category"] == "expired" for lic in licences)
        licences.append(_planted_attributes(str(category), commodity, first_expired, rng) | {"geometry": polygon})
        placed.append(polygon)
        covered += len(members)
    return licences


def _cover_cluster(members, xy, radius, tree, rng) -> tuple[BaseGeometry, list[int]] | None:
    """A licence polygon over the footprints of `members`, grown until no other detection sits near its edge."""
    members = sorted(members)
    for _ in range(4):
        polygon = _cover_polygon(xy[members], radius[members], rng, rectangle=rng.random() < 0.5)
        near = tree.query(polygon.buffer(CLEARANCE_M), predicate="intersects")
        if set(near) <= set(members):
            return polygon, members
        members = sorted(set(members) | set(near.tolist()))
    return None


def _cover_polygon(xy: np.ndarray, radius: np.ndarray, rng: np.random.Generator, rectangle: bool) -> BaseGeometry:
    """An irregular convex polygon (or its oriented rectangle) around discs of `radius` plus a margin."""
    k = 7
    angles = rng.uniform(0, 2 * np.pi, (len(xy), 1)) + 2 * np.pi * np.arange(k) / k
    reach = (radius[:, None] + CLEARANCE_M) * rng.uniform(1.05, 1.5, (len(xy), k))
    vertices = np.column_stack(
        [
            (xy[:, :1] + reach * np.cos(angles)).ravel(),
            (xy[:, 1:] + reach * np.sin(angles)).ravel(),
        ]
    )
    polygon = shapely.convex_hull(shapely.multipoints(vertices))
    if rectangle:
        polygon = shapely.oriented_envelope(polygon)
    minimum = rng.uniform(MIN_HA, 4 * MIN_HA) * 1e4
    if polygon.area < minimum:
        factor = np.sqrt(minimum / polygon.area)
        polygon = affinity.scale(polygon, factor, factor, origin="centroid")
    return polygon


def _fits(polygon, members, detections, iso, core, placed) -> bool:
    """Whether a cluster's licence is usable: one country and commodity, right size, inside, apart."""
    sites = detections.iloc[members]
    if (sites["country"] != iso).any() or sites["commodity"].nunique() != 1:
        return False
    if not MIN_HA * 1e4 <= polygon.area <= MAX_HA * 1e4:
        return False
    return _inside_core(polygon, core) and not _touches_placed(polygon, placed)


def _inside_core(polygon: BaseGeometry, core: BaseGeometry) -> bool:
    """Whether both the centroid and the interior point of `polygon` lie in `core`."""
    probes = [polygon.centroid, polygon.point_on_surface()]
    return bool(shapely.contains(core, probes).all())


def _touches_placed(polygon: BaseGeometry, placed: list[BaseGeometry]) -> bool:
    """Whether `polygon` comes within CLEARANCE_M of a licence already drawn."""
    return bool(placed) and bool(shapely.dwithin(np.asarray(placed), polygon, CLEARANCE_M).any())


def _background(detections, core, placed, rng, count: int) -> list[dict]:
    """`count` licences wholly inside `core`, BACKGROUND_CLEARANCE_M from any detection and apart."""
    tree = shapely.STRtree(detections.geometry.to_numpy())
    xmin, ymin, xmax, ymax = core.bounds
    licences: list[dict] = []
    for _ in range(count * 200):
        if len(licences) == count:
            break
        centre = rng.uniform((xmin, ymin), (xmax, ymax))
        polygon = _random_shape(centre, rng)
        if not core.contains(polygon) or _touches_placed(polygon, placed):
            continue
        if len(tree.query(polygon, predicate="dwithin", distance=BACKGROUND_CLEARANCE_M)):
            continue
        licences.append(_background_attributes(rng) | {"geometry": polygon})
        placed.append(polygon)
    return licences


def _random_shape(centre: np.ndarray, rng: np.random.Generator) -> BaseGeometry:
    """A rotated rectangle or an irregular convex polygon of 50-5,000 ha (log-uniform) at `centre`."""
    area = np.exp(rng.uniform(np.log(MIN_HA * 1.2), np.log(MAX_HA * 0.8))) * 1e4
    if rng.random() < 0.5:
        aspect = rng.uniform(0.5, 2.0)
        width, height = np.sqrt(area * aspect), np.sqrt(area / aspect)
        shape = shapely.box(-width / 2, -height / 2, width / 2, height / 2)
    else:
        k = int(rng.integers(6, 11))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        reach = rng.uniform(0.8, 1.2, k)
        shape = shapely.convex_hull(
            shapely.multipoints(np.column_stack([reach * np.cos(angles), reach * np.sin(angles)]))
        )
        shape = affinity.scale(shape, np.sqrt(area / shape.area), np.sqrt(area / shape.area), origin=(0, 0))
    shape = affinity.rotate(shape, rng.uniform(0, 180), origin=(0, 0))
    return affinity.translate(shape, *centre)


def _random_date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    """A uniformly drawn day between `start` and `end`, inclusive."""
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


def _valid_term(rng: np.random.Generator) -> tuple[dt.date, dt.date]:
    """Grant and expiry dates of a licence in force on the survey date."""
    granted = _random_date(rng, dt.date(2014, 1, 1), dt.date(2025, 12, 31))
    floor = max(granted + dt.timedelta(days=365), SURVEY_DATE + dt.timedelta(days=40))
    return granted, _random_date(rng, floor, max(floor, granted + dt.timedelta(days=15 * 365)))


def _planted_attributes(category: str, site: str, first_expired: bool, rng: np.random.Generator) -> dict:
    """Canonical attributes making a licence over `site` detections fall in exactly `category`."""
    licence_type = str(rng.choice(_PRODUCTION, p=_PRODUCTION_WEIGHTS))
    commodity, status = site, "active"
    granted, expires = _valid_term(rng)
    if category == "exploration":
        licence_type = str(rng.choice(("exploration", "reconnaissance"), p=(0.75, 0.25)))
    elif category == "wrong_commodity":
        commodity = str(rng.choice([c for c in ("diamond", "gold", "other") if c != site]))
    elif category == "suspended":
        status = "suspended"
    elif category == "expired":
        status = str(rng.choice(("active", "expired")))
        expires = (
            LAST_DAY_EXPIRY
            if first_expired
            else _random_date(rng, dt.date(2023, 1, 1), SURVEY_DATE - dt.timedelta(days=14))
        )
        granted = expires - dt.timedelta(days=365 * int(rng.integers(1, 11)))
    return {
        "licence_type": licence_type,
        "commodity": commodity,
        "status": status,
        "granted": granted,
        "expires": expires,
        "category": category,
    }


def _background_attributes(rng: np.random.Generator) -> dict:
    """Canonical attributes of a licence away from any detection: any type, commodity and status."""
    licence_type = str(
        rng.choice(
            ("exploration", "reconnaissance", "artisanal", "small_scale", "large_scale"), p=(0.35, 0.1, 0.25, 0.2, 0.1)
        )
    )
    commodity = str(rng.choice(("gold", "diamond", "other"), p=(0.45, 0.3, 0.25)))
    status = str(rng.choice(("active", "expired", "pending", "suspended", "unknown"), p=(0.45, 0.15, 0.15, 0.1, 0.15)))
    granted, expires = _valid_term(rng)
    if status == "pending":
        granted = expires = None
    elif status == "expired":
        expires = _random_date(rng, dt.date(2020, 1, 1), dt.date(2026, 5, 31))
        granted = expires - dt.timedelta(days=365 * int(rng.integers(1, 11)))
    elif status == "unknown" and rng.random() < 0.5:
        expires = None
    return {
        "licence_type": licence_type,
        "commodity": commodity,
        "status": status,
        "granted": granted,
        "expires": expires,
        "category": "background",
    }


# --- licence history: an older export of a cadastre --------------------------------------------------------


def grant_between_snapshots(licences: gpd.GeoDataFrame, day: dt.date) -> gpd.GeoDataFrame:
    """`licences` with the first one planted as a valid right (over detections) granted on `day` instead.

    Its expiry stays after the survey; on any day before `day` it was not yet in force, and an export of the
    cadastre made before `day` does not list it.
    """
    first = licences.index[licences["category"] == "active_right_type"][:1]
    changed = licences.copy()
    changed.loc[first, "granted"] = day
    return changed


def older_records(records: pd.DataFrame, licences: gpd.GeoDataFrame, source: SourceSettings, day: dt.date,
                  rng: np.random.Generator) -> pd.DataFrame:
    """The clean `records` of a cadastre (rendered from `licences`, row for row) as its export of `day` lists them.

    The licences granted after `day` are left out (not yet granted then), and the planted suspended ones are
    shown active (suspended since): over their detections, the periods judged from this export are
    registered, the survey's period suspended.
    """
    granted = pd.to_datetime(licences["granted"]).to_numpy()
    listed = pd.isna(granted) | (granted <= np.datetime64(day))
    older = records[listed].reset_index(drop=True)
    suspended = (older["category"] == "suspended").to_numpy()
    older.loc[suspended, "status"] = _pick_term(source.values.status, "active", rng)
    older.loc[suspended, "detail"] = "suspended since this export: active in it"
    return older


# --- rendering: national terms, CRS, numbers and dates ----------------------------------------------------

#: Share of flawless records whose terms are written in another case, without accents, with a typographic
#: apostrophe or doubled spaces: the ingest must still accept them.
VARIANT_SHARE = 0.06


def render_records(
    licences: gpd.GeoDataFrame,
    style: NationalStyle,
    source: SourceSettings,
    first_number: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Write `licences` as records of the national file: national terms, numbers, dates and CRS.

    Columns: the canonical names (licence_id, holder, licence_type, commodity, status, granted, expires),
    holding the national text (dates as text, or `datetime.date` where the file has real date columns),
    `remarks`, `geometry` (national CRS), and the ground truth `expected`, `category`, `detail`.
    """
    rows = [
        _render_one(licence, style, source, first_number + i, rng)
        for i, licence in enumerate(licences.drop(columns="geometry").to_dict("records"))
    ]
    frame = pd.DataFrame(rows, columns=RECORD_COLUMNS[:-1])
    frame["geometry"] = to_national(licences.geometry, style)
    return frame


def _render_one(
    licence: dict, style: NationalStyle, source: SourceSettings, number: int, rng: np.random.Generator
) -> dict:
    """One licence in national terms; a few terms get a spelling variant the ingest must normalise."""
    values = source.values
    terms = {
        "licence_type": _pick_term(values.licence_type, licence["licence_type"], rng),
        "commodity": _pick_term(values.commodity, licence["commodity"], rng),
        "status": _pick_term(values.status, licence["status"], rng) if licence["status"] != "unknown" else "",
    }
    details = []
    for field, term in terms.items():
        if term and rng.random() < VARIANT_SHARE:
            terms[field] = term_variant(term, rng)
            details.append(f"{field} written {terms[field]!r} for {term!r}")
    year = (licence["granted"] or SURVEY_DATE).year
    return {
        "licence_id": licence_id(style, licence["licence_type"], number, year),
        "holder": holder_name(style, rng),
        **terms,
        "granted": date_value(licence["granted"], style, rng),
        "expires": date_value(licence["expires"], style, rng),
        "remarks": SYNTHETIC_MARK,
        "expected": "accepted",
        "category": licence["category"],
        "detail": "; ".join(details),
    }


def _pick_term(table: Mapping[str, str], canonical: str, rng: np.random.Generator) -> str:
    """One of the national terms that the config maps to `canonical`."""
    terms = [term for term, value in table.items() if value == canonical]
    return str(terms[int(rng.integers(len(terms)))])


def term_variant(term: str, rng: np.random.Generator) -> str:
    """`term` in another case, without accents, with a typographic apostrophe or a doubled space; never unchanged."""
    stripped = "".join(c for c in unicodedata.normalize("NFKD", term) if not unicodedata.combining(c))
    candidates = [term.upper(), term.lower(), stripped, term.replace("'", "\u2019"), term.replace(" ", "  ", 1)]
    candidates = list(dict.fromkeys(c for c in candidates if c != term))
    return candidates[int(rng.integers(len(candidates)))]


def licence_id(style: NationalStyle, licence_type: str, number: int, year: int) -> str:
    """A licence number in the national style; `number` keeps it unique within the country."""
    return style.id_pattern.format(prefix=style.id_prefix.get(licence_type, "X"), number=number, year=year)


def holder_name(style: NationalStyle, rng: np.random.Generator) -> str:
    """A fictitious holder: a cooperative, group or company named after a place or a family."""
    pattern = style.holder_patterns[int(rng.integers(len(style.holder_patterns)))]
    place = style.places[int(rng.integers(len(style.places)))]
    name = style.names[int(rng.integers(len(style.names)))]
    return pattern.format(place=place, name=name)


def date_value(day: dt.date | None, style: NationalStyle, rng: np.random.Generator) -> str | dt.date | None:
    """A date as the file stores it: text in one of the style's formats ("" if none), or the date itself."""
    if not style.date_formats:
        return day
    if day is None:
        return ""
    fmt = style.date_formats[int(rng.choice(len(style.date_formats), p=style.date_weights))]
    return day.strftime(fmt)


def to_national(geometries: gpd.GeoSeries, style: NationalStyle) -> np.ndarray:
    """Geometries reprojected to the style's CRS and rounded as a cadastre stores them (1 cm)."""
    return round_coordinates(geometries.to_crs(style.crs).to_numpy(), CRS.from_user_input(style.crs))


def round_coordinates(geometries: np.ndarray, crs: CRS) -> np.ndarray:
    """Round coordinates to about 1 cm: 2 decimals in metres, 7 in degrees."""
    decimals = 7 if crs.is_geographic else 2
    return shapely.transform(geometries, lambda coords: np.round(coords, decimals))
