"""The analysis stage: concessions + tracked sites + reference layers -> the layers the regional team reads.

Reads `concessions.parquet` (ingest) and the site layers (detect), and writes:

- `sites.parquet`, `site_periods.parquet`: the detect layers with the analysis columns added
  (SITE_ANALYSIS_COLUMNS, SITE_PERIOD_ANALYSIS_COLUMNS); they supersede detect's files of the same name;
- `site_registration.parquet`: every footprint cut by registration class and licence;
- `border_corridors.parquet` (ranked) and `corridor_periods.parquet`;
- `registration_summary.parquet`: area per country (and admin area) per period and class;
- `capacity.parquet` and `kp_anomalies.parquet`: production capacity against declared KP figures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from mrumonitor.analysis.capacity import CapacityResult, capacity_tables
from mrumonitor.analysis.commodity import site_commodity
from mrumonitor.analysis.corridors import corridor_figures, cut_corridors
from mrumonitor.analysis.declared import read_declared
from mrumonitor.analysis.leakage import border_signals, official_crossings
from mrumonitor.analysis.registration import register
from mrumonitor.analysis.risk import risk_factors, risk_score
from mrumonitor.analysis.summary import registration_summary
from mrumonitor.config import Settings
from mrumonitor.errors import StageInputError
from mrumonitor.layerio import write_geoparquet, write_parquet
from mrumonitor.reference import load_border_posts, load_borders, load_boundaries, load_commodity_zones
from mrumonitor.reference.admin import load_admin_layer
from mrumonitor.schema import SITE_ANALYSIS_COLUMNS, SITE_PERIOD_ANALYSIS_COLUMNS
from mrumonitor.sites import SiteLayers

log = logging.getLogger(__name__)


@dataclass
class AnalysisResult:
    """The analysis layers (analysis CRS) and where they were written."""

    sites: gpd.GeoDataFrame
    site_periods: gpd.GeoDataFrame
    site_registration: gpd.GeoDataFrame
    border_corridors: gpd.GeoDataFrame
    corridor_periods: pd.DataFrame
    registration_summary: pd.DataFrame
    capacity: CapacityResult
    periods: list[str]
    written: dict[str, Path] = field(default_factory=dict)


def analyse(settings: Settings, ingest_dir: Path, detect_dir: Path, out_dir: Path) -> AnalysisResult:
    """Run the analysis on the outputs of ingest (`ingest_dir`) and detect (`detect_dir`); write to `out_dir`.

    Raises
    ------
    StageInputError
        When concessions or site layers are missing (the message says which command makes them).
    ReferenceDataError, InputFileError
        When a reference layer, the commodity zones, an admin layer or the declared KP figures are unusable.
    """
    crs = settings.analysis_crs
    concessions, layers = _stage_inputs(Path(ingest_dir), Path(detect_dir), crs)
    periods = _periods(settings, layers)
    reference = settings.paths.reference
    boundaries = load_boundaries(reference, crs)
    zones = load_commodity_zones(settings.analysis.commodity_zones, crs)
    commodity = site_commodity(layers.sites, zones, settings.analysis.commodity_default)
    project = boundaries[boundaries["iso3"].isin(settings.project.countries)]
    assessed = shapely.union_all(project.geometry.to_numpy())
    registration = register(layers.site_periods, concessions, commodity, periods, assessed)
    corridors = cut_corridors(load_borders(reference, crs), settings.analysis.corridor_length_km)
    crossings = official_crossings(load_border_posts(reference, crs), settings.analysis)
    signals = border_signals(layers.site_periods, corridors, crossings, settings.analysis)
    site_periods = layers.site_periods.join(registration.per_period.set_axis(layers.site_periods.index)).join(signals)
    site_periods = site_periods.astype(SITE_PERIOD_ANALYSIS_COLUMNS)
    names = [period.name for period in periods]
    sites = _site_columns(layers.sites, site_periods, commodity, names[-1], settings)
    border_corridors, corridor_periods = corridor_figures(corridors, site_periods, crossings, names)
    admin = {level: load_admin_layer(level, spec, crs) for level, spec in settings.analysis.admin.items()}
    declared = read_declared(settings.capacity.declared) if settings.capacity.declared else None
    result = AnalysisResult(
        sites=sites, site_periods=site_periods, site_registration=registration.pieces,
        border_corridors=border_corridors, corridor_periods=corridor_periods,
        registration_summary=registration_summary(registration.pieces, boundaries, admin),
        capacity=capacity_tables(site_periods, sites, project, periods, settings.capacity, declared),
        periods=names)
    result.written = _write(result, Path(out_dir))
    log.info("analysed %d sites over %d periods: %d in the border zone, %d corridors", len(sites), len(names),
             int(sites["in_border_zone"].sum()), len(border_corridors))
    return result


def _stage_inputs(ingest_dir: Path, detect_dir: Path, crs) -> tuple[gpd.GeoDataFrame, SiteLayers]:
    concessions = ingest_dir / "concessions.parquet"
    if not concessions.is_file():
        raise StageInputError(f"{concessions}: no concessions layer. Fix: run `mrumonitor ingest` first "
                              f"(or point --ingest-dir at the folder holding concessions.parquet).")
    if not SiteLayers.exists(detect_dir):
        raise StageInputError(f"{detect_dir}: no site layers (sites, site_periods, site_country_areas). "
                              f"Fix: run `mrumonitor detect` first (or point --detect-dir at its output).")
    layers = SiteLayers.read(detect_dir)
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


def _site_columns(sites: gpd.GeoDataFrame, site_periods: gpd.GeoDataFrame, commodity: pd.Series,
                  last_period: str, settings: Settings) -> gpd.GeoDataFrame:
    """Each site with the analysis values of the last period it was seen in, and its risk score."""
    last = site_periods.merge(sites[["site_id", "last_seen"]], left_on=["site_id", "period"],
                              right_on=["site_id", "last_seen"]).set_index("site_id")
    values = last[list(SITE_PERIOD_ANALYSIS_COLUMNS)].reindex(sites["site_id"])
    enriched = sites.assign(commodity=commodity.reindex(sites["site_id"]).to_numpy(),
                            **{column: values[column].to_numpy() for column in values.columns})
    factors = risk_factors(enriched, last_period, settings.analysis)
    enriched["unregistered_share"] = factors["unregistered"].round(4)
    enriched["risk_score"] = risk_score(factors, settings.analysis)
    columns = [column for column in enriched.columns if column != "geometry"]
    return enriched[[*columns, "geometry"]].astype(SITE_ANALYSIS_COLUMNS)


def _write(result: AnalysisResult, out: Path) -> dict[str, Path]:
    vectors = {"sites": result.sites, "site_periods": result.site_periods,
               "site_registration": result.site_registration, "border_corridors": result.border_corridors}
    tables = {"corridor_periods": result.corridor_periods, "registration_summary": result.registration_summary,
              "capacity": result.capacity.capacity, "kp_anomalies": result.capacity.anomalies}
    written = {name: write_geoparquet(frame, out / f"{name}.parquet") for name, frame in vectors.items()}
    written.update({name: write_parquet(frame, out / f"{name}.parquet") for name, frame in tables.items()})
    return written
