"""Field verification for the dashboard: the run's verification layers, the ledger's visits, and the sentences
that put a measured accuracy next to the KPIs it qualifies.

A run carries what its field verification measured (`verification_estimates`, `threshold_report`), what the
visits changed (`verification_feedback`) and a manifest section ``verification``; a run published before
field verification existed has none of them, and every view then says "no field verification in this run"
instead of failing. The ledger's visits are read live (`Ledger(settings.ledger)`), so a visit recorded on
the dashboard shows at once; site-level rows (feedback, visits) are cut to what the user's role may see.
Sentences, headers and refusals are in the request's language; texts the run wrote (estimate notes, caveats, the
threshold report's sentence) are translated when the catalogue knows their template (`translate_text`).
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
from mrumonitor.i18n import N_, _, day, number, percent
from mrumonitor.i18n.messages import translate_text
from mrumonitor.i18n.vocabulary import word
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
NOT_IN_RUN = N_("Accuracy not measured: no field verification in this run")
#: ... and when the run knows the ledger but no sample has been verified yet.
NOT_YET = N_("Accuracy not measured: no field verification yet")

#: The estimates' quantities in words, and whether each is a proportion (shown in %) or an area (ha).
QUANTITIES = {
    "detection_precision": (N_("Detection precision"), True),
    "user_accuracy": (N_("User's accuracy of the class"), True),
    "mined_area_ha": (N_("Mined area"), False),
    "unregistered_area_ha": (N_("Unregistered area"), False),
}
#: The estimates' scopes in words.
SCOPES = {"overall": N_("Whole region"), "class": N_("Registration class"), "stratum": N_("Stratum")}
#: What a visit found (schema.VISIT_OUTCOMES) and what it changed in the run (the feedback's effects), in words.
OUTCOMES = {"active_mining": N_("active mining"), "inactive_mining": N_("inactive mining"),
            "not_mining": N_("not mining"), "licensed": N_("licensed"), "inaccessible": N_("inaccessible")}
EFFECTS = {"excluded_false_positive": N_("excluded false positive"), "reclassed_licensed": N_("reclassed licensed"),
           "confirmed": N_("confirmed"), "missed_by_detector": N_("missed by the detector"),
           "not_in_run": N_("not in this run")}


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
        return dict.fromkeys(("active_ha", "unregistered_share"), _(NOT_IN_RUN))
    mined = verification.headline("mined_area_ha")
    if mined is None:
        return dict.fromkeys(("active_ha", "unregistered_share"), _(NOT_YET))
    where = _measured_on(mined, period, whole_map)
    precision = verification.headline("detection_precision")
    parts = [_("Field-checked: %(estimate)s", estimate=_estimate(mined))]
    if precision is not None and _ok(precision):
        parts.append(_("precision %(value)s", value=_percent(precision)))
    parts.append(_("%(count)s sites verified, sample %(sample)s, %(period)s", count=number(int(mined["n_verified"])),
                   sample=mined["sample_id"], period=mined["period"]))
    if "SYNTHETIC" in str(mined["message"] or ""):
        parts.append(_("SYNTHETIC visits (demo data)"))
    unregistered = verification.headline("unregistered_area_ha")
    unreg = (_("Field-checked unregistered: %(estimate)s", estimate=_estimate(unregistered))
             if unregistered is not None else _("Unregistered area not estimated in this sample"))
    active = " · ".join(parts)
    return {"active_ha": active + where, "unregistered_share": unreg + where}


def _ok(row: pd.Series) -> bool:
    return row["status"] == "ok" and not math.isnan(row["estimate"])


def _estimate(row: pd.Series) -> str:
    """An area estimate with its 95 % CI and the area the sample's map shows (every site of the sampled period,
    those outside the four countries too: not the KPI above it), or the estimate's own message when the sample is
    too small."""
    if not _ok(row):
        return translate_text(str(row["message"])) if row["message"] else _("not enough verified sites yet")
    values = {"estimate": number(row["estimate"]), "low": number(row["ci_low"]), "high": number(row["ci_high"])}
    if pd.isna(row["mapped"]):
        return _("%(estimate)s ha (95 %% CI %(low)s–%(high)s)", **values)
    return _("%(estimate)s ha (95 %% CI %(low)s–%(high)s) of the %(mapped)s ha the sampled map shows",
             mapped=number(row["mapped"]), **values)


def _percent(row: pd.Series) -> str:
    """A proportion as "88 % ± 7" (half the 95 % interval, in points)."""
    half = (row["ci_high"] - row["ci_low"]) / 2
    return f"{number(100 * row['estimate'])} %" + ("" if math.isnan(half) else f" ± {number(100 * half)}")


def _measured_on(row: pd.Series, period: str, whole_map: bool) -> str:
    notes = []
    if row["period"] != period:
        notes.append(_("accuracy measured on the map of %(measured)s, not of %(period)s", measured=row["period"],
                       period=period))
    if not whole_map:
        notes.append(_("of the whole region's map, not of the filters chosen"))
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
    text = _("Sample %(sample)s, drawn from run %(run)s (%(period)s): %(drawn)s sites drawn, %(verified)s verified.",
             sample=sample_id, run=entry.get("run_id") or first.get("sample_run", "?"),
             period=entry.get("period") or first.get("period", "?"),
             drawn=entry.get("n", first.get("n_sampled", "?")),
             verified=entry.get("n_verified", first.get("n_verified", "?")))
    if entry.get("allocation"):
        strata, allocation = entry.get("strata_by") or [], entry["allocation"]
    else:
        try:  # a run whose manifest does not record the design: the ledger's
            design = ledger.sample(sample_id)
        except VerificationError:
            return text + " " + _("Its design is not in this dashboard's ledger.")
        strata, allocation = design.strata_by, design.allocation
    return text + " " + _("Strata: %(strata)s. Allocation: %(allocation)s", strata=", ".join(strata),
                          allocation=translate_text(str(allocation)))


def threshold_sentence(report: pd.DataFrame, summary: dict) -> str:
    """The threshold report's own sentence (the manifest's ``verification.threshold.message``), or one made
    from the report for a run that does not record it."""
    if isinstance(summary.get("message"), str) and summary["message"]:
        return translate_text(summary["message"])
    current, best = report[report["current"]], report[report["best"]]
    parts = []
    if len(current):
        row = current.iloc[0]
        parts.append(_("At the run's threshold of %(threshold)s %% the verified sites give precision %(precision)s, "
                       "recall %(recall)s, F1 %(f1)s.", threshold=number(row["threshold"]),
                       precision=percent(row["precision"]), recall=percent(row["recall"]), f1=number(row["f1"], 2)))
    if len(best):
        row = best.iloc[0]
        parts.append(_("That is also the best F1 on this sample.") if bool(row["current"]) else
                     _("The best F1 on this sample (%(f1)s) is at %(threshold)s %%.", f1=number(row["f1"], 2),
                       threshold=number(row["threshold"])))
    return " ".join(parts)


# --- tables for people -------------------------------------------------------------------------------------

def estimates_table(estimates: pd.DataFrame) -> pd.DataFrame:
    """The estimates as the page shows them: words for scopes and quantities, rounded numbers with their unit,
    the 95 % interval in one column, the too-few message where there is no number."""
    rows = estimates.reset_index(drop=True)
    share = rows["quantity"].map(lambda q: QUANTITIES.get(q, (q, False))[1]).astype(bool)

    def text(column: str) -> pd.Series:
        values = rows[column].astype(float)
        shares = (100 * values).map(lambda v: "" if math.isnan(v) else f"{number(v, 1)} %")
        hectares = values.map(lambda v: "" if math.isnan(v) else f"{number(v)} ha")
        return shares.where(share, hectares)

    ok = rows["status"].eq("ok").to_numpy()
    interval = (text("ci_low") + " – " + text("ci_high")).where(ok, "")
    return pd.DataFrame({
        _("Sample"): rows["sample_id"].astype(str), _("Map period"): rows["period"].astype(str),
        _("Scope"): rows["scope"].map(lambda scope: _(SCOPES[scope]) if scope in SCOPES else str(scope)),
        _("Stratum or class"): rows["stratum"].map(_stratum),
        _("Figure"): rows["quantity"].map(lambda q: _(QUANTITIES[q][0]) if q in QUANTITIES else str(q)),
        _("Map says"): text("mapped"), _("Estimate"): text("estimate").where(ok, ""), _("Interval (95 %)"): interval,
        _("Verified / drawn"): rows["n_verified"].astype(str) + " / " + rows["n_sampled"].astype(str),
        _("Not reached"): rows["n_inaccessible"].astype(int),
        _("Note"): rows["message"].fillna("").astype(str).map(translate_text),
    })


def feedback_table(feedback: pd.DataFrame, access: Any) -> pd.DataFrame:
    """What the visits changed in the run, the rows of countries `access` may see (site-level)."""
    rows = feedback[_seen(feedback["country"], access)]
    return pd.DataFrame({
        _("Site"): rows["site_id"], _("Country"): rows["country"].map(lambda code: word("country", code)),
        _("Period"): rows["period"], _("Change"): rows["effect"].map(_effect),
        _("Class before"): rows["previous_registration"].map(_registration),
        _("Class now"): rows["registration"].map(_registration),
        _("Why"): rows["reason"],
    }).astype(object).fillna("").reset_index(drop=True)


def _stratum(stratum: object) -> str:
    """A stratum of the estimates in words: "overall", else its registration class and, after a "|", the
    country code of a stratum by class and country ("no licence|GIN"); "" when missing."""
    if pd.isna(stratum):
        return ""
    if stratum == "overall":
        return _("overall")
    code, bar, country = str(stratum).partition("|")
    return word("registration", code) + bar + country


def _registration(code: object) -> str:
    """A registration class in words ("" when missing)."""
    return "" if pd.isna(code) else word("registration", code)


def _effect(effect: object) -> str:
    """What a visit changed in the run (an `EFFECTS` code), in words."""
    if pd.isna(effect):
        return ""
    return _(EFFECTS[effect]) if effect in EFFECTS else str(effect).replace("_", " ")


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
        _("Visited"): visits["visited_on"].map(day), _("Site"): visits["site_id"],
        _("Country"): visits["country"].map(lambda code: word("country", code)), _("Team"): visits["team"],
        _("Found"): visits["outcome"].map(outcome_words),
        _("Commodity"): visits["commodity_seen"].map(lambda code: word("commodity_seen", code)),
        _("Licence seen"): visits["licence_seen"], _("Notes"): visits["notes"],
        _("Entered by"): visits["entered_by"], _("From"): visits["source"],
        _("Synthetic"): visits["synthetic"].map({True: _("SYNTHETIC"), False: ""}), _("Visit id"): visits["visit_id"],
    }).astype(object).where(lambda frame: frame.notna(), "")


def outcome_words(outcome: object) -> str:
    """What a visit found (a VISIT_OUTCOMES code) in words."""
    if pd.isna(outcome):
        return ""
    return _(OUTCOMES[outcome]) if outcome in OUTCOMES else str(outcome).replace("_", " ")


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
        raise VerificationError(_("site %(site)r is not in run %(run)s; copy its id from the map, the site table or "
                                  "the sample's list.", site=site, run=data.run_id))
    row = data.sites.iloc[data.site_index.get_loc(site)]
    if not access.sees_sites(row["countries"]):
        raise AccessDenied(_("site %(site)s lies in %(where)s: user %(user)r (%(country)s agency) may record visits at "
                             "sites in %(country)s only. Ask the regional team to record it.", site=site,
                             where=row["countries"], user=access.user, country=word("country", access.country)))
    outcome = _choice(form.outcome, _("outcome"), VISIT_OUTCOMES)
    commodity = _choice(form.commodity_seen or "unknown", _("commodity seen"), COMMODITIES_SEEN)
    lon, lat = _gps(form.lon, form.lat, data, site, max_gps_km)
    return pd.DataFrame([{
        "site_id": site, "country": row["country"], "visited_on": pd.Timestamp(_day(form.visited_on, today)),
        "team": _text(form.team, _("team"), required=True), "outcome": outcome, "commodity_seen": commodity,
        "licence_seen": _text(form.licence_seen, _("licence seen")) or pd.NA,
        "notes": _text(form.notes, _("notes"), limit=MAX_NOTES) or pd.NA, "lon": lon, "lat": lat,
        "photos": json.dumps(_photos(form.photos), ensure_ascii=False), "synthetic": False}])


def _text(value: str | None, field: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise VerificationError(_("the %(field)s is missing: fill it in, then record the visit again.", field=field))
    if len(text) > limit:
        raise VerificationError(_("the %(field)s is %(length)s characters long; keep it under %(limit)s.",
                                  field=field, length=number(len(text)), limit=number(limit)))
    return text


def _choice(value: str | None, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise VerificationError(_("the %(field)s %(value)r is not one of the choices: %(choices)s. Choose one from "
                                  "the list.", field=field, value=value, choices=", ".join(choices)))
    return value


def _day(value: str | None, today: dt.date | None) -> dt.date:
    text = _text(value, _("visit date"), required=True)
    try:
        visited = dt.date.fromisoformat(text)
    except ValueError:
        raise VerificationError(_("the visit date %(text)r is not a day; write it as YYYY-MM-DD, e.g. 2026-03-14.",
                                  text=text)) from None
    today = today or dt.datetime.now(dt.UTC).date()
    if visited > today:
        raise VerificationError(_("the visit date %(day)s is in the future (today is %(today)s); record a visit once "
                                  "it has been made.", day=visited, today=today))
    return visited


def _photos(value: str | None) -> list[str]:
    names = [name.strip() for name in _PHOTO_SEPARATORS.split(_text(value, _("photo file names"), limit=MAX_NOTES))]
    names = [name for name in names if name]
    bad = [name for name in names if "/" in name or "\\" in name]
    if bad:
        raise VerificationError(_("photo %(name)r is a path; give the photos' file names only, separated by commas "
                                  "(e.g. IMG_0012.jpg, IMG_0013.jpg).", name=bad[0]))
    return names


def _gps(lon: float | None, lat: float | None, data: RunData, site: str, max_gps_km: float) -> tuple[float, float]:
    """The visit's point, checked against the site's footprints in every period; (NaN, NaN) without one."""
    if lon is None and lat is None:
        return math.nan, math.nan
    if lon is None or lat is None:
        raise VerificationError(_("the GPS point needs both a longitude and a latitude (or neither)."))
    lon, lat = float(lon), float(lat)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or math.isnan(lon) or math.isnan(lat):
        raise VerificationError(_("the GPS point (%(lon)s, %(lat)s) is not on the earth: longitude is -180 to 180, "
                                  "latitude -90 to 90, in decimal degrees (WGS84).", lon=lon, lat=lat))
    x, y = Transformer.from_crs(WGS84, run_crs(data.run_dir, data.manifest), always_xy=True).transform(lon, lat)
    footprints = data.period_shapes[(data.site_periods["site_id"] == site).to_numpy()]
    km = float(shapely.distance(footprints, shapely.Point(x, y)).min()) / 1000
    if km > max_gps_km:
        raise VerificationError(_("the GPS point (%(lon)s, %(lat)s) is %(km)s km from site %(site)s, farther than the "
                                  "%(limit)s km allowed; check the point (longitude first, west is negative) or the "
                                  "site id.", lon=round(lon, 5), lat=round(lat, 5), km=number(km, 1), site=site,
                                  limit=number(max_gps_km, 1)))
    return lon, lat
