"""The demo through the whole pipeline, as a user runs it (`mrumonitor demo --no-serve`, a real process),
checked against the demo's ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pystac
import pytest
import rasterio
import shapely
from hostile import mrumonitor
from pystac.validation import JsonSchemaSTACValidator
from pystac_client import Client

from mrumonitor.config import ImagerySettings, load_settings
from mrumonitor.demo.imagery import BOA_ADD_OFFSET, DEMO_COLLECTION
from mrumonitor.raster.io import http_options, open_raster
from mrumonitor.raster.scenes import SCENE_BANDS
from mrumonitor.raster.stac.server import LocalStacApi
from mrumonitor.schema import NOT_MINING_CLASS, UNREGISTERED_CLASSES
from mrumonitor.store.runs import read_manifest, resolve_run

pytestmark = pytest.mark.demo

PERIODS = ("2023H2", "2024H2", "2025H2", "2026H1")


@pytest.fixture(scope="module")
def demo(session_demo):
    """The session's `mrumonitor demo --no-serve` (conftest.session_demo): its folder and finished process."""
    return session_demo


def layer(workdir: Path, name: str) -> pd.DataFrame:
    path = resolve_run(workdir / "layers") / f"{name}.parquet"
    return gpd.read_parquet(path) if name in ("sites", "site_registration") else pd.read_parquet(path)


def test_demo_builds_inputs_publishes_a_run_and_prints_the_picture(demo):
    workdir, result = demo
    assert "Unregistered production and border signals, 2026H1" in result.stdout
    # the regional team's question first: diamonds and the MRU-internal borders; the external ones are not mixed in
    picture = result.stdout[result.stdout.index("Unregistered production and border signals, 2026H1: diamond sites"):]
    assert "CIV-GHA" not in picture[:picture.index("Production capacity")]
    assert "Côte d'Ivoire 2014: production valued at US$104/ct" in result.stdout  # a flag on the published series
    assert "SYNTHETIC" in result.stdout and "CC BY 4.0" in result.stdout  # the caveats go with the figures
    for name in ("sle_nma_licences.zip", "gin_cadastre_minier.geojson", "lbr_mme_licenses.gpkg",
                 "civ_cadastre_minier.csv"):
        assert (workdir / "inputs" / "cadastre" / name).is_file()
    assert (workdir / "inputs" / "ground_truth" / "records.csv").is_file()
    run = resolve_run(workdir / "layers")
    assert f"Demo run {run.name} published" in result.stdout
    manifest = read_manifest(run)
    # records over the four synthetic cadastres and the older Sierra Leone export (licence history)
    assert manifest["counts"]["cadastre"]["read"] == len(pd.read_csv(workdir / "inputs" / "ground_truth" / "records.csv"))
    assert {f"activity_{p}" for p in PERIODS} <= set(manifest["layers"])
    assert len(list((run / "areas").glob("*.tif"))) == 9


def test_every_planted_detection_gets_its_expected_registration(demo):
    """Each real detection lies in a piece of a 2026H1 site whose class is the one its planted licence
    implies on the survey day (registered, expired the day before, exploration, wrong commodity, ...), unless the
    demo's (SYNTHETIC) field visits found it not mining or licensed."""
    workdir, _ = demo
    truth = pd.read_csv(workdir / "inputs" / "ground_truth" / "detections.csv", keep_default_na=False)
    pieces = layer(workdir, "site_registration")
    pieces = pieces[pieces["period"] == "2026H1"]
    points = gpd.GeoSeries.from_xy(truth["lon"], truth["lat"], crs=4326).to_crs(pieces.crs)
    detection, piece = shapely.STRtree(np.asarray(pieces.geometry)).query(np.asarray(points), predicate="within")
    assert len(np.unique(detection)) == len(detection)  # pieces never overlap
    # a footprint under ~1 ha can vanish on the 100 m grid, and one detection lies beyond the grid's margin
    assert len(detection) >= len(truth) - 5
    got = pieces["registration"].to_numpy()[piece]
    expected = truth["expected_registration"].to_numpy()[detection]
    outside_project = ~truth["country"].to_numpy()[detection].astype(bool)
    expected = np.where(outside_project & (expected == "no_licence"), "not_assessed", expected)
    feedback = layer(workdir, "verification_feedback")
    effect = pd.Series(pieces["site_id"].to_numpy()[piece]).map(
        feedback[feedback["period"] == "2026H1"].set_index("site_id")["effect"]).to_numpy(dtype=object, na_value="")
    assert (effect == "excluded_false_positive").any() and (effect == "reclassed_licensed").any()
    expected = np.where(effect == "excluded_false_positive", NOT_MINING_CLASS, expected)
    expected = np.where((effect == "reclassed_licensed") & np.isin(expected, UNREGISTERED_CLASSES), "registered",
                        expected)
    mismatches = pd.crosstab(expected, got)
    assert (got == expected).all(), f"expected (rows) against found (columns):\n{mismatches}"
    assert set(expected) >= {"registered", "expired_licence", "exploration_only", "wrong_commodity", "suspended",
                             "no_licence"}


def test_demo_layers_hold_the_leakage_signals_and_the_capacity_check(demo):
    workdir, _ = demo
    sites = layer(workdir, "sites")
    assert sites["transboundary"].sum() >= 1
    assert sites["in_border_zone"].sum() > 0 and sites["risk_score"].between(0, 100).all()
    corridors = layer(workdir, "border_corridors")
    assert corridors["scope"].tolist() == sorted(corridors["scope"], key=["mru", "external"].index)  # MRU first
    for scope, ranked in corridors.groupby("scope"):
        assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1)), scope
    assert set(corridors.loc[corridors["scope"] == "external", "border_pair"]) == {"CIV-GHA"}
    anomalies = layer(workdir, "kp_anomalies")
    civ = anomalies[(anomalies["country"] == "CIV") & (anomalies["year"] == 2014)]
    assert set(civ["flag"]) == {"production_value_vs_neighbours"} and not civ["illustrative"].any()
    assert civ["compared"].iloc[0].startswith("CIV 2014 production US$/ct (published) with the median of")
    settings = load_settings(workdir / "mrumonitor.toml")
    assert settings.activity.periods[-1].observed.isoformat() == "2026-06-24"


def test_the_scene_areas_are_read_as_stac_items_of_synthetic_imagery(demo):
    """The demo's imagery goes through the STAC path a deployment uses: its three areas are kind = "stac" inputs
    whose items (3 areas x 4 periods x 4 acquisitions) the run read from a STAC API over HTTP (the run serves the
    provider's folder itself on 127.0.0.1) and records, labelled SYNTHETIC."""
    workdir, _ = demo
    settings = load_settings(workdir / "mrumonitor.toml")
    areas = {"scenes_koidu", "scenes_triborder", "scenes_seguela"}
    assert {name for name, spec in settings.activity.inputs.items() if spec.kind == "stac"} == areas
    assert {spec.provider for spec in settings.activity.inputs.values() if spec.kind == "stac"} == {"demo"}
    assert settings.imagery.providers["demo"].folder == (workdir / "inputs" / "imagery").resolve()
    manifest = read_manifest(resolve_run(workdir / "layers"))
    items = [record for record in manifest["inputs"] if record.get("kind") == "stac"]
    assert sorted((r["input"], r["period"]) for r in items) == sorted((a, p) for a in areas for p in PERIODS for _ in
                                                                         range(4))
    assert all(r["path"].startswith("http://127.0.0.1:") and r["offset"] == -1000.0 for r in items)
    assert {f"activity_{area}_{period}" for area in areas for period in PERIODS[1:]} <= set(manifest["layers"])
    caveat = next(c for c in manifest["caveats"] if "STAC" in c)
    assert "SYNTHETIC" in caveat and all(area in caveat for area in areas)
    provider_block = (workdir / "mrumonitor.toml").read_text().split("[imagery.providers.demo]")[1].split("\n[")[0]
    assert "SYNTHETIC" in provider_block


def test_the_demo_collection_serves_each_scene_as_a_valid_item_with_its_pixels(demo):
    """Served again (as `mrumonitor scenes serve` does), the demo's collection holds one valid item per scene file,
    found by pystac-client; read by GDAL over HTTP, an item's bands are the scene file's digital numbers, + 1000 in
    the reflectance bands (processing baseline 05.10, as real products), checked for one item per area."""
    workdir, _ = demo
    scene_files = {path.stem: path for path in (workdir / "inputs" / "scenes").glob("*/scenes/*.tif")}
    assert len(scene_files) == 3 * len(PERIODS) * 4
    validator = JsonSchemaSTACValidator()
    with LocalStacApi(workdir / "inputs" / "imagery") as api, rasterio.Env(**http_options(ImagerySettings())):
        items = list(Client.open(api.url).search(collections=[DEMO_COLLECTION], limit=100).items())
        assert sorted(item.id for item in items) == sorted(scene_files)
        for item in items:
            validator.validate_core(item.to_dict(include_self_link=False), pystac.STACObjectType.ITEM,
                                    pystac.get_stac_version())
        firsts = {item.properties["mrumonitor:area"]: item for item in reversed(items)}
        assert sorted(firsts) == ["koidu", "seguela", "triborder"]
        for item in firsts.values():
            assert item.properties["s2:processing_baseline"] == "05.10"
            with rasterio.open(scene_files[item.id]) as scene:
                for band in SCENE_BANDS:
                    expected = scene.read(scene.descriptions.index(band) + 1)
                    if band != "SCL":
                        expected = np.where(expected == 0, 0, expected + BOA_ADD_OFFSET)
                    with open_raster(item.assets[band].href) as cog:
                        np.testing.assert_array_equal(cog.read(1), expected, err_msg=f"{item.id} {band}")


def test_commands_on_the_demo_config_read_its_imagery_after_the_demo(demo):
    """After the demo has stopped, a command on its configuration (here `scenes search`, a real process) serves the
    imagery folder itself and finds every acquisition of a period."""
    workdir, _ = demo
    done = mrumonitor("scenes", "search", "--config", str(workdir / "mrumonitor.toml"), "--period", "2025H2",
                      "--json", cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    found = {answer["input"]: answer for answer in json.loads(done.stdout)}
    assert sorted(found) == ["scenes_koidu", "scenes_seguela", "scenes_triborder"]
    assert all(answer["items"] == 4 and answer["period"] == "2025H2" for answer in found.values())
    assert all(item["offset"] == -1000.0 for answer in found.values() for item in answer["item_list"])
