"""The rule that gives every test one kind (tests/conftest.py): a test without exactly one fitting kind marker is
named with its fix, and stops the collection."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import kind_problem

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("fixtures", "kinds", "problem"), [
    ((), [], "has no kind marker: give it exactly one of unit, integration, browser, demo"),
    (("tmp_path",), ["unit", "integration"], "has 2 kind markers (unit, integration)"),
    (("dash_duo",), ["demo"], "drives a browser (dash_duo): mark it browser"),
    (("demo_settings", "tmp_path"), ["unit"], "uses the session's demo (demo_settings): mark it demo"),
    (("session_demo",), ["integration"], "uses the session's demo (session_demo): mark it demo"),
])
def test_a_test_without_one_fitting_kind_is_named_with_the_fix(fixtures, kinds, problem):
    assert problem in kind_problem(SimpleNamespace(fixturenames=fixtures), kinds)


@pytest.mark.parametrize(("fixtures", "kinds"), [
    ((), ["unit"]),
    (("tmp_path",), ["integration"]),
    (("session_demo",), ["demo"]),
    (("dash_duo", "demo_settings"), ["browser"]),  # a browser test draws the demo too
])
def test_one_fitting_kind_passes(fixtures, kinds):
    assert kind_problem(SimpleNamespace(fixturenames=fixtures), kinds) is None
