"""The API definition (``/api``, OpenAPI 3.0 JSON): every path, its parameters and its answers.

Parameters are written out in each path rather than by ``$ref``, so that clients that read only what they need
(GDAL reads the ``limit`` of ``/items`` for its page size) find them where they look. ``limit`` states the
default and the maximum of `queries`; ``collectionId`` lists the collections the user may ask for.
"""

from __future__ import annotations

from typing import Any

from mrumonitor import __version__
from mrumonitor.dashboard.ogcapi.collections import Collection
from mrumonitor.dashboard.ogcapi.crs_options import CRS84
from mrumonitor.dashboard.ogcapi.queries import DEFAULT_LIMIT, MAX_LIMIT
from mrumonitor.dashboard.ogcapi.responses import GEOJSON, JSON, OPENAPI, SCHEMA


def _parameter(name: str, where: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "description": description, "required": where == "path", "schema": schema,
            **extra}


def _answers(media_type: str, what: str) -> dict[str, Any]:
    error = {"content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}}
    return {"200": {"description": what, "content": {media_type: {"schema": {"type": "object"}}}},
            "400": {"description": "A parameter the address does not take", **error},
            "401": {"description": "No valid credentials (HTTP Basic, or a dashboard session)", **error},
            "404": {"description": "No such run, collection or feature", **error},
            "500": {"description": "The server failed", **error}}


def api_definition(base: str, collections: list[Collection], crs: list[str]) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the API at `base`, for the `collections` the user may ask for, in `crs`."""
    collection_id = _parameter("collectionId", "path", "A collection: a layer or a table of the run",
                               {"type": "string", "enum": [collection.name for collection in collections]})
    crs_parameter = _parameter("crs", "query", "The CRS of the coordinates sent (default CRS84)",
                               {"type": "string", "format": "uri", "enum": crs, "default": CRS84})
    f = _parameter("f", "query", "The format: JSON only (f=html is answered with JSON too)",
                   {"type": "string", "enum": ["json", "geojson", "html"], "default": "json"})
    items = [
        collection_id,
        _parameter("limit", "query", f"Features per page: {DEFAULT_LIMIT} by default, at most {MAX_LIMIT} (a larger "
                   f"limit is lowered to {MAX_LIMIT})",
                   {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
        _parameter("offset", "query", "The first feature of the page, from 0 (the next link gives it)",
                   {"type": "integer", "minimum": 0, "default": 0}),
        _parameter("bbox", "query", "Features whose geometry meets this box: minx,miny,maxx,maxy in bbox-crs "
                   "(2D only)", {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                   style="form", explode=False),
        _parameter("bbox-crs", "query", "The CRS of bbox (default CRS84)",
                   {"type": "string", "format": "uri", "enum": crs, "default": CRS84}),
        crs_parameter,
        _parameter("datetime", "query", "Features whose time meets this RFC 3339 instant or interval (start/end, "
                   "'..' for an open side); the collection's description says which column", {"type": "string"}),
        f,
    ]
    single = [collection_id, _parameter("featureId", "path", "The feature's id", {"type": "string"}),
              crs_parameter, f]
    return {
        "openapi": "3.0.3",
        "info": {"title": "MRU mining monitor - OGC API - Features", "version": __version__,
                 "description": "Read-only. Log in with HTTP Basic (the dashboard's user names and passwords) or a "
                                "dashboard session; an agency sees only its own country's site-level features. "
                                "Property filters: ?<queryable>=<value> (see each collection's queryables)."},
        "servers": [{"url": base}],
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"}},
                       "schemas": {"exception": {"type": "object", "required": ["code"], "properties": {
                           "code": {"type": "string"}, "description": {"type": "string"}}}}},
        "security": [{"basic": []}],
        "paths": {
            "/": _get("The landing page", [f], JSON, "Links to the API definition, conformance and collections"),
            "/api": _get("This API definition", [f], OPENAPI, "OpenAPI 3.0"),
            "/conformance": _get("The conformance classes", [f], JSON, "The standards implemented"),
            "/collections": _get("The collections", [f], JSON, "Every collection the user may ask for"),
            "/collections/{collectionId}": _get("A collection", [collection_id, f], JSON, "Its metadata"),
            "/collections/{collectionId}/queryables": _get("A collection's queryables", [collection_id, f], SCHEMA,
                                                           "The properties filters take"),
            "/collections/{collectionId}/items": _get("A collection's features", items, GEOJSON,
                                                      "A page of features (FeatureCollection)"),
            "/collections/{collectionId}/items/{featureId}": _get("A feature", single, GEOJSON, "The feature"),
        },
    }


def _get(summary: str, parameters: list[dict[str, Any]], media_type: str, what: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": parameters, "responses": _answers(media_type, what)}}
