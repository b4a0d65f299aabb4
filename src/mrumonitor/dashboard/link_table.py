"""Tables for people: translated headers, numbers written the user's way, and link columns holding markdown
links (`[SLE-1](/site/SLE-1)`), opened in the same tab.

Numbers stay numbers in a table's data (so sorting and the filter row compare them as numbers); the table
writes them with the current language's separators (`locale_format`) and the decimals of their column
(`number_column`); a share is written as a percentage, signed where it is a change (`share_column`). Columns are
plain JSON (a callback may answer them as they are).
"""

from __future__ import annotations

from typing import Any

import babel.numbers
from dash import dash_table
from dash.dash_table.Format import Format, Group, Scheme, Sign

from mrumonitor.i18n import current_language


def site_link(site_id: str) -> str:
    """A markdown link to the dossier of site `site_id`."""
    return f"[{site_id}](/site/{site_id})"


def locale_format() -> dict[str, str]:
    """The DataTable's `locale_format` for the current language: its decimal and thousands separators."""
    language = current_language()
    return {"decimal": babel.numbers.get_decimal_symbol(language),
            "group": babel.numbers.get_group_symbol(language)}


def number_column(column: str, header: str, digits: int = 1, signed: bool = False) -> dict[str, Any]:
    """A numeric column shown with `digits` decimals and thousands separators (a "+" before a gain if `signed`)."""
    shown = Format(precision=digits, scheme=Scheme.fixed, group=Group.yes, sign=Sign.positive if signed else Sign.default)
    return {"name": header, "id": column, "type": "numeric", "format": shown.to_plotly_json()}


def share_column(column: str, header: str, missing: str = "—", signed: bool = False) -> dict[str, Any]:
    """A column of shares (0.5) shown as whole percentages (50%; +50% if `signed`), `missing` where there is none."""
    shown = Format(precision=0, scheme=Scheme.percentage, sign=Sign.positive if signed else Sign.default,
                   nully=missing)
    return {"name": header, "id": column, "type": "numeric", "format": shown.to_plotly_json()}


def text_column(column: str, header: str, link: bool = False) -> dict[str, Any]:
    """A text column; markdown (links) if `link`."""
    return {"name": header, "id": column, "type": "text", **({"presentation": "markdown"} if link else {})}


def link_table(table_id: str, rows: list[dict], headers: dict[str, str], links: tuple[str, ...],
               page_size: int = 20, **kwargs: Any) -> dash_table.DataTable:
    """A sortable table of `rows` with the columns of `headers` (id -> header); the columns `links` are markdown."""
    return table(table_id, rows, [text_column(column, header, column in links) for column, header in headers.items()],
                 page_size, **kwargs)


def table(table_id: str, rows: list[dict], columns: list[dict[str, Any]], page_size: int = 20,
          **kwargs: Any) -> dash_table.DataTable:
    """A table of `rows` sorted in the browser, with `columns` (`number_column`, `share_column`, `text_column`),
    its numbers written the current language's way."""
    return dash_table.DataTable(
        id=table_id, columns=columns, data=rows, page_size=page_size, sort_action="native",
        markdown_options={"link_target": "_self"}, locale_format=locale_format(), style_table={"overflowX": "auto"},
        style_header={"fontWeight": "bold"}, style_cell={"textAlign": "left"},
        style_data={"whiteSpace": "normal", "height": "auto"}, **kwargs)
