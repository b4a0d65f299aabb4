"""The field form of a sample: the XLSForm builds with the real pyxform, lists the sample's sites and the
outcomes in English and French, survives ids that need escaping, and `verify form` writes it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from mrumonitor.config import load_settings
from mrumonitor.errors import VerificationError
from mrumonitor.schema import COMMODITIES_SEEN, VISIT_OUTCOMES
from mrumonitor.verification.design import UNIT_COLUMNS, SampleDesign
from mrumonitor.verification.form_commands import form
from mrumonitor.verification.ledger import Ledger
from mrumonitor.verification.xlsform import COMMODITY_LABELS, OUTCOME_LABELS, form_id, write_xlsform

XF = "{http://www.w3.org/2002/xforms}"


def sample_design(site_ids: list[str], sample_id: str = "S20261205T101500Z-3f2a") -> SampleDesign:
    """A sample of `site_ids` (the first near Koidu) drawn from one stratum."""
    n = len(site_ids)
    units = pd.DataFrame({
        "site_id": site_ids, "stratum": "no_licence|SLE", "draw": range(1, n + 1), "country": "SLE",
        "registration": "no_licence", "licence_id": None, "area_ha": 12.5,
        "lon": [-10.9712 + 0.01 * i for i in range(n)], "lat": [8.64321] * n,
        "nearest_place": ["Koidu 3 km", *[None] * (n - 1)], "nearest_crossing": None,
    }).astype(UNIT_COLUMNS)
    strata = pd.DataFrame({"stratum": ["no_licence|SLE"], "population": [40], "mapped_ha": [500.0],
                           "allocated": [n], "registration": ["no_licence"]})
    return SampleDesign(sample_id, "20261205T220857Z-e74c", "2026H1", ("registration",), n, 7, 5,
                        "at least 5 per stratum, the rest by mapped area", "2026-12-05T10:15:00Z", "tester", strata,
                        units)


def form_xml(path) -> ET.Element:
    return ET.parse(path).getroot()


def choice_names(root: ET.Element, list_name: str) -> list[str]:
    instance = next(i for i in root.iter(f"{XF}instance") if i.get("id") == list_name)
    return [item.findtext(f"{XF}name") for item in instance.iter(f"{XF}item")]


def translations(root: ET.Element) -> dict[str, dict[str, str]]:
    """lang -> text id -> text."""
    return {t.get("lang"): {text.get("id"): text.findtext(f"{XF}value") for text in t.iter(f"{XF}text")}
            for t in root.iter(f"{XF}translation")}


@pytest.mark.unit
def test_the_form_converts_with_pyxform_and_lists_the_sample(tmp_path):
    design = sample_design(["SLE-000123", "SLE-000124", "SLE-000200"])
    xlsx, xform = write_xlsform(design, tmp_path / "forms" / "visit.xlsx")

    assert (xlsx, xform) == (tmp_path / "forms" / "visit.xlsx", tmp_path / "forms" / "visit.xml")
    warnings: list[str] = []
    convert(xlsform=str(xlsx), warnings=warnings)  # the real pyxform, as KoboToolbox and ODK Central run it
    assert warnings == []
    root = form_xml(xform)
    assert choice_names(root, "sites") == ["SLE-000123", "SLE-000124", "SLE-000200", "other"]
    assert choice_names(root, "outcomes") == list(VISIT_OUTCOMES)
    assert choice_names(root, "commodities") == list(COMMODITIES_SEEN)
    data = root.find(f".//{XF}instance/{XF}data")
    assert data.get("id") == "mrumonitor_S20261205T101500Z-3f2a" and data.get("version") == "20261205101500"
    fields = [child.tag.removeprefix(XF) for child in data]
    assert fields[:9] == ["site_id", "site_other", "visit_date", "team", "outcome", "commodity_seen", "licence_seen",
                          "notes", "location"]
    texts = translations(root)
    assert set(texts) == {"English (en)", "Français (fr)"}
    assert texts["English (en)"]["sites-0"] == "SLE-000123 · near Koidu 3 km · 8.64321, -10.97120"
    assert texts["Français (fr)"]["sites-0"] == "SLE-000123 · près de Koidu 3 km · 8.64321, -10.97120"
    assert texts["Français (fr)"]["outcomes-2"] == "Pas d'exploitation (fausse détection)"
    binds = {bind.get("nodeset"): bind for bind in root.iter(f"{XF}bind")}
    assert binds["/data/site_other"].get("relevant").replace(" ", "") == "/data/site_id='other'"
    assert binds["/data/visit_date"].get("constraint") == ". <= today()"
    assert binds["/data/location"].get("required").replace(" ", "") == "/data/outcome!='inaccessible'"
    assert binds["/data/meta/instanceName"].get("calculate").replace(" ", "") == \
        "concat(/data/site_id,'-',/data/visit_date)"
    setvalue = next(root.iter(f"{XF}setvalue"))
    assert (setvalue.get("ref"), setvalue.get("value")) == ("/data/visit_date", "today()")


@pytest.mark.unit
def test_every_outcome_and_commodity_has_an_english_and_a_french_label():
    assert tuple(OUTCOME_LABELS) == VISIT_OUTCOMES
    assert tuple(COMMODITY_LABELS) == COMMODITIES_SEEN
    assert all(len(pair) == 2 and all(pair) for pair in [*OUTCOME_LABELS.values(), *COMMODITY_LABELS.values()])


@pytest.mark.unit
@pytest.mark.hostile
def test_ids_that_need_escaping_still_convert(tmp_path):
    ids = ['SLE <&"\'>', "=HYPERLINK(\"http://x\")", "GIN-é ü 01", "CIV]]>-02"]
    design = sample_design(ids, sample_id="S 2026/12 & é")

    xlsx, xform = write_xlsform(design, tmp_path / "odd.xlsx")

    root = form_xml(xform)
    assert choice_names(root, "sites") == [*ids, "other"]
    assert form_id(design) == "mrumonitor_S_2026_12____"
    assert root.find(f".//{XF}instance/{XF}data").get("id") == form_id(design)
    cells = {cell.value: cell.data_type for row in load_workbook(xlsx)["choices"].iter_rows() for cell in row}
    assert cells["=HYPERLINK(\"http://x\")"] == "s"  # text in the workbook, never a formula


@pytest.mark.unit
def test_a_form_pyxform_refuses_is_a_verification_error_and_leaves_no_file(tmp_path):
    design = sample_design(["SLE-000123", "SLE-000123"])  # the same choice twice: pyxform refuses the list

    with pytest.raises(VerificationError, match="cannot be built by pyxform"):
        write_xlsform(design, tmp_path / "visit.xlsx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.unit
def test_verify_form_writes_the_form_of_the_latest_sample(tmp_path):
    config = tmp_path / "mrumonitor.toml"
    config.write_text('[paths]\nstore = "store"\n', encoding="utf-8")
    Ledger(load_settings(config).ledger).save_sample(sample_design(["SLE-000123", "SLE-000124"]))

    result = CliRunner().invoke(form, ["--config", str(config), "-o", str(tmp_path / "visit.xlsx")])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "visit.xlsx").is_file() and (tmp_path / "visit.xml").is_file()
    assert "KoboToolbox" in result.output and "ODK Central" in result.output
    assert choice_names(form_xml(tmp_path / "visit.xml"), "sites") == ["SLE-000123", "SLE-000124", "other"]


@pytest.mark.unit
@pytest.mark.hostile
@pytest.mark.parametrize(("args", "said"), [
    (["--sample", "S-nope"], "no sample 'S-nope'"),
    (["-o", "visit.csv"], "must end in .xlsx"),
])
def test_verify_form_refuses_plainly(tmp_path, args, said):
    config = tmp_path / "mrumonitor.toml"
    config.write_text('[paths]\nstore = "store"\n', encoding="utf-8")
    output = ["-o", str(tmp_path / "visit.xlsx")] if "-o" not in args else []

    result = CliRunner().invoke(form, ["--config", str(config), *output, *args])

    assert result.exit_code == 2
    assert said in " ".join(result.output.split())
    assert result.exception is None or isinstance(result.exception, SystemExit)
