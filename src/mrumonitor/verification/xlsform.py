"""The field form of a sample: an XLSForm (ODK Collect, KoboToolbox) and the XForm pyxform makes of it.

`write_xlsform(design, out)` writes ``out`` (.xlsx: sheets survey, choices, settings) and the XForm (.xml) beside
it. The form is bilingual (English and French: the Guinea and Côte d'Ivoire teams work in French) and asks, for
one visit: the site (picked from the sample's sites, each labelled with its nearest town and coordinates, or
"another site" typed in), the visit date, the team, the outcome (`VISIT_OUTCOMES`), the commodity seen
(`COMMODITIES_SEEN`), the licence shown on site, notes, a GPS point (required unless the site was inaccessible)
and up to three photos. `verification.submissions` reads the exports of its submissions back: the field names
below are the ones it looks for.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from pyxform.errors import PyXFormError
from pyxform.xls2xform import convert

from mrumonitor.errors import VerificationError
from mrumonitor.layerio.writing import written_aside
from mrumonitor.verification.design import SampleDesign

log = logging.getLogger(__name__)

#: The form's languages, as XLSForm column suffixes (``label::English (en)``).
LANGUAGES = ("English (en)", "Français (fr)")
#: The choice of the site list for a site the team found that is not on it (then `site_other` holds its id).
OTHER_SITE = "other"

#: Choice labels (English, French) of the outcomes (`VISIT_OUTCOMES`) and the commodities seen
#: (`COMMODITIES_SEEN`); submissions exported with labels instead of names are read back through them.
OUTCOME_LABELS: dict[str, tuple[str, str]] = {
    "active_mining": ("Active mining", "Exploitation active"),
    "inactive_mining": ("Inactive (abandoned) mining", "Exploitation inactive (abandonnée)"),
    "not_mining": ("Not mining (false detection)", "Pas d'exploitation (fausse détection)"),
    "licensed": ("Mining under a licence", "Exploitation sous licence"),
    "inaccessible": ("Site not reached", "Site inaccessible"),
}
COMMODITY_LABELS: dict[str, tuple[str, str]] = {
    "diamond": ("Diamond", "Diamant"),
    "gold": ("Gold", "Or"),
    "other": ("Other mineral", "Autre minerai"),
    "none": ("None (nothing mined)", "Aucun (rien n'est exploité)"),
    "unknown": ("Unknown", "Inconnu"),
}

_SURVEY_COLUMNS = ("type", "name", *(f"label::{lang}" for lang in LANGUAGES), *(f"hint::{lang}" for lang in LANGUAGES),
                   "required", "relevant", "constraint", *(f"constraint_message::{lang}" for lang in LANGUAGES),
                   "default", "appearance", "parameters")
_REACHED = "${outcome} != 'inaccessible'"

#: The questions: name -> type, label, hint, required, relevant, constraint, constraint_message, default,
#: appearance, parameters (as XLSForm names them; texts in the order of LANGUAGES); `_survey` lays them out.
_QUESTIONS: dict[str, dict] = {
    "site_id": {"type": "select_one sites", "label": ("Site", "Site"), "required": "yes", "appearance": "autocomplete",
                "hint": ("Pick the site from the list; \"Another site\" if it is not on it.",
                         "Choisissez le site dans la liste ; « Un autre site » s'il n'y est pas.")},
    "site_other": {"type": "text", "label": ("Id of the other site", "Identifiant de l'autre site"),
                   "required": "yes", "relevant": f"${{site_id}} = '{OTHER_SITE}'",
                   "hint": ("The site id as the map shows it, e.g. SLE-000123.",
                            "L'identifiant du site tel que la carte le montre, p. ex. SLE-000123.")},
    "visit_date": {"type": "date", "label": ("Date of the visit", "Date de la visite"), "required": "yes",
                   "default": "today()", "constraint": ". <= today()",
                   "constraint_message": ("The visit cannot be in the future.",
                                          "La visite ne peut pas être dans le futur.")},
    "team": {"type": "text", "label": ("Team", "Équipe"), "required": "yes",
             "hint": ("Names or code of the team.", "Noms ou code de l'équipe.")},
    "outcome": {"type": "select_one outcomes", "label": ("What did the team find?", "Qu'a constaté l'équipe ?"),
                "required": "yes"},
    "commodity_seen": {"type": "select_one commodities", "label": ("Commodity seen", "Minerai observé"),
                       "required": "yes", "relevant": _REACHED},
    "licence_seen": {"type": "text", "label": ("Licence seen", "Licence observée"),
                     "hint": ("The licence number shown on site (sign board, papers), if any.",
                              "Le numéro de licence affiché sur le site (panneau, documents), s'il y en a un.")},
    "notes": {"type": "text", "label": ("Notes", "Remarques"), "appearance": "multiline"},
    "location": {"type": "geopoint", "label": ("GPS point at the site", "Point GPS sur le site"),
                 "required": _REACHED,
                 "hint": ("Stand inside the mined area.", "Placez-vous dans la zone exploitée.")},
    **{f"photo_{number}": {"type": "image", "label": (f"Photo {number}", f"Photo {number}"), "relevant": _REACHED,
                           "parameters": "max-pixels=2048"}  # photos scaled down on the phone: less to send
       for number in (1, 2, 3)},
}

#: A character that may not stand in a form id (an XML name: letters, digits, '_', '-', '.').
_NOT_IN_XML_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def write_xlsform(design: SampleDesign, out: Path) -> tuple[Path, Path]:
    """Write the XLSForm of `design` to `out` (.xlsx) and its XForm beside it (same name, .xml).

    Parameters
    ----------
    design : SampleDesign
        The sample whose sites the form lists.
    out : Path
        The .xlsx to write (its folder is made when missing); both files are written aside and moved into place
        only when pyxform has converted the form.

    Returns
    -------
    tuple of Path
        The XLSForm and the XForm.

    Raises
    ------
    VerificationError
        pyxform refuses the form (its message), or the files cannot be written.
    """
    out = Path(out)
    xform = out.with_suffix(".xml")
    try:
        with written_aside(out) as xlsx_aside, written_aside(xform) as xml_aside:
            _workbook(design).save(xlsx_aside)
            warnings: list[str] = []
            result = convert(xlsform=str(xlsx_aside), warnings=warnings, pretty_print=True)
            xml_aside.write_text(result.xform, encoding="utf-8")
    except PyXFormError as exc:
        raise VerificationError(f"the field form of sample {design.sample_id} cannot be built by pyxform: {exc}. "
                                "Check the sample's site ids (draw the sample again if they are damaged).") from None
    except OSError as exc:
        raise VerificationError(f"{out}: the field form cannot be written ({exc.strerror or exc}). Check the folder "
                                "exists and may be written, or give another -o.") from None
    for warning in warnings:
        log.warning("field form %s: %s", out.name, warning)
    return out, xform


def form_id(design: SampleDesign) -> str:
    """The form id of the sample's form: ``mrumonitor_<sample_id>``, made a valid XML name."""
    return _NOT_IN_XML_NAME.sub("_", f"mrumonitor_{design.sample_id}")


def site_label(units: pd.DataFrame, near: str) -> pd.Series:
    """The choice label of each drawn site: ``SLE-000123 · <near> Koidu 3 km · 8.64321, -10.97120``."""
    place = units["nearest_place"].astype("string").fillna("").str.strip()
    nearby = pd.Series(f" · {near} ", index=units.index).where(place != "", "") + place
    where = " · " + units["lat"].map("{:.5f}".format) + ", " + units["lon"].map("{:.5f}".format)
    return units["site_id"].astype(str) + nearby + where


def _workbook(design: SampleDesign) -> Workbook:
    book = Workbook()
    _sheet(book.active, "survey", _survey())
    _sheet(book.create_sheet(), "choices", _choices(design))
    _sheet(book.create_sheet(), "settings", _settings(design))
    return book


def _sheet(sheet, title: str, frame: pd.DataFrame) -> None:
    """Fill `sheet` with `frame`; every cell is text, never a formula (a site id may start with '=')."""
    sheet.title = title
    sheet.append(list(frame.columns))
    for values in frame.fillna("").itertuples(index=False, name=None):
        sheet.append([str(value) for value in values])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def _survey() -> pd.DataFrame:
    rows = []
    for name, question in _QUESTIONS.items():
        row = {"type": question["type"], "name": name, "required": question.get("required", ""),
               "relevant": question.get("relevant", ""), "constraint": question.get("constraint", ""),
               "default": question.get("default", ""), "appearance": question.get("appearance", ""),
               "parameters": question.get("parameters", "")}
        for key in ("label", "hint", "constraint_message"):
            for lang, text in zip(LANGUAGES, question.get(key, ("", "")), strict=True):
                row[f"{key}::{lang}"] = text
        rows.append(row)
    return pd.DataFrame(rows, columns=list(_SURVEY_COLUMNS))


def _choices(design: SampleDesign) -> pd.DataFrame:
    units = design.units
    sites = pd.DataFrame({"list_name": "sites", "name": units["site_id"].astype(str),
                          f"label::{LANGUAGES[0]}": site_label(units, "near"),
                          f"label::{LANGUAGES[1]}": site_label(units, "près de")})
    other = ("Another site, not on the list", "Un autre site, absent de la liste")
    lists = [sites, _choice_list("sites", {OTHER_SITE: other}), _choice_list("outcomes", OUTCOME_LABELS),
             _choice_list("commodities", COMMODITY_LABELS)]
    return pd.concat(lists, ignore_index=True)


def _choice_list(list_name: str, labels: dict[str, tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame({"list_name": list_name, "name": list(labels),
                         **{f"label::{lang}": [pair[i] for pair in labels.values()]
                            for i, lang in enumerate(LANGUAGES)}})


def _settings(design: SampleDesign) -> pd.DataFrame:
    version = re.sub(r"\D", "", design.created) or "1"
    return pd.DataFrame([{"form_title": f"mrumonitor field verification, sample {design.sample_id}",
                          "form_id": form_id(design), "version": version, "default_language": LANGUAGES[0],
                          "instance_name": "concat(${site_id}, '-', ${visit_date})"}])
