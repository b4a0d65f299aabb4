"""Vector tiles on built geometries, read back with real decoders: mapbox_vector_tile's decoder for the tiles, the
pmtiles package's reader for the archives. Where a point lands, what is clipped at the buffer, which way is up, how
rings wind, what is dropped, what attributes become, and agreement with mapbox_vector_tile's own encoder."""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import math

import mapbox_vector_tile
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from mapbox_vector_tile.Mapbox import vector_tile_pb2
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from mrumonitor.errors import UnknownAddress
from mrumonitor.vectortiles import BUFFER, EXTENT, encode_tile, mvt, tile_bounds, tiles_covering
from mrumonitor.vectortiles.archive import vector_layer, write_pmtiles
from mrumonitor.vectortiles.pyramid import MIN_SHAPE_PX, layer_tiles

pytestmark = pytest.mark.unit

#: A tile over Koidu (Sierra Leone), and its WGS84 bounds.
Z, X, Y = 12, 1923, 1949
WEST, SOUTH, EAST, NORTH = tile_bounds(Z, X, Y).wgs84


def at(fx: float, fy: float, z: int = Z, x: int = X, y: int = Y) -> tuple[float, float]:
    """lon, lat of the point `fx`, `fy` of the way across tile z/x/y (from its west and north edges)."""
    n = 2 ** z
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + fy) / n))))
    return (x + fx) / n * 360 - 180, lat


def decoded(tile: bytes, layer: str = "layer") -> list[dict]:
    """The features of `layer` in raw tile pixels (y down, as encoded)."""
    return mapbox_vector_tile.decode(tile, default_options={"y_coord_down": True})[layer]["features"]


def one_layer(geoms: list, **columns) -> dict:
    return {"layer": (np.array(geoms, dtype=object), pd.DataFrame(columns or {"n": range(len(geoms))}))}


def signed_area(ring: list[list[int]]) -> float:
    """The surveyor's formula over a ring's vertices, as the MVT specification states it."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1])) / 2


def test_a_point_lands_on_its_pixel():
    tile = encode_tile(one_layer([shapely.Point(at(0.25, 0.75)), shapely.Point(at(0.5, 0.5))]), Z, X, Y)
    assert [f["geometry"] for f in decoded(tile)] == [
        {"type": "Point", "coordinates": [1024, 3072]}, {"type": "Point", "coordinates": [2048, 2048]}]


def test_north_is_up():
    tile = encode_tile(one_layer([shapely.Point(at(0.5, 0.1)), shapely.Point(at(0.5, 0.9))]), Z, X, Y)
    north, south = (f["geometry"]["coordinates"] for f in decoded(tile))
    assert north[1] < south[1]  # tile pixels run down from the north edge
    up = mapbox_vector_tile.decode(tile)["layer"]["features"]  # the decoder's default: y up, as a map draws it
    assert up[0]["geometry"]["coordinates"][1] > up[1]["geometry"]["coordinates"][1]


def test_points_outside_the_buffer_are_left_out():
    inside_buffer = at(1 + (BUFFER - 1) / EXTENT, 0.5)  # in the neighbour to the east, within the buffer
    beyond = at(1 + (BUFFER + 8) / EXTENT, 0.5)
    tile = encode_tile(one_layer([shapely.Point(inside_buffer), shapely.Point(beyond)]), Z, X, Y)
    assert [f["geometry"]["coordinates"] for f in decoded(tile)] == [[EXTENT + BUFFER - 1, 2048]]


def test_a_polygon_across_a_tile_edge_is_clipped_at_the_buffer():
    (west, north), (east, south) = at(0.5, 0.25), at(3.0, 0.75)  # from the middle of the tile to two tiles east
    box = shapely.box(west, south, east, north)
    here = decoded(encode_tile(one_layer([box]), Z, X, Y))[0]["geometry"]
    xs = {x for x, _ in here["coordinates"][0]}
    assert here["type"] == "Polygon" and min(xs) == 2048 and max(xs) == EXTENT + BUFFER
    east_neighbour = decoded(encode_tile(one_layer([box]), Z, X + 1, Y))[0]["geometry"]
    assert {x for x, _ in east_neighbour["coordinates"][0]} == {-BUFFER, EXTENT + BUFFER}


def test_rings_wind_as_the_specification_says():
    (west, north), (east, south) = at(0.2, 0.2), at(0.8, 0.8)
    (hole_west, hole_north), (hole_east, hole_south) = at(0.4, 0.4), at(0.6, 0.6)
    polygon = shapely.Polygon(shapely.box(west, south, east, north).exterior.coords,
                              [shapely.box(hole_west, hole_south, hole_east, hole_north).exterior.coords])
    for shape in (polygon, shapely.orient_polygons(polygon, exterior_cw=True)):  # whichever way it comes in
        exterior, hole = decoded(encode_tile(one_layer([shape]), Z, X, Y))[0]["geometry"]["coordinates"]
        assert signed_area(exterior[:-1]) > 0 > signed_area(hole[:-1])  # exterior positive, interior negative


def test_specks_are_dropped_and_the_rest_kept():
    (west, north), (east, south) = at(0.1, 0.1), at(0.3, 0.3)
    speck = shapely.box(*at(0.7, 0.7), *at(0.7 + 0.2 / EXTENT, 0.7 - 0.2 / EXTENT))  # a fifth of a pixel
    tile = encode_tile(one_layer([shapely.MultiPolygon([shapely.box(west, south, east, north), speck]), speck,
                                  shapely.LineString([at(0.5, 0.5), at(0.5 + 0.1 / EXTENT, 0.5)])]), Z, X, Y)
    features = decoded(tile)
    assert [f["properties"]["n"] for f in features] == [0]
    assert features[0]["geometry"]["type"] == "Polygon"
    assert encode_tile(one_layer([speck]), Z, X, Y) == b""


def test_a_self_crossing_ring_is_drawn_as_its_two_halves():
    """An invalid input (a bow-tie, as a hand-drawn licence may be) is repaired, not a failure of the tile."""
    bow_tie = shapely.Polygon([at(0.2, 0.2), at(0.8, 0.8), at(0.8, 0.2), at(0.2, 0.8)])
    assert not bow_tie.is_valid
    geometry = decoded(encode_tile(one_layer([bow_tie]), Z, X, Y))[0]["geometry"]
    assert geometry["type"] == "MultiPolygon" and len(geometry["coordinates"]) == 2


def test_repeated_vertices_never_reach_the_tile():
    """Vertices closer than a pixel snap to one: a LineTo of (0, 0) is forbidden by the specification."""
    close = [at(0.1 + i * 0.1 / EXTENT, 0.1) for i in range(5)] + [at(0.5, 0.1), at(0.5, 0.5), at(0.1, 0.5)]
    line = shapely.LineString(close)
    features = decoded(encode_tile(one_layer([line, shapely.Polygon(close)]), Z, X, Y))
    for feature in features:
        coords = feature["geometry"]["coordinates"]
        path = coords if feature["geometry"]["type"] == "LineString" else coords[0][:-1]
        assert all(a != b for a, b in itertools.pairwise(path)), path


@pytest.mark.parametrize("kind", ["DataFrame", "Arrow table", "Arrow table with categories"])
def test_attributes_keep_their_types_and_missing_ones_are_left_out(kind):
    points = [shapely.Point(at(0.5, 0.5))] * 2
    frame = pd.DataFrame({"name": ["Koidu", None], "count": [3, -2], "share": [0.25, np.nan],
                          "registered": [True, False], "seen": [dt.date(2026, 1, 15), dt.date(2025, 7, 1)],
                          "at": pd.to_datetime(["2026-01-15 10:30", None])})
    if kind != "DataFrame":  # what the dashboard's tiles take their rows from (NaN as pandas has it: missing)
        frame = pa.Table.from_pandas(frame.astype({"name": "category"} if "categories" in kind else {}))
    first, second = (f["properties"] for f in decoded(encode_tile({"layer": (points, frame)}, Z, X, Y)))
    assert first == {"name": "Koidu", "count": 3, "share": 0.25, "registered": True, "seen": "2026-01-15",
                     "at": "2026-01-15T10:30:00"}
    assert second == {"count": -2, "registered": False, "seen": "2025-07-01"}


def test_nothing_in_the_tile_is_an_empty_body():
    far = shapely.Point(at(5.0, 5.0))
    assert encode_tile(one_layer([far, None, shapely.Point()]), Z, X, Y) == b""
    assert encode_tile({}, Z, X, Y) == b""


def test_agrees_with_the_reference_encoder():
    """mapbox_vector_tile's own encoder, given the same shapes in Web Mercator, draws the same pixels (within the
    one pixel that rounding twice may move a vertex)."""
    rng = np.random.default_rng(21)
    centres = [at(*rng.uniform(0.15, 0.85, 2)) for _ in range(20)]
    shapes = [shapely.Point(centre).buffer(0.001, quad_segs=3) for centre in centres] + [
        shapely.Point(centre) for centre in centres]
    ours = decoded(encode_tile(one_layer(shapes), Z, X, Y))
    mercator = tile_bounds(Z, X, Y).mercator

    def to_mercator(coords: np.ndarray) -> np.ndarray:
        x = np.radians(coords[:, 0]) * 6378137.0
        y = np.log(np.tan(np.pi / 4 + np.radians(coords[:, 1]) / 2)) * 6378137.0
        return np.column_stack([x, y])

    reference = mapbox_vector_tile.encode(
        {"name": "layer", "features": [{"geometry": shapely.transform(shape, to_mercator), "properties": {"n": i}}
                                       for i, shape in enumerate(shapes)]},
        default_options={"quantize_bounds": mercator, "extents": EXTENT})
    theirs = decoded(reference)
    assert [f["properties"]["n"] for f in ours] == [f["properties"]["n"] for f in theirs] == list(range(40))
    for mine, other in zip(ours, theirs):
        a, b = shapely.geometry.shape(mine["geometry"]), shapely.geometry.shape(other["geometry"])
        assert a.geom_type == b.geom_type and a.hausdorff_distance(b) <= 1.5


def test_the_features_written_at_once_are_those_protobuf_writes():
    """`mvt._features` (every feature's fields as varints at once) against the generated protobuf classes filling
    one message per feature: features without tags, tags and commands of one to five varint bytes, streams taken
    out of order."""
    rng = np.random.default_rng(7)
    n = 300
    types = rng.integers(1, 4, n)
    tag_counts = 2 * rng.integers(0, 6, n)  # key, value pairs; a sixth of the features have none
    tags = rng.choice([0, 5, 127, 128, 300, 16_383, 16_384, 2 ** 21, 2 ** 32 - 1], tag_counts.sum()).astype(np.int64)
    lengths = rng.integers(1, 40, n)
    streams = rng.choice([1, 9, 126, 127, 128, 8_191, 8_192, 2 ** 28 + 3], lengths.sum()).astype(np.int64)
    ends = np.cumsum(lengths)
    bounds = np.column_stack([ends - lengths, ends])[rng.permutation(n)]  # features point anywhere in the stream
    expected = vector_tile_pb2.tile.layer()
    tag_ends = np.cumsum(tag_counts)
    for i in range(n):
        feature = expected.features.add()
        feature.type = int(types[i])
        feature.tags.extend(tags[tag_ends[i] - tag_counts[i]:tag_ends[i]].tolist())
        feature.geometry.extend(streams[bounds[i, 0]:bounds[i, 1]].tolist())
    written = vector_tile_pb2.tile.layer.FromString(mvt._features(types, tags, tag_counts, streams, bounds))
    assert written == expected
    assert written.SerializePartialToString() == expected.SerializePartialToString()


def test_tile_arithmetic():
    world = tile_bounds(0, 0, 0)
    assert world.wgs84 == pytest.approx((-180, -85.0511287798, 180, 85.0511287798))
    assert world.mercator == pytest.approx((-20037508.34, -20037508.34, 20037508.34, 20037508.34))
    assert tile_bounds(1, 1, 0).wgs84 == pytest.approx((0, 0, 180, 85.0511287798))
    assert WEST < -10.97 < EAST and SOUTH < 8.64 < NORTH  # Koidu
    covered = tiles_covering(np.array([[WEST + 1e-9, SOUTH + 1e-9, EAST - 1e-9, NORTH - 1e-9],
                                       [EAST + 1e-9, SOUTH + 1e-9, EAST + 1e-6, SOUTH + 1e-6]]), Z)
    assert covered.tolist() == [[X, Y], [X + 1, Y]]
    assert tiles_covering(np.array([[WEST + 1e-9, SOUTH + 1e-9, EAST - 1e-9, NORTH - 1e-9]]), Z,
                          margin=BUFFER / EXTENT).tolist() == [[x, y] for x in (X - 1, X, X + 1)
                                                               for y in (Y - 1, Y, Y + 1)]


@pytest.mark.parametrize("z, x, y", [(23, 0, 0), (-1, 0, 0), (3, 8, 0), (3, 0, -1)])
def test_a_tile_outside_the_world_is_refused(z, x, y):
    with pytest.raises(UnknownAddress, match="no tile"):
        encode_tile({}, z, x, y)


def test_a_footprint_too_small_to_see_is_a_point_until_it_shows():
    (west, north), (east, south) = at(0.40, 0.40), at(0.42, 0.42)  # 80 pixels across at zoom 12
    site = shapely.box(west, south, east, north)
    tiles = {z: decoded(body, "sites") for z, x, y, body in layer_tiles(
        "sites", np.array([site]), pd.DataFrame({"site_id": ["MS-1"]}), range(5, 15))}
    assert sorted(tiles) == list(range(5, 15))
    kinds = {z: features[0]["geometry"]["type"] for z, features in tiles.items()}
    # 80 pixels at zoom 12 are 80 / 2**(12 - z) at zoom z: under MIN_SHAPE_PX below zoom 10
    assert kinds == {z: "Point" if 80 / 2 ** (12 - z) < MIN_SHAPE_PX else "Polygon" for z in range(5, 15)}
    assert all(features[0]["properties"] == {"site_id": "MS-1"} for features in tiles.values())


def test_an_archive_reads_back(tmp_path):
    lines = np.array([shapely.LineString([at(0.1, 0.1), at(2.5, 1.5)]), None], dtype=object)
    props = pd.DataFrame({"corridor_id": ["C-1", "C-2"], "rank": [1, 2]})
    path = tmp_path / "corridors.pmtiles"
    layer = vector_layer("corridors", props, 8, 12, "Border corridors")
    written = write_pmtiles(path, layer_tiles("corridors", lines, props, range(8, 13)),
                            {"name": "corridors", "vector_layers": [layer]}, bounds=(WEST, SOUTH, EAST, NORTH))
    with path.open("rb") as file:
        reader = Reader(MmapSource(file))
        header, metadata = reader.header(), reader.metadata()
        tiles = dict(all_tiles(reader.get_bytes))
        assert reader.get(12, X, Y) == tiles[(12, X, Y)]
    assert header["tile_type"] == TileType.MVT and header["tile_compression"] == Compression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (8, 12) and header["clustered"]
    assert header["min_lon_e7"] == round(WEST * 1e7) and header["max_lat_e7"] == round(NORTH * 1e7)
    assert metadata["vector_layers"] == [{"id": "corridors", "description": "Border corridors", "minzoom": 8,
                                          "maxzoom": 12, "fields": {"corridor_id": "String", "rank": "Number"}}]
    assert written["tiles"] == len(tiles) and {z for z, _, _ in tiles} == set(range(8, 13))
    for body in tiles.values():
        features = decoded(gzip.decompress(body), "corridors")
        assert [f["properties"] for f in features] == [{"corridor_id": "C-1", "rank": 1}]
        assert features[0]["geometry"]["type"] == "LineString"


def test_an_archive_of_nothing_holds_one_empty_tile(tmp_path):
    path = tmp_path / "gaps.pmtiles"
    written = write_pmtiles(path, layer_tiles("gaps", np.array([], dtype=object), pd.DataFrame(), range(5, 15)),
                            {"name": "gaps"})
    with path.open("rb") as file:
        tiles = dict(all_tiles(Reader(MmapSource(file)).get_bytes))
    assert written["tiles"] == 0 and list(tiles) == [(0, 0, 0)] and gzip.decompress(tiles[0, 0, 0]) == b""
