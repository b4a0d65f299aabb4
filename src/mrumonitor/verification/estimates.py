"""The estimates of one sample: how precise the detections are, and how much area is truly mined, with 95 % CIs.

A sample (`SampleDesign`) drew sites at random within strata of one run and period; field teams visited them.
`sample_estimates` turns the visits into the rows of ESTIMATE_COLUMNS with the stratified estimators of
`estimators` (Olofsson et al. 2014, in the general form for sites of unequal area). The rules:

- Each drawn site counts with the latest CONCLUSIVE visit of its site (`feedback.latest_outcomes`); a drawn site
  with only ``inaccessible`` visits is non-response (n_inaccessible); one never visited is not yet verified.
  The estimates use the verified sites of each stratum: non-response is taken to be at random within its
  stratum (the message says so wherever a stratum has some). Visits to sites the sample did not draw never
  enter an estimate, whatever they found.
- A site's size x is its mapped area_ha; a stratum's mapped area X_h is ``strata.mapped_ha`` and its size N_h
  ``strata.population`` (the finite-population correction; a stratum whose every site was verified is a census
  and adds no variance).
- The quantities, overall (scope "overall"), per stratum (scope "stratum") and per registration class (scope
  "class", stratum = the class, pooling the strata of that class):

  * ``detection_precision``: the share of the mapped area that is mining (an outcome of MINING_OUTCOMES);
  * ``user_accuracy``: the share of the mapped area whose registration class the field confirms: for a class of
    UNREGISTERED_CLASSES ``active_mining`` or ``inactive_mining`` (mining, and no licence shown); for
    ``registered`` and ``not_assessed`` any outcome of MINING_OUTCOMES;
  * ``mined_area_ha``: the error-adjusted mined area (y = x where mining, else 0);
  * ``unregistered_area_ha``: the error-adjusted unregistered area (y = x where mining, the site is mapped in a
    class of UNREGISTERED_CLASSES and the field did not find it ``licensed``).

  `mapped` is the map's own figure: 1.0 for the shares, the strata's mapped area for the areas (for the
  unregistered area, that of the strata of unregistered classes).
- Strata and classes: when the strata are made of the registration (``strata_by`` holds "registration") a class
  pools its strata, and the unregistered area draws on the strata of unregistered classes only. Otherwise a
  class is a domain cutting across the strata: its shares are ratios of two estimated totals (the domain's
  mining area over its estimated mapped area, with the linearised variance), its areas totals over every
  stratum, and the map's own figure for it is not in the design (`mapped` NaN).
- Too few: an estimate is shown (status "ok") only when every stratum it draws on has at least
  ``verification.min_verified`` verified sites, or all of its sites verified (a stratum smaller than that); else
  the status is "too_few", estimate, se and the interval are NaN, and the message says which strata need how
  many more verified sites.
- Intervals are estimate ± 1.96 se, clipped to [0, 1] for the shares and to [0, ∞) for the areas.
- Producer's accuracy (how much of the truly mined area the detector found) is NOT estimated: the sample is
  drawn from the detections only, so what the detector missed (omission) is never in it.
- Visits marked synthetic (the demo's) are said to be so in the message of every estimate resting on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mrumonitor.analysis.feedback import latest_outcomes
from mrumonitor.config import VerificationSettings
from mrumonitor.i18n import N_
from mrumonitor.schema import ESTIMATE_COLUMNS, MINING_OUTCOMES, REGISTRATION_CLASSES, UNREGISTERED_CLASSES
from mrumonitor.verification.design import SampleDesign
from mrumonitor.verification.estimators import Estimate, stratified_proportion, stratified_ratio, stratified_total

#: The quantities, in the order of the rows: the shares, then the areas.
QUANTITIES = ("detection_precision", "user_accuracy", "mined_area_ha", "unregistered_area_ha")
_SHARES = ("detection_precision", "user_accuracy")
#: The unit column holding each quantity's y.
_Y = {"detection_precision": "mined", "user_accuracy": "confirmed", "mined_area_ha": "mined",
      "unregistered_area_ha": "unregistered"}
#: The outcomes that confirm a site mapped in an unregistered class: mining, and no licence shown.
_UNLICENSED_MINING = ("active_mining", "inactive_mining")
#: The overall quantities of the headline (the manifest's and the dashboard's figures).
HEADLINE = ("detection_precision", "mined_area_ha", "unregistered_area_ha")
#: The columns every row of a sample shares (set once, from the design).
_DESIGN_COLUMNS = ("sample_id", "sample_run", "period")
#: What an estimate rests on, one site or several (English, from templates; `i18n.messages` translates them).
INACCESSIBLE = (N_("%(count)s inaccessible site (%(strata)s) taken to be like the verified sites of its stratum"),
                N_("%(count)s inaccessible sites (%(strata)s) taken to be like the verified sites of their stratum"))
SYNTHETIC_VISITS = (N_("rests on %(count)s SYNTHETIC visit (demo data, not field checks)"),
                    N_("rests on %(count)s SYNTHETIC visits (demo data, not field checks)"))


@dataclass(frozen=True)
class _Target:
    """What one estimate is of: the drawn sites of its domain, the strata it draws on, and whether the domain is
    those strata entirely (`whole`: a share of their mapped area) or cuts across them (a ratio of totals)."""

    scope: str
    label: str
    domain: pd.Series
    strata: pd.Index
    whole: bool


def sample_estimates(design: SampleDesign, visits: pd.DataFrame, settings: VerificationSettings) -> pd.DataFrame:
    """The estimates of `design`'s sample from the ledger's `visits` (rules of the module docstring).

    Parameters
    ----------
    design : SampleDesign
        The sample: its strata (sizes, mapped areas) and its drawn sites.
    visits : DataFrame
        The ledger's visits (VISIT_COLUMNS) of any site: those of sites the sample did not draw are left out.
    settings : VerificationSettings
        ``min_verified``: the verified sites a stratum needs before an estimate drawing on it is shown.

    Returns
    -------
    DataFrame
        ESTIMATE_COLUMNS: overall, then per stratum, then per registration class, QUANTITIES in order within each.
    """
    units = _units(design, visits)
    strata = design.strata.set_index("stratum").rename(columns={"mapped_ha": "mapped"})
    rows = [_row(units, strata, target, quantity, settings.min_verified)
            for target, quantity in _targets(design, units, strata)]
    frame = pd.DataFrame(rows, columns=[name for name in ESTIMATE_COLUMNS if name not in _DESIGN_COLUMNS])
    frame = frame.assign(sample_id=design.sample_id, sample_run=design.run_id, period=design.period)
    return frame[list(ESTIMATE_COLUMNS)].astype(ESTIMATE_COLUMNS)


def headline(estimates: pd.DataFrame) -> dict:
    """The overall detection precision, mined area and unregistered area of one sample's `estimates`.

    Returns ``{quantity: {"estimate", "ci_low", "ci_high", "status", "message", "n_verified"}}`` (None for a
    number not shown) for the manifest and the dashboard; a quantity the sample has no estimate of is absent.
    """
    overall = estimates[estimates["scope"] == "overall"].drop_duplicates("quantity", keep="last")
    return {row.quantity: {"estimate": _number(row.estimate), "ci_low": _number(row.ci_low),
                           "ci_high": _number(row.ci_high), "status": str(row.status),
                           "message": "" if pd.isna(row.message) else str(row.message),
                           "n_verified": int(row.n_verified)}
            for row in overall.itertuples() if row.quantity in HEADLINE}


def _units(design: SampleDesign, visits: pd.DataFrame) -> pd.DataFrame:
    """The drawn sites (stratum, registration) with what the field found: verified (a conclusive visit),
    inaccessible (only inaccessible visits), synthetic, x and the y of each quantity (hectares)."""
    drawn = visits[visits["site_id"].isin(design.units["site_id"])]
    latest = latest_outcomes(drawn)[["site_id", "outcome", "synthetic"]]
    units = design.units.merge(latest, on="site_id", how="left")
    outcome = units["outcome"].fillna("").to_numpy(str)
    refused = drawn.loc[drawn["outcome"] == "inaccessible", "site_id"]
    x = units["area_ha"].to_numpy("float64")
    mining = np.isin(outcome, MINING_OUTCOMES)
    unregistered_class = units["registration"].isin(UNREGISTERED_CLASSES).to_numpy(bool)
    confirmed = np.where(unregistered_class, np.isin(outcome, _UNLICENSED_MINING), mining)
    return pd.DataFrame({
        "stratum": units["stratum"].to_numpy(object), "registration": units["registration"].to_numpy(object),
        "verified": outcome != "", "inaccessible": (outcome == "") & units["site_id"].isin(refused).to_numpy(bool),
        "synthetic": units["synthetic"].fillna(False).to_numpy(bool), "x": x, "mined": x * mining,
        "confirmed": x * confirmed, "unregistered": x * (mining & unregistered_class & (outcome != "licensed"))})

def _targets(design: SampleDesign, units: pd.DataFrame, strata: pd.DataFrame) -> list[tuple[_Target, str]]:
    """Every (target, quantity) of the sample's rows, in order."""
    by_class = "registration" in design.strata_by
    every = pd.Series(True, index=units.index)
    targets = [_Target("overall", "overall", every, strata.index, True),
               *(_Target("stratum", name, units["stratum"] == name, pd.Index([name]), True)
                 for name in strata.index)]
    classes = set((strata["registration"] if by_class else units["registration"]).dropna())
    for name in [*[c for c in REGISTRATION_CLASSES if c in classes], *sorted(classes - set(REGISTRATION_CLASSES))]:
        within = strata.index[strata["registration"] == name] if by_class else strata.index
        targets.append(_Target("class", name, units["registration"] == name, within, by_class))
    unregistered_strata = (strata.index[strata["registration"].isin(UNREGISTERED_CLASSES)] if by_class
                           else strata.index)
    unregistered_units = units["registration"].isin(UNREGISTERED_CLASSES)
    pairs = []
    for target in targets:
        pairs += [(target, quantity) for quantity in QUANTITIES if quantity != "unregistered_area_ha"]
        within = target.strata.intersection(unregistered_strata, sort=False)
        if len(within) and (target.scope != "class" or target.label in UNREGISTERED_CLASSES):
            pairs.append((_Target(target.scope, target.label, target.domain & unregistered_units, within, by_class),
                          "unregistered_area_ha"))
    return pairs


def _row(units: pd.DataFrame, strata: pd.DataFrame, target: _Target, quantity: str, min_verified: int) -> dict:
    """One row of ESTIMATE_COLUMNS (without the design's columns)."""
    drawn = units[units["stratum"].isin(target.strata)]
    domain = units[target.domain]
    chosen = strata.loc[target.strata]
    mapped = 1.0 if quantity in _SHARES else float(chosen["mapped"].sum()) if target.whole else np.nan
    row = {"scope": target.scope, "stratum": target.label, "quantity": quantity, "mapped": mapped,
           "n_sampled": len(domain), "n_verified": int(domain["verified"].sum()),
           "n_inaccessible": int(domain["inaccessible"].sum())}
    shortfall = _shortfall(drawn, chosen, min_verified)
    if shortfall:
        return {**row, "estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "status": "too_few",
                "message": shortfall}
    estimate = _estimate(drawn[drawn["verified"]], chosen, target, quantity)
    return {**row, "estimate": estimate.value, "se": estimate.se, "ci_low": estimate.ci_low,
            "ci_high": estimate.ci_high, "status": "ok", "message": _caveats(drawn)}


def _estimate(verified: pd.DataFrame, strata: pd.DataFrame, target: _Target, quantity: str) -> Estimate:
    """The estimator of `quantity` for `target` on the verified sites of its strata."""
    inside = target.domain.loc[verified.index].astype("float64")
    frame = verified.assign(y=verified[_Y[quantity]] * inside)
    if quantity not in _SHARES:
        return stratified_total(frame, strata, "y")
    if target.whole:
        return stratified_proportion(frame, strata, "y")
    return stratified_ratio(frame.assign(z=frame["x"] * inside), strata, "y", "z")


def _shortfall(drawn: pd.DataFrame, strata: pd.DataFrame, min_verified: int) -> str:
    """What the strata lack before an estimate drawing on them is shown, in words; "" when nothing."""
    verified = drawn[drawn["verified"]].groupby("stratum", observed=True).size()
    verified = verified.reindex(strata.index, fill_value=0).to_numpy()
    needed = np.minimum(min_verified, strata["population"].to_numpy())
    lacking = [(name, have, need) for name, have, need in zip(strata.index, verified, needed) if have < need]
    if not lacking:
        return ""
    missing = sum(need - have for _, have, need in lacking)
    sites = f"{missing} more verified site{'s' if missing > 1 else ''}"
    if len(lacking) == 1:
        name, have, need = lacking[0]
        return f"needs {sites} in {name} ({have} verified, {need} needed)"
    return f"needs {sites}: " + ", ".join(f"{need - have} in {name} ({have} verified, {need} needed)"
                                          for name, have, need in lacking)


def _caveats(drawn: pd.DataFrame) -> str:
    """What an estimate assumes or rests on, in words: non-response, synthetic visits; "" when nothing. The
    inaccessible sites are counted per stratum as "stratum: count"."""
    notes = []
    lost = drawn[drawn["inaccessible"]].groupby("stratum", observed=True).size()
    if len(lost):
        count = int(lost.sum())
        strata = ", ".join(f"{name}: {lost_here}" for name, lost_here in lost.items())
        notes.append(INACCESSIBLE[count > 1] % {"count": count, "strata": strata})
    synthetic = int((drawn["verified"] & drawn["synthetic"]).sum())
    if synthetic:
        notes.append(SYNTHETIC_VISITS[synthetic > 1] % {"count": synthetic})
    return "; ".join(notes)


def _number(value: float) -> float | None:
    return None if pd.isna(value) else float(value)
