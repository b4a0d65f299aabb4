"""The STAC items of one period over one area, from a provider's STAC API (pystac-client).

`search_period` searches a collection by bbox, datetime interval and ``eo:cloud_cover`` limit, page after page,
with a timeout per request and retries with doubling waits on connection failures and HTTP 429/5xx answers
(`config.ImagerySettings`). An API that still cannot be searched raises `errors.ImageryUnavailable` naming its
URL and its last answer: the run stops before anything is published. `period_items` does that for every period
of an input, once per process (the pipeline's provenance and the detect stage ask for the same items).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import pystac
import requests
from pystac_client import Client
from pystac_client.errors import ClientTypeError
from pystac_client.exceptions import APIError
from pystac_client.stac_api_io import StacApiIO
from urllib3.util.retry import Retry

from mrumonitor.config import ActivityInput, ImagerySettings, PeriodSettings, Settings, StacProvider
from mrumonitor.errors import ConfigError, ImageryUnavailable
from mrumonitor.raster.io import RETRY_STATUS
from mrumonitor.raster.region import region_lonlat
from mrumonitor.raster.stac.items import acquisition_time
from mrumonitor.raster.stac.server import LocalStacApi

log = logging.getLogger(__name__)

#: Items asked per page of a search (APIs cap it, LocalStacApi at 1000; bigger pages, fewer requests).
PAGE_SIZE = 250

#: What pystac-client raises on a failed request or an answer that is not a STAC API's (HTML, JSON of another shape:
#: it reads such JSON without checking and fails on a missing key or a wrong type).
_ANSWER_ERRORS = (APIError, ClientTypeError, pystac.STACError, pystac.STACTypeError, requests.RequestException,
                  NotImplementedError, ValueError, TypeError, KeyError, AttributeError)

Bounds = tuple[float, float, float, float]
_MEMO: dict[str, list[pystac.Item]] = {}
#: The local STAC APIs serving `folder` providers in this process, by folder.
_SERVED: dict[str, LocalStacApi] = {}


def search_period(provider: StacProvider, imagery: ImagerySettings, bbox: Bounds, period: PeriodSettings,
                  max_cloud_cover: float, collection: str | None = None,
                  page_size: int = PAGE_SIZE) -> list[pystac.Item]:
    """The items of `collection` (default: the provider's) over `bbox` within `period` (whole days) whose
    ``eo:cloud_cover`` is at most `max_cloud_cover`, sorted by datetime then id, each id once. The limit is asked
    of the API (``query`` extension) and checked again on the items answered.

    Raises
    ------
    ImageryUnavailable
        The API cannot be reached or keeps failing after ``imagery.retries`` retries, or answers what is not a
        STAC API search.
    ConfigError
        More than ``imagery.max_items`` items match (the message says how to narrow the search), or the provider
        signs URLs with a package that is not installed.
    """
    collection = collection or provider.collection
    interval = f"{period.start.isoformat()}/{period.end.isoformat()}"
    try:
        # Client.open sets the timeout of the StacApiIO it is given: pass it here too
        client = Client.open(provider.api, modifier=_signer(provider), stac_io=_stac_io(imagery),
                             timeout=imagery.timeout_s)
        search = client.search(collections=[collection], bbox=list(bbox), datetime=interval,
                               query={"eo:cloud_cover": {"lte": max_cloud_cover}},
                               limit=min(page_size, imagery.max_items + 1), max_items=imagery.max_items + 1)
        found = list(search.items())
    except _ANSWER_ERRORS as error:
        raise ImageryUnavailable(
            f"the STAC API {provider.api} could not be searched for period {period.name} (collection {collection}): "
            f"{_answer(error)}. Nothing was downloaded and the latest published run is unchanged. Check the "
            "network and the API's status page, or the `api` of the provider block in [imagery.providers], then run "
            f"again (a request that failed or timed out was tried {imagery.retries + 1} times, {imagery.timeout_s:g} s "
            "each).") from None
    if len(found) > imagery.max_items:
        raise ConfigError(
            f"period {period.name}: more than imagery.max_items = {imagery.max_items} items of {collection} at "
            f"{provider.api} over {_box_text(bbox)} with eo:cloud_cover <= {max_cloud_cover:g}. Narrow the search: "
            "give the input smaller `bounds`, a lower `max_cloud_cover` or shorter periods, or raise "
            "imagery.max_items.")
    unique = {item.id: item for item in found}
    cloudy = [item.id for item in unique.values() if _cloud_cover(item) > max_cloud_cover]
    if cloudy:  # an API without the query extension answers as if no limit were asked
        log.warning("period %s: %s answered %d items above eo:cloud_cover %g (it ignored the limit); left out",
                    period.name, provider.api, len(cloudy), max_cloud_cover)
    items = sorted((item for item in unique.values() if item.id not in cloudy),
                   key=lambda item: (acquisition_time(item), item.id))
    log.info("period %s: %d items of %s at %s over %s (eo:cloud_cover <= %g)", period.name, len(items), collection,
             provider.api, _box_text(bbox), max_cloud_cover)
    return items


def period_items(settings: Settings, name: str, periods: Sequence[PeriodSettings]) -> dict[str, list[pystac.Item]]:
    """The items of the stac input `name` for each of `periods`, by period name, in period order.

    Searched once per process for the same input, provider, area and period; later calls get the same items.
    """
    spec = settings.activity.inputs[name]
    provider = input_provider(settings, name)
    bbox = input_bounds(settings, spec)
    found = {}
    for period in periods:
        key = json.dumps([provider.model_dump(mode="json"), settings.imagery.model_dump(mode="json"), bbox,
                          spec.collection, spec.max_cloud_cover, period.model_dump(mode="json")], sort_keys=True)
        if key not in _MEMO:
            _MEMO[key] = search_period(provider, settings.imagery, bbox, period, spec.max_cloud_cover,
                                       spec.collection)
        found[period.name] = list(_MEMO[key])
    return found


def input_provider(settings: Settings, name: str) -> StacProvider:
    """The provider block of the stac input `name`; a ConfigError listing the known ones when it names none.

    A provider of a `folder` gets the `api` of the local STAC API that serves the folder in this process (started
    on 127.0.0.1 at a free port on first use, `served_folder`).
    """
    spec = settings.activity.inputs[name]
    providers = settings.imagery.providers
    if spec.provider not in providers:
        raise ConfigError(f"activity.inputs.{name}.provider = {spec.provider!r} names no [imagery.providers] block; "
                          f"known: {', '.join(sorted(providers)) or 'none'}.")
    provider = providers[spec.provider]
    if provider.folder is None:
        return provider
    return provider.model_copy(update={"api": served_folder(provider.folder)})


def served_folder(folder: Path) -> str:
    """The URL of a local STAC API serving `folder` for the rest of this process (one server per folder)."""
    key = str(Path(folder).resolve())
    if key not in _SERVED:
        _SERVED[key] = LocalStacApi(Path(key))
        _SERVED[key].start()
        log.info("serving the STAC collection in %s at %s for this run", key, _SERVED[key].url)
    return _SERVED[key].url


def input_bounds(settings: Settings, spec: ActivityInput) -> Bounds:
    """The area of a stac input as (west, south, east, north) in degrees: its `bounds`, else the region (the project
    countries plus ``raster.margin_km``, as the regional grid covers it: `raster.region.region_lonlat`)."""
    return tuple(spec.bounds) if spec.bounds is not None else region_lonlat(settings)


class _DoublingRetry(Retry):
    """urllib3's Retry waiting `backoff_factor` seconds before the first retry, then twice as long each time."""

    def get_backoff_time(self) -> float:
        tries = len(self.history)
        return 0.0 if tries == 0 else self.backoff_factor * 2 ** (tries - 1)


def _stac_io(imagery: ImagerySettings) -> StacApiIO:
    retry = _DoublingRetry(total=imagery.retries, backoff_factor=imagery.backoff_s, status_forcelist=RETRY_STATUS,
                           allowed_methods=frozenset({"GET", "POST", "HEAD"}), raise_on_status=False)
    return StacApiIO(max_retries=retry)


def _signer(provider: StacProvider):
    if provider.signing != "planetary-computer":
        return None
    try:
        import planetary_computer
    except ImportError:
        raise ConfigError(f"the provider at {provider.api} signs its asset URLs with the Planetary Computer's "
                          "package, which is not installed: run `pip install planetary-computer`.") from None
    return planetary_computer.sign_inplace


def _answer(error: Exception) -> str:
    """What the API answered, in one line: its HTTP status and the start of its body, the connection error, or
    why its answer is not a STAC API's."""
    status = getattr(error, "status_code", None)
    text = " ".join(str(error).split())[:300] or type(error).__name__
    if status:
        return f"HTTP {status}: {text}"
    if isinstance(error, APIError | requests.RequestException):
        return text
    return f"its answer is not what a STAC API answers ({text})"


def _cloud_cover(item: pystac.Item) -> float:
    """The item's eo:cloud_cover; 0 when it gives none (the API's own filter decided on it)."""
    cover = item.properties.get("eo:cloud_cover")
    return float(cover) if isinstance(cover, int | float) else 0.0


def _box_text(bbox: Bounds) -> str:
    return "[" + ", ".join(f"{v:g}" for v in bbox) + "]"
