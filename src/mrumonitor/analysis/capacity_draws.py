"""Uncertainty of a product of uncertain factors: seeded Monte Carlo draws, and the analytic lognormal answer.

A capacity estimate is a product of factors (pit depth x gravel share x grade x recovery, or miners x days x
gravel per miner-day x grade x recovery), each known as a low, a central and a high value. Multiplying every
low and every high gives bounds that almost never happen together (all factors at their extreme at once); the
honest interval comes from the distribution of the product. Each factor is read by its declared distribution:

- ``lognormal``: low, central, high are the 5th percentile, the median and the 95th percentile; one spread in
  log space, sigma = ln(high / low) / (2 z95), with z95 the 95th percentile of the standard normal.
- ``split_lognormal``: the same three percentiles, honoured exactly: below the median the spread is
  ln(central / low) / z95, above it ln(high / central) / z95 (two half-lognormals joined at the median).
- ``pert``: low, central, high are the least, the most likely and the greatest value of a beta-PERT
  (alpha = 1 + 4 (central - low) / (high - low), beta = 1 + 4 (high - central) / (high - low)), bounded: for shares.

`product_quantiles` draws every factor `draws` times from numpy's default generator seeded with `seed` (one
matrix per distribution, never a loop over draws), multiplies the factors of each group draw by draw and
returns the 5th percentile, the median and the 95th percentile of the products. Where every factor is a
lognormal the product is a lognormal too (log-medians add, log-variances add): `lognormal_product_interval`
gives that interval in closed form, the check of the draws.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

#: The 95th percentile of the standard normal (1.645).
Z95 = NormalDist().inv_cdf(0.95)
#: The published quantiles: the 5th percentile, the median (the central estimate) and the 95th percentile.
QUANTILES = (0.05, 0.5, 0.95)


def product_quantiles(factors: pd.DataFrame, draws: int, seed: int) -> pd.DataFrame:
    """The 5th percentile, median and 95th percentile of the product of each group's factors.

    Parameters
    ----------
    factors : DataFrame
        One row per factor: group (any hashable: the product it belongs to), low, central, high,
        distribution (lognormal | split_lognormal | pert) and cap (the most a draw may be: 1 for shares,
        inf otherwise).
    draws : int
        Draws of each factor.
    seed : int
        Seed of numpy's default generator: the same factors, draws and seed give the same answer.

    Returns
    -------
    DataFrame
        Indexed by group: p05, central (the median of the draws) and p95.
    """
    groups, codes = np.unique(factors["group"].to_numpy(), return_inverse=True)
    if not len(groups):
        return pd.DataFrame({"p05": [], "central": [], "p95": []}, index=pd.Index(groups, name="group"))
    sampled = np.minimum(_draw(factors, draws, np.random.default_rng(seed)), factors["cap"].to_numpy()[:, None])
    order = np.argsort(codes, kind="stable")
    products = np.multiply.reduceat(sampled[order], np.searchsorted(codes[order], np.arange(len(groups))), axis=0)
    p05, central, p95 = np.quantile(products, QUANTILES, axis=1)
    return pd.DataFrame({"p05": p05, "central": central, "p95": p95}, index=pd.Index(groups, name="group"))


def lognormal_product_interval(low: np.ndarray, central: np.ndarray, high: np.ndarray) -> tuple[float, float, float]:
    """The exact 5th percentile, median and 95th percentile of a product of independent lognormal factors.

    Each factor's median is its central value and its log-spread ln(high / low) / (2 z95); the product's
    log-median is the sum of the log-medians and its log-variance the sum of the log-variances.
    """
    mu = np.log(np.asarray(central, dtype=float)).sum()
    sigma = np.sqrt(((np.log(np.asarray(high, dtype=float) / np.asarray(low, dtype=float)) / (2 * Z95)) ** 2).sum())
    return float(np.exp(mu - Z95 * sigma)), float(np.exp(mu)), float(np.exp(mu + Z95 * sigma))


def _draw(factors: pd.DataFrame, draws: int, rng: np.random.Generator) -> np.ndarray:
    """A (factors x draws) matrix of draws, each row from its factor's distribution."""
    low, central, high = (factors[name].to_numpy(dtype=float) for name in ("low", "central", "high"))
    kind = factors["distribution"].to_numpy()
    normal = rng.standard_normal((len(factors), draws))
    with np.errstate(divide="ignore", invalid="ignore"):
        below = np.where(kind == "lognormal", np.log(high / low) / 2, np.log(central / low)) / Z95
        above = np.where(kind == "lognormal", np.log(high / low) / 2, np.log(high / central)) / Z95
    spread = np.where(normal < 0, np.nan_to_num(below)[:, None], np.nan_to_num(above)[:, None])
    sampled = central[:, None] * np.exp(spread * normal)
    pert = kind == "pert"
    if pert.any():
        sampled[pert] = _pert(low[pert], central[pert], high[pert], draws, rng)
    return sampled


def _pert(low: np.ndarray, mode: np.ndarray, high: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Beta-PERT draws between low and high with the given mode (a constant where low equals high)."""
    width = high - low
    share = np.divide(mode - low, width, out=np.full_like(width, 0.5), where=width > 0)
    beta = rng.beta((1 + 4 * share)[:, None], (1 + 4 * (1 - share))[:, None], size=(len(low), draws))
    return low[:, None] + width[:, None] * beta
