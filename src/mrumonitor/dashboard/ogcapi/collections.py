"""The collections of a published run: its vector layers and tables, described cheaply and loaded once.

`run_collections` describes a run's collections from its manifest and its files' Parquet footers only (title,
columns, queryables, spatial extent from the GeoParquet metadata, time from the period or date columns), cached
per run folder. `Collection.load` reads a layer once (cached too): its attributes, its geometries in CRS84 with
their bounding boxes as arrays (so that a ``bbox`` is a few numpy comparisons), its feature ids, the countries
each row belongs to (what an agency may see), and the time span of each row. Rasters are not features.

Who sees what (`mrumonitor.dashboard.access`): aggregates (`AGGREGATE_LAYERS`) whole; a site-level layer only
in the rows of the countries an agency's `Access.sees_sites` allows, read from the row's ``countries``, else
from its site's (``site_id`` in the run's sites), else from its ``country``. A site-level layer with none of
these is not offered to an agency.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from mrumonitor.crs import WGS84
from mrumonitor.dashboard.access import Access, is_site_level
from mrumonitor.dashboard.memo import Memo
from mrumonitor.dashboard.ogcapi.crs_options import offered_crs
from mrumonitor.dashboard.ogcapi.timespans import TimeColumns, feature_spans, time_columns
from mrumonitor.dashboard.prepared import Codes
from mrumonitor.errors import AccessDenied, ExportError, StoreError, UnknownLayer
from mrumonitor.export.run_reference import run_crs
from mrumonitor.export.source import LayerSource, layer_source, read_frame
from mrumonitor.store.columns import column_description
from mrumonitor.store.runs import read_manifest

#: Layer kinds served as collections (rasters are not features).
FEATURE_KINDS = ("vector", "table")
#: Columns that name a feature, in order of preference: the first a layer has with unique values gives the
#: feature ids; a layer with none is numbered by row (0, 1, ...; stable, as a published run never changes).
ID_COLUMNS = ("site_id", "alert_id", "visit_id", "licence_id", "corridor_id", "post_id")
#: Columns of a layer file that are not attributes: the geometry and the GeoParquet bounding-box covering.
HIDDEN_COLUMNS = ("geometry", "bbox")
#: Runs whose collections are described in memory, and layers kept loaded (all runs together).
CACHED_RUNS = 8
CACHED_LAYERS = 24

_RUNS = Memo(CACHED_RUNS)
_LAYERS = Memo(CACHED_LAYERS)
#: One lock per layer being read (`Collection.load`), and the lock guarding that table.
_LOADING: dict[tuple[str, str], threading.Lock] = {}
_LOADING_GUARD = threading.Lock()


@dataclass(frozen=True)
class Collection:
    """One collection (a vector layer or a table of a run), as described without reading its rows.

    Attributes
    ----------
    run
        The run's collections this one belongs to.
    name, kind, title, description
        From the run's manifest.
    columns
        Its attribute columns, in order.
    source
        The layer's file, checked to lie inside the run folder.
    queryables
        Columns that property filters take, with their JSON Schema type (string, integer, boolean).
    bbox
        [west, south, east, north] in CRS84 of the layer's geometries; None for a table or when not recorded.
    time
        The columns the features' time is read from (None: no time, ``datetime`` is refused).
    site_level, visibility
        Whether an agency sees only some rows (`access.is_site_level`), and the column saying the countries of
        a row (countries, site_id or country; None: none does).
    """

    run: RunCollections = field(repr=False)
    name: str
    kind: str
    title: str
    description: str
    source: LayerSource = field(repr=False)
    columns: list[str]
    queryables: dict[str, str]
    bbox: list[float] | None
    time: TimeColumns | None
    site_level: bool
    visibility: str | None

    def offered_to(self, access: Access) -> bool:
        """Whether `access` may ask for this collection (an agency: not a site-level layer it cannot be limited
        to its country)."""
        return access.regional or not self.site_level or self.visibility is not None

    def require(self, access: Access) -> None:
        """Raise AccessDenied unless `offered_to(access)`."""
        if not self.offered_to(access):
            raise AccessDenied(f"collection {self.name!r} holds site-level data that cannot be limited to "
                               f"{access.country}; ask the regional team for it.")

    def load(self) -> LoadedCollection:
        """The layer's rows, read once and kept (`CACHED_LAYERS`); requests arriving while it is read wait for
        that reading rather than start their own (half a million sites take seconds and a gigabyte to read)."""
        key = (str(self.run.run_dir), self.name)
        with _LOADING_GUARD:
            lock = _LOADING.setdefault(key, threading.Lock())
        with lock:
            return _LAYERS.get(key, lambda: _load(self))

    def column_title(self, column: str) -> str:
        """The column's description from the column catalogue (English), else its name."""
        return column_description(self.name, column) or column

    @cached_property
    def temporal_extent(self) -> list[str | None] | None:
        """[first, last] instant (RFC 3339, UTC) of the features' time, None for a side some feature leaves open;
        None for a collection without time, or none of whose features has any."""
        if self.time is None:
            return None
        frame = pd.read_parquet(self.source.path, columns=self.time.columns)
        starts, ends = feature_spans(frame, self.time, self.run.periods)
        timed = ~(np.isnat(starts) & np.isnat(ends))
        if not timed.any():
            return None
        starts, ends = starts[timed], ends[timed]
        return [None if np.isnat(starts).any() else _rfc3339(starts.min()),
                None if np.isnat(ends).any() else _rfc3339(ends.max())]


@dataclass(frozen=True)
class LoadedCollection:
    """A collection's rows, loaded: attributes, CRS84 geometries and their boxes, ids, visibility and time."""

    collection: Collection
    attributes: pd.DataFrame = field(repr=False)
    geoms: np.ndarray | None = field(repr=False)
    boxes: np.ndarray | None = field(repr=False)
    ids: np.ndarray = field(repr=False)
    id_column: str | None
    countries: Codes | None = field(repr=False)
    starts: np.ndarray | None = field(repr=False)
    ends: np.ndarray | None = field(repr=False)
    _codes: dict[str, Codes] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.attributes)

    def visible(self, access: Access) -> np.ndarray:
        """Mask of the rows `access` may see."""
        if access.regional or not self.collection.site_level:
            return np.ones(len(self), dtype=bool)
        self.collection.require(access)
        return self.countries.where(access.sees_sites)

    def equals(self, column: str, value: Any) -> np.ndarray:
        """Mask of the rows whose `column` is `value` (the column's codes are made on first use and kept)."""
        codes = self._codes.get(column)
        if codes is None:
            codes = self._codes.setdefault(column, Codes.of(self.attributes[column]))
        return codes.isin((value,))

    @cached_property
    def positions_by_id(self) -> pd.Index:
        """The feature ids as an index: position of a feature from its id."""
        return pd.Index(self.ids)


@dataclass(frozen=True)
class RunCollections:
    """The collections of one published run."""

    run_dir: Path
    manifest: dict[str, Any] = field(repr=False)
    collections: dict[str, Collection] = field(repr=False)
    crs: list[str]

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", self.run_dir.name))

    @property
    def periods(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("periods") or [])

    def offered_to(self, access: Access) -> list[Collection]:
        """The collections `access` may ask for, by name."""
        return [collection for collection in self.collections.values() if collection.offered_to(access)]

    def collection(self, name: str, access: Access) -> Collection:
        """The collection `name`, if `access` may ask for it.

        Raises
        ------
        UnknownLayer
            The run has no vector layer or table of that name (the message lists those it has).
        AccessDenied
            An agency asks for a site-level collection that cannot be limited to its country.
        """
        found = self.collections.get(name)
        if found is None:
            raise UnknownLayer(f"run {self.run_id} has no collection {name[:80]!r}; its collections are: "
                               f"{', '.join(c.name for c in self.offered_to(access)) or 'none'}.")
        found.require(access)
        return found


def run_collections(run_dir: Path) -> RunCollections:
    """The collections of the published run in `run_dir`, described once per run folder.

    Raises
    ------
    StoreError
        The manifest cannot be read, or a layer's file is missing or damaged.
    """
    run_dir = Path(run_dir).resolve()
    return _RUNS.get(str(run_dir), lambda: _describe_run(run_dir))


def _describe_run(run_dir: Path) -> RunCollections:
    manifest = read_manifest(run_dir)
    try:
        analysis = run_crs(run_dir, manifest)
    except StoreError:  # an older run without its configuration: CRS84 and EPSG:4326 only
        analysis = None
    run = RunCollections(run_dir, manifest, {}, offered_crs(analysis))
    layers = manifest.get("layers") or {}
    has_sites = "sites" in layers
    try:
        for name in sorted(layers):
            if layers[name].get("kind") in FEATURE_KINDS:
                run.collections[name] = _describe(run, layer_source(run_dir, manifest, name), has_sites)
    except ExportError as exc:  # a damaged run (a file missing, a path leading out): the server's fault, not the request's
        raise StoreError(str(exc)) from None
    return run


def _describe(run: RunCollections, source: LayerSource, has_sites: bool) -> Collection:
    """A collection from its manifest entry and its file's footer."""
    try:
        metadata = pq.read_metadata(source.path)
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"{source.path}: layer {source.name!r} cannot be read ({exc}). Publish the run again.") \
            from None
    schema = metadata.schema.to_arrow_schema()
    columns = [name for name in schema.names if name not in HIDDEN_COLUMNS]
    queryables = {name: kind for name in columns if (kind := _json_type(schema.field(name).type))}
    return Collection(run, source.name, source.kind, source.entry.get("title", source.name),
                      source.entry.get("description", ""), source, columns, queryables,
                      _bbox(metadata) if source.kind == "vector" else None, time_columns(columns),
                      is_site_level(source.name), _visibility_column(columns, has_sites))


def _json_type(arrow_type: pa.DataType) -> str | None:
    """The JSON Schema type of a column property filters take (exact match): text, integers and booleans."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    return None


def _bbox(metadata: pq.FileMetaData) -> list[float] | None:
    """The layer's extent in CRS84 from its GeoParquet metadata (bbox of the geometry column, in its CRS)."""
    try:
        geo = json.loads((metadata.metadata or {}).get(b"geo", b"null"))
        column = geo["columns"][geo["primary_column"]]
        crs = CRS.from_json_dict(column["crs"]) if column.get("crs") else CRS("OGC:CRS84")
        bounds = Transformer.from_crs(crs, "OGC:CRS84", always_xy=True).transform_bounds(*column["bbox"],
                                                                                         densify_pts=21)
        return [round(float(value), 6) for value in bounds]
    except (KeyError, TypeError, ValueError, CRSError, ProjError):
        return None


def _visibility_column(columns: list[str], has_sites: bool) -> str | None:
    """Which column says the countries of a row (see module doc); None when none does."""
    if "countries" in columns:
        return "countries"
    if "site_id" in columns and has_sites:
        return "site_id"
    return "country" if "country" in columns else None


def _load(collection: Collection) -> LoadedCollection:
    """Read the layer's rows (see `LoadedCollection`)."""
    try:
        frame = read_frame(collection.source)
    except ExportError as exc:
        raise StoreError(str(exc)) from None
    geoms = boxes = None
    if isinstance(frame, gpd.GeoDataFrame):
        geoms = np.asarray(frame.geometry.to_crs(WGS84))
        boxes = np.asfortranarray(shapely.bounds(geoms))  # one column at a time is what a bbox compares
    attributes = pd.DataFrame(frame.drop(columns=[c for c in HIDDEN_COLUMNS if c in frame.columns]))
    attributes = attributes.reset_index(drop=True)
    id_column = next((c for c in ID_COLUMNS if c in attributes and attributes[c].notna().all()
                      and attributes[c].is_unique), None)
    ids = attributes[id_column].astype(str).to_numpy(dtype=object) if id_column else np.arange(len(attributes))
    starts = ends = None
    if collection.time is not None:
        starts, ends = feature_spans(attributes, collection.time, collection.run.periods)
    return LoadedCollection(collection, attributes, geoms, boxes, ids, id_column,
                            _row_countries(collection, attributes), starts, ends)


def _row_countries(collection: Collection, attributes: pd.DataFrame) -> Codes | None:
    """The countries of each row as codes (ISO3 text, ``;``-separated for several), by `Collection.visibility`."""
    column = collection.visibility
    if not collection.site_level or column is None:
        return None
    if column == "site_id":
        sites = _site_countries(collection.run)
        text = attributes["site_id"].astype(object).map(sites)
        if "country" in attributes:
            text = text.where(text.notna(), attributes["country"].astype(object))
    else:
        text = attributes[column].astype(object)
    return Codes.of(text.where(text.notna(), None))


def _site_countries(run: RunCollections) -> pd.Series:
    """The countries of each site of the run (``countries``, else ``country``), by site id."""
    sites = run.collections["sites"]
    column = "countries" if "countries" in sites.columns else "country"
    frame = pd.read_parquet(sites.source.path, columns=["site_id", column])
    return frame.drop_duplicates("site_id").set_index("site_id")[column].astype(object)


def _rfc3339(value: np.datetime64) -> str:
    return f"{np.datetime_as_string(value, unit='s')}Z"

