"""Hostile and careless configuration: every bad value is refused when the configuration loads, as a
ConfigError naming the key, the value and the fix — never a pydantic dump, never a traceback.

Each case writes its own user file over configs/default.toml. The last cases run the real command.
"""

from __future__ import annotations

import pytest
from conftest import write_config
from hostile import assert_no_traceback, assert_refused, mrumonitor

from mrumonitor.config import load_settings
from mrumonitor.errors import ConfigError

pytestmark = pytest.mark.hostile

#: What a raw pydantic error shows, which a person must never see.
PYDANTIC_DUMP = ("validation error for", "errors.pydantic.dev", "For further information", "[type=")

PERIOD = '{{ name = "{}", start = {}, end = {} }}'


def _periods(*periods: tuple[str, str, str]) -> str:
    return "[activity]\nperiods = [" + ", ".join(PERIOD.format(*period) for period in periods) + "]\n"


#: case: (user file, words the message must hold: the key, the value, the fix)
BAD = {
    # codec names
    "unknown encoding": ('[sources.sle]\nencoding = "latin-9x"\n',
                         ["sources.sle.encoding", "'latin-9x'", "'UTF-8', 'cp1252'"]),
    "a codec that is not a text encoding": ('[sources.sle]\nencoding = "base64"\n',
                                            ["sources.sle.encoding", "'base64'", "'cp1252'"]),
    "encoding for a GeoJSON (always UTF-8)": (
        '[sources.gin]\nencoding = "cp1252"\n',
        ["sources.gin.encoding", "'cp1252'", "always UTF-8", "leave encoding out"]),
    "UTF-16 for a Shapefile's .dbf": ('[sources.sle]\nencoding = "utf-16"\n',
                                      ["sources.sle.encoding", "'utf-16'", "'UTF-8', 'cp1252'"]),
    # date directives
    "unknown date directive": ('[sources.sle]\ndate_formats = ["%d/%m/%Q"]\n',
                               ["sources.sle.date_formats", "'%d/%m/%Q'", "bad directive", "'%d/%m/%Y'"]),
    "stray % in a date format": ('[sources.sle]\ndate_formats = ["%d/%m/%"]\n',
                                 ["sources.sle.date_formats", "'%d/%m/%'", "stray %"]),
    "date format with no day": ('[sources.sle]\ndate_formats = ["%Y"]\n',
                                ["sources.sle.date_formats", "'%Y'", "a day, a month and a year"]),
    "time format instead of a date": ('[sources.gin]\ndate_formats = ["%Y-%m-%d", "%H:%M"]\n',
                                      ["sources.gin.date_formats", "'%H:%M'", "whole date"]),
    "no date format at all": ('[sources.sle]\ndate_formats = []\n', ["sources.sle.date_formats", "at least 1"]),
    # paths
    "store path that is a file": ('[paths]\nstore = "a_file"\n', ["paths.store", "a_file", "is a file, not a folder"]),
    "work path that is a file": ('[paths]\nwork = "a_file"\n', ["paths.work", "a_file", "is a file, not a folder"]),
    "reference path that is a file": ('[paths]\nreference = "a_file"\n', ["paths.reference", "is a file"]),
    # periods
    "overlapping periods": (_periods(("H1", "2025-01-01", "2025-06-30"), ("H2", "2025-06-01", "2025-12-31")),
                            ["activity", "'H1' (2025-01-01 to 2025-06-30) and 'H2'", "overlap", "after 2025-06-30"]),
    "the same dates twice": (_periods(("A", "2025-01-01", "2025-06-30"), ("B", "2025-01-01", "2025-06-30")),
                             ["activity", "overlap"]),
    "periods given out of order and overlapping": (
        _periods(("late", "2025-03-01", "2025-12-31"), ("early", "2025-01-01", "2025-03-01")),
        ["'early' (2025-01-01 to 2025-03-01) and 'late'", "overlap"]),
    "reversed period": (_periods(("H1", "2025-06-30", "2025-01-01")),
                        ["activity.periods.0", "ends (2025-01-01) before it starts (2025-06-30)"]),
    "observed day outside its period": (
        '[activity]\nperiods = [{ name = "H1", start = 2025-01-01, end = 2025-06-30, observed = 2025-07-01 }]\n',
        ["activity.periods.0", "observed (2025-07-01) is not within the period"]),
    "duplicate period names": (_periods(("H1", "2025-01-01", "2025-03-31"), ("H1", "2025-04-01", "2025-06-30")),
                               ["period names must be unique"]),
    # inf and nan, anywhere
    "nan resolution": ('[raster]\nresolution_m = nan\n', ["raster.resolution_m", "got nan", "finite number"]),
    "inf tolerance": ('[ingest]\ncountry_tolerance_km = inf\n', ["ingest.country_tolerance_km", "got inf"]),
    "-inf score threshold": ('[detector]\nscore_threshold = -inf\n', ["detector.score_threshold", "got -inf"]),
    "nan in a detection area's bounds": (
        '[activity.inputs.s2]\nkind = "scenes"\npath = "scenes"\nbounds = [-13.3, nan, -10.3, 10.0]\n',
        ["activity.inputs.s2.bounds.1", "got nan"]),
    "nan in a capacity parameter": ('[capacity.volume.pit_depth_m]\ncentral = nan\n',
                                    ["capacity.volume.pit_depth_m.central", "got nan"]),
    "detection area's bounds with west and east swapped": (
        '[activity.inputs.s2]\nkind = "scenes"\npath = "scenes"\nbounds = [-10.3, 6.9, -13.3, 10.0]\n',
        ["activity.inputs.s2.bounds", "[-10.3, 6.9, -13.3, 10.0] is not [west, south, east, north]"]),
    "detection area's bounds in metres": (
        '[activity.inputs.s2]\nkind = "scenes"\npath = "scenes"\nbounds = [400000, 800000, 500000, 900000]\n',
        ["activity.inputs.s2.bounds", "in degrees"]),
    "SCL class that does not exist": ('[detector]\nvalid_scl = [4, 5, 42]\n',
                                      ["detector.valid_scl.2", "less than or equal to 11", "(got 42)"]),
    "inf risk weight": ('[analysis.risk]\nborder = inf\n', ["analysis.risk.border", "got inf"]),
    # numbers that make no sense at zero or below
    "zero grid resolution": ('[raster]\nresolution_m = 0\n', ["raster.resolution_m", "greater than 0", "(got 0)"]),
    "negative grid resolution": ('[raster]\nresolution_m = -100.0\n', ["raster.resolution_m", "(got -100.0)"]),
    "zero scene resolution": ('[detector]\nresolution_m = 0.0\n', ["detector.resolution_m", "greater than 0"]),
    "zero batch size": ('[ingest]\nbatch_size = 0\n', ["ingest.batch_size", "greater than 0", "(got 0)"]),
    "tiny chunk size": ('[raster]\nchunk_size = 8\n', ["raster.chunk_size", "greater than or equal to 64"]),
    "negative site area": ('[sites]\nmin_area_ha = -2.0\n', ["sites.min_area_ha", "(got -2.0)"]),
    "zero border zone": ('[analysis]\nborder_zone_km = 0\n', ["analysis.border_zone_km", "greater than 0"]),
    "activity threshold above 100 %": ('[raster]\nactivity_threshold = 150\n',
                                       ["raster.activity_threshold", "less than or equal to 100", "(got 150)"]),
    "water index threshold outside [-1, 1]": ('[detector]\nmndwi_water = 5.0\n',
                                              ["detector.mndwi_water", "less than or equal to 1", "(got 5.0)"]),
    "zero scale of a probability raster": ('[activity.inputs.p]\nkind = "probability"\npath = "p.tif"\nscale = 0\n',
                                           ["activity.inputs.p.scale", "greater than 0"]),
    "keep no run at all": ('[store]\nkeep_last = 0\n', ["store.keep_last", "greater than or equal to 1"]),
    # CRS strings
    "analysis CRS that does not parse": ('[crs]\nanalysis = "EPSG:nope"\n',
                                         ["crs.analysis", "'EPSG:nope' is not a CRS", "'EPSG:32629'"]),
    "geographic analysis CRS": ('[crs]\nanalysis = "EPSG:4326"\n', ["crs.analysis", "geographic", "projected"]),
    "source CRS that does not parse": ('[sources.civ]\ncrs = "UTM 30"\n', ["sources.civ.crs", "'UTM 30'"]),
    "activity input CRS that does not parse": (
        '[activity.inputs.d]\nkind = "detections"\npath = "d.csv"\ncrs = "+proj=nowhere"\n',
        ["activity.inputs.d.crs", "'+proj=nowhere'"]),
    # CSV settings
    "decimal comma with a comma delimiter": (
        '[sources.civ.csv]\ndelimiter = ","\ndecimal = ","\n',
        ["sources.civ.csv", "decimal and delimiter are both ','", 'delimiter = ";"']),
    "unknown decimal separator": ('[sources.civ.csv]\ndecimal = "_"\n', ["sources.civ.csv.decimal", "'.'", "','"]),
    "two-character delimiter": ('[sources.civ.csv]\ndelimiter = ";;"\n', ["sources.civ.csv.delimiter", "';;'"]),
    # shapes and types
    "sources given as text": ('sources = "sle.shp"\n', ["sources", "valid dictionary", "(got 'sle.shp')"]),
    "activity given as a list": ("activity = [1, 2]\n", ["activity", "valid dictionary"]),
    "text where a number goes": ('[raster]\nresolution_m = "ten"\n', ["raster.resolution_m", "(got 'ten')"]),
    "unknown key": ('[sources.sle]\nencodng = "cp1252"\n', ["sources.sle", "unknown key 'encodng'", "encoding"]),
}


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "a_file").write_text("not a folder", encoding="utf-8")
    return tmp_path


@pytest.mark.unit
@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_value_is_refused_at_load_naming_key_value_and_fix(case, folder):
    text, words = BAD[case]
    path = write_config(folder, text)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert message.startswith(f"{path}: the configuration is not valid.")
    assert_no_traceback(message)
    assert not any(mark in message for mark in PYDANTIC_DUMP), message
    flat = " ".join(message.split())
    for word in words:
        assert word in flat, f"{word!r} not in: {message}"


UNREADABLE = {
    "a folder given as the configuration": (lambda p: p / "configs", ["is a folder, not a configuration file"]),
    "a configuration that is not UTF-8": (
        lambda p: (p / "c.toml").write_bytes('[project]\nname = "Région"\n'.encode("cp1252")) and p / "c.toml",
        ["is not UTF-8 text", "Save it again as UTF-8"]),
    "TOML with a syntax error": (lambda p: write_config(p, "[paths\nstore = 1\n"), ["not valid TOML", "line 1"]),
    "a configuration that does not exist": (lambda p: p / "missing.toml", ["configuration file not found"]),
}


@pytest.mark.unit
@pytest.mark.parametrize("case", UNREADABLE, ids=list(UNREADABLE))
def test_unreadable_configuration_file_is_explained(case, tmp_path):
    make, words = UNREADABLE[case]
    (tmp_path / "configs").mkdir()
    path = make(tmp_path)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert message.startswith(str(path)) and all(word in message for word in words), message


@pytest.mark.unit
def test_default_configuration_still_loads_with_every_check():
    settings = load_settings()
    assert settings.sources["sle"].encoding == "UTF-8"
    assert settings.sources["civ"].csv.decimal == "."


# --- through the real command: one line of the project's error, exit 2 ------------------------------------

CLI = {
    "unknown encoding": ('[sources.sle]\nencoding = "latin-9x"\n',
                         ["sources.sle.encoding", "unknown text encoding 'latin-9x'"]),
    "bad date directive": ('[sources.sle]\ndate_formats = ["%Q"]\n', ["sources.sle.date_formats", "'%Q'"]),
    "store path that is a file": ('[paths]\nstore = "a_file"\n', ["paths.store", "is a file, not a folder"]),
    "overlapping periods": (_periods(("H1", "2025-01-01", "2025-06-30"), ("H2", "2025-06-30", "2025-12-31")),
                            ["'H1'", "'H2'", "overlap"]),
    "nan in a threshold": ('[sites]\nmin_area_ha = nan\n', ["sites.min_area_ha", "got nan"]),
    "CRS that does not parse": ('[crs]\nanalysis = "WGS 84 please"\n', ["crs.analysis", "'WGS 84 please'"]),
}


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("case", CLI, ids=list(CLI))
def test_command_refuses_a_bad_configuration_in_plain_words(case, folder):
    text, words = CLI[case]
    path = write_config(folder, text)
    result = mrumonitor("ingest", "--config", str(path), "--source", "sle", cwd=folder)
    output = assert_refused(result, *words)
    assert not any(mark in output for mark in PYDANTIC_DUMP), output


@pytest.mark.slow
@pytest.mark.integration
def test_missing_source_file_is_named_with_its_key(folder):
    path = write_config(folder, '[paths]\nwork = "work"\n[sources.sle]\nfile = "exports/sle_2026.zip"\n')
    result = mrumonitor("ingest", "--config", str(path), "--source", "sle", cwd=folder)
    assert_refused(result, "exports/sle_2026.zip", "file not found", "sources.sle.file")
    assert_no_traceback(result.stdout, result.stderr)
