"""`mrumonitor verify form` (the field form of a sample) and `mrumonitor verify import` (its submissions).

Both commands turn a project error into one readable message and exit status 2, as `mrumonitor.cli.main`
does, also when they run on their own (click's standalone mode): a person never sees a traceback.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pandas as pd
from rich.markup import escape

from mrumonitor.config import load_settings
from mrumonitor.console import config_option, frame_table, out, plain_errors

if TYPE_CHECKING:
    from mrumonitor.verification.submissions import ImportReport


#: How many refused rows `import` lists (all of them are in the ledger's rejected table).
SHOWN_REJECTED = 10


@click.command("form")
@config_option
@click.option("--sample", "sample_id", default="latest", show_default=True, metavar="ID",
              help="The sample whose sites the form lists (an id of `mrumonitor verify sample`, or latest).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FORM.xlsx", help="The XLSForm to write; the XForm is written beside it (FORM.xml).")
def form(config_file: Path | None, sample_id: str, output: Path) -> None:
    """Write the field form (XLSForm and XForm) of a sample, for ODK Collect and KoboToolbox."""
    from mrumonitor.verification.ledger import Ledger
    from mrumonitor.verification.xlsform import form_id, write_xlsform

    with plain_errors():
        if output.suffix.lower() != ".xlsx":
            raise click.BadParameter(f"{output} must end in .xlsx (an XLSForm is a workbook).",
                                     param_hint="-o/--output")
        design = Ledger(load_settings(config_file).ledger).sample(sample_id)
        xlsx, xform = write_xlsform(design, output)
    out.print(f"field form of sample {escape(design.sample_id)} ({len(design.units)} sites, run {design.run_id}, "
              f"period {design.period}), form id {form_id(design)}:\n"
              f"  XLSForm {escape(str(xlsx))}\n  XForm   {escape(str(xform))}\n"
              "KoboToolbox: Projects > New > Upload an XLSForm, choose the .xlsx, then Deploy.\n"
              "ODK Central: Project > New form, upload the .xlsx (or the .xml), then Publish; add the phones' app "
              "users to it.\nWhen the teams have sent their visits, export the submissions (CSV, XLSX or GeoJSON) "
              "and run `mrumonitor verify import FILE`.")


@click.command("import")
@config_option
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--by", "entered_by", default=None, metavar="NAME",
              help="Who enters the visits (recorded with each one). Default: the user running the command.")
@click.option("--run", "run_id", default="latest", show_default=True, metavar="ID",
              help="The run whose sites the visits are checked against.")
def import_visits(config_file: Path | None, file: Path, entered_by: str | None, run_id: str) -> None:
    """Import FILE, an ODK Central or KoboToolbox export of the field form's submissions (CSV, XLSX, GeoJSON),
    into the verification ledger.

    Each row is checked (site known to the run, date, outcome, commodity, team, GPS point near the site); a
    refused row is kept in the ledger's rejected rows with the reason and the fix. A submission already in the
    ledger is not added again. Exit status 1 when every row was refused.
    """
    from mrumonitor.verification.submissions import import_submissions

    with plain_errors():
        report = import_submissions(file, load_settings(config_file), entered_by or _os_user(), run_id)
    _print_report(report)
    if report.read and len(report.rejected) == report.read:
        raise click.exceptions.Exit(1)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment nor the password database (some containers)
        raise click.UsageError("cannot tell who you are from the system: give your name with --by NAME.") from None


def _print_report(report: ImportReport) -> None:
    counts = pd.DataFrame({"read": [report.read], "added": [report.added],
                           "already in the ledger": [report.duplicates], "rejected": [len(report.rejected)],
                           "sites visited more than once": [len(report.revisited)]})
    out.print(frame_table(f"Import of {escape(report.file.name)} (sites of run {report.run_id})", counts))
    if len(report.rejected):
        shown = report.rejected.head(SHOWN_REJECTED)[["row", "site_id", "reason", "detail"]]
        shown = shown.assign(site_id=shown["site_id"].fillna("").map(escape), detail=shown["detail"].map(escape))
        out.print(frame_table(f"Rejected rows (first {len(shown)} of {len(report.rejected)}; all are kept in the "
                              "ledger's rejected rows)", shown.rename(columns={"detail": "what to fix"})))
    if len(report.revisited):
        sites = ", ".join(f"{escape(site)} ({visits})" for site, visits in report.revisited.itertuples(index=False))
        out.print(f"visited more than once (every visit is kept; the latest conclusive one counts): {sites}")
