"""The dashboard's view definitions (dashboards/views.toml): which pages exist, and what each shows.

Each page of the app looks itself up here by name when it renders: its title, whether it is in the
navigation bar, the filter controls, KPI cards and map layers it shows. An unknown name in the file is an
error that lists the valid ones, as everywhere in the configuration.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mrumonitor.errors import ConfigError

#: Filter controls a page may show.
FILTERS = ("country", "period", "commodity", "registration", "border_only")
#: KPI cards of the overview.
KPIS = ("active_ha", "unregistered_share", "border_zone_sites", "new_sites", "transboundary_sites", "sites")
#: Map layers a page's layer control may hold.
LAYERS = ("countries", "borders", "border_zone", "concessions", "border_posts", "sites", "activity", "corridors")
#: The pages the app implements, in their default navigation order.
PAGES = ("overview", "map", "unregistered", "border", "site", "downloads", "runs")


@dataclass(frozen=True)
class View:
    """What one page shows."""

    name: str
    title: str
    nav: bool
    filters: tuple[str, ...]
    kpis: tuple[str, ...]
    layers: tuple[str, ...]
    checked: tuple[str, ...]


def load_views(path: str | Path) -> dict[str, View]:
    """The views of the file at `path`, by page name, in the file's order (cached per file).

    Raises
    ------
    ConfigError
        When the file is missing or not TOML, names an unknown page, filter, KPI or layer, or lacks a key.
    """
    return dict(_load(str(Path(path).resolve())))


@lru_cache(maxsize=8)
def _load(path: str) -> tuple[tuple[str, View], ...]:
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: dashboard views file not found. Set [dashboard] views to an existing "
                          "file (the project ships dashboards/views.toml).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix the syntax at that line.") from None
    pages = raw.get("pages")
    if not isinstance(pages, dict) or not pages:
        raise ConfigError(f"{path}: no [pages.<name>] table; pages: {', '.join(PAGES)}.")
    return tuple((name, _view(path, name, spec)) for name, spec in pages.items())


def _view(path: str, name: str, spec: dict) -> View:
    where = f"{path}: [pages.{name}]"
    if name not in PAGES:
        raise ConfigError(f"{where}: unknown page; pages: {', '.join(PAGES)}.")
    known = {"title", "nav", "filters", "kpis", "layers", "checked"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; keys: {', '.join(sorted(known))}.")
    if not isinstance(spec.get("title"), str) or not spec["title"]:
        raise ConfigError(f"{where}: needs a title, e.g. title = \"Map\".")
    lists = {key: tuple(spec.get(key, ())) for key in ("filters", "kpis", "layers", "checked")}
    for key, valid in (("filters", FILTERS), ("kpis", KPIS), ("layers", LAYERS), ("checked", lists["layers"])):
        bad = [value for value in lists[key] if value not in valid]
        if bad:
            raise ConfigError(f"{where}: {key} has {', '.join(map(repr, bad))}; valid: {', '.join(valid) or 'none'}.")
    return View(name=name, title=spec["title"], nav=bool(spec.get("nav", True)), **lists)
