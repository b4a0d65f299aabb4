"""Credits the data the platform ships ask for; quoted wherever their figures are shown or exported (in English,
as their licences word them; marked for the catalogue, so a French page shows them in French)."""

from mrumonitor.i18n import N_

#: The mining detections (CC BY 4.0): every demo run derives its sites and activity from them.
DETECTIONS_CREDIT = N_(
    "Mining detections. Code for Africa and Earth Genome, Africa Mining Watch, 2026. "
    "Derived from Earth Index mining detections (Earth Genome). CC BY 4.0."
)

#: The committed commodity zones (layers/reference/commodity_zones.geojson): drawn from the texts cited per
#: area in diamond_fields_source.csv, around GeoNames positions (CC BY 4.0).
COMMODITY_ZONES_CREDIT = N_(
    "Diamond fields and gold belts: drawn for mrumonitor from the published descriptions cited per area "
    "(layers/reference/diamond_fields_source.csv; USGS reports are public domain). "
    "Positions: GeoNames (geonames.org), CC BY 4.0."
)
