"""The estimates of one sample: hand-computed values, repeated visits, too few sites, a census, undrawn sites."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrumonitor.config import VerificationSettings
from mrumonitor.schema import ESTIMATE_COLUMNS, VISIT_COLUMNS
from mrumonitor.verification.design import STRATUM_COLUMNS, UNIT_COLUMNS, SampleDesign
from mrumonitor.verification.estimates import headline, sample_estimates
from mrumonitor.verification.ledger import Ledger

pytestmark = pytest.mark.unit

SETTINGS = VerificationSettings(min_verified=3)

#: Stratum no_licence|GIN: 10 sites, 60 ha mapped; 3 drawn of 2, 4 and 6 ha. registered|GIN: 2 sites, 10 ha,
#: both drawn (a census, smaller than min_verified).
STRATA = [("no_licence|GIN", "no_licence", 10, 60.0, 3), ("registered|GIN", "registered", 2, 10.0, 2)]
UNITS = [("a1", "no_licence|GIN", "no_licence", 2.0), ("a2", "no_licence|GIN", "no_licence", 4.0),
         ("a3", "no_licence|GIN", "no_licence", 6.0), ("b1", "registered|GIN", "registered", 4.0),
         ("b2", "registered|GIN", "registered", 6.0)]
#: What the field found: a1 mined, a2 a false positive, a3 mined under a licence; b1, b2 mined.
FOUND = {"a1": "active_mining", "a2": "not_mining", "a3": "licensed", "b1": "active_mining",
         "b2": "inactive_mining"}


def design(strata=STRATA, units=UNITS, strata_by=("registration", "country")) -> SampleDesign:
    """A sample design over `strata` (stratum, registration, population, mapped_ha, allocated) and `units`
    (site_id, stratum, registration, area_ha), all in Guinea."""
    frame = pd.DataFrame(strata, columns=["stratum", "registration", "population", "mapped_ha", "allocated"])
    frame["country"] = "GIN"
    drawn = pd.DataFrame(units, columns=["site_id", "stratum", "registration", "area_ha"])
    drawn = drawn.assign(draw=drawn.groupby("stratum").cumcount() + 1, country="GIN", licence_id="", lon=-10.0,
                         lat=10.0, nearest_place="Kankan 3 km", nearest_crossing="")
    return SampleDesign(sample_id="S1", run_id="R1", period="2025", strata_by=tuple(strata_by), n=len(drawn),
                        seed=1, min_per_stratum=3, allocation="test", created="2026-12-05T00:00:00Z",
                        created_by="test",
                        strata=frame[["stratum", *strata_by, *list(STRATUM_COLUMNS)[1:]]].astype(
                            {**STRATUM_COLUMNS, **dict.fromkeys(strata_by, "string")}),
                        units=drawn[list(UNIT_COLUMNS)].astype(UNIT_COLUMNS))


def visits(found: dict[str, str] = FOUND, day: str = "2026-03-01", synthetic: bool = False) -> pd.DataFrame:
    """One visit per site of `found` on `day`."""
    frame = pd.DataFrame({"site_id": list(found), "outcome": list(found.values())})
    frame = frame.assign(visit_id="v-" + frame["site_id"] + "-" + day, country="GIN", team="T1",
                         visited_on=pd.Timestamp(day), entered_at=pd.Timestamp(day), synthetic=synthetic)
    return frame.reindex(columns=list(VISIT_COLUMNS)).astype(VISIT_COLUMNS)


def pick(estimates: pd.DataFrame, scope: str, stratum: str, quantity: str) -> pd.Series:
    rows = estimates[(estimates["scope"] == scope) & (estimates["stratum"] == stratum)
                     & (estimates["quantity"] == quantity)]
    assert len(rows) == 1, f"{scope} {stratum} {quantity}: {len(rows)} rows"
    return rows.iloc[0]


# Hand computation for no_licence|GIN: x = 2, 4, 6 (mean 4), n = 3 of N = 10, X = 60.
#   mined y = 2, 0, 6: R = 8/12, total 40; residuals y - R x; V = 60² (1 - 3/10) s² / (3 · 4²)
#   confirmed (no licence shown) y = 2, 0, 0: R = 2/12, total 10; unregistered the same (a3 was licensed)
# registered|GIN is a census: total 10 ha mined, confirmed 10 ha, no variance.
def _variance(y):
    x = np.array([2.0, 4.0, 6.0])
    residuals = np.asarray(y) - sum(y) / x.sum() * x
    return 60.0**2 * (1 - 3 / 10) * residuals.var(ddof=1) / (3 * 4.0**2)


MINED_SE = np.sqrt(_variance([2.0, 0.0, 6.0]))
CONFIRMED_SE = np.sqrt(_variance([2.0, 0.0, 0.0]))


@pytest.fixture(scope="module")
def estimates() -> pd.DataFrame:
    """The estimates of the sample with every drawn site verified (FOUND)."""
    return sample_estimates(design(), visits(), SETTINGS)


@pytest.mark.parametrize(("scope", "stratum", "quantity", "mapped", "value", "se"), [
    ("overall", "overall", "mined_area_ha", 70.0, 50.0, MINED_SE),
    ("overall", "overall", "detection_precision", 1.0, 50.0 / 70.0, MINED_SE / 70.0),
    ("overall", "overall", "user_accuracy", 1.0, 20.0 / 70.0, CONFIRMED_SE / 70.0),
    ("overall", "overall", "unregistered_area_ha", 60.0, 10.0, CONFIRMED_SE),
    ("stratum", "no_licence|GIN", "mined_area_ha", 60.0, 40.0, MINED_SE),
    ("stratum", "no_licence|GIN", "user_accuracy", 1.0, 2.0 / 12.0, CONFIRMED_SE / 60.0),
    ("stratum", "registered|GIN", "mined_area_ha", 10.0, 10.0, 0.0),
    ("stratum", "registered|GIN", "detection_precision", 1.0, 1.0, 0.0),
    ("class", "no_licence", "unregistered_area_ha", 60.0, 10.0, CONFIRMED_SE),
    ("class", "registered", "user_accuracy", 1.0, 1.0, 0.0),
])
def test_hand_computed_estimates(estimates, scope, stratum, quantity, mapped, value, se):
    row = pick(estimates, scope, stratum, quantity)
    assert row["status"] == "ok"
    assert (row["mapped"], row["estimate"], row["se"]) == pytest.approx((mapped, value, se))
    assert row["ci_low"] == pytest.approx(max(value - 1.96 * se, 0.0))
    assert row["ci_high"] == pytest.approx(value + 1.96 * se if quantity.endswith("_ha") else min(value + 1.96 * se,
                                                                                                   1.0))


def test_the_frame_has_the_layer_columns_and_a_registered_stratum_has_no_unregistered_row(estimates):
    assert dict(estimates.dtypes.astype(str)) == ESTIMATE_COLUMNS
    assert set(estimates[["sample_id", "sample_run", "period"]].itertuples(index=False)) == {("S1", "R1", "2025")}
    unregistered = estimates[estimates["quantity"] == "unregistered_area_ha"]
    assert list(unregistered["stratum"]) == ["overall", "no_licence|GIN", "no_licence"]
    assert set(estimates.loc[estimates["scope"] == "class", "stratum"]) == {"no_licence", "registered"}


def test_a_census_stratum_has_no_variance_and_its_interval_is_a_point(estimates):
    row = pick(estimates, "stratum", "registered|GIN", "mined_area_ha")
    assert (row["se"], row["ci_low"], row["ci_high"]) == (0.0, 10.0, 10.0)


def test_the_latest_conclusive_visit_counts_and_inaccessible_never_outweighs_it(estimates):
    earlier = visits({"a1": "not_mining", "a3": "not_mining"}, day="2026-01-10")
    later = visits({"a1": "inaccessible", "a3": "inaccessible", "b1": "inaccessible"}, day="2026-06-01")
    everything = pd.concat([earlier, visits(), later], ignore_index=True)
    got = sample_estimates(design(), everything, SETTINGS)
    pd.testing.assert_frame_equal(got, estimates)
    assert pick(got, "overall", "overall", "mined_area_ha")["n_inaccessible"] == 0


def test_a_site_with_only_inaccessible_visits_is_non_response():
    found = {**FOUND, "a2": "inaccessible"}
    got = sample_estimates(design(strata=[(*STRATA[0][:4], 4), STRATA[1]],
                                  units=[*UNITS, ("a4", "no_licence|GIN", "no_licence", 3.0)]),
                           visits({**found, "a4": "active_mining"}), SETTINGS)
    row = pick(got, "stratum", "no_licence|GIN", "mined_area_ha")
    assert (row["n_sampled"], row["n_verified"], row["n_inaccessible"]) == (4, 3, 1)
    assert row["status"] == "ok"
    assert "1 inaccessible site (no_licence|GIN: 1) taken to be like the verified sites" in row["message"]
    # a1, a3, a4 verified (2, 6, 3 ha, all mining): the ratio of the verified sites scales to the stratum
    assert row["estimate"] == pytest.approx(60.0)


def test_too_few_verified_sites_show_no_number_and_say_how_many_more():
    got = sample_estimates(design(), visits({"a1": "active_mining", "b1": "active_mining", "b2": "not_mining"}),
                           SETTINGS)
    stratum = pick(got, "stratum", "no_licence|GIN", "detection_precision")
    assert stratum["status"] == "too_few"
    assert np.isnan([stratum["estimate"], stratum["se"], stratum["ci_low"], stratum["ci_high"]]).all()
    assert stratum["message"] == "needs 2 more verified sites in no_licence|GIN (1 verified, 3 needed)"
    overall = pick(got, "overall", "overall", "mined_area_ha")
    assert overall["status"] == "too_few" and overall["message"] == stratum["message"]
    assert pick(got, "stratum", "registered|GIN", "mined_area_ha")["status"] == "ok"
    one_short = sample_estimates(design(), visits({k: v for k, v in FOUND.items() if k != "a2"}), SETTINGS)
    assert pick(one_short, "overall", "overall", "user_accuracy")["message"] == (
        "needs 1 more verified site in no_licence|GIN (2 verified, 3 needed)")
    two_strata = sample_estimates(design(), visits({"a1": "active_mining", "b1": "active_mining"}), SETTINGS)
    assert pick(two_strata, "overall", "overall", "mined_area_ha")["message"] == (
        "needs 3 more verified sites: 2 in no_licence|GIN (1 verified, 3 needed), 1 in registered|GIN (1 verified, "
        "2 needed)")


def test_visits_to_sites_that_were_not_drawn_never_enter_an_estimate(estimates):
    strangers = visits({"z1": "not_mining", "z2": "active_mining", "z3": "inaccessible"})
    got = sample_estimates(design(), pd.concat([visits(), strangers], ignore_index=True), SETTINGS)
    pd.testing.assert_frame_equal(got, estimates)


def test_a_class_across_strata_is_a_ratio_of_estimated_totals():
    """Strata by country only: the classes are domains of the one stratum GIN (all 5 sites of 30 ha drawn of
    50 sites, 300 ha)."""
    units = [(site, "GIN", registration, area) for site, _, registration, area in UNITS]
    got = sample_estimates(design(strata=[("GIN", "", 50, 300.0, 5)], units=units, strata_by=("country",)),
                           visits(), SETTINGS)
    no_licence = pick(got, "class", "no_licence", "user_accuracy")
    assert no_licence["estimate"] == pytest.approx(2.0 / 12.0)  # one stratum: Σy / Σx over the domain's sites
    assert np.isnan(pick(got, "class", "no_licence", "mined_area_ha")["mapped"])
    overall = pick(got, "overall", "overall", "unregistered_area_ha")
    assert overall["estimate"] == pytest.approx(300.0 * 2.0 / 22.0) and np.isnan(overall["mapped"])


def test_synthetic_visits_are_said_to_be_so():
    row = pick(sample_estimates(design(), visits(synthetic=True), SETTINGS), "overall", "overall", "mined_area_ha")
    assert "rests on 5 SYNTHETIC visits (demo data, not field checks)" in row["message"]


def test_headline_gives_the_overall_figures_for_the_manifest(estimates):
    got = headline(estimates)
    assert set(got) == {"detection_precision", "mined_area_ha", "unregistered_area_ha"}
    assert got["mined_area_ha"]["estimate"] == pytest.approx(50.0)
    assert got["mined_area_ha"]["n_verified"] == 5 and got["mined_area_ha"]["status"] == "ok"
    short = headline(sample_estimates(design(), visits({"b1": "active_mining"}), SETTINGS))
    assert short["detection_precision"]["estimate"] is None and short["detection_precision"]["status"] == "too_few"


def test_estimates_of_a_sample_and_visits_read_back_from_a_ledger(tmp_path):
    """The path a run takes: the design and the visits stored in a real ledger file and read back."""
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.save_sample(design())
    ledger.append_visits(visits().drop(columns=["entered_by", "entered_at", "source"]), "tester", "test")
    got = sample_estimates(ledger.sample("latest"), ledger.visits(), SETTINGS)
    row = pick(got, "overall", "overall", "mined_area_ha")
    assert (row["estimate"], row["se"]) == pytest.approx((50.0, MINED_SE))
