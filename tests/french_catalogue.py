"""The French catalogue as the tests read it: one reader for the completeness tests and the pages' "no English left"
tests (Flask client and browser)."""

from __future__ import annotations

from babel.messages.catalog import Message
from babel.messages.pofile import read_po

from mrumonitor.i18n import catalogue_path
from mrumonitor.i18n.messages import PLACEHOLDER


def french_messages() -> list[Message]:
    """Every entry of the French catalogue (the header left out)."""
    with catalogue_path("fr").open("rb") as handle:
        return [message for message in read_po(handle, locale="fr") if message.id]


def translated(message: Message) -> bool:
    """Whether `message` has a French text for each of its forms, none of them fuzzy."""
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return "fuzzy" not in message.flags and all(strings)


def english_shown_in_french() -> set[str]:
    """The English of every entry (each form of a plural) whose French differs, placeholders left out: only whole
    fixed texts can be compared with a page's text, and a text French shares with English never counts."""
    english = set()
    for message in french_messages():
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for msgid, msgstr in zip(ids, strings):
            if msgid and msgstr and msgstr != msgid and not PLACEHOLDER.search(msgid):
                english.add(msgid.strip())
    return english
