"""Searching a STAC API for a period's items (`raster.stac.search`) and reading what an item says about itself
(`raster.stac.items`): a real API on 127.0.0.1 searched with pystac-client; the offset rule per branch; the
fingerprint that ignores where an item is served from; and the faults that stop a run with a plain message: an API
nobody answers, 500s after the retries, slow and truncated answers, too many items, a signing package missing.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import socket
import sys
import time

import pystac
import pytest
from pystac_client import Client
from stac_catalog import (
    BAND_ASSETS,
    COLLECTION,
    EARTH_SEARCH_ASSETS,
    ItemSpec,
    daily_specs,
    input_block,
    provider_block,
    write_catalog,
)

from mrumonitor.config import STAC_BANDS, ImagerySettings, PeriodSettings, StacProvider, load_settings
from mrumonitor.errors import ConfigError, ImageryUnavailable
from mrumonitor.raster.stac.items import item_bytes, item_fingerprint, item_offset, item_scene, provider_keys
from mrumonitor.raster.stac.search import input_bounds, input_provider, period_items, search_period
from mrumonitor.raster.stac.server import LocalStacApi
from mrumonitor.raster.stac.summary import clear_share
from mrumonitor.reference import load_boundaries

pytestmark = pytest.mark.integration

AROUND = (-11.0, 8.6, -10.9, 8.7)
JANUARY = PeriodSettings(name="P1", start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31))
IMAGERY = ImagerySettings(timeout_s=2.0, retries=2, backoff_s=0.01)


def provider(url: str, assets=BAND_ASSETS, **fields) -> StacProvider:
    return StacProvider(api=url, collection=COLLECTION, assets=dict(assets), **fields)


def searches(api: LocalStacApi) -> list[str]:
    return [path for _, path, _ in api.requests if path.startswith("/search")]


@pytest.fixture
def catalogue(tmp_path):
    """Eight items five days apart from 2024-01-05 (the last, 02-09, is outside January); cloud cover 0-70 %."""
    specs = daily_specs(8)
    for n, spec in enumerate(specs):
        spec.cloud_cover = 10.0 * n
    write_catalog(tmp_path, specs)
    return tmp_path


def test_search_period_by_bbox_dates_and_cloud_cover_over_pages(catalogue):
    with LocalStacApi(catalogue) as api:
        items = search_period(provider(api.url), IMAGERY, AROUND, JANUARY, 45.0, page_size=2)
        assert len(searches(api)) == 3  # pages of 2, 2 and 1
    assert [item.id for item in items] == ["S2_TEST_20240105", "S2_TEST_20240110", "S2_TEST_20240115",
                                           "S2_TEST_20240120", "S2_TEST_20240125"]
    assert [item.properties["eo:cloud_cover"] for item in items] == [0.0, 10.0, 20.0, 30.0, 40.0]


def without_query(app):
    """WSGI middleware factory: the API ignores the `query` of a POST search, as one without the extension does."""
    def answer(environ, start_response):
        if environ["PATH_INFO"] == "/search" and environ["REQUEST_METHOD"] == "POST":
            body = json.loads(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
            body.pop("query", None)
            data = json.dumps(body).encode()
            environ = {**environ, "wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data))}
        return app(environ, start_response)
    return answer


def test_an_api_ignoring_the_cloud_limit_is_checked_again(catalogue, caplog):
    with LocalStacApi(catalogue, wrap=without_query) as api:
        items = search_period(provider(api.url), IMAGERY, AROUND, JANUARY, 15.0)
    assert [item.id for item in items] == ["S2_TEST_20240105", "S2_TEST_20240110"]
    assert "answered 4 items above eo:cloud_cover 15 (it ignored the limit); left out" in caplog.text


def test_search_period_elsewhere_finds_nothing(catalogue):
    with LocalStacApi(catalogue) as api:
        assert search_period(provider(api.url), IMAGERY, (-12.0, 9.5, -11.9, 9.6), JANUARY, 100.0) == []


def test_more_items_than_max_items_is_a_config_error(catalogue):
    with LocalStacApi(catalogue) as api, pytest.raises(ConfigError) as refused:
        search_period(provider(api.url), IMAGERY.model_copy(update={"max_items": 3}), AROUND, JANUARY, 100.0)
    assert "more than imagery.max_items = 3 items" in str(refused.value)
    assert "smaller `bounds`" in str(refused.value)


@pytest.mark.hostile
def test_an_api_nobody_answers_is_imagery_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(ImageryUnavailable) as stopped:
        search_period(provider(url), IMAGERY, AROUND, JANUARY, 60.0)
    message = str(stopped.value)
    assert f"the STAC API {url} could not be searched for period P1" in message
    assert "Connection refused" in message and "the latest published run is unchanged" in message


def failing(status: str, paths=("/search",), body: bytes = b"upstream exploded", delay: float = 0.0):
    """WSGI middleware factory: requests for `paths` get `status` with `body` after `delay` seconds."""
    def wrap(app):
        def answer(environ, start_response):
            if environ["PATH_INFO"] not in paths:
                return app(environ, start_response)
            time.sleep(delay)
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return answer
    return wrap


@pytest.mark.hostile
def test_500_on_every_search_stops_after_the_retries(catalogue):
    with LocalStacApi(catalogue, wrap=failing("500 INTERNAL SERVER ERROR")) as api:
        with pytest.raises(ImageryUnavailable) as stopped:
            search_period(provider(api.url), IMAGERY, AROUND, JANUARY, 60.0)
        assert len(searches(api)) == IMAGERY.retries + 1
    assert api.url in str(stopped.value) and "was tried 3 times" in str(stopped.value)


def failing_first(status: str, times: int | None, hits: list[float]):
    """WSGI middleware factory: searches get `status` (the first `times` of them; all when None); `hits` gets the
    moment of each search."""
    def wrap(app):
        failed = failing(status)(app)

        def answer(environ, start_response):
            if environ["PATH_INFO"] != "/search":
                return app(environ, start_response)
            hits.append(time.monotonic())
            return (failed if times is None or len(hits) <= times else app)(environ, start_response)
        return answer
    return wrap


@pytest.mark.hostile
def test_retries_wait_backoff_s_then_twice_as_long(catalogue):
    hits = []
    imagery = IMAGERY.model_copy(update={"backoff_s": 0.3})
    wrap = failing_first("502 BAD GATEWAY", None, hits)
    with LocalStacApi(catalogue, wrap=wrap) as api, pytest.raises(ImageryUnavailable):
        search_period(provider(api.url), imagery, AROUND, JANUARY, 60.0)
    waits = [later - earlier for earlier, later in itertools.pairwise(hits)]
    assert len(waits) == 2 and waits[0] >= 0.3 and waits[1] >= 0.6


@pytest.mark.hostile
def test_a_503_then_success_is_retried_quietly(catalogue):
    hits = []
    wrap = failing_first("503 SERVICE UNAVAILABLE", 1, hits)
    with LocalStacApi(catalogue, wrap=wrap) as api:
        items = search_period(provider(api.url), IMAGERY, AROUND, JANUARY, 5.0)
    assert [item.id for item in items] == ["S2_TEST_20240105"]
    assert len(hits) == 2


@pytest.mark.hostile
def test_a_slow_api_times_out_into_imagery_unavailable(catalogue):
    slow = failing("200 OK", body=b'{"type": "FeatureCollection", "features": []}', delay=1.5)
    imagery = IMAGERY.model_copy(update={"timeout_s": 0.5, "retries": 1})
    with LocalStacApi(catalogue, wrap=slow) as api, pytest.raises(ImageryUnavailable) as stopped:
        search_period(provider(api.url), imagery, AROUND, JANUARY, 60.0)
    assert "timed out" in str(stopped.value)


@pytest.mark.hostile
@pytest.mark.parametrize(("path", "body", "words"), [
    ("/search", b'{"type": "FeatureCollection", "features": [{"id": "S2_', "unexpected end"),
    ("/", b"<html>maintenance</html>", "unexpected character"),
    ("/", b'{"hello": 1}', "Could not open Client"),
    ("/search", b'{"type": "FeatureCollection", "features": [{"id": 3}]}', "JSON (id = 3) does not represent a STACObject"),
    ("/search", b'{"features": "x"}', "'str' object has no attribute"),
])
def test_answers_that_are_not_a_stac_apis_are_imagery_unavailable(catalogue, path, body, words):
    with LocalStacApi(catalogue, wrap=failing("200 OK", paths=(path,), body=body)) as api:
        with pytest.raises(ImageryUnavailable) as stopped:
            search_period(provider(api.url), IMAGERY, AROUND, JANUARY, 60.0)
        assert str(stopped.value).startswith(f"the STAC API {api.url} could not be searched for period P1")
    assert f"its answer is not what a STAC API answers ({words}" in " ".join(str(stopped.value).split())


def test_planetary_computer_signing_without_its_package_is_a_config_error(catalogue, monkeypatch):
    monkeypatch.setitem(sys.modules, "planetary_computer", None)
    with LocalStacApi(catalogue) as api, pytest.raises(ConfigError) as refused:
        search_period(provider(api.url, signing="planetary-computer"), IMAGERY, AROUND, JANUARY, 60.0)
    assert "pip install planetary-computer" in str(refused.value)


def stac_settings(tmp_path, url: str, bounds: tuple | None = AROUND, margin_km: float = 10.0):
    path = tmp_path / "mrumonitor.toml"
    path.write_text(f"""[paths]
work = "work"
store = "layers"
[raster]
margin_km = {margin_km}
{provider_block("local", url)}[activity]
baseline = "P1"
periods = [{{ name = "P1", start = 2024-01-01, end = 2024-01-15 }}, {{ name = "P2", start = 2024-01-16, end = 2024-01-31 }}]
{input_block("s2", "local", bounds)}""", encoding="utf-8")
    return load_settings(path)


def test_period_items_searches_once_per_period_per_process(catalogue, tmp_path):
    with LocalStacApi(catalogue) as api:
        settings = stac_settings(tmp_path, api.url)
        first = period_items(settings, "s2", settings.activity.periods)
        again = period_items(settings, "s2", settings.activity.periods)
        assert len(searches(api)) == 2
    assert {period: [item.id for item in items] for period, items in first.items()} == {
        "P1": ["S2_TEST_20240105", "S2_TEST_20240110", "S2_TEST_20240115"],
        "P2": ["S2_TEST_20240120", "S2_TEST_20240125", "S2_TEST_20240130"]}
    assert [[item.id for item in items] for items in again.values()] == [[item.id for item in items]
                                                                        for items in first.values()]


def test_input_bounds_are_the_given_bounds_or_the_region_with_its_margin(tmp_path):
    settings = stac_settings(tmp_path, "http://127.0.0.1:9")
    assert input_bounds(settings, settings.activity.inputs["s2"]) == AROUND
    tight = stac_settings(tmp_path, "http://127.0.0.1:9", bounds=None, margin_km=0.0)
    wide = stac_settings(tmp_path, "http://127.0.0.1:9", bounds=None, margin_km=50.0)
    outlines = load_boundaries(tight.paths.reference, "EPSG:4326")
    west, south, east, north = outlines[outlines["iso3"].isin(tight.project.countries)].total_bounds
    region = input_bounds(tight, tight.activity.inputs["s2"])
    assert region[0] <= west and region[1] <= south and region[2] >= east and region[3] >= north
    widened = input_bounds(wide, wide.activity.inputs["s2"])
    assert 0.43 < region[1] - widened[1] < 0.48 and 0.43 < widened[3] - region[3] < 0.48  # 50 km of latitude


def test_clear_share_from_cloud_cover_of_the_items_over_each_cell():
    left = item(properties={"eo:cloud_cover": 50.0})
    left.geometry = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    whole = item(properties={"eo:cloud_cover": 20.0})
    whole.geometry = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [0, 1], [0, 0]]]}
    # left half: 1 - 0.5 x 0.2 = 0.9 clear; right half: 1 - 0.2 = 0.8; an item without cloud cover adds nothing
    assert clear_share((0.0, 0.0, 2.0, 1.0), [left, whole, item()]) == pytest.approx(0.85)
    assert clear_share((0.0, 0.0, 4.0, 1.0), [whole]) == pytest.approx(0.4)
    assert clear_share((5.0, 5.0, 6.0, 6.0), [left, whole]) == 0.0


# -- items -----------------------------------------------------------------------------------------------------

def item(when: str = "2024-03-01T10:30:00Z", properties: dict | None = None, assets: dict | None = None):
    document = {"type": "Feature", "stac_version": "1.1.0", "id": "S2X", "bbox": [0, 0, 1, 1],
                "geometry": {"type": "Point", "coordinates": [0, 0]}, "links": [],
                "properties": {"datetime": when, **(properties or {})},
                "assets": assets or {"B04": {"href": "http://a.example/B04.tif"}}}
    return pystac.Item.from_dict(document)


PRODUCT = "S2B_MSIL2A_20220301T104029_N0400_R008_T29PNL_20220301T130000.SAFE"


@pytest.mark.parametrize(("when", "properties", "assets", "offset", "words"), [
    ("2024-03-01T10:30:00Z", {"earthsearch:boa_offset_applied": True, "s2:processing_baseline": "05.10"}, None, 0.0,
     "harmonised by the provider"),
    ("2024-03-01T10:30:00Z", {"earthsearch:boa_offset_applied": False, "s2:processing_baseline": "05.10"}, None,
     -1000.0, "processing baseline 05.10 (from s2:processing_baseline): 04.00 or later"),
    ("2024-03-01T10:30:00Z", {"s2:processing_baseline": "04.00"}, None, -1000.0, "baseline 04.00"),
    ("2024-03-01T10:30:00Z", {"s2:processing_baseline": "02.14"}, None, 0.0, "before 04.00"),
    ("2024-03-01T10:30:00Z", {"s2:product_uri": PRODUCT}, None, -1000.0, "04.00 (from s2:product_uri)"),
    ("2024-03-01T10:30:00Z", {}, {"B04": {"href": "x.tif", "raster:bands": [{"offset": -0.1, "scale": 0.0001}]},
                                  "SCL": {"href": "s.tif", "raster:bands": [{"offset": 0}]}}, -1000.0,
     "raster:bands of asset 'B04'"),
    ("2022-01-25T10:30:00Z", {}, None, -1000.0, "no metadata: inferred from the date (acquired on or after"),
    ("2022-01-24T23:30:00Z", {}, None, 0.0, "no metadata: inferred from the date (acquired before"),
])
def test_item_offset_rule(when, properties, assets, offset, words):
    value, reason = item_offset(item(when, properties, assets))
    assert value == offset
    assert words in reason


def test_item_scene_with_a_providers_asset_names(tmp_path):
    spec = ItemSpec("S2_EARTH", dt.datetime(2024, 1, 5, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2))),
                    asset_keys=EARTH_SEARCH_ASSETS, baseline="05.00")
    write_catalog(tmp_path, [spec])
    with LocalStacApi(tmp_path) as api:
        found = next(Client.open(api.url).search(ids=["S2_EARTH"]).items())
        scene = item_scene(found, provider(api.url, EARTH_SEARCH_ASSETS))
        base = f"{api.files_url}/{COLLECTION}/assets/S2_EARTH"
    assert scene.date == dt.date(2024, 1, 6)  # 23:30 at UTC-2 is the next day in UTC
    assert scene.assets == tuple((band, f"{base}/{band}.tif") for band in STAC_BANDS)
    assert scene.offset == -1000.0
    assert str(scene.path).endswith("/collections/sentinel-2-l2a/items/S2_EARTH")


def test_item_scene_without_a_bands_asset_names_both(tmp_path):
    write_catalog(tmp_path, [ItemSpec("S2_NO_SWIR", dt.datetime(2024, 1, 5, tzinfo=dt.UTC),
                                      asset_keys=EARTH_SEARCH_ASSETS, bands=("B02", "B03", "B04", "B08", "SCL"))])
    with LocalStacApi(tmp_path) as api:
        found = next(Client.open(api.url).search(ids=["S2_NO_SWIR"]).items())
        with pytest.raises(ConfigError) as refused:
            item_scene(found, provider(api.url, EARTH_SEARCH_ASSETS))
        url = f"{api.url}/collections/{COLLECTION}/items/S2_NO_SWIR"
    assert str(refused.value).startswith(f"STAC item S2_NO_SWIR ({url}) has no asset 'swir16' (band B11); its assets "
                                         "are blue, green, nir, red, scl.")


def test_fingerprint_ignores_where_the_item_is_served_from(tmp_path):
    write_catalog(tmp_path, daily_specs(1))
    with LocalStacApi(tmp_path) as one, LocalStacApi(tmp_path) as two:
        items = [next(Client.open(api.url).search().items()) for api in (one, two)]
    assert items[0].assets["B04"].href != items[1].assets["B04"].href
    assert item_fingerprint(items[0]) == item_fingerprint(items[1])
    reprocessed = items[0].clone()
    reprocessed.properties["updated"] = "2024-06-01T00:00:00Z"
    resized = items[0].clone()
    resized.assets["B04"].extra_fields["file:size"] += 1
    relabelled = items[0].clone()
    relabelled.properties["s2:processing_baseline"] = "03.01"
    fingerprints = {item_fingerprint(x) for x in (items[0], reprocessed, resized, relabelled)}
    assert len(fingerprints) == 4


def test_item_bytes_sums_file_sizes_or_says_unknown(tmp_path):
    written = write_catalog(tmp_path, daily_specs(1))[0]
    stored = json.loads((tmp_path / COLLECTION / "items" / f"{written.id}.json").read_text())
    found = pystac.Item.from_dict(stored)
    on_disk = sum((tmp_path / COLLECTION / "assets" / written.id / f"{band}.tif").stat().st_size
                  for band in STAC_BANDS)
    assert item_bytes(found, provider_keys(provider("http://x"))) == on_disk
    assert item_bytes(found, ["B04"]) == (tmp_path / COLLECTION / "assets" / written.id / "B04.tif").stat().st_size
    del found.assets["B08"].extra_fields["file:size"]
    assert item_bytes(found) is None


def folder_provider_config(tmp_path, lines: str):
    path = tmp_path / "mrumonitor.toml"
    keys = ", ".join(f'{band} = "{band}"' for band in STAC_BANDS)
    path.write_text(f"""[paths]
work = "work"
store = "layers"
[imagery.providers.archive]
{lines}
collection = "sentinel-2-l2a"
assets = {{ {keys} }}
[activity]
baseline = "P1"
periods = [{{ name = "P1", start = 2024-01-01, end = 2024-01-15 }}, {{ name = "P2", start = 2024-01-16, end = 2024-01-31 }}]
{input_block("s2", "archive", AROUND)}""", encoding="utf-8")
    return path


def test_a_folder_provider_is_served_over_http_by_the_run_itself(catalogue, tmp_path):
    """A provider of a `folder` (a local archive, the demo's imagery) is searched and read like a remote API: the
    process serves the folder as a STAC API on 127.0.0.1 and the items' assets are URLs of it."""
    settings = load_settings(folder_provider_config(tmp_path, f'folder = "{catalogue.as_posix()}"'))
    found = period_items(settings, "s2", settings.activity.periods)
    assert [item.id for item in found["P1"]] == ["S2_TEST_20240105", "S2_TEST_20240110", "S2_TEST_20240115"]
    api = input_provider(settings, "s2").api
    assert api.startswith("http://127.0.0.1:") and input_provider(settings, "s2").api == api  # one server
    assert all(asset.href.startswith(f"{api}/files/") for items in found.values() for item in items
               for asset in item.assets.values())


@pytest.mark.hostile
@pytest.mark.parametrize(("lines", "message"), [
    ('api = "http://127.0.0.1:9"\nfolder = "."', "give either api = the URL of a STAC API, or folder"),
    ("", "give either api = the URL of a STAC API, or folder"),
    ('folder = "no/such/archive"', "is not a folder; point it at the folder that holds the collection folders"),
])
def test_a_provider_needs_one_api_or_one_existing_folder(tmp_path, lines, message):
    with pytest.raises(ConfigError) as refused:
        load_settings(folder_provider_config(tmp_path, lines))
    assert "imagery.providers.archive" in str(refused.value) and message in " ".join(str(refused.value).split())
