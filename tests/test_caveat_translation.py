"""Run caveats stay English in the manifest and are read in French: every producer's template has French, a
caveat made with real values comes back as the French sentence with the same values, anything else unchanged."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.extract import extract_from_file

import mrumonitor
from mrumonitor.analysis.licence_history import dates_only_caveats
from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.i18n import translations, use_language
from mrumonitor.i18n.messages import translate_text, translate_texts
from mrumonitor.pipeline.provenance import commodity_caveats
from mrumonitor.pipeline.scope import scope_caveat
from mrumonitor.store.layers import layer_caveats

pytestmark = pytest.mark.unit

SOURCE = Path(mrumonitor.__file__).parent
#: The modules that write the caveats of a run (and the credits and column descriptions that go with them).
PRODUCERS = ("pipeline/provenance.py", "pipeline/scope.py", "store/layers.py", "store/columns.py",
             "analysis/licence_history.py", "analysis/capacity.py", "verification/run.py",
             "verification/estimates.py", "credits.py")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def marked(module: str) -> list[str]:
    """The messages `module` marks with `N_` or `_`, as pybabel extracts them."""
    found = extract_from_file("python", SOURCE / module, keywords={"N_": None, "_": None})
    return [message for _, message, _, _ in found]


@pytest.mark.parametrize("module", PRODUCERS)
def test_every_caveat_template_of_the_producers_has_french(module):
    french = translations("fr")
    messages = marked(module)
    assert messages, f"{module} marks no message"
    missing = [message for message in messages if french.gettext(message) == message]
    assert missing == []
    for message in messages:  # the French says every value the English gives, and no other
        assert set(PLACEHOLDER.findall(french.gettext(message))) == set(PLACEHOLDER.findall(message)), message


def test_a_dates_only_caveat_reads_in_french_with_its_values():
    table = pd.DataFrame({"period": ["2023H2", "2024H2", "2023H2"], "country": ["GIN", "GIN", "SLE"],
                          "basis": ["dates_only", "dates_only", "dates_only"],
                          "snapshot": pd.to_datetime(["2026-05-15", "2026-05-15", "2024-12-01"])})
    guinea, sierra_leone = dates_only_caveats(table)
    assert guinea.startswith("Guinea: periods 2023H2, 2024H2 are older than the first snapshot of its cadastre")
    assert sierra_leone.startswith("Sierra Leone: period 2023H2 is older than")  # one period: singular
    with use_language("fr"):
        assert translate_text(guinea).startswith(
            "Guinée : les périodes 2023H2, 2024H2 sont antérieures au premier extrait de son cadastre (2026-05-15)")
        assert translate_text(sierra_leone).startswith(
            "Sierra Leone : la période 2023H2 est antérieure au premier extrait de son cadastre (2024-12-01)")


def test_a_limited_run_caveat_reads_in_french_with_its_values():
    entry = {"limited": True, "countries": ["SLE"], "kept_countries": ["GIN", "LBR", "CIV"],
             "kept_from": "20260301T120000Z-3f2a", "outside_from": {"P3": None, "P2": "20260301T120000Z-3f2a"}}
    caveat = scope_caveat(entry, ["P2", "P3"])
    assert "(--countries)" not in caveat and "none for P3" in caveat
    with use_language("fr"):
        french = translate_text(caveat)
    assert french.startswith("Cette analyse a été limitée à SLE : elle n'a lu que les cadastres de SLE")
    assert "(P2, P3)" in french and "GIN, LBR, CIV" in french and "20260301T120000Z-3f2a" in french
    assert "aucune pour P3" in french


def test_the_commodity_rule_and_its_credit_read_in_french(sle_settings):
    rule, fields, credit = commodity_caveats(sle_settings("sle.zip"))
    with use_language("fr"):
        assert "à moins de 10 km d'un gisement alluvionnaire de diamant" in translate_text(rule)
        assert "« or »" in translate_text(rule)  # the default commodity, in words of the language
        assert translate_text(fields).startswith("Les gisements de diamant sont des contours approximatifs")
        assert translate_text(credit).endswith("Positions : GeoNames (geonames.org), CC BY 4.0.")


def test_no_caveat_names_a_file_or_a_command(sle_settings):
    caveats = [*commodity_caveats(sle_settings("sle.zip")), *layer_caveats({"sites": {}, "capacity": {}})]
    assert not any(re.search(r"`mrumonitor|/\w+/\w+\.(gpkg|zip|md)", caveat) for caveat in caveats)


def test_the_credit_and_layer_caveats_are_exact_hits():
    caveats = layer_caveats({"sites": {}, "alerts": {}})
    with use_language("fr"):
        assert translate_text(DETECTIONS_CREDIT).startswith("Détections minières. Code for Africa et Earth Genome")
        assert translate_texts(caveats)[0].startswith("Un site est une cicatrice au sol")
    assert translate_texts(caveats) == caveats  # English: as published


def test_a_capacity_row_of_several_parts_is_translated_part_by_part():
    row = ("order-of-magnitude estimate from satellite-visible newly mined area; partial year: 181 days observed, "
           "rate over the 12 months to 2026-06-30")
    with use_language("fr"):
        assert translate_text(row) == ("estimation en ordre de grandeur à partir de la surface nouvellement exploitée "
                                       "visible par satellite; année partielle : 181 jours observés, rythme calculé "
                                       "sur les 12 mois jusqu'au 2026-06-30")


@pytest.mark.parametrize("text", [
    "A test run: four square sites, one uniform activity raster.",   # a caveat the catalogue does not hold
    "Detections: CC BY 4.0, credit the provider.",
    "Run 20260301T120000Z-3f2a",                                      # a short template's words are too few
    "",
])
def test_text_that_matches_no_message_comes_back_unchanged(text):
    with use_language("fr"):
        assert translate_text(text) == text


OWN = "A caveat of the deployment's own."


def test_thirty_caveats_translate_fast_enough_for_a_footer(sle_settings):
    entry = {"limited": True, "countries": ["SLE"], "kept_countries": ["GIN"], "kept_from": "R1", "outside_from": {}}
    table = pd.DataFrame({"period": ["2023H2"], "country": ["LBR"], "basis": ["dates_only"],
                          "snapshot": pd.to_datetime(["2026-06-10"])})
    caveats = [*commodity_caveats(sle_settings("sle.zip")), scope_caveat(entry, ["P1"]), *dates_only_caveats(table),
               *layer_caveats({name: {} for name in ("sites", "border_corridors", "capacity", "alerts")}),
               DETECTIONS_CREDIT, OWN]
    caveats = (caveats * 3)[:30]
    with use_language("fr"):
        translate_texts(caveats)  # the templates are compiled once per language
        start = time.perf_counter()
        french = translate_texts(caveats)
        elapsed = time.perf_counter() - start
    print(f"30 caveats translated in {elapsed * 1000:.1f} ms")
    assert [translated == caveat for translated, caveat in zip(french, caveats)] == [c == OWN for c in caveats]
    assert elapsed < 0.05
