"""What a run refreshes: the whole region, or only some of the project's countries (a *limited* run).

``mrumonitor run --countries SLE GIN`` (and a job scheduled with ``--countries``) refreshes the countries
given and keeps the others as the previous published run left them:

- **cadastre**: only the sources of those countries are read (`Settings.sources`, by their ``country``);
  the other countries' concessions (every snapshot of them) and quarantine rows are copied from the previous
  run, with their input records, counts and snapshot dates;
- **activity**: the periods a run processes are computed over the blocks of the regional grid that touch
  those countries only; elsewhere the period keeps the previous run's pixels, or has none — see
  `raster.limit`;
- the **analysis** (sites, registration, leakage, capacity) runs over everything, as in a full run.

A limited run needs a published run to start from. The manifest's ``scope`` section and one of its caveats
say what was refreshed and what was kept, and from which run; a later full run refreshes everything (the
periods a limited run processed carry the country list in their fingerprint, `pipeline.incremental`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from mrumonitor.config import Settings
from mrumonitor.errors import ConfigError
from mrumonitor.frames import concat_frames
from mrumonitor.i18n import N_
from mrumonitor.ingest.run import IngestResult
from mrumonitor.manifest import RunManifest
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import CONCESSION_COLUMNS, QUARANTINE_COLUMNS


@dataclass(frozen=True)
class RunScope:
    """The countries a run refreshes: ``()`` for the whole region (a full run)."""

    countries: tuple[str, ...] = ()

    @property
    def limited(self) -> bool:
        return bool(self.countries)

    def covers(self, country: str) -> bool:
        """Whether the run refreshes `country`'s data."""
        return not self.limited or country in self.countries

    def sources(self, settings: Settings) -> list[str]:
        """The cadastre sources the run reads."""
        return [name for name, source in settings.sources.items() if self.covers(source.country)]

    def label(self) -> str:
        return ", ".join(self.countries) if self.limited else "all countries"


def run_scope(settings: Settings, countries: list[str] | tuple[str, ...] | None) -> RunScope:
    """The scope of a run asked to refresh `countries` (ISO3 codes; None or empty: all of them).

    Codes are read case-insensitively and may be given as ``"SLE,GIN"``; naming every project country
    is a full run.

    Raises
    ------
    ConfigError
        A code is not one of ``project.countries``; the message lists the valid ones.
    """
    codes = list(dict.fromkeys(code.strip().upper() for text in countries or () for code in text.split(",")
                               if code.strip()))
    known = settings.project.countries
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ConfigError(f"--countries: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a country "
                          f"of this project; valid codes (project.countries): {', '.join(known)}.")
    if set(codes) >= set(known):
        return RunScope()
    return RunScope(tuple(code for code in known if code in codes))


def keep_other_countries(ingested: IngestResult, previous: RunFolder, manifest: RunManifest, scope: RunScope,
                         settings: Settings) -> IngestResult:
    """The ingest of a limited run completed with the previous run's rows of the countries it did not read.

    The concessions and quarantine rows of the other countries are those of the run at `previous` (whose
    manifest is `manifest`), in their order there and before the rows read now; so are their rows of the
    ingest report (which lists the sources in configuration order).
    """
    order = {name: rank for rank, name in enumerate(settings.sources)}
    kept = [_other_rows(gpd.read_parquet(previous.layer(layer)), scope)
            for layer in ("concessions", "quarantine")]
    concessions = concat_frames([_with_snapshots(kept[0], manifest), ingested.concessions], settings.analysis_crs,
                                CONCESSION_COLUMNS)
    quarantine = concat_frames([kept[1], ingested.quarantine], settings.analysis_crs, QUARANTINE_COLUMNS)
    report = pd.DataFrame(manifest.counts.get("cadastre_by_source", []))
    report = report[~report["country"].map(scope.covers)] if len(report) else report
    report = pd.concat([report, ingested.report], ignore_index=True)
    reasons = [column for column in report.columns if column not in ("source", "country")]
    report[reasons] = report[reasons].fillna(0).astype("int64")
    report = report.sort_values("source", key=lambda names: names.map(order), kind="stable").reset_index(drop=True)
    return IngestResult(concessions, quarantine, report)


def kept_inputs(inputs: list[dict], manifest: RunManifest, scope: RunScope) -> list[dict]:
    """The input records of a limited run: its own, but for the cadastres it did not read, those of the
    previous run (whose `manifest` is given) that made the rows it kept, marked ``kept_from``."""
    kept = [{**record, "kept_from": manifest.run_id} for record in manifest.inputs
            if record["role"] == "cadastre" and not scope.covers(record["country"])]
    own = [record for record in inputs if record["role"] != "cadastre" or scope.covers(record["country"])]
    return kept + own


def scope_entry(scope: RunScope, settings: Settings, previous_run: str | None, limit: dict | None) -> dict:
    """The manifest's ``scope`` section: the countries refreshed, and for a limited run what was kept."""
    if not scope.limited:
        return {"limited": False, "countries": list(settings.project.countries)}
    return {"limited": True, "countries": list(scope.countries),
            "kept_countries": [c for c in settings.project.countries if not scope.covers(c)],
            "kept_from": previous_run, "sources_read": scope.sources(settings),
            "sources_kept": [name for name in settings.sources if name not in scope.sources(settings)],
            **(limit or {})}


#: The caveat of a limited run; the second names the periods with no activity outside the countries refreshed.
LIMITED = N_("This run was limited to %(countries)s: it read the cadastres of %(countries)s only, and computed the "
             "activity of the periods it processed (%(periods)s) only over the parts of the region's grid that touch "
             "%(countries)s. The licences and quarantined records of %(kept)s are those of run %(run)s, and so is the "
             "activity elsewhere. Sites, registration and leakage were analysed over every country. A run of every "
             "country refreshes everything.")
LIMITED_WITH_GAPS = N_("This run was limited to %(countries)s: it read the cadastres of %(countries)s only, and "
                       "computed the activity of the periods it processed (%(periods)s) only over the parts of the "
                       "region's grid that touch %(countries)s. The licences and quarantined records of %(kept)s are "
                       "those of run %(run)s, and so is the activity elsewhere (none for %(empty)s: no data there, "
                       "reported in the observation gaps). Sites, registration and leakage were analysed over every "
                       "country. A run of every country refreshes everything.")


def scope_caveat(entry: dict, processed: list[str]) -> str | None:
    """The caveat a limited run publishes (None for a full run), in English from a template."""
    if not entry["limited"]:
        return None
    empty = [period for period, source in entry.get("outside_from", {}).items() if source is None]
    values = {"countries": ", ".join(entry["countries"]), "kept": ", ".join(entry["kept_countries"]),
              "run": entry["kept_from"], "periods": ", ".join(processed) or "—", "empty": ", ".join(empty)}
    return (LIMITED_WITH_GAPS if empty else LIMITED) % values


def _with_snapshots(concessions: gpd.GeoDataFrame, manifest: RunManifest) -> gpd.GeoDataFrame:
    """The kept concessions with every snapshot they hold; a run made before snapshots were kept held one per
    country, whose date its manifest gives (a date, or None when not stated): its rows get that date."""
    if "snapshot" in concessions.columns:
        return concessions
    day = concessions["country"].astype(object).map(pd.Series(manifest.snapshots, dtype=object))
    return concessions.assign(snapshot=pd.to_datetime(day).astype(CONCESSION_COLUMNS["snapshot"]))


def _other_rows(frame: gpd.GeoDataFrame, scope: RunScope) -> gpd.GeoDataFrame:
    return frame[~frame["country"].map(scope.covers).astype(bool)]
