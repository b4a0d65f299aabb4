"""The query of an ``/items`` request, checked, and the features it selects.

`items_query` reads the parameters (OGC API - Features Part 1 and Part 2): ``limit`` (default `DEFAULT_LIMIT`;
above `MAX_LIMIT` it is lowered to it, as the standard asks), ``offset``, ``bbox`` (four numbers, in
``bbox-crs``, CRS84 by default; a 3D box of six is refused), ``crs``, ``datetime`` and property filters
``<column>=<value>`` on the collection's queryables (exact match of text, integers, booleans). A parameter
given twice, an unknown one, or a value it cannot take is refused with `UnknownOption` (400), saying what it
takes. `select` combines boolean masks over the loaded layer, the rows the user may see first among them, so
no parameter can widen what an agency sees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from werkzeug.datastructures import MultiDict

from mrumonitor.dashboard import geojson
from mrumonitor.dashboard.access import Access
from mrumonitor.dashboard.ogcapi.collections import Collection, LoadedCollection
from mrumonitor.dashboard.ogcapi.crs_options import CRS84, bbox_to_crs84, crs_uri
from mrumonitor.dashboard.ogcapi.timespans import meets, parse_datetime
from mrumonitor.errors import UnknownFeature, UnknownOption

#: Features per page when ``limit`` is not given (pygeoapi's and GeoServer's choice too).
DEFAULT_LIMIT = 100
#: The most features one page holds: a larger ``limit`` is lowered to it (OpenAPI ``maximum``).
MAX_LIMIT = 10_000
#: Values of ``f`` taken: every answer is JSON (GeoJSON for features); HTML is not offered, ``f=html`` gets JSON.
FORMATS = ("json", "geojson", "html")
#: The parameters of ``/items`` besides the property filters.
ITEMS_PARAMETERS = ("limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "f")
#: The parameters of a single feature.
ITEM_PARAMETERS = ("crs", "f")
#: Text of the booleans a property filter takes.
BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True)
class ItemsQuery:
    """A checked ``/items`` query.

    Attributes
    ----------
    limit, offset
        The page: at most `limit` features from the `offset`-th (from 0) of those matched.
    bbox
        (west, south, east, north) in CRS84, or None; west > east crosses the antimeridian.
    crs
        URI of the CRS the features are sent in.
    datetime
        (first, last) second asked (NaT: open), or None.
    filters
        Column -> value the features must have.
    """

    limit: int
    offset: int
    bbox: tuple[float, float, float, float] | None
    crs: str
    datetime: tuple[np.datetime64, np.datetime64] | None
    filters: dict[str, Any]


def items_query(args: MultiDict, collection: Collection) -> ItemsQuery:
    """The query of an ``/items`` request on `collection` from its parameters `args`.

    Raises
    ------
    UnknownOption
        A parameter unknown, repeated, or with a value it cannot take (the message says what it takes).
    """
    single = _single_values(args, ITEMS_PARAMETERS + tuple(collection.queryables), collection)
    offered = collection.run.crs
    crs = crs_uri(single["crs"], offered, "crs") if "crs" in single else CRS84
    bbox = None
    if "bbox" in single:
        if collection.kind != "vector":
            raise UnknownOption(f"collection {collection.name!r} is a table without geometry: bbox does not apply.")
        bbox_crs = crs_uri(single["bbox-crs"], offered, "bbox-crs") if "bbox-crs" in single else CRS84
        bbox = bbox_to_crs84(_bbox(single["bbox"]), bbox_crs)
    when = None
    if "datetime" in single:
        if collection.time is None:
            raise UnknownOption(f"collection {collection.name!r} has no time: datetime does not apply.")
        when = parse_datetime(single["datetime"])
    filters = {column: _typed(column, single[column], kind)
               for column, kind in collection.queryables.items() if column in single}
    return ItemsQuery(_integer(single, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT), _integer(single, "offset", 0, 0, None),
                      bbox, crs, when, filters)


def item_crs(args: MultiDict, collection: Collection) -> str:
    """The CRS asked for a single feature (``crs``, CRS84 by default), its other parameters checked."""
    single = _single_values(args, ITEM_PARAMETERS, collection)
    return crs_uri(single["crs"], collection.run.crs, "crs") if "crs" in single else CRS84


def check_format(args: MultiDict) -> None:
    """Refuse an ``f`` other than `FORMATS` (metadata resources take only ``f``; others are ignored there)."""
    values = args.getlist("f")
    if len(values) > 1 or (values and values[0].lower() not in FORMATS):
        raise UnknownOption(f"f={','.join(values)[:40]!r} is not offered; every answer is JSON: f=json (or "
                            "leave f out).")


def _single_values(args: MultiDict, known: tuple[str, ...], collection: Collection) -> dict[str, str]:
    """The parameters of `args`, each checked to be one of `known` and given once."""
    check_format(args)
    unknown = sorted(set(args) - set(known))
    if unknown:
        filters = ", ".join(collection.queryables) or "none"
        raise UnknownOption(f"unknown parameter {unknown[0][:60]!r} for collection {collection.name!r}; it takes "
                            f"{', '.join(p for p in known if p not in collection.queryables)} and property filters "
                            f"on its queryables: {filters}.")
    repeated = [name for name in args if len(args.getlist(name)) > 1]
    if repeated:
        raise UnknownOption(f"parameter {repeated[0]!r} is given {len(args.getlist(repeated[0]))} times; give it "
                            "once.")
    return {name: args[name] for name in args}


def _integer(single: dict[str, str], name: str, default: int, lowest: int, highest: int | None) -> int:
    """Parameter `name` as an integer of at least `lowest`, lowered to `highest`."""
    if name not in single:
        return default
    text = single[name]
    if not text.isascii() or not text.lstrip("+").isdigit() or int(text) < lowest:
        raise UnknownOption(f"{name}={text[:40]!r} is not a whole number of at least {lowest}.")
    return min(int(text), highest) if highest is not None else int(text)


def _bbox(text: str) -> tuple[float, float, float, float]:
    """The four numbers of ``bbox`` (lower corner, upper corner)."""
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) == 6:
        raise UnknownOption(f"bbox={text[:80]!r} has six numbers (a 3D box); these features are 2D: give four "
                            "numbers, minx,miny,maxx,maxy.")
    if len(numbers) != 4 or not all(math.isfinite(number) for number in numbers):
        raise UnknownOption(f"bbox={text[:80]!r} is not four finite numbers separated by commas "
                            "(minx,miny,maxx,maxy; in bbox-crs, CRS84 longitude/latitude by default).")
    if numbers[1] > numbers[3]:
        raise UnknownOption(f"bbox={text[:80]!r}: its lower corner lies above its upper corner (miny > maxy).")
    return numbers[0], numbers[1], numbers[2], numbers[3]


def _typed(column: str, text: str, kind: str) -> Any:
    """The value of a property filter, of the column's type."""
    if kind == "integer":
        if not text.lstrip("+-").isdigit() or not text.isascii():
            raise UnknownOption(f"{column}={text[:40]!r}: {column} holds whole numbers.")
        return int(text)
    if kind == "boolean":
        if text.lower() not in BOOLEANS:
            raise UnknownOption(f"{column}={text[:40]!r}: {column} is true or false.")
        return BOOLEANS[text.lower()]
    return text


def select(loaded: LoadedCollection, query: ItemsQuery, access: Access) -> np.ndarray:
    """Positions (ascending) of the rows of `loaded` that `access` may see and that match `query`."""
    mask = loaded.visible(access)
    if query.bbox is not None:
        mask &= _in_bbox(loaded, query.bbox)
    if query.datetime is not None:
        mask &= meets(loaded.starts, loaded.ends, *query.datetime)
    for column, value in query.filters.items():
        mask &= loaded.equals(column, value)
    return np.flatnonzero(mask)


def _in_bbox(loaded: LoadedCollection, bbox: tuple[float, float, float, float]) -> np.ndarray:
    """Mask of the features whose geometry intersects `bbox` (CRS84): their boxes compared first, then the
    geometries of those whose box is not wholly inside it."""
    west, south, east, north = bbox
    spans = [(west, east)] if west <= east else [(west, 180.0), (-180.0, east)]
    boxes = loaded.boxes
    meet = np.zeros(len(boxes), dtype=bool)
    inside = np.zeros(len(boxes), dtype=bool)
    for left, right in spans:
        meet |= geojson.in_view(boxes, [[south, left], [north, right]])
        inside |= (boxes[:, 0] >= left) & (boxes[:, 2] <= right) & (boxes[:, 1] >= south) & (boxes[:, 3] <= north)
    edge = np.flatnonzero(meet & ~inside)
    if len(edge):
        area = shapely.union_all([shapely.box(left, south, right, north) for left, right in spans])
        meet[edge] = shapely.intersects(loaded.geoms[edge], area)
    return meet


def feature_position(loaded: LoadedCollection, feature_id: str, access: Access) -> int:
    """The position of the feature `feature_id` in `loaded`.

    Raises
    ------
    UnknownFeature
        No feature of that id, or one `access` may not see (answered alike: its existence is not revealed).
    """
    key: Any = feature_id
    if loaded.id_column is None:
        key = int(feature_id) if feature_id.isascii() and feature_id.isdigit() else None
    index = loaded.positions_by_id
    position = index.get_loc(key) if key is not None and key in index else None
    if position is None or not loaded.visible(access)[position]:
        raise UnknownFeature(f"collection {loaded.collection.name!r} has no feature {feature_id[:80]!r}.")
    return int(position)
