"""What each column of the published layers holds, in words: the column catalogue beside the layer registry.

Columns keep their canonical names everywhere (files, exports, filters); their descriptions are English
messages marked for the catalogue, so an export's sidecar gives each column in English and French
(`column_descriptions`). A name means the same in every layer, but for the few in `LAYER_COLUMNS`, whose
meaning depends on the layer.
"""

from __future__ import annotations

from collections.abc import Iterable

from mrumonitor.i18n import LANGUAGES, N_, _, use_language

#: Every column of the published layers (and of their exports), by name.
COLUMNS: dict[str, str] = {
    # where a record comes from
    "layer": N_("The input layer the record belongs to (cadastre or activity)."),
    "source_name": N_("The name of the cadastre or activity source in the configuration."),
    "source_file": N_("The file the record was read from."),
    "source_row": N_("The record's row in that file (from 0)."),
    "record_id": N_("The record's own identifier in its file, if it has one."),
    "reason": N_("Why the record could not be used (a code)."),
    "detail": N_("What is wrong with the record, and what to fix."),
    "attributes": N_("The record's original attributes, as JSON text."),
    "source_crs": N_("The coordinate reference system of the source file."),
    "source_wkt": N_("The record's original geometry, as WKT text in the source's coordinate reference system."),
    "geometry": N_("The feature's geometry."),
    "geom": N_("The feature's geometry."),
    "bbox": N_("The bounding box of the feature's geometry (xmin, ymin, xmax, ymax), for fast spatial queries."),
    # places, periods, codes
    "country": N_("The country, as an ISO 3166-1 alpha-3 code (SLE, GIN, LBR, CIV); empty outside every country."),
    "countries": N_("Every country the site lies in, as ISO 3166-1 alpha-3 codes."),
    "period": N_("The observation period (e.g. 2025H2 for the second half of 2025)."),
    "year": N_("The calendar year."),
    "site_id": N_("The mining site's identifier, the same across periods and runs."),
    "licence_id": N_("The licence's identifier in its national cadastre (empty where no licence covers the site)."),
    "corridor_id": N_("The identifier of the border corridor (segment of a border)."),
    "border_pair": N_("The two countries of the nearest border (e.g. SLE-GIN)."),
    "nearest_post_id": N_("The identifier of the nearest official border crossing."),
    "nearest_post_name": N_("The name of the nearest official border crossing."),
    "dist_post_km": N_("The distance to the nearest official border crossing, in kilometres."),
    "dist_border_km": N_("The distance to the nearest international border, in kilometres."),
    "in_border_zone": N_("Whether the site lies in the border zone."),
    "lon": N_("Longitude in decimal degrees (WGS84) of a point inside the feature."),
    "lat": N_("Latitude in decimal degrees (WGS84) of a point inside the feature."),
    "wkt": N_("The feature's geometry as WKT text, in WGS84."),
    "clipped": N_("Whether the feature was cut at the country's border in this export."),
    # licences
    "holder": N_("The licence holder, as the cadastre names it."),
    "licence_type": N_("The type of licence: artisanal, small-scale, large-scale, exploration, reconnaissance or "
                       "other."),
    "commodity": N_("The mineral commodity: diamond, gold or other."),
    "status": N_("The licence's status in the cadastre: active, expired, suspended, pending or unknown."),
    "granted": N_("The day the licence was granted."),
    "expires": N_("The day the licence expires."),
    "geometry_repaired": N_("Whether the licence outline was invalid in the cadastre and was repaired."),
    "snapshot": N_("The day the cadastre was exported (its snapshot); empty where the source gives no date."),
    "observed": N_("The observation day of the period."),
    "basis": N_("How the period's licences were judged: from the snapshot in force, from the dates only, from "
                "undated sources, or not at all."),
    "licences": N_("The number of licence records in force."),
    "note": N_("How the period's licences were judged, in a sentence."),
    # sites
    "transboundary": N_("Whether the site lies in more than one country."),
    "first_seen": N_("The first period the site was seen in."),
    "last_seen": N_("The last period the site was seen in."),
    "periods_seen": N_("The number of periods the site was seen in."),
    "area_ha": N_("Area in hectares (ha)."),
    "max_area_ha": N_("The largest area of the site over all periods, in hectares (ha)."),
    "merged_into": N_("The site that absorbed this one, if any."),
    "split_from": N_("The site this one split off from, if any."),
    "commodity_basis": N_("How the commodity was inferred: inside a diamond field, near one, in a gold belt, or "
                          "assumed."),
    "registration": N_("The registration class: registered, no licence, expired licence, suspended, wrong commodity, "
                       "exploration licence only, not assessed or verified not mining."),
    "registered_ha": N_("The area covered by a licence that allows the mining, in hectares (ha)."),
    "unregistered_ha": N_("The area of unregistered mining, in hectares (ha)."),
    "unregistered_share": N_("The share of the site's area that is unregistered (0 to 1)."),
    "risk_score": N_("The site's risk score (0 to 1): unregistered area, nearness to the border and to no crossing."),
    "verification": N_("What a field visit found at the site, if one was made."),
    # border corridors
    "scope": N_("Which borders the corridor runs along: mru (between two Mano River Union countries) or external."),
    "near_places": N_("The towns nearest to the corridor on each side, with their distance."),
    "from_km": N_("Where the corridor starts along its border, in kilometres."),
    "to_km": N_("Where the corridor ends along its border, in kilometres."),
    "length_km": N_("The corridor's length, in kilometres."),
    "sites": N_("The number of mining sites."),
    "active_ha": N_("The active mining area, in hectares (ha)."),
    "diamond_sites": N_("The number of diamond mining sites."),
    "diamond_unregistered_ha": N_("The unregistered area of the diamond sites, in hectares (ha)."),
    "rank": N_("The corridor's rank within its scope (1 = most unregistered diamond mining)."),
    # registration summary
    "level": N_("The kind of area: country, or an administrative level."),
    "area": N_("The name of the area (country or administrative area)."),
    # capacity
    "days_observed": N_("The number of days of the year covered by imagery."),
    "partial_year": N_("Whether the year was observed only in part."),
    "mined_area_ha": N_("The area newly mined within the year's observed days, in hectares (ha)."),
    "annual_area_ha": N_("The area newly mined over 12 months (the yearly rate), in hectares (ha)."),
    "volume_carats_p05": N_("Estimated carats a year by volume and grade: 5th percentile."),
    "volume_carats_central": N_("Estimated carats a year by volume and grade: median."),
    "volume_carats_p95": N_("Estimated carats a year by volume and grade: 95th percentile."),
    "miners_carats_p05": N_("Estimated carats a year from the number of miners: 5th percentile."),
    "miners_carats_central": N_("Estimated carats a year from the number of miners: median."),
    "miners_carats_p95": N_("Estimated carats a year from the number of miners: 95th percentile."),
    "draws": N_("The number of Monte Carlo draws of the estimate."),
    "seed": N_("The random seed of the draws (the same seed gives the same figures)."),
    "declared_production_carats": N_("Production declared to the Kimberley Process, in carats."),
    "declared_production_usd": N_("Production declared to the Kimberley Process, in US dollars."),
    "declared_export_carats": N_("Exports declared to the Kimberley Process, in carats."),
    "declared_export_usd": N_("Exports declared to the Kimberley Process, in US dollars."),
    "declared_illustrative": N_("Whether the declared figures are illustrative, not Kimberley Process statistics."),
    "declared_source": N_("Where the declared figures come from."),
    "declared_to_estimate": N_("Declared production divided by the median estimate."),
    "caveats": N_("What to keep in mind about the row."),
    "method": N_("The estimation method: volume (area and grade) or miners."),
    "parameter": N_("The parameter's name."),
    "low": N_("The parameter's low value."),
    "central": N_("The parameter's central value."),
    "high": N_("The parameter's high value."),
    "distribution": N_("How the low, central and high values are read (lognormal, split lognormal or PERT)."),
    "source": N_("Where the value comes from."),
    # Kimberley Process anomalies
    "flag": N_("The kind of anomaly."),
    "figure": N_("The figure that was checked."),
    "reference": N_("The figure it was compared with."),
    "ratio": N_("The figure divided by the reference."),
    "unit": N_("The unit of the figures (ct: carats, USD: US dollars)."),
    "illustrative": N_("Whether the declared figure is illustrative, not a Kimberley Process statistic."),
    "compared": N_("What was compared with what."),
    "message": N_("What was found, in a sentence."),
    # alerts
    "alert_id": N_("The alert's identifier, the same in every run."),
    "kind": N_("The kind of alert: new site, growth, new unregistered mining in the border zone, mining in the wrong "
               "licence, or a verified site active again."),
    "confidence": N_("How much evidence the alert rests on: high, medium or low."),
    "evidence": N_("The evidence the alert rests on."),
    "change_ha": N_("The change of area since the previous period, in hectares (ha)."),
    "first_run": N_("The run that first raised the alert."),
    "new_in_run": N_("Whether this run raised the alert first."),
    "announce": N_("Whether the alert is sent to subscribers."),
    # field verification
    "threshold": N_("The activity threshold, in percent."),
    "true_positive": N_("Verified mining sites the threshold detects."),
    "false_positive": N_("Sites the threshold detects that the field found not to be mining."),
    "false_negative": N_("Verified mining sites the threshold misses."),
    "true_negative": N_("Sites found not to be mining that the threshold leaves out."),
    "precision": N_("The share of detected sites that are mining (0 to 1)."),
    "recall": N_("The share of mining sites that are detected (0 to 1)."),
    "f1": N_("The F1 score: the harmonic mean of precision and recall."),
    "current": N_("Whether this is the threshold the run used."),
    "best": N_("Whether this threshold agrees best with the field checks."),
    "sample_id": N_("The identifier of the verification sample."),
    "sample_run": N_("The run the sample was drawn from."),
    "stratum": N_("The stratum of the sample (registration class and country)."),
    "quantity": N_("What is estimated: precision of the detections, user's accuracy, mined area or unregistered "
                   "area."),
    "mapped": N_("The value on the map, before correction."),
    "estimate": N_("The estimate, corrected with the field checks."),
    "se": N_("The standard error of the estimate."),
    "ci_low": N_("The lower bound of the 95 % confidence interval."),
    "ci_high": N_("The upper bound of the 95 % confidence interval."),
    "n_sampled": N_("The number of sites drawn."),
    "n_verified": N_("The number of sites verified in the field."),
    "n_inaccessible": N_("The number of sites the teams could not reach."),
    "visit_id": N_("The identifier of the field visit."),
    "outcome": N_("What the team found: active mining, inactive mining, not mining, licensed or inaccessible."),
    "effect": N_("What the visit changed in the figures."),
    "previous_registration": N_("The registration class before the visit."),
    "visited_on": N_("The day of the visit."),
    "team": N_("The field team."),
    "commodity_seen": N_("The commodity the team saw mined."),
    "licence_seen": N_("The licence the team was shown, if any."),
    "notes": N_("The team's notes."),
    "photos": N_("The file names of the visit's photos."),
    "entered_by": N_("Who entered the visit."),
    "entered_at": N_("When the visit was entered."),
    "synthetic": N_("Whether the record is made up for the demonstration (not a real visit)."),
}

#: Columns whose meaning depends on the layer: (layer, column) -> description.
LAYER_COLUMNS: dict[tuple[str, str], str] = {
    ("verification_estimates", "scope"): N_("What the estimate covers: the whole sample, one stratum or one "
                                            "registration class."),
    ("verification_estimates", "status"): N_("ok, or too_few where too few sites were verified to give a figure."),
    ("verification_visits", "source"): N_("Where the visit was recorded (form, import or the demonstration)."),
    ("verification_feedback", "registration"): N_("The registration class after the visit."),
    ("verification_feedback", "reason"): N_("Why the visit changed the figures, in words."),
    ("gaps", "reason"): N_("Why there is no observation (no data: clouds, no scene, outside every input)."),
}


def column_description(layer: str, column: str) -> str:
    """The English description of `column` in `layer`; "" for a column the catalogue does not know."""
    return LAYER_COLUMNS.get((layer, column)) or COLUMNS.get(column, "")


def column_descriptions(layer: str, columns: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each of `columns` (canonical names, in order) with its description in every language:
    ``{"site_id": {"en": "...", "fr": "..."}}``."""
    described = {column: column_description(layer, column) for column in columns}
    translated = {}
    for language in LANGUAGES:
        with use_language(language):
            translated[language] = {column: _(text) if text else "" for column, text in described.items()}
    return {column: {language: translated[language][column] for language in LANGUAGES} for column in described}
