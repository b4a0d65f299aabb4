"""Configuration: defaults load, user files merge over them, and every mistake names its key and the choices."""

from __future__ import annotations

import re

import pytest
from conftest import write_config

from mrumonitor.config import load_settings
from mrumonitor.errors import ConfigError
from mrumonitor.resources import default_config_path

pytestmark = pytest.mark.unit


def test_defaults_describe_the_four_countries_in_a_projected_crs():
    settings = load_settings()
    assert settings.project.countries == ["SLE", "GIN", "LBR", "CIV"]
    assert {s.country for s in settings.sources.values()} == {"SLE", "GIN", "LBR", "CIV"}
    assert settings.analysis_crs.is_projected
    assert settings.analysis_crs.axis_info[0].unit_name == "metre"


def test_every_key_of_default_toml_is_commented():
    """Each table and key line has a comment on it or in the lines just above it."""
    lines = default_config_path().read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        is_key = re.match(r"^[A-Za-z_]+\s*=", line)
        if not is_key or line.startswith(("licence_id", "holder", "licence_type", "commodity", "status",
                                           "granted", "expires", "wkt", "delimiter")):
            continue  # mapping tables: their keys are explained once in the sources comment block
        above = "\n".join(lines[max(0, number - 8):number])
        assert "#" in line or "#" in above, f"default.toml line {number + 1} has no comment: {line}"


def test_user_file_merges_over_defaults_with_paths_relative_to_it(tmp_path):
    path = write_config(tmp_path, '[paths]\nwork = "scratch"\n[sources.gin]\nfile = "in/gin.geojson"\n')
    settings = load_settings(path)
    assert settings.paths.work == tmp_path / "scratch"
    assert settings.sources["gin"].file == tmp_path / "in" / "gin.geojson"
    assert settings.sources["gin"].fields.holder == "titulaire"  # the rest of the block comes from the defaults
    assert settings.paths.reference == default_config_path().parent.parent / "layers" / "reference"


BAD = {
    "unknown key": ('[ingest]\ncountry_tolerance = 3\n',
                    r"ingest: unknown key 'country_tolerance'; valid keys here: country_tolerance_km, batch_size"),
    "unknown top-level table": ('[rasters]\nres = 10\n', r"unknown key 'rasters'; valid keys here: project, crs"),
    "unknown key in a new table": ('[raster]\nres = 10\n', r"raster: unknown key 'res'; valid keys here: resolution_m"),
    "bad format": ('[sources.sle]\nformat = "shp"\n',
                   r"sources\.sle\.format: Input should be 'shapefile', 'gpkg', 'geojson', 'flatgeobuf' or 'csv'"),
    "bad canonical value": ('[sources.sle.values.licence_type]\n"Mining Lease" = "mining"\n',
                            r"sources\.sle\.values\.licence_type\.Mining Lease: Input should be 'artisanal'"),
    "geographic analysis crs": ('[crs]\nanalysis = "EPSG:4326"\n', r"crs\.analysis: WGS 84 is geographic"),
    "crs pyproj rejects": ('[sources.civ]\ncrs = "EPSG:999999"\n', r"sources\.civ\.crs: 'EPSG:999999' is not a CRS"),
    "country outside the project": ('[project]\ncountries = ["SLE"]\n',
                                    r"sources\.gin\.country is 'GIN', which is not in project\.countries"),
    "unknown country": ('[project]\ncountries = ["SLE", "XXX"]\n', r"project\.countries\.1: Input should be 'SLE'"),
    "csv without geometry columns": ('[sources.civ.csv]\nwkt = ""\n', r"set either 'wkt'"),
    "negative tolerance": ('[ingest]\ncountry_tolerance_km = -1\n', r"greater than or equal to 0"),
    "removed crs.exchange": ('[crs]\nexchange = "EPSG:4326"\n',
                             r"crs: unknown key 'exchange'; valid keys here: analysis; delete it or correct the spelling"),
    "new source missing required keys": ('[sources.extra]\ncountry = "SLE"\n',
                                         r"sources\.extra\.file: this key is required"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_config_names_key_and_choices(case, tmp_path):
    text, message = BAD[case]
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as error:
        load_settings(path)
    assert str(error.value).startswith(f"{path}: the configuration is not valid.")


def test_toml_syntax_error_names_the_file(tmp_path):
    path = write_config(tmp_path, "[paths\n")
    with pytest.raises(ConfigError, match=rf"{re.escape(str(path))}: not valid TOML"):
        load_settings(path)


def test_missing_config_file_is_explained(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "nope.toml")


def test_fingerprint_changes_with_the_effective_configuration(tmp_path):
    base = load_settings()
    assert base.fingerprint() == load_settings().fingerprint()
    changed = load_settings(write_config(tmp_path, "[ingest]\ncountry_tolerance_km = 2.0\n"))
    assert changed.fingerprint() != base.fingerprint()
