"""What a browser posts to the Area statistics page about the area world (tests/area_world): rectangles around its
sites as the map's drawing control holds them, the callbacks' requests, and the tables of their answers."""

from __future__ import annotations

import base64
import json

import geopandas as gpd
import shapely
from area_world import SITES, site_square
from conftest import callback_body

from mrumonitor.config import load_settings
from mrumonitor.crs import WGS84
from mrumonitor.reference.layers import ReferenceLayers


def world_box(sites=tuple(SITES), margin_deg: float = 0.01) -> shapely.Polygon:
    """A WGS84 rectangle around the footprints of `sites` of the area world."""
    settings = load_settings()
    reference = ReferenceLayers.load(settings)
    squares = gpd.GeoSeries([site_square(reference, site) for site in sites], crs=settings.analysis_crs)
    west, south, east, north = squares.to_crs(WGS84).total_bounds
    return shapely.box(west - margin_deg, south - margin_deg, east + margin_deg, north + margin_deg)


def drawn(*shapes: shapely.Geometry) -> dict:
    """What the map's drawing control holds after drawing `shapes`."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"type": "rectangle"}, "geometry": shapely.geometry.mapping(shape)}
        for shape in shapes]}


def post(client, output: str, values: dict, changed: list[str] | None = None) -> dict:
    """Post the callback whose output starts with `output` (`changed`: the inputs that changed, all by default);
    its answer's `response`."""
    dependencies = json.loads(client.request("GET", "/_dash-dependencies").body)
    body = callback_body(dependencies, output, values)
    if changed is not None:
        body["changedPropIds"] = changed
    reply = client.request("POST", "/_dash-update-component", json=body)
    assert reply.status == 200, reply.text
    return json.loads(reply.body)["response"]


def show_drawn(client, geojson: dict | None) -> dict:
    """The page's answer to a drawing."""
    return post(client, "area-shape.data", {"area-draw.geojson": geojson, "area-upload.contents": None,
                                            "area-upload.filename": None}, ["area-draw.geojson"])


def download(client, button: str, shape: dict) -> tuple[str, str]:
    """The file name and text the page sends for a click on download `button` with the area `shape` held."""
    answer = post(client, "area-download.data", {f"{button}.n_clicks": 1, "area-shape.data": shape},
                  [f"{button}.n_clicks"])
    file = answer["area-download"]["data"]
    return file["filename"], base64.b64decode(file["content"]).decode() if file.get("base64") else file["content"]


def table(answer: dict, table_id: str) -> list[dict]:
    """The rows of the DataTable `table_id` in a callback's answer."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == table_id:
                found.append(node["props"]["data"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(answer)
    assert found, f"no table {table_id} in the answer"
    return found[0]
