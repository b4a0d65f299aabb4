"""The metadata sidecar of every export: `<export file name>.metadata.json`, next to the export.

It says what the file is and where it comes from, in UTF-8 JSON a person can read::

    {
      "metadata_version": 1,
      "file": "sites_SLE.gpkg",          # the export it describes
      "format": "gpkg", "format_title": "GeoPackage",
      "layer": {"name", "title", "description", "kind", "period" (rasters)},
      "count": 42,                      # features or rows exported (vectors and tables)
      "columns": {"site_id": {"en": "...", "fr": "..."}},   # each attribute column by its canonical name,
                                        # described in every language (vectors and tables; see store.columns)
      "size": [width, height],          # pixels (rasters)
      "country": "SLE" or null,         # the per-country filter
      "clipping": "...",                # how the country was cut out (null without a country)
      "crs": {"name", "code" (e.g. "EPSG:4326", or null), "wkt"} or null (tables),
      "run": {"run_id", "created"},
      "exported": "2026-03-01T12:00:00Z",
      "software": "mrumonitor 0.1.0",
      "attribution": ["..."],           # every source credit, the mining detections' always
      "caveats": ["..."],               # from the run
      "accuracy": {...},                # the run's field-checked accuracy (see `accuracy_section`)
      "shapefile_fields": [{"column", "field", "conversion"}]   # Shapefile exports only
    }
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pyproj import CRS

from mrumonitor import __version__
from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.export.source import LayerSource
from mrumonitor.layerio import written_aside
from mrumonitor.store.columns import column_descriptions

#: Version of the sidecar layout; raised when a key changes meaning.
METADATA_VERSION = 1

#: How each kind of layer is cut to one country (see `export.clip`).
CLIPPING = {
    "vector": "Geometries intersected with the country's consistent outline: features outside dropped, features "
              "crossing the border cut there, keeping the part inside (column 'clipped' true). area_ha of a cut "
              "feature is the area of the part inside; other columns describe the whole feature.",
    "table": "Rows whose 'country' column is the country.",
    "raster": "Window of the layer's grid over the country's bounding box; pixels whose centre lies outside "
              "the country's consistent outline set to no data (255).",
}


def sidecar_path(out: Path) -> Path:
    """Where the sidecar of the export `out` goes."""
    return out.with_name(f"{out.name}.metadata.json")


def describe_crs(crs: Any) -> dict[str, Any]:
    """Name (`crs_name`), authority code ("EPSG:4326"; null for a custom CRS such as the regional Albers) and WKT
    of a CRS."""
    crs = CRS.from_user_input(crs)
    authority = crs.to_authority()
    return {"name": crs_name(crs), "code": ":".join(authority) if authority else None, "wkt": crs.to_wkt()}


#: The names PROJ gives a CRS defined by its parameters alone.
_UNNAMED = ("unknown", "unnamed", "")


def crs_name(crs: Any) -> str:
    """A CRS's name; for a custom one PROJ calls "unknown" (the regional Albers), its projection, datum and
    non-zero parameters instead: "Albers Equal Area, WGS 84 (Latitude of false origin 8.5°, ...)"."""
    crs = CRS.from_user_input(crs)
    operation = crs.coordinate_operation
    if crs.name not in _UNNAMED or operation is None:
        return crs.name
    units = {"degree": "°", "metre": " m"}
    params = ", ".join(f"{param.name} {round(param.value, 6):g}{units.get(param.unit_name, ' ' + param.unit_name)}"
                       for param in operation.params if param.value)
    datum = crs.datum.name if crs.datum and crs.datum.name not in _UNNAMED else crs.ellipsoid.name
    return f"{operation.method_name}, {datum}" + (f" ({params})" if params else "")


def now_text() -> str:
    """The current UTC time as ISO 8601 text to the second, e.g. "2026-03-01T12:00:00Z"."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_sidecar(manifest: dict[str, Any], source: LayerSource, fmt: str, format_title: str, out: Path,
                  country: str | None, exported: str, details: dict[str, Any]) -> dict[str, Any]:
    """The sidecar content of one export; `details` are what the writer adds (crs, count, columns, size, fields),
    its column names turned into their descriptions in every language."""
    if "columns" in details:
        details = {**details, "columns": column_descriptions(source.name, details["columns"])}
    layer = {"name": source.name, "kind": source.kind, "title": source.entry.get("title", source.name),
             "description": source.entry.get("description", "")}
    if "period" in source.entry:
        layer["period"] = source.entry["period"]
    return {
        "metadata_version": METADATA_VERSION,
        "file": out.name,
        "format": fmt,
        "format_title": format_title,
        "layer": layer,
        "country": country,
        "clipping": CLIPPING[source.kind] if country else None,
        "crs": None,
        **details,
        "run": {"run_id": manifest.get("run_id"), "created": manifest.get("created")},
        "exported": exported,
        "software": f"mrumonitor {__version__}",
        "attribution": _attribution(manifest),
        "caveats": list(manifest.get("caveats") or []),
        "accuracy": accuracy_section(manifest),
    }


#: The sidecar's accuracy section of a run without field verification.
NOT_MEASURED = {"measured": False, "note": "no field verification in this run"}


def accuracy_section(manifest: dict[str, Any]) -> dict[str, Any]:
    """What field verification measured of the run's map, from its manifest's ``verification`` section.

    With a verified sample: ``{"measured": true, "sample_id", "sample_run", "period", "n", "n_verified",
    "headline": {quantity: {"estimate", "ci_low", "ci_high", ...} or {"status": "too_few", "message"}},
    "samples": [every sample the run estimated, newest last], "ledger": {visits, samples, digest...}}``, the
    headline being the newest sample's (the figures the dashboard shows next to its KPIs). Without one:
    `NOT_MEASURED` (a run published before field verification, or none verified yet, said so in `note`).
    """
    section = manifest.get("verification")
    if not isinstance(section, dict) or not section:
        return dict(NOT_MEASURED)
    samples = [entry for entry in section.get("samples") or [] if isinstance(entry, dict)]
    if not samples:
        return {**NOT_MEASURED, "note": "no field verification yet: no sample of this run's sites was verified "
                                        "when it was published", "ledger": section.get("ledger")}
    latest = samples[-1]
    return {"measured": True, "sample_id": latest.get("sample_id"), "sample_run": latest.get("run_id"),
            "period": latest.get("period"), "n": latest.get("n"), "n_verified": latest.get("n_verified"),
            "headline": latest.get("headline") or {}, "samples": samples, "ledger": section.get("ledger"),
            "method": "stratified estimators of Olofsson et al. (2014), 95 % confidence intervals"}


def _attribution(manifest: dict[str, Any]) -> list[str]:
    """The credits the run's manifest lists under `attribution` (a text or a list), then the detections'."""
    given = manifest.get("attribution") or []
    return list(dict.fromkeys([*([given] if isinstance(given, str) else given), DETECTIONS_CREDIT]))


def sidecar_text(content: dict[str, Any]) -> str:
    """The sidecar as indented UTF-8 JSON (accents kept as they are)."""
    return json.dumps(content, ensure_ascii=False, indent=2) + "\n"


def write_sidecar(content: dict[str, Any], out: Path) -> Path:
    """Write the sidecar of the export `out`, atomically; return its path."""
    path = sidecar_path(out)
    with written_aside(path) as partial:
        partial.write_text(sidecar_text(content), encoding="utf-8")
    return path
