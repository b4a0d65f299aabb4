"""Field verification: what field teams found at the sites, and what it says about the figures.

A stratified random sample of a run's sites (`sampling`) goes to the field as GPX, KML, GeoJSON, a printable
list and an ODK/Kobo form (`fieldsheets`, `xlsform`); the teams' submissions come back into the verification
ledger (`submissions`, `ledger`), beside the runs, never inside one. Each run reads the ledger: the analysis applies
the verified outcomes to the sites (`mrumonitor.analysis.feedback`), the samples give accuracies and area estimates
with confidence intervals (`estimators`, `estimates`, after Olofsson et al. 2014), and a report says which
detection threshold did best on the verified sites (`thresholds`); `run` makes the run's verification layers.
`commands` is `mrumonitor verify`.
"""
