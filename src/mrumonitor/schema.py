"""Canonical layer schemas: the column names, types and vocabularies every stage agrees on.

See DESIGN.md ("Canonical layers"). The readers harmonise national files into these; the analysis, the store
and the dashboard read only these.
"""

from __future__ import annotations

from enum import StrEnum

#: Countries of the Mano River Union covered by the KP Regional Approach (ISO 3166-1 alpha-3).
MRU_COUNTRIES = ("SLE", "GIN", "LBR", "CIV")

LICENCE_TYPES = ("artisanal", "small_scale", "large_scale", "exploration", "reconnaissance", "other")
COMMODITIES = ("diamond", "gold", "other")
LICENCE_STATUSES = ("active", "expired", "suspended", "pending", "unknown")

#: Licence types that allow production; exploration and reconnaissance do not.
PRODUCTION_LICENCE_TYPES = ("artisanal", "small_scale", "large_scale")

#: Columns of the `concessions` layer, in order, with their pandas dtypes (geometry last). `snapshot` is the day
#: the record's cadastre was exported (``sources.<name>.snapshot``), NaT for a source that states none: the
#: layer keeps every snapshot of a country (`ingest.snapshots.current_licences` gives the licences now).
CONCESSION_COLUMNS: dict[str, str] = {
    "licence_id": "string",
    "country": "string",
    "holder": "string",
    "licence_type": "string",
    "commodity": "string",
    "status": "string",
    "granted": "datetime64[ms]",
    "expires": "datetime64[ms]",
    "geometry_repaired": "bool",
    "source_name": "string",
    "source_file": "string",
    "source_row": "int64",
    "snapshot": "datetime64[ms]",
}

#: Columns of the `quarantine` layer: every input record that could not be used, and why.
QUARANTINE_COLUMNS: dict[str, str] = {
    "layer": "string",
    "source_name": "string",
    "country": "string",
    "source_file": "string",
    "source_row": "int64",
    "record_id": "string",
    "reason": "string",
    "detail": "string",
    "attributes": "string",
}


class Reason(StrEnum):
    """Why a record went to quarantine. The value is the code stored in the `reason` column."""

    UNPARSEABLE_GEOMETRY = "unparseable_geometry"
    EMPTY_GEOMETRY = "empty_geometry"
    NOT_POLYGON = "not_polygon"
    INVALID_GEOMETRY = "invalid_geometry"
    OUTSIDE_COUNTRY = "outside_country"
    MISSING_LICENCE_ID = "missing_licence_id"
    UNKNOWN_LICENCE_TYPE = "unknown_licence_type"
    UNKNOWN_COMMODITY = "unknown_commodity"
    UNKNOWN_STATUS = "unknown_status"
    UNPARSEABLE_DATE = "unparseable_date"
    EXPIRY_BEFORE_GRANT = "expiry_before_grant"
    DUPLICATE_LICENCE_ID = "duplicate_licence_id"
    CONFLICTING_LICENCE_ID = "conflicting_licence_id"
    INVALID_AREA = "invalid_area"
    INVALID_PROBABILITY = "invalid_probability"


# --- activity rasters and sites (mrumonitor detect) ---------------------------------------------------

#: Activity layers: uint8 activity probability in percent, 0-100; this value means "no data" (no valid
#: observation), which is never the same as 0 ("observed, no activity").
ACTIVITY_DTYPE = "uint8"
ACTIVITY_NODATA = 255
ACTIVITY_MAX = 100

#: Columns of the `sites` layer written by detection (the analysis adds registration and leakage columns).
SITE_COLUMNS: dict[str, str] = {
    "site_id": "string",
    "country": "string",
    "countries": "string",
    "transboundary": "bool",
    "first_seen": "string",
    "last_seen": "string",
    "periods_seen": "int64",
    "area_ha": "float64",
    "max_area_ha": "float64",
}

#: Lineage columns of `sites`: a site absorbed by another keeps its rows and names the absorber in
#: `merged_into` (count current sites with `merged_into.isna()`); a part split off names its origin.
SITE_LINEAGE_COLUMNS: dict[str, str] = {"merged_into": "string", "split_from": "string"}

#: `site_periods`: one row per site and period it was seen in, with that period's footprint.
SITE_PERIOD_COLUMNS: dict[str, str] = {
    "site_id": "string",
    "period": "string",
    "area_ha": "float64",
}

#: `site_country_areas`: a site's area in each period split between the countries it lies in; summing
#: area_ha by country never counts a transboundary site twice. Country "" is area outside every outline
#: (sea, or beyond the region); it is never given to a country it may not be in, so `sites.country` can be "".
SITE_COUNTRY_AREA_COLUMNS: dict[str, str] = {
    "site_id": "string",
    "period": "string",
    "country": "string",
    "area_ha": "float64",
}


# --- analysis (mrumonitor analyse) ---------------------------------------------------------------------

#: Registration classes of activity, in order of precedence: where licences overlap, a piece of a site takes
#: the first class any of them gives it (the licence nearest to a valid production right wins).
#: "not_assessed" is unlicensed activity outside the project countries, where no cadastre is held;
#: "verified_not_mining" is a site a field team found not to be mining (a false positive of the detector,
#: `mrumonitor.analysis.feedback`): it is counted as such, never as production.
REGISTRATION_CLASSES = ("registered", "expired_licence", "suspended", "wrong_commodity", "exploration_only",
                        "no_licence", "not_assessed", "verified_not_mining")
#: The class of a site the field found not to be mining (`mrumonitor.analysis.feedback`).
NOT_MINING_CLASS = "verified_not_mining"
#: The classes that are unregistered production ("registered", "not_assessed" and "verified_not_mining" are not).
UNREGISTERED_CLASSES = ("expired_licence", "suspended", "wrong_commodity", "exploration_only", "no_licence")

#: How the licences of a country were judged in a period (`licence_snapshots`): from the snapshot in force on
#: the observation day; from the earliest snapshot's dates only (the period is older than every snapshot); from
#: sources that state no snapshot date only; or not at all (the country has no licence records).
LICENCE_BASES = ("snapshot", "dates_only", "undated", "none")

#: `licence_snapshots`: per period and project country, the cadastre snapshot its licences were judged from
#: (NaT for none), on which basis (LICENCE_BASES), how many licence records that made, and a sentence saying so.
LICENCE_SNAPSHOT_COLUMNS: dict[str, str] = {
    "period": "string",
    "country": "string",
    "observed": "datetime64[ms]",
    "snapshot": "datetime64[ms]",
    "basis": "string",
    "licences": "int64",
    "note": "string",
}

#: `site_registration`: each site's footprint in each period cut into pieces by registration class and
#: licence (licence_id empty where no licence covers the piece); areas sum to the footprint's area.
SITE_REGISTRATION_COLUMNS: dict[str, str] = {
    "site_id": "string",
    "period": "string",
    "registration": "string",
    "licence_id": "string",
    "area_ha": "float64",
}

#: Columns the analysis adds to `site_periods` (one value per site and period).
SITE_PERIOD_ANALYSIS_COLUMNS: dict[str, str] = {
    "registration": "string",
    "licence_id": "string",
    "registered_ha": "float64",
    "unregistered_ha": "float64",
    "dist_border_km": "float64",
    "border_pair": "string",
    "corridor_id": "string",
    "nearest_post_id": "string",
    "nearest_post_name": "string",
    "dist_post_km": "float64",
    "in_border_zone": "bool",
    "verification": "string",
}

#: How a site's commodity was decided (`mrumonitor.analysis.commodity`): its representative point lies in a
#: mapped alluvial diamond field, within `analysis.near_field_km` of one, in a gold belt, or in none of them
#: (then the commodity is `analysis.commodity_default`, an assumption).
COMMODITY_BASES = ("in_diamond_field", "near_diamond_field", "gold_belt", "unknown")

#: Columns the analysis adds to `sites` (values of the last period the site was seen in, plus the score).
SITE_ANALYSIS_COLUMNS: dict[str, str] = {
    "commodity": "string",
    "commodity_basis": "string",
    **SITE_PERIOD_ANALYSIS_COLUMNS,
    "unregistered_share": "float64",
    "risk_score": "float64",
}

#: `border_corridors`: each border line cut into segments, with the activity of the border zone next to
#: each in the last period, ranked. near_places names the town nearest to the corridor's midpoint on each side
#: ("Gueckedou, GIN, 53 km · Kailahun, SLE, 6 km"; `analysis.corridors.near_places`). scope is one of
#: BORDER_SCOPES; rank runs within a scope, so an external border never enters the MRU ranking. diamond_* are the
#: figures of the diamond sites alone (the KP commodity), the others of every commodity.
CORRIDOR_COLUMNS: dict[str, str] = {
    "corridor_id": "string",
    "border_pair": "string",
    "scope": "string",
    "near_places": "string",
    "from_km": "float64",
    "to_km": "float64",
    "length_km": "float64",
    "nearest_post_id": "string",
    "nearest_post_name": "string",
    "dist_post_km": "float64",
    "sites": "int64",
    "active_ha": "float64",
    "unregistered_ha": "float64",
    "diamond_sites": "int64",
    "diamond_unregistered_ha": "float64",
    "rank": "int64",
}

#: Which borders a corridor runs along: "mru" between two of the four countries of the KP Regional Approach
#: (the project countries), "external" between one of them and any other country (Côte d'Ivoire–Ghana...).
BORDER_SCOPES = ("mru", "external")

#: `corridor_periods`: the same figures for every period (trend per corridor), per commodity of the sites.
CORRIDOR_PERIOD_COLUMNS: dict[str, str] = {
    "corridor_id": "string",
    "period": "string",
    "commodity": "string",
    "sites": "int64",
    "active_ha": "float64",
    "unregistered_ha": "float64",
}

#: `registration_summary`: active area per period, area (country, or admin area of a configured level) and
#: registration class. A transboundary site's area is split between its countries, never counted twice.
REGISTRATION_SUMMARY_COLUMNS: dict[str, str] = {
    "level": "string",
    "area": "string",
    "country": "string",
    "period": "string",
    "registration": "string",
    "area_ha": "float64",
    "sites": "int64",
}


# --- production capacity vs declared Kimberley Process figures (mrumonitor analyse) ---------------------

#: `capacity`: one row per country and year with imagery or a declared KP figure. Estimates are carats a
#: year from the newly mined area of sites of the capacity commodity (volume x grade) and, where configured,
#: from the number of miners; NaN where not estimated. Declared figures are NaN where not known.
#: `mined_area_ha` is the area dug within the year's observed days; `annual_area_ha` the yearly rate: the area
#: dug over the 12 months to the year's last observed day (scaled up only where fewer days were observed).
#: `*_p05` / `*_p95` are the 5th / 95th percentile of `draws` Monte Carlo draws (seeded with `seed`) of the
#: parameters, `*_central` their median; `draws` is 0 where nothing was estimated.
CAPACITY_COLUMNS: dict[str, str] = {
    "country": "string",
    "year": "int64",
    "days_observed": "int64",
    "partial_year": "bool",
    "mined_area_ha": "float64",
    "annual_area_ha": "float64",
    "volume_carats_p05": "float64",
    "volume_carats_central": "float64",
    "volume_carats_p95": "float64",
    "miners_carats_p05": "float64",
    "miners_carats_central": "float64",
    "miners_carats_p95": "float64",
    "draws": "int64",
    "seed": "int64",
    "declared_production_carats": "float64",
    "declared_production_usd": "float64",
    "declared_export_carats": "float64",
    "declared_export_usd": "float64",
    "declared_illustrative": "boolean",
    "declared_source": "string",
    "declared_to_estimate": "float64",
    "caveats": "string",
}

#: `capacity_stock`: the area already dug when monitoring began (by the end of the first period), by country.
CAPACITY_STOCK_COLUMNS: dict[str, str] = {"country": "string", "period": "string", "area_ha": "float64"}

#: `capacity_parameters`: the parameters each country's estimate used, how their low, central and high values
#: are read (`distribution`: lognormal | split_lognormal, as 5th percentile / median / 95th percentile; pert, as
#: least / most likely / greatest), with their sources.
CAPACITY_PARAMETER_COLUMNS: dict[str, str] = {
    "country": "string",
    "method": "string",
    "parameter": "string",
    "low": "float64",
    "central": "float64",
    "high": "float64",
    "distribution": "string",
    "source": "string",
}

#: `kp_anomalies`: one row per flag raised on a declared KP figure: the figure, what it was compared with
#: (reference), figure / reference, the unit of both, which figures were compared (`compared`: the country-years
#: and their sources, e.g. "SLE 2019 production (KP statistics) with GIN, LBR 2017-2021 production"), and a message
#: in plain words.
KP_ANOMALY_COLUMNS: dict[str, str] = {
    "country": "string",
    "year": "int64",
    "flag": "string",
    "figure": "float64",
    "reference": "float64",
    "ratio": "float64",
    "unit": "string",
    "illustrative": "bool",
    "compared": "string",
    "message": "string",
}


# --- field verification (mrumonitor.verification) ----------------------------------------------------------

#: What a field team found at a site. `not_mining`: the detection is a false positive; `licensed`: mining
#: under a licence the map did not know (the registration class was wrong); `inaccessible`: not seen.
VISIT_OUTCOMES = ("active_mining", "inactive_mining", "not_mining", "licensed", "inaccessible")
#: Outcomes that say what the site is (an `inaccessible` visit says nothing, and never outweighs one that does).
CONCLUSIVE_OUTCOMES = ("active_mining", "inactive_mining", "not_mining", "licensed")
#: Outcomes that confirm a mined area (the reference class "mining" of the estimates).
MINING_OUTCOMES = ("active_mining", "inactive_mining", "licensed")
#: What a team may record as the commodity seen on site ("none": nothing mined there).
COMMODITIES_SEEN = (*COMMODITIES, "none", "unknown")

#: `verification_visits` (the ledger's visits as the run read them) and the ledger's own table: one row per
#: visit, append-only. visit_id is the form's submission id (ODK `instanceID`, Kobo `_uuid`) or one the
#: ledger gives; photos is a JSON list of file names; lon/lat WGS84 (NaN without a GPS point).
VISIT_COLUMNS: dict[str, str] = {
    "visit_id": "string",
    "site_id": "string",
    "country": "string",
    "visited_on": "datetime64[ms]",
    "team": "string",
    "outcome": "string",
    "commodity_seen": "string",
    "licence_seen": "string",
    "notes": "string",
    "lon": "float64",
    "lat": "float64",
    "photos": "string",
    "entered_by": "string",
    "entered_at": "datetime64[ms]",
    "source": "string",
    "synthetic": "bool",
}

#: `verification_estimates`: the estimates of one sample (`sample_id`, drawn from run `sample_run` and its
#: `period`). scope is "overall", "stratum" (stratum = its key, e.g. "no_licence|SLE") or "class" (stratum =
#: a registration class). quantity: detection_precision, user_accuracy (proportions 0-1), mined_area_ha,
#: unregistered_area_ha (hectares). status "ok" shows a number; "too_few" leaves estimate/se/ci NaN and says in
#: message how many more verified sites it needs. mapped is the map's own figure (area, or 1.0 for accuracy).
ESTIMATE_COLUMNS: dict[str, str] = {
    "sample_id": "string",
    "sample_run": "string",
    "period": "string",
    "scope": "string",
    "stratum": "string",
    "quantity": "string",
    "mapped": "float64",
    "estimate": "float64",
    "se": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "n_sampled": "int64",
    "n_verified": "int64",
    "n_inaccessible": "int64",
    "status": "string",
    "message": "string",
}

#: `verification_feedback`: what the verified outcomes changed in this run, per site and period. effect:
#: excluded_false_positive (registration verified_not_mining), reclassed_licensed (registered, licence shown),
#: confirmed (mining seen), missed_by_detector (a site verified as mining that the run does not see in a period
#: after the visit), not_in_run (a verified site the run does not hold; period ""); reason says it in words
#: with the visit's date, team and id.
FEEDBACK_COLUMNS: dict[str, str] = {
    "site_id": "string",
    "country": "string",
    "period": "string",
    "visit_id": "string",
    "outcome": "string",
    "effect": "string",
    "previous_registration": "string",
    "registration": "string",
    "reason": "string",
}

#: `threshold_report`: the detection threshold (activity percent) against the verified sample: a verified
#: site counts as detected at threshold t when the highest activity inside its footprint in the period of its
#: visit reaches t. best is True on the threshold with the highest F1 (ties: the current threshold, then the
#: lower). Thresholds below the run's own one can only be judged on verified sites, never on the sites the
#: run did not map (the report's message says so).
THRESHOLD_COLUMNS: dict[str, str] = {
    "threshold": "int64",
    "true_positive": "int64",
    "false_positive": "int64",
    "false_negative": "int64",
    "true_negative": "int64",
    "precision": "float64",
    "recall": "float64",
    "f1": "float64",
    "current": "bool",
    "best": "bool",
}


# --- alerts (mrumonitor.alerts) ----------------------------------------------------------------------------

#: What an alert says changed at a site between two consecutive periods (`mrumonitor.alerts.derive`, whose
#: docstring gives each rule): a site first seen; a site that grew past `alerts.growth_min_ha` and
#: `alerts.growth_min_share`; new unregistered area in the border zone; activity inside a licence of the wrong
#: type or commodity, or an expired one; a site verified as mining whose activity resumes.
ALERT_KINDS = ("new_site", "growth", "new_unregistered_border", "licence_breach", "verified_resumed")
#: Each alert kind in words, as messages, digests, feeds and the dashboard say it.
ALERT_KIND_WORDS = {"new_site": "New mining site", "growth": "Mining site grew",
                    "new_unregistered_border": "New unregistered mining in the border zone",
                    "licence_breach": "Mining inside a licence that does not allow it",
                    "verified_resumed": "Verified mining site active again"}
#: How sure an alert is, best first (the rule is in `mrumonitor.alerts.derive` and [alerts] of default.toml).
CONFIDENCE_LEVELS = ("high", "medium", "low")

#: `alerts`: one row per alert (geometry: the representative point of the site's footprint in `period`).
#: alert_id is a hash of kind|site_id|period, the same in every run for the same change; first_run is the run
#: that first published it; new_in_run is True where the previous published run did not hold it. announce is
#: True for an alert that was new when first published (kept across runs): deliveries send only those, never the
#: history a first run finds. evidence says what was compared, message says it to a person in one sentence.
ALERT_COLUMNS: dict[str, str] = {
    "alert_id": "string",
    "kind": "string",
    "site_id": "string",
    "country": "string",
    "period": "string",
    "confidence": "string",
    "evidence": "string",
    "area_ha": "float64",
    "change_ha": "float64",
    "registration": "string",
    "licence_id": "string",
    "border_pair": "string",
    "corridor_id": "string",
    "first_run": "string",
    "new_in_run": "bool",
    "announce": "bool",
    "message": "string",
}

#: What a user may watch (`mrumonitor.areas`): a country (ISO3), a border corridor (corridor_id), an admin area
#: (``<level>:<name>`` of a configured admin layer), a licence (licence_id), an area drawn on the dashboard map,
#: or an uploaded GeoJSON, GeoPackage or zipped Shapefile.
AREA_KINDS = ("country", "corridor", "admin", "licence", "drawn", "upload")
#: How often a subscription's digest goes out: after every published run, or the first delivery of each ISO
#: week or calendar month (UTC) that has something to send.
SUBSCRIPTION_FREQUENCIES = ("run", "weekly", "monthly")
#: Where a delivery stands: "sent" (the server accepted it), "failed" (refused after its last try; tried again
#: at the next delivery), "unsent" (nowhere to send it: no SMTP host or no recipient configured).
DELIVERY_STATUSES = ("sent", "failed", "unsent")
#: What an operator notice is about: a scheduled run that failed after its last retry, or one that was missed.
OPERATOR_NOTICE_KINDS = ("run_failed", "run_missed")

#: The statistics of an area (`mrumonitor.areas.stats`), one row per period of the run.
AREA_STATS_COLUMNS: dict[str, str] = {
    "period": "string",
    "sites": "int64",
    "active_ha": "float64",
    "registered_ha": "float64",
    "unregistered_ha": "float64",
    "unregistered_share": "float64",
    # hectares per registration class (REGISTRATION_CLASSES) follow as "<class>_ha"
}
