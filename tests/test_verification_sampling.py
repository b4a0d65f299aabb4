"""The sampling design (verification.sampling) and `mrumonitor verify sample`, on a tiny run built here.

The run holds, in its last period 2026H1, 31 sites in three registration classes and two countries, plus two
sites already verified not mining:

- no_licence: 12 in SLE and 8 in GIN, 10 ha each (200 ha);
- registered: 4 in SLE and 4 in GIN, 30 ha each (240 ha);
- expired_licence: 3 in SLE, 20 ha each (60 ha).

Site ``MS-near`` (no_licence, SLE) lies 3 km north-east of the town Koidu; the nearest official crossing is
Gbalamuya, with an informal crossing nearer still that a field sheet must not name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from mrumonitor.config import load_settings
from mrumonitor.errors import VerificationError
from mrumonitor.runfolder import RunFolder
from mrumonitor.verification.design import UNIT_COLUMNS
from mrumonitor.verification.ledger import Ledger
from mrumonitor.verification.sample_command import sample
from mrumonitor.verification.sampling import allocate, draw_sample

RUN_ID = "20261201T080000Z-ab12"
#: Koidu, in the analysis CRS (about 10.97 W, 8.64 N).
KOIDU = (-238556.0, 16169.0)
GBALAMUYA = (KOIDU[0], KOIDU[1] + 12500.0)
#: (registration, country, sites, ha each)
STRATA = [("no_licence", "SLE", 12, 10.0), ("no_licence", "GIN", 8, 10.0), ("registered", "SLE", 4, 30.0),
          ("registered", "GIN", 4, 30.0), ("expired_licence", "SLE", 3, 20.0)]
SYNTHETIC = "The national cadastres are SYNTHETIC demo data: fictitious licences and holders."


def square(x: float, y: float, side: float = 100.0) -> shapely.Geometry:
    return shapely.box(x - side / 2, y - side / 2, x + side / 2, y + side / 2)


def site_table() -> pd.DataFrame:
    """The sites of 2026H1: one row per site with its footprint centre (x, y)."""
    rows = []
    for registration, country, count, area in STRATA:
        base_y = KOIDU[1] + (-60_000 if country == "SLE" else 150_000)
        for i in range(count):
            rows.append({"site_id": f"MS-{registration[:3]}-{country}-{i:02d}", "registration": registration,
                         "country": country, "area_ha": area, "x": KOIDU[0] + 1000.0 * i,
                         "y": base_y + 5000.0 * len(rows) % 40_000})
    rows[0].update(site_id="MS-near", x=KOIDU[0] + 3000 / np.sqrt(2), y=KOIDU[1] + 3000 / np.sqrt(2))
    rows += [{"site_id": f"MS-sand-{i}", "registration": "verified_not_mining", "country": "SLE", "area_ha": 50.0,
              "x": KOIDU[0] - 9000.0 * (i + 1), "y": KOIDU[1]} for i in range(2)]
    return pd.DataFrame(rows)


def write_run(store: Path) -> Path:
    """A published run of the sites above (2026H1, and three sites in 2025H2) in the layer store `store`."""
    crs = load_settings().analysis_crs
    folder = RunFolder(store / "runs" / RUN_ID)
    (folder.path / "reference").mkdir(parents=True)
    now = site_table()
    old = now[now["registration"] == "registered"].head(3)
    periods = pd.concat([old.assign(period="2025H2"), now.assign(period="2026H1")], ignore_index=True)
    geometry = [square(x, y) for x, y in zip(periods["x"], periods["y"], strict=True)]
    gpd.GeoDataFrame({
        "site_id": periods["site_id"].astype("string"), "period": periods["period"].astype("string"),
        "area_ha": periods["area_ha"], "registration": periods["registration"].astype("string"),
        "licence_id": pd.array([f"L-{i}" if r == "registered" else None for i, r in enumerate(periods["registration"])],
                               dtype="string"),
        "in_border_zone": periods["y"] > KOIDU[1]}, geometry=geometry, crs=crs).to_parquet(folder.layer("site_periods"))
    gpd.GeoDataFrame({"site_id": now["site_id"].astype("string"), "country": now["country"].astype("string"),
                      "commodity": pd.array(["diamond"] * len(now), dtype="string")},
                     geometry=[square(x, y) for x, y in zip(now["x"], now["y"], strict=True)],
                     crs=crs).to_parquet(folder.layer("sites"))
    gpd.GeoDataFrame({"name": ["Koidu", "Kabala"], "country": ["SLE", "SLE"], "admin1": ["Eastern", "Northern"]},
                     geometry=shapely.points([KOIDU, (KOIDU[0], KOIDU[1] + 200_000)]),
                     crs=crs).to_parquet(folder.reference("places"))
    gpd.GeoDataFrame({"post_id": ["SLE-GIN-01", "SLE-GIN-99"], "name": ["Gbalamuya", "Bush path"],
                      "kind": ["official", "informal_known"]},
                     geometry=shapely.points([GBALAMUYA, (KOIDU[0], KOIDU[1] + 4000)]),
                     crs=crs).to_parquet(folder.reference("border_posts"))
    manifest = {"run_id": RUN_ID, "layers": {}, "caveats": [SYNTHETIC],
                "periods": [{"name": name} for name in ("2025H2", "2026H1", "2026H2")]}
    folder.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    (store / "runs" / "LATEST").write_text(RUN_ID + "\n", encoding="ascii")
    return folder.path


@pytest.fixture
def run_dir(tmp_path) -> Path:
    return write_run(tmp_path / "layers")


def drawn(run_dir: Path, **options):
    options = {"n": 20, "seed": 3, "created_by": "tester", **options}
    return draw_sample(run_dir, RUN_ID, **options)


# --- allocation ----------------------------------------------------------------------------------------------

@pytest.mark.unit
@pytest.mark.parametrize(("population", "mapped", "n", "minimum", "expected"), [
    # minima 5, 5, 3 (13); 7 more by area 200 : 40 -> quotas 5.83, 1.17 -> 5 + 1, the larger remainder to the first
    ([20, 8, 3], [200.0, 40.0, 60.0], 20, 5, [11, 6, 3]),
    # 7 more by area 200 : 240 -> quotas 3.18, 3.82 -> 3 and 4, but 4 is over the 3 places left in the second
    # stratum: it is capped at its 8 sites and the site left over goes to the first
    ([20, 8, 3], [200.0, 240.0, 60.0], 20, 5, [9, 8, 3]),
    # n beyond the population: every site (a census)
    ([20, 8, 3], [200.0, 240.0, 60.0], 40, 5, [20, 8, 3]),
    # no mapped area in the open strata: the rest goes by the sites left
    ([10, 10], [0.0, 0.0], 8, 2, [4, 4]),
    # exactly the minima
    ([20, 8, 3], [200.0, 240.0, 60.0], 13, 5, [5, 5, 3]),
])
def test_allocation_gives_the_minimum_then_the_rest_by_mapped_area(population, mapped, n, minimum, expected):
    allocated = allocate(np.array(population), np.array(mapped), n, minimum)
    assert allocated.tolist() == expected
    assert allocated.sum() == min(n, sum(population))


@pytest.mark.unit
def test_minima_beyond_n_are_refused_with_the_fixes():
    with pytest.raises(VerificationError) as error:
        allocate(np.array([20, 8, 3]), np.array([1.0, 1.0, 1.0]), 12, 5)
    message = str(error.value)
    assert "n=12" in message and "3 strata" in message and "raise --n to 13" in message
    assert "--min-per-stratum" in message and "fewer strata" in message


# --- the draw ---------------------------------------------------------------------------------------------------

@pytest.mark.unit
def test_a_sample_of_the_last_period_by_registration(run_dir):
    design = drawn(run_dir)
    assert design.period == "2026H1" and design.run_id == RUN_ID and design.seed == 3
    strata = design.strata.set_index("stratum")
    assert strata["population"].to_dict() == {"expired_licence": 3, "no_licence": 20, "registered": 8}
    assert strata["mapped_ha"].to_dict() == {"expired_licence": 60.0, "no_licence": 200.0, "registered": 240.0}
    assert strata["allocated"].to_dict() == {"expired_licence": 3, "no_licence": 9, "registered": 8}
    assert list(design.units.columns) == list(UNIT_COLUMNS) and len(design.units) == 20
    counts = design.units.groupby("stratum")["draw"].agg(["count", "min", "max"])
    assert (counts["count"] == counts["max"]).all() and (counts["min"] == 1).all()
    assert design.units["site_id"].is_unique


@pytest.mark.unit
def test_sites_verified_not_mining_are_left_out_and_said_so(run_dir):
    design = drawn(run_dir, n=100)
    assert not design.units["site_id"].str.startswith("MS-sand").any()
    assert "verified_not_mining" not in set(design.strata["stratum"])
    assert len(design.units) == 31  # every other site: a census
    assert "sites already verified not mining (2 in the period) are left out" in design.allocation
    assert "a census" in design.allocation and "Olofsson et al. 2014" in design.allocation


@pytest.mark.unit
def test_the_same_seed_draws_the_same_sample(run_dir):
    first, again = drawn(run_dir, seed=11), drawn(run_dir, seed=11)
    pd.testing.assert_frame_equal(first.units, again.units)
    others = [set(drawn(run_dir, seed=seed).units["site_id"]) for seed in (12, 13, 14)]
    assert any(other != set(first.units["site_id"]) for other in others)


@pytest.mark.unit
def test_without_a_seed_one_is_recorded_that_draws_the_sample_again(run_dir):
    design = drawn(run_dir, seed=None)
    assert isinstance(design.seed, int)
    pd.testing.assert_frame_equal(drawn(run_dir, seed=design.seed).units, design.units)
    assert design.sample_id.startswith("S") and len(design.sample_id) == len("S20261205T101500Z-3f2a")


@pytest.mark.unit
def test_strata_by_registration_and_country(run_dir):
    design = drawn(run_dir, n=25, strata_by=("registration", "country"), min_per_stratum=4)
    strata = design.strata.set_index("stratum")
    assert strata["population"].to_dict() == {"expired_licence|SLE": 3, "no_licence|GIN": 8, "no_licence|SLE": 12,
                                              "registered|GIN": 4, "registered|SLE": 4}
    assert strata.loc["no_licence|SLE", ["registration", "country"]].tolist() == ["no_licence", "SLE"]
    assert strata["allocated"].sum() == 25
    # every drawn site belongs to its stratum
    keys = design.units["registration"] + "|" + design.units["country"]
    assert (keys == design.units["stratum"]).all()
    truth = site_table().set_index("site_id")
    assert (truth.loc[design.units["site_id"], "registration"].to_numpy() == design.units["registration"]).all()
    assert (truth.loc[design.units["site_id"], "country"].to_numpy() == design.units["country"]).all()


@pytest.mark.unit
def test_an_earlier_period_and_an_unknown_one(run_dir):
    design = drawn(run_dir, n=3, period="2025H2", min_per_stratum=1)
    assert design.period == "2025H2" and set(design.units["registration"]) == {"registered"}
    with pytest.raises(VerificationError, match=r"no site in period '2026H2'; periods with sites: 2025H2, 2026H1"):
        drawn(run_dir, period="2026H2")


@pytest.mark.unit
def test_unknown_strata_columns_are_refused_with_the_valid_ones(run_dir):
    with pytest.raises(VerificationError) as error:
        drawn(run_dir, strata_by=("registration", "colour"))
    assert "colour" in str(error.value)
    assert "registration, country, commodity, in_border_zone" in str(error.value)


@pytest.mark.unit
def test_nearest_town_and_official_crossing_on_known_geometry(run_dir):
    units = drawn(run_dir, n=100).units.set_index("site_id")
    near = units.loc["MS-near"]
    assert near["nearest_place"] == "Koidu, 3.0 km NE"
    point = shapely.Point(KOIDU[0] + 3000 / np.sqrt(2), KOIDU[1] + 3000 / np.sqrt(2))
    km = point.distance(shapely.Point(GBALAMUYA)) / 1000
    assert near["nearest_crossing"] == f"Gbalamuya (SLE-GIN-01), {km:.1f} km"  # not the informal path nearer
    lonlat = gpd.GeoSeries([point], crs=load_settings().analysis_crs).to_crs(4326).iloc[0]
    assert (near["lon"], near["lat"]) == (round(lonlat.x, 6), round(lonlat.y, 6))
    assert units["nearest_place"].str.match(r"^(Koidu|Kabala), \d+\.\d km (N|NE|E|SE|S|SW|W|NW)$").all()


@pytest.mark.unit
def test_a_run_without_places_names_no_town(run_dir):
    RunFolder(run_dir).reference("places").unlink()
    units = drawn(run_dir).units
    assert (units["nearest_place"] == "").all() and units["nearest_crossing"].str.startswith("Gbalamuya").all()


@pytest.mark.unit
@pytest.mark.hostile
def test_a_run_without_sites_or_their_columns_says_so(run_dir):
    sites = RunFolder(run_dir).layer("sites")
    gpd.read_parquet(sites).drop(columns="commodity").to_parquet(sites)
    with pytest.raises(VerificationError, match="the sites layer has no commodity column"):
        drawn(run_dir)
    RunFolder(run_dir).layer("site_periods").unlink()
    with pytest.raises(VerificationError, match="has no site_periods layer"):
        drawn(run_dir)


# --- the command ------------------------------------------------------------------------------------------------

def write_store_config(tmp_path: Path) -> Path:
    write_run(tmp_path / "layers")
    config = tmp_path / "mrumonitor.toml"
    config.write_text(f'[paths]\nstore = "{tmp_path / "layers"}"\nwork = "{tmp_path / "work"}"\n', encoding="utf-8")
    return config


@pytest.mark.integration
def test_verify_sample_records_the_design_and_writes_the_sheets(tmp_path):
    config = write_store_config(tmp_path)
    result = CliRunner().invoke(sample, ["--n", "20", "--strata", "registration,country", "--seed", "5",
                                         "--min-per-stratum", "3", "-o", str(tmp_path / "sheets"),
                                         "--by", "field-lead", "--config", str(config)])
    assert result.exit_code == 0, result.output
    designs = Ledger(load_settings(config).ledger).samples()
    assert len(designs) == 1
    design = designs[0]
    assert design.created_by == "field-lead" and design.seed == 5 and design.run_id == RUN_ID
    assert design.strata_by == ("registration", "country") and design.units["draw"].notna().all()
    assert len(design.units) == 20
    assert design.sample_id in result.output and "no_licence|SLE" in result.output
    for suffix in ("gpx", "kml", "geojson", "csv", "html"):
        assert (tmp_path / "sheets" / f"{design.sample_id}.{suffix}").is_file()
    assert SYNTHETIC in (tmp_path / "sheets" / f"{design.sample_id}.html").read_text(encoding="utf-8")
    assert f"mrumonitor verify form --sample {design.sample_id}" in result.output
    assert "mrumonitor verify import" in result.output


@pytest.mark.integration
@pytest.mark.hostile
def test_verify_sample_with_bad_strata_says_which_are_valid(tmp_path):
    config = write_store_config(tmp_path)
    result = CliRunner().invoke(sample, ["--n", "5", "--strata", "registration,colour", "-o", str(tmp_path / "s"),
                                         "--config", str(config)])
    assert result.exit_code == 2
    assert "cannot make strata of colour" in result.output and "in_border_zone" in result.output
    assert not Ledger(load_settings(config).ledger).exists()


@pytest.mark.integration
@pytest.mark.hostile
@pytest.mark.slow
def test_no_traceback_reaches_the_user_of_the_command(tmp_path):
    config = write_store_config(tmp_path)
    code = "from mrumonitor.verification.sample_command import sample; sample()"
    answers = [subprocess.run([sys.executable, "-c", code, *args, "-o", str(tmp_path / "s"), "--config", str(config)],
                              check=False, capture_output=True, text=True, timeout=120)
               for args in (["--n", "3"], ["--n", "40", "--run", "20991231T000000Z-ffff"])]
    minima, unknown_run = answers
    assert minima.returncode == 2 and "Traceback" not in minima.stderr + minima.stdout
    assert "raise --n to 13" in minima.stderr
    assert unknown_run.returncode == 2 and "Traceback" not in unknown_run.stderr + unknown_run.stdout
    assert RUN_ID in unknown_run.stderr  # the runs there are listed


@pytest.mark.integration
@pytest.mark.hostile
def test_a_sample_the_ledger_refuses_leaves_no_field_sheets(tmp_path):
    config = write_store_config(tmp_path)
    (tmp_path / "blocker").write_text("a file, not a folder", encoding="utf-8")
    config.write_text(config.read_text(encoding="utf-8")
                      + f'[verification]\nledger = "{tmp_path / "blocker" / "ledger.sqlite"}"\n', encoding="utf-8")
    result = CliRunner().invoke(sample, ["--n", "20", "-o", str(tmp_path / "sheets"), "--config", str(config)])
    assert result.exit_code == 2 and "the verification ledger cannot be opened" in result.output
    assert list((tmp_path / "sheets").iterdir()) == []  # no team goes out with a sample the ledger does not know


@pytest.mark.integration
@pytest.mark.hostile
def test_field_sheets_that_cannot_be_written_record_no_sample(tmp_path):
    config = write_store_config(tmp_path)
    (tmp_path / "sheets").write_text("a file, not a folder", encoding="utf-8")
    result = CliRunner().invoke(sample, ["--n", "20", "-o", str(tmp_path / "sheets" / "round-1"), "--config",
                                         str(config)])
    assert result.exit_code == 2 and "cannot be written" in result.output
    assert Ledger(load_settings(config).ledger).samples() == []
