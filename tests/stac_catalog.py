"""Small STAC catalogues built in code for the tests: Sentinel-2 L2A-like items of single-band COGs.

`write_item` writes one COG per band of `STAC_BANDS` (uint16 digital numbers with nodata 0; SCL uint8 with nodata
0) in a given CRS and transform, and returns a pystac Item with the metadata real catalogues carry
(``datetime``, ``eo:cloud_cover``, ``s2:processing_baseline``, ``proj:code``/``proj:epsg``, per asset
``proj:shape``/``proj:transform`` and ``file:size``, optionally ``earthsearch:boa_offset_applied`` and
``raster:bands`` offsets), its bbox and footprint in WGS84. `write_catalog` writes several items as a collection
that `mrumonitor.raster.stac.server.LocalStacApi` serves. Pixel values are known: a constant per band
(`BAND_VALUES`) or the array given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pystac
import rasterio
from affine import Affine
from pyproj import Transformer
from pystac_client import Client
from rasterio.warp import transform_bounds, transform_geom
from shapely.geometry import box, mapping

from mrumonitor.config import STAC_BANDS
from mrumonitor.raster.stac.server import LocalStacApi, write_collection

#: The digital number of each band unless an item gives its own values (SCL 4: vegetation, a clear class).
BAND_VALUES = {"B02": 1500, "B03": 1800, "B04": 2200, "B08": 3500, "B11": 3000, "SCL": 4}
#: A 10 m UTM grid in Sierra Leone (zone 29N, near Koidu), 64 x 64 pixels.
CRS = "EPSG:32629"
TRANSFORM = Affine(10.0, 0.0, 286_000.0, 0.0, -10.0, 955_640.0)
SHAPE = (64, 64)
#: The collection id the builders write unless told.
COLLECTION = "sentinel-2-l2a"
#: Asset keys of a provider that names assets by band (the Planetary Computer); Earth Search's are below.
BAND_ASSETS = {band: band for band in STAC_BANDS}
EARTH_SEARCH_ASSETS = {"B02": "blue", "B03": "green", "B04": "red", "B08": "nir", "B11": "swir16", "SCL": "scl"}


@dataclass
class ItemSpec:
    """What one item holds. Unset metadata (None) is left out of the item.

    `values` maps a band to a constant or a 2-D array (of `shape`, or half of it for the `coarse` bands, which
    are written at twice the pixel size as Sentinel-2's 20 m bands).
    """

    id: str
    datetime: dt.datetime
    cloud_cover: float | None = 10.0
    baseline: str | None = "05.10"
    boa_offset_applied: bool | None = None
    raster_offset: float | None = None
    raster_scale: float | None = None
    values: Mapping[str, int | np.ndarray] = field(default_factory=dict)
    crs: str = CRS
    transform: Affine = TRANSFORM
    shape: tuple[int, int] = SHAPE
    coarse: Sequence[str] = ()
    asset_keys: Mapping[str, str] = field(default_factory=lambda: dict(BAND_ASSETS))
    bands: Sequence[str] = STAC_BANDS
    properties: Mapping[str, object] = field(default_factory=dict)


def write_item(folder: str | Path, spec: ItemSpec) -> pystac.Item:
    """Write the COGs of `spec` under `folder/<id>/<band>.tif`; the item, with absolute file paths as hrefs."""
    folder = Path(folder) / spec.id
    folder.mkdir(parents=True, exist_ok=True)
    epsg = rasterio.crs.CRS.from_user_input(spec.crs).to_epsg()
    properties = {"datetime": pystac.utils.datetime_to_str(spec.datetime), "proj:code": f"EPSG:{epsg}",
                  "proj:epsg": epsg, "platform": "sentinel-2a", "constellation": "sentinel-2",
                  "eo:cloud_cover": spec.cloud_cover, "s2:processing_baseline": spec.baseline,
                  "earthsearch:boa_offset_applied": spec.boa_offset_applied, **spec.properties}
    bounds = rasterio.transform.array_bounds(*spec.shape, spec.transform)
    footprint = transform_geom(spec.crs, "EPSG:4326", mapping(box(*bounds)))
    item = pystac.Item(spec.id, footprint, list(transform_bounds(spec.crs, "EPSG:4326", *bounds)), spec.datetime,
                       {key: value for key, value in properties.items() if value is not None})
    for band in spec.bands:
        path = _write_band(folder / f"{band}.tif", band, spec)
        item.add_asset(spec.asset_keys[band], pystac.Asset(str(path), media_type=pystac.MediaType.COG,
                                                          roles=["data"], extra_fields=_asset_fields(path, band, spec)))
    return item


def write_catalog(root: str | Path, specs: Sequence[ItemSpec], collection: str = COLLECTION) -> list[pystac.Item]:
    """Write the items of `specs` (COGs under `<root>/<collection>/assets/`) as a collection `LocalStacApi` serves."""
    assets = Path(root) / collection / "assets"
    items = [write_item(assets, spec) for spec in specs]
    write_collection(root, collection, items)
    return items


def daily_specs(count: int, start: dt.date = dt.date(2024, 1, 5), step_days: int = 5, **fields) -> list[ItemSpec]:
    """`count` items `step_days` apart from `start` (10:30 UTC), ids S2_TEST_<YYYYMMDD>, each with `fields`."""
    return [ItemSpec(f"S2_TEST_{day:%Y%m%d}", dt.datetime.combine(day, dt.time(10, 30), tzinfo=dt.UTC), **fields)
            for day in (start + dt.timedelta(days=step_days * i) for i in range(count))]


def provider_block(name: str, api: str, assets: Mapping[str, str] = BAND_ASSETS, collection: str = COLLECTION) -> str:
    """The ``[imagery.providers.<name>]`` block of a configuration file for the API at `api`."""
    keys = ", ".join(f'{band} = "{key}"' for band, key in assets.items())
    return f'[imagery.providers.{name}]\napi = "{api}"\ncollection = "{collection}"\nassets = {{ {keys} }}\n'


def input_block(name: str, provider: str, bounds: Sequence[float] | None = None, **keys: object) -> str:
    """The ``[activity.inputs.<name>]`` block of a stac input of `provider` over `bounds` (None: the region)."""
    lines = [f"[activity.inputs.{name}]", 'kind = "stac"', f'provider = "{provider}"',
             *([f"bounds = {list(bounds)}"] if bounds is not None else []), *(f"{k} = {v}" for k, v in keys.items())]
    return "\n".join(lines) + "\n"


def inner_bounds(crs: str = CRS, transform: Affine = TRANSFORM, shape: tuple[int, int] = SHAPE
                 ) -> tuple[float, float, float, float]:
    """The largest lon/lat box inside the footprint of items on a north-up grid (default: the builders' grid)."""
    rows, cols = shape
    xs, ys = [transform.c, transform.c + cols * transform.a], [transform.f, transform.f + rows * transform.e]
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform([xs[0], xs[1], xs[0], xs[1]],
                                                                               [ys[0], ys[0], ys[1], ys[1]])
    return max(lon[0], lon[2]), max(lat[2], lat[3]), min(lon[1], lon[3]), min(lat[0], lat[1])


def _band_array(band: str, spec: ItemSpec, shape: tuple[int, int]) -> np.ndarray:
    value = spec.values.get(band, BAND_VALUES[band])
    dtype = "uint8" if band == "SCL" else "uint16"
    array = np.full(shape, value, dtype=dtype) if np.isscalar(value) else np.asarray(value, dtype=dtype)
    if array.shape != shape:
        raise ValueError(f"{spec.id} {band}: values of shape {array.shape}, the band is {shape}")
    return array


def _band_grid(band: str, spec: ItemSpec) -> tuple[tuple[int, int], Affine]:
    if band in spec.coarse:
        return (spec.shape[0] // 2, spec.shape[1] // 2), spec.transform * Affine.scale(2)
    return spec.shape, spec.transform


def _write_band(path: Path, band: str, spec: ItemSpec) -> Path:
    shape, transform = _band_grid(band, spec)
    array = _band_array(band, spec, shape)
    profile = {"driver": "COG", "width": shape[1], "height": shape[0], "count": 1, "dtype": array.dtype.name,
               "crs": spec.crs, "transform": transform, "nodata": 0, "compress": "DEFLATE", "blocksize": 256}
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(array, 1)
        dataset.set_band_description(1, band)
    return path


def _asset_fields(path: Path, band: str, spec: ItemSpec) -> dict:
    shape, transform = _band_grid(band, spec)
    fields = {"proj:shape": list(shape), "proj:transform": list(transform)[:6], "file:size": path.stat().st_size}
    if band != "SCL" and (spec.raster_offset is not None or spec.raster_scale is not None):
        fields["raster:bands"] = [{"nodata": 0, "data_type": "uint16", "offset": spec.raster_offset or 0.0,
                                   "scale": spec.raster_scale or 1.0}]
    return fields


@contextmanager
def served(root: Path, specs: list[ItemSpec], wrap=None) -> Iterator[tuple[LocalStacApi, list[pystac.Item]]]:
    """Write `specs` as a catalogue under `root`, serve it, and yield the API and its items as searched."""
    write_catalog(root, specs)
    with LocalStacApi(root, wrap=wrap) as api:
        items = list(Client.open(api.url).search(collections=[COLLECTION], max_items=None).items())
        api.clear_requests()
        yield api, items


def asset_requests(api: LocalStacApi) -> list:
    """The requests `api` received for asset files (the COGs), not for the catalogue."""
    return [request for request in api.requests if request[1].startswith("/files/")]
