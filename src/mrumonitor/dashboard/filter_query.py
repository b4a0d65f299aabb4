"""The site table's column filters: a Dash DataTable `filter_query` applied to a frame on the server.

A query is terms joined by `` && ``, each ``{column} operator value``. The operators are those of the DataTable's
query syntax: ``contains``, ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` and their word forms ``eq``, ``ne``,
``lt``, ``le``, ``gt``, ``ge``; ``datestartswith``. The filter row of Dash 4 writes each with a case flag in front,
``s`` (case-sensitive) or ``i`` (insensitive), as the column's ``filter_options`` say: a value typed alone in a text
column arrives as ``{registration} scontains lic`` or ``icontains lic``, ``> 20`` as ``s> 20``. Text compares with
the case the flag asks for, and without one (a query written by hand) in any case; numbers compare as numbers. A
value may be quoted with ", ' or `; a bare value means ``contains``.
"""

from __future__ import annotations

import re

import pandas as pd

#: Word forms of the relational operators, as the DataTable's lexicon accepts them.
_WORDS = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
#: One term: {column} [case flag]operator value (the operator's word forms need a space after them).
_TERM = re.compile(r"^\s*\{(?P<column>[^}]*)\}\s*(?:(?P<flag>[si])?(?P<op>>=|<=|!=|=|<|>|"
                   r"(?:contains|datestartswith|eq|ne|lt|le|gt|ge)(?=\s))\s*)?(?P<value>.*?)\s*$",
                   re.IGNORECASE | re.DOTALL)


def apply_filter_query(table: pd.DataFrame, query: str) -> pd.DataFrame:
    """Rows of `table` matching a dash_table `filter_query` (terms joined by ' && ': `{col} op value`), by the rules
    of the module docstring; an unknown column or a term that is no filter matches nothing."""
    for term in filter(None, (query or "").split(" && ")):
        parsed = _parse_term(term)
        if parsed is None or parsed[0] not in table.columns:
            return table.iloc[0:0]
        column, op, sensitive, value = parsed
        table = table[_matches(table[column], op, sensitive, value).fillna(False).astype(bool)]
    return table


def _matches(series: pd.Series, op: str, sensitive: bool, value: str) -> pd.Series:
    """Where `series` satisfies `op value`."""
    if pd.api.types.is_numeric_dtype(series) and op not in ("contains", "datestartswith"):
        number = pd.to_numeric(value, errors="coerce")
        return {"=": series == number, "!=": series != number, "<": series < number, "<=": series <= number,
                ">": series > number, ">=": series >= number}[op]
    text = series.astype("string")
    if not sensitive:
        text, value = text.str.lower(), value.lower()
    if op == "contains":
        return text.str.contains(value, regex=False)
    if op == "datestartswith":
        return text.str.startswith(value)
    return {"=": text == value, "!=": text != value, "<": text < value, "<=": text <= value, ">": text > value,
            ">=": text >= value}[op]


def _parse_term(term: str) -> tuple[str, str, bool, str] | None:
    """(column, operator, case-sensitive, value) of one term; None when it is not ``{column} ...``."""
    found = _TERM.match(term)
    if found is None:
        return None
    op = (found["op"] or "contains").lower()
    value = found["value"]
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        value = value[1:-1]
    return found["column"].strip(), _WORDS.get(op, op), (found["flag"] or "").lower() == "s", value
