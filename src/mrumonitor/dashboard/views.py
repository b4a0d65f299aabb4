"""The dashboard's view definitions (dashboards/views.toml): which pages exist, and what each shows.

Each page of the app looks itself up here by name when it renders: its title, whether it is in the
navigation bar, the filter controls, KPI cards and map layers it shows; the navigation follows the file's
order. The file is checked as strictly as the configuration: an unknown table, key, page, filter, KPI or
layer is an error that lists the valid ones; a value of the wrong type, a name listed twice, `checked`
layers outside `layers` and two pages with one title are refused with what to write instead.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mrumonitor.errors import ConfigError

#: Filter controls a page may show.
FILTERS = ("country", "period", "commodity", "registration", "border_only", "scope")
#: KPI cards of the overview.
KPIS = ("active_ha", "unregistered_share", "border_zone_sites", "new_sites", "transboundary_sites", "sites")
#: Map layers a page's layer control may hold.
LAYERS = ("countries", "borders", "border_zone", "concessions", "border_posts", "sites", "activity", "corridors")
#: The pages the app implements.
PAGES = ("overview", "map", "unregistered", "border", "area", "alerts", "verification", "site", "downloads", "runs")
#: The keys of a page's table.
KEYS = ("title", "nav", "filters", "kpis", "layers", "checked")


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
        When the file is missing or not TOML, has a table other than [pages.<name>], names an unknown page,
        key, filter, KPI or layer, lacks a title, has a value of the wrong type or a name twice in a list,
        checks a layer it does not list, or gives two pages one title.
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
    unknown = sorted(set(raw) - {"pages"})
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(unknown)}; the file holds only [pages.<name>] "
                          f"tables, pages: {', '.join(PAGES)}.")
    pages = raw.get("pages")
    if not isinstance(pages, dict) or not pages:
        raise ConfigError(f"{path}: no [pages.<name>] table; pages: {', '.join(PAGES)}.")
    views = tuple((name, _view(path, name, spec)) for name, spec in pages.items())
    titles = [view.title for _, view in views]
    twice = sorted({title for title in titles if titles.count(title) > 1})
    if twice:
        raise ConfigError(f"{path}: pages {', '.join(name for name, view in views if view.title in twice)} share "
                          f"the title {twice[0]!r}; give each page its own title (the navigation shows them).")
    return views


def _view(path: str, name: str, spec: dict) -> View:
    where = f"{path}: [pages.{name}]"
    if name not in PAGES:
        raise ConfigError(f"{where}: unknown page; pages: {', '.join(PAGES)}.")
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: must be a table of keys ({', '.join(KEYS)}), not {spec!r}.")
    unknown = sorted(set(spec) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; keys: {', '.join(sorted(KEYS))}.")
    if not isinstance(spec.get("title"), str) or not spec["title"].strip():
        raise ConfigError(f"{where}: needs a title, e.g. title = \"Map\".")
    if not isinstance(spec.get("nav", True), bool):
        raise ConfigError(f"{where}: nav is {spec['nav']!r}; write nav = true or nav = false.")
    lists = {key: _names(where, key, spec.get(key, [])) for key in ("filters", "kpis", "layers", "checked")}
    for key, valid in (("filters", FILTERS), ("kpis", KPIS), ("layers", LAYERS), ("checked", lists["layers"])):
        bad = [value for value in lists[key] if value not in valid]
        if bad:
            raise ConfigError(f"{where}: {key} has {', '.join(map(repr, bad))}; valid: {', '.join(valid) or 'none'}.")
    return View(name=name, title=spec["title"], nav=spec.get("nav", True), **lists)


def _names(where: str, key: str, value: object) -> tuple[str, ...]:
    """The list of names under `key`, refused when it is not a list of text or names one twice."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: {key} is {value!r}; write a list of names, e.g. {key} = [] or "
                          f"{key} = [\"a\", \"b\"].")
    twice = sorted({item for item in value if value.count(item) > 1})
    if twice:
        raise ConfigError(f"{where}: {key} lists {', '.join(map(repr, twice))} more than once; list each once.")
    return tuple(value)
