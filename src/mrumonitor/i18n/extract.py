"""A Babel extractor for the dashboard's views file: each page's ``title`` becomes a message of the catalogue.

The titles of dashboards/views.toml are the pages' headings and navigation labels; the dashboard shows them
through `_()`, so the French of the shipped titles lives in the catalogue like any other message, and a
deployment's own titles (not in the catalogue) show as written. babel.cfg names this extractor::

    [extractors]
    views_toml = mrumonitor.i18n.extract:extract_views_toml
    [views_toml: dashboards/**.toml]
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

#: A ``title = "..."`` line, and a ``[pages.<name>]`` table header.
_TITLE_LINE = re.compile(r"^\s*title\s*=")
_PAGE_LINE = re.compile(r"^\s*\[pages\.(\w+)\]")


def extract_views_toml(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str],
                       options: Mapping[str, Any]) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel's extractor interface: (line number, function name, message, comments) for each page title.
    The file is read as TOML first, so a broken file fails here as it would in the dashboard."""
    text = fileobj.read().decode("utf-8")
    tomllib.loads(text)
    page = "?"
    for number, line in enumerate(text.splitlines(), start=1):
        header = _PAGE_LINE.match(line)
        page = header.group(1) if header else page
        if _TITLE_LINE.match(line):
            title = tomllib.loads(line.strip())["title"]
            yield number, None, title, [f"the title of the dashboard page {page!r} (views file)"]
