#!/usr/bin/env python
"""USGS reproduction check: a published production-capacity range beside the one its own inputs give.

    python bench/capacity_usgs.py                       # the published figures, and which inputs are missing
    python bench/capacity_usgs.py --country GIN --miners LOW HIGH --days LOW HIGH \\
        --gravel-m3-per-miner-day LOW HIGH --grade LOW HIGH   # the inputs read in the report's tables

The USGS expression (SIR 2012-5256, abstract): carats a year = miners x days worked x gravel per miner-day x
grade. With the inputs given it prints published, reproduced and their ratio side by side, says whether both
ends lie within 20 %, and exits 1 when they do not. The inputs are not shipped: they could not be read for
this release (only the published ranges were), so without them the script says so and reproduces nothing.
Writes bench/results/capacity_usgs.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mrumonitor.analysis.usgs import PUBLISHED, UsgsInputs, reproduce

RESULTS = Path(__file__).resolve().parent / "results" / "capacity_usgs.json"
INPUTS = {"miners": "miners", "days": "days_per_year", "gravel_m3_per_miner_day": "gravel_m3_per_miner_day",
          "grade": "grade_ct_per_m3"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--country", choices=sorted(PUBLISHED), default="GIN")
    for flag in INPUTS:
        parser.add_argument(f"--{flag.replace('_', '-')}", nargs=2, type=float, metavar=("LOW", "HIGH"))
    args = parser.parse_args(argv)
    given = {field: getattr(args, flag) for flag, field in INPUTS.items()}
    published = PUBLISHED[args.country]
    print(f"{args.country}: USGS production capacity {published.low_ct:,.0f}-{published.high_ct:,.0f} ct/yr\n"
          f"  {published.source}\n  {published.url}")
    missing = [flag for flag, field in INPUTS.items() if given[field] is None]
    if missing:
        print("  reproduction not run: the report's inputs are not shipped (they could not be read for this "
              f"release); give {', '.join('--' + flag.replace('_', '-') for flag in missing)} from its tables")
        _save({"country": args.country, "published_low_ct": published.low_ct, "published_high_ct": published.high_ct,
               "source": published.source, "url": published.url, "reproduced": None, "missing_inputs": missing})
        return 0
    result = reproduce(args.country, UsgsInputs(**{field: tuple(value) for field, value in given.items()}))
    print(f"  {'':10} {'published':>12} {'reproduced':>12} {'ratio':>7}")
    for end in ("low", "high"):
        print(f"  {end:10} {result[f'published_{end}_ct']:>12,.0f} {result[f'reproduced_{end}_ct']:>12,.0f} "
              f"{result[f'ratio_{end}']:>7.2f}")
    print(f"  within 20 %: {'yes' if result['within_20_percent'] else 'NO'}")
    _save(result)
    return 0 if result["within_20_percent"] else 1


def _save(result: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"  written to {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
