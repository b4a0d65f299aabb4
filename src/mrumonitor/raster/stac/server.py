"""A small STAC API over a folder of items and COGs: the demo's imagery, a local archive, the tests.

Layout served (`write_collection` writes it from pystac Items)::

    <root>/<collection>/collection.json
    <root>/<collection>/items/<item id>.json     asset hrefs RELATIVE to the item file, e.g.
    <root>/<collection>/assets/<item id>/B04.tif   "../assets/<item id>/B04.tif"

Endpoints, as the STAC API specification (v1.0.0) gives them: ``/`` (landing page), ``/conformance``,
``/collections``, ``/collections/{id}``, ``/collections/{id}/items`` (paged), ``/collections/{id}/items/{item}``,
``/search`` (GET and POST: ``collections``, ``bbox``, ``intersects``, ``datetime``, ``ids``, ``limit`` capped at
1000, ``query`` and CQL2-JSON ``filter`` on item properties, paging by a ``token`` carried in the ``next`` link),
and the files under ``/files/<token>/<path below root>`` with HTTP Range requests answered 206, as GDAL's
``/vsicurl/`` needs. The token is new for each server: GDAL keeps what it read of a URL for the life of the process,
so a server started again on the same port, over files that changed, must not answer under the same URLs. Items come sorted by datetime then id. Every href an answer carries is absolute and made from the address
the request reached, so the folder does not depend on the port. Item files are parsed once, and again only when
they change (a search of 1,000 items answers a page in about 0.2 s on 2 cores). A bad parameter gets 400 with a JSON
``{"code", "description"}``; nothing answers with a traceback.

`LocalStacApi` runs the API on a threaded werkzeug server in a background thread and records every request
(method, path, Range header) in `LocalStacApi.requests`, for tests that count what was read. A GDAL reader in the
same process must set ``GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR`` (as `raster.io.http_options` does): GDAL looks for
side-car files (.aux.xml, .ovr) while rasterio holds Python's global lock, and the server's thread could not answer.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlencode

import pystac
from shapely.geometry import box, shape
from werkzeug.exceptions import BadRequest, HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.security import safe_join
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

log = logging.getLogger(__name__)

#: Conformance classes the API declares (pystac-client checks item-search, query and filter before using them).
CONFORMANCE = (
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#query",
    "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
)
#: Items per page unless the request says, and the most it may ask for.
DEFAULT_LIMIT = 10
#: How long a client may keep a served asset file (seconds); a changed file gets a new ETag.
ASSET_MAX_AGE_S = 3600
MAX_LIMIT = 1000

GEOJSON = "application/geo+json"
_COMPARE = {
    "eq": lambda a, b: a == b, "neq": lambda a, b: a != b,
    "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b, "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
}
#: CQL2 comparison operators, by their name in the `query` extension.
_CQL2 = {"=": "eq", "<>": "neq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}

RequestRecord = tuple[str, str, "str | None"]


class LocalStacApi:
    """A STAC API over `root`, served on `host:port` (0 = any free port) from a background thread.

    Parameters
    ----------
    root
        The folder: one sub-folder per collection (see the module docstring).
    wrap
        Optional WSGI middleware factory, ``wrap(app) -> app``, placed inside the request log (tests inject
        faults with it: 500s, delays, truncated bodies; every request is still recorded).

    Use it as a context manager, or `start` and `stop` it. `url` is the API root; `requests` lists
    ``(method, path, Range header or None)`` of every request received, in order.
    """

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0,
                 wrap: Callable[[Callable], Callable] | None = None):
        self.root = Path(root)
        self.host, self.port = host, port
        self._app = StacApp(self.root)
        self._served = wrap(self._app) if wrap else self._app
        self._requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._server = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The API root, ``http://host:port``; known once started (and still after `stop`)."""
        if self._url is None:
            raise RuntimeError("the STAC API is not started; call start() first")
        return self._url

    @property
    def files_url(self) -> str:
        """Where this server answers the folder's files: ``<url>/files/<token>``, the token new for each server."""
        return f"{self.url}/files/{self._app.token}"

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the requests received so far: (method, path with query string, Range header)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self._requests.clear()

    def start(self) -> str:
        """Start serving in a background thread; returns the base URL."""
        if not self.root.is_dir():
            raise NotADirectoryError(f"{self.root}: no such folder to serve")
        self._server = make_server(self.host, self.port, self._record, threaded=True,
                                   request_handler=_LoggingHandler)
        self._url = f"http://{self.host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"stac-api:{self.root.name}",
                                        daemon=True)
        self._thread.start()
        log.info("STAC API over %s at %s", self.root, self.url)
        return self.url

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl+C); the server must have been started."""
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _record(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        with self._lock:
            self._requests.append((environ.get("REQUEST_METHOD", ""), path, environ.get("HTTP_RANGE")))
        return self._served(environ, start_response)


class _LoggingHandler(WSGIRequestHandler):
    """werkzeug's request handler, logging each request at DEBUG to this module's logger (not to stderr)."""

    def log(self, type: str, message: str, *args) -> None:
        log.debug("%s %s", self.address_string(), message % args)


class _Request(Request):
    """A request whose body (a POST search) may not exceed 1 MiB: larger is answered 413."""

    max_content_length = 1024 * 1024


class StacApp:
    """The WSGI application of `LocalStacApi`: routes, parameters, answers (see the module docstring)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._parsed: dict[Path, tuple[tuple[int, int, int], StoredItem]] = {}
        self._lock = threading.Lock()
        self.token = uuid.uuid4().hex[:12]
        self.routes = Map([
            Rule("/", endpoint="landing"),
            Rule("/conformance", endpoint="conformance"),
            Rule("/collections", endpoint="collections"),
            Rule("/collections/<collection_id>", endpoint="collection"),
            Rule("/collections/<collection_id>/items", endpoint="collection_items"),
            Rule("/collections/<collection_id>/items/<item_id>", endpoint="item"),
            Rule("/search", endpoint="search", methods=["GET", "POST"]),
            Rule("/files/<token>/<path:relpath>", endpoint="file", methods=["GET", "HEAD"]),
        ], strict_slashes=False)

    def __call__(self, environ, start_response):
        request = _Request(environ)
        try:
            endpoint, args = self.routes.bind_to_environ(environ).match()
            response = getattr(self, f"_{endpoint}")(request, **args)
        except HTTPException as error:
            response = _error(error.code, error.name.replace(" ", ""), error.description)
        except Exception:
            log.exception("STAC API: %s %s failed", request.method, request.full_path)
            response = _error(500, "InternalServerError", "the server failed on this request; see its log")
        return response(environ, start_response)

    # -- endpoints -------------------------------------------------------------------------------------

    def _landing(self, request: Request) -> Response:
        base = _base(request)
        links = [_link("self", base + "/", "application/json"), _link("root", base + "/", "application/json"),
                 _link("conformance", base + "/conformance", "application/json"),
                 _link("data", base + "/collections", "application/json"),
                 {**_link("search", base + "/search", GEOJSON), "method": "GET"},
                 {**_link("search", base + "/search", GEOJSON), "method": "POST"}]
        links += [_link("child", f"{base}/collections/{cid}", "application/json") for cid in self._collection_ids()]
        return _json({"type": "Catalog", "stac_version": pystac.get_stac_version(), "id": "mrumonitor-local",
                      "title": "mrumonitor local STAC API", "description": f"Items and COGs of {self.root.name}",
                      "conformsTo": list(CONFORMANCE), "links": links})

    def _conformance(self, request: Request) -> Response:
        return _json({"conformsTo": list(CONFORMANCE)})

    def _collections(self, request: Request) -> Response:
        base = _base(request)
        collections = [self._collection_document(cid, base) for cid in self._collection_ids()]
        return _json({"collections": collections, "links": [_link("self", base + "/collections", "application/json"),
                                                            _link("root", base + "/", "application/json")]})

    def _collection(self, request: Request, collection_id: str) -> Response:
        return _json(self._collection_document(collection_id, _base(request)))

    def _collection_items(self, request: Request, collection_id: str) -> Response:
        self._collection_folder(collection_id)
        params = _get_params(request)
        params["collections"] = [collection_id]
        return self._item_page(request, params, request.base_url)

    def _item(self, request: Request, collection_id: str, item_id: str) -> Response:
        path = safe_join(str(self._collection_folder(collection_id) / "items"), f"{item_id}.json")
        if path is None or not os.path.isfile(path):
            raise NotFound(f"no item {item_id!r} in collection {collection_id!r}")
        return _json(self._answer_item(self._stored(Path(path), collection_id), _base(request)), GEOJSON)

    def _search(self, request: Request) -> Response:
        if request.method == "POST":
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise BadRequest("the POST body of /search must be a JSON object")
            params = body
        else:
            params = _get_params(request)
        return self._item_page(request, params, _base(request) + "/search")

    def _file(self, request: Request, token: str, relpath: str) -> Response:
        if token != self.token:
            raise NotFound("this file address comes from an earlier run of the server; search again for its items")
        path = safe_join(str(self.root), relpath)
        if path is None or not os.path.isfile(path):
            raise NotFound(f"no file {relpath!r}")
        # cacheable as object stores serve them: with "no-cache" GDAL would ask again at every open of an asset
        return send_file(path, request.environ, conditional=True, max_age=ASSET_MAX_AGE_S)

    # -- the folder ------------------------------------------------------------------------------------

    def _collection_ids(self) -> list[str]:
        return sorted(p.parent.name for p in self.root.glob("*/collection.json"))

    def _collection_folder(self, collection_id: str) -> Path:
        path = safe_join(str(self.root), collection_id)
        if path is None or not os.path.isfile(os.path.join(path, "collection.json")):
            raise NotFound(f"no collection {collection_id!r}; collections: {', '.join(self._collection_ids())}")
        return Path(path)

    def _collection_document(self, collection_id: str, base: str) -> dict:
        folder = self._collection_folder(collection_id)
        document = _read_json(folder / "collection.json")
        here = f"{base}/collections/{collection_id}"
        document["links"] = [_link("self", here, "application/json"), _link("root", base + "/", "application/json"),
                             _link("parent", base + "/", "application/json"),
                             _link("items", here + "/items", GEOJSON)]
        return document

    def _items(self, collection_ids: Iterable[str]) -> list[StoredItem]:
        return [self._stored(path, collection_id) for collection_id in collection_ids
                for path in sorted((self._collection_folder(collection_id) / "items").glob("*.json"))]

    def _stored(self, path: Path, collection_id: str) -> StoredItem:
        """The item of `path`, parsed again only when the file changed (each search reads every item)."""
        status = path.stat()
        key = (status.st_ino, status.st_mtime_ns, status.st_size)
        with self._lock:
            cached = self._parsed.get(path)
        if cached is None or cached[0] != key:
            cached = (key, StoredItem.read(path, collection_id, self.root))
            with self._lock:
                self._parsed[path] = cached
        return cached[1]

    def _answer_item(self, stored: StoredItem, base: str) -> dict:
        """The item as answered: asset hrefs as URLs of this server, links pointing here."""
        item = json.loads(stored.text)
        for key, asset in item.get("assets", {}).items():
            if stored.served.get(key):
                asset["href"] = f"{base}/files/{self.token}/{stored.served[key]}"
        here = f"{base}/collections/{stored.collection}"
        item["collection"] = stored.collection
        item["links"] = [_link("self", f"{here}/items/{item['id']}", GEOJSON),
                         _link("parent", here, "application/json"), _link("collection", here, "application/json"),
                         _link("root", base + "/", "application/json")]
        return item

    # -- searching -------------------------------------------------------------------------------------

    def _item_page(self, request: Request, params: Mapping[str, Any], page_url: str) -> Response:
        criteria = SearchCriteria.parse(params, self._collection_ids())
        matched = sorted((stored for stored in self._items(criteria.collections) if criteria.matches(stored)),
                         key=lambda stored: (stored.start, stored.document["id"]))
        start = criteria.offset
        page = matched[start:start + criteria.limit]
        base = _base(request)
        links = [_link("self", request.url, GEOJSON), _link("root", base + "/", "application/json")]
        if start + criteria.limit < len(matched):
            links.append(_next_link(request, params, page_url, start + criteria.limit))
        return _json({"type": "FeatureCollection",
                      "features": [self._answer_item(stored, base) for stored in page],
                      "links": links, "numberMatched": len(matched), "numberReturned": len(page)}, GEOJSON)


@dataclass(frozen=True)
class StoredItem:
    """An item file as read once: its JSON text, its document (shared: never changed), what searches compare."""

    collection: str
    text: str
    document: dict
    footprint: Any
    start: dt.datetime
    end: dt.datetime
    #: asset key -> path below the served root, for the assets whose relative href lies inside it
    served: dict[str, str]

    @classmethod
    def read(cls, path: Path, collection: str, root: Path) -> StoredItem:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
        start, end = _item_datetime(document)
        served = {}
        for key, asset in document.get("assets", {}).items():
            href = asset.get("href", "")
            if "://" not in href:
                relpath = os.path.relpath(os.path.normpath(os.path.join(path.parent, href)), root)
                if not relpath.startswith(".."):  # outside the folder: not served, left as the item gives it
                    served[key] = Path(relpath).as_posix()
        return cls(collection, text, document, _footprint(document), start, end, served)


class SearchCriteria:
    """The parameters of one search, checked: raises `BadRequest` (400) naming the parameter that is wrong."""

    def __init__(self, collections, limit, offset, area, interval, ids, predicates):
        self.collections, self.limit, self.offset = collections, limit, offset
        self.area, self.interval, self.ids, self.predicates = area, interval, ids, predicates

    @classmethod
    def parse(cls, params: Mapping[str, Any], known_collections: list[str]) -> SearchCriteria:
        """Criteria from GET parameters (strings, see `_get_params`) or a POST body (JSON values)."""
        collections = _string_list(params.get("collections")) or known_collections
        unknown = [c for c in collections if c not in known_collections]
        if unknown:
            raise BadRequest(f"unknown collection(s) {', '.join(unknown)}; known: {', '.join(known_collections)}")
        bbox = _bbox(params.get("bbox"))
        geometry = _geometry(params.get("intersects"))
        if bbox is not None and geometry is not None:
            raise BadRequest("give bbox or intersects, not both")
        predicates = _query_predicates(params.get("query")) + _filter_predicates(params.get("filter"),
                                                                                  params.get("filter-lang"))
        area = geometry if geometry is not None else (box(*bbox) if bbox else None)
        return cls(collections, _limit(params.get("limit")), _token_offset(params.get("token")), area,
                   _interval(params.get("datetime")), set(_string_list(params.get("ids"))), predicates)

    def matches(self, stored: StoredItem) -> bool:
        """Whether the item meets every criterion."""
        if self.ids and stored.document.get("id") not in self.ids:
            return False
        if self.interval is not None and (stored.end < self.interval[0] or stored.start > self.interval[1]):
            return False
        if self.area is not None and not self.area.intersects(stored.footprint):
            return False
        properties = stored.document.get("properties", {})
        return all(_compare(properties.get(name), op, value) for name, op, value in self.predicates)


# -- parameters ----------------------------------------------------------------------------------------

def _get_params(request: Request) -> dict[str, Any]:
    """GET parameters as values: lists split at commas, `query`, `filter` and `intersects` decoded from JSON."""
    params: dict[str, Any] = dict(request.args.items())
    for key in ("query", "intersects"):
        if key in params:
            params[key] = _json_param(key, params[key])
    if "filter" in params:
        if params.get("filter-lang", "cql2-json") != "cql2-json":
            raise BadRequest(f"filter-lang {params['filter-lang']!r} is not supported; send the filter as cql2-json")
        params["filter"] = _json_param("filter", params["filter"])
    return params


def _json_param(key: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadRequest(f"{key} is not valid JSON ({error.msg} at character {error.pos})") from None


def _string_list(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise BadRequest(f"expected a list of strings, got {value!r}")


def _bbox(value) -> tuple[float, float, float, float] | None:
    if value is None or value == "":
        return None
    parts = value.split(",") if isinstance(value, str) else value
    try:
        numbers = [float(v) for v in parts]
    except (TypeError, ValueError):
        raise BadRequest(f"bbox must be 4 (or 6) numbers, got {value!r}") from None
    if len(numbers) == 6:
        numbers = numbers[0:2] + numbers[3:5]
    if len(numbers) != 4 or numbers[0] > numbers[2] or numbers[1] > numbers[3]:
        raise BadRequest(f"bbox must be west,south,east,north with west <= east and south <= north, got {value!r}")
    return tuple(numbers)


def _geometry(value):
    if value is None:
        return None
    try:
        return shape(value)
    except Exception:  # noqa: BLE001 - shapely raises many kinds for a bad GeoJSON geometry
        raise BadRequest(f"intersects is not a GeoJSON geometry: {str(value)[:200]}") from None


def _limit(value) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"limit must be a whole number, got {value!r}") from None
    if limit < 1:
        raise BadRequest(f"limit must be at least 1, got {limit}")
    return min(limit, MAX_LIMIT)


def _token_offset(value) -> int:
    if value is None or value == "":
        return 0
    prefix, _, number = str(value).partition(":")
    if prefix != "next" or not number.isdigit():
        raise BadRequest(f"token {value!r} is not one this server gave; follow the next link as it is")
    return int(number)


def _interval(value) -> tuple[dt.datetime, dt.datetime] | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest(f"datetime must be a string, got {value!r}")
    if "/" not in value:
        instant = _instant(value, end=False)
        return instant, _instant(value, end=True)
    first, _, last = value.partition("/")
    start = _instant(first, end=False) if first not in ("", "..") else dt.datetime.min.replace(tzinfo=dt.UTC)
    end = _instant(last, end=True) if last not in ("", "..") else dt.datetime.max.replace(tzinfo=dt.UTC)
    if start > end:
        raise BadRequest(f"datetime interval {value!r} ends before it starts")
    return start, end


def _instant(text: str, end: bool) -> dt.datetime:
    """An RFC 3339 date-time (a plain date is its whole day: its start, or its end when `end`), in UTC."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time.max if end else dt.time.min, tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{text!r} is not an RFC 3339 date-time (e.g. 2024-01-01T00:00:00Z)") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _query_predicates(value) -> list[tuple[str, str, Any]]:
    """The `query` extension: {"eo:cloud_cover": {"lte": 20}, ...}."""
    if value is None:
        return []
    if not isinstance(value, dict) or not all(isinstance(ops, dict) for ops in value.values()):
        raise BadRequest('query must be an object such as {"eo:cloud_cover": {"lte": 20}}')
    predicates = [(name, op, operand) for name, ops in value.items() for op, operand in ops.items()]
    unknown = sorted({op for _, op, _ in predicates if op not in _COMPARE})
    if unknown:
        raise BadRequest(f"query operator(s) {', '.join(unknown)} not supported; use {', '.join(_COMPARE)}")
    return predicates


def _filter_predicates(value, language) -> list[tuple[str, str, Any]]:
    """A CQL2-JSON `filter`: comparisons of a property with a literal, joined by "and"."""
    if value is None:
        return []
    if language not in (None, "cql2-json"):
        raise BadRequest(f"filter-lang {language!r} is not supported; send the filter as cql2-json")
    if not isinstance(value, dict):
        raise BadRequest("filter must be a CQL2-JSON object")
    op, args = value.get("op"), value.get("args")
    if op == "and" and isinstance(args, list):
        return [p for arg in args for p in _filter_predicates(arg, None)]
    if op in _CQL2 and isinstance(args, list) and len(args) == 2 and isinstance(args[0], dict) \
            and "property" in args[0] and not isinstance(args[1], (dict, list)):
        return [(args[0]["property"], _CQL2[op], args[1])]
    raise BadRequest(f"filter {json.dumps(value)[:200]} is not supported: use comparisons ({', '.join(_CQL2)}) of a "
                     'property with a value, joined by "and", e.g. {"op": "<=", "args": [{"property": '
                     '"eo:cloud_cover"}, 20]}')


def _compare(actual, op: str, expected) -> bool:
    """`actual op expected`; False when the item lacks the property or the types do not compare."""
    if actual is None:
        return False
    try:
        return bool(_COMPARE[op](actual, expected))
    except TypeError:
        return False


def _next_link(request: Request, params: Mapping[str, Any], page_url: str, offset: int) -> dict:
    token = f"next:{offset}"
    if request.method == "POST":
        return {**_link("next", page_url, GEOJSON), "method": "POST", "body": {**params, "token": token}}
    query = {key: value for key, value in request.args.items() if key != "token"}
    return _link("next", f"{page_url}?{urlencode({**query, 'token': token})}", GEOJSON)


# -- items ---------------------------------------------------------------------------------------------

def _item_datetime(item: dict) -> tuple[dt.datetime, dt.datetime]:
    """The time an item covers: its `datetime`, or `start_datetime` to `end_datetime`."""
    properties = item.get("properties", {})
    if properties.get("datetime"):
        moment = _instant(properties["datetime"], end=False)
        return moment, moment
    return _instant(properties["start_datetime"], end=False), _instant(properties["end_datetime"], end=True)


def _footprint(item: dict):
    if item.get("geometry"):
        return shape(item["geometry"])
    return box(*item["bbox"][:2], *item["bbox"][-2:]) if len(item.get("bbox", ())) in (4, 6) else box(0, 0, 0, 0)


def _read_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as file:
        return json.load(file)


# -- answers -------------------------------------------------------------------------------------------

def _base(request: Request) -> str:
    return request.host_url.rstrip("/")


def _link(rel: str, href: str, media_type: str) -> dict:
    return {"rel": rel, "href": href, "type": media_type}


def _json(document: Any, mimetype: str = "application/json", status: int = 200) -> Response:
    return Response(json.dumps(document), status=status, mimetype=mimetype)


def _error(status: int, code: str, description: str) -> Response:
    return _json({"code": code, "description": description}, status=status)


# -- writing a folder ----------------------------------------------------------------------------------

def write_collection(root: str | Path, collection_id: str, items: Iterable[pystac.Item],
                     description: str = "") -> Path:
    """Write `items` as a static collection `<root>/<collection_id>` that `LocalStacApi` serves.

    Asset hrefs that are local paths (absolute, or relative to the working directory) become relative to the
    item file, so the folder can move and be served on any port; URLs are kept. The items' links are dropped
    (the server makes its own). Files are replaced atomically. Returns the collection folder.
    """
    folder = Path(root) / collection_id
    (folder / "items").mkdir(parents=True, exist_ok=True)
    items = list(items)
    for item in items:
        document = item.to_dict(include_self_link=False, transform_hrefs=False)
        document["collection"] = collection_id
        document["links"] = []
        for asset in document["assets"].values():
            if "://" not in asset["href"]:
                asset["href"] = Path(os.path.relpath(Path(asset["href"]).resolve(),
                                                     (folder / "items").resolve())).as_posix()
        _write_json(folder / "items" / f"{item.id}.json", document)
    _write_json(folder / "collection.json", _collection_json(collection_id, items, description))
    return folder


def _collection_json(collection_id: str, items: list[pystac.Item], description: str) -> dict:
    boxes = [item.bbox for item in items if item.bbox]
    bbox = ([min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
            if boxes else [-180.0, -90.0, 180.0, 90.0])
    times = sorted(item.datetime or item.common_metadata.start_datetime for item in items)
    interval = [pystac.utils.datetime_to_str(times[0]), pystac.utils.datetime_to_str(times[-1])] if times else [None,
                                                                                                            None]
    return {"type": "Collection", "stac_version": pystac.get_stac_version(), "id": collection_id,
            "description": description or f"{collection_id}: {len(items)} items", "license": "other",
            "extent": {"spatial": {"bbox": [bbox]}, "temporal": {"interval": [interval]}}, "links": []}


def _write_json(path: Path, document: dict) -> None:
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    aside.write_text(json.dumps(document, indent=1), encoding="utf-8")
    os.replace(aside, path)
