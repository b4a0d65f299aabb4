"""What the dashboard's server refuses before any page or callback runs, and the headers every answer carries.

- **Request size**: a body larger than ``[dashboard] max_request_kb`` is answered 413 before it is read —
  by Flask (``MAX_CONTENT_LENGTH``, also for bodies sent without a length) and, in front of it, by the WSGI
  servers `mrumonitor serve` starts (`waitress_limits`, `gunicorn_limits`).
- **Dash callback requests** (``POST /_dash-update-component``): the body must be a JSON object naming a
  callback of the app, with the inputs and state it declares; anything else is a 400 in plain words (Dash
  itself answered a bare 500).
- **Headers**: a Content-Security-Policy Dash works under (scripts only from the server, its inline start-up
  script by hash), X-Frame-Options, nosniff, a same-origin Referrer-Policy, and with ``[dashboard] https``
  Strict-Transport-Security. Written here rather than with flask-talisman: Talisman's nonces do not reach
  the script Dash writes into its page, and its HTTPS redirect belongs to the proxy that terminates TLS.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import dash
import flask
from werkzeug.exceptions import RequestEntityTooLarge

from mrumonitor.config import DashboardSettings
from mrumonitor.dashboard.answers import plain

#: Dash's callback endpoint.
CALLBACK_PATH = "/_dash-update-component"
#: Longest request line and header block the WSGI servers accept, in bytes.
MAX_REQUEST_LINE = 8190
MAX_HEADER_BYTES = 64 * 1024
#: Header fields a request may carry (gunicorn's default).
MAX_HEADER_FIELDS = 100
#: HSTS lifetime with ``https = true``: a year.
HSTS_MAX_AGE = 365 * 24 * 3600


def max_request_bytes(dashboard: DashboardSettings) -> int:
    return dashboard.max_request_kb * 1024


def waitress_limits(dashboard: DashboardSettings) -> dict[str, int]:
    """Keyword arguments of ``waitress.serve`` capping what a request may send."""
    return {"max_request_body_size": max_request_bytes(dashboard), "max_request_header_size": MAX_HEADER_BYTES}


def gunicorn_limits() -> dict[str, int]:
    """gunicorn settings capping a request's line and headers (gunicorn has no body limit: Flask's applies)."""
    return {"limit_request_line": MAX_REQUEST_LINE, "limit_request_fields": MAX_HEADER_FIELDS,
            "limit_request_field_size": MAX_REQUEST_LINE}


def install_security(app: dash.Dash | Any, dashboard: DashboardSettings) -> None:
    """Cap request bodies, check Dash callback requests and add the security headers on `app`'s server.

    `app` is a Dash app, or anything with a Flask ``server`` (the callback check and the inline-script hashes
    need Dash, and are left out without it).
    """
    server = app.server
    limit = max_request_bytes(dashboard)
    server.config["MAX_CONTENT_LENGTH"] = limit
    server.register_error_handler(RequestEntityTooLarge, lambda exc: _too_large(limit))
    # before every other hook, the login guard included: nothing reads a body that is too large
    server.before_request_funcs.setdefault(None, []).insert(0, lambda: _refuse_large_body(limit))
    if isinstance(app, dash.Dash):
        # after Dash's own first-request set-up, which fills its callback map
        server.before_request(lambda: _check_callback(app.callback_map, limit))
    @server.after_request
    def add_headers(response: flask.Response) -> flask.Response:
        headers = response.headers
        # made per answer: Dash adds inline scripts (clientside callbacks) at its first-request set-up
        headers.setdefault("Content-Security-Policy", content_security_policy(app, dashboard))
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if dashboard.https:
            headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}; includeSubDomains")
        return response


def content_security_policy(app: dash.Dash | Any, dashboard: DashboardSettings) -> str:
    """The Content-Security-Policy of every answer: everything from this server, Dash's inline scripts by hash,
    inline styles (Leaflet and plotly set them), images also from the configured basemap's server."""
    hashes = " ".join(app.csp_hashes()) if isinstance(app, dash.Dash) else ""  # quoted already
    basemap = urlsplit(dashboard.basemap_url or "")
    tiles = f" {basemap.scheme}://{basemap.netloc}" if basemap.netloc else ""
    return "; ".join([
        "default-src 'self'", f"script-src 'self' {hashes}".rstrip(), "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: blob:{tiles}", "font-src 'self' data:", "connect-src 'self'",
        "worker-src 'self' blob:", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
        "frame-ancestors 'none'"])


def _too_large(limit: int) -> flask.Response:
    response = plain(f"The request is too large: this server reads at most {limit // 1024} KiB per request "
                      "([dashboard] max_request_kb). Nothing was done.", 413)
    response.headers["Connection"] = "close"  # the rest of the body is not read
    return response


def _refuse_large_body(limit: int) -> flask.Response | None:
    length = flask.request.content_length
    return _too_large(limit) if length is not None and length > limit else None


def _check_callback(callbacks: dict[str, dict], limit: int) -> flask.Response | None:
    """400 for a callback request that is not a JSON object naming a callback of the app with the inputs and
    state that callback declares; 413 for one sent without a length that reaches the cap (werkzeug stops
    reading a body at the cap, and hands on what it read)."""
    if flask.request.path != CALLBACK_PATH or flask.request.method != "POST":
        return None
    if len(flask.request.get_data(cache=True)) >= limit:
        return _too_large(limit)
    body = flask.request.get_json(force=True, silent=True)  # kept: Dash reads the same parsed body
    if not isinstance(body, dict):
        return plain("A Dash callback request must be a JSON object (output, inputs, state); this body is not.",
                      400)
    output = body.get("output")
    callback = callbacks.get(output) if isinstance(output, str) else None
    if callback is None:
        return plain(f"This dashboard has no callback for output {str(output)[:200]!r}.", 400)
    for part in ("inputs", "state"):
        problem = _differs(callback.get(part, []), body.get(part, []))
        if problem:
            return plain(f"The {part} of the callback for {output[:200]!r} {problem}.", 400)
    return None


def _differs(declared: list[dict], sent: Any) -> str | None:
    """What is wrong with the inputs (or state) `sent` for a callback declaring `declared`, or None."""
    if not isinstance(sent, list) or not all(isinstance(item, (dict, list)) for item in sent):
        return "must be a list of {id, property, value}"
    if len(sent) != len(declared):
        return f"must be {len(declared)} items, not {len(sent)}"
    for want, got in zip(declared, sent):
        if isinstance(want.get("id"), str) and (not isinstance(got, dict) or (got.get("id"), got.get("property"))
                                                != (want["id"], want["property"])):
            shown = (got.get("id"), got.get("property")) if isinstance(got, dict) else got
            return f"name {str(shown)[:200]} where the callback reads {want['id']}.{want['property']}"
    return None
