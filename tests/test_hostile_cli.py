"""Hostile and careless command lines: every one gets a plain message and an exit status, never a traceback.

Each case runs the real `mrumonitor` console command in its own process on a tiny published run.
"""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from conftest import write_config, write_dashboard_run
from hostile import assert_no_traceback, assert_refused, mrumonitor

pytestmark = [pytest.mark.hostile, pytest.mark.integration]


@pytest.fixture(scope="module")
def store_folder(tmp_path_factory):
    """A folder with a config file and a store holding the tiny published run."""
    folder = tmp_path_factory.mktemp("cli")
    write_dashboard_run(folder / "layers")
    write_config(folder, f'[paths]\nstore = "{folder / "layers"}"\nwork = "{folder / "work"}"\n')
    (folder / "a_file").write_text("not a folder", encoding="utf-8")
    return folder


def _args(folder, *args: str) -> list[str]:
    return [arg.replace("{folder}", str(folder)) for arg in args] + ["--config", str(folder / "mrumonitor.toml")]


@pytest.mark.slow
@pytest.mark.parametrize("args, words", [
    (("export", "no_such_layer", "-o", "x.gpkg"), ["has no layer 'no_such_layer'", "sites"]),
    (("export", "sites", "--country", "XXX", "-o", "x.gpkg"), ["no country outline for 'XXX'", "SLE"]),
    (("export", "sites", "--country", "", "-o", "x.gpkg"), ["--country", "it is empty", "leave --country out"]),
    (("export", "sites", "--format", "docx", "-o", "x.docx"), ["unknown export format 'docx'", "gpkg"]),
    (("export", "sites", "--run", "no-such-run", "-o", "x.gpkg"), ["no run 'no-such-run'", "or say latest"]),
    (("export", "sites", "--run", "../../etc", "-o", "x.gpkg"), ["no run '../../etc'"]),
    (("export", "sites", "--run", "", "-o", "x.gpkg"), ["no run ''"]),
    (("export", "capacity", "--format", "cog", "-o", "x.tif"), ["is a table layer", "not cog"]),
    (("export", "activity_2025H2", "-o", "x.gpkg"), ["is a raster layer", "cog"]),
    (("export", "sites", "-o", "out.weird"), ["cannot tell the export format", "--format"]),
    (("runs", "show", "no-such-run"), ["no run 'no-such-run'"]),
    (("runs", "show", "../.."), ["no run '../..'"]),
    (("run", "--countries", "XXX"), ["XXX is not a country of this project", "SLE, GIN, LBR, CIV"]),
    (("ingest", "--source", "no_such_source"), ["unknown source no_such_source", "sle, gin, lbr, civ"]),
    (("analyse",), ["no concessions layer", "mrumonitor ingest"]),
    (("serve", "--workers", "0"), ["--workers", "not in the range"]),
    (("serve", "--port", "abc"), ["--port", "not a valid integer"]),
    (("ingest", "--out", "{folder}/a_file"), ["--out", "is a file"]),
], ids=lambda value: " ".join(value) if isinstance(value, tuple) else None)
def test_bad_arguments_are_refused_plainly(store_folder, args, words):
    assert_refused(mrumonitor(*_args(store_folder, *args), cwd=store_folder), *words)


@pytest.mark.slow
@pytest.mark.parametrize("args, words", [
    (("frobnicate",), ["No such command 'frobnicate'"]),
    (("demo", "--port", "70000", "--no-serve"), ["--port", "70000 is not in the range"]),
    (("demo", "--seed", "abc", "--no-serve"), ["--seed", "not a valid integer"]),
    (("runs", "show", "--config", "/no/such/file.toml"), ["configuration file not found"]),
    (("runs", "show", "--config", "/"), ["--config", "is a directory"]),
])
def test_bad_commands_and_options_are_refused_plainly(tmp_path, args, words):
    assert_refused(mrumonitor(*args, cwd=tmp_path), *words)


@pytest.mark.slow
def test_a_config_that_is_not_text_is_named(tmp_path):
    config = tmp_path / "binary.toml"
    config.write_bytes(b"\xff\xfe[paths\x00")
    assert_refused(mrumonitor("runs", "list", "--config", str(config), cwd=tmp_path),
                   str(config), "is not UTF-8 text", "Save it again as UTF-8")


@pytest.mark.slow
def test_runs_show_takes_a_manifest_with_missing_keys(store_folder):
    """A run of an older version (no software, inputs, timings): shown with "-", not a failure."""
    result = mrumonitor(*_args(store_folder, "runs", "show"), cwd=store_folder)
    assert_no_traceback(result.stdout, result.stderr)
    assert result.returncode == 0, result.stderr
    assert "mrumonitor -" in result.stdout and "activity_2025H2" in result.stdout


@pytest.mark.slow
def test_runs_show_prints_the_run_warnings(tmp_path):
    run_dir = write_dashboard_run(tmp_path / "layers")
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["warnings"] = [{"stage": "detect", "subject": "inputs/model/activity_2025H2.tif",
                             "message": "values reach 255 where 0-1 was declared"}]
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    config = write_config(tmp_path, f'[paths]\nstore = "{tmp_path / "layers"}"\n')
    result = mrumonitor("runs", "show", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    assert "Warnings (1)" in flat
    assert "[detect] inputs/model/activity_2025H2.tif: values reach 255 where 0-1 was declared" in flat


def test_an_unforeseen_failure_is_a_plain_message_and_a_log_file(tmp_path, monkeypatch, capsys):
    """The net under every check: a failure nobody foresaw shows no traceback; the traceback goes to a file."""
    from mrumonitor import cli

    def broken(*_args, **_kwargs):
        raise ValueError("an impossible value")

    monkeypatch.setattr(cli, "load_settings", broken)
    monkeypatch.setenv("MRUMONITOR_CRASH_LOG", str(tmp_path / "errors.log"))
    monkeypatch.setattr(sys, "argv", ["mrumonitor", "runs", "list"])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    shown = capsys.readouterr()
    assert stopped.value.code == 3
    assert_no_traceback(shown.out, shown.err)
    flat = " ".join(shown.err.split())
    assert "ValueError: an impossible value" in flat and str(tmp_path / "errors.log") in flat
    assert "last published run is intact" in flat
    logged = (tmp_path / "errors.log").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in logged and "an impossible value" in logged


@pytest.mark.slow
def test_a_store_path_that_is_a_file_is_named(store_folder, tmp_path):
    shutil.copy(store_folder / "a_file", tmp_path / "layers")
    config = write_config(tmp_path, f'[paths]\nstore = "{tmp_path / "layers"}"\n')
    result = mrumonitor("runs", "list", "--config", str(config), cwd=tmp_path)
    assert_refused(result, str(tmp_path / "layers"))
