"""The French catalogue is complete: every message marked in the source (`_`, `N_`, `ngettext`) and every page
title of the views file has a French translation, not fuzzy, with the same placeholders; no f-string is passed
to `_()` (its text would never match the catalogue)."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.checkers import TranslationError, python_format
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from french_catalogue import french_messages, translated

from mrumonitor.i18n import _, use_language
from mrumonitor.i18n.extract import extract_views_toml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
#: The marking functions and the arguments that are messages (`ngettext`: singular and plural).
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
#: A named placeholder: %(name)s, %(share).1f ...
NAMED = re.compile(r"%\(\w+\)")


def source_messages() -> dict[str, tuple[str | tuple[str, str], list[str]]]:
    """Every message of the source and the views file (babel.cfg's mapping), by singular msgid: the message
    (a pair for a plural) and where it is."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, tuple[str | tuple[str, str], list[str]]] = {}
    for path, line, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map, KEYWORDS):
        key = message if isinstance(message, str) else message[0]
        if key:
            found.setdefault(key, (message, []))[1].append(f"{path}:{line}")
    return found


def french_catalogue() -> dict[str, Message]:
    """The translated French messages of the catalogue, by msgid (a plural by its singular)."""
    return {message.id if isinstance(message.id, str) else message.id[0]: message
            for message in french_messages() if translated(message)}


def test_every_message_has_french():
    french = french_catalogue()
    missing = [f"{key!r} ({', '.join(where[:2])})" for key, (_message, where) in source_messages().items()
               if key not in french]
    assert not missing, f"{len(missing)} messages have no French (or only a fuzzy one):\n" + "\n".join(missing)


def test_french_keeps_the_placeholders():
    """Babel's python-format check for the messages with named placeholders (the only kind `_()` fills); a
    message without one ("the 95 % interval") is never %-formatted, and its French must not add one."""
    french = french_catalogue()
    wrong = []
    for key, (message, where) in source_messages().items():
        if key not in french:
            continue
        strings = french[key].string
        if NAMED.search(key):
            try:
                python_format(None, Message(message, strings, flags=["python-format"]))
            except TranslationError as exc:
                wrong.append(f"{key!r} ({where[0]}): {exc}")
        elif any(NAMED.search(text) for text in ([strings] if isinstance(strings, str) else strings)):
            wrong.append(f"{key!r} ({where[0]}): the French has a placeholder the English lacks")
    assert not wrong, "\n".join(wrong)


def _marking(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS


def test_no_f_string_is_passed_to_a_marking_function():
    bad = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if _marking(node) and any(isinstance(arg, ast.JoinedStr) for arg in node.args):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, "f-strings passed to _()/N_()/ngettext() (use named placeholders):\n" + "\n".join(bad)


def test_no_message_is_marked_inside_an_f_string():
    """Babel's extractor does not look inside an f-string: a message marked there never reaches the catalogue
    (the login page's labels were lost so)."""
    bad = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.JoinedStr) and any(
                    _marking(inner) and inner.args and isinstance(inner.args[0], ast.Constant)
                    for inner in ast.walk(node)):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, "messages marked inside f-strings (mark them outside):\n" + "\n".join(bad)


def test_the_views_titles_are_extracted_with_their_lines():
    text = (b'# title = "not this one"\n[pages.map]\ntitle = "Map"\nnav = true\n\n'
            b'[pages.runs]\ntitle = "Run \\"history\\""\n')
    found = list(extract_views_toml(io.BytesIO(text), KEYWORDS, [], {}))
    assert [(line, message) for line, _function, message, _comments in found] == [(3, "Map"),
                                                                                 (7, 'Run "history"')]
    assert "'runs'" in found[1][3][0]
    shipped = [message for _line, message, *_rest in extract_from_file(extract_views_toml,
                                                                       ROOT / "dashboards" / "views.toml")]
    assert "Border watch" in shipped and "Regional overview" in shipped


def test_a_shipped_title_is_french_and_a_deployments_own_title_shows_as_written():
    with use_language("fr"):
        assert _("Border watch") == "Veille frontalière"
        assert _("Diamond corridors of Kono") == "Diamond corridors of Kono"

