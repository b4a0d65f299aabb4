"""The USGS production-capacity figures of the region, and a check that reproduces one from its inputs.

The USGS alluvial diamond assessments (Chirico, Malpeli and others, 2010-2013) estimate a country's
production capacity with "the number of artisanal miners, the number of days artisans work per year, and
the average grade of the deposits" in one expression (SIR 2012-5256, abstract): carats a year = miners x
days worked x gravel moved per miner-day (m³) x grade (ct/m³), the low and the high figure each from the
low and the high inputs. `reproduce` computes that expression and sets it beside the published range.

`PUBLISHED` holds only the figures read in the reports themselves, with their place. The inputs behind them
(the miner counts, days, productivity and grades of the reports' tables) could not be read for this release,
so none is shipped: `bench/capacity_usgs.py` takes them on its command line from a reader who has the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PublishedCapacity:
    """A production-capacity range a USGS assessment published, in carats a year, and where it says so."""

    country: str
    low_ct: float
    high_ct: float
    source: str
    url: str


#: Production-capacity ranges read in the USGS reports (only those read; see the module docstring).
PUBLISHED = {
    "GIN": PublishedCapacity(
        country="GIN", low_ct=480_000, high_ct=720_000,
        source=("Chirico, Malpeli, Van Bockstael and others, 2012, Alluvial diamond resource potential and "
                "production capacity assessment of Guinea: USGS Scientific Investigations Report 2012-5256, "
                "abstract"),
        url="https://pubs.usgs.gov/sir/2012/5256/"),
}


@dataclass(frozen=True)
class UsgsInputs:
    """The inputs of the USGS production-capacity expression, each as (low, high)."""

    miners: tuple[float, float]
    days_per_year: tuple[float, float]
    gravel_m3_per_miner_day: tuple[float, float]
    grade_ct_per_m3: tuple[float, float]


def production_capacity(inputs: UsgsInputs) -> tuple[float, float]:
    """Carats a year, low and high: miners x days x gravel per miner-day x grade, lows together, highs together.

    This is the USGS's own deterministic range (a scenario of low inputs and one of high inputs), which is
    what a reproduction must compute; the monitor's own estimates use distributions instead.
    """
    factors = np.array([inputs.miners, inputs.days_per_year, inputs.gravel_m3_per_miner_day, inputs.grade_ct_per_m3],
                       dtype=float)
    low, high = factors.prod(axis=0)
    return float(low), float(high)


def reproduce(country: str, inputs: UsgsInputs) -> dict[str, float | str]:
    """The published range of `country` beside the one its inputs give, with their ratios (reproduced /
    published) and whether both ends lie within 20 %."""
    published = PUBLISHED[country]
    low, high = production_capacity(inputs)
    ratios = (low / published.low_ct, high / published.high_ct)
    return {"country": country, "published_low_ct": published.low_ct, "published_high_ct": published.high_ct,
            "reproduced_low_ct": low, "reproduced_high_ct": high, "ratio_low": ratios[0], "ratio_high": ratios[1],
            "within_20_percent": bool(all(abs(ratio - 1) <= 0.2 for ratio in ratios)),
            "source": published.source, "url": published.url}
