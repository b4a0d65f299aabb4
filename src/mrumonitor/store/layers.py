"""The layers a run publishes: what each one is (the registry), and how a run folder's files are described.

A run folder holds its layers flat (`mrumonitor.runfolder`): vectors and tables as (Geo)Parquet, activity
rasters as COGs (scene areas under ``areas/``).
`describe_layers` turns the files of a folder into the ``layers`` entry of the manifest, reading only
their metadata (Parquet footers, GeoTIFF headers) and their bytes for the checksum.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import rasterio
from pyproj import CRS
from rasterio.warp import transform_bounds

from mrumonitor.i18n import N_
from mrumonitor.manifest import RunManifest
from mrumonitor.runfolder import RunFolder, is_activity_layer
from mrumonitor.store.checksum import sha256_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayerInfo:
    """What a layer is, for the manifest and the people who read it.

    Attributes
    ----------
    title, description
        Shown with the layer (dashboard legend, export metadata).
    caveat
        A sentence that goes with the figures of this layer; published (in English, marked for the catalogue)
        in the run's caveats when the run holds the layer.
    """

    title: str
    description: str
    caveat: str | None = None


#: Vector and table layers, by name (the file is `RunFolder.layer(name)`). Keep in step with the stages.
REGISTRY: dict[str, LayerInfo] = {
    "concessions": LayerInfo(
        "Mining licences",
        "Every usable licence of the national cadastres in the canonical schema: licence_id, country, holder, "
        "licence_type, commodity, status, granted, expires, the file and row it came from, and the snapshot "
        "(export day) of its cadastre. A country loaded as several dated snapshots has one record per licence "
        "and snapshot: the licences now are its newest snapshot plus the records of sources without a date."),
    "quarantine": LayerInfo(
        "Quarantined cadastre records",
        "Every cadastre record that could not be used, with its source file, row, the reason and what to fix."),
    "sites": LayerInfo(
        "Mining sites",
        "One row per mining site, with an id that is stable across periods and runs, its footprint in the last "
        "period it was seen, its countries and, once analysed, its registration, border distances and risk.",
        caveat=N_("A site is a ground scar that a model or the built-in detector flagged from satellite imagery, "
                  "not a mining operation verified on the ground.")),
    "site_periods": LayerInfo(
        "Mining site footprints per period",
        "The footprint and area of each site in each period it was seen."),
    "site_country_areas": LayerInfo(
        "Site area per country and period",
        "Each site's area per period split between countries (\"\" = outside every country outline); summing "
        "by country counts a transboundary site once."),
    "activity_quarantine": LayerInfo(
        "Quarantined activity records",
        "Every activity input record (a detection) that could not be used, with its file, row and reason."),
    "site_registration": LayerInfo(
        "Site registration",
        "Each site's registration class against the licences valid on its period's observation day: registered, "
        "no licence, expired licence, exploration only, wrong commodity or suspended."),
    "licence_snapshots": LayerInfo(
        "Cadastre snapshot per period",
        "Per period and country, the cadastre snapshot its licences were judged from: the newest snapshot on or "
        "before the observation day (basis snapshot); the earliest, by the licences' grant and expiry dates only, "
        "for a period older than every snapshot (dates_only); sources without a snapshot date (undated); or none. "
        "With the number of licence records in force and a note in plain words; the run's caveats name every "
        "period judged from the dates only."),
    "border_corridors": LayerInfo(
        "Border corridors",
        "Segments of each international border, ranked within their scope (mru: between two of the four countries "
        "of the KP Regional Approach; external: with any other country) by the unregistered area of diamond sites "
        "in the border zone next to them, then of every commodity, then by their distance to an official crossing; "
        "named by the nearest towns on each side and the nearest crossing.",
        caveat=N_("Border post positions are approximate (town positions from public maps snapped to the derived "
                  "border lines): distances to a crossing are good to a few kilometres.")),
    "corridor_periods": LayerInfo(
        "Border corridors per period",
        "The figures of each border corridor in each period and commodity: unregistered active area and sites in "
        "its border zone."),
    "registration_summary": LayerInfo(
        "Registration summary",
        "Active mining area and site counts per country, period and registration class."),
    "capacity": LayerInfo(
        "Estimated production capacity",
        "Production capacity per country and year estimated from newly mined diamond area: the median and the "
        "5-95 % interval of Monte Carlo draws of the parameters, a partial year marked so, against the production "
        "declared to the Kimberley Process.",
        caveat=N_("Production capacity is estimated from mined area with broad yield assumptions (ILLUSTRATIVE where no "
                  "survey figure is configured, as the capacity parameters say): read it as an order of magnitude, "
                  "never as a measured or declared figure.")),
    "gaps": LayerInfo(
        "Observation gaps",
        "Per period, the parts of each country with no valid observation in the activity layer (no data: clouds, "
        "no scene, outside every input), with their area in hectares: activity there is unknown, not absent."),
    "capacity_parameters": LayerInfo(
        "Production capacity parameters",
        "The parameters each country's capacity estimate used: low, central and high values, their distribution "
        "and their source (ILLUSTRATIVE where no survey figure is configured)."),
    "capacity_stock": LayerInfo(
        "Mined area before monitoring began",
        "Per country, the diamond area already dug by the end of the first period: stock, given to no year of the "
        "capacity estimate."),
    "alerts": LayerInfo(
        "Alerts",
        "What changed in each period against the one before, per site: a new site, growth, new unregistered area in "
        "the border zone, activity inside a licence of the wrong kind or an expired one, a verified site resuming; "
        "each with a confidence level from its evidence, a stable id (the same change keeps its id in every run) "
        "and whether this run raised it first (new_in_run).",
        caveat=N_("An alert is a change seen from satellite between two observations, a reason to look, not a finding: "
                  "its confidence says how much evidence it rests on.")),
    "kp_anomalies": LayerInfo(
        "Kimberley Process anomalies",
        "Countries and years where the estimated capacity and the declared production disagree beyond the "
        "uncertainty of the estimate.",
        caveat=N_("An anomaly compares an order-of-magnitude estimate with a declaration: it is a reason to look "
                  "closer, not evidence of leakage.")),
    "verification_visits": LayerInfo(
        "Field visits",
        "Every field visit of the verification ledger the run read: site, date, team, outcome (active mining, "
        "inactive mining, not mining, licensed, inaccessible), commodity and licence seen, notes, photo file names, "
        "who entered it, at the GPS point of the visit (else the site)."),
    "verification_estimates": LayerInfo(
        "Accuracy and area estimates",
        "From each field-verified stratified sample: the precision of the detections, the user's accuracy of each "
        "registration class, and the mined and unregistered areas adjusted for the errors found, each with its 95 % "
        "confidence interval (Olofsson et al. 2014); where too few sites were verified, how many more are needed.",
        caveat=N_("Accuracies and area estimates hold for the period and the map their sample was drawn from; an "
                  "estimate from too few verified sites is not shown.")),
    "verification_feedback": LayerInfo(
        "What field visits changed",
        "Per site and period: a verified false positive kept out of the unregistered totals, a site found licensed "
        "re-classed as registered, a verified site confirmed, or missed by the detector in a later period."),
    "threshold_report": LayerInfo(
        "Detection threshold against field checks",
        "For each activity threshold (percent), how the verified sites would have been classed: true and false "
        "positives, misses, precision, recall and F1; the best threshold is marked."),
}

#: Raster layers: ``activity_<period>`` (regional grid) and ``activity_<area>_<period>`` (scene areas).
ACTIVITY = LayerInfo(
    "Mining activity",
    "Share of each cell under mining activity in the period, in percent (0-100; 255 = no valid observation), "
    "as a Cloud-Optimized GeoTIFF.")


def describe_layers(run_dir: Path, previous: Path | None = None) -> dict[str, dict]:
    """The ``layers`` entry of a manifest: every layer file of `run_dir`, by layer name.

    Each entry has path (relative to `run_dir`), kind (vector | table | raster), title, description, crs
    (an authority code such as ``EPSG:4326``, else WKT2; None for a table), bytes and sha256; vectors and
    tables add count (rows) and columns, vectors geometry_types; rasters add width, height, resolution,
    bounds (in their CRS), bbox_wgs84, period, period_start, period_end and area (scene areas only).

    `previous` is the folder of the previous run: a layer file that is that run's very file (hard-linked by
    an incremental run: same inode) keeps the SHA-256 its manifest recorded, without being read again.
    """
    folder = RunFolder(run_dir)
    known = _published_checksums(previous)
    return {path.stem: {"path": folder.relative(path), **describe(path), "bytes": path.stat().st_size,
                        "sha256": _checksum(path, folder, previous, known)}
            for paths, describe in ((folder.tables(), _table), (folder.rasters(), _raster)) for path in paths}


def _published_checksums(previous: Path | None) -> dict[str, str]:
    """Relative path -> SHA-256 of the layers the previous run's manifest lists ({} when there is none)."""
    layers = RunManifest.previous(previous).layers
    return {layer["path"]: layer["sha256"] for layer in layers.values() if "path" in layer and "sha256" in layer}


def _checksum(path: Path, folder: RunFolder, previous: Path | None, known: dict[str, str]) -> str:
    relative = folder.relative(path)
    if relative in known and (previous / relative).exists() and (previous / relative).samefile(path):
        return known[relative]
    return sha256_file(path)


def layer_caveats(layers: dict[str, dict]) -> list[str]:
    """The caveats of the registered layers present in `layers`, in registry order."""
    return [info.caveat for name, info in REGISTRY.items() if info.caveat and name in layers]


def _info(name: str) -> LayerInfo:
    if is_activity_layer(name) and name not in REGISTRY:
        return ACTIVITY
    if name not in REGISTRY:
        log.warning("layer %s is not in the layer registry (mrumonitor.store.layers); published without a "
                    "description", name)
    return REGISTRY.get(name, LayerInfo(name, ""))


def _table(path: Path) -> dict:
    metadata = pq.read_metadata(path)
    geo = json.loads((metadata.metadata or {}).get(b"geo", b"null"))
    info = _info(path.stem)
    layer = {"kind": "vector" if geo else "table", "title": info.title,
             "description": info.description, "crs": None, "count": metadata.num_rows,
             "columns": list(metadata.schema.to_arrow_schema().names)}
    if geo:
        column = geo["columns"][geo["primary_column"]]
        # GeoParquet: a column without "crs" is in OGC:CRS84
        layer["crs"] = _crs_text(CRS.from_json_dict(column["crs"]) if column.get("crs") else CRS("OGC:CRS84"))
        layer["geometry_types"] = column.get("geometry_types", [])
    return layer


def _raster(path: Path) -> dict:
    with rasterio.open(path) as dataset:
        tags, crs, bounds = dataset.tags(), CRS.from_user_input(dataset.crs.to_wkt()), dataset.bounds
        layer = {"kind": "raster", "crs": _crs_text(crs), "width": dataset.width,
                 "height": dataset.height, "resolution": dataset.res[0], "dtype": dataset.dtypes[0],
                 "nodata": dataset.nodata, "bounds": list(bounds),
                 "bbox_wgs84": list(transform_bounds(dataset.crs, "EPSG:4326", *bounds, densify_pts=21))}
    period = tags.get("PERIOD")
    area = tags.get("AREA")
    info = _info(path.stem)
    title = f"{info.title} {period}" + (f", scene area {area}" if area else "") if period else info.title
    layer.update(title=title, description=info.description, period=period, period_start=tags.get("PERIOD_START"),
                 period_end=tags.get("PERIOD_END"))
    if area:
        layer["area"] = area
    return layer


def _crs_text(crs: CRS) -> str:
    authority = crs.to_authority()
    return ":".join(authority) if authority else crs.to_wkt()
