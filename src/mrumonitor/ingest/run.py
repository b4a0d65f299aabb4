"""Ingest every configured source into the canonical `concessions` and `quarantine` layers.

Invariant, checked on every run: for each source, records read = accepted + quarantined.

Plausibility: a source with no records at all is refused (a national cadastre without licences would make
every mining site of its country "unregistered": it is an export gone wrong, not a fact to publish). A source
whose records are read but mostly quarantined is used, with a run warning saying how many were kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from mrumonitor.config import Settings
from mrumonitor.errors import MruError, ReferenceDataError, StoreError
from mrumonitor.frames import concat_frames
from mrumonitor.ingest.duplicates import find_duplicates
from mrumonitor.ingest.harmonise import SourceContext, harmonise_batch
from mrumonitor.ingest.sources import no_records_error, open_source
from mrumonitor.layerio import UNPARSEABLE, quarantine_rows, write_geoparquet
from mrumonitor.runfolder import RunFolder
from mrumonitor.runwarnings import record_warning
from mrumonitor.schema import CONCESSION_COLUMNS, QUARANTINE_COLUMNS, Reason

log = logging.getLogger(__name__)

#: Above this share of a source's records in quarantine, the run carries a warning.
QUARANTINE_WARNING_SHARE = 0.5

#: Called as records are read: (source name, records read so far, total records in the source).
ProgressHook = Callable[[str, int, int], None]


@dataclass
class IngestResult:
    concessions: gpd.GeoDataFrame
    quarantine: gpd.GeoDataFrame
    report: pd.DataFrame


def ingest_sources(settings: Settings, outlines: Mapping[str, shapely.Geometry] | None = None,
                   on_progress: ProgressHook | None = None, only: list[str] | None = None) -> IngestResult:
    """Read, harmonise and validate the configured sources (or the `only` ones, by source name; [] reads none).

    `outlines` maps ISO3 -> country outline in the analysis CRS (`country_outlines`: the pipeline passes those
    of the run's reference layers); by default they are read from the reference boundaries (``paths.reference``).
    """
    if outlines is None:
        from mrumonitor.reference import load_boundaries

        outlines = country_outlines(load_boundaries(settings.paths.reference, settings.analysis_crs))
    names = list(settings.sources) if only is None else only
    unknown = sorted(set(names) - set(settings.sources))
    if unknown:
        raise MruError(f"unknown source {', '.join(unknown)}; configured sources: {', '.join(settings.sources)}")
    accepted, quarantined, read = [], [], {}
    for name in names:
        ctx = _context(name, settings, outlines)
        stream = open_source(name, ctx.source)
        log.info("reading %s (%s, %d records, %s)", stream.path, ctx.source.format, stream.total, stream.crs.name)
        read[name] = 0
        for batch in stream.batches(settings.ingest.batch_size):
            candidates, rejected = harmonise_batch(batch, ctx)
            accepted.append(candidates)
            quarantined.append(rejected)
            read[name] += len(batch)
            if on_progress:
                on_progress(name, read[name], max(stream.total, read[name]))
        if not read[name]:  # a CSV of blank lines: open_source counted lines, not records
            raise no_records_error(name, ctx.source)
    candidates = concat_frames(accepted, settings.analysis_crs, CONCESSION_COLUMNS)
    concessions, duplicates = _resolve_duplicates(candidates, settings, outlines)
    quarantine = concat_frames(quarantined + [duplicates], settings.analysis_crs, QUARANTINE_COLUMNS)
    report = _report(read, {name: settings.sources[name].country for name in names}, concessions, quarantine)
    for row in report.itertuples():
        log.info("%s: %d read, %d accepted (%d repaired), %d quarantined", row.source, row.read,
                 row.accepted, row.repaired, row.quarantined)
    _warn_mostly_quarantined(report, quarantine, settings)
    return IngestResult(concessions.reset_index(drop=True), quarantine.reset_index(drop=True), report)


def write_ingest(result: IngestResult, out_dir: Path) -> dict[str, Path]:
    """Write both layers as GeoParquet into `out_dir` (each file replaced atomically).

    A folder that cannot be written (a file in the way, read-only, a full disk) is a `StoreError` naming it.
    """
    try:
        return {layer: write_geoparquet(frame, RunFolder(out_dir).layer(layer))
                for layer, frame in (("concessions", result.concessions), ("quarantine", result.quarantine))}
    except OSError as exc:
        raise StoreError(f"{exc.filename or out_dir}: the ingested layers cannot be written there "
                         f"({exc.strerror or exc}). Fix: give a writable folder (--out, or paths.work), with "
                         "space left on its disk.") from None


def country_outlines(boundaries: gpd.GeoDataFrame) -> dict[str, shapely.Geometry]:
    """ISO3 -> outline of the country boundaries (iso3, geometry), as `ingest_sources` takes them."""
    return dict(zip(boundaries["iso3"], boundaries.geometry, strict=True))


def _context(name: str, settings: Settings, outlines: Mapping[str, shapely.Geometry]) -> SourceContext:
    source = settings.sources[name]
    if source.country not in outlines:
        raise ReferenceDataError(f"no country outline for {source.country} (sources.{name}.country); "
                                 f"outlines exist for {', '.join(sorted(outlines))}. Run `mrumonitor reference build`.")
    return SourceContext(name, source, outlines[source.country], settings.analysis_crs,
                         settings.ingest.country_tolerance_km)


def _resolve_duplicates(candidates: gpd.GeoDataFrame, settings: Settings, outlines) -> tuple:
    reason, detail = find_duplicates(candidates)
    bad = reason.notna()
    rows = [quarantine_rows(_as_raw(part), reason[part.index], detail[part.index], part["licence_id"],
                            **_context(name, settings, outlines).origin())
            for name, part in candidates[bad].groupby("source_name")]
    return candidates[~bad], concat_frames(rows, settings.analysis_crs, QUARANTINE_COLUMNS)


def _as_raw(part: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A canonical record shaped like a raw one, so a duplicate's quarantine row keeps all it said."""
    raw = part.drop(columns=["source_name", "source_file"]).copy()
    raw[UNPARSEABLE] = False
    return raw


def _warn_mostly_quarantined(report: pd.DataFrame, quarantine: gpd.GeoDataFrame, settings: Settings) -> None:
    """A run warning for each source whose records went mostly to quarantine, with the main reasons."""
    for row in report.itertuples():
        if row.quarantined <= QUARANTINE_WARNING_SHARE * row.read:
            continue
        reasons = quarantine.loc[quarantine["source_name"] == row.source, "reason"].value_counts().head(3)
        top = ", ".join(f"{reason} ({count})" for reason, count in reasons.items())
        record_warning("ingest", settings.sources[row.source].file,
                       f"sources.{row.source}: only {row.accepted} of {row.read} records could be used; "
                       f"{row.quarantined} went to quarantine ({top}). Mining in {row.country} is judged against "
                       "the licences kept: fix the records listed by `mrumonitor ingest --show-quarantine`.")


def _report(read: dict[str, int], countries: dict[str, str], concessions: gpd.GeoDataFrame,
            quarantine: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per source: country, read, accepted, repaired, quarantined, and quarantined per reason."""
    sources = pd.Index(list(read), name="source")

    def per_source(frame: pd.DataFrame, only: str | None = None) -> pd.Series:
        if not len(frame):
            return pd.Series(0, index=sources)
        names = frame.loc[frame[only], "source_name"] if only else frame["source_name"]
        return names.value_counts().reindex(sources, fill_value=0)

    report = pd.DataFrame({"country": pd.Series(countries), "read": pd.Series(read),
                           "accepted": per_source(concessions),
                           "repaired": per_source(concessions, only="geometry_repaired"),
                           "quarantined": per_source(quarantine)}, index=sources)
    if len(quarantine):
        reasons = pd.crosstab(quarantine["source_name"], quarantine["reason"]).reindex(sources, fill_value=0)
        report = report.join(reasons[[r.value for r in Reason if r.value in reasons.columns]])
    broken = report.index[report["read"] != report["accepted"] + report["quarantined"]]
    if len(broken):
        raise MruError(f"internal error: records lost while ingesting {', '.join(broken)} "
                       "(read != accepted + quarantined). Please report this with the input file.")
    return report.reset_index()
