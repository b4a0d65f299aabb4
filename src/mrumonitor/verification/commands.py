"""`mrumonitor verify`: draw a sample, make its field form, import what the teams found, and see where it stands."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from mrumonitor.config import load_settings
from mrumonitor.console import config_option, frame_table, out
from mrumonitor.errors import UnknownRun
from mrumonitor.verification.form_commands import form, import_visits
from mrumonitor.verification.sample_command import sample


@click.group()
def verify() -> None:
    """Field verification: a stratified sample of sites for the field teams, their ODK/Kobo form, their findings
    recorded in the verification ledger, and what those say about the accuracy of the figures.

    The usual round: `verify sample` (sites to visit, as GPX, KML, GeoJSON and a printable list), `verify form`
    (the XLSForm for ODK Collect or KoboToolbox), `verify import` (the teams' submissions), `verify status`
    (the ledger and the estimates so far); the next `mrumonitor run` publishes the estimates and applies the
    outcomes to the sites.
    """


@verify.command("status")
@config_option
@click.option("--sample", "sample_id", default="latest", show_default=True, metavar="ID",
              help="The sample whose estimates to show (an id, or latest).")
def status(config_file: Path | None, sample_id: str) -> None:
    """What the ledger holds (visits by outcome and country, refused rows, samples) and the estimates of a
    sample computed from it now, before the next run publishes them."""
    from mrumonitor.verification.estimates import sample_estimates
    from mrumonitor.verification.ledger import Ledger

    settings = load_settings(config_file)
    ledger = Ledger(settings.ledger)
    visits, samples = ledger.visits(), ledger.samples()
    out.print(f"Verification ledger: {ledger.path} — {len(visits)} visits, {len(ledger.rejected())} refused "
              f"submission rows, {len(samples)} samples")
    if len(visits):
        by = visits.pivot_table(index="country", columns="outcome", values="visit_id", aggfunc="count",
                                fill_value=0)
        out.print(frame_table("Visits by country and outcome", by.reset_index()))
    if not samples:
        out.print("No sample drawn yet: `mrumonitor verify sample --n 60 -o field-sheets/` draws one.")
        return
    out.print(frame_table("Samples", pd.DataFrame([{
        "sample": design.sample_id, "run": design.run_id, "period": design.period, "strata": ",".join(design.strata_by),
        "sites": len(design.units)} for design in samples])))
    design = ledger.sample(sample_id)
    estimates = sample_estimates(design, visits, settings.verification)
    print_estimates(f"Estimates of sample {design.sample_id} ({design.period}), from the ledger as it is now",
                    estimates)
    published = _published_threshold(settings.paths.store)
    if published:
        out.print(published)


def _published_threshold(store: Path) -> str | None:
    """What the latest published run's threshold report says, with the run's id (None without a run or report)."""
    from mrumonitor.store.runs import read_manifest, resolve_run

    try:
        run = resolve_run(store)
    except UnknownRun:
        return None
    message = ((read_manifest(run).get("verification") or {}).get("threshold") or {}).get("message")
    return f"Detection threshold (run {run.name}): {message}" if message else None


def print_estimates(title: str, estimates: pd.DataFrame) -> None:
    """The overall estimates of a sample and the user's accuracy of each class as a table (map figure,
    field-checked figure with its 95 % interval, sites verified), then what the estimates that show no number need."""
    shown = estimates[(estimates["scope"] == "overall")
                      | ((estimates["scope"] == "class") & (estimates["quantity"] == "user_accuracy"))]
    out.print(frame_table(title, pd.DataFrame({
        "of": shown["stratum"].where(shown["scope"] != "overall", "all").fillna("all"),
        "quantity": shown["quantity"].str.replace("_", " "),
        "map": [_figure(quantity, value) if quantity.endswith("_ha") else "-"
                for quantity, value in zip(shown["quantity"], shown["mapped"])],
        "field-checked (95 % CI)": shown.apply(_estimate, axis=1),
        "verified": shown["n_verified"]})))
    for message in shown.loc[shown["status"] != "ok", "message"].dropna().unique():
        out.print(f"[yellow]{message}[/]")


def _figure(quantity: str, value: float) -> str:
    """A figure as people read it: hectares with thousands separators, proportions in percent."""
    if pd.isna(value):
        return "-"
    return f"{value:,.0f} ha" if quantity.endswith("_ha") else f"{100 * value:.0f} %"


def _estimate(row: pd.Series) -> str:
    if row["status"] != "ok":
        return "too few verified sites"
    return (f"{_figure(row['quantity'], row['estimate'])} ({_figure(row['quantity'], row['ci_low'])} – "
            f"{_figure(row['quantity'], row['ci_high'])})")


verify.add_command(sample)
verify.add_command(form)
verify.add_command(import_visits)
