"""The dashboard's vector tiles of sites and licences, for the map (and any client speaking XYZ MVT).

``GET /tiles/<run_id>/<layer>/<z>/<x>/<y>.mvt?period=``
    Tile `z`/`x`/`y` (XYZ, y from the north) of map layer `layer` (`site_tiles.TILE_LAYERS`: ``sites`` or
    ``concessions``, the MVT layer of the same name) of a published run (or ``latest``) in a period of it (the
    run's last when not given; `tile_url` writes the address, `tile_period` reads it): what `site_tiles` selects,
    encoded by `mrumonitor.vectortiles` (extent 4096, buffer 64), for display 512 pixels across (MapLibre's
    convention: tile z is drawn at map zoom z + 1; `site_tiles.TILE_PX`). Its attributes: see
    `site_tiles.site_tile` and `site_tiles.concession_tile`; cells' tooltips in the request's language. The filter
    bar's other filters are not in the address: the map applies them to the tiles' attributes (`site_tiles`), so
    every user of an access scope gets the same tiles, and a filter change fetches none.

An agency user's tiles hold only the sites and licences of its country (cells count only those sites): the tile
is computed for the user's access scope and cached under it. Encoded tiles are kept gzip-compressed in a bounded
LRU (`memo.Memo`) keyed by the run folder, layer, tile, period, language and access scope; they go out
gzip-encoded (``Content-Encoding: gzip``, which fetch() and so Leaflet.VectorGrid decode; flask-compress leaves
this media type alone), plain to a client that does not take gzip. A tile with no feature is ``204 No Content``:
an empty tile to Leaflet.VectorGrid and MapLibre, and no error in the browser's console. Browser caching follows
the run id (`routes.cached_per_run`): a day for a run id, a minute for ``latest``, private.

Bad addresses get plain answers through `answers.STATUS`: an unknown run or layer, or a tile outside the world or
zooms 0 to 22, 404; a period the run does not have, or another key than ``period``, 400.
"""

from __future__ import annotations

import gzip
import re
from urllib.parse import quote, urlencode

import dash
import flask
from werkzeug.datastructures import MultiDict

from mrumonitor.config import Settings
from mrumonitor.dashboard.access import current_access
from mrumonitor.dashboard.answers import plain
from mrumonitor.dashboard.memo import Memo
from mrumonitor.dashboard.routes import cached_per_run
from mrumonitor.dashboard.run import RunData, load_run
from mrumonitor.dashboard.site_tiles import TILE_LAYERS, tile_layer
from mrumonitor.errors import UnknownAddress, UnknownLayer, UnknownOption
from mrumonitor.i18n import current_language
from mrumonitor.store.runs import published_run
from mrumonitor.vectortiles import check_tile, encode_tile

__all__ = ["TILE_MEDIA_TYPE", "install_tile_route", "tile_period", "tile_url"]

#: The media type of a Mapbox Vector Tile.
TILE_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
#: Encoded tiles kept in memory (gzip-compressed: 0.1 to 12 kB each measured on a run of 500,000 sites, so tens of
#: megabytes at most).
CACHED_TILES = 4096
#: gzip level of the tiles (6: within 5 % of the smallest, several times faster than 9).
GZIP_LEVEL = 6
#: Shape of a tile number in an address (no sign, no other digits than ASCII, at most 8 of them).
_NUMBER = re.compile(r"[0-9]{1,8}")
#: The shape of a tile address, for the answers to a wrong one.
_SHAPE = "/tiles/<run_id>/<layer>/<z>/<x>/<y>.mvt"


def tile_url(run_id: str, layer: str, period: str) -> str:
    """The Leaflet URL template of the tiles of `layer` (one of `site_tiles.TILE_LAYERS`) of run `run_id` in
    `period`: ``/tiles/<run_id>/<layer>/{z}/{x}/{y}.mvt?period=...`` (``{z}``, ``{x}``, ``{y}`` literal, for the map
    library to fill in)."""
    return (f"/tiles/{quote(run_id, safe='')}/{quote(layer, safe='')}/{{z}}/{{x}}/{{y}}.mvt?"
            f"{urlencode({'period': period})}")


def tile_period(data: RunData, args: MultiDict) -> str:
    """The period of a tile address's query `args` (see `tile_url`) on run `data`: the run's last when not given.

    Raises
    ------
    UnknownOption
        Another key than ``period`` (the filter bar's other filters are the map's business), or a period the run
        does not have, with those it has.
    """
    unknown = sorted(set(args) - {"period"})
    if unknown:
        raise UnknownOption(f"a tile address takes period only, not {', '.join(unknown)}: a tile holds every site "
                            "the user may see, and the map filters them by their attributes (country, commodity, "
                            "registration, border).")
    period = args.get("period") or data.last_period
    if period not in data.periods:
        raise UnknownOption(f"period={period!r} is not a period of run {data.run_id}: {', '.join(data.periods)}.")
    return period


def install_tile_route(app: dash.Dash, settings: Settings) -> None:
    """Register the tile route on `app`'s Flask server, and a plain 404 for any other address under /tiles/."""
    route = _TileRoute(settings)
    server = app.server
    server.add_url_rule("/tiles/<run_id>/<layer>/<z>/<x>/<filename>", "tiles", route.tile, merge_slashes=False)
    server.add_url_rule("/tiles/<path:rest>", "tiles_unknown",
                        lambda rest: plain(f"no such address; ask for {_SHAPE}.", 404), merge_slashes=False)


class _TileRoute:
    """The tile route, with what it keeps: the settings, the encoded tiles, the run ids found published."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.tiles = Memo(CACHED_TILES)
        self.published: set[str] = set()

    def tile(self, run_id: str, layer: str, z: str, x: str, filename: str) -> flask.Response:
        """The tile `z`/`x`/`filename` ("<y>.mvt") of `layer` of run `run_id` for the user of the request."""
        access = current_access()
        if layer not in TILE_LAYERS:
            raise UnknownLayer(f"no tile layer {layer!r}; ask for {_SHAPE} with a layer of: {', '.join(TILE_LAYERS)}.")
        y, _, suffix = filename.partition(".")
        if suffix != "mvt" or not all(_NUMBER.fullmatch(part) for part in (z, x, y)):
            raise UnknownAddress(f"no such tile address; ask for {_SHAPE} with whole numbers z, x and y.")
        zoom, column, row = int(z), int(x), int(y)
        check_tile(zoom, column, row)
        data = self._run(run_id)
        period = tile_period(data, flask.request.args)
        key = (str(data.run_dir), layer, zoom, column, row, period, current_language(), access.role, access.country)
        body = self.tiles.get(key, lambda: _compressed(encode_tile(
            {layer: tile_layer(data, layer, period, access, zoom, column, row)}, zoom, column, row)))
        if not body:
            response = flask.Response(status=204, mimetype=TILE_MEDIA_TYPE)
        elif "gzip" in flask.request.accept_encodings:
            response = flask.Response(body, mimetype=TILE_MEDIA_TYPE, headers={"Content-Encoding": "gzip"})
        else:
            response = flask.Response(gzip.decompress(body), mimetype=TILE_MEDIA_TYPE)
        response.vary.add("Accept-Encoding")
        # the tile depends on the session (access scope) and the language cookie: a browser shared by two users, or
        # switched to French, must not be served the other's tile from its cache under the same address
        response.vary.add("Cookie")
        return cached_per_run(response, run_id)

    def _run(self, run_id: str) -> RunData:
        """The loaded run `run_id` ("latest" or the id of a published run of the store).

        Raises
        ------
        UnknownRun
            No such published run.
        """
        if run_id != "latest" and run_id not in self.published:
            published_run(self.settings.paths.store, run_id)  # read every manifest: once per run id, not per tile
            self.published.add(run_id)
        return load_run(self.settings, run_id)


def _compressed(tile: bytes) -> bytes:
    """`tile` gzip-compressed (b"" stays b"": an empty tile)."""
    return gzip.compress(tile, compresslevel=GZIP_LEVEL, mtime=0) if tile else b""
