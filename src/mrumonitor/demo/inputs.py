"""Write the demo inputs: four synthetic national cadastres around the real detections, plus ground truth.

`write_demo_inputs(workdir)` writes, under ``workdir/inputs/``:

- ``cadastre/``: one file per source of configs/default.toml, in that source's format, CRS, field names,
  national terms and date formats (see `cadastres.STYLES` and the ``[sources.*]`` blocks), exported on its
  `cadastres.SNAPSHOTS` day; and an older export of some of them (`cadastres.OLDER_SNAPSHOTS`: licence history),
  read as sources of their own (``<source>_<year>``) of the same country;
- ``ground_truth/records.csv``: per record of every file, the ingest outcome it must get;
- ``ground_truth/detections.csv``: per real detection, its country, commodity, planted licence and the
  registration it must get on the survey date;
- ``README.md``: what is synthetic, what is real, and the attribution of the detections.

`demo_config_text` gives the TOML of a config that points the pipeline at these files.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from mrumonitor.config import Settings, SourceSettings, load_settings
from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.demo.cadastres import (
    CATEGORY_REGISTRATION,
    GRANTED_BETWEEN,
    OLDER_SNAPSHOTS,
    SNAPSHOTS,
    STYLES,
    NationalStyle,
    country_core,
    grant_between_snapshots,
    older_records,
    plant_licences,
    render_records,
)
from mrumonitor.demo.detections import SURVEY_DATE, consistent_outlines, prepare_detections, raw_outlines
from mrumonitor.demo.flaws import NATIONAL_FLAWS, FlawContext, interleave, plant_flaws
from mrumonitor.resources import project_root

#: Background licences set aside per country to carry the planted flaws.
FLAW_BASES = 40

#: Name of the demo configuration file in the working folder.
CONFIG_NAME = "mrumonitor.toml"

_ZIP_TIME = (2026, 6, 24, 0, 0, 0)  # fixed member timestamp: same seed, same zip bytes
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@dataclass(frozen=True)
class OlderSnapshot:
    """An older export of a demo cadastre: read as a source of its own, of the same country and schema."""

    source: str  # the source of default.toml it is an older export of
    settings: SourceSettings  # that source's settings (format, fields, terms)
    day: dt.date
    file: Path


@dataclass(frozen=True)
class DemoInputs:
    """The files `write_demo_inputs` wrote."""

    workdir: Path
    cadastres: dict[str, Path]  # source name of default.toml -> cadastre file
    records_truth: Path
    detections_truth: Path
    readme: Path
    older: dict[str, OlderSnapshot]  # source name in the demo config -> an older export

    @property
    def config_file(self) -> Path:
        """Where the demo configuration (`demo_config_text`) belongs."""
        return self.workdir / CONFIG_NAME


def write_demo_inputs(workdir: Path, seed: int = 2026) -> DemoInputs:
    """Generate the synthetic cadastres and the ground truth under ``workdir/inputs`` (same seed, same files)."""
    workdir = Path(workdir)
    settings = load_settings()
    crs = settings.analysis_crs
    outline_sets = [o for o in (raw_outlines(crs), consistent_outlines(crs)) if o is not None]
    detections = prepare_detections(crs, outline_sets[-1])
    tree = shapely.STRtree(detections.geometry.to_numpy())
    placed: list[BaseGeometry] = []
    cadastres, truths, planted, older = {}, [], [], {}
    for index, name in enumerate(STYLES):
        source = settings.sources[name]
        rng = np.random.default_rng([seed, index])
        core = country_core(source.country, outline_sets)
        licences = plant_licences(detections, source.country, core, placed, rng, STYLES[name].background + FLAW_BASES)
        if name in GRANTED_BETWEEN:
            licences = grant_between_snapshots(licences, GRANTED_BETWEEN[name])
        context = FlawContext(
            style=STYLES[name],
            source=source,
            flaws=NATIONAL_FLAWS[name],
            outline=outline_sets[-1][source.country],
            detections=tree,
            analysis_crs=crs,
            rng=rng,
        )
        ordered, clean, records = _source_records(licences, context)
        cadastres[name] = workdir / "inputs" / "cadastre" / source.file.name
        cadastres[name].parent.mkdir(parents=True, exist_ok=True)
        _WRITERS[source.format](ordered, STYLES[name], source, cadastres[name])
        truths.append(_records_truth(name, ordered))
        planted.append(clean)
        if name in OLDER_SNAPSHOTS:
            day = OLDER_SNAPSHOTS[name]
            export = OlderSnapshot(name, source, day, cadastres[name].with_stem(f"{cadastres[name].stem}_{day}"))
            rows = older_records(records, licences.iloc[:-FLAW_BASES], source, day, rng)
            _WRITERS[source.format](rows, STYLES[name], source, export.file)
            older[f"{name}_{day.year}"] = export
            truths.append(_records_truth(f"{name}_{day.year}", rows))
    truth_dir = workdir / "inputs" / "ground_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    records_truth, detections_truth = truth_dir / "records.csv", truth_dir / "detections.csv"
    pd.concat(truths).to_csv(records_truth, index=False, lineterminator="\n")
    _detections_truth(detections, pd.concat(planted)).to_csv(detections_truth, index=False, lineterminator="\n")
    readme = workdir / "inputs" / "README.md"
    readme.write_text(_readme_text(settings, older), encoding="utf-8")
    return DemoInputs(workdir, cadastres, records_truth, detections_truth, readme, older)


def _source_records(licences: gpd.GeoDataFrame, context: FlawContext
                    ) -> tuple[pd.DataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """The records of one file in file order, its clean licences (analysis CRS) with their numbers, and their
    clean records (rendered row for row, before the flaws are interleaved).

    The last FLAW_BASES licences of `licences` (background ones) carry the flaws and are not written clean.
    """
    style, source, rng = context.style, context.source, context.rng
    clean, bases = licences.iloc[:-FLAW_BASES], licences.iloc[-FLAW_BASES:]
    records = render_records(clean, style, source, 1, rng)
    flawed = plant_flaws(records, render_records(bases, style, source, len(clean) + 1, rng), context)
    numbered = clean[["category", "geometry"]].assign(licence_id=records["licence_id"].to_numpy())
    return interleave(records, flawed, rng), numbered, records


def _records_truth(source: str, ordered: pd.DataFrame) -> pd.DataFrame:
    """One ground-truth row per record of a file, in file order (source_row 1 = first record)."""
    return pd.DataFrame(
        {
            "source": source,
            "source_row": np.arange(1, len(ordered) + 1),
            "licence_id": ordered["licence_id"].fillna(""),
            "expected": ordered["expected"],
            "category": ordered["category"],
            "detail": ordered["detail"],
        }
    )


def _detections_truth(detections: gpd.GeoDataFrame, licences: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per detection: country, commodity, the clean licence holding it (if any) and its registration."""
    det_index, lic_index = shapely.STRtree(licences.geometry.to_numpy()).query(
        detections.geometry.to_numpy(), predicate="within"
    )
    if len(np.unique(det_index)) != len(det_index):
        raise RuntimeError("a detection lies in two planted licences; the planting clearance is broken")
    licence_id = np.full(len(detections), "", dtype=object)
    category = np.full(len(detections), "none", dtype=object)
    licence_id[det_index] = licences["licence_id"].to_numpy()[lic_index]
    category[det_index] = licences["category"].to_numpy()[lic_index]
    return pd.DataFrame(
        {
            "det_id": detections["det_id"],
            "lon": detections["lon"],
            "lat": detections["lat"],
            "area_ha": detections["area_ha"],
            "country": detections["country"],
            "commodity": detections["commodity"],
            "licence_id": licence_id,
            "category": category,
            "expected_registration": pd.Series(category).map(CATEGORY_REGISTRATION).to_numpy(),
        }
    )


# --- writers: one per source format -------------------------------------------------------------------------


def _attributes(records: pd.DataFrame, style: NationalStyle, source: SourceSettings) -> pd.DataFrame:
    """The attribute columns under the file's own field names (from the source's [fields] table)."""
    names = {canonical: field for canonical, field in source.fields.model_dump().items() if field}
    names["remarks"] = style.remarks_field
    return records[list(names)].rename(columns=names)


def _write_shapefile_zip(records: pd.DataFrame, style: NationalStyle, source: SourceSettings, path: Path) -> None:
    """A zipped ESRI Shapefile with a UTF-8 .cpg; members in a fixed order with a fixed timestamp."""
    frame = gpd.GeoDataFrame(
        _attributes(records, style, source).fillna(""), geometry=records["geometry"].to_numpy(), crs=style.crs
    )
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{path.stem}.shp"
        pyogrio.write_dataframe(frame, shp, encoding="UTF-8", geometry_type="Polygon")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for suffix in _SHAPEFILE_PARTS:
                member = zipfile.ZipInfo(shp.with_suffix(suffix).name, date_time=_ZIP_TIME)
                member.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(member, shp.with_suffix(suffix).read_bytes())


def _write_geojson(records: pd.DataFrame, style: NationalStyle, source: SourceSettings, path: Path) -> None:
    """A GeoJSON FeatureCollection with the legacy (pre-RFC 7946) "crs" member naming the national CRS."""
    epsg = style.crs.split(":")[1]
    attributes = _attributes(records, style, source).astype(object).where(lambda f: f.notna(), None)
    features = [
        {"type": "Feature", "properties": properties, "geometry": None if geometry is None else mapping(geometry)}
        for properties, geometry in zip(attributes.to_dict("records"), records["geometry"], strict=True)
    ]
    collection = {
        "type": "FeatureCollection",
        "name": path.stem,
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}},
        "features": features,
    }
    path.write_text(json.dumps(collection, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_gpkg(records: pd.DataFrame, style: NationalStyle, source: SourceSettings, path: Path) -> None:
    """A GeoPackage layer with real DATE columns (mixed geometry types allowed, as flaws need)."""
    attributes = _attributes(records, style, source)
    for canonical in ("granted", "expires"):
        field = getattr(source.fields, canonical)
        attributes[field] = pd.array(list(attributes[field]), dtype=pd.ArrowDtype(pa.date32()))
    frame = gpd.GeoDataFrame(attributes, geometry=records["geometry"].to_numpy(), crs=style.crs)
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(frame, path, layer=source.layer, driver="GPKG", geometry_type="Unknown", use_arrow=True)


def _write_csv(records: pd.DataFrame, style: NationalStyle, source: SourceSettings, path: Path) -> None:
    """A delimited UTF-8 CSV with the geometry as WKT (no CRS: the config supplies it)."""
    frame = _attributes(records, style, source).fillna("")
    frame[source.csv.wkt] = [_wkt(geometry) for geometry in records["geometry"]]
    frame.to_csv(
        path, sep=source.csv.delimiter, index=False, encoding="utf-8", lineterminator="\n", quoting=csv.QUOTE_MINIMAL
    )


def _wkt(geometry) -> str:
    """WKT of a geometry; garbled text planted as a flaw passes through, a missing geometry is empty."""
    if geometry is None or isinstance(geometry, str):
        return geometry or ""
    return shapely.to_wkt(geometry, rounding_precision=-1)


_WRITERS = {"shapefile": _write_shapefile_zip, "geojson": _write_geojson, "gpkg": _write_gpkg, "csv": _write_csv}


# --- README and configuration ------------------------------------------------------------------------------

_FORMAT_NAMES = {
    "shapefile": "zipped ESRI Shapefile",
    "geojson": "GeoJSON with a legacy crs member",
    "gpkg": "GeoPackage",
    "csv": "semicolon-separated CSV with a WKT column (CRS given by the config)",
}


def _readme_text(settings: Settings, older: dict[str, OlderSnapshot]) -> str:
    """What the demo inputs are: synthetic cadastres, real detections, and the ground truth."""
    files = "\n".join(
        f"- `cadastre/{source.file.name}`: {source.country}, {_FORMAT_NAMES[source.format]}, {STYLES[name].crs}, "
        f"exported on {SNAPSHOTS[name]}"
        for name, source in settings.sources.items()
        if name in STYLES
    )
    files += "".join(
        f"\n- `cadastre/{export.file.name}`: the same {export.settings.country} cadastre as exported on {export.day} "
        f"(source `{name}`: licence history); it lacks the licences granted since and shows the licences "
        "suspended since as active" for name, export in older.items())
    return f"""# Demo inputs (generated by mrumonitor.demo)

## The cadastres are SYNTHETIC
Every licence, licence number and holder in `cadastre/` is fictitious: generated by a seeded random
process and placed around real mining detections so that the pipeline has something to match. They are
not the national cadastres of Sierra Leone, Guinea, Liberia or Côte d'Ivoire, and no holder is a real
company or cooperative. Every record says "SYNTHETIC DEMO DATA" in its remarks/observation column.

{files}

Each file follows its `[sources.*]` block of configs/default.toml: format, CRS, field names, national
terms and date formats. Some records carry deliberate flaws (self-intersecting polygons, missing or
non-polygon geometries, swapped coordinates, a wrong CRS, unknown terms, bad dates, duplicate and
conflicting licence numbers) to exercise the ingest's quarantine.

## The detections are REAL
{DETECTIONS_CREDIT}
A detection is a ground scar that a model flagged in the survey of {SURVEY_DATE.isoformat()}, not a
verified mining site.

## Ground truth (`ground_truth/`)
- `records.csv`: one row per record of every cadastre file. `source` (the source name in the config),
  `source_row` (1 = first feature, or first data line of the CSV), `licence_id` as written, `expected`
  (accepted, repaired, or the quarantine reason code), `category` (the planting category of the
  licence, "background", or the flaw) and `detail`.
- `detections.csv`: one row per detection. `country` (ISO3, empty outside the four countries),
  `commodity` (diamond near a known diamond field, gold elsewhere), `licence_id` and `category` of the
  licence it was planted in (empty / none), and `expected_registration` on {SURVEY_DATE.isoformat()}.
"""


def demo_config_text(inputs: DemoInputs) -> str:
    """The TOML of the demo configuration (``workdir/mrumonitor.toml``) for the files in `inputs`."""
    reference = project_root() / "layers" / "reference"
    sources = "\n".join(
        f"[sources.{name}]\n# Synthetic {name.upper()} cadastre written by mrumonitor.demo, as exported on "
        f"{SNAPSHOTS[name]}.\nfile = {_toml_string(path.relative_to(inputs.workdir).as_posix())}\n"
        f"snapshot = {SNAPSHOTS[name]}\n"
        for name, path in inputs.cadastres.items()
    )
    sources += "".join(_older_source_block(name, export, inputs.workdir) for name, export in inputs.older.items())
    return f"""# mrumonitor demo configuration, written by mrumonitor.demo. It is merged on top of
# configs/default.toml and overrides only the paths and the file of each source. Relative paths are
# relative to the folder of this file.

[paths]
# The committed reference layers of the installed project (country outlines, border posts).
reference = {_toml_string(reference.as_posix())}
# The layer store of the demo: published runs go under layers/runs/<run_id>/.
store = "layers"
# Scratch space for stage outputs before publishing.
work = "work"

{sources}"""


def _older_source_block(name: str, export: OlderSnapshot, workdir: Path) -> str:
    """The ``[sources.<name>]`` block of an older export: every key of its source, with its own file and day."""
    keys = export.settings.model_dump(mode="json", exclude_none=True, exclude={"file", "snapshot"})
    lines = [f"{key} = {_toml_value(value)}" for key, value in keys.items()]
    return (f"\n[sources.{name}]\n# The synthetic {export.source.upper()} cadastre as exported on {export.day} (an "
            f"older snapshot: licence history), written by mrumonitor.demo.\n"
            f"file = {_toml_string(export.file.relative_to(workdir).as_posix())}\nsnapshot = {export.day}\n"
            + "\n".join(lines) + "\n")


def _toml_value(value) -> str:
    """A TOML value for a JSON-like one: strings, numbers, lists and (inline) tables."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_string(key)} = {_toml_value(item)}" for key, item in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, str):
        return _toml_string(value)
    return json.dumps(value)


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)
