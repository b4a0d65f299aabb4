"""The threshold report: verified sites scored on activity COGs written here, with a known best threshold."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

from mrumonitor.config import PeriodSettings
from mrumonitor.raster.cog import cog_written_aside
from mrumonitor.schema import THRESHOLD_COLUMNS, VISIT_COLUMNS
from mrumonitor.verification import thresholds
from mrumonitor.verification.thresholds import threshold_report

pytestmark = pytest.mark.unit

CRS = "EPSG:32629"
WEST, NORTH, PIXEL = 500_000.0, 1_000_000.0, 10.0
PERIODS = [PeriodSettings(name="h1", start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30)),
           PeriodSettings(name="h2", start=dt.date(2025, 7, 1), end=dt.date(2025, 12, 31))]
#: Pixel blocks (rows, cols) of the h2 raster and their activity; the rest is 0 (observed, no activity).
BLOBS = {"b20": ((20, 40), (20, 40), 20), "b45": ((20, 40), (80, 100), 45), "b80": ((20, 40), (140, 160), 80),
         "nodata": ((100, 140), (20, 60), 255), "beside": ((100, 140), (60, 80), 45)}


def pixels(rows: tuple[int, int], cols: tuple[int, int], inset: float = 2.0):
    """A footprint over pixel rows and cols (end excluded), `inset` metres inside their outline."""
    return box(WEST + cols[0] * PIXEL + inset, NORTH - rows[1] * PIXEL + inset,
               WEST + cols[1] * PIXEL - inset, NORTH - rows[0] * PIXEL - inset)


def write_activity(path, blobs: dict, background: int = 0):
    """A 200x200 uint8 activity COG (255 nodata) with `blobs` {name: (rows, cols, value)}."""
    values = np.full((200, 200), background, dtype="uint8")
    for (r0, r1), (c0, c1), value in blobs.values():
        values[r0:r1, c0:c1] = value
    with cog_written_aside(path) as aside, rasterio.open(
            aside, "w", driver="GTiff", width=200, height=200, count=1, dtype="uint8", crs=CRS,
            transform=from_origin(WEST, NORTH, PIXEL, PIXEL), nodata=255, tiled=True, blockxsize=64,
            blockysize=64) as out:
        out.write(values, 1)
    return path


@pytest.fixture
def activity(tmp_path):
    """h1: 10 everywhere, 90 on the blobs but no nodata; h2: the BLOBS."""
    h1 = {name: (rows, cols, 90) for name, (rows, cols, _) in BLOBS.items()}
    return {"h1": write_activity(tmp_path / "h1.tif", h1, background=10),
            "h2": write_activity(tmp_path / "h2.tif", BLOBS)}


def site_periods(footprints: dict[str, object], periods=("h1", "h2")) -> gpd.GeoDataFrame:
    rows = [(site, period, footprint) for site, footprint in footprints.items() for period in periods]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=["site_id", "period", "geometry"]), crs=CRS)


def visits(found: dict[str, str], day: str = "2025-09-01") -> pd.DataFrame:
    frame = pd.DataFrame({"site_id": list(found), "outcome": list(found.values())})
    frame = frame.assign(visit_id="v-" + frame["site_id"] + day, visited_on=pd.Timestamp(day),
                         entered_at=pd.Timestamp(day), synthetic=False)
    return frame.reindex(columns=list(VISIT_COLUMNS)).astype(VISIT_COLUMNS)


#: s20 is a false positive at 20 %, s45, s80 and the site beside the nodata block (its 255 pixels ignored: 45)
#: are mined: every threshold from 21 to 45 gets all of them right (F1 1).
SITES = {"s20": pixels(*BLOBS["b20"][:2]), "s45": pixels(*BLOBS["b45"][:2]), "s80": pixels(*BLOBS["b80"][:2]),
         "beside": pixels((100, 140), (40, 80))}
FOUND = {"s20": "not_mining", "s45": "active_mining", "s80": "licensed", "beside": "inactive_mining"}


def test_the_best_threshold_and_the_counts(activity):
    report, sentence = threshold_report(visits(FOUND), site_periods(SITES), activity, PERIODS, current=30)
    assert dict(report.dtypes.astype(str)) == THRESHOLD_COLUMNS
    assert list(report["threshold"]) == list(range(1, 101))
    at = report.set_index("threshold")
    assert tuple(at.loc[20, ["true_positive", "false_positive", "false_negative", "true_negative"]]) == (3, 1, 0, 0)
    assert at.loc[20, "f1"] == pytest.approx(6 / 7)
    assert (at.loc[21:45, "f1"] == 1.0).all()
    assert tuple(at.loc[46, ["true_positive", "false_negative", "true_negative"]]) == (1, 2, 1)
    assert at.loc[46, "precision"] == 1.0 and at.loc[46, "recall"] == pytest.approx(1 / 3)
    assert at.loc[81, "f1"] == 0.0 and np.isnan(at.loc[81, "precision"])
    assert list(report.loc[report["current"], "threshold"]) == [30]
    assert list(report.loc[report["best"], "threshold"]) == [30]
    assert sentence == ("On 4 verified sites the run's threshold of 30 % (F1 1.00) does best. Below 30 % only "
                        "verified sites can be judged: sites the run did not map were never visited.")


def test_ties_go_to_the_lower_threshold_when_the_current_one_is_not_among_them(activity):
    report, sentence = threshold_report(visits(FOUND), site_periods(SITES), activity, PERIODS, current=50)
    assert list(report.loc[report["best"], "threshold"]) == [21]
    assert sentence.startswith("On 4 verified sites the best threshold is 21 % (F1 1.00); the run uses 50 % "
                               "(F1 0.50). Below 50 %")


def test_nodata_is_ignored_and_a_footprint_with_only_nodata_is_left_out(activity):
    sites = {**SITES, "blind": pixels((100, 140), (20, 60))}
    report, sentence = threshold_report(visits({**FOUND, "blind": "active_mining"}), site_periods(sites),
                                        activity, PERIODS, current=30)
    at = report.set_index("threshold")
    assert at.loc[45, "true_positive"] == 3 and at.loc[46, "false_negative"] == 2  # "beside" scored 45, not 255
    assert at.loc[1, "true_positive"] + at.loc[1, "false_negative"] == 3  # "blind" is in no count
    assert sentence.endswith("Left out: 1 verified site without an observed pixel in the footprint in the period "
                             "of the visit.")


def test_every_pixel_the_footprint_touches_counts(activity):
    """A footprint that overlaps the 80 % blob by a sliver at one corner is scored 80."""
    corner = box(WEST + 159.8 * PIXEL, NORTH - 45 * PIXEL, WEST + 165 * PIXEL, NORTH - 39.8 * PIXEL)
    report, _ = threshold_report(visits({"edge": "active_mining"}), site_periods({"edge": corner}), activity,
                                 PERIODS, current=30)
    at = report.set_index("threshold")
    assert (at.loc[80, "true_positive"], at.loc[81, "true_positive"]) == (1, 0)


@pytest.mark.parametrize(("day", "score"), [("2025-03-01", 90), ("2025-09-01", 45), ("2026-03-01", 45),
                                            ("2024-05-01", 90)])
def test_the_period_of_a_visit_even_outside_every_period(activity, day, score):
    """h1 reads 90 on the blob, h2 45: a visit after every period takes the latest (h2), one before, the first."""
    report, _ = threshold_report(visits({"s45": "active_mining"}, day), site_periods({"s45": SITES["s45"]}),
                                 activity, PERIODS, current=30)
    at = report.set_index("threshold")
    assert (at.loc[score, "true_positive"], at.loc[score + 1, "true_positive"]) == (1, 0)


def test_a_site_not_held_in_the_period_of_its_visit_is_scored_on_its_nearest_footprint(activity):
    """s80 held only in h1 (over the 80 blob), visited in h2: h2's raster inside its h1 footprint."""
    report, _ = threshold_report(visits({"s80": "active_mining"}), site_periods({"s80": SITES["s80"]}, ("h1",)),
                                 activity, PERIODS, current=30)
    at = report.set_index("threshold")
    assert (at.loc[80, "true_positive"], at.loc[81, "true_positive"]) == (1, 0)


def test_sites_the_run_does_not_hold_and_no_verified_site(activity):
    _, sentence = threshold_report(visits({**FOUND, "gone": "active_mining"}), site_periods(SITES), activity,
                                   PERIODS, current=30)
    assert sentence.endswith("Left out: 1 verified site not in this run.")
    report, sentence = threshold_report(visits({"s45": "inaccessible"}), site_periods(SITES), activity, PERIODS,
                                        current=30)
    assert report.empty and dict(report.dtypes.astype(str)) == THRESHOLD_COLUMNS
    assert sentence.startswith("No verified site yet")


def test_reads_only_the_window_of_each_footprint(activity, monkeypatch):
    windows, read = [], thresholds.read_checked

    def recording(dataset, indexes=None, window=None, **kwargs):
        windows.append(window)
        return read(dataset, indexes, window=window, **kwargs)

    monkeypatch.setattr(thresholds, "read_checked", recording)
    threshold_report(visits(FOUND), site_periods(SITES), activity, PERIODS, current=30)
    assert len(windows) == len(SITES)
    assert all(window is not None and window.width * window.height <= 40 * 40 for window in windows)
