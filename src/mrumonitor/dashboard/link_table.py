"""A plain table whose link columns hold markdown links (`[SLE-1](/site/SLE-1)`), opened in the same tab."""

from __future__ import annotations

from typing import Any

from dash import dash_table


def site_link(site_id: str) -> str:
    """A markdown link to the dossier of site `site_id`."""
    return f"[{site_id}](/site/{site_id})"


def link_table(table_id: str, rows: list[dict], headers: dict[str, str], links: tuple[str, ...],
               page_size: int = 20, **kwargs: Any) -> dash_table.DataTable:
    """A sortable table of `rows` with the columns of `headers` (id -> header); the columns `links` are markdown."""
    columns = [{"name": header, "id": column, **({"presentation": "markdown"} if column in links else {})}
               for column, header in headers.items()]
    return dash_table.DataTable(
        id=table_id, columns=columns, data=rows, page_size=page_size, sort_action="native",
        markdown_options={"link_target": "_self"}, style_table={"overflowX": "auto"},
        style_header={"fontWeight": "bold"}, style_cell={"textAlign": "left"},
        style_data={"whiteSpace": "normal", "height": "auto"}, **kwargs)
