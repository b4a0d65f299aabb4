"""Field verification on the dashboard: the accuracy lines under the KPIs, the Field checks page, and the entry of
a visit, whose rules hold on the server whatever the request.

The KPI lines are checked on hand-made estimates (ok, too few, none, a run without verification), then through
the overview's callback on a copy of the demo run holding the verification layers; the entry callback is posted
as a browser posts it (agency user at another country's site, at its own, a user without field_entry, logins
off); and headless Chromium logs in, records a visit, sees it listed, and sees the accuracy on the overview.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import (
    DASHBOARD_USERS,
    FlaskClient,
    HttpClient,
    callback_body,
    log_in,
    running_server,
    with_auth,
)
from selenium.webdriver.common.by import By

from mrumonitor.config import Settings
from mrumonitor.dashboard.access import REGIONAL, Access
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.components import CLASS_LABELS, legend
from mrumonitor.dashboard.filters import default_filters
from mrumonitor.dashboard.run import load_run
from mrumonitor.dashboard.verification_data import (
    NOT_YET,
    RunVerification,
    VisitForm,
    accuracy_lines,
    checked_visit,
    estimates_table,
    feedback_table,
    ledger_visits,
    sample_sentence,
    threshold_sentence,
)
from mrumonitor.errors import AccessDenied, VerificationError
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import ESTIMATE_COLUMNS, FEEDBACK_COLUMNS, NOT_MINING_CLASS, THRESHOLD_COLUMNS
from mrumonitor.store.runs import read_manifest, resolve_run
from mrumonitor.verification.design import UNIT_COLUMNS, SampleDesign
from mrumonitor.verification.ledger import Ledger

SAMPLE = "S20260601T100000Z-test"
SLE_AGENCY = Access("nma_sle", "agency", "SLE")
#: The headline line for the estimates of `estimates()` (period 2026H1, 58 verified).
OK_LINE = ("Field-checked: 1,234 ha (95 % CI 1,100–1,370) of the 1,500 ha the sampled map shows · precision 88 % ± 7 · "
           "58 sites verified, "
           f"sample {SAMPLE}, 2026H1")
TOO_FEW = "Not enough verified sites yet: needs 3 more in no_licence|GIN"
SYNTHETIC_CAVEAT = "The verified sample is SYNTHETIC: made up by the test, no team went there."
ALLOCATION = "proportional to the sites of each stratum, at least 5 per stratum"


def design() -> SampleDesign:
    """The design of the sample `SAMPLE` (one stratum, no unit: the page shows only its words)."""
    strata = pd.DataFrame({"stratum": ["no_licence"], "population": [100], "mapped_ha": [1500.0], "allocated": [60],
                           "registration": ["no_licence"]})
    units = pd.DataFrame({column: pd.Series(dtype=kind) for column, kind in UNIT_COLUMNS.items()})
    return SampleDesign(sample_id=SAMPLE, run_id="R-sample", period="2026H1", strata_by=("registration",), n=60,
                        seed=7, min_per_stratum=5, allocation=ALLOCATION, created="2026-06-01T10:00:00Z",
                        created_by="kp_team", strata=strata, units=units)


def estimates(period: str = "2026H1", mined_status: str = "ok") -> pd.DataFrame:
    """Estimates of one sample: overall precision, mined and unregistered area, a class and a too-few stratum."""
    rows = [("overall", "", "detection_precision", 1.0, 0.88, 0.81, 0.95, "ok", ""),
            ("overall", "", "mined_area_ha", 1500.0, 1234.0, 1100.0, 1370.0, mined_status,
             TOO_FEW if mined_status != "ok" else ""),
            ("overall", "", "unregistered_area_ha", 900.0, 812.4, 700.0, 925.0, "ok", ""),
            ("class", "no_licence", "user_accuracy", 1.0, 0.9, 0.8, 1.0, "ok", ""),
            ("stratum", "no_licence|GIN", "detection_precision", 1.0, np.nan, np.nan, np.nan, "too_few", TOO_FEW)]
    frame = pd.DataFrame(rows, columns=["scope", "stratum", "quantity", "mapped", "estimate", "ci_low", "ci_high",
                                        "status", "message"])
    frame.loc[frame["status"] != "ok", ["estimate", "ci_low", "ci_high"]] = np.nan
    return frame.assign(sample_id=SAMPLE, sample_run="R-sample", period=period, se=0.03, n_sampled=60,
                        n_verified=58, n_inaccessible=2)[list(ESTIMATE_COLUMNS)].astype(ESTIMATE_COLUMNS)


def verification(frame: pd.DataFrame | None, section: dict | None = None) -> RunVerification:
    empty = {name: pd.DataFrame({c: pd.Series(dtype=k) for c, k in cols.items()})
             for name, cols in (("threshold", THRESHOLD_COLUMNS), ("feedback", FEEDBACK_COLUMNS))}
    present = frame is not None
    return RunVerification(present=present, section=section or ({"ledger": None} if present else {}),
                           estimates=frame if present else estimates().iloc[0:0], **empty)


@pytest.mark.unit
def test_kpi_lines_ok_too_few_none_and_an_older_run():
    lines = accuracy_lines(verification(estimates()), "2026H1")
    assert lines["active_ha"] == OK_LINE
    assert lines["unregistered_share"] == ("Field-checked unregistered: 812 ha (95 % CI 700–925) of the 900 ha the "
                                           "sampled map shows")
    too_few = accuracy_lines(verification(estimates(mined_status="too_few")), "2026H1")["active_ha"]
    assert too_few.startswith(f"Field-checked: {TOO_FEW} · precision 88 % ± 7")
    assert "1,234" not in too_few
    assert set(accuracy_lines(verification(estimates().iloc[0:0]), "2026H1").values()) == {NOT_YET}
    synthetic = estimates().assign(message="rests on 58 SYNTHETIC visits (demo data, not field checks)")
    assert accuracy_lines(verification(synthetic), "2026H1")["active_ha"].endswith(" · SYNTHETIC visits (demo data)")
    old = accuracy_lines(verification(None), "2026H1")
    assert old["active_ha"] == "Accuracy not measured: no field verification in this run"


@pytest.mark.unit
def test_kpi_line_says_when_the_accuracy_is_of_another_period_or_of_the_whole_map():
    lines = accuracy_lines(verification(estimates(period="2025H2")), "2026H1", whole_map=False)
    for line in lines.values():
        assert line.endswith("(accuracy measured on the map of 2025H2, not of 2026H1; of the whole region's map, "
                             "not of the filters chosen)")


@pytest.mark.unit
def test_estimates_table_is_readable():
    table = estimates_table(estimates())
    assert all("_" not in column for column in table.columns)
    overall = table.set_index("Figure")
    assert overall.loc["Mined area", "Estimate"] == "1,234 ha"
    assert overall.loc["Mined area", "Interval (95 %)"] == "1,100 ha – 1,370 ha"
    assert overall.loc["Unregistered area", "Estimate"] == "812 ha"
    stratum = table[table["Scope"] == "Stratum"].iloc[0]
    assert stratum["Estimate"] == "" and stratum["Interval (95 %)"] == "" and stratum["Note"] == TOO_FEW
    assert table.loc[table["Figure"] == "Mined area", "Note"].tolist() == [""]
    assert stratum["Stratum or class"] == "no licence|GIN" and stratum["Verified / drawn"] == "58 / 60"
    assert table[table["Scope"] == "Whole region"]["Figure"].tolist()[0] == "Detection precision"
    assert table.iloc[0]["Estimate"] == "88.0 %"


@pytest.mark.unit
def test_the_runs_own_design_and_threshold_sentence_come_first(tmp_path):
    """A run records its samples' allocation and the threshold report's sentence: the page says them as
    recorded (the ledger of today is only asked for a run that does not)."""
    section = {"samples": [{"sample_id": SAMPLE, "run_id": "R-sample", "period": "2026H1", "n": 60,
                            "n_verified": 58, "strata_by": ["registration", "country"], "allocation": ALLOCATION}]}
    text = sample_sentence(verification(estimates(), section), Ledger(tmp_path / "none.sqlite"))
    assert f"Strata: registration, country. Allocation: {ALLOCATION}" in text
    report = pd.DataFrame({"threshold": [40, 50], "precision": [0.8, 0.9], "recall": [0.9, 0.7],
                           "f1": [0.85, 0.79], "current": [False, True], "best": [True, False]})
    assert threshold_sentence(report, {}) == ("At the run's threshold of 50 % the verified sites give precision 90%, "
                                              "recall 70%, F1 0.79. The best F1 on this sample (0.85) is at 40 %.")
    assert threshold_sentence(report, {"message": "The report's own words."}) == "The report's own words."


@pytest.mark.unit
def test_legend_and_filter_name_the_not_mining_class_readably():
    assert "verified not mining (field-checked false positive)" in str(legend())
    assert "verified_not_mining" not in CLASS_LABELS[NOT_MINING_CLASS]


@pytest.mark.unit
def test_feedback_is_cut_to_the_agencys_country():
    feedback = pd.DataFrame({"site_id": ["A", "B", "C"], "country": ["SLE", "GIN", None], "period": "2026H1",
                             "visit_id": "v", "outcome": "not_mining", "effect": "excluded_false_positive",
                             "previous_registration": "no_licence", "registration": "verified_not_mining",
                             "reason": "found a sandbar"}).astype(FEEDBACK_COLUMNS)
    assert feedback_table(feedback, SLE_AGENCY)["Site"].tolist() == ["A"]
    assert feedback_table(feedback, REGIONAL)["Site"].tolist() == ["A", "B", "C"]
    assert feedback_table(feedback, REGIONAL)["Change"].iloc[0] == "excluded false positive"


# ---------------------------------------------------------------------------------------------------------
# A copy of the demo run with the verification layers, and users who may enter visits.

def add_verification(run_dir, sites: pd.DataFrame) -> None:
    """Write the verification layers (estimates, threshold report, feedback) and manifest section into the run."""
    folder = RunFolder(run_dir)
    manifest = read_manifest(run_dir)
    estimates(manifest["periods"][-1]["name"]).to_parquet(folder.layer("verification_estimates"))
    thresholds = np.arange(30, 75, 5)
    precision, recall = np.linspace(0.7, 0.97, len(thresholds)), np.linspace(0.98, 0.6, len(thresholds))
    f1 = 2 * precision * recall / (precision + recall)
    pd.DataFrame({"threshold": thresholds, "true_positive": 40, "false_positive": 5, "false_negative": 3,
                  "true_negative": 10, "precision": precision, "recall": recall, "f1": f1,
                  "current": thresholds == 50, "best": f1 == f1.max()}).astype(THRESHOLD_COLUMNS).to_parquet(
        folder.layer("threshold_report"))
    last = manifest["periods"][-1]["name"]
    current = sites[sites["last_seen"] == last]
    changed = pd.concat([current[current["countries"] == country].head(2) for country in ("SLE", "GIN")])
    pieces = gpd.read_parquet(folder.layer("site_registration"))
    found = pieces["site_id"].isin(changed["site_id"])
    pieces.loc[found, "registration"] = NOT_MINING_CLASS  # as the analysis re-classes a verified false positive
    pieces.to_parquet(folder.layer("site_registration"))
    pd.DataFrame({"site_id": changed["site_id"], "country": changed["country"], "period": "2026H1",
                  "visit_id": "v-" + changed["site_id"], "outcome": "not_mining", "effect": "excluded_false_positive",
                  "previous_registration": changed["registration"], "registration": "verified_not_mining",
                  "reason": "A sandbar, seen by team A on 2026-03-01"}).astype(FEEDBACK_COLUMNS).to_parquet(
        folder.layer("verification_feedback"))
    for name in ("verification_estimates", "threshold_report", "verification_feedback"):
        manifest["layers"][name] = {"path": folder.relative(folder.layer(name)), "kind": "table", "title": name}
    manifest["caveats"] = [*manifest.get("caveats", []), SYNTHETIC_CAVEAT]
    manifest["verification"] = {"ledger": None, "feedback": {"excluded_false_positive": 4},
                                "samples": [{"sample_id": SAMPLE, "run_id": "R-sample", "period": "2026H1", "n": 60,
                                             "n_verified": 58, "headline": {}}]}
    folder.manifest.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture(scope="module")
def verified(demo_settings, tmp_path_factory) -> Settings:
    """Settings of a copy of the demo store whose latest run has verification layers, with its own ledger."""
    folder = tmp_path_factory.mktemp("verified")
    store = shutil.copytree(demo_settings.paths.store, folder / "layers", ignore=shutil.ignore_patterns("verification"))
    run_dir = resolve_run(store)
    add_verification(run_dir, pd.read_parquet(RunFolder(run_dir).layer("sites")))
    Ledger(folder / "ledger.sqlite").save_sample(design())
    return demo_settings.model_copy(update={
        "paths": demo_settings.paths.model_copy(update={"store": store, "work": folder / "work"}),
        "verification": demo_settings.verification.model_copy(update={"ledger": folder / "ledger.sqlite"})})


def field_users(settings: Settings) -> Settings:
    """`settings` with logins on: the SLE agency user may record visits, the regional user may not."""
    settings = with_auth(settings)
    auth = settings.dashboard.auth
    users = {**auth.users, "nma_sle": auth.users["nma_sle"].model_copy(update={"field_entry": True})}
    return settings.model_copy(update={"dashboard": settings.dashboard.model_copy(
        update={"auth": auth.model_copy(update={"users": users})})})


def site_of(settings: Settings, country: str) -> pd.Series:
    """A site of `country` only, seen in the run's last period."""
    sites = load_run(settings).sites
    return sites[(sites["countries"] == country) & (sites["last_seen"] == sites["last_seen"].max())].iloc[0]


@pytest.mark.demo
def test_overview_callback_and_page_on_a_run_with_verification(verified):
    app = create_app(verified)  # pages register themselves with an app
    from mrumonitor.dashboard.pages import overview
    from mrumonitor.dashboard.pages import verification as page

    data = load_run(verified)
    with app.server.test_request_context("/"):
        active, unregistered = overview.update_accuracy("", data.last_period, "", [], [])
        assert active == OK_LINE
        assert unregistered.startswith("Field-checked unregistered: 812 ha")
        earlier, _ = overview.update_accuracy("SLE", data.periods[0], "", [], [])
        assert f"measured on the map of 2026H1, not of {data.periods[0]}" in earlier
        assert "not of the filters chosen" in earlier
        layout = str(page.layout())
    for text in ("Detection precision", SAMPLE, "1,234 ha", TOO_FEW, "excluded false positive", "best F1",
                 "only when logins are on", f"Allocation: {ALLOCATION}", SYNTHETIC_CAVEAT,
                 "No visit recorded yet"):
        assert text in layout, text


@pytest.mark.demo
def test_active_area_kpi_leaves_out_verified_not_mining(verified, demo_settings):
    from mrumonitor.dashboard.aggregates import kpis, overview

    copy, original = load_run(verified), load_run(demo_settings)

    def not_mining(data) -> pd.DataFrame:
        return data.pieces[(data.pieces["period"] == data.last_period) & (data.pieces["registration"] == NOT_MINING_CLASS)]

    pieces = not_mining(copy)
    newly = pieces["area_ha"].sum() - not_mining(original)["area_ha"].sum()  # the demo has false positives of its own
    assert newly > 1
    before, after = kpis(original, default_filters(original, commodity="")), kpis(copy, default_filters(copy, commodity=""))
    assert after["active_ha"] == pytest.approx(before["active_ha"] - newly, abs=0.5)
    table = overview(copy, default_filters(copy, commodity=""))
    assert table["verified not mining ha"].sum() == pytest.approx(pieces["area_ha"].sum(), abs=0.5)


@pytest.mark.demo
def test_a_run_without_verification_says_so_everywhere(verified, tmp_path):
    store = shutil.copytree(verified.paths.store, tmp_path / "layers")
    run_dir = resolve_run(store)
    manifest = read_manifest(run_dir)
    manifest.pop("verification")
    for name in ("verification_estimates", "threshold_report", "verification_feedback"):
        manifest["layers"].pop(name)
    RunFolder(run_dir).manifest.write_text(json.dumps(manifest), encoding="utf-8")
    settings = verified.model_copy(update={"paths": verified.paths.model_copy(update={"store": store})})
    app = create_app(settings)
    from mrumonitor.dashboard.pages import overview
    from mrumonitor.dashboard.pages import verification as page

    with app.server.test_request_context("/"):
        lines = overview.update_accuracy("", "2026H1", "", [], [])
        layout = str(page.layout())
    assert lines == ["Accuracy not measured: no field verification in this run"] * 2
    assert layout.count("no field verification in this run") >= 3


# ---------------------------------------------------------------------------------------------------------
# The entry: the callback posted as the browser posts it.

def entry_values(chosen: pd.Series, **changes) -> dict:
    values = {"visit-submit.n_clicks": 1, "visit-site.value": chosen["site_id"], "visit-date.value": "2026-03-14",
              "visit-team.value": "Team Kono", "visit-outcome.value": "active_mining",
              "visit-commodity.value": "diamond", "visit-licence.value": "", "visit-notes.value": "pits, sieves",
              "visit-lon.value": float(chosen["lon"]), "visit-lat.value": float(chosen["lat"]),
              "visit-photos.value": "IMG_0012.jpg, IMG_0013.jpg"}
    return {**values, **{f"visit-{key}.value": value for key, value in changes.items()}}


def post_entry(client, values: dict) -> str:
    """Post the entry form's callback; the message it answers, as text."""
    dependencies = json.loads(client.request("GET", "/_dash-dependencies").body)
    reply = client.request("POST", "/_dash-update-component",
                           json=callback_body(dependencies, "visit-message.children", values))
    assert reply.status == 200, reply.text
    return json.dumps(json.loads(reply.body)["response"]["visit-message"]["children"])


@pytest.mark.demo
def test_entry_is_checked_on_the_server_for_each_role(verified, secret_key):
    settings = field_users(verified)
    ledger = Ledger(settings.ledger)
    sle, gin = site_of(settings, "SLE"), site_of(settings, "GIN")
    with running_server(create_app(settings).server) as url:
        agency = HttpClient(url)
        assert log_in(agency, "nma_sle").status == 302
        refused = post_entry(agency, entry_values(gin))
        assert "Not recorded" in refused and "in Sierra Leone only" in refused and gin["site_id"] in refused
        assert ledger.visits().empty
        for changes, why in (({"date": (dt.date.today() + dt.timedelta(days=2)).isoformat()}, "in the future"),
                             ({"outcome": "found gold"}, "not one of the choices"),
                             ({"lat": float(sle["lat"]) + 1}, "farther than"),
                             ({"lon": None}, "both a longitude and a latitude"),
                             ({"site": "MS-nope"}, "is not in run")):
            answer = post_entry(agency, entry_values(sle, **changes))
            assert "Not recorded" in answer and why in answer, (changes, answer)
        assert ledger.visits().empty
        recorded = post_entry(agency, entry_values(sle))
        assert "Recorded visit" in recorded, recorded
        visits = ledger.visits()
        assert len(visits) == 1 and visits["entered_by"].tolist() == ["nma_sle"]
        assert visits["source"].tolist() == ["dashboard"] and visits["site_id"].tolist() == [sle["site_id"]]
        assert json.loads(visits["photos"].iloc[0]) == ["IMG_0012.jpg", "IMG_0013.jpg"]
        regional = HttpClient(url)
        assert log_in(regional, "kp_team").status == 302
        answer = post_entry(regional, entry_values(sle))
        assert "may not record field visits" in answer and "field_entry = true" in answer
        assert len(ledger.visits()) == 1
    anonymous = FlaskClient(create_app(verified).server)
    answer = post_entry(anonymous, entry_values(sle))
    assert "Field visits are recorded from the dashboard only when logins are on" in answer
    assert len(ledger.visits()) == 1


@pytest.mark.demo
def test_checked_visit_refuses_an_agency_at_another_countrys_site_and_lists_visits_by_role(verified, tmp_path):
    data = load_run(verified)
    gin = site_of(verified, "GIN")
    form = VisitForm(site_id=gin["site_id"], visited_on="2026-03-14", team="A", outcome="not_mining",
                     commodity_seen=None, licence_seen=None, notes=None, lon=None, lat=None, photos="a/b.jpg")
    with pytest.raises(AccessDenied):
        checked_visit(form, data, SLE_AGENCY, 2.0)
    with pytest.raises(VerificationError, match="is a path"):
        checked_visit(form, data, REGIONAL, 2.0)
    visit = checked_visit(VisitForm(**{**form.__dict__, "photos": ""}), data, REGIONAL, 2.0)
    row = visit.iloc[0]
    assert row["commodity_seen"] == "unknown" and row["country"] == "GIN" and np.isnan(row["lon"])
    ledger = Ledger(tmp_path / "ledger.sqlite")
    sle = checked_visit(VisitForm(**{**form.__dict__, "site_id": site_of(verified, "SLE")["site_id"],
                                     "visited_on": "2026-01-02", "photos": ""}), data, SLE_AGENCY, 2.0)
    ledger.append_visits(pd.concat([visit, sle]), entered_by="kp_team", source="import odk.csv")
    newest_first = [gin["site_id"], sle["site_id"].iloc[0]]
    assert ledger_visits(ledger, data, REGIONAL)["site_id"].tolist() == newest_first
    assert ledger_visits(ledger, data, SLE_AGENCY)["site_id"].tolist() == newest_first[1:]


# ---------------------------------------------------------------------------------------------------------
# Headless Chromium.

def choose(duo, selector: str, label: str) -> None:
    """Pick `label` in the dropdown `selector` (scrolled into view first; its menu waited for)."""
    dropdown = duo.find_element(selector)
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", dropdown)
    dropdown.click()
    option = duo.wait_for_element(".dash-dropdown-options", timeout=10)
    next(item for item in option.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option") if item.text == label).click()


@pytest.mark.browser
def test_browser_records_a_visit_and_sees_the_accuracy(dash_br, verified, secret_key):
    settings = field_users(verified)
    site = site_of(settings, "SLE")
    with running_server(create_app(settings).server, threads=8) as url:
        driver = dash_br.driver
        driver.get(url + "/verification")
        dash_br.wait_for_element("#username").send_keys("nma_sle")
        dash_br.find_element("#password").send_keys(DASHBOARD_USERS["nma_sle"][2])
        dash_br.find_element("#login-button").click()
        dash_br.wait_for_element("#visit-site", timeout=30).send_keys(site["site_id"])
        dash_br.find_element("#visit-date").send_keys("2026-03-14")
        dash_br.find_element("#visit-team").send_keys("Team Kono")
        choose(dash_br, "#visit-outcome", "inactive mining")
        dash_br.find_element("#visit-lon").send_keys(f"{site['lon']:.6f}")
        dash_br.find_element("#visit-lat").send_keys(f"{site['lat']:.6f}")
        dash_br.find_element("#visit-submit").click()
        dash_br.wait_for_contains_text("#visit-message", "Recorded visit", timeout=30)
        dash_br.wait_for_contains_text("#verification-visits", site["site_id"], timeout=30)
        assert "inactive mining" in dash_br.find_element("#verification-visits").text
        assert Ledger(settings.ledger).visits()["entered_by"].tolist()[-1] == "nma_sle"
        driver.get(url + "/")
        dash_br.wait_for_contains_text("#overview-kpi-active_ha-accuracy", "Field-checked: 1,234 ha", timeout=30)
        assert dash_br.get_logs() == []
