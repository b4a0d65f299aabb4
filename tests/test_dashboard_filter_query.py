"""The site table's column filters: every operator the Dash DataTable's filter row writes, on numbers and text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrumonitor.dashboard.filter_query import apply_filter_query

pytestmark = pytest.mark.unit

TABLE = pd.DataFrame({
    "site_id": ["MS-1", "MS-2", "MS-3", "MS-4"],
    "registration": ["registered", "no_licence", "No_Licence", ""],
    "area_ha": [2.5, 10.0, 40.25, np.nan],
})

#: query: the site ids it keeps.
CASES = {
    "": ["MS-1", "MS-2", "MS-3", "MS-4"],
    "{area_ha} = 10": ["MS-2"],
    "{area_ha} != 10": ["MS-1", "MS-3", "MS-4"],
    "{area_ha} < 10": ["MS-1"],
    "{area_ha} <= 10": ["MS-1", "MS-2"],
    "{area_ha} > 10": ["MS-3"],
    "{area_ha} >= 10": ["MS-2", "MS-3"],
    "{area_ha} s> 3": ["MS-2", "MS-3"],
    "{area_ha} contains .25": ["MS-3"],
    "{area_ha} > ten": [],  # not a number: nothing compares
    "{registration} = no_licence": ["MS-2", "MS-3"],  # text without a case flag: any case
    "{registration} s= \"NO_LICENCE\"": [],  # s: case-sensitive
    "{registration} s= \"No_Licence\"": ["MS-3"],
    "{registration} i= \"NO_LICENCE\"": ["MS-2", "MS-3"],
    # what Dash 4's filter row sends for a value typed alone in a text column, by the column's filter_options case
    "{registration} scontains lic": ["MS-2"],
    "{registration} icontains LIC": ["MS-2", "MS-3"],
    "{registration} icontains \"no_lic\"": ["MS-2", "MS-3"],
    "{registration} ieq registered": ["MS-1"],
    "{registration} ine registered": ["MS-2", "MS-3", "MS-4"],
    "{area_ha} i= 10": ["MS-2"],
    "{area_ha} s>= 10": ["MS-2", "MS-3"],
    "{area_ha} ge 10": ["MS-2", "MS-3"],
    "{area_ha} slt 10": ["MS-1"],
    "{area_ha} icontains .25": ["MS-3"],
    "{registration} != 'registered'": ["MS-2", "MS-3", "MS-4"],
    "{registration} contains lic": ["MS-2", "MS-3"],
    "{registration} lic": ["MS-2", "MS-3"],  # a bare value: contains
    "{registration} < `o`": ["MS-2", "MS-3", "MS-4"],
    "{registration} >= r": ["MS-1"],
    "{registration} contains licence && {area_ha} > 20": ["MS-3"],
    "{holder} = x": [],  # an unknown column matches nothing
    "registration = x": [],  # not a term
}


@pytest.mark.parametrize("query", CASES, ids=[query or "empty" for query in CASES])
def test_each_operator_keeps_the_rows_it_names(query):
    assert apply_filter_query(TABLE, query)["site_id"].tolist() == CASES[query]
