"""The analysis on a hand-made world: two countries split by a straight border, licences of every kind.

The world lives in the analysis CRS (metres): "SLE" is the box x in [-50, 0] km, "GIN" x in [0, 50] km,
y in [-50, 50] km, so the border is the line x = 0 and every distance can be computed by hand. West of
x = -10 km is a diamond zone; elsewhere sites mine gold (the default).
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from mrumonitor.analysis.commodity import site_commodity
from mrumonitor.analysis.corridors import cut_corridors, near_places
from mrumonitor.analysis.leakage import border_signals, official_crossings
from mrumonitor.analysis.registration import licence_classes, register
from mrumonitor.analysis.run import analyse, analyse_folders
from mrumonitor.analysis.summary import registration_summary
from mrumonitor.config import PeriodSettings, load_settings
from mrumonitor.errors import InputFileError, StageInputError
from mrumonitor.layerio import write_geoparquet
from mrumonitor.reference.borders import derive_borders
from mrumonitor.reference.files import to_exchange, write_layer
from mrumonitor.reference.layers import ReferenceLayers
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import CONCESSION_COLUMNS, REGISTRATION_CLASSES
from mrumonitor.sites import SiteLayers, track_sites

pytestmark = pytest.mark.unit

SETTINGS = load_settings()
CRS = SETTINGS.analysis_crs
KM = 1000.0
OBSERVED = dt.date(2026, 6, 24)
PERIODS = [PeriodSettings(name="2025H2", start=dt.date(2025, 7, 1), end=dt.date(2025, 12, 31)),
           PeriodSettings(name="2026H1", start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30), observed=OBSERVED)]
#: A site 500 m from the border (its west edge), and the official post 12 km from its nearest corner.
NEAR = (500.0, 4_900.0, 700.0, 5_100.0)
POST_Y = NEAR[3] + math.sqrt(12_000.0**2 - NEAR[0] ** 2)


def boundaries() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"iso3": ["SLE", "GIN"], "name": ["Sierra Leone", "Guinea"]},
                            geometry=[shapely.box(-50 * KM, -50 * KM, 0, 50 * KM),
                                      shapely.box(0, -50 * KM, 50 * KM, 50 * KM)], crs=CRS)


def posts() -> gpd.GeoDataFrame:
    rows = [("SLE-GIN-01", "official", True, (0.0, POST_Y)),
            ("SLE-GIN-02", "informal_known", True, (0.0, 0.0)),
            ("SLE-GIN-03", "official", False, (0.0, -1_000.0))]
    return gpd.GeoDataFrame({"post_id": [r[0] for r in rows], "name": ["Post Côte d'Ivoire", "Guéckédou", "Shut"],
                             "country": "SLE", "neighbour": "GIN", "kind": [r[1] for r in rows],
                             "operational": [r[2] for r in rows], "position_note": "hand-made",
                             "source": "hand-made"},
                            geometry=[shapely.Point(r[3]) for r in rows], crs=CRS)


def zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["west diamonds"], "commodity": ["diamond"]},
                            geometry=[shapely.box(-50 * KM, -50 * KM, -10 * KM, 50 * KM)], crs=CRS)


def licence(licence_id: str, box: tuple[float, float, float, float], licence_type: str = "artisanal",
            commodity: str = "diamond", status: str = "active", granted: str | None = "2020-01-01",
            expires: str | None = "2030-12-31", country: str = "SLE", snapshot: str | None = None) -> dict:
    return {"licence_id": licence_id, "country": country, "holder": "Coopérative de Guéckédou",
            "licence_type": licence_type, "commodity": commodity, "status": status,
            "granted": pd.Timestamp(granted) if granted else pd.NaT,
            "expires": pd.Timestamp(expires) if expires else pd.NaT, "geometry_repaired": False,
            "source_name": "sle", "source_file": "hand-made", "source_row": 1,
            "snapshot": pd.Timestamp(snapshot) if snapshot else pd.NaT, "geometry": shapely.box(*box)}


def concessions(*rows: dict) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(list(rows), geometry="geometry", crs=CRS)
    return frame[[*CONCESSION_COLUMNS, "geometry"]].astype(CONCESSION_COLUMNS)


def footprints(*rows: tuple[str, str, tuple[float, float, float, float]]) -> gpd.GeoDataFrame:
    geoms = [shapely.box(*box) for _, _, box in rows]
    return gpd.GeoDataFrame({"site_id": [r[0] for r in rows], "period": [r[1] for r in rows],
                             "area_ha": shapely.area(geoms) / 10_000.0}, geometry=geoms, crs=CRS)


def square(x: float, y: float, side: float = 200.0) -> tuple[float, float, float, float]:
    return (x, y, x + side, y + side)


# --- registration -------------------------------------------------------------------------------------------

WEST = -30 * KM  # in the diamond zone


def classes_of(*licences: dict) -> pd.DataFrame:
    layer = footprints(("S", "2026H1", square(WEST, 0.0)))
    result = register(layer, concessions(*licences), site_commodity(layer, zones(), "gold", 10.0)["commodity"], PERIODS)
    return result.pieces


@pytest.mark.parametrize("case, licences, expected", [
    ("valid artisanal licence", [licence("L", square(WEST - 100, -100, 400))], "registered"),
    ("expired the day before the observation",
     [licence("L", square(WEST - 100, -100, 400), expires=str(OBSERVED - dt.timedelta(days=1)))], "expired_licence"),
    ("expires on the day of the observation",
     [licence("L", square(WEST - 100, -100, 400), expires=str(OBSERVED))], "registered"),
    ("status says expired", [licence("L", square(WEST - 100, -100, 400), status="expired")], "expired_licence"),
    ("exploration licence", [licence("L", square(WEST - 100, -100, 400), licence_type="exploration")],
     "exploration_only"),
    ("reconnaissance licence", [licence("L", square(WEST - 100, -100, 400), licence_type="reconnaissance")],
     "exploration_only"),
    ("gold licence over diamond digging", [licence("L", square(WEST - 100, -100, 400), commodity="gold")],
     "wrong_commodity"),
    ("suspended licence", [licence("L", square(WEST - 100, -100, 400), status="suspended")], "suspended"),
    ("pending application", [licence("L", square(WEST - 100, -100, 400), status="pending", granted=None,
                                     expires=None)], "no_licence"),
    ("granted after the observation", [licence("L", square(WEST - 100, -100, 400), granted="2026-06-25")],
     "no_licence"),
    ("unknown status, in force by its dates", [licence("L", square(WEST - 100, -100, 400), status="unknown")],
     "registered"),
    ("no licence at all", [licence("far", square(WEST + 5_000, 0))], "no_licence"),
    ("exploration overlapping a valid licence: the valid one wins",
     [licence("E", square(WEST - 100, -100, 400), licence_type="exploration"),
      licence("V", square(WEST - 50, -50, 300))], "registered"),
])
def test_each_licence_situation_gets_its_class(case, licences, expected):
    pieces = classes_of(*licences)
    assert list(pieces["registration"]) == [expected], case
    assert pieces["area_ha"].sum() == pytest.approx(4.0)


def test_the_same_expiry_judged_on_each_period_observation_day():
    lapsed = licence("L", square(WEST - 100, -100, 400), expires="2026-03-31")
    layer = footprints(("S", "2025H2", square(WEST, 0.0)), ("S", "2026H1", square(WEST, 0.0)))
    pieces = register(layer, concessions(lapsed), pd.Series({"S": "diamond"}), PERIODS).pieces
    assert dict(zip(pieces["period"], pieces["registration"], strict=True)) == {
        "2025H2": "registered", "2026H1": "expired_licence"}


def test_a_site_half_inside_a_licence_gets_half_its_area_in_each_class():
    half = licence("L", (WEST - 100, -100, WEST + 100, 300))  # covers x < WEST + 100: half the 200 m square
    result = register(footprints(("S", "2026H1", square(WEST, 0.0))), concessions(half),
                      pd.Series({"S": "diamond"}), PERIODS)
    areas = result.pieces.set_index("registration")["area_ha"]
    assert areas.to_dict() == pytest.approx({"registered": 2.0, "no_licence": 2.0})
    assert result.pieces.set_index("registration")["licence_id"].fillna("").to_dict() == {
        "registered": "L", "no_licence": ""}
    assert shapely.equals(result.pieces.geometry.iloc[0], shapely.box(WEST, 0, WEST + 100, 200))
    row = result.per_period.iloc[0]
    assert (row["registration"], row["registered_ha"], row["unregistered_ha"]) == ("registered", 2.0, 2.0)


def test_overlapping_licences_never_count_an_area_twice():
    pieces = classes_of(licence("E", (WEST - 100, -100, WEST + 150, 300), licence_type="exploration"),
                        licence("V", (WEST + 50, -100, WEST + 300, 300)))
    areas = pieces.groupby("registration")["area_ha"].sum()
    assert areas.to_dict() == pytest.approx({"registered": 3.0, "exploration_only": 1.0})
    assert pieces["area_ha"].sum() == pytest.approx(4.0)


def test_unlicensed_activity_outside_the_project_countries_is_not_assessed():
    """Only SLE is assessed here: the GIN part of a site crossing the border has no cadastre to judge it by."""
    sle = boundaries().geometry.iloc[0]
    layer = footprints(("S", "2026H1", (-300.0, 0.0, 300.0, 200.0)))
    result = register(layer, concessions(licence("far", square(WEST, 0.0))), pd.Series({"S": "gold"}), PERIODS,
                      assessed=sle)
    assert result.pieces.set_index("registration")["area_ha"].to_dict() == pytest.approx(
        {"no_licence": 6.0, "not_assessed": 6.0})
    row = result.per_period.iloc[0]
    assert (row["registered_ha"], row["unregistered_ha"]) == (0.0, pytest.approx(6.0))


def test_licence_rules_are_vectorised_over_pairs():
    frame = pd.DataFrame({"licence_type": ["artisanal", "exploration"], "commodity": ["gold", "gold"],
                          "status": ["active", "active"], "granted": pd.to_datetime(["2020-01-01"] * 2),
                          "expires": pd.to_datetime(["2026-06-23", "2030-01-01"])})
    got = licence_classes(frame, np.array(["2026-06-23", "2026-06-24"], dtype="datetime64[D]"),
                          np.array(["gold", "gold"], dtype=object))
    assert list(got) == ["registered", "exploration_only"]


# --- border and crossings -----------------------------------------------------------------------------------

def signals_of(layer: gpd.GeoDataFrame) -> pd.DataFrame:
    borders = derive_borders(boundaries(), CRS)
    crossings = official_crossings(posts(), SETTINGS.analysis)
    return border_signals(layer, cut_corridors(borders, 25.0), crossings, SETTINGS.analysis)


def test_a_site_500_m_from_the_border_and_12_km_from_the_nearest_official_post():
    near = footprints(("S", "2026H1", NEAR))  # GIN side, west edge 500 m from x = 0
    row = signals_of(near).iloc[0]
    assert row["dist_border_km"] == pytest.approx(0.5, abs=1e-6)
    assert row["border_pair"] == "GIN-SLE"
    # The nearest corner is (500, 5100); the post stands at (0, POST_Y): sqrt(500² + (POST_Y - 5100)²) = 12 km.
    assert row["nearest_post_id"] == "SLE-GIN-01"  # not the informal post at (0, 0), nor the closed one
    assert row["dist_post_km"] == pytest.approx(12.0, abs=1e-6)
    assert bool(row["in_border_zone"])
    assert row["corridor_id"] == corridor_at(0.0, 5 * KM)


def corridor_at(x: float, y: float) -> str:
    """Id of the corridor (25 km) passing through (x, y)."""
    corridors = cut_corridors(derive_borders(boundaries(), CRS), 25.0)
    return corridors["corridor_id"][shapely.dwithin(np.asarray(corridors.geometry), shapely.Point(x, y), 1.0)].item()


def test_border_zone_edge_and_a_site_crossing_the_border():
    layer = footprints(("in", "2026H1", (14_900.0, 0, 15_000.0, 100)), ("out", "2026H1", (15_100.0, 0, 15_200, 100)),
                       ("cross", "2026H1", (-100.0, 0, 100.0, 100)))
    signals = signals_of(layer).set_index(layer["site_id"])
    assert signals["dist_border_km"].to_dict() == pytest.approx({"in": 14.9, "out": 15.1, "cross": 0.0})
    assert signals["in_border_zone"].to_dict() == {"in": True, "out": False, "cross": True}


def test_corridors_cover_each_border_in_equal_segments():
    corridors = cut_corridors(derive_borders(boundaries(), CRS), 30.0)
    assert list(corridors["corridor_id"]) == ["GIN-SLE-001", "GIN-SLE-002", "GIN-SLE-003"]
    assert corridors["length_km"].tolist() == pytest.approx([100 / 3] * 3, abs=1e-3)
    assert shapely.length(corridors.geometry).sum() == pytest.approx(100 * KM)
    assert corridors["to_km"].iloc[-1] == pytest.approx(100.0)


def test_each_corridor_is_named_by_the_nearest_town_on_each_side():
    corridors = cut_corridors(derive_borders(boundaries(), CRS), 25.0)
    places = gpd.GeoDataFrame({"name": ["Westown", "Eastown", "Farville"], "country": ["SLE", "GIN", "GIN"]},
                              geometry=shapely.points([(-5 * KM, 0), (8 * KM, 10 * KM), (40 * KM, 0)]), crs=CRS)
    named = near_places(corridors, places)
    midpoints = shapely.line_interpolate_point(np.asarray(corridors.geometry), 0.5, normalized=True)
    at = int(np.flatnonzero(np.isclose(shapely.get_y(midpoints), 12.5 * KM))[0])
    assert named.iloc[at] == "Eastown, GIN, 8 km · Westown, SLE, 13 km"  # hypot(8, 2.5) and hypot(5, 12.5)
    assert named.notna().all() and near_places(corridors, places.iloc[0:0]).isna().all()


# --- the whole stage on files -------------------------------------------------------------------------------

@pytest.fixture
def world(tmp_path):
    """Reference layers, concessions and tracked sites of the hand-made world, on disk, and a config."""
    reference = tmp_path / "reference"
    reference.mkdir()
    outlines = boundaries()
    write_layer(to_exchange(outlines), reference / "boundaries.geojson")
    write_layer(to_exchange(derive_borders(outlines, CRS)), reference / "borders.geojson")
    write_layer(to_exchange(posts()), reference / "border_posts.geojson")
    write_layer(to_exchange(zones()), reference / "commodity_zones.geojson")
    licences = concessions(
        licence("SL-VALID", (WEST - 1_000, -1_000, WEST + 1_000, 1_000)),
        licence("SL-EXPIRED", (-20 * KM, -1_000, -18 * KM, 1_000), expires="2026-06-23"),
        licence("SL-HALF", (-40 * KM - 1_000, -1_000, -40 * KM + 100, 1_000)))
    write_geoparquet(licences, RunFolder(tmp_path / "stages").layer("concessions"))
    patches = {
        "2025H2": footprints(("", "", (WEST, 0, WEST + 200, 200))),
        "2026H1": footprints(("", "", (WEST, 0, WEST + 200, 200)),  # registered, in the diamond zone
                             ("", "", (-20 * KM, 0, -20 * KM + 200, 200)),  # licence expired the day before
                             ("", "", (-40 * KM, 0, -40 * KM + 200, 200)),  # half inside SL-HALF
                             ("", "", NEAR),  # 500 m from the border, 12 km from the post
                             ("", "", (-300.0, -20 * KM, 300.0, -20 * KM + 200))),  # crosses the border
    }
    layers = track_sites({p: f[["area_ha", "geometry"]] for p, f in patches.items()}, outlines)
    layers.write(tmp_path / "stages")
    config = tmp_path / "mrumonitor.toml"
    periods = ", ".join(f'{{ name = "{p.name}", start = {p.start}, end = {p.end}'
                        + (f", observed = {p.observed} }}" if p.observed else " }") for p in PERIODS)
    config.write_text(f'[paths]\nreference = "reference"\nwork = "work"\nstore = "store"\n'
                      f'[activity]\nperiods = [{periods}]\n'
                      f'[analysis]\ncommodity_zones = "reference/commodity_zones.geojson"\n', encoding="utf-8")
    return load_settings(config), tmp_path / "stages"


def site_at(sites: gpd.GeoDataFrame, x: float, y: float) -> pd.Series:
    hit = sites[shapely.contains_xy(np.asarray(sites.geometry), x, y)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_analyse_writes_every_layer_with_the_expected_answers(world):
    settings, stages = world
    result = analyse_folders(settings, stages, stages, stages)
    assert set(result.layers()) == {"sites", "site_periods", "site_registration", "licence_snapshots", "border_corridors",
                                    "corridor_periods", "registration_summary", "capacity", "capacity_parameters",
                                    "capacity_stock", "kp_anomalies",
                                    "verification_feedback"}
    assert all(RunFolder(stages).has_layers(name) for name in result.layers())
    sites = gpd.read_parquet(RunFolder(stages).layer("sites"))
    assert site_at(sites, WEST + 100, 100)[["registration", "commodity", "licence_id"]].tolist() == [
        "registered", "diamond", "SL-VALID"]
    assert site_at(sites, -20 * KM + 100, 100)["registration"] == "expired_licence"
    half = site_at(sites, -40 * KM + 50, 100)
    assert (half["registered_ha"], half["unregistered_ha"], half["unregistered_share"]) == pytest.approx((2.0, 2.0, 0.5))
    near = site_at(sites, 600, 5 * KM)
    assert (near["dist_border_km"], near["dist_post_km"], near["commodity"]) == (pytest.approx(0.5, abs=1e-3),
                                                                                 pytest.approx(12.0, abs=1e-3), "gold")
    cross = site_at(sites, 0, -20 * KM + 100)
    assert bool(cross["transboundary"]) and cross["dist_border_km"] == 0.0 and bool(cross["in_border_zone"])


def test_analyse_takes_the_stages_data_and_writes_nothing(world):
    settings, stages = world
    before = sorted(stages.iterdir())
    result = analyse(settings, gpd.read_parquet(RunFolder(stages).layer("concessions")), SiteLayers.read(stages),
                     ReferenceLayers.load(settings))
    assert sorted(stages.iterdir()) == before
    assert site_at(result.sites, WEST + 100, 100)["licence_id"] == "SL-VALID"


def test_risk_score_recomputed_by_hand(world):
    settings, stages = world
    sites = analyse_folders(settings, stages, stages, stages).sites
    weights = settings.analysis.risk
    total = sum(weights.model_dump().values())
    # four sites of 4 ha and the transboundary one of 12 ha: a 4 ha site's size is the mean of ranks 1-4 of 5
    size_4ha = 2.5 / 5
    near = site_at(sites, 600, 5 * KM)  # unlicensed gold, 0.5 km from the border, 12 km from a post, new
    expected = 100 * (weights.unregistered * 1.0 + weights.border * (1 - 0.5 / 15) + weights.far_from_post * 12 / 30
                      + weights.new * 1.0 + weights.commodity * 0.0 + weights.size * size_4ha) / total
    assert near["commodity_basis"] == "unknown"
    assert near["risk_score"] == pytest.approx(round(expected, 1), abs=0.05)
    old = site_at(sites, WEST + 100, 100)  # registered, in the mapped diamond field, 30 km from the border, not new
    assert old["commodity_basis"] == "in_diamond_field"
    assert old["risk_score"] == pytest.approx(round(100 * (weights.commodity * 1.0 + weights.size * size_4ha) / total, 1))


def test_corridors_are_ranked_by_unregistered_area_in_the_border_zone(world):
    settings, stages = world
    result = analyse_folders(settings, stages, stages, stages)
    top = result.border_corridors.iloc[0]
    assert top["rank"] == 1 and top["unregistered_ha"] > 0
    # the border zone holds the site 500 m from the border (4 ha) and the transboundary one (12 ha, ranked first)
    by_id = result.border_corridors.set_index("corridor_id")
    near, cross = corridor_at(0.0, 5 * KM), corridor_at(0.0, -20 * KM)
    assert top["corridor_id"] == cross and by_id.loc[cross, "unregistered_ha"] == pytest.approx(12.0)
    assert by_id.loc[near, ["sites", "unregistered_ha", "rank"]].tolist() == [1, pytest.approx(4.0), 2]
    assert result.border_corridors["unregistered_ha"].sum() == pytest.approx(16.0)
    # SLE-GIN is a border between two project countries; the transboundary site lies 9.7 km from the diamond
    # field (near_field_km = 10: diamonds), the site 500 m from the border 10.5 km from it (gold)
    assert (result.border_corridors["scope"] == "mru").all()
    assert by_id.loc[[cross, near], "diamond_unregistered_ha"].tolist() == [pytest.approx(12.0), 0.0]
    assert by_id.loc[near, "nearest_post_name"] == "Post Côte d'Ivoire"
    trend = result.corridor_periods[result.corridor_periods["corridor_id"] == near]
    assert trend[["period", "commodity", "unregistered_ha"]].values.tolist() == [["2026H1", "gold", 4.0]]


def test_summary_splits_a_transboundary_site_between_its_countries(world):
    settings, stages = world
    summary = analyse_folders(settings, stages, stages, stages).registration_summary
    last = summary[(summary["level"] == "country") & (summary["period"] == "2026H1")]
    by_country = last.groupby("country")["area_ha"].sum()
    # SLE: 4 + 4 + 4 ha of sites + 6 ha of the crossing site; GIN: 4 ha + the other 6 ha
    assert by_country.to_dict() == pytest.approx({"SLE": 18.0, "GIN": 10.0})
    sle = last[last["country"] == "SLE"].set_index("registration")["area_ha"]
    assert sle.to_dict() == pytest.approx({"registered": 6.0, "expired_licence": 4.0, "no_licence": 8.0})
    assert set(summary["registration"]) <= set(REGISTRATION_CLASSES)


def test_summary_by_admin_area(world, tmp_path):
    settings, stages = world
    admin = gpd.GeoDataFrame({"ADM1": ["Kailahun", "Guéckédou"], "ISO": ["SLE", "GIN"]},
                             geometry=[shapely.box(-50 * KM, -50 * KM, 0, 50 * KM),
                                       shapely.box(0, -50 * KM, 50 * KM, 50 * KM)], crs=CRS).to_crs(4326)
    admin.to_file(tmp_path / "admin1.gpkg")
    config = settings.config_files[-1]
    config.write_text(config.read_text() + '[analysis.admin.admin1]\nfile = "admin1.gpkg"\nname_field = "ADM1"\n'
                      'country_field = "ISO"\n', encoding="utf-8")
    summary = analyse_folders(load_settings(config), stages, stages, stages).registration_summary
    admin_rows = summary[(summary["level"] == "admin1") & (summary["period"] == "2026H1")]
    assert admin_rows.groupby("area")["area_ha"].sum().to_dict() == pytest.approx({"Kailahun": 18.0,
                                                                                   "Guéckédou": 10.0}, abs=0.01)
    assert set(admin_rows["country"]) == {"SLE", "GIN"}


def test_admin_layer_with_a_wrong_field_names_the_file_and_the_fix(world, tmp_path):
    settings, stages = world
    gpd.GeoDataFrame({"NAME": ["x"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326).to_file(tmp_path / "a.gpkg")
    config = settings.config_files[-1]
    config.write_text(config.read_text() + '[analysis.admin.admin1]\nfile = "a.gpkg"\nname_field = "ADM1"\n',
                      encoding="utf-8")
    with pytest.raises(InputFileError, match=r"a\.gpkg: column\(s\) ADM1 not found .*Fix: set analysis\.admin"):
        analyse_folders(load_settings(config), stages, stages, stages)


def test_analyse_before_detect_says_what_to_run(world, tmp_path):
    settings, stages = world
    with pytest.raises(StageInputError, match="run `mrumonitor detect` first"):
        analyse_folders(settings, stages, tmp_path / "nowhere", tmp_path / "out")


def test_summary_classes_sum_to_the_active_area():
    layer = footprints(("A", "2026H1", (-300.0, 0, 300.0, 200)))
    pieces = register(layer, concessions(licence("L", (-1_000, -1_000, 0, 1_000))), pd.Series({"A": "gold"}),
                      PERIODS).pieces
    summary = registration_summary(pieces, boundaries())
    assert summary.set_index(["country", "registration"])["area_ha"].to_dict() == pytest.approx({
        ("SLE", "wrong_commodity"): 6.0, ("GIN", "no_licence"): 6.0})


# --- field visits of the verification ledger, applied by the analysis ---------------------------------------

def visits(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    """Ledger visits (site_id, visited_on, outcome, licence_seen), entered in the order given."""
    return pd.DataFrame({
        "visit_id": [f"v{i}" for i in range(len(rows))], "site_id": [r[0] for r in rows],
        "visited_on": pd.to_datetime([r[1] for r in rows]), "team": "NMA team 2",
        "outcome": [r[2] for r in rows], "licence_seen": pd.array([r[3] or None for r in rows], dtype="string"),
        "entered_at": pd.date_range("2026-07-01", periods=len(rows), freq="h")})


def test_field_visits_correct_the_registration_and_the_totals(world):
    settings, stages = world
    inputs = (gpd.read_parquet(RunFolder(stages).layer("concessions")), SiteLayers.read(stages),
              ReferenceLayers.load(settings))
    before = analyse(settings, *inputs)
    west, expired = site_at(before.sites, WEST + 100, 100)["site_id"], site_at(before.sites, -20 * KM + 100, 100)
    near, half = site_at(before.sites, 600, 5 * KM)["site_id"], site_at(before.sites, -40 * KM + 50, 100)["site_id"]
    after = analyse(settings, *inputs, visits(
        (half, "2026-06-01", "not_mining", ""),  # a new diamond site: 4 ha of newly mined area
        (west, "2026-03-02", "not_mining", ""),  # a false positive: both of its periods
        (expired["site_id"], "2026-05-10", "licensed", "SL-2026-117"),  # registration was wrong
        (near, "2025-09-15", "inaccessible", ""), (near, "2025-08-01", "active_mining", "")))
    periods = after.site_periods.set_index(["site_id", "period"])
    assert periods.loc[(west, "2025H2"), "registration"] == periods.loc[(west, "2026H1"), "registration"] == (
        "verified_not_mining")
    assert periods.loc[(west, "2026H1"), ["registered_ha", "unregistered_ha"]].tolist() == [0.0, 0.0]
    licensed = periods.loc[(expired["site_id"], "2026H1")]
    assert (licensed["registration"], licensed["licence_id"], licensed["unregistered_ha"]) == (
        "registered", "SL-2026-117", 0.0)
    assert "licensed: verified on 2026-05-10 by NMA team 2 (visit v2)" in licensed["verification"]
    # the area counts as such, never as production. SLE's 2026H1 was 6 ha registered (west 4, half 2), 4 ha
    # expired, 8 ha unlicensed (half 2, the crossing site's SLE part 6)
    summary = after.registration_summary
    sle = summary[(summary["level"] == "country") & (summary["period"] == "2026H1") & (summary["country"] == "SLE")]
    assert sle.set_index("registration")["area_ha"].to_dict() == pytest.approx(
        {"registered": 4.0, "no_licence": 6.0, "verified_not_mining": 8.0})
    # the site verified in 2025H2 (the inaccessible visit after it does not outweigh it) is not seen then
    effects = after.feedback.set_index(["site_id", "period"])["effect"]
    assert effects[(near, "2025H2")] == "missed_by_detector" and effects[(near, "2026H1")] == "confirmed"
    assert (before.capacity.capacity["mined_area_ha"].sum() - after.capacity.capacity["mined_area_ha"].sum()
            == pytest.approx(4.0))
