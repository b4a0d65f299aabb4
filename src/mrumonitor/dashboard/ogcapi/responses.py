"""The documents the OGC API answers with: landing page, conformance, collections, queryables, features, errors.

Every link is absolute, built on the address the client used (``base``: ``http://host/ogcapi`` or
``http://host/ogcapi/runs/<run_id>``). Features are serialised in one pass: geometries by
``shapely.to_geojson`` over the page's array, properties by pandas' JSON writer over the page's rows, joined as
text (no per-feature dictionaries), the same way as the map's GeoJSON (`dashboard.geojson`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np
import shapely

from mrumonitor.dashboard.ogcapi.collections import ID_COLUMNS, Collection, LoadedCollection
from mrumonitor.dashboard.ogcapi.crs_options import CRS84, to_crs
from mrumonitor.export.sidecar import now_text

#: Media types of the answers.
JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"

#: The conformance classes implemented: Part 1 (core, GeoJSON, OpenAPI 3.0), Part 2 (CRS by reference) and the
#: queryables of Part 3 as query parameters (no CQL2 filter). HTML is not offered.
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
)
#: The temporal reference system of the extents.
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
#: The OGC API exception code of each HTTP status answered.
EXCEPTION_CODES = {400: "InvalidParameterValue", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                   405: "MethodNotAllowed", 429: "TooManyRequests", 500: "NoApplicableCode",
                   503: "ServiceUnavailable"}


def link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def exception(status: int, description: str) -> dict[str, str]:
    """The body of an error answer: the OGC API exception's code and the description."""
    return {"code": EXCEPTION_CODES.get(status, "NoApplicableCode"), "description": description}


def landing_page(base: str, run_id: str, latest: bool) -> dict[str, Any]:
    which = (f"the latest run (now {run_id}; this address follows each new run)" if latest
             else f"run {run_id} (a published run never changes)")
    return {
        "title": "MRU mining monitor - OGC API - Features",
        "description": f"Mining sites, licences and the figures of {which} of the Mano River Union mining "
                       "monitor (Kimberley Process Regional Approach), as OGC API - Features. GeoJSON in WGS84 "
                       "longitude/latitude by default; no HTML.",
        "links": [link(base, "self", JSON, "This document"),
                  link(f"{base}/api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
                  link(f"{base}/conformance", "conformance", JSON, "The standards this API conforms to"),
                  link(f"{base}/collections", "data", JSON, "The collections: the run's layers and tables")]}


def conformance() -> dict[str, list[str]]:
    return {"conformsTo": list(CONFORMANCE)}


def collections_document(base: str, collections: list[Collection]) -> dict[str, Any]:
    return {"links": [link(f"{base}/collections", "self", JSON, "The collections")],
            "collections": [collection_document(base, collection) for collection in collections],
            "crs": collections[0].run.crs if collections else [CRS84]}


def collection_document(base: str, collection: Collection) -> dict[str, Any]:
    """A collection's metadata: id, title, description, extent, CRSs, links."""
    here = f"{base}/collections/{quote(collection.name, safe='')}"
    id_column = next((column for column in ID_COLUMNS if column in collection.columns), None)
    notes = [collection.description, collection.time.describe() if collection.time else "",
             f"Feature ids: {id_column + ' where unique, else ' if id_column else ''}the row number."]
    document: dict[str, Any] = {
        "id": collection.name, "title": collection.title, "description": " ".join(note for note in notes if note),
        "itemType": "feature", "crs": collection.run.crs, "storageCrs": CRS84,
        "links": [link(here, "self", JSON, "This collection"),
                  link(f"{here}/items", "items", GEOJSON, "Its features (GeoJSON)"),
                  link(f"{here}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA,
                       "The properties its features can be filtered by")]}
    extent: dict[str, Any] = {}
    if collection.bbox:
        extent["spatial"] = {"bbox": [collection.bbox], "crs": CRS84}
    if collection.temporal_extent:
        extent["temporal"] = {"interval": [collection.temporal_extent], "trs": GREGORIAN}
    if extent:
        document["extent"] = extent
    return document


def queryables(base: str, collection: Collection) -> dict[str, Any]:
    """The JSON Schema of the properties that filter the collection's features (``?<column>=<value>``)."""
    here = f"{base}/collections/{quote(collection.name, safe='')}/queryables"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": here, "type": "object",
            "title": collection.title,
            "properties": {column: {"title": column, "description": collection.column_title(column), "type": kind}
                           for column, kind in collection.queryables.items()},
            "additionalProperties": False}


def feature_collection(base: str, loaded: LoadedCollection, positions: np.ndarray, matched: int, offset: int,
                       limit: int, crs: str, args: dict[str, str]) -> str:
    """The FeatureCollection text of one page: `positions` of `loaded` in `crs`, with `matched` in all from
    `offset`, and links to this page and the next and previous ones (every other parameter of `args` kept)."""
    here = f"{base}/collections/{quote(loaded.collection.name, safe='')}/items"
    links = [link(_with(here, args), "self", GEOJSON, "This page"),
             link(f"{base}/collections/{quote(loaded.collection.name, safe='')}", "collection", JSON,
                  "The collection")]
    if offset + len(positions) < matched and len(positions):
        links.append(link(_with(here, {**args, "offset": str(offset + len(positions))}), "next", GEOJSON,
                          "The next page"))
    if offset > 0:
        links.append(link(_with(here, {**args, "offset": str(max(0, offset - limit))}), "prev", GEOJSON,
                          "The previous page"))
    head = {"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(positions),
            "timeStamp": now_text(), "links": links}
    return json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[' + ",".join(_features(loaded, positions,
                                                                                                crs)) + "]}"


def feature(base: str, loaded: LoadedCollection, position: int, crs: str) -> str:
    """One feature's text, with links to itself and its collection."""
    collection = f"{base}/collections/{quote(loaded.collection.name, safe='')}"
    text = _features(loaded, np.array([position]), crs)[0]
    links = [link(f"{collection}/items/{quote(str(loaded.ids[position]), safe='')}", "self", GEOJSON,
                  "This feature"), link(collection, "collection", JSON, "The collection")]
    return text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}"


def _features(loaded: LoadedCollection, positions: np.ndarray, crs: str) -> list[str]:
    """The GeoJSON text of each feature at `positions`."""
    if len(positions) == 0:
        return []
    if loaded.geoms is None:
        shapes = ["null"] * len(positions)
    else:
        shapes = [shape or "null" for shape in shapely.to_geojson(to_crs(loaded.geoms[positions], crs))]
    rows = loaded.attributes.iloc[positions].to_json(orient="records", lines=True, date_format="iso",
                                                     force_ascii=False)
    # pandas escapes line breaks inside texts: every "\n" ends a record (splitlines would also cut at U+2028)
    properties = rows.rstrip("\n").split("\n")
    ids = [json.dumps(value.item() if isinstance(value, np.generic) else value, ensure_ascii=False)
           for value in loaded.ids[positions]]
    return [f'{{"type":"Feature","id":{i},"geometry":{g},"properties":{p}}}'
            for i, g, p in zip(ids, shapes, properties)]


def _with(address: str, args: dict[str, str]) -> str:
    return f"{address}?{urlencode(args)}" if args else address

