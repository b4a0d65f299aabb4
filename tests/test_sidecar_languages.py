"""An export's metadata sidecar describes every column in English and French, by its canonical name: the file
keeps its column names (read back with GDAL), the descriptions come from the column catalogue."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from mrumonitor import schema
from mrumonitor.export import export_layer
from mrumonitor.i18n import LANGUAGES
from mrumonitor.runfolder import RunFolder
from mrumonitor.store.columns import column_descriptions

pytestmark = pytest.mark.integration

RUN_ID = "20260301T120000Z-5e1b"
#: The sites layer as the analysis publishes it: every column of the schema.
SITES_COLUMNS = {**schema.SITE_COLUMNS, **schema.SITE_LINEAGE_COLUMNS, **schema.SITE_ANALYSIS_COLUMNS}
#: Every canonical column table of the schema module, by its name there.
SCHEMAS = {name: value for name, value in vars(schema).items() if name.endswith("_COLUMNS") and isinstance(value, dict)}


def canonical_frame(columns: dict[str, str], rows: int = 3) -> pd.DataFrame:
    """`rows` rows of plausible values for each column, in the schema's dtypes."""
    values = {"string": ["SLE-0001", "Guéckédou", ""], "float64": [1.5, 20.25, 0.0], "int64": [1, 2, 3],
              "bool": [True, False, True], "boolean": [True, False, None]}
    frame = pd.DataFrame({column: values.get(dtype, pd.to_datetime(["2025-07-01", "2025-12-31", "2026-06-30"]))
                          for column, dtype in columns.items()})
    return frame.astype({column: dtype for column, dtype in columns.items() if dtype in values})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A published run holding a vector layer (sites) and a table (registration_summary), and its manifest."""
    run_dir = tmp_path_factory.mktemp("store") / "runs" / RUN_ID
    run_dir.mkdir(parents=True)
    folder = RunFolder(run_dir)
    squares = shapely.box(np.arange(3) * 5_000.0, 0, np.arange(3) * 5_000.0 + 1_000, 1_000)
    gpd.GeoDataFrame(canonical_frame(SITES_COLUMNS), geometry=squares, crs="EPSG:32629").to_parquet(
        folder.layer("sites"))
    canonical_frame(schema.REGISTRATION_SUMMARY_COLUMNS).to_parquet(folder.layer("registration_summary"))
    layers = {"sites": {"path": "sites.parquet", "kind": "vector", "title": "Mining sites"},
              "registration_summary": {"path": "registration_summary.parquet", "kind": "table",
                                       "title": "Registration summary"}}
    manifest = {"run_id": RUN_ID, "created": "2026-03-01T12:00:00Z", "caveats": [], "layers": layers}
    folder.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    return run_dir, manifest


def assert_described(columns: dict[str, dict[str, str]]) -> None:
    """Each column has a description in every language, the French its own."""
    for column, description in columns.items():
        assert set(description) == set(LANGUAGES), column
        assert all(description.values()), column
        assert description["fr"] != description["en"], column


@pytest.mark.parametrize(("layer", "fmt", "suffix"), [
    ("sites", "gpkg", ".gpkg"), ("sites", "geojson", ".geojson"), ("sites", "csv", ".csv"),
    ("registration_summary", "gpkg", ".gpkg"), ("registration_summary", "csv", ".csv"),
])
def test_the_sidecar_describes_every_column_of_the_file_in_english_and_french(run, tmp_path, layer, fmt, suffix):
    run_dir, manifest = run
    result = export_layer(run_dir, manifest, layer, fmt, tmp_path / f"{layer}{suffix}")
    sidecar = json.loads(result.sidecar.read_text(encoding="utf-8"))
    fields = list(pyogrio.read_info(result.file, layer=layer)["fields"])  # the columns as GDAL reads them
    assert list(sidecar["columns"]) == fields  # canonical names, in the file's order, none missing
    assert_described(sidecar["columns"])
    assert sidecar["columns"]["country"]["fr"].startswith("Le pays, en code ISO 3166-1 alpha-3")
    if fmt == "csv" and layer == "sites":
        assert fields[-3:] == ["lon", "lat", "wkt"]  # the CSV's own columns are described too


def test_a_shapefile_sidecar_describes_the_canonical_columns_its_fields_map(run, tmp_path):
    run_dir, manifest = run
    result = export_layer(run_dir, manifest, "sites", "shp", tmp_path / "sites.zip")
    mapped = [field["column"] for field in result.metadata["shapefile_fields"]]
    assert list(result.metadata["columns"]) == mapped
    assert "nearest_post_name" in mapped  # a name longer than a Shapefile field keeps its canonical name
    assert_described(result.metadata["columns"])


@pytest.mark.parametrize("table", sorted(SCHEMAS))
def test_every_canonical_column_has_a_description_in_every_language(table):
    layer = table.removesuffix("_COLUMNS").lower()
    assert_described(column_descriptions(layer, SCHEMAS[table]))


def test_a_column_the_catalogue_does_not_know_is_described_as_empty():
    assert column_descriptions("notes", ["my_own_column"]) == {"my_own_column": {"en": "", "fr": ""}}
