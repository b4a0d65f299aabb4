"""Field sheets of a sample: what a field team takes to the sites, in the formats its devices and printers take.

`write_field_sheets` writes, for a `SampleDesign` ``S...``, into one folder:

- ``S....gpx``: GPS waypoints (GDAL's GPX driver): name = site id, desc = stratum, area, licence on record,
  nearest town and crossing; cmt = the sample and the site's draw; a GPS unit or a phone app opens it;
- ``S....kml``: the same points as placemarks (Name, Description) for Google Earth, Maps.me, OsmAnd;
- ``S....geojson`` (RFC 7946) and ``S....csv``: every column of the drawn units (`design.UNIT_COLUMNS`);
- ``S....html``: a printable list (A4, print CSS, no external resource): a header with the sample, run, period,
  allocation rule and number of sites; one table per stratum in draw order with coordinates in decimal degrees
  and degrees-minutes-seconds and empty boxes for the date, outcome and notes; a footer with the caveats of the
  run and the credits.

Each file is written aside and moved into place (`layerio.written_aside`): a failure never leaves half a file.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from markupsafe import Markup

from mrumonitor.credits import DETECTIONS_CREDIT
from mrumonitor.errors import VerificationError
from mrumonitor.layerio.writing import written_aside
from mrumonitor.reference.places import PLACES_CREDIT
from mrumonitor.schema import VISIT_OUTCOMES
from mrumonitor.verification.design import SampleDesign

#: The files written, by key of `write_field_sheets`'s answer: their suffixes.
SHEET_FORMATS = ("gpx", "kml", "geojson", "csv", "html")
#: The waypoint symbol of the GPX (a Garmin name most devices know).
WAYPOINT_SYMBOL = "Flag, Blue"

_WGS84 = "EPSG:4326"


def write_field_sheets(design: SampleDesign, out_dir: Path, caveats: list[str]) -> dict[str, Path]:
    """Write the field sheets of `design` into `out_dir` (one file per `SHEET_FORMATS`, named by sample id).

    Parameters
    ----------
    design : SampleDesign
        The sample drawn (`verification.sampling.draw_sample`).
    out_dir : Path
        The folder to write into (created when missing).
    caveats : list of str
        Sentences for the printed list's footer (the run's manifest caveats: a demo run's SYNTHETIC labels).

    Returns
    -------
    dict
        Format ("gpx", "kml", "geojson", "csv", "html") -> the file written.

    Raises
    ------
    VerificationError
        A file cannot be written (the message names it and the reason).
    """
    out_dir = Path(out_dir)
    paths = {kind: out_dir / f"{design.sample_id}.{kind}" for kind in SHEET_FORMATS}
    points = gpd.GeoDataFrame(design.units, geometry=gpd.points_from_xy(design.units["lon"], design.units["lat"]),
                              crs=_WGS84)
    writers = {
        "gpx": lambda path: pyogrio.write_dataframe(_waypoints(design, points), path, driver="GPX"),
        "kml": lambda path: pyogrio.write_dataframe(_placemarks(points), path, driver="KML",
                                                    layer=design.sample_id.replace("-", "_")),  # an XML name
        "geojson": lambda path: pyogrio.write_dataframe(points, path, layer=design.sample_id, driver="GeoJSON",
                                                        RFC7946="YES"),
        "csv": lambda path: design.units.to_csv(path, index=False),
        "html": lambda path: path.write_text(field_list_html(design, caveats), encoding="utf-8"),
    }
    for kind, write in writers.items():
        _write(paths[kind], write)
    return paths


def field_list_html(design: SampleDesign, caveats: list[str]) -> str:
    """The printable list of a sample as one standalone HTML page (A4, no external resource)."""
    units = design.units.sort_values(["stratum", "draw"], kind="stable")
    tables = Markup("").join(_stratum_table(stratum, rows) for stratum, rows in units.groupby("stratum", sort=True))
    credits = [DETECTIONS_CREDIT, PLACES_CREDIT]
    notes = Markup("").join(Markup("<li>{}</li>").format(text) for text in caveats if text not in credits)
    return Markup(_PAGE).format(
        sample=design.sample_id, run=design.run_id, period=design.period, sites=len(units),
        strata=len(design.strata), by=", ".join(design.strata_by), seed=design.seed, created=design.created,
        created_by=design.created_by, allocation=design.allocation, outcomes=" · ".join(VISIT_OUTCOMES),
        tables=tables, caveats=notes or Markup("<li>None given.</li>"),
        credits=Markup("").join(Markup("<li>{}</li>").format(text) for text in credits))


def dms(value: float, positive: str, negative: str) -> str:
    """A coordinate in degrees, minutes and seconds with its hemisphere: 8.5 -> 8°30'00.0"N."""
    hemisphere = positive if value >= 0 else negative
    seconds = round(abs(value) * 3600, 1)
    degrees, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{int(degrees)}°{int(minutes):02d}'{seconds:04.1f}\"{hemisphere}"


def site_description(units: pd.DataFrame) -> pd.Series:
    """A line per unit for a GPS or a map: stratum, area, licence on record, nearest town and crossing."""
    licence = units["licence_id"].fillna("none").replace("", "none")
    return ("stratum " + units["stratum"].astype(str) + "; " + units["area_ha"].map("{:.1f} ha".format)
            + "; licence on record: " + licence.astype(str)
            + "; nearest town: " + _or_dash(units["nearest_place"])
            + "; nearest crossing: " + _or_dash(units["nearest_crossing"]))


def _waypoints(design: SampleDesign, points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The GPX driver's waypoint fields: name, desc, cmt, sym."""
    return gpd.GeoDataFrame({
        "name": points["site_id"].astype(str), "desc": site_description(points),
        "cmt": f"sample {design.sample_id}, " + points["stratum"].astype(str) + " #" + points["draw"].astype(str),
        "sym": WAYPOINT_SYMBOL}, geometry=points.geometry.values, crs=_WGS84)


def _placemarks(points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The KML driver's placemark fields: Name, Description."""
    return gpd.GeoDataFrame({"Name": points["site_id"].astype(str), "Description": site_description(points)},
                            geometry=points.geometry.values, crs=_WGS84)


def _stratum_table(stratum: str, rows: pd.DataFrame) -> Markup:
    """One stratum's table: a row per site in draw order, with empty boxes for the team."""
    lat, lon = rows["lat"].to_numpy(), rows["lon"].to_numpy()
    cells = pd.DataFrame({
        "#": rows["draw"].astype(str),
        "site id": rows["site_id"].astype(str),
        "lat, lon": [f"{a:.6f}, {b:.6f}" for a, b in zip(lat, lon, strict=True)],
        "DMS": [f"{dms(a, 'N', 'S')} {dms(b, 'E', 'W')}" for a, b in zip(lat, lon, strict=True)],
        "area ha": rows["area_ha"].map("{:.1f}".format),
        "class": rows["registration"].astype(str),
        "licence on record": rows["licence_id"].fillna("").astype(str),
        "nearest town": _or_dash(rows["nearest_place"]),
        "nearest crossing": _or_dash(rows["nearest_crossing"]),
    })
    head = Markup("").join(Markup("<th>{}</th>").format(name) for name in [*cells.columns, *_BOXES])
    boxes = Markup("").join(Markup('<td class="box"></td>') for _ in _BOXES)
    body = Markup("").join(
        Markup("<tr>{}{}</tr>").format(Markup("").join(Markup("<td>{}</td>").format(v) for v in values), boxes)
        for values in cells.itertuples(index=False))
    return Markup('<section class="stratum"><h2>Stratum {} <small>({} sites)</small></h2>'
                  "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table></section>").format(
        stratum, len(rows), head, body)


def _or_dash(values: pd.Series) -> pd.Series:
    text = values.fillna("").astype(str)
    return text.where(text != "", "-")


def _write(path: Path, write) -> None:
    """`write(aside)` a file aside, then move it onto `path`; an OSError becomes a VerificationError."""
    try:
        with written_aside(path) as aside:
            write(aside)
    except (OSError, pyogrio.errors.DataSourceError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise VerificationError(f"{path}: the field sheet cannot be written ({reason}). Choose a folder you can "
                                "write to (-o).") from None


#: The columns a field team fills in by hand.
_BOXES = ("date", "outcome", "notes")

#: The printable page (A4 landscape, one table per stratum, no external resource).
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Field sheet {sample}</title>
<style>
@page {{ size: A4 landscape; margin: 12mm; }}
body {{ font-family: sans-serif; font-size: 10pt; color: #1f2933; margin: 12px; }}
h1 {{ font-size: 15pt; margin: 0 0 4px; }} h2 {{ font-size: 11pt; margin: 14px 0 4px; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 6px 0; }}
dt {{ color: #5f6b7a; }} dd {{ margin: 0; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #7b8794; padding: 3px 5px; text-align: left; vertical-align: top; }}
th {{ background: #e4e7eb; font-size: 9pt; }}
td.box {{ min-width: 18mm; height: 10mm; }}
tr {{ page-break-inside: avoid; break-inside: avoid; }}
footer {{ margin-top: 16px; font-size: 8.5pt; color: #3e4c59; }}
@media print {{ body {{ margin: 0; }} .stratum {{ break-inside: auto; }} thead {{ display: table-header-group; }} }}
</style></head><body>
<header>
<h1>Field verification sheet — sample {sample}</h1>
<dl>
<dt>Run</dt><dd>{run}, period {period}</dd>
<dt>Sites</dt><dd>{sites} in {strata} strata (by {by})</dd>
<dt>Allocation</dt><dd>{allocation}</dd>
<dt>Drawn</dt><dd>{created} by {created_by} (seed {seed})</dd>
<dt>Outcome</dt><dd>write one of: {outcomes}</dd>
</dl>
</header>
{tables}
<footer>
<h2>Caveats</h2><ul>{caveats}</ul>
<h2>Credits</h2><ul>{credits}</ul>
</footer>
</body></html>
"""
