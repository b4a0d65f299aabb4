"""The verification layers of a run: the ledger as the run read it, the estimates of every sample, the threshold report.

`verify_run` takes what the run already made (its analysed site layers and activity rasters) and the ledger's
visits and sample designs, and returns a `VerificationResult` whose layers the run publishes:

- `verification_visits`: every visit, at its GPS point (else at a point of its site's footprint);
- `verification_estimates`: the estimates of every sample drawn (`estimates.sample_estimates`);
- `threshold_report`: how each activity threshold would have done on the verified sites (`thresholds`);

and the manifest's ``verification`` section and caveats. The analysis has already applied the outcomes to the
sites and published what they changed (`feedback`, `verification_feedback`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mrumonitor.config import Settings
from mrumonitor.crs import WGS84
from mrumonitor.frames import empty_frame
from mrumonitor.i18n import N_
from mrumonitor.layerio import write_geoparquet, write_parquet
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import ESTIMATE_COLUMNS
from mrumonitor.verification.design import SampleDesign
from mrumonitor.verification.estimates import headline, sample_estimates
from mrumonitor.verification.thresholds import threshold_report

#: Said with every figure of a run whose ledger holds no verified sample.
NOT_MEASURED = N_("No field-verified sample yet: the accuracy of the detections is not measured, and every area is "
                  "the map's own, until field teams check a sample of the sites.")
#: Said when the ledger's visits include the demo's made-up ones.
SYNTHETIC_VISITS = N_("%(synthetic)s of the %(visits)s field visits in the verification ledger are SYNTHETIC (the "
                      "demonstration's): the accuracies and error-adjusted areas built on them show how the method "
                      "works, not how accurate the map is.")


@dataclass(frozen=True)
class VerificationResult:
    """The verification layers of a run, its manifest section and its caveats."""

    visits: gpd.GeoDataFrame
    estimates: pd.DataFrame
    thresholds: pd.DataFrame
    section: dict
    caveats: list[str]

    def layers(self) -> dict[str, pd.DataFrame]:
        return {"verification_visits": self.visits, "verification_estimates": self.estimates,
                "threshold_report": self.thresholds}

    def write(self, folder: RunFolder) -> dict[str, Path]:
        """Write every layer into `folder` (GeoParquet for the visits, Parquet for the tables)."""
        return {name: (write_geoparquet if isinstance(frame, gpd.GeoDataFrame) else write_parquet)(
            frame, folder.layer(name)) for name, frame in self.layers().items()}


def verify_run(settings: Settings, visits: pd.DataFrame, samples: list[SampleDesign], sites: gpd.GeoDataFrame,
               site_periods: gpd.GeoDataFrame, feedback: pd.DataFrame, activity: dict[str, Path],
               ledger_state: dict | None) -> VerificationResult:
    """The verification layers of a run from the ledger's `visits` and `samples` and the run's analysed layers.

    Parameters
    ----------
    settings : Settings
    visits, samples
        `Ledger.visits()` and `Ledger.samples()`.
    sites, site_periods : GeoDataFrame
        The run's analysed site layers (analysis CRS).
    feedback : DataFrame
        The analysis' `verification_feedback` (`feedback.apply_feedback`).
    activity : dict
        Period -> the run's regional activity COG of that period (those it has).
    ledger_state : dict or None
        `Ledger.state()`, or None when there is no ledger.
    """
    estimates = _estimates(samples, visits, settings)
    report, sentence = threshold_report(visits, site_periods, activity, list(settings.activity.periods),
                                        settings.raster.activity_threshold)
    section = {"ledger": ledger_state, "visits": len(visits),
               "outcomes": visits["outcome"].value_counts().to_dict(),
               "feedback": feedback["effect"].value_counts().to_dict(),
               "samples": [_sample_entry(design, estimates) for design in samples],
               "threshold": {"current": settings.raster.activity_threshold, "best": _best(report),
                             "message": sentence}}
    return VerificationResult(
        visits=_located(visits, sites), estimates=estimates, thresholds=report, section=section,
        caveats=_caveats(visits, estimates))


def _estimates(samples: list[SampleDesign], visits: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    frames = [sample_estimates(design, visits, settings.verification) for design in samples]
    if not frames:
        return empty_frame(ESTIMATE_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def _sample_entry(design: SampleDesign, estimates: pd.DataFrame) -> dict:
    mine = estimates[estimates["sample_id"] == design.sample_id]
    overall = mine[mine["scope"] == "overall"]
    return {"sample_id": design.sample_id, "run_id": design.run_id, "period": design.period, "n": design.n,
            "strata_by": list(design.strata_by), "allocation": design.allocation,
            "n_verified": int(overall["n_verified"].max()) if len(overall) else 0,
            "headline": headline(mine)}


def _best(report: pd.DataFrame) -> int | None:
    best = report[report["best"]] if len(report) else report
    return int(best["threshold"].iloc[0]) if len(best) else None


def _located(visits: pd.DataFrame, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The visits as points in the sites' CRS: the GPS point where the team took one, else a point of the site."""
    gps = gpd.GeoSeries(gpd.points_from_xy(visits["lon"], visits["lat"]), index=visits.index, crs=WGS84)
    gps = gps.to_crs(sites.crs)
    site_points = gpd.GeoSeries(shapely.point_on_surface(np.asarray(sites.geometry)), index=sites["site_id"].to_numpy(),
                                crs=sites.crs)
    fallback = visits["site_id"].map(site_points)
    has_gps = visits["lon"].notna().to_numpy() & visits["lat"].notna().to_numpy()
    points = np.where(has_gps, np.asarray(gps), np.asarray(fallback, dtype=object))
    return gpd.GeoDataFrame(visits.reset_index(drop=True), geometry=list(points), crs=sites.crs)


def _caveats(visits: pd.DataFrame, estimates: pd.DataFrame) -> list[str]:
    """The run caveats of its verification (English, from templates): synthetic visits, nothing measured yet."""
    caveats = []
    synthetic = int(visits["synthetic"].sum())
    if synthetic:
        caveats.append(SYNTHETIC_VISITS % {"synthetic": synthetic, "visits": len(visits)})
    if not (estimates["status"] == "ok").any():
        caveats.append(NOT_MEASURED)
    return caveats
