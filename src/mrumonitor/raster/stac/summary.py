"""What a period of a STAC input would read, from the items' metadata alone (nothing is downloaded).

For one input and one period (`period_summary`): the items found, their dates and cloud cover, the items per
project country (those whose footprint meets the country's outline inside the area), the share of the area with
at least one clear observation and the bytes to read.

The clear share is an estimate from ``eo:cloud_cover`` (the cloudy percent of each whole item): on a coarse grid
over the area, a cell covered by items i has no clear observation with probability prod(cloud_cover_i / 100), so
its chance of one is 1 - that product (0 where no item covers it); the share is the mean over the cells, weighted
by their true area (cos latitude). The bytes are each item's ``file:size`` of the bands the detector reads, times
the share of its footprint inside the area (a COG is read by the blocks the area needs); unknown (None) when an
item gives no ``file:size``.
"""

from __future__ import annotations

import numpy as np
import pystac
import shapely
from shapely.geometry import box, shape

from mrumonitor.config import PeriodSettings, Settings, StacProvider
from mrumonitor.crs import WGS84
from mrumonitor.raster.stac.items import acquisition_day, item_bytes, item_offset, provider_keys
from mrumonitor.raster.stac.search import Bounds, input_bounds, input_provider
from mrumonitor.reference import load_boundaries

#: Cells per side of the coarse grid the clear share is estimated on.
CLEAR_GRID_CELLS = 100
#: Said wherever the clear share is shown: it is not measured from the pixels.
CLEAR_SHARE_BASIS = "estimated from eo:cloud_cover"


def period_summary(settings: Settings, name: str, period: PeriodSettings, items: list[pystac.Item]) -> dict:
    """What period `period` of the stac input `name` would read: a JSON-ready dict.

    Keys: input, provider (API URL), collection, period, start, end, bounds, items (count), first and last date,
    cloud_cover (min, mean, max, or None), clear_share (0-1, `CLEAR_SHARE_BASIS`), bytes (int or None: unknown),
    countries ({ISO3: items}) and item_list (id, date, cloud cover, offset and its rule, bytes to read, countries).
    """
    spec = settings.activity.inputs[name]
    provider = input_provider(settings, name)
    bounds = input_bounds(settings, spec)
    area = box(*bounds)
    countries = _country_areas(settings, area)
    rows = [_item_row(item, provider, area, countries) for item in items]
    covers = [row["cloud_cover"] for row in rows if row["cloud_cover"] is not None]
    to_read = [row["bytes"] for row in rows]
    return {
        "input": name, "provider": provider.api, "collection": spec.collection or provider.collection,
        "period": period.name, "start": period.start.isoformat(), "end": period.end.isoformat(),
        "bounds": list(bounds), "items": len(rows),
        "first": min((row["date"] for row in rows), default=None), "last": max((row["date"] for row in rows),
                                                                             default=None),
        "cloud_cover": ({"min": min(covers), "mean": round(sum(covers) / len(covers), 1), "max": max(covers)}
                        if covers else None),
        "clear_share": round(clear_share(bounds, items), 4), "clear_share_basis": CLEAR_SHARE_BASIS,
        "bytes": None if any(size is None for size in to_read) else sum(to_read),
        "countries": {iso3: sum(iso3 in row["countries"] for row in rows) for iso3 in countries},
        "item_list": rows,
    }


def clear_share(bounds: Bounds, items: list[pystac.Item], cells: int = CLEAR_GRID_CELLS) -> float:
    """The expected share (0-1) of the lon/lat box `bounds` with at least one clear observation among `items`
    (see the module docstring); an item without ``eo:cloud_cover`` counts as entirely cloudy."""
    west, south, east, north = bounds
    xs = west + (np.arange(cells) + 0.5) * (east - west) / cells
    ys = south + (np.arange(cells) + 0.5) * (north - south) / cells
    lon, lat = np.meshgrid(xs, ys)
    cloudy = np.ones(lon.shape)
    for item in items:
        cover = item.properties.get("eo:cloud_cover")
        share = 1.0 if not isinstance(cover, int | float) else min(max(float(cover), 0.0), 100.0) / 100.0
        cloudy[shapely.contains_xy(_footprint(item), lon, lat)] *= share
    weights = np.cos(np.radians(lat))
    return float(((1.0 - cloudy) * weights).sum() / weights.sum())


def _item_row(item: pystac.Item, provider: StacProvider, area: shapely.Geometry,
              countries: dict[str, shapely.Geometry]) -> dict:
    footprint = _footprint(item)
    offset, rule = item_offset(item)
    size = item_bytes(item, provider_keys(provider))
    inside = footprint.intersection(area).area / footprint.area if footprint.area > 0 else 1.0
    return {"id": item.id, "date": acquisition_day(item).isoformat(),
            "cloud_cover": item.properties.get("eo:cloud_cover"), "offset": offset, "offset_rule": rule,
            "bytes": None if size is None else round(size * inside),
            "countries": [iso3 for iso3, outline in countries.items() if footprint.intersects(outline)]}


def _country_areas(settings: Settings, area: shapely.Geometry) -> dict[str, shapely.Geometry]:
    """Each project country's outline (WGS84) inside `area`, for the countries the area meets."""
    outlines = load_boundaries(settings.paths.reference, WGS84)
    inside = {}
    for iso3 in settings.project.countries:
        outline = outlines.loc[outlines["iso3"] == iso3, "geometry"]
        part = outline.iloc[0].intersection(area) if len(outline) else None
        if part is not None and not part.is_empty:
            inside[iso3] = part
    return inside


def _footprint(item: pystac.Item) -> shapely.Geometry:
    if item.geometry:
        return shape(item.geometry)
    return box(*item.bbox[:2], *item.bbox[-2:]) if item.bbox else shapely.Polygon()
