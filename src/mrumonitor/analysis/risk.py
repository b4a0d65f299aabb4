"""The site risk score: one documented number to sort sites by, 0 (no signal) to 100 (every signal).

    risk_score = 100 x (sum over factors of weight x factor) / (sum of weights)

with the weights of `[analysis.risk]` and these factors, each between 0 and 1, taken in the last period the
site was seen:

- ``unregistered``: the share of the site's area not covered by a valid production licence of its commodity;
- ``border``: 1 - dist_border_km / border_zone_km inside the border zone, 0 outside it;
- ``far_from_post``: min(1, dist_post_km / post_far_km) inside the border zone, 0 outside it (a remote site far
  from any border is not a leakage signal, however far it is from a crossing);
- ``transboundary``: 1 if the footprint crosses an international border;
- ``new``: 1 if the site first appeared in the last period of the run.

The weights are a judgement of the regional team's priorities, not a calibrated probability.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mrumonitor.config import AnalysisSettings


def risk_factors(sites: pd.DataFrame, last_period: str, settings: AnalysisSettings) -> pd.DataFrame:
    """The five factors of each site (columns named after the weights of `[analysis.risk]`).

    `sites` needs area_ha, unregistered_ha, dist_border_km, dist_post_km, in_border_zone, transboundary and
    first_seen.
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
        "commodity": (sites["commodity"] == "diamond").to_numpy(dtype=float),
    }, index=sites.index)


def risk_score(factors: pd.DataFrame, settings: AnalysisSettings) -> pd.Series:
    """The weighted score, 0-100, rounded to 0.1."""
    weights = pd.Series(settings.risk.model_dump())
    score = 100.0 * (factors[weights.index] * weights).sum(axis=1) / weights.sum()
    return score.round(1)
