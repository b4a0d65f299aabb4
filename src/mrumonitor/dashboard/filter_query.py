"""The site table's column filters: a Dash DataTable `filter_query` applied to a frame on the server.

A query is terms joined by `` && ``, each ``{column} operator value``, with the operators the DataTable's
filter row writes: ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` (also as ``s=``, ``s<`` ... for text),
``contains``, and a bare value meaning ``contains``. A value may be quoted with ", ' or `.
"""

from __future__ import annotations

import pandas as pd

#: The operators a term may start with (longest first where one is the start of another), and what they mean.
_OPERATORS = (("s>=", ">="), ("s<=", "<="), ("s<", "<"), ("s>", ">"), ("s!=", "!="), ("s=", "="),
              ("contains ", "contains"), (">=", ">="), ("<=", "<="), ("<", "<"), (">", ">"), ("!=", "!="),
              ("=", "="))


def apply_filter_query(table: pd.DataFrame, query: str) -> pd.DataFrame:
    """Rows of `table` matching a dash_table `filter_query` (terms joined by ' && ': `{col} op value`).
    Numbers compare as numbers, text case-insensitively; an unknown column matches nothing."""
    for term in filter(None, (query or "").split(" && ")):
        column, op, value = _parse_term(term)
        if column not in table.columns:
            return table.iloc[0:0]
        series = table[column]
        if pd.api.types.is_numeric_dtype(series):
            number = pd.to_numeric(value, errors="coerce")
            if op == "contains":
                mask = series.astype(str).str.contains(str(value), regex=False)
            else:
                mask = {"=": series == number, "!=": series != number, "<": series < number,
                        "<=": series <= number, ">": series > number, ">=": series >= number}[op]
        else:
            text, value = series.str.lower(), str(value).lower()
            mask = (text.str.contains(value, regex=False) if op == "contains" else
                    {"=": text == value, "!=": text != value, "<": text < value, "<=": text <= value,
                     ">": text > value, ">=": text >= value}[op])
        table = table[mask.fillna(False)]
    return table


def _parse_term(term: str) -> tuple[str, str, str]:
    column, _, rest = term.partition("} ")
    column = column.strip().lstrip("{")
    rest = rest.strip()
    for token, op in _OPERATORS:
        if rest.startswith(token):
            value = rest[len(token):].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
                value = value[1:-1]
            return column, op, value
    return column, "contains", rest
