"""The OGC API's routes on the dashboard's Flask server, and its answers to errors.

Two trees of the same resources: ``/ogcapi`` follows the latest run (resolved at each request) and
``/ogcapi/runs/<run_id>`` serves one published run::

    /                                                  landing page
    /conformance                                       conformance classes
    /api                                               OpenAPI 3.0 definition (service-desc)
    /collections                                       the run's vector layers and tables
    /collections/<layer>                               one of them
    /collections/<layer>/queryables                    the properties its features can be filtered by
    /collections/<layer>/items                         its features, a page at a time (GeoJSON)
    /collections/<layer>/items/<feature_id>            one feature

Read-only: any method but GET (and HEAD) is answered 405. Who may ask is the login guard's business
(`access`: a dashboard session, or HTTP Basic on these paths); what each user gets is `current_access()`'s.
Every error is an OGC API exception (JSON ``{"code", "description"}``) with the status of `answers.STATUS`,
the table the other routes use; a failure nobody foresaw is logged with its traceback and answered 500 without it.
"""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any
from urllib.parse import quote

import dash
import flask
from werkzeug.exceptions import HTTPException

from mrumonitor.config import Settings
from mrumonitor.dashboard.access import API_PREFIX, current_access
from mrumonitor.dashboard.answers import STATUS
from mrumonitor.dashboard.ogcapi import responses
from mrumonitor.dashboard.ogcapi.collections import RunCollections, run_collections
from mrumonitor.dashboard.ogcapi.crs_options import CRS84
from mrumonitor.dashboard.ogcapi.openapi import api_definition
from mrumonitor.dashboard.ogcapi.queries import check_format, feature_position, item_crs, items_query, select
from mrumonitor.errors import MruError, StoreError, UnknownRun
from mrumonitor.store.runs import published_run

log = logging.getLogger(__name__)

#: The methods the routes are matched for: all but GET and HEAD are answered 405 here, as an OGC exception.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
#: The resources, under each tree: (path, endpoint name, method of `_Service` answering it).
RESOURCES = (
    ("", "landing", "landing"), ("/", "landing_slash", "landing"), ("/conformance", "conformance", "conformance"),
    ("/api", "api", "api"), ("/collections", "collections", "collections"),
    ("/collections/<collection_id>", "collection", "collection"),
    ("/collections/<collection_id>/queryables", "queryables", "queryables"),
    ("/collections/<collection_id>/items", "items", "items"),
    ("/collections/<collection_id>/items/<path:feature_id>", "item", "item"),
)
#: The two trees: the latest run, and one run by its id.
TREES = (("", ""), ("/runs/<run_id>", "_run"))


def install_ogcapi(app: dash.Dash, settings: Settings) -> None:
    """Serve the OGC API - Features of the runs of `settings`' store under ``/ogcapi`` on `app`'s server."""
    service = _Service(settings)
    blueprint = flask.Blueprint("ogcapi", __name__)
    for tree, suffix in TREES:
        for path, name, method in RESOURCES:
            blueprint.add_url_rule(tree + path, name + suffix, getattr(service, method), methods=METHODS,
                                   provide_automatic_options=False, merge_slashes=False)
    blueprint.add_url_rule("/<path:rest>", "unknown", _unknown, methods=METHODS, provide_automatic_options=False)
    blueprint.before_request(_read_only)
    for error, status in STATUS.items():
        blueprint.register_error_handler(error, partial(_project_error, status))
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(Exception, _unforeseen)
    app.server.register_blueprint(blueprint, url_prefix=API_PREFIX)


class _Service:
    """The views; each takes the run id of its tree (None: the latest run)."""

    def __init__(self, settings: Settings):
        self.store = settings.paths.store

    def landing(self, run_id: str | None = None) -> flask.Response:
        check_format(flask.request.args)
        run = self._run(run_id)
        return _json(responses.landing_page(_base(run_id), run.run_id, run_id in (None, "latest")))

    def conformance(self, run_id: str | None = None) -> flask.Response:
        check_format(flask.request.args)
        self._run(run_id)
        return _json(responses.conformance())

    def api(self, run_id: str | None = None) -> flask.Response:
        check_format(flask.request.args)
        run = self._run(run_id)
        return _json(api_definition(_base(run_id), run.offered_to(current_access()), run.crs), responses.OPENAPI)

    def collections(self, run_id: str | None = None) -> flask.Response:
        check_format(flask.request.args)
        run = self._run(run_id)
        return _json(responses.collections_document(_base(run_id), run.offered_to(current_access())))

    def collection(self, collection_id: str, run_id: str | None = None) -> flask.Response:
        check_format(flask.request.args)
        found = self._run(run_id).collection(collection_id, current_access())
        return _json(responses.collection_document(_base(run_id), found))

    def queryables(self, collection_id: str, run_id: str | None = None) -> flask.Response:
        check_format(flask.request.args)
        found = self._run(run_id).collection(collection_id, current_access())
        return _json(responses.queryables(_base(run_id), found), responses.SCHEMA)

    def items(self, collection_id: str, run_id: str | None = None) -> flask.Response:
        access = current_access()
        found = self._run(run_id).collection(collection_id, access)
        query = items_query(flask.request.args, found)
        loaded = found.load()
        matched = select(loaded, query, access)
        page = matched[query.offset:query.offset + query.limit]
        body = responses.feature_collection(_base(run_id), loaded, page, len(matched), query.offset, query.limit,
                                            query.crs, flask.request.args.to_dict())
        return _geojson(body, query.crs)

    def item(self, collection_id: str, feature_id: str, run_id: str | None = None) -> flask.Response:
        access = current_access()
        found = self._run(run_id).collection(collection_id, access)
        crs = item_crs(flask.request.args, found)
        loaded = found.load()
        return _geojson(responses.feature(_base(run_id), loaded, feature_position(loaded, feature_id, access), crs),
                        crs)

    def _run(self, run_id: str | None) -> RunCollections:
        """The collections of the latest run (`run_id` None or "latest") or of the published run `run_id`.

        Raises
        ------
        UnknownRun
            No such published run (the message lists those there are), or no run at all.
        """
        try:
            run_dir = published_run(self.store, run_id or "latest", latest=f"{API_PREFIX} for the latest")
        except UnknownRun:
            raise
        except StoreError as exc:  # no run published yet, or a damaged pointer to the latest
            raise UnknownRun(f"no run to serve: {exc}") from None
        return run_collections(run_dir)

def _base(run_id: str | None) -> str:
    """The address of the tree asked for, as the client wrote its host."""
    tree = f"/runs/{quote(run_id, safe='')}" if run_id else ""
    return flask.request.host_url.rstrip("/") + API_PREFIX + tree


def _json(document: Any, media_type: str = responses.JSON, status: int = 200) -> flask.Response:
    return flask.Response(json.dumps(document, ensure_ascii=False), status, mimetype=media_type)


def _geojson(body: str, crs: str) -> flask.Response:
    response = flask.Response(body, mimetype=responses.GEOJSON)
    response.headers["Content-Crs"] = f"<{crs or CRS84}>"
    return response


def _read_only() -> flask.Response | None:
    if flask.request.method in ("GET", "HEAD"):
        return None
    response = _json(responses.exception(405, f"{flask.request.method} is not answered: this API is read-only; "
                                              "use GET."), status=405)
    response.headers["Allow"] = "GET, HEAD"
    return response


def _unknown(rest: str) -> flask.Response:
    return _json(responses.exception(404, f"no such address: {API_PREFIX}/{rest[:120]}; start from {API_PREFIX} "
                                          "(the landing page) and follow its links."), status=404)


def _project_error(status: int, exc: MruError) -> flask.Response:
    if status >= 500:
        log.error("%s %s: %s", flask.request.method, flask.request.path, exc)
    return _json(responses.exception(status, str(exc)), status=status)


def _http_error(exc: HTTPException) -> flask.Response:
    status = exc.code or 500
    return _json(responses.exception(status, exc.description or exc.name), status=status)


def _unforeseen(exc: Exception) -> flask.Response:
    """A failure no code foresaw (a bug): its traceback to the log, a plain sentence to the client."""
    log.exception("%s %s failed", flask.request.method, flask.request.full_path)
    return _json(responses.exception(500, "The server could not answer this request; the details are in its log. "
                                          "Please tell the regional team what you asked for."), status=500)
