#!/usr/bin/env python
"""How well the site risk score separates sites, on a published run: the score the run published ("before")
against the score of this version's formula and weights recomputed on the same sites ("after").

    python bench/risk_spread.py RUN_FOLDER [--config FILE] [--top N] [--json PATH]

RUN_FOLDER is a published run (<store>/runs/<run_id>, e.g. the demo's
mrumonitor-demo/layers/runs/<run_id>). "after" runs `risk_factors` and `risk_score` on the run's `sites` layer,
whose columns hold every input of the factors, with the last period named in the run's manifest and the
`[analysis]` settings of --config (default: configs/default.toml). For each score it prints and saves: the
5th/25th/50th/75th/95th percentiles, the number of distinct values, the share of sites holding the median
value and the largest share holding any one value, and the commodities of the top N sites (default 100).
Writes bench/results/risk_spread.json (or --json).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from mrumonitor.analysis.risk import risk_factors, risk_score
from mrumonitor.config import load_settings
from mrumonitor.manifest import RunManifest
from mrumonitor.runfolder import RunFolder

PERCENTILES = (5, 25, 50, 75, 95)


def spread(score: pd.Series, commodity: pd.Series, top: int) -> dict:
    """The spread figures of one score (see the module docstring)."""
    counts = score.value_counts()
    median = float(score.median())
    leaders = commodity.loc[score.sort_values(ascending=False, kind="stable").index[:top]]
    return {
        "percentiles": {f"p{p:02d}": round(float(score.quantile(p / 100)), 1) for p in PERCENTILES},
        "distinct_values": int(score.nunique()),
        "share_at_median": round(float((score == median).mean()), 4),
        "largest_tie": {"value": float(counts.index[0]), "share": round(float(counts.iloc[0] / len(score)), 4)},
        f"top_{top}_by_commodity": leaders.value_counts().to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a published run folder (<store>/runs/<run_id>)")
    parser.add_argument("--config", type=Path, default=None, help="settings file for 'after' (default: defaults)")
    parser.add_argument("--top", type=int, default=100, help="how many top sites to break down by commodity")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "risk_spread.json")
    args = parser.parse_args()
    folder = RunFolder(args.run)
    sites = pd.read_parquet(folder.layer("sites"))
    last = RunManifest.read(folder).periods[-1]["name"]
    analysis = load_settings(args.config).analysis
    after = risk_score(risk_factors(sites, last, analysis), analysis)
    figures = {
        "run": str(args.run.resolve()), "sites": len(sites), "last_period": last,
        "weights_after": analysis.risk.model_dump(),
        "before": spread(sites["risk_score"].astype(float), sites["commodity"], args.top),
        "after": spread(after, sites["commodity"], args.top),
    }
    for name in ("before", "after"):
        f = figures[name]
        print(f"{name:>6}: percentiles {f['percentiles']}, {f['distinct_values']} distinct values, "
              f"{100 * f['share_at_median']:.1f} % of sites at the median, largest tie "
              f"{100 * f['largest_tie']['share']:.1f} % at {f['largest_tie']['value']}, "
              f"top {args.top} by commodity {f[f'top_{args.top}_by_commodity']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(f"written: {args.json}")


if __name__ == "__main__":
    main()
