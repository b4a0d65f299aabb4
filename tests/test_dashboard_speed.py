"""The dashboard's speed-ups change no answer: the per-period arrays, the per-filter overviews and the
callbacks' result store give what a plain computation over the run's tables gives, and a stored answer is
never handed to a user of another access scope."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import callback_body

from mrumonitor.analysis.summary import country_overview
from mrumonitor.dashboard import context
from mrumonitor.dashboard.access import REGIONAL, Access
from mrumonitor.dashboard.aggregates import _overview, overview
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.filters import default_filters
from mrumonitor.dashboard.memo import Memo
from mrumonitor.dashboard.prepared import sites_as_of
from mrumonitor.dashboard.run import load_run
from mrumonitor.dashboard.site_level import site_rows, site_table

SLE_AGENCY = Access("nma_sle", "agency", "SLE")
GIN_AGENCY = Access("gin", "agency", "GIN")


@pytest.fixture(scope="module")
def run(demo_settings):
    return load_run(demo_settings)


def visible_countries(values: pd.Series, access) -> np.ndarray:
    """Mask of the rows whose country (or ";"-joined countries, for a site) `access` may see sites of."""
    return values.astype(str).map(access.sees_sites).to_numpy(dtype=bool)


def plain_site_rows(run, filters, access):
    """The site rows by masks over the whole `site_periods` table (what the dashboard computed before)."""
    rows = run.site_periods
    mask = (rows["period"] == filters.period).to_numpy() & visible_countries(rows["countries"], access)
    if filters.countries:
        mask &= rows["country"].isin(filters.countries).to_numpy()
    if filters.commodity:
        mask &= (rows["commodity"] == filters.commodity).to_numpy(dtype=bool, na_value=False)
    if filters.classes:
        mask &= rows["registration"].isin(filters.classes).to_numpy()
    if filters.border_only:
        mask &= rows["in_border_zone"].to_numpy(dtype=bool, na_value=False)
    return rows[mask]


def filter_cases(run):
    for period, country, commodity, classes, border in itertools.product(
            run.periods, ["", "SLE", "GIN"], ["", "diamond"], [[], ["no_licence", "expired_licence"]], [False, True]):
        yield default_filters(run, period=period, countries=[country], commodity=commodity, classes=classes,
                                 border_only=border)


@pytest.mark.demo
def test_site_rows_and_table_are_those_of_plain_masks(run):
    for filters in filter_cases(run):
        for access in (REGIONAL, SLE_AGENCY):
            expected = plain_site_rows(run, filters, access)
            pd.testing.assert_frame_equal(site_rows(run, filters, access), expected)
            rows, total = site_table(run, filters, access, page=1, page_size=7)
            assert total == len(expected)
            ordered = expected.sort_values(["area_ha", "site_id"], ascending=[False, True])
            assert [r["site_id"] for r in rows] == list(ordered["site_id"].iloc[7:14])


@pytest.mark.demo
def test_overview_is_country_overview_of_the_filtered_sites_with_and_without_the_store(run, monkeypatch):
    for filters in filter_cases(run):
        cached = overview(run, filters)
        sites = sites_as_of(run.sites, run.site_periods, filters.period, run.last_period)
        summary = run.summary(filters.commodity, filters.border_only)
        if filters.classes:
            summary = summary[summary["registration"].isin(filters.classes)]
            sites = sites[sites["registration"].isin(filters.classes)]
        if filters.commodity:
            sites = sites[sites["commodity"] == filters.commodity]
        if filters.border_only:
            sites = sites[sites["in_border_zone"].astype(bool)]
        pd.testing.assert_frame_equal(cached, country_overview(summary, sites, filters.period))
    assert len(run.overviews) > 0
    monkeypatch.setattr(run.overviews, "size", 0)  # nothing kept: computed again, same answer
    filters = next(filter_cases(run))
    pd.testing.assert_frame_equal(overview(run, filters), _overview(run, filters))


@pytest.mark.unit
def test_memo_is_bounded_and_least_recently_used_goes_first():
    memo, calls = Memo(2), []
    for key in ("a", "b", "a", "c", "b"):
        memo.get(key, lambda key=key: calls.append(key) or key.upper())
    assert calls == ["a", "b", "c", "b"] and len(memo) == 2  # "b" was dropped when "c" came, "a" kept


@pytest.mark.demo
def test_stored_answers_are_kept_per_access_scope(run, monkeypatch):
    run.results.clear()
    inputs = ("", run.last_period, "", [], [])
    asked = []

    def answer(access):
        return context.remembered(run, "site table", access, inputs,
                                  lambda: asked.append(access.country) or site_table(
                                      run, default_filters(run), access))

    regional, sle = answer(REGIONAL), answer(SLE_AGENCY)
    assert sle != regional and sle == site_table(run, default_filters(run), SLE_AGENCY)
    assert answer(Access("another_sle_user", "agency", "SLE")) is sle  # same scope: stored answer
    assert answer(GIN_AGENCY) == site_table(run, default_filters(run), GIN_AGENCY)
    assert asked == [None, "SLE", "GIN"]


@pytest.mark.demo
def test_answers_are_stored_under_what_the_callback_reads(demo_settings, run, monkeypatch):
    """Requests that differ only in what a callback ignores share one stored answer: the border page reads the
    country, the period, the commodity and the border scope only; the order in which classes were picked
    changes no filter."""
    app = create_app(demo_settings)
    from mrumonitor.dashboard.pages import border

    client = app.server.test_client()
    dependencies = client.get("/_dash-dependencies").get_json()
    run.results.clear()
    computed, compute = [], border.border_outputs
    monkeypatch.setattr(border, "border_outputs", lambda *args: computed.append(args[2]) or compute(*args))
    requests = (("SLE", "diamond", [], [], "mru"), ("SLE", "diamond", ["no_licence", "expired_licence"], ["border"], "mru"),
                ("SLE", "gold", [], ["border"], "mru"), ("SLE", "diamond", [], [], "external"),
                ("GIN", "diamond", [], [], "mru"))
    answers = []
    for country, commodity, classes, zone, scope in requests:
        body = callback_body(dependencies, "border-showing", {
            "filter-country.value": country, "filter-period.value": run.last_period,
            "filter-commodity.value": commodity, "filter-registration.value": classes,
            "filter-border-only.value": zone, "filter-scope.value": scope})
        reply = client.post("/_dash-update-component", json=body)
        assert reply.status_code == 200
        answers.append(reply.get_json()["response"])
    assert [(f.countries, f.commodity, f.scope) for f in computed] == [
        (("SLE",), "diamond", "mru"), (("SLE",), "gold", "mru"), (("SLE",), "diamond", "external"),
        (("GIN",), "diamond", "mru")]
    assert answers[0] == answers[1] != answers[2]
    picked = (default_filters(run, classes=order) for order in (["no_licence", "expired_licence"],
                                                                    ["expired_licence", "no_licence"]))
    assert next(picked) == next(picked)
