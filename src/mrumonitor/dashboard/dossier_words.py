"""A site dossier's tables and values in the user's language: column headings, vocabulary codes in words,
numbers and dates written the language's way. The `Dossier` keeps canonical columns and codes; the page, the
HTML export and the PDF show them through `shown_table`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mrumonitor.i18n import N_, _, day, number
from mrumonitor.i18n.vocabulary import word

#: The facts the PDF prints under "Position" rather than "Site".
COORDINATES, ADMIN_AREA = N_("Coordinates (WGS84)"), N_("Admin area")
#: The warning on licences of a synthetic run.
SYNTHETIC_LICENCES = N_("Licences of this run are SYNTHETIC demo data: fictitious licences and holders.")
#: The heading of each column a dossier table shows.
HEADINGS = {
    "period": N_("Period"), "area_ha": N_("Area (ha)"), "registration": N_("Registration"),
    "licence_id": N_("Licence"), "licences": N_("Licences"), "in_border_zone": N_("In the border zone"),
    "dist_border_km": N_("Border (km)"), "nearest_post_name": N_("Nearest official crossing"),
    "dist_post_km": N_("Crossing (km)"), "country": N_("Country"), "holder": N_("Holder"),
    "licence_type": N_("Licence type"), "commodity": N_("Commodity"), "status": N_("Status"),
    "granted": N_("Granted"), "expires": N_("Expires"),
}
#: Columns holding vocabulary codes: column -> kind of `vocabulary.WORDS`.
VOCABULARY = {"registration": "registration", "licence_type": "licence_type", "status": "licence_status",
              "country": "country"}
#: Commodities in words (a code not listed shows as it is).
COMMODITIES = {"gold": N_("gold"), "diamond": N_("diamond"), "other": N_("other")}
DATES = ("granted", "expires")
#: Decimals of the numeric columns.
DIGITS = {"area_ha": 1, "dist_border_km": 1, "dist_post_km": 1}


def commodity_words(code: Any) -> str:
    english = COMMODITIES.get(str(code))
    return _(english) if english is not None else str(code)


def yes_no(value: Any) -> str:
    if pd.isna(value):
        return "—"
    return _("yes") if bool(value) else _("no")


def worded(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its vocabulary codes, commodities, dates and yes/no columns in words of the current language
    (numbers kept as numbers, for a table that sorts them)."""
    shown = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if column in VOCABULARY:
            shown[column] = values.map(lambda code, kind=VOCABULARY[column]: "—" if pd.isna(code) else word(kind, code))
        elif column == "commodity":
            shown[column] = values.map(commodity_words)
        elif column in DATES:
            shown[column] = values.map(lambda value: "—" if pd.isna(value) or str(value) in ("", "None") else day(value))
        elif column == "in_border_zone":
            shown[column] = values.map(yes_no)
    return shown.reset_index(drop=True)


def shown_table(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as text for people (HTML, PDF): `worded`, numbers the current language's way, headings."""
    shown = worded(frame).astype(object)
    for column, digits in DIGITS.items():
        if column in shown:
            shown[column] = frame[column].map(lambda value, digits=digits: number(value, digits)).to_numpy()
    shown = shown.where(shown.notna(), "").map(str)
    return shown.rename(columns={column: _(HEADINGS[column]) for column in shown.columns if column in HEADINGS})
