"""Texts written in English once and read in the user's language later: run caveats and warnings.

A run's manifest keeps its caveats in English (the published record: the CLI and the exports read it), each
written from a message template marked `N_` with named placeholders::

    N_("The satellite imagery of %(inputs)s is SYNTHETIC ...") % {"inputs": "s2"}

`translate_text` turns such a text into the current language: an exact hit of the catalogue, else the first
template of the catalogue the whole text matches, its captured values put into the translated template. Only
a template whose own words make at least half of the text is tried (`MIN_LITERAL_SHARE`): a short one such as
"Run %(run)s" would match texts it was never written for. A
captured value that is itself a message of the catalogue (a country's name, a credit) is translated too. A
text made of parts joined by "; " (a capacity row's caveats) is translated part by part; a text that matches
nothing comes back unchanged.
"""

from __future__ import annotations

import re
from functools import cache

from babel.support import NullTranslations

from mrumonitor.i18n import DEFAULT_LANGUAGE, current_language, translations
from mrumonitor.i18n.vocabulary import WORDS

#: A placeholder of a message template: %(name)s, %(name)d, %(name).1f ...
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifgeExXr]")
#: The least share of a text that a template's own words (its text without placeholders) must make.
MIN_LITERAL_SHARE = 0.5
#: How the parts of a composite text are joined.
PART_SEPARATOR = "; "


class Template:
    """One message of the catalogue with placeholders: the English as a regex, the translation to fill in."""

    __slots__ = ("clue", "literal_length", "pattern", "translated")

    def __init__(self, english: str, translated: str) -> None:
        literals = PLACEHOLDER.split(english)[::2]  # split keeps the names at odd positions
        names = PLACEHOLDER.findall(english)
        parts, seen = [], set()
        for literal, name in zip(literals, [*names, None]):
            parts.append(re.escape(literal.replace("%%", "%")))
            if name is not None:
                parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
                seen.add(name)
        self.pattern = re.compile("".join(parts), re.DOTALL)
        #: its longest literal: a text without it cannot match (a cheap test before the regex)
        self.clue = max(literals, key=len).replace("%%", "%")
        self.literal_length = sum(map(len, literals))
        self.translated = PLACEHOLDER.sub(r"%(\1)s", translated)

    def render(self, text: str, catalogue: NullTranslations) -> str | None:
        """`text` in the translation, its values in place; None when `text` is not this template's."""
        if self.clue not in text:
            return None
        match = self.pattern.fullmatch(text)
        if match is None:
            return None
        return self.translated % {name: catalogue.gettext(value) for name, value in match.groupdict().items()}


def translate_text(text: str) -> str:
    """`text`, an English message (a caveat, a warning), in the current language; unchanged if none fits."""
    language = current_language()
    if language == DEFAULT_LANGUAGE or not text:
        return text
    catalogue = translations(language)
    exact = catalogue.gettext(text)
    if exact != text:
        return exact
    for template in templates(language):  # longest words first: the others are too short as well
        if template.literal_length < MIN_LITERAL_SHARE * len(text):
            break
        rendered = template.render(text, catalogue)
        if rendered is not None:
            return rendered
    if PART_SEPARATOR in text:
        return PART_SEPARATOR.join(translate_text(part) for part in text.split(PART_SEPARATOR))
    return text


def english_word(kind: str, code: object) -> str:
    """The English words of a vocabulary `code` (`vocabulary.WORDS`) for a text published in English and
    translated where shown ("Guinea" for GIN); the code itself if unknown."""
    return WORDS[kind].get(str(code), str(code))


def translate_texts(texts: list[str]) -> list[str]:
    """Every text of `texts` in the current language (the caveats of a run, say)."""
    return [translate_text(text) for text in texts]


@cache
def templates(language: str) -> tuple[Template, ...]:
    """The catalogue's messages with placeholders, compiled once per language, the most specific (longest
    literal text) first. Messages without literal text, or whose translation asks for a value the English
    does not give, are left out: they could match anything, or not be filled."""
    catalogue = translations(language)
    found = []
    # GNUTranslations keeps its messages in `_catalog` (msgid -> msgstr; plural forms under tuple keys)
    for english, translated in getattr(catalogue, "_catalog", {}).items():
        if not isinstance(english, str) or not PLACEHOLDER.search(english) or not translated:
            continue
        names = set(PLACEHOLDER.findall(english))
        if not PLACEHOLDER.sub("", english).strip() or not set(PLACEHOLDER.findall(translated)) <= names:
            continue
        found.append(Template(english, translated))
    return tuple(sorted(found, key=lambda template: -template.literal_length))
