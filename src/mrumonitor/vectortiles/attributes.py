"""The attributes of a layer's features as MVT holds them: keys, one table of distinct values, integer codes.

MVT stores a layer's attribute keys and values once, each feature pointing into them by index. `Attributes.of`
codes a whole frame once (text, numbers, booleans as they are; dates and times as ISO 8601 text; anything else as
its text), so a layer cut into thousands of tiles is coded once and each tile only takes its rows (`take`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa


@dataclass(frozen=True)
class Attributes:
    """Feature attributes coded once.

    Attributes
    ----------
    keys : tuple of str
        The attribute names (the frame's columns).
    codes : ndarray
        (features, keys) indices into `values`; -1 where a feature has no value (the attribute is left out).
    values : list
        The distinct values of every column (Python str, bool, int or float), each once.
    """

    keys: tuple[str, ...]
    codes: np.ndarray
    values: list[Any]

    @classmethod
    def of(cls, frame: pd.DataFrame | pa.Table) -> Attributes:
        """The attributes of `frame`'s rows (one feature each), its columns the keys. A tile's rows are taken from
        an Arrow table in microseconds, from a DataFrame in a third of a millisecond; either is coded by pandas."""
        names = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
        table: dict[tuple[type, Any], int] = {}
        codes = np.full((len(frame), len(names)), -1, dtype=np.int64)
        for j, name in enumerate(names):
            column = frame[name]
            column_codes, uniques = (_arrow_factorised(column) if isinstance(column, pa.ChunkedArray)
                                     else _factorised(column))
            index = np.array([table.setdefault((type(value), value), len(table)) for value in uniques] or [-1])
            codes[:, j] = np.where(column_codes >= 0, index[column_codes], -1)
        return cls(tuple(map(str, names)), codes, [value for _type, value in table])

    def take(self, rows: np.ndarray) -> Attributes:
        """The attributes of the features `rows` (positions), sharing the value table."""
        return Attributes(self.keys, self.codes[rows], self.values)

    def __len__(self) -> int:
        return len(self.codes)


def _factorised(column: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """`column` as codes (-1: missing) into its distinct values, each as MVT can hold it."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    if column.dtype.kind == "M":
        return np.asarray(codes), [pd.Timestamp(value).isoformat() for value in uniques]
    return np.asarray(codes), [value if type(value) is str else _plain(value)
                               for value in np.asarray(uniques, dtype=object).tolist()]


def _arrow_factorised(column: pa.ChunkedArray) -> tuple[np.ndarray, list[Any]]:
    """`_factorised` of an Arrow column (a tile's few rows). A dictionary column (a category) is coded already: its
    indices and its dictionary's values (unused ones too: only the values a tile uses are written); numbers and
    booleans are coded by numpy (NaN missing); text by pandas, from its Python values. No Arrow compute function
    is called: each would let go of the GIL and wait to get it back in a server whose other threads are busy."""
    array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if pa.types.is_dictionary(array.type):
        # a missing value is a missing index, which numpy reads as NaN
        codes = np.nan_to_num(array.indices.to_numpy(zero_copy_only=False), nan=-1)
        return codes.astype(np.int64), [_plain(value) for value in array.dictionary.to_pylist()]
    if (pa.types.is_floating(array.type) or pa.types.is_integer(array.type) or pa.types.is_boolean(array.type)) \
            and array.null_count == 0:
        values = array.to_numpy(zero_copy_only=False)
        missing = np.isnan(values) if values.dtype.kind == "f" else np.zeros(len(values), dtype=bool)
        uniques, codes = np.unique(values[~missing], return_inverse=True)
        coded = np.full(len(values), -1, dtype=np.int64)
        coded[~missing] = codes
        return coded, [_plain(value) for value in uniques.tolist()]
    return _factorised(pd.Series(array.to_pylist(), dtype=object))


def _plain(value: Any) -> Any:
    """`value` as a Python str, bool, int or float (dates, times as ISO 8601 text; anything else as text)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (dt.datetime, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
