"""One table from errors to HTTP answers: every failure of a request is answered in plain words.

The project's errors raised by a route or a Dash callback get the status of `STATUS` (the most specific class
wins) with their message; HTTP errors (405 for a wrong method, 400 for a body Flask cannot read ...) get a
plain sentence instead of Flask's HTML page; anything else is a bug: its traceback goes to the server's log
and the user reads that the request failed, never the traceback.
"""

from __future__ import annotations

import logging
from functools import partial

import flask
from werkzeug.exceptions import HTTPException, InternalServerError

from mrumonitor.errors import (
    AccessDenied,
    AreaError,
    ConfigError,
    ExportError,
    MruError,
    StoreError,
    SubscriptionError,
    UnknownAddress,
    UnknownCountry,
    UnknownLayer,
    UnknownOption,
    UnknownRun,
    UnknownSite,
    UnsupportedFormat,
)

log = logging.getLogger(__name__)

#: HTTP status of each of the project's errors reaching a request (titiler's DEFAULT_STATUS_CODES): the routes
#: raise the narrow errors, and this table alone says how each is answered.
STATUS: dict[type[MruError], int] = {
    UnknownRun: 404, UnknownLayer: 404, UnknownSite: 404, UnknownAddress: 404,
    UnsupportedFormat: 400, UnknownCountry: 400, UnknownOption: 400,
    AreaError: 400, SubscriptionError: 400,
    AccessDenied: 403, ExportError: 400, StoreError: 503, ConfigError: 500, MruError: 500,
}


def plain(message: str, status: int) -> flask.Response:
    """A plain-text answer: `message` on one line."""
    return flask.Response(message.rstrip() + "\n", status, mimetype="text/plain")


def install_answers(server: flask.Flask) -> None:
    """Register the answers of `STATUS`, of HTTP errors and of unforeseen failures on `server`."""
    for error, status in STATUS.items():
        server.register_error_handler(error, partial(_project_error, status))
    server.register_error_handler(HTTPException, _http_error)
    server.register_error_handler(InternalServerError, _unforeseen)


def _project_error(status: int, exc: MruError) -> flask.Response:
    if status >= 500:
        log.error("%s %s: %s", flask.request.method, flask.request.path, exc)
    return plain(str(exc), status)


def _http_error(exc: HTTPException) -> flask.Response:
    method = flask.request.method
    messages = {405: f"{method} is not answered at this address; it takes {', '.join(exc.valid_methods or [])}."
                if getattr(exc, "valid_methods", None) else f"{method} is not answered at this address.",
                400: "The request could not be read (a malformed body or query); nothing was done."}
    response = plain(messages.get(exc.code, f"{exc.code} {exc.name}: {exc.description}"), exc.code or 500)
    if getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _unforeseen(exc: InternalServerError) -> flask.Response:
    """A failure no code foresaw (a bug): Flask has logged its traceback; the user gets a plain sentence."""
    return plain("The server could not answer this request: it failed in a way it does not know how to explain. "
                 "The details are in the server's log; please tell the regional team what you did.", 500)
