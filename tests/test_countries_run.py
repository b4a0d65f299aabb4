"""Runs limited to some countries (`--countries`): only their cadastres and activity blocks are read, the other
countries' layers are the previous run's, and a following full run refreshes everything."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from hostile import mrumonitor
from rasterio.transform import from_origin
from run_inputs import add_period, write_run_inputs, write_source

from mrumonitor.config import load_settings
from mrumonitor.errors import ConfigError, StageInputError
from mrumonitor.ingest import run as ingest_run
from mrumonitor.pipeline import run_pipeline
from mrumonitor.pipeline.scope import RunScope, run_scope
from mrumonitor.raster import cog, footprints, warp
from mrumonitor.raster.blocks import block_boxes
from mrumonitor.raster.limit import BlockLimit
from mrumonitor.raster.region import area_grid, regional_grid
from mrumonitor.reference import load_boundaries
from mrumonitor.store import checksum

pytestmark = pytest.mark.integration

#: Blocks of 64 pixels of 2 km: the region is 11 x 8 blocks, Sierra Leone touches a few of them.
SMALL_BLOCKS = "[raster]\nchunk_size = 64\n"


def _inputs(folder, model=False):
    """The run inputs in blocks of 64 pixels; with `model`, also a probability raster over part of Côte d'Ivoire."""
    config = write_run_inputs(folder)
    text = config.read_text().replace("[raster]\n", SMALL_BLOCKS, 1)
    if model:
        centre = load_boundaries(load_settings().paths.reference, 4326).set_index("iso3").geometry["CIV"]
        x, y = centre.representative_point().coords[0]
        with rasterio.open(folder / "civ_model.tif", "w", driver="GTiff", width=20, height=20, count=1,
                           dtype="float32", crs="EPSG:4326", transform=from_origin(x - 0.1, y + 0.1, 0.01, 0.01)) as f:
            f.write(np.full((1, 20, 20), 0.9, dtype="float32"))
        text += '[activity.inputs.civ_model]\nkind = "probability"\npath = "civ_model.tif"\n'
    config.write_text(text)
    return config


@pytest.fixture
def reads(monkeypatch):
    """What a run reads: cadastre sources opened, files hashed, detection blocks rasterised, COG blocks read."""
    seen = {"sources": [], "hashed": [], "rasterised": [], "cog_blocks": [], "raster_reads": []}
    open_source, sha256_file = ingest_run.open_source, checksum.sha256_file
    rasterize_block, read_block, read_checked = footprints._rasterize_block, cog._read_block, warp.read_checked

    def opening(name, *args, **kwargs):
        seen["sources"].append(name)
        return open_source(name, *args, **kwargs)

    def hashing(path):
        seen["hashed"].append(str(path))
        return sha256_file(path)

    def rasterising(window, *args):
        seen["rasterised"].append(window)
        return rasterize_block(window, *args)

    def reading(window, path):
        seen["cog_blocks"].append((window, path.parent.name, path.name))
        return read_block(window, path)

    monkeypatch.setattr(ingest_run, "open_source", opening)
    monkeypatch.setattr(checksum, "sha256_file", hashing)
    monkeypatch.setattr(footprints, "_rasterize_block", rasterising)
    def reading_input(dataset, *args, **kwargs):
        seen["raster_reads"].append(Path(dataset.name).name)
        return read_checked(dataset, *args, **kwargs)

    monkeypatch.setattr(cog, "_read_block", reading)
    monkeypatch.setattr(warp, "read_checked", reading_input)
    return seen


def test_country_codes_are_checked_against_the_project():
    settings = load_settings()
    assert run_scope(settings, ["sle", "GIN,lbr"]) == RunScope(("SLE", "GIN", "LBR"))
    assert run_scope(settings, None) == RunScope() == run_scope(settings, ["CIV", "LBR", "GIN", "SLE"])
    assert run_scope(settings, ["LBR"]).sources(settings) == ["lbr"]
    with pytest.raises(ConfigError) as error:
        run_scope(settings, ["SLE", "GHA"])
    assert "GHA is not a country of this project" in str(error.value)
    assert "SLE, GIN, LBR, CIV" in str(error.value)


@pytest.mark.slow
def test_the_cli_takes_several_codes_and_refuses_a_limited_first_run(tmp_path):
    config = _inputs(tmp_path)
    result = mrumonitor("run", "--countries", "sle", "gin", "--config", str(config))
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "a run limited to SLE, GIN keeps the other countries' data from the latest run" in message
    assert "without --countries first" in message and "Traceback" not in message
    result = mrumonitor("run", "--config", str(config), "--countries", "XYZ")
    assert result.returncode == 2 and "valid codes (project.countries): SLE, GIN, LBR, CIV" in result.stderr
    with pytest.raises(StageInputError):
        run_pipeline(load_settings(config), countries=["SLE"])


def _new_holder(config, source):
    """Give the licence of one cadastre a new holder, written back in the source's own format."""
    spec = load_settings(config).sources[source]
    frame = gpd.read_file(f"zip://{spec.file}" if spec.file.suffix == ".zip" else spec.file)
    frame[spec.fields.holder] = "New holder"
    if spec.format == "csv":
        frame = gpd.GeoDataFrame(frame.drop(columns=[spec.csv.wkt, "geometry"], errors="ignore"),
                                 geometry=gpd.GeoSeries.from_wkt(pd.read_csv(spec.file, sep=spec.csv.delimiter)
                                                                 [spec.csv.wkt]), crs=4326)
    write_source(frame.to_crs(4326), spec.file, spec)


def _rows(run, layer, countries):
    frame = gpd.read_parquet(run.path / f"{layer}.parquet")
    return frame[frame["country"].isin(countries)].reset_index(drop=True)


def _inside(windows, grid_bounds_of, outline):
    return all(shapely.intersects(shapely.box(*grid_bounds_of(window)), outline) for window in windows)


@pytest.mark.slow
def test_a_limited_run_refreshes_its_country_and_keeps_the_others(tmp_path, reads):
    config = _inputs(tmp_path, model=True)
    first = run_pipeline(load_settings(config))
    assert "civ_model.tif" in reads["raster_reads"]
    others = ["GIN", "LBR", "CIV"]

    # new data for every country: a new holder in two cadastres, grown detections in P2, a new period P3
    detections = pd.read_csv(tmp_path / "detections_P2.csv")
    detections.loc[detections["det_id"].isin([1, 2]), "area_ha"] *= 3
    detections.to_csv(tmp_path / "detections_P2.csv", index=False)
    config = add_period(tmp_path)
    for name in ("sle", "gin"):
        _new_holder(config, name)
    for seen in reads.values():
        seen.clear()

    limited = run_pipeline(load_settings(config), countries=["SLE"])
    settings = load_settings(config)

    # only Sierra Leone's cadastre was opened or hashed, and no pixel of the Ivorian model was read
    assert "civ_model.tif" not in reads["raster_reads"]
    assert reads["sources"] == ["sle"]
    cadastre_files = {str(source.file.absolute()): name for name, source in settings.sources.items()}
    assert [cadastre_files[path] for path in reads["hashed"] if path in cadastre_files] == ["sle"]
    assert _rows(limited, "concessions", ["SLE"])["holder"].tolist() == ["New holder"]
    for layer in ("concessions", "quarantine"):
        pd.testing.assert_frame_equal(_rows(limited, layer, others), _rows(first, layer, others))

    # activity: P2 and P3 processed over Sierra Leone's blocks only
    manifest = limited.manifest
    assert manifest.detect["processed"] == ["P2", "P3"] and manifest.detect["limited_to"] == ["SLE"]
    scope = manifest.scope
    assert scope["limited"] and scope["countries"] == ["SLE"] and scope["kept_from"] == first.run_id
    assert scope["sources_read"] == ["sle"] and scope["sources_kept"] == ["gin", "lbr", "civ"]
    assert scope["outside_from"] == {"P2": first.run_id, "P3": None}
    computed, total = scope["blocks"]["computed"], scope["blocks"]["total"]
    assert 0 < computed < total / 4
    boundaries = load_boundaries(settings.paths.reference, settings.analysis_crs).set_index("iso3").geometry
    grid = cog.read_activity(limited.path / "activity_P2.tif")[1]
    assert len(reads["rasterised"]) == 2 * computed  # P2 and P3, inside blocks only
    assert _inside(reads["rasterised"], grid.window_bounds, boundaries["SLE"])
    outside_reads = [(w, run) for w, run, name in reads["cog_blocks"] if name == "activity_P2.tif"
                     and run == first.path.name]
    assert len(outside_reads) == total - computed  # the rest of P2 is the previous run's pixels

    index, boxes = block_boxes(grid, 64)
    touching = shapely.intersects(boxes, boundaries["SLE"])
    with rasterio.open(first.path / "activity_P2.tif") as a, rasterio.open(limited.path / "activity_P2.tif") as b, \
            rasterio.open(limited.path / "activity_P3.tif") as c:
        before, after, new = a.read(1), b.read(1), c.read(1)
        assert b.tags()["LIMITED_TO"] == "SLE"
    for (i, j), inside in zip(index.tolist(), touching, strict=True):
        block = np.s_[i * 64:(i + 1) * 64, j * 64:(j + 1) * 64]
        if inside:
            assert (new[block] != 255).all()
        else:  # outside: P2 as the first run had it (its LBR detection has not grown), P3 unobserved
            assert np.array_equal(after[block], before[block]) and (new[block] == 255).all()
    assert (after == 100).sum() > (before == 100).sum()  # the grown Sierra Leone detection
    gaps = gpd.read_parquet(limited.path / "gaps.parquet")
    unobserved = set(gaps.loc[gaps["period"] == "P3", "country"])
    assert unobserved >= set(others) and "SLE" not in unobserved  # (and the neighbours within the margin)
    assert not len(gaps[gaps["period"] == "P2"])
    sites_before, sites_after = _rows(first, "sites", ["LBR"]), _rows(limited, "sites", ["LBR"])
    assert sites_after["site_id"].tolist() == sites_before["site_id"].tolist()
    assert sites_after["area_ha"].tolist() == sites_before["area_ha"].tolist()
    assert any("limited to SLE" in caveat and f"run {first.run_id}" in caveat and "none for P3" in caveat
               for caveat in manifest.caveats)
    assert "--countries SLE" in manifest.reproduce["command"]
    kept = [r for r in manifest.inputs if r["role"] == "cadastre" and r["country"] != "SLE"]
    assert kept and all(r["kept_from"] == first.run_id for r in kept)

    # the same limited run again re-uses what the first made; a full run then refreshes every country and
    # recomputes the periods the limited runs processed
    again = run_pipeline(load_settings(config), countries=["SLE"])
    assert again.manifest.detect["processed"] == [] and again.manifest.detect["reused"] == ["P1", "P2", "P3"]
    pd.testing.assert_frame_equal(_rows(again, "concessions", others), _rows(first, "concessions", others))
    full = run_pipeline(load_settings(config))
    assert full.manifest.detect["processed"] == ["P2", "P3"] and not full.manifest.scope["limited"]
    assert _rows(full, "concessions", ["GIN"])["holder"].tolist() == ["New holder"]
    with rasterio.open(full.path / "activity_P2.tif") as d:
        assert (d.read(1) == 100).sum() > (after == 100).sum()  # the grown LBR detection too
    assert "LBR" in set(gpd.read_parquet(full.path / "sites.parquet")["country"])
    assert not len(gpd.read_parquet(full.path / "gaps.parquet"))
    with rasterio.open(full.path / "activity_P2.tif") as d:
        recomputed = d.read(1)
    for (i, j), inside in zip(index.tolist(), touching, strict=True):  # inside, the limited run had it right
        block = np.s_[i * 64:(i + 1) * 64, j * 64:(j + 1) * 64]
        assert np.array_equal(recomputed[block], after[block]) or not inside


def test_a_scene_area_is_read_only_when_it_touches_the_countries():
    settings = load_settings()
    boundaries = load_boundaries(settings.paths.reference, settings.analysis_crs)
    grid = regional_grid(settings, boundaries)
    limit = BlockLimit.over(("SLE",), grid, settings.raster.chunk_size, boundaries)
    koidu = area_grid((-11.12, 8.70, -11.07, 8.76), 20.0, settings.analysis_crs)  # eastern Sierra Leone
    seguela = area_grid((-6.70, 7.93, -6.65, 7.98), 20.0, settings.analysis_crs)  # central Côte d'Ivoire
    assert limit.touches(koidu.bounds) and not limit.touches(seguela.bounds)
    assert 0 < len(limit.inside) < limit.total
