"""Watched areas as one WGS84 polygon: a named area of a published run, or an uploaded or drawn one.

A named area is read from the run it is resolved on, never from today's configuration: a country is the run's
country outline (``boundaries``), a border corridor its ``border_corridors`` line buffered by the width of the
run's border zone, an admin area ``<level>:<name>`` a row of the run's ``admin_<level>`` layer, a licence the
licence's polygon in the latest cadastre snapshot of the run's ``concessions`` (the licences in force now).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from mrumonitor.areas.files import AreaUpload
from mrumonitor.crs import WGS84
from mrumonitor.errors import AreaError, StoreError
from mrumonitor.i18n import N_
from mrumonitor.ingest.snapshots import current_licences
from mrumonitor.manifest import read_manifest
from mrumonitor.reference.layers import ReferenceLayers
from mrumonitor.runfolder import RunFolder

#: The kinds of area a run names (the others are uploaded or drawn).
NAMED_KINDS = ("country", "corridor", "admin", "licence")
#: How corridors and licences are labelled (in English, kept in subscriptions; the dashboard and the digests show
#: them translated: `alerts.sentences.area_in_words`).
CORRIDOR_NEAR_LABEL = N_("Border corridor %(id)s (near %(places)s)")
CORRIDOR_LABEL = N_("Border corridor %(id)s")
LICENCE_LABEL = N_("Licence %(id)s (%(holder)s, %(country)s)")
LABELS = (CORRIDOR_NEAR_LABEL, CORRIDOR_LABEL, LICENCE_LABEL)
#: The kinds of area a user gives (schema.AREA_KINDS holds both).
UPLOADED_KINDS = ("drawn", "upload")
#: How many close choices an unknown id's message offers.
_CLOSE = 5


@dataclass(frozen=True)
class WatchedArea:
    """An area a user watches.

    Attributes
    ----------
    kind : str
        One of schema.AREA_KINDS.
    ref : str
        ISO3, corridor_id, ``<level>:<name>``, licence_id, the uploaded file's name, or "drawn".
    label : str
        For people: "Sierra Leone", "Border corridor SLE-GIN-004 (near Koindu, SLE, 4 km · ...)", ...
    geometry : shapely.Geometry
        A (Multi)Polygon in WGS84.
    """

    kind: str
    ref: str
    label: str
    geometry: shapely.Geometry


@dataclass(frozen=True)
class RunContext:
    """What the areas read of a published run: its folder, manifest, analysis CRS and reference layers."""

    folder: RunFolder
    manifest: dict[str, Any]
    crs: Any
    reference: ReferenceLayers

    @classmethod
    def read(cls, run_dir: Path) -> RunContext:
        """The run at `run_dir`.

        Raises
        ------
        StoreError
            No readable manifest, no analysis CRS recorded in it, or no reference layers in the run.
        """
        folder, manifest = RunFolder(run_dir), read_manifest(run_dir)
        crs = (((manifest.get("config") or {}).get("effective") or {}).get("crs") or {}).get("analysis")
        if not crs:
            raise StoreError(f"{folder.manifest}: the manifest does not record config.effective.crs.analysis (the "
                             "run was published by an older mrumonitor). Publish a new run with `mrumonitor run`.")
        names = manifest.get("reference")
        return cls(folder, manifest, crs, ReferenceLayers.read(folder, names if isinstance(names, dict) else {}, crs))

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """The run's vector layer `name`, in its analysis CRS.

        Raises
        ------
        StoreError
            The run does not hold it.
        """
        return gpd.read_parquet(self._path(name)).to_crs(self.crs)

    def table(self, name: str, columns: list[str]) -> pd.DataFrame:
        """The `columns` of the run's layer or table `name`, without geometry (StoreError when it is not there)."""
        return pd.read_parquet(self._path(name), columns=columns)

    def _path(self, name: str) -> Path:
        path = self.folder.layer(name)
        if not path.is_file():
            raise StoreError(f"run {self.folder.name} holds no {name} layer (it was published before it was "
                             "made). Publish a new run with `mrumonitor run`.")
        return path

    @property
    def countries(self) -> tuple[str, ...]:
        """The project countries of the run (every country of its outlines when the manifest does not say)."""
        effective = (self.manifest.get("config") or {}).get("effective") or {}
        return tuple((effective.get("project") or {}).get("countries") or self.reference.boundaries["iso3"])


def named_area(run_dir: Path, kind: str, ref: str) -> WatchedArea:
    """The area `kind` ("country", "corridor", "admin", "licence") `ref` of the run at `run_dir`.

    Raises
    ------
    AreaError
        An unknown kind, or a ref the run does not hold (the message names the run and up to five close choices);
        an admin area in a run made without admin levels.
    """
    if kind not in NAMED_KINDS:
        raise AreaError(f"{kind!r} is not a kind of named area; the kinds are {', '.join(NAMED_KINDS)} (or upload "
                        "or draw an area).")
    run = RunContext.read(Path(run_dir))
    choices = dict(_choices(run, kind, None))
    if ref not in choices:
        raise AreaError(_unknown(run, kind, ref, choices))
    return WatchedArea(kind, ref, choices[ref], _geometry(run, kind, ref))


def uploaded_area(upload: AreaUpload, kind: str = "upload") -> WatchedArea:
    """The watched area of an uploaded file (kind "upload", ref its name) or a drawing (kind "drawn")."""
    if kind not in UPLOADED_KINDS:
        raise AreaError(f"an uploaded area is of kind 'upload' or 'drawn', not {kind!r}.")
    ref = upload.name if kind == "upload" else "drawn"
    return WatchedArea(kind, ref, f"{upload.name} ({upload.area_km2:,.1f} km²)", upload.geometry)


def area_choices(run_dir: Path, country: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """What a user may watch in the run at `run_dir`: kind -> [(ref, label)], sorted by label.

    `country` (an agency user's): only that country, the corridors along its borders, its admin areas and its
    licences.
    """
    run = RunContext.read(Path(run_dir))
    return {kind: sorted(_choices(run, kind, country), key=lambda item: item[1]) for kind in NAMED_KINDS}


def _choices(run: RunContext, kind: str, country: str | None) -> list[tuple[str, str]]:
    """(ref, label) of every area of `kind` in the run (of `country` only when given)."""
    if kind == "country":
        outlines = run.reference.boundaries
        outlines = outlines[outlines["iso3"].isin([country] if country else run.countries)]
        return list(zip(outlines["iso3"], outlines["name"]))
    if kind == "corridor":
        corridors = _corridors(run)
        if country:
            corridors = corridors[corridors["border_pair"].str.split("-").map(lambda pair: country in pair)]
        return [(cid, _corridor_label(cid, near)) for cid, near in zip(corridors["corridor_id"],
                                                                       corridors["near_places"])]
    if kind == "admin":
        return [(f"{level}:{name}", f"{name} ({level}, {iso3})") for level, frame in run.reference.admin.items()
                for name, iso3 in zip(frame["name"], frame["country"]) if not country or iso3 == country]
    licences = _licences(run)
    if country:
        licences = licences[licences["country"] == country]
    return [(lid, LICENCE_LABEL % {"id": lid, "holder": holder, "country": iso3})
            for lid, holder, iso3 in zip(licences["licence_id"], licences["holder"], licences["country"])]


def _geometry(run: RunContext, kind: str, ref: str) -> shapely.Geometry:
    """The WGS84 polygon of a known `ref`."""
    if kind == "country":
        frame = run.reference.boundaries[run.reference.boundaries["iso3"] == ref]
    elif kind == "corridor":
        corridors = _corridors(run)
        width_m = float(run.reference.border_zone["width_km"].iloc[0]) * 1000
        line = corridors[corridors["corridor_id"] == ref]
        frame = line.set_geometry(line.geometry.buffer(width_m))
    elif kind == "admin":
        level, name = ref.split(":", 1)
        areas = run.reference.admin[level]
        frame = areas[areas["name"] == name]
    else:
        licences = _licences(run)
        frame = licences[licences["licence_id"] == ref]
    return shapely.union_all(frame.geometry.to_crs(WGS84).to_numpy())


def _corridors(run: RunContext) -> gpd.GeoDataFrame:
    return run.layer("border_corridors")


def _licences(run: RunContext) -> gpd.GeoDataFrame:
    return current_licences(run.layer("concessions")).drop_duplicates("licence_id")


def _corridor_label(corridor_id: str, near_places: str | None) -> str:
    if near_places:
        return CORRIDOR_NEAR_LABEL % {"id": corridor_id, "places": near_places}
    return CORRIDOR_LABEL % {"id": corridor_id}


def _unknown(run: RunContext, kind: str, ref: str, choices: dict[str, str]) -> str:
    """The message for a `ref` the run does not hold, with up to five close choices: those that contain it, else
    the most alike (difflib), else the first ones."""
    if kind == "admin" and not run.reference.admin:
        return (f"run {run.folder.name} has no admin areas: admin areas need [analysis.admin.<level>] in the "
                "configuration of the run. Watch a country, a corridor, a licence, or upload the area.")
    if kind == "licence" and ref in set(run.layer("concessions")["licence_id"]):
        return (f"licence {ref!r} is not in the latest cadastre snapshot of run {run.folder.name} (it is no longer "
                "in force). Watch a licence in force, or upload its polygon.")
    keys = {}
    for choice in choices:
        keys.setdefault(_spelling(choice), choice)
    asked = _spelling(ref)
    close = ([choice for key, choice in keys.items() if asked and asked in key][:_CLOSE]
             or [keys[key] for key in difflib.get_close_matches(asked, list(keys), n=_CLOSE, cutoff=0.5)]
             or list(choices)[:_CLOSE])
    offer = f"; close choices: {', '.join(close)}" if close else "; it holds none"
    fix = {"country": "an ISO3 code", "corridor": "a corridor_id (`mrumonitor summary` lists them)",
           "admin": "<level>:<name>", "licence": "a licence_id"}[kind]
    return f"run {run.folder.name} has no {kind} {ref!r}{offer}. Give {fix} the run holds."


def _spelling(text: str) -> str:
    """`text` as it is compared with what the run holds: lower case, without spaces or punctuation ("SSML0012" is
    close to "SSML 0012/2018")."""
    return re.sub(r"[\W_]+", "", text).casefold()
