"""Damaged cadastre files of every format through the ingest: how many end in the project's error, how many are
ingested whole, and how many escape as another exception or crash the process.

Each case writes 30 flawless Sierra Leone licences in one format, damages one of its files with a seeded random
change (bytes replaced here and there, the file cut short, a block of zeros) and runs `ingest_sources` on it.
Every format runs in its own child process, so a crash (a segfault in a native library) is counted, and the
run goes on from the next case.

    python bench/fuzz_ingest.py                 # 100 cases per format (~2 min on 2 cores)
    python bench/fuzz_ingest.py --cases 20      # quicker
    python bench/fuzz_ingest.py --seed 7        # other damage

Prints a table per format and writes bench/results/fuzz_ingest.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

FORMATS = {  # format: (file, the files of it that get damaged, config lines of the source)
    "shapefile": ("sle.shp", ["sle.shp", "sle.dbf", "sle.shx"], 'format = "shapefile"\n'),
    "zipped shapefile": ("sle.zip", ["sle.zip"], 'format = "shapefile"\n'),
    "gpkg": ("sle.gpkg", ["sle.gpkg"], 'format = "gpkg"\n'),
    "flatgeobuf": ("sle.fgb", ["sle.fgb"], 'format = "flatgeobuf"\n'),
    "geojson": ("sle.geojson", ["sle.geojson"], 'format = "geojson"\n'),
    "csv": ("sle.csv", ["sle.csv"], 'format = "csv"\ncrs = "EPSG:4326"\ncsv = { wkt = "WKT" }\n'),
}
RESULTS = Path(__file__).parent / "results" / "fuzz_ingest.json"


def write_licences(fmt: str, folder: Path) -> None:
    """30 flawless licences of the SLE schema of configs/default.toml, 10 km apart near Kenema."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    frame = gpd.GeoDataFrame({
        "LICENCE_NO": [f"SL-AML-{i:04d}" for i in range(30)], "HOLDER": "Coopérative de Guéckédou",
        "LIC_TYPE": "Artisanal Mining Licence", "MINERAL": "Diamonds", "STATUS": "Active",
        "GRANTED": "15/01/2024", "EXPIRES": "14/01/2027",
    }, geometry=[shapely.box(-12 + 0.1 * (i % 10), 8 + 0.1 * (i // 10), -11.98 + 0.1 * (i % 10),
                             8.02 + 0.1 * (i // 10)) for i in range(30)], crs=4326)
    if fmt == "csv":
        pd.DataFrame(frame.drop(columns="geometry")).assign(WKT=frame.geometry.to_wkt()).to_csv(
            folder / "sle.csv", index=False)
    elif fmt == "zipped shapefile":
        import zipfile

        frame.to_file(folder / "sle.shp", encoding="UTF-8")
        with zipfile.ZipFile(folder / "sle.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(folder.glob("sle.*")):
                if part.suffix != ".zip":
                    archive.write(part, part.name)
                    part.unlink()
    else:
        driver = {"shapefile": "ESRI Shapefile", "gpkg": "GPKG", "flatgeobuf": "FlatGeobuf", "geojson": "GeoJSON"}
        frame.to_file(folder / FORMATS[fmt][0], driver=driver[fmt], **({"encoding": "UTF-8"}
                                                                      if fmt == "shapefile" else {}))


def damage(data: bytes, rng) -> bytes:
    """Bytes replaced here and there, the file cut short, or a block of 64 zeros."""
    import numpy as np

    how = rng.integers(3)
    if how == 0:
        changed = np.frombuffer(data, np.uint8).copy()
        at = rng.integers(len(changed), size=rng.integers(1, 20))
        changed[at] = rng.integers(256, size=len(at))
        return changed.tobytes()
    if how == 1:
        return data[:rng.integers(len(data))]
    at = int(rng.integers(len(data)))
    return data[:at] + bytes(len(data[at:at + 64])) + data[at + 64:]


def run_cases(fmt: str, first: int, cases: int, seed: int) -> None:
    """Child process: run cases first..cases-1 of `fmt`, one JSON line per finished case on stdout."""
    import warnings

    import numpy as np

    from mrumonitor.config import load_settings
    from mrumonitor.errors import MruError
    from mrumonitor.ingest import ingest_sources, write_ingest
    from mrumonitor.reference import load_boundaries

    warnings.simplefilter("ignore")
    file, parts, lines = FORMATS[fmt]
    outlines = None
    for case in range(first, cases):
        rng = np.random.default_rng([seed, list(FORMATS).index(fmt), case])
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_licences(fmt, folder)
            target = folder / parts[rng.integers(len(parts))]
            target.write_bytes(damage(target.read_bytes(), rng))
            config = folder / "mrumonitor.toml"
            config.write_text(f'[paths]\nwork = "work"\n[sources.sle]\nfile = "{file}"\n' + lines, encoding="utf-8")
            print(json.dumps({"case": case, "started": True}), flush=True)
            outcome = {"case": case}
            try:
                settings = load_settings(config)
                settings = settings.model_copy(update={"sources": {"sle": settings.sources["sle"]}})
                if outlines is None:
                    boundaries = load_boundaries(settings.paths.reference, settings.analysis_crs)
                    outlines = dict(zip(boundaries["iso3"], boundaries.geometry, strict=True))
                result = ingest_sources(settings, outlines=outlines)
                write_ingest(result, folder / "out")
                report = result.report.iloc[0]
                outcome |= {"outcome": "ingested", "read": int(report["read"]), "accepted": int(report["accepted"]),
                            "quarantined": int(report["quarantined"])}
            except MruError:
                outcome["outcome"] = "refused"
            except Exception as exc:  # noqa: BLE001 - an exception escaping the ingest is what is counted
                outcome |= {"outcome": "escaped", "error": f"{type(exc).__name__}: {str(exc)[:100]}"}
            print(json.dumps(outcome), flush=True)


def fuzz(fmt: str, cases: int, seed: int) -> dict:
    """Run every case of `fmt` in child processes, restarting after a crash; count the outcomes."""
    outcomes, errors, case = Counter(), Counter(), 0
    while case < cases:
        child = subprocess.run([sys.executable, __file__, "--child", fmt, "--first", str(case), "--cases",
                                str(cases), "--seed", str(seed)], capture_output=True, text=True, check=False)
        started = None
        for line in child.stdout.splitlines():
            record = json.loads(line)
            if record.get("started"):
                started = record["case"]
                continue
            outcomes[record["outcome"]] += 1
            if record["outcome"] == "escaped":
                errors[record["error"]] += 1
            case = record["case"] + 1
        if child.returncode != 0:  # it died in the middle of case `started`
            outcomes["crashed"] += 1
            errors[f"process died (exit {child.returncode})"] += 1
            case = (started if started is not None else case) + 1
    return {"cases": cases, **{k: outcomes.get(k, 0) for k in ("refused", "ingested", "escaped", "crashed")},
            "errors": dict(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100, help="damaged files per format")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_cases(args.child, args.first, args.cases, args.seed)
        return
    figures = {fmt: fuzz(fmt, args.cases, args.seed) for fmt in FORMATS}
    print(f"{'format':<18}{'cases':>6}{'refused':>9}{'ingested':>10}{'escaped':>9}{'crashed':>9}")
    for fmt, row in figures.items():
        print(f"{fmt:<18}{row['cases']:>6}{row['refused']:>9}{row['ingested']:>10}{row['escaped']:>9}"
              f"{row['crashed']:>9}")
        for error, count in row["errors"].items():
            print(f"    {count} x {error}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"seed": args.seed, "formats": figures}, indent=2) + "\n", encoding="utf-8")
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
