"""What a page or callback needs from the running app: the settings, its views and the run it shows.

`create_app` keeps the settings and the default run in the Flask config; these helpers read them inside a
request, so pages and callbacks stay plain functions of their inputs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import flask
from dash import html

from mrumonitor.config import Settings
from mrumonitor.dashboard.run import RunData, load_run
from mrumonitor.dashboard.views import View, load_views
from mrumonitor.errors import MruError
from mrumonitor.i18n import current_language

log = logging.getLogger(__name__)

#: Flask config keys set by `create_app`.
SETTINGS_KEY = "MRUMONITOR_SETTINGS"
RUN_KEY = "MRUMONITOR_RUN"


def settings() -> Settings:
    return flask.current_app.config[SETTINGS_KEY]


def run_data(run: str | None = None) -> RunData:
    """The run `run` (default: the app's run, usually "latest"), loaded once per run id."""
    return load_run(settings(), run or flask.current_app.config[RUN_KEY])


def remembered(data: RunData, callback: str, access: Any, inputs: Any, compute: Callable[[], Any]) -> Any:
    """`compute()`, the answer of `callback` to `inputs` on run `data`, kept in the run's LRU store
    (`RunData.results`) under the callback, its inputs, the access scope of the user (role and country) and the
    language: a user never gets an answer computed for another scope or written in another language. Only for
    answers that depend on nothing else.
    Pass the inputs as the callback reads them (a `Filters` rather than the raw filter values), so requests
    that differ only in what the callback ignores share one answer."""
    key = (callback, access.role, access.country, current_language(), json.dumps(inputs, sort_keys=True, default=str))
    return data.results.get(key, compute)


def views() -> dict[str, View]:
    return load_views(settings().dashboard.views)


def view(name: str) -> View | None:
    """The view of page `name`, None when views.toml leaves the page out."""
    return views().get(name)


def page(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator of a page's layout function, `build(view, **path_and_query)`: it gets the page's view of
    views.toml; a page the file leaves out answers that it is not part of this dashboard instead, and a page
    whose run cannot be read (`MruError`) says why."""

    def decorate(build: Callable[..., Any]) -> Callable[..., Any]:
        def layout(**path_and_query: Any) -> Any:
            page_view = view(name)
            if page_view is None:
                return html.P("This page is not part of this dashboard.")
            try:
                return build(page_view, **path_and_query)
            except MruError as exc:  # a damaged or vanished store: said on the page, not a blank one
                log.error("page %s: %s", name, exc)
                return html.Div(className="card page-error", children=[
                    html.H2("This page cannot be shown"), html.P(str(exc), id="page-error")])

        return layout

    return decorate
