"""Stratified estimators of totals, proportions and ratios, for sampling units of equal or unequal size.

The sample is stratified; within stratum h, n_h of its N_h units are drawn with equal probability, and the
stratum's mapped size X_h (the sum of the units' x) is known. Each unit carries x (its mapped size: 1 for a pixel,
its area in hectares for a mining site) and one or more y (what the reference data say of it, e.g. the area of
the site that is truly mined). The estimators are the separate ratio estimators of Cochran (1977, Sampling
Techniques, 3rd ed., section 6.10) in the notation of Stehman (2014, Int. J. Remote Sensing 35(13): 4923-4939):

- total: Ŷ = Σ_h X_h R̂_h, R̂_h = ȳ_h / x̄_h; V̂(Ŷ) = Σ_h X_h² (1 - n_h/N_h) s²_{d,h} / (n_h x̄_h²), with
  d = y - R̂_h x and s² the sample variance (divisor n_h - 1);
- proportion of the mapped size: Ŷ / Σ_h X_h, with SE(Ŷ) / Σ_h X_h (the X_h are known);
- ratio of two estimated totals Ŷ / Ẑ (producer's accuracy, a share within a domain): the linearised
  variance V̂(Ŷ - R̂ Ẑ) / Ẑ² (Stehman 2014, eq. 26-28), computed as the variance of the total of
  u = y - R̂ z.

With x = 1 for every unit and no finite-population correction (a strata frame without population, as for
pixels) they are exactly the estimators of Olofsson et al. (2014, Remote Sensing of Environment 148: 42-57,
eq. 2-11). A stratum whose units were all observed (a census, n_h = N_h) contributes no variance. A stratum of
the strata frame with no unit in the sample leaves the estimate NaN: it cannot be estimated, and callers say so.

The units frame has a ``stratum`` column, the x column and the y columns; the strata frame is indexed by
stratum with ``mapped`` (X_h) and ``population`` (N_h; NaN or missing: no finite-population correction).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The normal quantile of a two-sided 95 % interval.
Z95 = 1.96


@dataclass(frozen=True)
class Estimate:
    """An estimate with its standard error, the number of units it rests on, and the 95 % interval.

    The interval is value ± 1.96 se (normal approximation), clipped to `bounds`: [0, 1] for proportions and
    ratios, [0, ∞) for totals (an area or a count cannot be negative). A clipped interval is no longer
    symmetric; `half_width` is the unclipped one.
    """

    value: float
    se: float
    n: int
    bounds: tuple[float, float] = (0.0, math.inf)

    @property
    def half_width(self) -> float:
        """1.96 standard errors."""
        return Z95 * self.se

    @property
    def ci_low(self) -> float:
        """The lower end of the 95 % interval, not below bounds[0]."""
        return float(np.clip(self.value - self.half_width, *self.bounds))

    @property
    def ci_high(self) -> float:
        """The upper end of the 95 % interval, not above bounds[1]."""
        return float(np.clip(self.value + self.half_width, *self.bounds))


def stratified_totals(units: pd.DataFrame, strata: pd.DataFrame, y: str, x: str = "x",
                      by: str | Sequence[str] = ()) -> pd.DataFrame:
    """The estimated total of `y` and its standard error, separately for each group of `by`.

    Parameters
    ----------
    units : DataFrame
        One row per observed sample unit: ``stratum``, `x`, `y` and the `by` columns.
    strata : DataFrame
        Indexed by stratum: ``mapped`` (X_h) and optionally ``population`` (N_h). Every stratum of it counts: a
        group without units in one of them gets a NaN total.
    y, x : str
        The columns of the unit's value and of its mapped size.
    by : str or sequence of str
        Columns of independent samples estimated side by side (e.g. repetitions of a simulation).

    Returns
    -------
    DataFrame
        Indexed by the `by` groups (one row "all" without `by`): ``value``, ``se``, ``n``.
    """
    by = [by] if isinstance(by, str) else list(by)
    if not by:
        units, by = units.assign(_group="all"), ["_group"]
    cells, n, total, variance = _stratum_terms(units, strata, y, x, by)
    codes, groups = (cells.droplevel("stratum") if len(by) > 1 else cells.get_level_values(by[0])).factorize()
    size = np.bincount(codes, minlength=len(groups))
    unknown = np.bincount(codes, np.isnan(total) | np.isnan(variance), minlength=len(groups))
    known = (size == len(strata)) & (unknown == 0)
    value = np.bincount(codes, np.nan_to_num(total), minlength=len(groups))
    spread = np.sqrt(np.bincount(codes, np.nan_to_num(variance), minlength=len(groups)))
    frame = pd.DataFrame({"value": np.where(known, value, np.nan), "se": np.where(known, spread, np.nan),
                          "n": np.bincount(codes, n, minlength=len(groups)).astype("int64")},
                         index=groups.set_names(by if len(by) > 1 else by[0]))
    return frame.sort_index()


def stratified_total(units: pd.DataFrame, strata: pd.DataFrame, y: str, x: str = "x") -> Estimate:
    """The estimated total of `y` over the strata (Ŷ of the module docstring), bounded below by 0; NaN without
    units."""
    totals = stratified_totals(units, strata, y, x)
    if totals.empty:
        return Estimate(math.nan, math.nan, 0)
    row = totals.iloc[0]
    return Estimate(float(row["value"]), float(row["se"]), int(row["n"]))


def stratified_proportion(units: pd.DataFrame, strata: pd.DataFrame, y: str, x: str = "x") -> Estimate:
    """The estimated share of the strata's mapped size that `y` holds: Ŷ / Σ X_h, within [0, 1]."""
    total = stratified_total(units, strata, y, x)
    mapped = float(strata["mapped"].sum())
    return Estimate(total.value / mapped, total.se / mapped, total.n, (0.0, 1.0))


def stratified_ratio(units: pd.DataFrame, strata: pd.DataFrame, numerator: str, denominator: str,
                     x: str = "x") -> Estimate:
    """The ratio of two estimated totals Ŷ / Ẑ with its linearised variance, within [0, 1].

    For the producer's accuracy of class j, `numerator` is the unit's part mapped and found j, `denominator`
    its part found j; for a share within a domain, `denominator` is x inside the domain and 0 outside.
    """
    top = stratified_total(units, strata, numerator, x)
    bottom = stratified_total(units, strata, denominator, x)
    ratio = top.value / bottom.value
    residual = units.assign(_u=units[numerator] - ratio * units[denominator])
    spread = stratified_total(residual, strata, "_u", x)
    return Estimate(ratio, spread.se / bottom.value, top.n, (0.0, 1.0))


def _stratum_terms(units: pd.DataFrame, strata: pd.DataFrame, y: str, x: str,
                   by: list[str]) -> tuple[pd.MultiIndex, np.ndarray, np.ndarray, np.ndarray]:
    """The (`by` group, stratum) cells of `units`, and per cell: n, the estimated total X_h R̂_h, its variance."""
    codes, cells = pd.MultiIndex.from_frame(units[[*by, "stratum"]]).factorize()
    cells = cells.set_names([*by, "stratum"])
    count = np.bincount(codes, minlength=len(cells)).astype("float64")
    xs, ys = units[x].to_numpy("float64"), units[y].to_numpy("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        x_mean = np.bincount(codes, xs, minlength=len(cells)) / count
        ratio = np.bincount(codes, ys, minlength=len(cells)) / count / x_mean
        residual = ys - ratio[codes] * xs
        centred = residual - (np.bincount(codes, residual, minlength=len(cells)) / count)[codes]
        s2 = np.bincount(codes, centred**2, minlength=len(cells)) / (count - 1)
        stratum = cells.get_level_values("stratum")
        mapped = strata["mapped"].reindex(stratum).astype("float64").to_numpy()
        population = strata["population"] if "population" in strata else pd.Series(np.nan, strata.index)
        fpc = np.nan_to_num(1.0 - count / population.reindex(stratum).astype("float64").to_numpy(), nan=1.0)
        variance = np.where(fpc <= 0, 0.0, mapped**2 * fpc * s2 / (count * x_mean**2))
    return cells, count, mapped * ratio, variance
