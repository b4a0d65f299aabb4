"""Periods given as a rule (`[activity] rolling`): every calendar month, quarter, half or year since a date, each
added once complete, so that a scheduled run picks up the newest complete period without an edit of the configuration.
The rule reads the machine's clock when the configuration loads: the end-to-end test runs a real `mrumonitor run` on
today's date and computes what it expects from the calendar by itself."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import shutil

import pytest
from hostile import assert_refused, mrumonitor
from run_inputs import PERIODS, write_run_inputs

from mrumonitor.config import RollingPeriods, load_settings


@pytest.mark.unit
@pytest.mark.parametrize(("every", "names"), [
    ("month", ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]),
    ("quarter", ["2024Q1"]),
    ("half", []),
])
def test_a_rule_gives_the_calendar_periods_complete_on_a_day(every, names):
    rule = RollingPeriods(every=every, since=dt.date(2024, 1, 1), complete_after_days=10)
    periods = rule.periods(dt.date(2024, 6, 12))  # May ended 12 days ago, June has not
    assert [p.name for p in periods] == names
    for before, after in itertools.pairwise(periods):
        assert after.start == before.end + dt.timedelta(days=1)


@pytest.mark.unit
def test_a_period_is_complete_only_once_its_waiting_days_have_passed():
    rule = RollingPeriods(every="quarter", since=dt.date(2025, 1, 1), complete_after_days=30)
    q1_end = dt.date(2025, 3, 31)
    assert [p.name for p in rule.periods(q1_end + dt.timedelta(days=30))] == []
    (q1,) = rule.periods(q1_end + dt.timedelta(days=31))
    assert (q1.name, q1.start, q1.end, q1.observed_on) == ("2025Q1", dt.date(2025, 1, 1), q1_end, q1_end)


@pytest.mark.unit
def test_years_and_halves_are_named_as_the_dashboard_names_them():
    day = dt.date(2027, 1, 1)
    assert [p.name for p in RollingPeriods(every="year", since=dt.date(2024, 1, 1), complete_after_days=0)
            .periods(day)] == ["2024", "2025", "2026"]
    assert [p.name for p in RollingPeriods(every="half", since=dt.date(2025, 7, 1), complete_after_days=0)
            .periods(day)] == ["2025H2", "2026H1", "2026H2"]


@pytest.mark.unit
@pytest.mark.hostile
@pytest.mark.parametrize(("rule", "message"), [
    ('{ every = "quarter", since = 2024-02-01 }', (r"2024-02-01 is not the first day of a quarter.*start them on "
                                                  r"2024-01-01")),
    ('{ every = "fortnight", since = 2024-01-01 }', r"activity\.rolling\.every: Input should be 'month'"),
    ('{ every = "month", since = 2024-01-01, complete_after_days = -1 }', r"complete_after_days"),
])
def test_a_bad_rule_is_refused_naming_the_key(tmp_path, rule, message):
    config = tmp_path / "mrumonitor.toml"
    config.write_text(f"[activity]\nrolling = {rule}\n", encoding="utf-8")
    with pytest.raises(Exception, match=message) as refused:
        load_settings(config)
    assert type(refused.value).__name__ == "ConfigError"


@pytest.mark.unit
@pytest.mark.hostile
def test_rule_periods_overlapping_a_listed_period_are_refused(tmp_path):
    config = tmp_path / "mrumonitor.toml"
    config.write_text('[activity]\nperiods = [{ name = "dry", start = 2024-01-01, end = 2024-04-30 }]\n'
                      'rolling = { every = "quarter", since = 2024-01-01, complete_after_days = 0 }\n',
                      encoding="utf-8")
    with pytest.raises(Exception, match=r"periods 'dry' .* and '2024Q1' .* overlap"):
        load_settings(config)


@pytest.mark.unit
def test_a_dumped_configuration_read_again_keeps_its_periods_once(tmp_path):
    config = tmp_path / "mrumonitor.toml"
    config.write_text('[activity]\nrolling = { every = "half", since = 2024-01-01, complete_after_days = 0 }\n',
                      encoding="utf-8")
    settings = load_settings(config)
    again = type(settings).model_validate(settings.model_dump())
    assert [p.name for p in again.activity.periods] == [p.name for p in settings.activity.periods]


def _quarters_complete(today: dt.date, since: dt.date) -> list[str]:
    """The calendar quarters from `since` that ended before `today`, counted here on their own."""
    names, year, quarter = [], since.year, (since.month - 1) // 3 + 1
    while True:
        following = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
        if following > today:  # complete once its last day (following - 1 day) is before today
            return names
        names.append(f"{year}Q{quarter}")
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


@pytest.mark.integration
@pytest.mark.slow
def test_a_run_on_todays_clock_publishes_the_newest_complete_quarter(tmp_path):
    """A real `mrumonitor run` on the machine's clock: the rule's periods are the quarters that ended before today,
    the newest of them included, with no period listed in the configuration."""
    config = write_run_inputs(tmp_path)
    today = dt.date.today()
    since = dt.date(today.year - 1, 1, 1)
    expected = _quarters_complete(today, since)
    for name in expected:
        shutil.copy(tmp_path / f"detections_{PERIODS[-1]}.csv", tmp_path / f"detections_{name}.csv")
    text = re.sub(r"periods = \[.*\]\n", f'rolling = {{ every = "quarter", since = {since}, complete_after_days = 0 }}\n',
                  config.read_text())
    config.write_text(text)

    done = mrumonitor("run", "--config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    runs = tmp_path / "layers" / "runs"
    manifest = json.loads((runs / (runs / "LATEST").read_text().strip() / "manifest.json").read_text())
    assert [p["name"] for p in manifest["periods"]] == expected
    newest = manifest["periods"][-1]
    assert dt.date.fromisoformat(newest["end"]) < today <= dt.date.fromisoformat(newest["end"]) + dt.timedelta(days=92)


@pytest.mark.integration
@pytest.mark.hostile
def test_a_rule_with_no_complete_period_yet_says_so(tmp_path):
    config = write_run_inputs(tmp_path)
    since = dt.date(dt.date.today().year + 1, 1, 1)
    config.write_text(re.sub(r"periods = \[.*\]\n", f'rolling = {{ every = "year", since = {since} }}\n',
                             config.read_text()))
    assert_refused(mrumonitor("run", "--config", str(config)), "no activity to detect yet",
                   f"{since.year} ({since} to {since.year}-12-31), is complete from {since.year + 1}-01-31")
