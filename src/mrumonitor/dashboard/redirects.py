"""Where the dashboard may send a browser back to after a form (login, the language switch): its own pages only."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(target: str) -> str:
    """`target` when it is a path on this site, "/" otherwise (no redirect to another site).

    Browsers remove tabs and line breaks from a URL and read a backslash as a slash, so ``/\\t/evil.example``
    and ``/\\\\evil.example`` lead to another site as ``//evil.example`` does: anything but printable text
    starting with a single "/" and naming no scheme or host falls back to "/".
    """
    parts = urlsplit(target)
    if (target.startswith("/") and not target.startswith("//") and target.isprintable() and " " not in target
            and "\\" not in target and not parts.scheme and not parts.netloc):
        return target
    return "/"
