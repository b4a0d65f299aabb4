"""The demo's field checks: a real stratified sample of the demo run, visited by SYNTHETIC field teams.

`record_demo_field_checks` draws a sample of the published run's last period (`verification.sampling`, strata by
registration class), writes its field sheets and ODK/Kobo form beside the demo's inputs, and records one
SYNTHETIC visit per drawn site in the verification ledger, so that the demo's next run publishes every estimate
(accuracies, error-adjusted areas with their confidence intervals, the threshold report) and applies the outcomes.
The visits are also written as an ODK Central export (`SUBMISSIONS_FILE`), the file a real campaign hands to
`mrumonitor verify import`.

Nobody visited these sites. Each outcome is drawn with a seeded generator from rates chosen to look like a field
campaign, not measured anywhere: a small scar (under 1 ha) is a false positive more often than a large one, and
about one unregistered site in eight shows a licence the cadastre does not hold. Every visit is marked synthetic
(column ``synthetic``, team "SYNTHETIC team ...", source "demo (SYNTHETIC)"), and a run that uses them says so
in its caveats.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from mrumonitor.config import Settings
from mrumonitor.demo.detections import SURVEY_DATE
from mrumonitor.schema import UNREGISTERED_CLASSES
from mrumonitor.verification.design import SampleDesign
from mrumonitor.verification.fieldsheets import write_field_sheets
from mrumonitor.verification.ledger import Ledger
from mrumonitor.verification.sampling import draw_sample
from mrumonitor.verification.xlsform import write_xlsform

#: Sites the demo's sample draws, stratified by registration class, and the fewest per class: above
#: `[verification] min_verified` (5), so that a site found inaccessible leaves every class estimated.
SAMPLE_SIZE = 120
MIN_PER_STRATUM = 8
#: Who entered the demo's visits.
ENTERED_BY = "mrumonitor demo"
#: What the demo's field sheets say of themselves.
SHEETS_CAVEAT = "The sample is real; the visits the demo recorded for it are SYNTHETIC: nobody went there."
#: The demo's visits as an ODK Central export, in the field sheets' folder.
SUBMISSIONS_FILE = "submissions-SYNTHETIC.csv"
#: The field campaign's days: the six weeks before the detection survey, inside the last period.
CAMPAIGN = (SURVEY_DATE - dt.timedelta(days=60), SURVEY_DATE)

#: Outcome rates (active, inactive, not mining, licensed, inaccessible) of a site of at least 1 ha, by whether the
#: map calls it unregistered; a smaller scar is `_SMALL_FALSE_POSITIVE` times more often not mining.
_RATES = {False: (0.72, 0.13, 0.08, 0.0, 0.07), True: (0.62, 0.12, 0.08, 0.12, 0.06)}
_OUTCOMES = ("active_mining", "inactive_mining", "not_mining", "licensed", "inaccessible")
_SMALL_FALSE_POSITIVE = 3.0


def record_demo_field_checks(settings: Settings, run_dir: Path, run_id: str, sheets_dir: Path,
                             seed: int = 2026) -> SampleDesign | None:
    """Draw the demo's sample from the run in `run_dir`, write its field sheets and form into `sheets_dir`, and
    record one SYNTHETIC visit per drawn site in the ledger. Returns the sample's design, or None when the ledger
    holds the demo's sample already (the demo run again on the same folder: its run has applied the visits)."""
    ledger = Ledger(settings.ledger)
    if any(design.created_by == ENTERED_BY for design in ledger.samples()):
        return None
    design = draw_sample(run_dir, run_id, n=SAMPLE_SIZE, strata_by=("registration",), seed=seed,
                         min_per_stratum=MIN_PER_STRATUM, created_by=ENTERED_BY)
    ledger.save_sample(design)
    write_field_sheets(design, sheets_dir, [SHEETS_CAVEAT])
    write_xlsform(design, sheets_dir / f"{design.sample_id}.xlsx")
    visits = synthetic_visits(design, seed)
    ledger.append_visits(visits, entered_by=ENTERED_BY, source="demo (SYNTHETIC)")
    write_odk_export(visits, sheets_dir / SUBMISSIONS_FILE)
    return design


def write_odk_export(visits: pd.DataFrame, path: Path) -> Path:
    """The visits as ODK Central exports the form's submissions (CSV; group prefixes and the geopoint split as
    ODK writes them), so the demo shows what `mrumonitor verify import` reads: importing it again adds nothing."""
    export = pd.DataFrame({
        "SubmissionDate": (visits["visited_on"] + pd.Timedelta(hours=18)).dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "site_id": visits["site_id"], "visit_date": visits["visited_on"].dt.strftime("%Y-%m-%d"),
        "team": visits["team"], "outcome": visits["outcome"], "commodity_seen": visits["commodity_seen"],
        "licence_seen": visits["licence_seen"], "notes": visits["notes"],
        "location-Latitude": visits["lat"].round(7), "location-Longitude": visits["lon"].round(7),
        "location-Altitude": "", "location-Accuracy": "",
        "photo_1": visits["photos"].str.strip('[]"').fillna(""),
        "meta-instanceID": visits["visit_id"], "KEY": visits["visit_id"], "SubmitterName": visits["team"],
        "ReviewState": ""})
    path.parent.mkdir(parents=True, exist_ok=True)
    export.to_csv(path, index=False)
    return path


def synthetic_visits(design: SampleDesign, seed: int) -> pd.DataFrame:
    """One SYNTHETIC visit per drawn site of `design` (VISIT_COLUMNS but who entered it and when)."""
    units = design.units.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    unregistered = units["registration"].isin(UNREGISTERED_CLASSES).to_numpy()
    rates = np.array([_RATES[bool(flag)] for flag in unregistered])
    small = units["area_ha"].to_numpy() < 1.0
    rates[small, 2] *= _SMALL_FALSE_POSITIVE
    rates /= rates.sum(axis=1, keepdims=True)
    drawn = (rng.random(len(units))[:, None] > np.cumsum(rates, axis=1)).sum(axis=1)
    outcome = np.array(_OUTCOMES)[drawn]
    days = (CAMPAIGN[1] - CAMPAIGN[0]).days
    visited = pd.to_datetime(CAMPAIGN[0]) + pd.to_timedelta(rng.integers(0, days + 1, len(units)), unit="D")
    jitter = rng.normal(0.0, 0.0002, (len(units), 2))  # about 20 m: a phone's GPS
    seen = outcome != "inaccessible"
    licensed = outcome == "licensed"
    return pd.DataFrame({
        "visit_id": "uuid:demo-" + design.sample_id + "-" + units["site_id"],
        "site_id": units["site_id"], "country": units["country"], "visited_on": visited,
        "team": "SYNTHETIC team " + units["country"].fillna("") + "-" + pd.Series(rng.integers(1, 4, len(units))
                                                                                .astype(str)),
        "outcome": outcome,
        "commodity_seen": np.where(outcome == "not_mining", "none", np.where(seen, "unknown", None)),
        "licence_seen": np.where(licensed, "SYN-" + units["country"].fillna("") + "-"
                                 + pd.Series(rng.integers(1000, 9999, len(units))).astype(str), None),
        "notes": "SYNTHETIC demo visit: nobody went there.",
        "lon": np.where(seen, units["lon"] + jitter[:, 0], np.nan),
        "lat": np.where(seen, units["lat"] + jitter[:, 1], np.nan),
        "photos": np.where(seen, '["' + units["site_id"] + '_1.jpg"]', None),
        "synthetic": True})
