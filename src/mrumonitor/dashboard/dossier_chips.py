"""A site dossier's image chips: one small PNG per period of the run, a few hundred metres around the site, with
the site's footprint of that period outlined.

A chip is read from the imagery the run used where it is kept: the period's composite of a STAC input in the
imagery cache (``<imagery_cache>/<input>/<key>/composite.tif``, `raster.stac.composite`), found by the items the
run's manifest lists for that input and period, drawn in true colour (B04, B03, B02). Elsewhere it is read from
the run's activity raster of the period (a scene area's where one covers the site, else the regional one). Every
chip says which it is, and imagery marked synthetic (the demo's) says so. Reads are windowed (only the chip's
box, resampled to `CHIP_PX` pixels); nothing is fetched from the network: an imagery cache emptied since the run
only means activity chips.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely
from rasterio.enums import Resampling
from rasterio.windows import from_bounds

from mrumonitor.errors import UnknownAddress
from mrumonitor.i18n import _, day, ngettext, number
from mrumonitor.raster.io import open_raster, read_checked
from mrumonitor.raster.stac.items import SYNTHETIC_PROPERTY
from mrumonitor.schema import ACTIVITY_MAX, ACTIVITY_NODATA

if TYPE_CHECKING:
    from mrumonitor.dashboard.run import RunData

#: Side of a chip (pixels).
CHIP_PX = 256
#: Half-width of a chip around the site, at least (metres): a few hundred metres of surroundings.
CHIP_MIN_HALF_M = 300.0
#: Half-width of a chip as a share of the site's largest extent over the periods.
CHIP_MARGIN = 0.7
#: The true-colour bands of a composite, and the reflectance drawn black and white (fixed, so periods compare).
TRUE_COLOUR = ("B04", "B03", "B02")
REFLECTANCE_RANGE = (0.0, 0.2)
#: Outline of the footprint: yellow on imagery, blue on the activity ramp (white to dark orange).
OUTLINE = {"imagery": (255, 212, 0), "activity": (33, 102, 172)}
ACTIVITY_RAMP = ((247, 247, 247), (127, 39, 4))
NO_DATA_GREY = (217, 217, 217)


@dataclass(frozen=True)
class ChipSource:
    """A raster a chip can be read from: a period's imagery composite or activity raster, in the analysis CRS."""

    period: str
    path: Path
    kind: str  # "imagery" or "activity"
    bounds: tuple[float, float, float, float]
    resolution: float
    dates: tuple[str, ...] = ()
    mission: str = ""
    synthetic: bool = False

    def covers(self, point: shapely.Point) -> bool:
        return shapely.contains_xy(shapely.box(*self.bounds), point.x, point.y)

    def label(self) -> str:
        """Where the chip comes from, in the user's language."""
        if self.kind == "activity":
            return _("activity raster (%(resolution)s m cells): no imagery of this period is kept",
                     resolution=number(self.resolution))
        first, last = day(min(self.dates)), day(max(self.dates))
        text = ngettext("%(mission)s scene of %(first)s", "%(mission)s composite of %(num)s scenes, %(first)s to "
                        "%(last)s", len(self.dates), mission=self.mission, first=first, last=last)
        return _("SYNTHETIC demo imagery: %(source)s", source=text) if self.synthetic else text


@dataclass(frozen=True)
class Chip:
    """One period's chip of a site: its source (None when nothing covers the site), box and footprint."""

    period: str
    source: ChipSource | None
    box: tuple[float, float, float, float]
    footprint: shapely.Geometry | None  # analysis CRS; None when the site was not seen in the period
    area_ha: float

    def label(self) -> str:
        if self.source is None:
            return _("no imagery and no activity raster cover the site in this period")
        return self.source.label()

    def png(self) -> bytes:
        """The chip as a `CHIP_PX`-pixel PNG (a grey square when nothing covers the site)."""
        from PIL import Image

        if self.source is None:
            return _png(Image.new("RGB", (CHIP_PX, CHIP_PX), NO_DATA_GREY))
        return render_chip(self.source, self.box, self.footprint)


def site_chips(data: RunData, imagery_cache: Path | None, site_id: str) -> list[Chip]:
    """The chips of `site_id`, one per period of the run, on one box (so periods compare pixel for pixel)."""
    rows = np.flatnonzero(data.site_periods["site_id"].to_numpy() == site_id)
    shapes = dict(zip(data.site_periods["period"].to_numpy()[rows].astype(str), data.period_shapes[rows]))
    areas = dict(zip(data.site_periods["period"].to_numpy()[rows].astype(str),
                     data.site_periods["area_ha"].to_numpy()[rows]))
    box = chip_box(list(shapes.values()))
    centre = shapely.box(*box).centroid
    sources = run_sources(data, imagery_cache)
    return [Chip(period, next((s for s in sources.get(period, []) if s.covers(centre)), None), box,
                 shapes.get(period), float(areas.get(period, 0.0))) for period in data.periods]


def chip_of(chips: list[Chip], period: str) -> Chip:
    """The chip of `period` among `chips` (UnknownAddress when the run has no such period)."""
    for chip in chips:
        if chip.period == period:
            return chip
    raise UnknownAddress(_("the run has no period %(period)s: ask for one of %(periods)s.", period=period,
                           periods=", ".join(chip.period for chip in chips)))


def chip_box(footprints: list[shapely.Geometry]) -> tuple[float, float, float, float]:
    """A square around the union of `footprints`, at least `CHIP_MIN_HALF_M` each side of its centre."""
    minx, miny, maxx, maxy = shapely.bounds(shapely.union_all(footprints))
    half = max(CHIP_MIN_HALF_M, CHIP_MARGIN * max(maxx - minx, maxy - miny))
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    return cx - half, cy - half, cx + half, cy + half


def run_sources(data: RunData, imagery_cache: Path | None) -> dict[str, list[ChipSource]]:
    """Per period, the rasters chips are read from, best first: imagery composites, then the scene areas'
    activity rasters (finer), then the regional one. Found once per run (kept in the run's store)."""
    def find() -> dict[str, list[ChipSource]]:
        found: dict[str, list[ChipSource]] = {period: [] for period in data.periods}
        for source in [*_imagery_sources(data, imagery_cache), *_activity_sources(data)]:
            found.setdefault(source.period, []).append(source)
        return found

    return data.results.get(("dossier-chip-sources", str(imagery_cache)), find)


def _imagery_sources(data: RunData, imagery_cache: Path | None) -> list[ChipSource]:
    """The composites of the run's STAC inputs still in `imagery_cache`: matched by the items the manifest lists."""
    if imagery_cache is None:
        return []
    wanted: dict[tuple[str, str], set[str]] = {}
    for entry in data.manifest.get("inputs", []):
        if entry.get("kind") == "stac" and entry.get("item") and entry.get("period"):
            wanted.setdefault((str(entry["input"]), str(entry["period"])), set()).add(str(entry["item"]))
    sources = []
    for (name, period), ids in wanted.items():
        for listing in sorted((imagery_cache / name).glob("*/items.json")):
            items = json.loads(listing.read_text(encoding="utf-8")).get("features", [])
            cog = listing.with_name("composite.tif")
            if {item.get("id") for item in items} == ids and cog.is_file():
                sources.append(_composite_source(period, cog, items))
                break
    return sources


def _composite_source(period: str, cog: Path, items: list[dict]) -> ChipSource:
    properties = [item.get("properties", {}) for item in items]
    with open_raster(cog) as dataset:
        bounds, resolution = tuple(dataset.bounds), float(dataset.res[0])
    constellation = str(properties[0].get("constellation") or properties[0].get("platform") or "")
    mission = "Sentinel-2" if constellation.lower().startswith("sentinel-2") else (constellation or _("satellite"))
    return ChipSource(period, cog, "imagery", bounds, resolution,
                      dates=tuple(sorted(str(p.get("datetime", ""))[:10] for p in properties)), mission=mission,
                      synthetic=any(SYNTHETIC_PROPERTY in p for p in properties))


def _activity_sources(data: RunData) -> list[ChipSource]:
    """The run's activity rasters: those of scene areas first (finer cells), then the regional ones."""
    rasters = [(name, entry) for name, entry in data.manifest.get("layers", {}).items()
               if entry.get("kind") == "raster" and entry.get("period") and entry.get("bounds")]
    rasters.sort(key=lambda item: (not item[1].get("area"), item[1].get("resolution") or 0))
    return [ChipSource(str(entry["period"]), data.run_dir / entry["path"], "activity", tuple(entry["bounds"]),
                       float(entry.get("resolution") or 0)) for _name, entry in rasters]


def render_chip(source: ChipSource, box: tuple[float, float, float, float],
                footprint: shapely.Geometry | None) -> bytes:
    """The PNG of `box` read from `source` (one windowed, resampled read) with `footprint` outlined."""
    from PIL import Image, ImageDraw

    with open_raster(source.path) as dataset:
        window = from_bounds(*box, transform=dataset.transform)
        if source.kind == "imagery":
            names = list(dataset.descriptions)
            indexes = [names.index(band) + 1 for band in TRUE_COLOUR]
            bands = read_checked(dataset, indexes, window=window, out_shape=(3, CHIP_PX, CHIP_PX), boundless=True,
                                 fill_value=np.nan, resampling=Resampling.bilinear)
            rgb = _true_colour(bands.astype("float32"))
        else:
            cells = read_checked(dataset, 1, window=window, out_shape=(CHIP_PX, CHIP_PX), boundless=True,
                                 fill_value=ACTIVITY_NODATA, resampling=Resampling.nearest)
            rgb = _activity_colours(cells)
    image = Image.fromarray(rgb, "RGB")
    if footprint is not None and not footprint.is_empty:
        draw = ImageDraw.Draw(image)
        for ring in _rings(footprint):
            draw.line(_pixels(np.asarray(ring.coords), box), fill=OUTLINE[source.kind], width=2, joint="curve")
    return _png(image)


def _true_colour(bands: np.ndarray) -> np.ndarray:
    low, high = REFLECTANCE_RANGE
    scaled = np.clip((bands - low) / (high - low), 0, 1) ** (1 / 1.4)
    rgb = np.nan_to_num(scaled * 255, nan=NO_DATA_GREY[0]).astype(np.uint8)
    return np.moveaxis(rgb, 0, -1)


def _activity_colours(cells: np.ndarray) -> np.ndarray:
    share = np.clip(cells.astype("float32") / ACTIVITY_MAX, 0, 1)[..., None]
    start, end = (np.asarray(colour, dtype="float32") for colour in ACTIVITY_RAMP)
    rgb = (start + share * (end - start)).astype(np.uint8)
    rgb[cells == ACTIVITY_NODATA] = NO_DATA_GREY
    return rgb


def _rings(geom: shapely.Geometry) -> list:
    return [ring for polygon in getattr(geom, "geoms", [geom]) if polygon.geom_type == "Polygon"
            for ring in (polygon.exterior, *polygon.interiors)]


def _pixels(xy: np.ndarray, box: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = box
    return list(zip((xy[:, 0] - x0) / (x1 - x0) * CHIP_PX, (y1 - xy[:, 1]) / (y1 - y0) * CHIP_PX))


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
