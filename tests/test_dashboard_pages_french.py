"""The Field checks, Alerts and Area statistics pages in French, through the Flask test client with the language
cookie, on the tiny area world (tests/area_world): the layouts and their callbacks' answers hold the French words
of the catalogue and none of the English messages translated there, and numbers are written the French way."""

from __future__ import annotations

import json

import pytest
import shapely
from area_draw import post, show_drawn, table, world_box
from area_world import write_area_run
from conftest import FlaskClient, write_config
from french_catalogue import english_shown_in_french

from mrumonitor.config import load_settings
from mrumonitor.dashboard.app import create_app
from mrumonitor.dashboard.language import COOKIE

pytestmark = [pytest.mark.demo, pytest.mark.slow]

#: Dash component properties a person reads.
TEXT_PROPS = ("children", "label", "placeholder", "name", "title")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The dashboard of the area world (logins off: a regional view), its browser's language cookie French."""
    folder = tmp_path_factory.mktemp("pages-fr")
    write_area_run(folder / "layers")
    settings = load_settings(write_config(folder, f'[paths]\nstore = "{folder / "layers"}"\n'
                                                  f'work = "{folder / "work"}"\n'))
    french = FlaskClient(create_app(settings).server)
    french.client.set_cookie(COOKIE, "fr")
    return french


@pytest.fixture(scope="module")
def demo(demo_settings):
    """The demo run's dashboard (logins off), its browser's language cookie French: the pages' layouts."""
    french = FlaskClient(create_app(demo_settings).server)
    french.client.set_cookie(COOKIE, "fr")
    return french


@pytest.fixture(scope="module")
def english_msgids() -> set[str]:
    """The English messages of the catalogue whose French differs (without placeholders: those are
    sentences with values, found by their French words instead)."""
    return english_shown_in_french()


def texts(node) -> list[str]:
    """Every text of a Dash answer a person reads (children, option labels, placeholders, column names)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_PROPS and isinstance(value, str):
                found.append(value.strip())
            found += texts(value)
    elif isinstance(node, list):
        for value in node:
            found += [value.strip()] if isinstance(value, str) else texts(value)
    return found


def page(client, path: str) -> dict:
    return post(client, "_pages_content.children", {"_pages_location.pathname": path, "_pages_location.search": ""})


def english_left(answer, english_msgids: set[str]) -> set[str]:
    return {text for text in texts(answer) if text in english_msgids}


@pytest.mark.parametrize(("path", "french"), [
    ("/verification", ["Estimations de précision et de superficie", "Enregistrer une visite de terrain",
                       "Précision de la détection", "Intervalle (95 %)", "Strates :", "seuil de détection",
                       "Les visites de terrain ne s'enregistrent depuis le tableau de bord que si les connexions"]),
    ("/alerts", ["Alertes de ce traitement", "Mes abonnements", "Surveiller une zone nommée", "Tous les types",
                 "Nouveau site minier", "récapitulatif hebdomadaire", "Nom de cette surveillance", "Type de zone"]),
    ("/area", ["Ou téléversez une zone", "Télécharger les sites", "Surveiller cette zone", "Déposez un fichier ici ou",
               "Mo au plus"]),
])
def test_each_page_layout_is_french_with_no_translated_english_left(demo, english_msgids, path, french):
    answer = page(demo, path)
    shown = json.dumps(answer, ensure_ascii=False)
    for words in french:
        assert words in shown, (path, words)
    assert english_left(answer, english_msgids) == set(), path


def test_the_area_statistics_are_french_with_french_numbers(client, english_msgids):
    answer = show_drawn(client, {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(world_box())}]})
    rows = table(answer, "area-periods")
    assert {"Période", "Sites", "Superficie exploitée active (ha)", "Part non enregistrée (%)",
            "sans permis (ha)"} <= set(rows[0])
    shown = json.dumps(answer, ensure_ascii=False)
    for words in ("La zone", "L'exploitation minière dans la zone, période par période", "Frontières les plus proches",
                  "Postes frontières les plus proches", "zone dessinée sur la carte", "entité lue ; statistiques du traitement",
                  '"separators": ", "', "superficie exploitée active (ha)", "Sierra Leone", "Guinée"):
        assert words in shown, words
    shown_to_people = {output: value for output, value in answer.items() if output != "area-shape"}  # a store
    assert english_left(shown_to_people, english_msgids) == set()


def test_a_bad_area_is_refused_in_french(client):
    bowtie = shapely.Polygon([(-11.3, 9.8), (-11.2, 9.9), (-11.2, 9.8), (-11.3, 9.9)])
    answer = show_drawn(client, {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(bowtie)}]})
    message = json.dumps(answer["area-message"], ensure_ascii=False)
    assert "aucune entité n'est une zone utilisable" in message and "le contour se recoupe" in message, message
    assert "Traceback" not in message and "no feature is a usable area" not in message


def test_the_alerts_table_and_counts_are_french(client, english_msgids):
    answer = post(client, "alerts-table.data", {"alerts-filter-kinds.value": [], "alerts-filter-confidence.value": "low",
                                                "alerts-filter-new.value": []})
    rows = answer["alerts-table"]["data"]
    assert rows and {row["kind"] for row in rows} <= {"Nouveau site minier", "Site minier agrandi",
                                                      "Nouvelle exploitation non enregistrée dans la zone frontalière",
                                                      "Exploitation dans un permis qui ne l'autorise pas",
                                                      "Site minier vérifié de nouveau actif"}
    assert {row["country"] for row in rows} <= {"Sierra Leone", "Guinée"}
    assert all(": site " in row["message"] and "confiance" in row["message"] for row in rows)
    counts = table(answer, "alerts-counts-table")
    assert set(counts[0]) == {"Type", "Alertes", "Nouvelles dans ce traitement"}
    assert english_left(answer, english_msgids) == set()


def test_the_named_areas_offered_are_french(client):
    answer = post(client, "alerts-area-ref.options", {"alerts-area-kind.value": "corridor"})
    labels = [option["label"] for option in answer["alerts-area-ref"]["options"]]
    assert labels and all(label.startswith("Couloir frontalier ") for label in labels), labels
    countries = post(client, "alerts-area-ref.options", {"alerts-area-kind.value": "country"})
    assert "Guinée" in {option["label"] for option in countries["alerts-area-ref"]["options"]}
