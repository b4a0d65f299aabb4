"""`mrumonitor verify sample`: draw a stratified random sample of a published run's sites, record its design in
the verification ledger and write the field sheets (GPX, KML, GeoJSON, CSV, a printable list)."""

from __future__ import annotations

import getpass
from pathlib import Path

import click
import pandas as pd

from mrumonitor.config import load_settings
from mrumonitor.console import config_option, frame_table, out, plain_errors
from mrumonitor.errors import MruError, VerificationError
from mrumonitor.verification.design import STRATA_COLUMNS, SampleDesign
from mrumonitor.verification.ledger import Ledger


@click.command("sample")
@config_option
@click.option("--n", "n", required=True, type=click.IntRange(min=1), help="Sites to draw in all.")
@click.option("--strata", default="registration", show_default=True, metavar="COL[,COL]",
              help=f"What a stratum is made of: one or more of {', '.join(STRATA_COLUMNS)}, comma-separated.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the random draw (the same seed on the same run draws the same sites). Default: a "
                   "random one, recorded with the sample.")
@click.option("--period", default=None, metavar="NAME", help="The period whose sites to sample. Default: the "
                                                             "run's last period with sites.")
@click.option("--run", "run", default="latest", show_default=True, metavar="ID",
              help="The published run to sample (a run id or latest).")
@click.option("--min-per-stratum", type=click.IntRange(min=1), default=None,
              help="Sites each stratum gets first (all of them where it holds fewer). Default: [verification] "
                   "min_per_stratum.")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the field sheets.")
@click.option("--by", "created_by", default=None, metavar="NAME",
              help="Who draws the sample (recorded in the ledger). Default: the user of this session.")
def sample(config_file: Path | None, n: int, strata: str, seed: int | None, period: str | None, run: str,
           min_per_stratum: int | None, out_dir: Path, created_by: str | None) -> None:
    """Draw a stratified random sample of N sites of a published run for field verification.

    Each stratum gets a minimum of sites, the rest goes to the strata in proportion to their mapped area
    (Olofsson et al. 2014); sites already verified not mining are left out. The design is recorded in the
    verification ledger, and the field sheets are written into -o: <id>.gpx and <id>.kml for GPS units and
    phones, <id>.geojson and <id>.csv, and <id>.html, a list to print.
    """
    from mrumonitor.manifest import read_manifest
    from mrumonitor.store.runs import resolve_run
    from mrumonitor.verification.fieldsheets import write_field_sheets
    from mrumonitor.verification.sampling import draw_sample

    with plain_errors():
        settings = load_settings(config_file)
        run_dir = resolve_run(settings.paths.store, run)
        manifest = read_manifest(run_dir)
        design = draw_sample(run_dir, manifest.get("run_id") or run_dir.name, n=n, strata_by=tuple(strata.split(",")),
                             period=period, seed=seed, created_by=created_by or session_user(),
                             min_per_stratum=min_per_stratum or settings.verification.min_per_stratum)
        files = write_field_sheets(design, out_dir, list(manifest.get("caveats") or []))
        recorded(design, Ledger(settings.ledger), files)
    out.print(frame_table(f"Sample {design.sample_id} of run {design.run_id}, period {design.period}",
                          allocation_table(design.strata)))
    out.print(design.allocation, markup=False)
    out.print(f"Recorded in the ledger {settings.ledger} (seed {design.seed}). Field sheets:", markup=False)
    for path in files.values():
        out.print(f"  {path}", markup=False)
    out.print(f"Next: `mrumonitor verify form --sample {design.sample_id} -o form.xlsx` makes the ODK/Kobo form; "
              "after the visits, `mrumonitor verify import EXPORT.csv` records what the teams found.")


def session_user() -> str:
    """The user of this session (who draws a sample when --by is not given)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        raise VerificationError("cannot tell who draws the sample (this session has no user name): give "
                                "--by NAME.") from None


def recorded(design: SampleDesign, ledger: Ledger, sheets: dict[str, Path]) -> None:
    """Record `design` in `ledger`; when the ledger refuses it, remove its field sheets (a team must never go out
    with a sample the ledger does not know: its visits could not be estimated from)."""
    try:
        ledger.save_sample(design)
    except MruError:
        for path in sheets.values():
            path.unlink(missing_ok=True)
        raise


def allocation_table(strata: pd.DataFrame) -> pd.DataFrame:
    """Stratum, sites, mapped ha and drawn, one row per stratum and a total row."""
    table = strata[["stratum", "population", "mapped_ha", "allocated"]].rename(
        columns={"population": "sites", "mapped_ha": "mapped ha", "allocated": "drawn"}).astype(
        {"stratum": object, "sites": int, "mapped ha": float, "drawn": int})
    total = pd.DataFrame([{"stratum": "all", **table[["sites", "mapped ha", "drawn"]].sum().to_dict()}])
    return pd.concat([table, total], ignore_index=True).astype({"sites": int, "drawn": int})
