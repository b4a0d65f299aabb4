"""Layer exports of published runs, for national mining agencies' own GIS (CLI and dashboard downloads).

`export_layer` writes one layer of a run, for the whole region or one country cut exactly at its border,
as GeoPackage (opens styled in QGIS), zipped Shapefile, GeoJSON (RFC 7946), CSV (WKT and lon/lat),
GeoParquet or Cloud-Optimized GeoTIFF, with a metadata sidecar `<file>.metadata.json` (run, date, source
attribution, caveats, country, CRS). A country is cut at the outline the run carries (`run_reference`: what
a published run was computed with, read from the run alone). See `formats` for what each format holds,
`clip` for the per-country rule, `shapefile_fields` for the 10-character field names and `sidecar` for the
metadata layout.
"""

from mrumonitor.export.formats import FORMATS, format_for_path, formats_for
from mrumonitor.export.layer import ExportResult, export_layer

__all__ = ["FORMATS", "ExportResult", "export_layer", "format_for_path", "formats_for"]
