"""Field verification for the dashboard: the run's verification layers, the ledger's visits, and the sentences
that put a measured accuracy next to the KPIs it qualifies.

A run carries what its field verification measured (`verification_estimates`, `threshold_report`), what the
visits changed (`verification_feedback`) and a manifest section ``verification``; a run published before
field verification existed has none of them, and every view then says "no field verification in this run"
instead of failing. The ledger's visits are read live (`Ledger(settings.ledger)`), so a visit recorded on
the dashboard shows at once; site-level rows (feedback, visits) are cut to what the user's role may see.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
import shapely
from pyproj import Transformer

from mrumonitor.crs import WGS84
from mrumonitor.dashboard.run import RunData
from mrumonitor.errors import AccessDenied, VerificationError
from mrumonitor.export.run_reference import run_crs
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import (
    COMMODITIES_SEEN,
    ESTIMATE_COLUMNS,
    FEEDBACK_COLUMNS,
    THRESHOLD_COLUMNS,
    VISIT_OUTCOMES,
)
from mrumonitor.verification.ledger import Ledger

#: What the KPI lines and pages say when the run holds no field verification at all (an older run).
NOT_IN_RUN = "no field verification in this run"
#: ... and when the run knows the ledger but no sample has been verified yet.
NOT_YET = "Accuracy not measured: no field verification yet"

#: The estimates' quantities in words, and whether each is a proportion (shown in %) or an area (ha).
QUANTITIES = {
    "detection_precision": ("Detection precision", True),
    "user_accuracy": ("User's accuracy of the class", True),
    "mined_area_ha": ("Mined area", False),
    "unregistered_area_ha": ("Unregistered area", False),
}
#: The estimates' scopes in words.
SCOPES = {"overall": "Whole region", "class": "Registration class", "stratum": "Stratum"}


@dataclass(frozen=True)
class RunVerification:
    """What a run holds of field verification (empty frames for a run without it).

    Attributes
    ----------
    present : bool
        Whether the run has the verification layers at all (False: a run published before them).
    section : dict
        The manifest's ``verification`` section ({} when absent).
    estimates, threshold, feedback : DataFrame
        `verification_estimates`, `threshold_report`, `verification_feedback`.
    """

    present: bool
    section: dict[str, Any]
    estimates: pd.DataFrame
    threshold: pd.DataFrame
    feedback: pd.DataFrame

    @property
    def sample_id(self) -> str | None:
        """The sample the headline figures come from: the newest the run estimated."""
        samples = [entry.get("sample_id") for entry in self.section.get("samples") or [] if isinstance(entry, dict)]
        if samples:
            return samples[-1]
        return str(self.estimates["sample_id"].iloc[-1]) if len(self.estimates) else None

    def headline(self, quantity: str) -> pd.Series | None:
        """The overall estimate of `quantity` for `sample_id`, None when the run has none."""
        rows = self.estimates[(self.estimates["sample_id"] == self.sample_id) & (self.estimates["scope"] == "overall")
                              & (self.estimates["quantity"] == quantity)]
        return rows.iloc[0] if len(rows) else None


def run_verification(data: RunData) -> RunVerification:
    """The verification layers of run `data`, read once per run (kept in `RunData.results`)."""
    return data.results.get(("verification-layers",), lambda: read_verification(data.run_dir, data.manifest))


def read_verification(run_dir, manifest: dict[str, Any]) -> RunVerification:
    """The verification layers of the run in `run_dir` (its `manifest` says which it has)."""
    layers = manifest.get("layers", {})
    folder = RunFolder(run_dir)

    def table(name: str, columns: dict[str, str]) -> pd.DataFrame:
        """The layer `name` with `columns` (one a layer of an earlier version lacks is empty), or no rows."""
        frame = pd.read_parquet(folder.layer(name)) if name in layers else pd.DataFrame()
        return frame.reindex(columns=list(columns)).astype(columns)

    section = manifest.get("verification")
    present = "verification_estimates" in layers or bool(section)
    return RunVerification(present=present, section=section if isinstance(section, dict) else {},
                           estimates=table("verification_estimates", ESTIMATE_COLUMNS),
                           threshold=table("threshold_report", THRESHOLD_COLUMNS),
                           feedback=table("verification_feedback", FEEDBACK_COLUMNS))


def verification_caveats(manifest: dict[str, Any], section: dict[str, Any]) -> list[str]:
    """The caveats that concern field verification: the run's that speak of it (a SYNTHETIC verified sample, a
    sample drawn on another run...) and any the verification section lists."""
    run = [caveat for caveat in manifest.get("caveats") or [] if isinstance(caveat, str)
           and re.search(r"verif|field check|sample", caveat, re.IGNORECASE)]
    own = [caveat for caveat in section.get("caveats") or [] if isinstance(caveat, str)]
    return list(dict.fromkeys(run + own))


# --- the KPI lines -----------------------------------------------------------------------------------------

def accuracy_lines(verification: RunVerification, period: str, whole_map: bool = True) -> dict[str, str]:
    """The line under each KPI the field checks qualify ("active_ha", "unregistered_share") for the KPIs of
    `period`; `whole_map` False when the KPIs are filtered (countries, commodity...): the estimates are of the
    whole map."""
    if not verification.present:
        return dict.fromkeys(("active_ha", "unregistered_share"), f"Accuracy not measured: {NOT_IN_RUN}")
    mined = verification.headline("mined_area_ha")
    if mined is None:
        return dict.fromkeys(("active_ha", "unregistered_share"), NOT_YET)
    where = _measured_on(mined, period, whole_map)
    precision = verification.headline("detection_precision")
    active = (f"Field-checked: {_estimate(mined)}"
              + (f" · precision {_percent(precision)}" if precision is not None and _ok(precision) else "")
              + f" · {int(mined['n_verified']):,} sites verified, sample {mined['sample_id']}, {mined['period']}"
              + (" · SYNTHETIC visits (demo data)" if "SYNTHETIC" in str(mined["message"] or "") else ""))
    unregistered = verification.headline("unregistered_area_ha")
    unreg = ("Field-checked unregistered: " + _estimate(unregistered) if unregistered is not None
             else "Unregistered area not estimated in this sample")
    return {"active_ha": active + where, "unregistered_share": unreg + where}


def _ok(row: pd.Series) -> bool:
    return row["status"] == "ok" and not math.isnan(row["estimate"])


def _estimate(row: pd.Series) -> str:
    """An area estimate with its 95 % CI and the area the sample's map shows (every site of the sampled period,
    those outside the four countries too: not the KPI above it), or the estimate's own message when the sample is
    too small."""
    if not _ok(row):
        return str(row["message"] or "not enough verified sites yet")
    mapped = "" if pd.isna(row["mapped"]) else f" of the {row['mapped']:,.0f} ha the sampled map shows"
    return f"{row['estimate']:,.0f} ha (95 % CI {row['ci_low']:,.0f}–{row['ci_high']:,.0f}){mapped}"


def _percent(row: pd.Series) -> str:
    """A proportion as "88 % ± 7" (half the 95 % interval, in points)."""
    half = (row["ci_high"] - row["ci_low"]) / 2
    return f"{100 * row['estimate']:.0f} %" + ("" if math.isnan(half) else f" ± {100 * half:.0f}")


def _measured_on(row: pd.Series, period: str, whole_map: bool) -> str:
    notes = []
    if row["period"] != period:
        notes.append(f"accuracy measured on the map of {row['period']}, not of {period}")
    if not whole_map:
        notes.append("of the whole region's map, not of the filters chosen")
    return f" ({'; '.join(notes)})" if notes else ""


# --- the page's sentences ----------------------------------------------------------------------------------

def sample_sentence(verification: RunVerification, ledger: Ledger) -> str:
    """The headline sample: where it was drawn, how many sites were drawn and verified, its strata and
    allocation rule (as the run recorded them; from the `ledger`'s design for a run that did not)."""
    sample_id = verification.sample_id
    rows = verification.estimates[verification.estimates["sample_id"] == sample_id]
    first = rows.iloc[0] if len(rows) else {}
    entry = next((item for item in verification.section.get("samples") or []
                  if isinstance(item, dict) and item.get("sample_id") == sample_id), {})
    text = (f"Sample {sample_id}, drawn from run {entry.get('run_id') or first.get('sample_run', '?')} "
            f"({entry.get('period') or first.get('period', '?')}): {entry.get('n', first.get('n_sampled', '?'))} "
            f"sites drawn, {entry.get('n_verified', first.get('n_verified', '?'))} verified.")
    if entry.get("allocation"):
        return f"{text} Strata: {', '.join(entry.get('strata_by') or [])}. Allocation: {entry['allocation']}"
    try:  # a run whose manifest does not record the design: the ledger's
        design = ledger.sample(sample_id)
    except VerificationError:
        return text + " Its design is not in this dashboard's ledger."
    return f"{text} Strata: {', '.join(design.strata_by)}. Allocation: {design.allocation}"


def threshold_sentence(report: pd.DataFrame, summary: dict) -> str:
    """The threshold report's own sentence (the manifest's ``verification.threshold.message``), or one made
    from the report for a run that does not record it."""
    if isinstance(summary.get("message"), str) and summary["message"]:
        return summary["message"]
    current, best = report[report["current"]], report[report["best"]]
    parts = []
    if len(current):
        row = current.iloc[0]
        parts.append(f"At the run's threshold of {row['threshold']} % the verified sites give precision "
                     f"{row['precision']:.0%}, recall {row['recall']:.0%}, F1 {row['f1']:.2f}.")
    if len(best):
        row = best.iloc[0]
        parts.append("That is also the best F1 on this sample." if bool(row["current"]) else
                     f"The best F1 on this sample ({row['f1']:.2f}) is at {row['threshold']} %.")
    return " ".join(parts)


# --- tables for people -------------------------------------------------------------------------------------

def estimates_table(estimates: pd.DataFrame) -> pd.DataFrame:
    """The estimates as the page shows them: words for scopes and quantities, rounded numbers with their unit,
    the 95 % interval in one column, the too-few message where there is no number."""
    rows = estimates.reset_index(drop=True)
    share = rows["quantity"].map(lambda q: QUANTITIES.get(q, (q, False))[1]).astype(bool)

    def text(column: str) -> pd.Series:
        values = rows[column].astype(float)
        percent = (100 * values).map(lambda v: "" if math.isnan(v) else f"{v:.1f} %")
        hectares = values.map(lambda v: "" if math.isnan(v) else f"{v:,.0f} ha")
        return percent.where(share, hectares)

    ok = rows["status"].eq("ok").to_numpy()
    interval = (text("ci_low") + " – " + text("ci_high")).where(ok, "")
    return pd.DataFrame({
        "Sample": rows["sample_id"].astype(str), "Map period": rows["period"].astype(str),
        "Scope": rows["scope"].map(SCOPES).fillna(rows["scope"]).astype(str),
        "Stratum or class": rows["stratum"].fillna("").astype(str).str.replace("_", " "),
        "Figure": rows["quantity"].map(lambda q: QUANTITIES.get(q, (q, False))[0]),
        "Map says": text("mapped"), "Estimate": text("estimate").where(ok, ""), "95 % interval": interval,
        "Verified / drawn": rows["n_verified"].astype(str) + " / " + rows["n_sampled"].astype(str),
        "Not reached": rows["n_inaccessible"].astype(int),
        "Note": rows["message"].fillna("").astype(str),
    })


def feedback_table(feedback: pd.DataFrame, access: Any) -> pd.DataFrame:
    """What the visits changed in the run, the rows of countries `access` may see (site-level)."""
    rows = feedback[_seen(feedback["country"], access)]
    return pd.DataFrame({
        "Site": rows["site_id"], "Country": rows["country"], "Period": rows["period"],
        "Change": rows["effect"].str.replace("_", " "),
        "Class before": rows["previous_registration"].fillna("").str.replace("_", " "),
        "Class now": rows["registration"].fillna("").str.replace("_", " "), "Why": rows["reason"],
    }).astype(object).fillna("").reset_index(drop=True)


def ledger_visits(ledger: Ledger, data: RunData, access: Any) -> pd.DataFrame:
    """The ledger's visits `access` may see, newest first (VISIT_COLUMNS). A visit counts for the countries of
    its site in the run, or its own country for a site the run does not hold."""
    visits = ledger.visits()
    countries = visits["site_id"].map(data.sites.set_index("site_id")["countries"]).fillna(visits["country"])
    seen = visits[_seen(countries, access)]
    return seen.sort_values(["visited_on", "entered_at"], ascending=False, kind="stable").reset_index(drop=True)


def _seen(countries: pd.Series, access: Any) -> pd.Series:
    """Which rows of site-level data of `countries` (ISO3 codes or lists of them; missing: none known)
    `access` may see."""
    return countries.map(lambda value: access.sees_sites(None if pd.isna(value) else value)).astype(bool)


def visits_table(visits: pd.DataFrame) -> pd.DataFrame:
    """Visits as the page lists them."""
    return pd.DataFrame({
        "Visited": visits["visited_on"].dt.strftime("%Y-%m-%d"), "Site": visits["site_id"],
        "Country": visits["country"], "Team": visits["team"], "Found": visits["outcome"].str.replace("_", " "),
        "Commodity": visits["commodity_seen"], "Licence seen": visits["licence_seen"], "Notes": visits["notes"],
        "Entered by": visits["entered_by"], "From": visits["source"],
        "Synthetic": visits["synthetic"].map({True: "SYNTHETIC", False: ""}), "Visit id": visits["visit_id"],
    }).astype(object).where(lambda frame: frame.notna(), "")


# --- a visit entered on the dashboard ----------------------------------------------------------------------

#: The longest text a form field takes (notes), and the others.
MAX_NOTES = 2000
MAX_TEXT = 200
_PHOTO_SEPARATORS = re.compile(r"[,;\n]+")


@dataclass(frozen=True)
class VisitForm:
    """What the dashboard's entry form sent, as text and numbers (nothing checked yet)."""

    site_id: str | None
    visited_on: str | None
    team: str | None
    outcome: str | None
    commodity_seen: str | None
    licence_seen: str | None
    notes: str | None
    lon: float | None
    lat: float | None
    photos: str | None


def checked_visit(form: VisitForm, data: RunData, access: Any, max_gps_km: float,
                  today: dt.date | None = None) -> pd.DataFrame:
    """The one-row visit (VISIT_COLUMNS without visit_id, entered_by, entered_at, source) of `form`, checked.

    Raises
    ------
    VerificationError
        The site is not in run `data`; a field is missing, too long or not one of its choices; the date is not
        a day or lies after `today`; the GPS point is half given, outside the earth's ranges or farther than
        `max_gps_km` from the site's footprint.
    AccessDenied
        `access` may not see the site's countries (an agency user at another country's site).
    """
    site = _text(form.site_id, "site id", required=True)
    if site not in data.site_index:
        raise VerificationError(f"site {site!r} is not in run {data.run_id}; copy its id from the map, the site "
                                "table or the sample's list.")
    row = data.sites.iloc[data.site_index.get_loc(site)]
    if not access.sees_sites(row["countries"]):
        raise AccessDenied(f"site {site} lies in {row['countries']}: user {access.user!r} ({access.country} agency) "
                           f"may record visits at sites in {access.country} only. Ask the regional team to record it.")
    outcome = _choice(form.outcome, "outcome", VISIT_OUTCOMES)
    commodity = _choice(form.commodity_seen or "unknown", "commodity seen", COMMODITIES_SEEN)
    lon, lat = _gps(form.lon, form.lat, data, site, max_gps_km)
    return pd.DataFrame([{
        "site_id": site, "country": row["country"], "visited_on": pd.Timestamp(_day(form.visited_on, today)),
        "team": _text(form.team, "team", required=True), "outcome": outcome, "commodity_seen": commodity,
        "licence_seen": _text(form.licence_seen, "licence seen") or pd.NA,
        "notes": _text(form.notes, "notes", limit=MAX_NOTES) or pd.NA, "lon": lon, "lat": lat,
        "photos": json.dumps(_photos(form.photos), ensure_ascii=False), "synthetic": False}])


def _text(value: str | None, field: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise VerificationError(f"the {field} is missing: fill it in, then record the visit again.")
    if len(text) > limit:
        raise VerificationError(f"the {field} is {len(text):,} characters long; keep it under {limit:,}.")
    return text


def _choice(value: str | None, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise VerificationError(f"the {field} {value!r} is not one of the choices: {', '.join(choices)}. Choose "
                                "one from the list.")
    return value


def _day(value: str | None, today: dt.date | None) -> dt.date:
    text = _text(value, "visit date", required=True)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise VerificationError(f"the visit date {text!r} is not a day; write it as YYYY-MM-DD, "
                                "e.g. 2026-03-14.") from None
    today = today or dt.datetime.now(dt.UTC).date()
    if day > today:
        raise VerificationError(f"the visit date {day} is in the future (today is {today}); record a visit once "
                                "it has been made.")
    return day


def _photos(value: str | None) -> list[str]:
    names = [name.strip() for name in _PHOTO_SEPARATORS.split(_text(value, "photo file names", limit=MAX_NOTES))]
    names = [name for name in names if name]
    bad = [name for name in names if "/" in name or "\\" in name]
    if bad:
        raise VerificationError(f"photo {bad[0]!r} is a path; give the photos' file names only, separated by "
                                "commas (e.g. IMG_0012.jpg, IMG_0013.jpg).")
    return names


def _gps(lon: float | None, lat: float | None, data: RunData, site: str, max_gps_km: float) -> tuple[float, float]:
    """The visit's point, checked against the site's footprints in every period; (NaN, NaN) without one."""
    if lon is None and lat is None:
        return math.nan, math.nan
    if lon is None or lat is None:
        raise VerificationError("the GPS point needs both a longitude and a latitude (or neither).")
    lon, lat = float(lon), float(lat)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or math.isnan(lon) or math.isnan(lat):
        raise VerificationError(f"the GPS point ({lon}, {lat}) is not on the earth: longitude is -180 to 180, "
                                "latitude -90 to 90, in decimal degrees (WGS84).")
    x, y = Transformer.from_crs(WGS84, run_crs(data.run_dir, data.manifest), always_xy=True).transform(lon, lat)
    footprints = data.period_shapes[(data.site_periods["site_id"] == site).to_numpy()]
    km = float(shapely.distance(footprints, shapely.Point(x, y)).min()) / 1000
    if km > max_gps_km:
        raise VerificationError(f"the GPS point ({lon:.5f}, {lat:.5f}) is {km:,.1f} km from site {site}, farther "
                                f"than [verification] max_gps_km = {max_gps_km:g}; check the point (longitude "
                                "first, west is negative) or the site id.")
    return lon, lat
