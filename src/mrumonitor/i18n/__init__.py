"""French and English: the user's language, its messages, and numbers and dates written its way.

Messages are marked in the source with `_` (translated where they are shown) or `N_` (only marked: a constant
at module level, passed to `_` when shown), and `ngettext` for plurals. Their French lives in the Babel
catalogue `translations/fr/LC_MESSAGES/messages.po` (a gettext PO file, kept with pybabel: see README, "Translating").
The catalogue is compiled in memory the first time a language is used, so no compiled `.mo` file can go stale.

The language: in the dashboard, flask-babel's locale selector (`dashboard.language`) picks it per request
(the user's choice, then the browser's); anywhere else (e-mail digests, the CLI) it is the one set with
`use_language`, English by default. An unknown language falls back to English; a message without French
shows in English (and `tests/test_translations.py` fails).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path

import babel
import babel.dates
import babel.numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberPattern, parse_pattern
from babel.support import NullTranslations, Translations

#: The languages offered, with their names in their own language.
LANGUAGES = {"en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"
#: The catalogue folder: <language>/LC_MESSAGES/<DOMAIN>.po
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

_language: ContextVar[str] = ContextVar("mrumonitor_language", default=DEFAULT_LANGUAGE)


def N_(message: str) -> str:
    """`message` unchanged: marks a constant for the catalogue; `_(CONSTANT)` translates it where shown."""
    return message


def current_language() -> str:
    """The language of the request being answered (flask-babel's choice), else the one set by `use_language`."""
    try:
        import flask
        import flask_babel
        if flask.has_request_context() and "babel" in flask.current_app.extensions:
            return normalise(str(flask_babel.get_locale()))
    except ImportError:  # pragma: no cover - flask comes with dash
        pass
    return _language.get()


def normalise(code: str | None) -> str:
    """`code` as one of `LANGUAGES` ("fr_FR", "fr-CI" -> "fr"); English for anything else."""
    base = (code or "").replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


@contextmanager
def use_language(code: str | None) -> Iterator[str]:
    """Messages, numbers and dates in `code` inside the block, outside a dashboard request (e-mail, CLI)."""
    token = _language.set(normalise(code))
    try:
        yield _language.get()
    finally:
        _language.reset(token)


def catalogue_path(code: str) -> Path:
    """The PO file of language `code`'s messages."""
    return TRANSLATIONS_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(code: str) -> NullTranslations:
    """The catalogue of language `code`, compiled from its PO file (English: none, messages are English)."""
    path = catalogue_path(code)
    if code == DEFAULT_LANGUAGE or not path.is_file():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def _(message: str, **variables: object) -> str:
    """`message` in the current language, with `%(name)s` placeholders filled from `variables`."""
    text = translations(current_language()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """The singular or plural of a message for count `n` in the current language (`%(num)s` is `n`)."""
    text = translations(current_language()).ngettext(singular, plural, n)
    return text % {"num": number(n), **variables}


def number(value: float | None, digits: int = 0) -> str:
    """`value` with the current language's separators (1,234.5 / 1 234,5) and `digits` decimals; "—" if None
    or NaN."""
    if value is None or math.isnan(value):
        return "—"
    locale, pattern = _decimal_pattern(current_language(), digits)
    return pattern.apply(value, locale)


def percent(value: float | None, digits: int = 0) -> str:
    """`value` (0.25) as a percentage the current language's way (25 % / 25%); "—" if None or NaN."""
    if value is None or math.isnan(value):
        return "—"
    locale, pattern = _percent_pattern(current_language(), digits)
    return pattern.apply(value, locale)


# Locales and number patterns parsed once: parsing them per call cost 60-180 µs, applying them costs ~14 µs
# (a map update formats some 750 numbers).
@cache
def _decimal_pattern(code: str, digits: int) -> tuple[babel.Locale, NumberPattern]:
    return babel.Locale.parse(code), parse_pattern("#,##0" + ("." + "0" * digits if digits else ""))


@cache
def _percent_pattern(code: str, digits: int) -> tuple[babel.Locale, NumberPattern]:
    locale = babel.Locale.parse(code)
    text = locale.percent_formats[None].pattern.replace("#,##0", "#,##0" + ("." + "0" * digits if digits else ""))
    return locale, parse_pattern(text)


def day(value: date | datetime | str | None) -> str:
    """A date written the current language's way (5 Dec 2026 / 5 déc. 2026); "—" if None."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return babel.dates.format_date(value, format="medium", locale=current_language())


def plotly_separators() -> str:
    """Plotly's `layout.separators` for the current language (decimal point, then thousands): d3-format
    ignores plotly's locale for numbers."""
    return ", " if current_language() == "fr" else ".,"
