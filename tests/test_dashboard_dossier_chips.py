"""A dossier's image chip lands where the site is: a raster built here (an imagery composite or an activity raster)
with a known bright blob, chipped around a footprint drawn on the blob, has the footprint's outline exactly on the
blob's edge, the blob inside it and the background outside; labels say the source (synthetic imagery said so)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import rasterio
import shapely
from PIL import Image
from rasterio.transform import from_origin

from mrumonitor.dashboard.dossier_chips import CHIP_PX, OUTLINE, ChipSource, chip_box, render_chip
from mrumonitor.i18n import use_language

pytestmark = pytest.mark.unit

#: A 64 x 64 raster of 20 m cells; the blob covers rows 20-29 and columns 30-39 (a 200 m square).
CELL, SIDE, LEFT, TOP = 20.0, 64, 1000.0, 5000.0
ROWS, COLS = slice(20, 30), slice(30, 40)
BLOB = shapely.box(LEFT + 30 * CELL, TOP - 30 * CELL, LEFT + 40 * CELL, TOP - 20 * CELL)
COMPOSITE_BANDS = ("B02", "B03", "B04", "B08", "B11", "count")


def write_raster(path, kind: str):
    """An imagery composite (reflectance 0.03, blob 0.18) or an activity raster (0 %, blob 100 %)."""
    profile = {"driver": "GTiff", "width": SIDE, "height": SIDE, "crs": "EPSG:32629",
               "transform": from_origin(LEFT, TOP, CELL, CELL)}
    if kind == "imagery":
        layers = np.full((len(COMPOSITE_BANDS), SIDE, SIDE), 0.03, np.float32)
        layers[:-1, ROWS, COLS] = 0.18
        layers[-1] = 3
        with rasterio.open(path, "w", count=len(COMPOSITE_BANDS), dtype="float32", **profile) as dataset:
            dataset.write(layers)
            dataset.descriptions = COMPOSITE_BANDS
    else:
        cells = np.zeros((SIDE, SIDE), np.uint8)
        cells[ROWS, COLS] = 100
        with rasterio.open(path, "w", count=1, dtype="uint8", nodata=255, **profile) as dataset:
            dataset.write(cells, 1)
    return ChipSource("2026H1", path, kind, (LEFT, TOP - SIDE * CELL, LEFT + SIDE * CELL, TOP), CELL,
                      dates=("2026-01-10", "2026-03-26"), mission="Sentinel-2", synthetic=True)


@pytest.mark.parametrize("kind", ["imagery", "activity"])
def test_the_outline_is_drawn_on_the_blob_and_the_blob_is_inside_it(tmp_path, kind):
    source = write_raster(tmp_path / f"{kind}.tif", kind)
    box = chip_box([BLOB])
    image = np.asarray(Image.open(io.BytesIO(render_chip(source, box, BLOB))).convert("RGB"))
    assert image.shape == (CHIP_PX, CHIP_PX, 3)

    x0, _, x1, y1 = box
    scale = CHIP_PX / (x1 - x0)
    minx, miny, maxx, maxy = BLOB.bounds
    expected = ((minx - x0) * scale, (y1 - maxy) * scale, (maxx - x0) * scale, (y1 - miny) * scale)
    rows, cols = np.nonzero((image == OUTLINE[kind]).all(axis=-1))
    assert (cols.min(), rows.min(), cols.max(), rows.max()) == pytest.approx(expected, abs=2)

    brightness = image.astype(int).sum(axis=-1)
    centre = int((expected[1] + expected[3]) / 2), int((expected[0] + expected[2]) / 2)
    corner = int(expected[1] / 2), int(expected[0] / 2)
    inside, outside = brightness[centre], brightness[corner]
    # imagery: the blob is brighter than the ground; activity: 100 % is the ramp's dark end, 0 % its white
    assert (inside > outside + 150) if kind == "imagery" else (inside + 300 < outside)


def test_a_chip_box_is_a_square_a_few_hundred_metres_around_the_site():
    minx, miny, maxx, maxy = chip_box([BLOB])
    assert maxx - minx == maxy - miny == 600.0  # at least 300 m each side of a 200 m site
    assert shapely.box(minx, miny, maxx, maxy).contains(BLOB)


@pytest.mark.parametrize("language, words", [
    ("en", ["SYNTHETIC demo imagery: Sentinel-2 composite of 2 scenes", "Jan 10, 2026", "activity raster (20 m"]),
    ("fr", ["images de démonstration FICTIVES : composite Sentinel-2 de 2 scènes", "10 janv. 2026",
            "raster d'activité (cellules de 20 m)"]),
])
def test_labels_say_the_source_and_that_demo_imagery_is_synthetic(tmp_path, language, words):
    imagery = write_raster(tmp_path / "imagery.tif", "imagery")
    activity = ChipSource("2026H1", tmp_path / "activity.tif", "activity", imagery.bounds, 20.0)
    with use_language(language):
        text = imagery.label() + " | " + activity.label()
    assert all(word in text for word in words), text
