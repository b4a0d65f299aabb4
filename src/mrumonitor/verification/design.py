"""A sampling design: which sites of which run and period were drawn, from which strata, with which allocation.

The estimates need the design the sample was drawn under (the strata's sizes and mapped areas, how many sites
each one got), not the map of a later run: `SampleDesign` keeps it, and the ledger stores it beside the visits
(`Ledger.save_sample`). `mrumonitor verify sample` draws one (`verification.sampling`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

#: `strata`: one row per stratum. key columns (the `strata_by` of the design, e.g. registration and country)
#: are added after `stratum`. population: sites of the stratum in the period; mapped_ha: their area;
#: allocated: sites drawn from it.
STRATUM_COLUMNS: dict[str, str] = {"stratum": "string", "population": "int64", "mapped_ha": "float64",
                                   "allocated": "int64"}

#: `units`: the drawn sites, in the order a field team should take them within a stratum (draw order).
#: lon/lat: a point on the footprint (WGS84); nearest_place and nearest_crossing are names with distances.
UNIT_COLUMNS: dict[str, str] = {
    "site_id": "string",
    "stratum": "string",
    "draw": "int64",
    "country": "string",
    "registration": "string",
    "licence_id": "string",
    "area_ha": "float64",
    "lon": "float64",
    "lat": "float64",
    "nearest_place": "string",
    "nearest_crossing": "string",
}

#: What a stratum's key is made of: the columns `verify sample --strata` may name.
STRATA_COLUMNS = ("registration", "country", "commodity", "in_border_zone")


@dataclass(frozen=True)
class SampleDesign:
    """A stratified random sample of the sites of one run and period.

    Attributes
    ----------
    sample_id : str
        e.g. ``S20261205T101500Z-3f2a``; what field forms and visits refer to.
    run_id, period : str
        The run and period whose sites were sampled (the map the sample measures).
    strata_by : tuple of str
        Columns of STRATA_COLUMNS making a stratum's key, joined with ``|`` in `stratum` ("no_licence|SLE").
    n, seed, min_per_stratum : int
        As asked; `strata.allocated` sums to n, or less where the strata hold fewer sites.
    allocation : str
        The allocation rule in words (published with the estimates).
    created, created_by : str
        When (ISO 8601 UTC) and by whom it was drawn.
    strata : DataFrame
        STRATUM_COLUMNS (+ the `strata_by` columns).
    units : DataFrame
        UNIT_COLUMNS: the drawn sites.
    """

    sample_id: str
    run_id: str
    period: str
    strata_by: tuple[str, ...]
    n: int
    seed: int
    min_per_stratum: int
    allocation: str
    created: str
    created_by: str
    strata: pd.DataFrame
    units: pd.DataFrame

    def to_json(self) -> str:
        """The design as JSON text (what the ledger stores)."""
        head = {name: getattr(self, name) for name in ("sample_id", "run_id", "period", "n", "seed",
                                                       "min_per_stratum", "allocation", "created", "created_by")}
        return json.dumps({**head, "strata_by": list(self.strata_by),
                           "strata": json.loads(self.strata.to_json(orient="records")),
                           "units": json.loads(self.units.to_json(orient="records"))}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SampleDesign:
        """The design `to_json` wrote."""
        raw = json.loads(text)
        strata = pd.DataFrame(raw.pop("strata"))
        units = pd.DataFrame(raw.pop("units"), columns=list(UNIT_COLUMNS))
        return cls(**{**raw, "strata_by": tuple(raw["strata_by"])},
                   strata=strata.astype({**STRATUM_COLUMNS, **{c: "string" for c in raw["strata_by"]}})
                   if len(strata) else strata,
                   units=units.astype(UNIT_COLUMNS))
