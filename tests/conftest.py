"""Shared test builders: small hand-made licences, files in every format, and settings pointing at them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from mrumonitor.config import Settings, load_settings

#: A hand-made "Sierra Leone": a lon/lat box standing in for the outline in ingest tests.
SLE_BOX = (-13.3, 6.9, -10.3, 10.0)


def sle_licences(n: int = 3) -> gpd.GeoDataFrame:
    """`n` flawless Sierra Leone licences in the NMA schema of default.toml, WGS84, 10 x 10 km apart."""
    rows = []
    for i in range(n):
        lon, lat = -12.0 + 0.1 * (i % 10), 8.0 + 0.1 * (i // 10)
        rows.append({
            "LICENCE_NO": f"SL-AML-{i + 1:04d}",
            "HOLDER": "Coopérative de Guéckédou" if i == 0 else f"Holder {i}",
            "LIC_TYPE": "Artisanal Mining Licence",
            "MINERAL": "Diamonds",
            "STATUS": "Active",
            "GRANTED": "15/01/2024",
            "EXPIRES": "14/01/2027",
            "geometry": shapely.box(lon, lat, lon + 0.02, lat + 0.02),
        })
    return gpd.GeoDataFrame(rows, crs=4326)


def write_zipped_shapefile(frame: gpd.GeoDataFrame, path: Path, with_cpg: bool = True) -> Path:
    """Write `frame` as a Shapefile and zip its parts into `path`."""
    folder = path.parent / (path.stem + "_parts")
    folder.mkdir(parents=True, exist_ok=True)
    shp = folder / (path.stem + ".shp")
    frame.to_file(shp, encoding="UTF-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(folder.iterdir()):
            if with_cpg or part.suffix != ".cpg":
                archive.write(part, part.name)
    return path


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mrumonitor.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def sle_settings(tmp_path):
    """Settings whose only source is `sources.sle`, pointing at a file name the test then writes."""

    def build(file: str, **overrides: str) -> Settings:
        extra = "".join(f"{key} = {value}\n" for key, value in overrides.items())
        path = write_config(tmp_path, f'[paths]\nwork = "work"\nstore = "layers"\n'
                                      f'[sources.sle]\nfile = "{file}"\n{extra}')
        settings = load_settings(path)
        return settings.model_copy(update={"sources": {"sle": settings.sources["sle"]}})

    return build


@pytest.fixture(scope="session")
def outlines() -> dict[str, shapely.Geometry]:
    """Hand-made country outlines in the analysis CRS (only SLE, as a box)."""
    crs = load_settings().analysis_crs
    return {"SLE": gpd.GeoSeries([shapely.box(*SLE_BOX)], crs=4326).to_crs(crs).iloc[0]}
