"""The site risk score: one documented number to sort sites by, 0 (no signal) to 100 (every signal).

    risk_score = 100 x (sum over factors of weight x factor) / (sum of weights)

with the weights of `[analysis.risk]` and these factors, each between 0 and 1, taken in the last period the
site was seen:

- ``unregistered``: the share of the site's area not covered by a valid production licence of its commodity;
- ``border``: 1 - dist_border_km / border_zone_km inside the border zone, 0 outside it;
- ``far_from_post``: min(1, dist_post_km / post_far_km) inside the border zone, 0 outside it (a remote site far
  from any border is not a leakage signal, however far it is from a crossing). Only the crossings of the kinds
  in `analysis.post_kinds` that are operational count (`leakage.official_crossings`; by default the official
  posts alone, so a known informal crossing next to a site does not make it look watched); a border zone
  without any such crossing counts as fully far;
- ``transboundary``: 1 if the footprint crosses an international border;
- ``new``: 1 if the site first appeared in the last period of the run;
- ``commodity``: how strong the evidence is that the site mines diamonds, the KP commodity, from how its
  commodity was decided (`commodity_basis`, `COMMODITY_FACTOR`): 1 inside a mapped alluvial diamond field,
  0.5 near one, 0 in a gold belt or where nothing is known (a commodity taken from
  `analysis.commodity_default` is an assumption, not evidence). Without a commodity_basis (an older layer) a
  diamond site counts 1;
- ``size``: the site's active area as a percentile of the sites scored together (ties share their mean rank:
  the largest site 1, the smallest 1/n). The other factors are mostly 0 or 1, so without a continuous
  factor thousands of sites share the same score; size separates them in the order the regional team would
  visit them (a bigger pit moves more gravel). It is relative to the run: the same site can move a little
  between runs as the others grow.

The weights are a judgement of the regional team's priorities, not a calibrated probability. The spread the
default weights give on the demo is measured by `bench/risk_spread.py`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mrumonitor.config import AnalysisSettings

#: The ``commodity`` factor by how the site's commodity was decided (schema.COMMODITY_BASES).
COMMODITY_FACTOR = {"in_diamond_field": 1.0, "near_diamond_field": 0.5, "gold_belt": 0.0, "unknown": 0.0}


def risk_factors(sites: pd.DataFrame, last_period: str, settings: AnalysisSettings) -> pd.DataFrame:
    """The factors of each site (columns named after the weights of `[analysis.risk]`; module docstring).

    `sites` needs area_ha, unregistered_ha, dist_border_km, dist_post_km, in_border_zone, transboundary,
    first_seen and commodity; commodity_basis is read when present.
    """
    zone = sites["in_border_zone"].fillna(False).to_numpy(dtype=bool)
    border = 1.0 - sites["dist_border_km"].to_numpy(dtype=float) / settings.border_zone_km
    far = np.minimum(1.0, sites["dist_post_km"].to_numpy(dtype=float) / settings.post_far_km)
    area = sites["area_ha"].to_numpy(dtype=float)
    unregistered = np.divide(sites["unregistered_ha"].to_numpy(dtype=float), area, out=np.zeros(len(sites)),
                             where=area > 0)
    return pd.DataFrame({
        "unregistered": np.clip(unregistered, 0.0, 1.0),
        "border": np.where(zone, np.clip(border, 0.0, 1.0), 0.0),
        "far_from_post": np.where(zone, np.nan_to_num(far, nan=1.0), 0.0),
        "transboundary": sites["transboundary"].to_numpy(dtype=float),
        "new": (sites["first_seen"] == last_period).to_numpy(dtype=float),
        "commodity": commodity_factor(sites),
        "size": sites["area_ha"].rank(pct=True).fillna(0.0).to_numpy(dtype=float),
    }, index=sites.index)


def commodity_factor(sites: pd.DataFrame) -> np.ndarray:
    """The ``commodity`` factor: `COMMODITY_FACTOR` of the site's commodity_basis; where the basis is missing
    (no such column, or an empty value), 1 for a diamond site and 0 for any other."""
    diamond = (sites["commodity"] == "diamond").fillna(False).to_numpy(dtype=float)
    if "commodity_basis" not in sites:
        return diamond
    by_basis = sites["commodity_basis"].map(COMMODITY_FACTOR).astype(float).to_numpy()
    return np.where(np.isnan(by_basis), diamond, by_basis)


def risk_score(factors: pd.DataFrame, settings: AnalysisSettings) -> pd.Series:
    """The weighted score, 0-100, rounded to 0.1."""
    weights = pd.Series(settings.risk.model_dump())
    score = 100.0 * (factors[weights.index] * weights).sum(axis=1) / weights.sum()
    return score.round(1)
