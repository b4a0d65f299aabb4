"""The navigation follows dashboards/views.toml (order, titles, nav), and the views file is checked as strictly as
the configuration: every mistake is refused with what to write instead."""

from __future__ import annotations

import re

import pytest

from mrumonitor.config import load_settings
from mrumonitor.dashboard.app import create_app, navigation
from mrumonitor.dashboard.views import load_views
from mrumonitor.errors import ConfigError
from mrumonitor.resources import project_root

pytestmark = pytest.mark.integration

VIEWS = project_root() / "dashboards" / "views.toml"


def pages_of(text: str) -> tuple[str, list[str]]:
    """The header of a views file and its [pages.<name>] tables, each as its text, in the file's order."""
    starts = [match.start() for match in re.finditer(r"^\[pages\.", text, flags=re.MULTILINE)]
    return text[:starts[0]], [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)])]


def nav_links(store, views) -> list[tuple[str, str]]:
    """(title, path) of the shell's navigation links for the views file `views`."""
    settings = load_settings()
    settings = settings.model_copy(update={"paths": settings.paths.model_copy(update={"store": store}),
                                           "dashboard": settings.dashboard.model_copy(update={"views": views})})
    app = create_app(settings)
    with app.server.test_request_context("/"):
        return [(link.children, link.href) for link in navigation()]


def test_navigation_follows_the_order_of_the_views_file(dashboard_store, tmp_path):
    header, pages = pages_of(VIEWS.read_text(encoding="utf-8"))
    reversed_views = tmp_path / "views.toml"
    reversed_views.write_text(header + "".join(page.rstrip() + "\n\n" for page in reversed(pages)), encoding="utf-8")
    links = nav_links(dashboard_store, VIEWS)
    assert [title for title, _ in links] == [view.title for view in load_views(VIEWS).values() if view.nav]
    assert links[0] == ("Regional overview", "/") and ("Map", "/map") in links
    assert "Site dossier" not in dict(links)  # nav = false
    assert nav_links(dashboard_store, reversed_views) == links[::-1]


PAGE = '[pages.map]\ntitle = "Map"\n'

BAD = {
    "unknown table": ('[dashboard]\ntheme = "dark"\n' + PAGE, "unknown table(s) dashboard; the file holds only"),
    "unknown page": ('[pages.nowhere]\ntitle = "x"\n', "unknown page; pages: overview, map"),
    "unknown key": (PAGE + 'icon = "m"\n', "unknown key(s) icon; keys: checked, filters"),
    "no title": ('[pages.map]\nnav = true\n', 'needs a title, e.g. title = "Map"'),
    "blank title": ('[pages.map]\ntitle = " "\n', "needs a title"),
    "nav as text": (PAGE + 'nav = "yes"\n', "nav is 'yes'; write nav = true or nav = false"),
    "list as text": (PAGE + 'filters = "country"\n', "filters is 'country'; write a list of names"),
    "list of numbers": (PAGE + 'layers = [1]\n', "layers is [1]; write a list of names"),
    "unknown filter": (PAGE + 'filters = ["colour"]\n', "filters has 'colour'; valid: country, period"),
    "unknown kpi": (PAGE + 'kpis = ["carats"]\n', "kpis has 'carats'; valid: active_ha"),
    "unknown layer": (PAGE + 'layers = ["roads"]\n', "layers has 'roads'; valid: countries, borders"),
    "checked outside layers": (PAGE + 'layers = ["sites"]\nchecked = ["borders"]\n',
                               "checked has 'borders'; valid: sites"),
    "a name twice": (PAGE + 'layers = ["sites", "sites"]\n', "layers lists 'sites' more than once"),
    "one title for two pages": (PAGE + '[pages.overview]\ntitle = "Map"\n',
                                "pages map, overview share the title 'Map'; give each page its own title"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_views_file_mistakes_are_refused_with_the_fix(case, tmp_path):
    text, message = BAD[case]
    path = tmp_path / "views.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_views(path)
    assert message in str(error.value) and str(error.value).startswith(str(path))

