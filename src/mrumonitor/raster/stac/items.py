"""A STAC item as the detector reads it: its `Scene`, its reflectance offset, its fingerprint and its size.

An item of a provider becomes a `raster.scenes.Scene` whose `assets` are the URLs of the single-band COGs of
`config.STAC_BANDS` (asset keys from the provider's ``assets`` table) and whose `offset` is the item's own
digital-number offset (`item_offset`). An item that lacks one of those assets is an error naming the item and the
asset key (`errors.ConfigError`: the provider's table does not fit the collection), not an item skipped: a composite silently made of fewer items (or of items without SWIR) would change
the detection without a trace, and the search that finds the item runs before anything is downloaded.

`item_fingerprint` says whether an item changed between two runs, independently of where it is served from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable

import pystac

from mrumonitor.config import STAC_BANDS, StacProvider
from mrumonitor.errors import ConfigError
from mrumonitor.raster.scenes import Scene

#: The property that marks an item as synthetic (the demo's imagery); the run's caveats quote it.
SYNTHETIC_PROPERTY = "mrumonitor:synthetic"
#: Digital-number offset of Sentinel-2 L2A reflectance since processing baseline 04.00 (BOA_ADD_OFFSET).
BASELINE_04_OFFSET = -1000.0
#: First processing baseline whose reflectance carries that offset, and the day ESA started producing it.
OFFSET_BASELINE = (4, 0)
OFFSET_SINCE = dt.date(2022, 1, 25)
#: How an offset decided without metadata is described (`item_offset`); such items get a run warning.
DATE_INFERRED = "no metadata: inferred from the date"
#: Item properties that give the processing baseline ("04.00"), in the order they are trusted.
BASELINE_PROPERTIES = ("s2:processing_baseline", "sentinel:processing_baseline", "earthsearch:processing_baseline",
                       "processing:version")
#: Item properties holding the ESA product name, whose "_N0400_" part is the baseline.
PRODUCT_PROPERTIES = ("s2:product_uri", "s2:product_id", "sentinel:product_id")
_BASELINE = re.compile(r"^\s*0*(\d{1,2})\.(\d{1,2})\s*$")
_PRODUCT_BASELINE = re.compile(r"_N(\d{2})(\d{2})_")


def item_scene(item: pystac.Item, provider: StacProvider) -> Scene:
    """The `Scene` of `item`: its acquisition day (UTC), one absolute COG URL per band and its offset.

    Raises `ConfigError` naming the item, the asset key and the item's assets when it lacks the asset of a band
    (the provider's ``assets`` table does not fit the collection).
    """
    missing = [(band, key) for band, key in _band_keys(provider) if key not in item.assets]
    if missing:
        named = ", ".join(f"{key!r} (band {band})" for band, key in missing)
        raise ConfigError(
            f"{_item_name(item)} has no asset {named}; its assets are {', '.join(sorted(item.assets)) or 'none'}. "
            "Name each band's asset key in the provider's `assets` table of [imagery.providers.<name>] (e.g. "
            "B04 = \"red\" on Earth Search, B04 = \"B04\" on the Planetary Computer), or use a collection whose "
            "items carry these bands.")
    assets = tuple((band, item.assets[key].get_absolute_href() or item.assets[key].href)
                   for band, key in _band_keys(provider))
    return Scene(item.get_self_href() or item.id, acquisition_day(item), assets, item_offset(item)[0])


def acquisition_time(item: pystac.Item) -> dt.datetime:
    """The item's acquisition time: its `datetime`, else its `start_datetime`."""
    return item.datetime or item.common_metadata.start_datetime


def acquisition_day(item: pystac.Item) -> dt.date:
    """The item's acquisition day in UTC (`acquisition_time`)."""
    moment = acquisition_time(item)
    return moment.astimezone(dt.UTC).date() if moment.tzinfo else moment.date()


def item_offset(item: pystac.Item) -> tuple[float, str]:
    """The digital-number offset of the item's reflectance, and how it was decided.

    Reflectance = (DN + offset) / 10000. ESA's processing baseline 04.00 (in production from 2022-01-25; ESA,
    "Sentinel-2: new processing baseline 04.00", and the L2A product specification's BOA_ADD_OFFSET) stores
    reflectance with a +1000 shift, so the offset is -1000 from that baseline on and 0 before; Collection-1
    reprocessing gives older acquisitions baseline 05.xx and the shift too, which a rule by date alone would miss.
    Catalogues differ: Earth Search removes the shift from some items ("harmonised") and says so with
    ``earthsearch:boa_offset_applied``; the Planetary Computer keeps it and states ``s2:processing_baseline``.
    Earth Search's flag is trusted when true, and its ``raster:bands`` offset of -0.1 is not trusted over the
    baseline (Earth Search issue #9: "boa_offset_applied is the truth"). Earth Search issues #66 (2022 items of
    baseline 04.00) and #71 (2025 items) report items of its ``sentinel-2-l2a`` collection flagged false whose
    pixels were harmonised all the same: nothing in their metadata tells them apart, and they come out 0.1 too
    dark here (reflectance 0.1 low). The rule:

    1. ``earthsearch:boa_offset_applied`` true: 0, the provider already removed the shift;
    2. the processing baseline (`BASELINE_PROPERTIES`, else the ``_Nxxyy_`` part of the product name in
       `PRODUCT_PROPERTIES`): -1000 from 04.00 on, 0 before;
    3. the ``raster:bands`` offset and scale of a reflectance asset (offset / scale, in digital numbers);
    4. no such metadata: -1000 for acquisitions from 2022-01-25 on, 0 before ("inferred from the date").
    """
    if item.properties.get("earthsearch:boa_offset_applied") is True:
        return 0.0, "harmonised by the provider (earthsearch:boa_offset_applied)"
    baseline = _processing_baseline(item)
    if baseline is not None:
        version, source = baseline
        text = f"{version[0]:02d}.{version[1]:02d}"
        if version >= OFFSET_BASELINE:
            return BASELINE_04_OFFSET, f"processing baseline {text} (from {source}): 04.00 or later"
        return 0.0, f"processing baseline {text} (from {source}): before 04.00"
    raster_offset = _raster_bands_offset(item)
    if raster_offset is not None:
        return raster_offset
    if acquisition_day(item) >= OFFSET_SINCE:
        return BASELINE_04_OFFSET, f"{DATE_INFERRED} (acquired on or after {OFFSET_SINCE})"
    return 0.0, f"{DATE_INFERRED} (acquired before {OFFSET_SINCE})"


def item_fingerprint(item: pystac.Item) -> str:
    """SHA-256 of what makes the item's pixels: its id, datetime, ``updated``, offset and assets.

    Assets count by key with their ``file:checksum`` and ``file:size``, never their hrefs: the same item served on
    another port, or a URL signed anew, has the same fingerprint; a reprocessed item (new ``updated``, checksum or
    size) has another.
    """
    offset, _ = item_offset(item)
    document = {
        "id": item.id, "datetime": item.properties.get("datetime"), "start": item.properties.get("start_datetime"),
        "updated": item.properties.get("updated"), "offset": offset,
        "assets": {key: [asset.extra_fields.get("file:checksum"), asset.extra_fields.get("file:size")]
                   for key, asset in sorted(item.assets.items())},
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def item_bytes(item: pystac.Item, keys: Iterable[str] | None = None) -> int | None:
    """Bytes of the item's assets `keys` (all of them when None), from their ``file:size``; None when an asset
    lacks it (the size is then unknown)."""
    wanted = list(item.assets) if keys is None else [key for key in keys if key in item.assets]
    sizes = [item.assets[key].extra_fields.get("file:size") for key in wanted]
    if not sizes or any(not isinstance(size, int) for size in sizes):
        return None
    return sum(sizes)


def provider_keys(provider: StacProvider) -> list[str]:
    """The asset keys of the bands the detector reads, in `STAC_BANDS` order."""
    return [key for _, key in _band_keys(provider)]


def _band_keys(provider: StacProvider) -> list[tuple[str, str]]:
    return [(band, provider.assets[band]) for band in STAC_BANDS]


def _item_name(item: pystac.Item) -> str:
    href = item.get_self_href()
    return f"STAC item {item.id}" + (f" ({href})" if href else "")


def _processing_baseline(item: pystac.Item) -> tuple[tuple[int, int], str] | None:
    for name in BASELINE_PROPERTIES:
        match = _BASELINE.match(str(item.properties.get(name) or ""))
        if match:
            return (int(match[1]), int(match[2])), name
    for name in PRODUCT_PROPERTIES:
        match = _PRODUCT_BASELINE.search(str(item.properties.get(name) or ""))
        if match:
            return (int(match[1]), int(match[2])), name
    return None


def _raster_bands_offset(item: pystac.Item) -> tuple[float, str] | None:
    for key, asset in sorted(item.assets.items()):
        bands = asset.extra_fields.get("raster:bands") or []
        if key.upper() == "SCL" or not bands or not isinstance(bands[0], dict) or "offset" not in bands[0]:
            continue
        offset, scale = float(bands[0]["offset"]), float(bands[0].get("scale") or 1.0)
        return round(offset / scale, 6), f"raster:bands of asset {key!r}: offset {offset:g} / scale {scale:g}"
    return None
