"""Credits the data the platform ships ask for; quoted wherever their figures are shown or exported."""

#: The mining detections (CC BY 4.0): every demo run derives its sites and activity from them.
DETECTIONS_CREDIT = (
    "Mining detections. Code for Africa and Earth Genome, Africa Mining Watch, 2026. "
    "Derived from Earth Index mining detections (Earth Genome). CC BY 4.0."
)
