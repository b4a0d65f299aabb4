"""Plotly charts as plain dicts, in the look of plotly's "plotly_white" template.

A chart built with `plotly.graph_objects` costs 20-60 ms: every property is validated and the whole template
is deep-copied into each figure. Worse, a callback answer holding a `go.Figure` cannot go to orjson as it is,
so Dash walks the whole answer in Python to serialise it. The same chart as a dict of lists costs well
under a millisecond and goes out in one orjson call. The browser draws both the same way: plotly.js reads
the same JSON.

Charts speak the user's language: `graph_config` gives every `dcc.Graph` plotly's locale (its buttons, and
dates, from the vendored `assets/plotly-locale-fr.js`), and `figure` writes numbers with the language's
separators (d3-format ignores plotly's locale for them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from mrumonitor.i18n import current_language, plotly_separators

_GRID = "#EBF0F8"
#: What the charts take from "plotly_white": white background, light grid, plotly's text colour and palette.
_AXIS = {"gridcolor": _GRID, "linecolor": _GRID, "zerolinecolor": _GRID, "automargin": True, "ticks": ""}
_BASE = {"paper_bgcolor": "white", "plot_bgcolor": "white", "font": {"color": "#2a3f5f"}, "hovermode": "closest",
         "colorway": ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880"]}


def values(column: Iterable[Any]) -> list:
    """A column as a JSON-ready list (numpy scalars as Python numbers, NaN and missing values as None)."""
    series = pd.Series(column)
    return series.astype(object).where(series.notna(), None).tolist()


def graph_config() -> dict[str, Any]:
    """The `config` of every `dcc.Graph`: no plotly logo or tips, plotly's texts and dates in the user's language."""
    return {"displaylogo": False, "showTips": False, "locale": current_language()}


def axis(title: str | None = None, **extra: Any) -> dict[str, Any]:
    """An axis in the charts' look, with its title."""
    return {**_AXIS, **({"title": {"text": title}} if title else {}), **extra}


def period_axis(title: str | None = None, **extra: Any) -> dict[str, Any]:
    """An axis of periods or years ("2025H2", 2024): categories as written, never a number scale ("2,024.5")."""
    return axis(title, type="category", **extra)


def figure(traces: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
    """A figure of `traces` with the common look and the language's number separators; `layout` keys (margin,
    height, axes, ...) override it. Axes not given get the common axis style."""
    base = {**_BASE, "separators": plotly_separators(), "xaxis": axis(), "yaxis": axis()}
    return {"data": traces, "layout": {**base, **layout}}


def columns_side_by_side(titles: list[str], y_title: str, gap: float = 0.04,
                         **y_axis: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Layout keys of one panel per title side by side, all sharing the first panel's y axis (titled
    `y_title`, with `y_axis` settings), as `plotly.subplots.make_subplots(cols=n, shared_yaxes=True,
    subplot_titles=...)` sets them; and each panel's (xaxis, yaxis) references for its traces."""
    count = max(1, len(titles))
    width = (1 - gap * (count - 1)) / count
    layout: dict[str, Any] = {"annotations": []}
    refs = []
    for i in range(count):
        suffix = "" if i == 0 else str(i + 1)
        start = i * (width + gap)
        layout[f"xaxis{suffix}"] = axis(domain=[start, start + width], anchor=f"y{suffix}")
        shared = {} if i == 0 else {"matches": "y", "showticklabels": False}
        layout[f"yaxis{suffix}"] = axis(y_title if i == 0 else None, anchor=f"x{suffix}", **shared, **y_axis)
        refs.append((f"x{suffix}", f"y{suffix}"))
        if i < len(titles):
            layout["annotations"].append({"text": titles[i], "x": start + width / 2, "y": 1.0, "xref": "paper",
                                          "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                                          "showarrow": False, "font": {"size": 14}})
    return layout, refs
