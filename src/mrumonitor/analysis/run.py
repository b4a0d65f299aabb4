"""The analysis stage: concessions + tracked sites + reference layers -> the layers the regional team reads.

`analyse` takes the concessions (ingest), the tracked sites (detect) and the run's reference layers as data
and returns an `AnalysisResult`, whose `write` puts its layers into a run folder:

- `sites`, `site_periods`: the detect layers with the analysis columns added (SITE_ANALYSIS_COLUMNS,
  SITE_PERIOD_ANALYSIS_COLUMNS); they supersede detect's layers of the same name;
- `site_registration`: every footprint cut by registration class and licence;
- `licence_snapshots`: per period and country, the cadastre snapshot its licences were judged from
  (`analysis.licence_history`: the snapshot in force on the observation day, or dates only before the first);
- `border_corridors` (ranked) and `corridor_periods`;
- `registration_summary`: area per country (and admin area) per period and class;
- `capacity`, `capacity_parameters`, `capacity_stock` and `kp_anomalies`: production capacity (with the
  parameters it used and the area already dug when monitoring began) against declared KP figures;
- `verification_feedback`: what the field visits of the verification ledger changed (`analysis.feedback`:
  a verified false positive is ``verified_not_mining``, a site found licensed is registered, a verified site
  the detector missed is flagged).

`analyse_folders` is the stage as a command on its own: it reads its inputs from the folders of the
ingest and detect commands and the configured reference layers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from mrumonitor.analysis.capacity import CapacityResult, capacity_tables
from mrumonitor.analysis.commodity import site_commodity
from mrumonitor.analysis.corridors import corridor_figures, cut_corridors
from mrumonitor.analysis.declared import read_declared
from mrumonitor.analysis.feedback import apply_feedback
from mrumonitor.analysis.leakage import border_signals, official_crossings
from mrumonitor.analysis.registration import register
from mrumonitor.analysis.risk import risk_factors, risk_score
from mrumonitor.analysis.summary import registration_summary
from mrumonitor.config import Settings
from mrumonitor.errors import StageInputError
from mrumonitor.layerio import write_geoparquet, write_parquet
from mrumonitor.reference.layers import ReferenceLayers
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import NOT_MINING_CLASS, SITE_ANALYSIS_COLUMNS, SITE_PERIOD_ANALYSIS_COLUMNS
from mrumonitor.sites import SiteLayers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisResult:
    """The analysis layers, in the analysis CRS."""

    sites: gpd.GeoDataFrame
    site_periods: gpd.GeoDataFrame
    site_registration: gpd.GeoDataFrame
    licence_snapshots: pd.DataFrame
    border_corridors: gpd.GeoDataFrame
    corridor_periods: pd.DataFrame
    registration_summary: pd.DataFrame
    capacity: CapacityResult
    feedback: pd.DataFrame
    periods: list[str]

    def layers(self) -> dict[str, pd.DataFrame]:
        """Every layer the analysis publishes, by its name in a run folder (vectors, then tables)."""
        return {"sites": self.sites, "site_periods": self.site_periods, "site_registration": self.site_registration,
                "licence_snapshots": self.licence_snapshots,
                "border_corridors": self.border_corridors, "corridor_periods": self.corridor_periods,
                "registration_summary": self.registration_summary, "capacity": self.capacity.capacity,
                "capacity_parameters": self.capacity.parameters, "capacity_stock": self.capacity.stock,
                "kp_anomalies": self.capacity.anomalies, "verification_feedback": self.feedback}

    def write(self, folder: RunFolder) -> dict[str, Path]:
        """Write every layer into `folder` (GeoParquet for the vectors, Parquet for the tables); name -> file."""
        return {name: (write_geoparquet if isinstance(frame, gpd.GeoDataFrame) else write_parquet)(
            frame, folder.layer(name)) for name, frame in self.layers().items()}


def analyse(settings: Settings, concessions: gpd.GeoDataFrame, layers: SiteLayers,
            reference: ReferenceLayers, visits: pd.DataFrame | None = None) -> AnalysisResult:
    """Judge the detected sites against the ingested concessions and the reference layers of the run.

    Parameters
    ----------
    settings : Settings
    concessions : GeoDataFrame
        The ingested licences (`ingest.IngestResult.concessions`), in the analysis CRS.
    layers : SiteLayers
        The tracked sites of detect (`raster.run.DetectResult.sites`), in the analysis CRS.
    reference : ReferenceLayers
        The run's outlines, borders, border posts, commodity zones and admin areas (`ReferenceLayers.load`).
    visits : DataFrame, optional
        The field visits of the verification ledger (`Ledger.visits`); none by default.

    Raises
    ------
    StageInputError
        When the site layers hold a period the configuration does not list.
    InputFileError
        When the declared KP figures are unusable.
    """
    periods = _periods(settings, layers)
    boundaries = reference.boundaries
    decided = site_commodity(layers.sites, reference.commodity_zones, settings.analysis.commodity_default,
                             settings.analysis.near_field_km)
    commodity = decided["commodity"]
    project = boundaries[boundaries["iso3"].isin(settings.project.countries)]
    assessed = shapely.union_all(project.geometry.to_numpy())
    registration = register(layers.site_periods, concessions, commodity, periods, assessed, settings.project.countries)
    corridors = cut_corridors(reference.borders, settings.analysis.corridor_length_km)
    crossings = official_crossings(reference.border_posts, settings.analysis)
    signals = border_signals(layers.site_periods, corridors, crossings, settings.analysis)
    site_periods = layers.site_periods.join(registration.per_period.set_axis(layers.site_periods.index)).join(signals)
    verified = apply_feedback(site_periods, registration.pieces, visits, periods, settings.verification.hold_days)
    site_periods = verified.site_periods.astype(SITE_PERIOD_ANALYSIS_COLUMNS)
    mined = site_periods[site_periods["registration"] != NOT_MINING_CLASS]
    names = [period.name for period in periods]
    sites = _site_columns(layers.sites, site_periods, decided, names[-1], settings)
    mined = mined.assign(commodity=mined["site_id"].map(commodity).to_numpy())
    border_corridors, corridor_periods = corridor_figures(corridors, mined, crossings, names,
                                                          settings.project.countries, reference.places)
    declared = read_declared(settings.capacity.declared) if settings.capacity.declared else None
    result = AnalysisResult(
        sites=sites, site_periods=site_periods, site_registration=verified.pieces,
        licence_snapshots=registration.licence_snapshots,
        border_corridors=border_corridors, corridor_periods=corridor_periods,
        registration_summary=registration_summary(verified.pieces, boundaries, reference.admin),
        capacity=capacity_tables(mined, sites, project, periods, settings.capacity, declared),
        feedback=verified.table.assign(country=verified.table["site_id"].map(sites.set_index("site_id")["country"])
                                       .astype("string")), periods=names)
    log.info("analysed %d sites over %d periods: %d in the border zone, %d corridors", len(sites), len(names),
             int(sites["in_border_zone"].sum()), len(border_corridors))
    return result


def analyse_folders(settings: Settings, ingest_dir: Path, detect_dir: Path, out_dir: Path) -> AnalysisResult:
    """The analysis as a command on its own (`mrumonitor analyse`): read the concessions of ingest
    (`ingest_dir`), the site layers of detect (`detect_dir`) and the configured reference layers, analyse,
    and write the layers into `out_dir`.

    Raises
    ------
    StageInputError
        When concessions or site layers are missing (the message says which command makes them).
    ReferenceDataError, InputFileError
        When a reference layer, the commodity zones, an admin layer or the declared KP figures are unusable.
    """
    concessions, layers = _stage_inputs(RunFolder(ingest_dir), RunFolder(detect_dir), settings.analysis_crs)
    result = analyse(settings, concessions, layers, ReferenceLayers.load(settings))
    result.write(RunFolder(out_dir))
    return result


def _stage_inputs(ingest: RunFolder, detect: RunFolder, crs) -> tuple[gpd.GeoDataFrame, SiteLayers]:
    concessions = ingest.layer("concessions")
    if not concessions.is_file():
        raise StageInputError(f"{concessions}: no concessions layer. Fix: run `mrumonitor ingest` first "
                              f"(or point --ingest-dir at the folder holding {concessions.name}).")
    if not SiteLayers.exists(detect.path):
        raise StageInputError(f"{detect.path}: no site layers (sites, site_periods, site_country_areas). "
                              f"Fix: run `mrumonitor detect` first (or point --detect-dir at its output).")
    layers = SiteLayers.read(detect.path)
    layers = SiteLayers(layers.sites.to_crs(crs), layers.site_periods.to_crs(crs), layers.site_country_areas)
    return gpd.read_parquet(concessions).to_crs(crs), layers


def _periods(settings: Settings, layers: SiteLayers):
    """The configured periods, checked against those the site layers hold."""
    configured = {period.name: period for period in settings.activity.periods}
    unknown = sorted(set(layers.site_periods["period"]) - set(configured))
    if unknown:
        raise StageInputError(f"the site layers hold period(s) {', '.join(unknown)} that [activity] periods does "
                              f"not list (configured: {', '.join(configured) or 'none'}). Fix: list every period "
                              f"of the sites in the configuration, with its dates.")
    return list(settings.activity.periods)


def _site_columns(sites: gpd.GeoDataFrame, site_periods: gpd.GeoDataFrame, decided: pd.DataFrame,
                  last_period: str, settings: Settings) -> gpd.GeoDataFrame:
    """Each site with the analysis values of the last period it was seen in, and its risk score."""
    last = site_periods.merge(sites[["site_id", "last_seen"]], left_on=["site_id", "period"],
                              right_on=["site_id", "last_seen"]).set_index("site_id")
    values = last[list(SITE_PERIOD_ANALYSIS_COLUMNS)].reindex(sites["site_id"])
    decided = decided.reindex(sites["site_id"])
    enriched = sites.assign(commodity=decided["commodity"].to_numpy(), commodity_basis=decided["commodity_basis"].to_numpy(),
                            **{column: values[column].to_numpy() for column in values.columns})
    factors = risk_factors(enriched, last_period, settings.analysis)
    enriched["unregistered_share"] = factors["unregistered"].round(4)
    enriched["risk_score"] = risk_score(factors, settings.analysis)
    columns = [column for column in enriched.columns if column != "geometry"]
    return enriched[[*columns, "geometry"]].astype(SITE_ANALYSIS_COLUMNS)
