"""The STAC catalog of a run's raster layers: one Item per activity COG, with relative links only.

The catalog sits at `RunFolder.catalog` inside the run folder, each Item in a folder of its own beside it,
with its asset pointing back at the COG by a relative link, so the run folder can be moved or copied whole
(a self-contained catalog). An Item covers its period (start_datetime to the end of its last day, UTC) and
the raster's footprint in WGS84, and carries the raster's CRS, shape and transform with the
projection extension. Only the core STAC schemas are validated: extension schemas would have to be
fetched from the web, and the store works offline.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pystac
import shapely
from pyproj import CRS
from pystac.extensions.projection import ProjectionExtension
from pystac.validation import validate_dict

from mrumonitor.runfolder import RunFolder


def write_catalog(run_dir: Path, run_id: str, layers: dict[str, dict], title: str) -> Path:
    """Write the STAC catalog of the raster layers of `layers` (a manifest's ``layers``) under `run_dir`.

    Returns the path of ``catalog.json``. Raises `pystac.STACValidationError` if an object breaks the core
    schemas (a bug, not a user error).
    """
    catalog = pystac.Catalog(id=f"mrumonitor-{run_id}", title=f"{title}: run {run_id}",
                             description=f"Mining activity layers of mrumonitor run {run_id}, one item per "
                                         "period (and per scene area), as Cloud-Optimized GeoTIFFs.")
    for name, layer in layers.items():
        if layer["kind"] == "raster":
            catalog.add_item(_item(name, layer, run_dir))
    path = RunFolder(run_dir).catalog
    catalog.normalize_hrefs(str(path.parent))
    catalog.make_all_asset_hrefs_relative()
    for stac_object in (catalog, *catalog.get_items()):
        validate_dict(stac_object.to_dict(), stac_object.STAC_OBJECT_TYPE, extensions=[])
    catalog.save(pystac.CatalogType.SELF_CONTAINED)
    return path


def _item(name: str, layer: dict, run_dir: Path) -> pystac.Item:
    west, south, east, north = layer["bbox_wgs84"]
    start = dt.datetime.fromisoformat(layer["period_start"]).replace(tzinfo=dt.UTC)
    end = dt.datetime.fromisoformat(layer["period_end"]).replace(tzinfo=dt.UTC) + dt.timedelta(
        days=1, seconds=-1)
    properties = {"title": layer["title"], "description": layer["description"], "mrumonitor:period": layer["period"]}
    if "area" in layer:
        properties["mrumonitor:area"] = layer["area"]
    item = pystac.Item(id=name, geometry=shapely.geometry.mapping(shapely.box(west, south, east, north)),
                       bbox=[west, south, east, north], datetime=None, start_datetime=start, end_datetime=end,
                       properties=properties)
    item.add_asset("data", pystac.Asset(str(Path(run_dir) / layer["path"]), title=layer["title"],
                                        media_type=pystac.MediaType.COG, roles=["data"],
                                        extra_fields={"nodata": layer["nodata"], "unit": "percent"}))
    projection = ProjectionExtension.ext(item, add_if_missing=True)
    authority = CRS.from_user_input(layer["crs"]).to_authority()
    projection.code = ":".join(authority) if authority else None  # null with a WKT2, as the extension says
    if not authority:
        projection.wkt2 = layer["crs"]
    left, bottom, right, top = layer["bounds"]
    resolution = layer["resolution"]
    projection.bbox = [left, bottom, right, top]
    projection.shape = [layer["height"], layer["width"]]
    projection.transform = [resolution, 0.0, left, 0.0, -resolution, top]
    return item
