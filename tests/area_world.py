"""A tiny published run for watched areas, subscriptions and deliveries, built by the tests (`write_area_run`).

Three square sites near the middle of the Guinea-Sierra Leone border line ``GIN-SLE`` of the default reference
layers (which the run carries, like a real one), in two periods:

- ``SLE-REG``: 8 km inside Sierra Leone, inside licence ``SL-L-0001`` (registered): its south half (50 ha) in
  2025H1, the whole 1 x 1 km square (100 ha) in 2025H2;
- ``SLE-BORDER``: about 500 m from the border in Sierra Leone, no licence, a 400 m square (16 ha) first seen in 2025H2;
- ``GIN-SITE``: 3 km inside Guinea, 1 x 1 km (100 ha) in both periods: registered in 2025H1, half of it inside the
  expired licence ``GN-L-0001`` in 2025H2.

Sierra Leone's cadastre has two snapshots (``SL-L-0002`` is only in the older one: not in force now), Guinea's one.
Two corridors cut from the border line (``SLE-GIN-004`` through the middle, ``SLE-GIN-005`` next to it), an admin
level ``district`` (``Kailahun`` on the Sierra Leone side, ``Gueckedou`` on the Guinea side), and five alerts of the
latest period (four announced, one not). Every figure is in the analysis CRS of the default configuration.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from mrumonitor.config import load_settings
from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.reference.layers import ReferenceLayers
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import ALERT_COLUMNS

AREA_RUN = "20260401T120000Z-a7e1"
PERIODS = ("2025H1", "2025H2")
#: The border line the world sits on, and the sentence a synthetic run's manifest carries.
BORDER_PAIR = "GIN-SLE"
SYNTHETIC_CAVEAT = "The national cadastres are SYNTHETIC demo data: fictitious licences and holders (test world)."

#: site -> (country, metres from the border along the normal into Sierra Leone (negative: into Guinea), side (m)).
SITES = {"SLE-REG": ("SLE", 8000.0, 1000.0), "SLE-BORDER": ("SLE", 700.0, 400.0), "GIN-SITE": ("GIN", -3000.0, 1000.0)}


def border_frame(reference: ReferenceLayers) -> tuple[shapely.LineString, shapely.Point, np.ndarray, float]:
    """The GIN-SLE line, its middle point, the unit normal pointing into Sierra Leone and the middle's distance
    along the line (metres, analysis CRS)."""
    line = shapely.line_merge(reference.borders.set_index("pair").geometry[BORDER_PAIR])
    if line.geom_type != "LineString":
        line = max(line.geoms, key=lambda part: part.length)
    along = line.length / 2
    middle, before, after = (line.interpolate(d) for d in (along, along - 100, along + 100))
    tangent = np.array([after.x - before.x, after.y - before.y])
    normal = np.array([-tangent[1], tangent[0]]) / np.hypot(*tangent)
    sle = reference.boundaries.set_index("iso3").geometry["SLE"]
    if not sle.contains(shapely.Point(middle.x + 2000 * normal[0], middle.y + 2000 * normal[1])):
        normal = -normal
    return line, middle, normal, along


def site_square(reference: ReferenceLayers, site_id: str, south_half: bool = False) -> shapely.Polygon:
    """The footprint of `site_id` (an axis-aligned square in the analysis CRS; its south half when asked)."""
    _, middle, normal, _ = border_frame(reference)
    _, offset, side = SITES[site_id]
    x, y = middle.x + offset * normal[0], middle.y + offset * normal[1]
    return shapely.box(x - side / 2, y - side / 2, x + side / 2, y if south_half else y + side / 2)


def write_area_run(store: Path, run_id: str = AREA_RUN, synthetic: bool = False) -> Path:
    """Write the area world as a published run of the layer store `store`, make it LATEST, return its folder.

    `synthetic` adds the SYNTHETIC caveat a demo run's manifest carries.
    """
    settings = load_settings()
    crs = settings.analysis_crs
    reference = ReferenceLayers.load(settings)
    line, middle, _, along = border_frame(reference)
    reference = _with_districts(reference, middle)
    folder = RunFolder(store / "runs" / run_id)
    folder.path.mkdir(parents=True)
    square = {site: site_square(reference, site) for site in SITES}
    layers = {
        "site_periods": _site_periods(reference, square, crs),
        "sites": _sites(square, crs),
        "site_registration": _site_registration(),
        "concessions": _concessions(square, crs),
        "border_corridors": _corridors(line, along, crs),
        "alerts": _alerts(square, run_id, crs),
    }
    entries = {}
    for name, frame in layers.items():
        frame.to_parquet(folder.layer(name))
        entries[name] = {"path": folder.relative(folder.layer(name)), "kind": "vector", "title": name,
                         "count": len(frame)}
    caveats = ([SYNTHETIC_CAVEAT] if synthetic else []) + ["A test world: three square sites.", DETECTIONS_CREDIT]
    manifest = {"run_id": run_id, "created": "2026-04-01T12:00:00Z", "previous_run": None, "layers": entries,
                "periods": [{"name": p, "start": f"2025-{m}-01", "end": f"2025-{e}", "layer": None}
                            for p, m, e in zip(PERIODS, ("01", "07"), ("06-30", "12-31"))],
                "caveats": caveats, "reference": reference.write(folder),
                "config": {"effective": settings.model_dump(mode="json")}}
    folder.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    (store / "runs" / "LATEST").write_text(run_id, encoding="utf-8")
    return folder.path


def _with_districts(reference: ReferenceLayers, middle: shapely.Point) -> ReferenceLayers:
    """The reference layers plus an admin level ``district``: a 40 km square around the border's middle, cut by
    Sierra Leone (Kailahun) and Guinea (Gueckedou)."""
    square = middle.buffer(20_000, cap_style="square")
    outlines = reference.boundaries.set_index("iso3").geometry
    districts = gpd.GeoDataFrame({"name": ["Kailahun", "Gueckedou"], "country": ["SLE", "GIN"]},
                                 geometry=[square.intersection(outlines[c]) for c in ("SLE", "GIN")],
                                 crs=reference.boundaries.crs)
    return dataclasses.replace(reference, admin={"district": districts})


def _site_periods(reference: ReferenceLayers, square: dict, crs) -> gpd.GeoDataFrame:
    rows = [("SLE-REG", PERIODS[0], site_square(reference, "SLE-REG", south_half=True), "registered", 1.0),
            ("SLE-REG", PERIODS[1], square["SLE-REG"], "registered", 1.0),
            ("SLE-BORDER", PERIODS[1], square["SLE-BORDER"], "no_licence", 0.0),
            ("GIN-SITE", PERIODS[0], square["GIN-SITE"], "registered", 1.0),
            ("GIN-SITE", PERIODS[1], square["GIN-SITE"], "registered", 0.5)]
    area = np.array([shape.area / 10_000 for _, _, shape, _, _ in rows])
    registered = np.array([share for *_, share in rows]) * area
    border_km = {"SLE-REG": 7.5, "SLE-BORDER": 0.5, "GIN-SITE": 2.5}
    return gpd.GeoDataFrame({
        "site_id": [r[0] for r in rows], "period": [r[1] for r in rows], "area_ha": area,
        "registration": [r[3] for r in rows],
        "licence_id": [{"SLE-REG": "SL-L-0001", "GIN-SITE": "GN-L-0001"}.get(r[0]) for r in rows],
        "registered_ha": registered, "unregistered_ha": area - registered,
        "dist_border_km": [border_km[r[0]] for r in rows], "border_pair": BORDER_PAIR,
        "corridor_id": "SLE-GIN-004", "nearest_post_id": None, "nearest_post_name": None, "dist_post_km": np.nan,
        "in_border_zone": True, "verification": None,
    }, geometry=[r[2] for r in rows], crs=crs)


def _site_registration() -> pd.DataFrame:
    """Each footprint's pieces by registration class (GIN-SITE's 2025H2: half registered, half expired)."""
    return pd.DataFrame({
        "site_id": ["SLE-REG", "SLE-REG", "SLE-BORDER", "GIN-SITE", "GIN-SITE", "GIN-SITE"],
        "period": [PERIODS[0], PERIODS[1], PERIODS[1], PERIODS[0], PERIODS[1], PERIODS[1]],
        "registration": ["registered", "registered", "no_licence", "registered", "registered", "expired_licence"],
        "licence_id": ["SL-L-0001", "SL-L-0001", None, "GN-L-0001", "GN-L-0001", "GN-L-0001"],
        "area_ha": [50.0, 100.0, 16.0, 100.0, 50.0, 50.0],
    })


def _sites(square: dict, crs) -> gpd.GeoDataFrame:
    area = [shape.area / 10_000 for shape in square.values()]
    return gpd.GeoDataFrame({
        "site_id": list(SITES), "country": [c for c, _, _ in SITES.values()],
        "countries": [c for c, _, _ in SITES.values()], "transboundary": False,
        "first_seen": [PERIODS[0], PERIODS[1], PERIODS[0]], "last_seen": PERIODS[1], "periods_seen": [2, 1, 2],
        "area_ha": area, "max_area_ha": area, "commodity": "diamond", "commodity_basis": "in_diamond_field",
        "registration": ["registered", "no_licence", "registered"],
        "licence_id": ["SL-L-0001", None, "GN-L-0001"], "registered_ha": [100.0, 0.0, 50.0],
        "unregistered_ha": [0.0, 16.0, 50.0], "border_pair": BORDER_PAIR, "corridor_id": "SLE-GIN-004",
        "unregistered_share": [0.0, 1.0, 0.5], "risk_score": [0.2, 0.9, 0.5],
    }, geometry=list(square.values()), crs=crs)


def _concessions(square: dict, crs) -> gpd.GeoDataFrame:
    """SL-L-0001 around SLE-REG in both Sierra Leone snapshots (the holder changed), SL-L-0002 only in the older
    one, GN-L-0001 (expired) around GIN-SITE's east half."""
    old, new, gin = (pd.Timestamp(day) for day in ("2025-01-01", "2025-10-01", "2025-06-01"))
    sle = square["SLE-REG"].centroid.buffer(1500, cap_style="square")
    gin_box = square["GIN-SITE"]
    rows = [("SL-L-0001", "SLE", "Old Holder Ltd", "active", "2027-01-01", old, sle),
            ("SL-L-0002", "SLE", "Gone Holder Ltd", "active", "2027-01-01", old, sle.buffer(500, cap_style="square")),
            ("SL-L-0001", "SLE", "Koidu Diamonds Ltd", "active", "2027-01-01", new, sle),
            ("GN-L-0001", "GIN", "Société Macenta", "expired", "2025-03-01", gin,
             shapely.box(gin_box.centroid.x, *gin_box.bounds[1:]))]
    return gpd.GeoDataFrame({
        "licence_id": [r[0] for r in rows], "country": [r[1] for r in rows], "holder": [r[2] for r in rows],
        "licence_type": "artisanal", "commodity": "diamond", "status": [r[3] for r in rows],
        "granted": pd.Timestamp("2024-01-01"), "expires": pd.to_datetime([r[4] for r in rows]),
        "geometry_repaired": False, "source_name": "test", "source_file": "test", "source_row": range(1, len(rows) + 1),
        "snapshot": [r[5] for r in rows],
    }, geometry=[r[6] for r in rows], crs=crs)


def _corridors(line: shapely.LineString, along: float, crs) -> gpd.GeoDataFrame:
    """Two 20 km corridors of the border line: SLE-GIN-004 centred on the world, SLE-GIN-005 right after it."""
    spans = [(along - 10_000, along + 10_000), (along + 10_000, along + 30_000)]
    return gpd.GeoDataFrame({
        "corridor_id": ["SLE-GIN-004", "SLE-GIN-005"], "border_pair": BORDER_PAIR, "scope": "mru",
        "near_places": ["Koindu, SLE, 4 km · Gueckedou, GIN, 12 km", "Buedu, SLE, 6 km · Nongoa, GIN, 9 km"],
        "from_km": [a / 1000 for a, _ in spans], "to_km": [b / 1000 for _, b in spans], "length_km": 20.0,
        "nearest_post_id": None, "nearest_post_name": None, "dist_post_km": np.nan, "sites": [3, 0],
        "active_ha": [216.0, 0.0], "unregistered_ha": [66.0, 0.0], "diamond_sites": [3, 0],
        "diamond_unregistered_ha": [66.0, 0.0], "rank": [1, 2],
    }, geometry=[shapely.ops.substring(line, a, b) for a, b in spans], crs=crs)


def _alerts(square: dict, run_id: str, crs) -> gpd.GeoDataFrame:
    """Alerts of 2025H2: new site and new unregistered border area at SLE-BORDER, growth at SLE-REG, a licence
    breach at GIN-SITE (announced), and an older breach at SLE-REG that is not announced."""
    rows = [("new_site", "SLE-BORDER", "medium", 16.0, 16.0, "no_licence", True),
            ("new_unregistered_border", "SLE-BORDER", "high", 16.0, 16.0, "no_licence", True),
            ("growth", "SLE-REG", "high", 100.0, 50.0, "registered", True),
            ("licence_breach", "GIN-SITE", "low", 100.0, 50.0, "expired_licence", True),
            ("licence_breach", "SLE-REG", "low", 100.0, 0.0, "registered", False)]
    country = {site: c for site, (c, _, _) in SITES.items()}
    frame = gpd.GeoDataFrame({
        "alert_id": [hashlib.sha1(f"{k}|{s}|{PERIODS[1]}".encode()).hexdigest()[:16] for k, s, *_ in rows],
        "kind": [r[0] for r in rows], "site_id": [r[1] for r in rows], "country": [country[r[1]] for r in rows],
        "period": PERIODS[1], "confidence": [r[2] for r in rows], "evidence": "test world",
        "area_ha": [r[3] for r in rows], "change_ha": [r[4] for r in rows], "registration": [r[5] for r in rows],
        "licence_id": None, "border_pair": BORDER_PAIR, "corridor_id": "SLE-GIN-004",
        "first_run": [run_id if r[6] else "20260101T000000Z-0000" for r in rows],
        "new_in_run": [r[6] for r in rows], "announce": [r[6] for r in rows],
        "message": [f"{r[0]} at {r[1]}" for r in rows],
    }, geometry=[square[r[1]].representative_point() for r in rows], crs=crs)
    return frame.astype({column: dtype for column, dtype in ALERT_COLUMNS.items()})
