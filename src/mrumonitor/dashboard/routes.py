"""The dashboard's Flask routes beside Dash: layer downloads and the activity overlay image.

``GET /download/<run_id>/<layer>.<format>[?country=ISO3][&part=metadata]``
    One layer of a published run, exported by `mrumonitor.export.export_layer` into a temporary folder
    (removed once the file is open) and sent as an attachment named ``<layer>_<country|region>_<run_id>.<ext>``.
    ``part=metadata`` sends the export's metadata sidecar (``<that name>.metadata.json``) instead.
``GET /overlay/<run_id>/<period>.png``
    The period's activity raster as a transparent PNG in Web Mercator (see `overlay`), cached in memory;
    its corners for ``dl.ImageOverlay`` come from `overlay_bounds`.
``GET /reference/<run_id>/<name>.geojson``
    A run-wide map layer (`RunData.map_layers`: country outlines, borders, border zone, border posts, drawn
    from the reference layers the run carries; aggregates, the same for every role) as
    GeoJSON, serialised once per run. The maps load them
    by URL rather than in the page layout, so a page change carries none of them and the browser caches
    them per run (a run id never changes).
``GET /basemap/<name>.geojson``
    A layer of the built-in basemap (`basemap_view.SERVED`: water, rivers, towns, villages) from the reference
    folder, serialised and gzip-compressed once; the same for every user and run, cached by the browser for a day.

Nothing the user types becomes a path: the run id must name a published run of the store (or be
``latest``), the layer a layer of that run's manifest, the format one of `FORMATS`, the period one of the
run's periods, the country one of the run's countries; anything else raises one of the narrow errors of
`mrumonitor.errors` (unknown run, layer, format, country ...), answered by `answers.STATUS` with a plain
message. An agency user gets a site-level layer (`access.is_site_level`) only with ``country`` = its own
country (403 otherwise) and overlays masked to its country; aggregates come whole or for any country.
"""

from __future__ import annotations

import gzip
import json
import logging
import tempfile
from functools import lru_cache, partial
from pathlib import Path
from urllib.parse import quote, urlencode

import dash
import flask
import shapely
from werkzeug.exceptions import NotFound

from mrumonitor.config import Settings
from mrumonitor.dashboard.access import current_access, is_site_level
from mrumonitor.dashboard.answers import install_answers, plain
from mrumonitor.dashboard.basemap_view import basemap_geojson, served_layers
from mrumonitor.dashboard.memo import Memo
from mrumonitor.dashboard.overlay import WEB_MERCATOR, overlay_bounds_of, render_overlay
from mrumonitor.dashboard.run import load_run
from mrumonitor.errors import (
    StoreError,
    UnknownAddress,
    UnknownCountry,
    UnknownLayer,
    UnknownOption,
    UnknownRun,
    UnsupportedFormat,
)
from mrumonitor.export import FORMATS, export_layer
from mrumonitor.export.clip import country_outline
from mrumonitor.export.run_reference import run_countries, run_reference
from mrumonitor.export.source import layer_source
from mrumonitor.store.runs import published_run, read_manifest

log = logging.getLogger(__name__)

#: Media type of each download, by file suffix.
MEDIA_TYPES = {".gpkg": "application/geopackage+sqlite3", ".zip": "application/zip",
               ".geojson": "application/geo+json", ".csv": "text/csv", ".parquet": "application/vnd.apache.parquet",
               ".tif": "image/tiff; application=geotiff; profile=cloud-optimized", ".json": "application/json",
               ".pmtiles": "application/vnd.pmtiles"}

#: What `part=` may ask for.
PARTS = ("file", "metadata")

#: Overlay images kept in memory (about 0.1-0.5 MB each).
OVERLAY_CACHE_SIZE = 64
#: Reference layers kept serialised in memory (five per run, 1-50 kB each).
REFERENCE_CACHE_SIZE = 32
#: Country outlines (of a run, in Web Mercator) kept for masking the overlays of agency users.
OUTLINE_CACHE_SIZE = 32


def download_url(run_id: str, layer: str, fmt: str, country: str | None = None, part: str = "file") -> str:
    """The URL downloading `layer` of run `run_id` as `fmt` (a name of `FORMATS`), for `country` or the region.

    ``part="metadata"`` gives the URL of the export's metadata sidecar instead.
    """
    query = {key: value for key, value in (("country", country), ("part", part)) if value and value != "file"}
    return f"/download/{quote(run_id, safe='')}/{quote(layer, safe='')}.{quote(fmt, safe='')}" + (
        f"?{urlencode(query)}" if query else "")


def overlay_url(run_id: str, period: str) -> str:
    """The URL of the overlay PNG of `period`'s activity layer in run `run_id`."""
    return f"/overlay/{quote(run_id, safe='')}/{quote(period, safe='')}.png"


def reference_url(run_id: str, name: str) -> str:
    """The URL of the run-wide map layer `name` (a key of `RunData.map_layers`) of run `run_id`."""
    return f"/reference/{quote(run_id, safe='')}/{quote(name, safe='')}.geojson"


def basemap_url(name: str) -> str:
    """The URL of the built-in basemap's layer `name` (a name of `basemap_view.SERVED`)."""
    return f"/basemap/{quote(name, safe='')}.geojson"


def overlay_bounds(run_dir: Path, period: str) -> list[list[float]]:
    """[[south, west], [north, east]] (WGS84) of the overlay of `period` in the run at `run_dir`."""
    return _bounds(Path(run_dir).resolve(), period)


@lru_cache(maxsize=256)
def _bounds(run_dir: Path, period: str) -> list[list[float]]:
    return overlay_bounds_of(_period_raster(run_dir, read_manifest(run_dir), period))


def _period_raster(run_dir: Path, manifest: dict, period: str) -> Path:
    """The activity COG of `period` in the run (its `periods` entry names the layer).

    Raises
    ------
    UnknownLayer
        The run has no such period, or no activity layer for it.
    """
    layers = {entry.get("name"): entry.get("layer") for entry in manifest.get("periods", [])}
    if period not in layers:
        raise UnknownLayer(f"run {manifest.get('run_id')} has no period {period!r}; its periods are: "
                           f"{', '.join(map(str, layers)) or 'none'}.")
    return layer_source(run_dir, manifest, layers[period]).path


def install_routes(app: dash.Dash, settings: Settings) -> None:
    """Register the download and overlay routes on `app`'s Flask server, and the answers to errors (`answers`)."""
    routes = _Routes(settings)
    server = app.server
    server.extensions["mrumonitor_routes"] = routes
    server.add_url_rule("/download/<run_id>/<filename>", "download", routes.download, merge_slashes=False)
    server.add_url_rule("/overlay/<run_id>/<filename>", "overlay", routes.overlay, merge_slashes=False)
    server.add_url_rule("/reference/<run_id>/<filename>", "reference", routes.reference, merge_slashes=False)
    server.add_url_rule("/basemap/<filename>", "basemap", routes.basemap, merge_slashes=False)
    for prefix in ("download", "overlay", "reference", "basemap"):  # any other path under them: a plain 404, not the Dash page
        server.add_url_rule(f"/{prefix}/<path:rest>", f"{prefix}_unknown", partial(_unknown, prefix),
                            merge_slashes=False)
    install_answers(server)
    server.register_error_handler(NotFound, _not_found)


def _unknown(prefix: str, rest: str) -> flask.Response:
    shapes = {"download": "/download/<run_id>/<layer>.<format>", "overlay": "/overlay/<run_id>/<period>.png",
              "reference": "/reference/<run_id>/<name>.geojson", "basemap": "/basemap/<name>.geojson"}
    return plain(f"no such address; ask for {shapes[prefix]}.", 404)


def _not_found(exc: NotFound):
    """Plain 404 for an unmatched path, saying the shape of the address under /download/, /overlay/ or
    /reference/, /basemap/ (e.g. ``/download//etc``)."""
    path = flask.request.path
    for prefix in ("download", "overlay", "reference", "basemap"):
        if path.startswith(f"/{prefix}/"):
            return _unknown(prefix, path)
    return plain("no such address on this dashboard.", 404)


def cached_per_run(response: flask.Response, run_id: str) -> flask.Response:
    """`response` with browser caching for what it serves of run `run_id`: a day for a run id (a published run
    never changes), a minute for "latest" (which does). Private: what an agency gets may differ from the
    region's."""
    response.headers["Cache-Control"] = "private, max-age=" + ("60" if run_id == "latest" else "86400")
    return response


class _Routes:
    """The route handlers, with what they share: the settings, the runs' country outlines, the overlay cache."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.outlines = Memo(OUTLINE_CACHE_SIZE)
        self.overlays = Memo(OVERLAY_CACHE_SIZE)
        self.references = Memo(REFERENCE_CACHE_SIZE)

    def download(self, run_id: str, filename: str) -> flask.Response:
        access = current_access()
        run_dir, manifest = self._run(run_id)
        layer, _, fmt = filename.rpartition(".")
        entry = manifest.get("layers", {}).get(layer)
        if not layer or entry is None:
            raise UnknownLayer(f"run {manifest['run_id']} has no layer {layer or filename!r}; its layers are: "
                               f"{', '.join(sorted(manifest.get('layers', {})))}.")
        export_format = FORMATS.get(fmt)
        if export_format is None or entry.get("kind") not in export_format.kinds:
            fits = [name for name, known in FORMATS.items() if entry.get("kind") in known.kinds]
            raise UnsupportedFormat(f"layer {layer!r} cannot be downloaded as {fmt!r}; formats: {', '.join(fits)}.")
        country = self._country(run_dir, manifest, flask.request.args.get("country"))
        part = flask.request.args.get("part", "file")
        if part not in PARTS:
            raise UnknownOption(f"part={part!r} is not known; ask for part=file (the default) or part=metadata.")
        if is_site_level(layer):
            access.require_sites(country)
        name = f"{layer}_{country or 'region'}_{manifest['run_id']}{export_format.suffixes[0]}"
        with tempfile.TemporaryDirectory(prefix="mrumonitor-download-") as folder:
            result = export_layer(run_dir, manifest, layer, fmt, Path(folder) / name, country)
            path = result.sidecar if part == "metadata" else result.file
            handle = path.open("rb")  # still readable once the folder is removed (POSIX)
        log.info("download %s by %s", path.name, access.user or "anonymous")
        return flask.send_file(handle, mimetype=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
                               as_attachment=True, download_name=path.name, max_age=0)

    def overlay(self, run_id: str, filename: str) -> flask.Response:
        access = current_access()
        run_dir, manifest = self._run(run_id)
        period, dot, suffix = filename.rpartition(".")
        if not dot or suffix != "png":
            raise UnknownAddress(f"overlays are PNG images: ask for /overlay/{run_id}/<period>.png.")
        path = _period_raster(run_dir, manifest, period)
        country = None if access.regional else access.country
        png = self.overlays.get((manifest["run_id"], period, country),
                                lambda: render_overlay(path, self.outline(run_dir, manifest, country) if country
                                                       else None))
        return cached_per_run(flask.Response(png, mimetype="image/png"), run_id)

    def reference(self, run_id: str, filename: str) -> flask.Response:
        _, manifest = self._run(run_id)
        name, dot, suffix = filename.rpartition(".")
        layers = load_run(self.settings, manifest["run_id"]).map_layers
        if not dot or suffix != "geojson" or name not in layers:
            raise UnknownLayer(f"no map layer {filename!r}; ask for /reference/{run_id}/<name>.geojson with a name "
                            f"of: {', '.join(layers)}.")
        body = self.references.get((manifest["run_id"], name), lambda: json.dumps(layers[name]).encode())
        return cached_per_run(flask.Response(body, mimetype="application/geo+json"), run_id)

    def basemap(self, filename: str) -> flask.Response:
        folder = self.settings.paths.reference
        name, dot, suffix = filename.rpartition(".")
        served = served_layers(folder)
        if not dot or suffix != "geojson" or name not in served:
            raise UnknownLayer(f"no basemap layer {filename!r}; ask for /basemap/<name>.geojson with a name of: "
                               f"{', '.join(served) or 'none (this dashboard has no built-in basemap)'}.")
        # compressed here, once: flask-compress leaves application/geo+json alone
        body = self.references.get(("basemap", name), lambda: gzip.compress(basemap_geojson(folder, name), mtime=0))
        if "gzip" in flask.request.accept_encodings:
            response = flask.Response(body, mimetype="application/geo+json")
            response.headers["Content-Encoding"] = "gzip"
        else:
            response = flask.Response(gzip.decompress(body), mimetype="application/geo+json")
        response.headers["Cache-Control"] = "public, max-age=86400"
        response.vary.add("Accept-Encoding")
        return response

    def _run(self, run_id: str) -> tuple[Path, dict]:
        """The folder and manifest of a published run of the store (`run_id` or "latest").

        Raises
        ------
        UnknownRun
            No such published run, or its manifest cannot be read.
        """
        try:
            run_dir = published_run(self.settings.paths.store, run_id)
            return run_dir, read_manifest(run_dir)
        except StoreError as exc:
            raise UnknownRun(str(exc)) from None

    @staticmethod
    def _country(run_dir: Path, manifest: dict, country: str | None) -> str | None:
        """`country` (ISO3, any case) when it is one of the run's countries; None when none is asked for."""
        if not country:
            return None
        known = run_countries(run_dir, manifest)
        if country.upper() not in known:
            raise UnknownCountry(f"country={country!r} is not one of {', '.join(known)}.")
        return country.upper()

    def outline(self, run_dir: Path, manifest: dict, country: str) -> shapely.Geometry:
        """`country`'s outline in Web Mercator, as the run carries it (read once per run)."""
        return self.outlines.get((manifest["run_id"], country), lambda: country_outline(
            run_reference(run_dir, manifest).boundaries, country, WEB_MERCATOR))
