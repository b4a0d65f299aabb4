"""Field form submissions back into the verification ledger: ODK Central and KoboToolbox exports.

`read_submissions(path)` reads an export of the form `verification.xlsform` writes and checks each row on its
own; `import_submissions(path, settings, entered_by)` also checks each row against the sites of a published
run and records the visits and the refused rows in the ledger. Every row is accounted for: read = added +
duplicates (a submission id already in the ledger, or repeated in the file) + rejected.

The export shapes read (the form's field names, in any group):

- ODK Central CSV: group prefixes joined with ``-`` (``meta-instanceID``), the geopoint split into
  ``location-Latitude``, ``-Longitude``, ``-Altitude``, ``-Accuracy``, plus ``SubmissionDate``, ``KEY``,
  ``SubmitterName``, ``ReviewState`` (a submission a reviewer marked ``rejected`` is refused);
- KoboToolbox CSV (``,`` or ``;`` separated: the header line tells) and XLSX (the first sheet): group prefixes
  joined with ``/``, the geopoint as one ``"lat lon alt acc"`` column and as ``_location_latitude`` /
  ``_location_longitude``, plus ``_uuid``, ``_submission_time``, ``_id``, ``_validation_status`` (a submission
  marked not approved is refused). Choices may come as labels (English or French) instead of names;
- GeoJSON (both servers): a Point per submission, the fields as properties (nested groups or ``/`` names).

A visit's id is its submission's ``instanceID`` (``uuid:...``; Kobo's ``_uuid`` gets the same prefix, so both
exports of one submission give one id), else ``KEY`` or the GeoJSON feature id, else a digest of the row: the
same file imported twice adds nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from mrumonitor.config import Settings
from mrumonitor.crs import require_projected
from mrumonitor.errors import InputFileError, StoreError
from mrumonitor.layerio.filechecks import check_zip
from mrumonitor.runfolder import RunFolder
from mrumonitor.schema import VISIT_COLUMNS
from mrumonitor.store.runs import resolve_run
from mrumonitor.verification.ledger import REJECTED_COLUMNS, Ledger
from mrumonitor.verification.xlsform import COMMODITY_LABELS, OTHER_SITE, OUTCOME_LABELS

log = logging.getLogger(__name__)

#: Limits on an export: far above a field campaign (a few hundred visits), far below what would exhaust memory.
MAX_BYTES = 50 * 1024**2
MAX_ROWS = 100_000
#: What the parts of an XLSX export may expand to (a workbook is a zip: small on disk, large unpacked).
MAX_XLSX_UNPACKED_BYTES = 500 * 1024**2

#: The columns of `Submissions.visits` (the ledger adds who entered them, when and from where) and `.rejected`.
SUBMISSION_COLUMNS = {**{name: kind for name, kind in VISIT_COLUMNS.items()
                         if name not in ("entered_by", "entered_at", "source")}, "row": "int64"}
SUBMISSION_REJECTED_COLUMNS = {name: kind for name, kind in REJECTED_COLUMNS.items()
                               if name not in ("entered_by", "entered_at")}

#: The earliest visit date taken: anything before is a typing error (the platform's imagery starts later).
EARLIEST_VISIT = pd.Timestamp("2000-01-01")

#: How to fix what the field names say, for a file that lacks them.
_EXPORT_FIX = ("export the submissions of the mrumonitor form with its field names as headers (KoboToolbox: "
               "'XML values and headers'; ODK Central: the CSV or GeoJSON download).")
_RESUBMIT = "correct it in the submission (ODK Central or KoboToolbox), export again and import the file again."
#: Column separators a CSV export may use; the one the header line holds most is taken.
_DELIMITERS = (",", ";", "\t")
#: What openpyxl raises on a file that is not a workbook, or a damaged one.
_XLSX_ERRORS = (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, IndexError,
                ParseError)
_GEOPOINT_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")
#: KoboToolbox's validation status of a submission a reviewer refused, as a name and as its label.
_NOT_APPROVED = ("validation_status_not_approved", "not approved")
_PHOTOS = ("photo_1", "photo_2", "photo_3")


@dataclass(frozen=True)
class Submissions:
    """The rows of an export: the visits they record (SUBMISSION_COLUMNS) and the rows refused on their own
    (SUBMISSION_REJECTED_COLUMNS), each with its data row (1-based; the header is row 0); `attributes`: every
    row as it came, as JSON, by data row (what a refused row keeps)."""

    path: Path
    visits: pd.DataFrame
    rejected: pd.DataFrame
    attributes: pd.Series

    @property
    def read(self) -> int:
        return len(self.visits) + len(self.rejected)


@dataclass(frozen=True)
class ImportReport:
    """What `import_submissions` did with a file.

    Attributes
    ----------
    file, run_id
        The export and the run its sites were checked against.
    read, added, duplicates
        Rows read; visits recorded; rows whose submission id the ledger already held or the file repeated.
    rejected : DataFrame
        The refused rows (SUBMISSION_REJECTED_COLUMNS), in file order.
    revisited : DataFrame
        site_id, visits: the sites of this file that the ledger now holds more than one visit of.
    """

    file: Path
    run_id: str
    read: int
    added: int
    duplicates: int
    rejected: pd.DataFrame
    revisited: pd.DataFrame


def read_submissions(path: str | Path) -> Submissions:
    """Read an ODK Central or KoboToolbox export (CSV, XLSX, GeoJSON) and check each row on its own.

    Rows are refused (`Submissions.rejected`, reason code and the fix in words) for: missing_site_id, bad_date
    (not a date, in the future, before 2000), bad_outcome, bad_commodity, missing_team, bad_gps (not a
    coordinate), rejected_in_review (ODK Central's review state or KoboToolbox's validation status).
    `import_submissions` checks the sites.

    Raises
    ------
    InputFileError
        The file cannot be used at all: missing, too big, not CSV/XLSX/GeoJSON, unreadable, no ``site_id``
        column, no rows.
    """
    path = Path(path)
    raw = _raw_rows(path)
    fields = _fields(raw)
    if "site_id" not in fields:
        raise InputFileError(path, f"has no site_id column (its columns: {', '.join(map(str, raw.columns[:12]))}).",
                             _EXPORT_FIX)
    visits, problems = _visits(fields)
    attributes = pd.Series([json.dumps(row, ensure_ascii=False) for row in raw.to_dict("records")], index=raw.index)
    refused = problems.notna()
    rejected = pd.DataFrame({"file": path.name, "row": visits["row"], "visit_id": visits["visit_id"],
                             "site_id": visits["site_id"], "reason": problems.str[0], "detail": problems.str[1],
                             "attributes": attributes})[refused]
    return Submissions(path, visits[~refused].reset_index(drop=True),
                       rejected.astype(SUBMISSION_REJECTED_COLUMNS).reset_index(drop=True), attributes)


def import_submissions(path: str | Path, settings: Settings, entered_by: str, run: str = "latest") -> ImportReport:
    """Record the visits of an export in the ledger (``settings.ledger``), checked against the sites of `run`.

    Beyond `read_submissions`' checks, a row is refused when its site is not a site of the run (unknown_site;
    a site merged into another is still known under its own id) or its GPS point lies further than
    ``verification.max_gps_km`` from the site's footprint (gps_far_from_site). A visit takes its site's
    country. Refused rows go to the ledger's ``rejected`` table with the row as it came (a row already recorded
    there from the same file is not recorded twice).

    Raises
    ------
    InputFileError
        The file cannot be used at all; nothing is written.
    StoreError
        The store has no such run, or its sites cannot be read.
    VerificationError
        The ledger cannot be written.
    """
    submissions = read_submissions(path)
    run_dir = resolve_run(settings.paths.store, run)
    sites = _run_sites(RunFolder(run_dir))
    visits, refused = _check_sites(submissions.visits, submissions.attributes, sites,
                                   settings.verification.max_gps_km, run_dir.name)
    rejected = (pd.concat([submissions.rejected, refused.assign(file=submissions.path.name)], ignore_index=True)
                .astype(SUBMISSION_REJECTED_COLUMNS).sort_values("row", kind="stable").reset_index(drop=True))
    ledger = Ledger(settings.ledger)
    appended = ledger.append_visits(visits.drop(columns="row"), entered_by, f"import {submissions.path.name}")
    ledger.reject(_not_yet_rejected(ledger, rejected), entered_by)
    counts = (len(appended.added), len(appended.duplicates), len(rejected))
    assert submissions.read == sum(counts), f"{submissions.read} rows read, {counts} accounted for"
    log.info("%s: %d rows read, %d visits added, %d already in the ledger, %d rejected", submissions.path,
             submissions.read, *counts)
    return ImportReport(submissions.path, run_dir.name, submissions.read, *counts[:2], rejected,
                        _revisited(ledger.visits(), visits["site_id"]))


# --- reading the file ------------------------------------------------------------------------------------------


def _raw_rows(path: Path) -> pd.DataFrame:
    """The file's rows as text (missing values ""), 1-based `row` index; refuses a file that cannot be used."""
    if not path.is_file():
        problem = "is a folder, not a file." if path.exists() else "file not found."
        raise InputFileError(path, problem, "give the path of the exported submissions (CSV, XLSX or GeoJSON).")
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InputFileError(path, f"is not a CSV, XLSX or GeoJSON file (suffix {path.suffix or 'none'!r}).",
                             "export the submissions as CSV, XLSX or GeoJSON.")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputFileError(path, f"is {size / 1024**2:.0f} MB; an export is read up to {MAX_BYTES // 1024**2} MB.",
                             "export the submissions in parts (by date) and import each part.")
    raw = reader(path)
    if len(raw) > MAX_ROWS:
        raise InputFileError(path, f"holds more than {MAX_ROWS:,} rows.", "export the submissions in parts.")
    if raw.empty:
        raise InputFileError(path, "holds no submissions.", "export again once the teams have sent their forms.")
    raw.index = pd.RangeIndex(1, len(raw) + 1, name="row")
    return raw


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = f.readline()
        delimiter = max(_DELIMITERS, key=header.count)
        # every cell as text: a cell like "=HYPERLINK(...)" stays the text it is, nothing is evaluated
        return pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                           nrows=MAX_ROWS + 1)
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"is not UTF-8 text (byte {exc.start}: {exc.reason}).",
                             "export it again from ODK Central or KoboToolbox (they write UTF-8).") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise InputFileError(path, f"is not a readable CSV ({str(exc).strip() or 'empty'}).",
                             "export it again; do not edit it in a spreadsheet that changes its separators.") from None


def _read_xlsx(path: Path) -> pd.DataFrame:
    unpacked = sum(member.file_size for member in check_zip(path))
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise InputFileError(path, f"would unpack to {unpacked / 1024**2:,.0f} MB (at most "
                                   f"{MAX_XLSX_UNPACKED_BYTES // 1024**2} MB are read).",
                             "export the submissions in parts, or as CSV.")
    try:
        book = load_workbook(path, read_only=True, data_only=False)
        try:
            rows = book.worksheets[0].iter_rows(values_only=True)
            header = next(rows, None)
            body = [row for _, row in zip(range(MAX_ROWS + 1), rows, strict=False)]
        finally:
            book.close()
    except _XLSX_ERRORS as exc:
        raise InputFileError(path, f"is not a readable XLSX workbook ({type(exc).__name__}: {exc}).",
                             "export the submissions again as XLSX, or as CSV.") from None
    if header is None:
        return pd.DataFrame()
    names = [_text(name) or f"column_{i + 1}" for i, name in enumerate(header)]
    width = len(names)
    cells = [[_text(value) for value in (row + (None,) * width)[:width]] for row in body if any(v is not None
                                                                                              for v in row)]
    return pd.DataFrame(cells, columns=names, dtype=object)


def _read_geojson(path: Path) -> pd.DataFrame:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputFileError(path, f"is not readable JSON ({type(exc).__name__}: {exc}).",
                             "download the GeoJSON export again.") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InputFileError(path, "is not a GeoJSON FeatureCollection.", "download the GeoJSON export again.")
    rows = [_feature_row(feature) for feature in features[:MAX_ROWS + 1]]
    return pd.DataFrame(rows, dtype=object).fillna("")


def _feature_row(feature) -> dict[str, str]:
    """A feature's properties (nested groups flattened with '/'), its id and its point as text columns."""
    feature = feature if isinstance(feature, dict) else {}
    row = _flat(feature.get("properties") or {})
    if feature.get("id") is not None:
        row["_feature_id"] = _text(feature["id"])
    geometry = feature.get("geometry")
    if isinstance(geometry, dict):
        coordinates = geometry.get("coordinates")
        if geometry.get("type") == "Point" and isinstance(coordinates, list) and len(coordinates) >= 2:
            row["_geometry_longitude"], row["_geometry_latitude"] = _text(coordinates[0]), _text(coordinates[1])
        else:
            row["_geometry_longitude"] = row["_geometry_latitude"] = f"a {geometry.get('type')} geometry"
    return row


def _flat(properties, prefix: str = "") -> dict[str, str]:
    if not isinstance(properties, dict):
        return {}
    flat: dict[str, str] = {}
    for key, value in properties.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}/"))
        else:
            flat[f"{prefix}{key}"] = _text(value)
    return flat


def _text(value) -> str:
    """A cell as text: "" for nothing (or NaN), whole numbers without ".0", dates in ISO 8601, lists as JSON."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {".csv": _read_csv, ".xlsx": _read_xlsx,
                                                       ".geojson": _read_geojson, ".json": _read_geojson}


# --- from the export's columns to the form's fields -----------------------------------------------------------


def _fields(raw: pd.DataFrame) -> pd.DataFrame:
    """The columns under the form's field names: group prefixes dropped (``/`` always, ``-`` in an ODK Central
    export), ODK's split geopoint kept as ``location-Latitude``; the first column of a name wins."""
    columns = [str(column) for column in raw.columns]
    odk = any(c in ("SubmissionDate", "KEY") or c.startswith("meta-") for c in columns)
    names = []
    for column in columns:
        parts = column.split("/")[-1].split("-") if odk else [column.split("/")[-1]]
        names.append("-".join(parts[-2:]) if parts[-1] in _GEOPOINT_PARTS and len(parts) > 1 else parts[-1])
    fields = raw.set_axis(names, axis=1)
    return fields.loc[:, ~fields.columns.duplicated()].apply(lambda column: column.astype(str).str.strip())


def _visits(fields: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The visit of each row (SUBMISSION_COLUMNS) and its problem: (reason, detail) or NA."""
    take = _taker(fields)
    outcome, commodity = _choice(take("outcome"), OUTCOME_LABELS), _choice(take("commodity_seen"), COMMODITY_LABELS)
    visited_on = _dates(take("visit_date"))
    lat_text, lon_text = _coordinate_text(fields, take)
    lat, lon = _coordinate(lat_text), _coordinate(lon_text)
    photos = fields.reindex(columns=list(_PHOTOS), fill_value="")
    visits = pd.DataFrame({
        "visit_id": _visit_ids(fields, take), "country": pd.NA,
        "site_id": _site_ids(take("site_id"), take("site_other")),
        "visited_on": visited_on, "team": take("team"), "outcome": outcome, "commodity_seen": commodity,
        "licence_seen": take("licence_seen"), "notes": take("notes"), "lon": lon, "lat": lat,
        "photos": [json.dumps([name for name in row if name], ensure_ascii=False)
                   for row in photos.itertuples(index=False, name=None)],
        "synthetic": False, "row": fields.index,
    }, index=fields.index)
    visits[["team", "licence_seen", "notes"]] = visits[["team", "licence_seen", "notes"]].replace("", pd.NA)
    today = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
    gps_given = (lat_text != "") | (lon_text != "")
    bad_gps = gps_given & ~(lat.between(-90, 90) & lon.between(-180, 180))
    checks = [
        (take("ReviewState").str.casefold().eq("rejected") | take("_validation_status").str.casefold().isin(
            _NOT_APPROVED), "rejected_in_review",
         lambda i: "a reviewer marked this submission rejected (ODK Central) or not approved (KoboToolbox): approve "
                   "it there (or record a new visit) if it should count, export again and import the file again."),
        (visits["site_id"] == "", "missing_site_id",
         lambda i: "no site id (site_id is empty, or 'other' without site_other): fill in the id of the site "
                   f"visited; {_RESUBMIT}"),
        (visited_on.isna(), "bad_date",
         lambda i: f"visit date {take('visit_date')[i]!r} is not a date (YYYY-MM-DD): {_RESUBMIT}"),
        (visited_on > today, "bad_date",
         lambda i: f"visit date {visited_on[i]:%Y-%m-%d} is in the future: {_RESUBMIT}"),
        (visited_on < EARLIEST_VISIT, "bad_date",
         lambda i: f"visit date {visited_on[i]:%Y-%m-%d} is before {EARLIEST_VISIT:%Y}: {_RESUBMIT}"),
        (outcome.isna(), "bad_outcome",
         lambda i: f"outcome {take('outcome')[i]!r} is not one of {', '.join(OUTCOME_LABELS)}: {_RESUBMIT}"),
        (commodity.isna() & (take("commodity_seen") != ""), "bad_commodity",
         lambda i: f"commodity {take('commodity_seen')[i]!r} is not one of {', '.join(COMMODITY_LABELS)}: "
                   f"{_RESUBMIT}"),
        (visits["team"].isna(), "missing_team", lambda i: f"no team named: fill in the team; {_RESUBMIT}"),
        (bad_gps, "bad_gps",
         lambda i: f"GPS point (latitude {lat_text[i]!r}, longitude {lon_text[i]!r}) is not a coordinate "
                   f"(latitude -90 to 90, longitude -180 to 180): correct it, or leave the point empty; {_RESUBMIT}"),
    ]
    return visits[list(SUBMISSION_COLUMNS)].astype(SUBMISSION_COLUMNS), _first_problem(fields.index, checks)


def _taker(fields: pd.DataFrame) -> Callable[[str], pd.Series]:
    """`take(name)`: the field's text ("" on every row when the export has no such column)."""
    return lambda name: fields[name] if name in fields else pd.Series("", index=fields.index)


def _first_problem(index: pd.Index, checks) -> pd.Series:
    """(reason, detail) of the first check each row fails, NA for a row that passes them all."""
    problems = pd.Series(pd.NA, index=index, dtype=object)
    for failed, reason, detail in checks:
        rows = index[failed.fillna(False).to_numpy(bool) & problems.isna().to_numpy()]
        problems[rows] = [(reason, detail(i)) for i in rows]
    return problems


def _choice(text: pd.Series, labels: dict[str, tuple[str, str]]) -> pd.Series:
    """Choice names from names or from their English or French labels (any case); NA where none matches."""
    known = {name.casefold(): name for name in labels}
    known.update({label.casefold(): name for name, pair in labels.items() for label in pair})
    return text.str.casefold().map(known).astype("string")


def _dates(text: pd.Series) -> pd.Series:
    """Visit days: ISO 8601 (a time of day is dropped), or day/month/year; NaT where the text is none."""
    iso = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    dayfirst = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    return iso.fillna(dayfirst).astype("datetime64[ms]")


def _coordinate_text(fields: pd.DataFrame, take) -> tuple[pd.Series, pd.Series]:
    """Latitude and longitude text of each row, from the first export shape that has them."""
    kobo_point = pd.DataFrame([(words + ["", ""])[:2] for words in take("location").str.split()],
                              index=fields.index, columns=["lat", "lon"], dtype=object)
    candidates = [(take("location-Latitude"), take("location-Longitude")),
                  (take("_location_latitude"), take("_location_longitude")), (kobo_point["lat"], kobo_point["lon"]),
                  (take("_geometry_latitude"), take("_geometry_longitude"))]
    lat, lon = (pd.Series("", index=fields.index) for _ in range(2))
    for lat_other, lon_other in candidates:
        empty = (lat == "") & (lon == "")
        lat, lon = lat.mask(empty, lat_other), lon.mask(empty, lon_other)
    return lat, lon


def _coordinate(text: pd.Series) -> pd.Series:
    """Degrees from text ("8.64", or "8,64" from a French spreadsheet); NaN where empty or not a number."""
    return pd.to_numeric(text.str.replace(",", ".", regex=False).replace("", np.nan), errors="coerce")


def _site_ids(site: pd.Series, other: pd.Series) -> pd.Series:
    """The site id of each row: site_id (its id part when the export gave the choice label), or site_other when
    the team picked "another site"."""
    site = site.str.split(" · ", n=1).str[0].str.strip()
    picked_other = site.str.casefold().isin({OTHER_SITE, "another site, not on the list",
                                             "un autre site, absent de la liste"})
    return site.mask(picked_other, other)


def _visit_ids(fields: pd.DataFrame, take) -> pd.Series:
    """instanceID, else Kobo's _uuid as "uuid:<_uuid>", else KEY or the feature id, else a digest of the row."""
    uuid = take("_uuid")
    ids = take("instanceID").mask(lambda s: s == "", uuid.where((uuid == "") | uuid.str.startswith("uuid:"),
                                                                "uuid:" + uuid))
    for fallback in (take("KEY"), take("_feature_id")):
        ids = ids.mask(ids == "", fallback)
    digests = pd.Series(["row:" + hashlib.sha256(json.dumps(row, ensure_ascii=False).encode()).hexdigest()[:24]
                         for row in fields.to_dict("records")], index=fields.index)
    return ids.mask(ids == "", digests)


# --- against the run and the ledger -----------------------------------------------------------------------------


def _run_sites(run: RunFolder) -> gpd.GeoDataFrame:
    """site_id, country and footprint of every site of the run (merged ones too, under their own id)."""
    try:
        sites = gpd.read_parquet(run.layer("sites"), columns=["site_id", "country", "geometry"])
    except (OSError, ValueError) as exc:
        raise StoreError(f"{run.layer('sites')}: the sites of run {run.name} cannot be read ({exc}). Import against "
                         "another run with --run, or publish a new run.") from None
    require_projected(sites.crs, f"{run.layer('sites')}")
    return sites.drop_duplicates("site_id").set_index("site_id")


def _check_sites(visits: pd.DataFrame, attributes: pd.Series, sites: gpd.GeoDataFrame, max_km: float, run_id: str
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The visits of known sites within `max_km` of them (with their site's country), and the refused rows
    (SUBMISSION_REJECTED_COLUMNS but file; `attributes`: each row's text as it came, by row)."""
    site = visits["site_id"]
    known = site.isin(sites.index)
    located = (visits["lon"].notna() & visits["lat"].notna()).to_numpy()
    points = gpd.points_from_xy(visits["lon"].fillna(0), visits["lat"].fillna(0))
    points = gpd.GeoSeries(np.where(located, points, None), crs="EPSG:4326").to_crs(sites.crs)
    km = pd.Series(shapely.distance(points.to_numpy(), sites.geometry.reindex(site).to_numpy()) / 1000,
                   index=visits.index)
    far = known & (km > max_km)
    reason = pd.Series(pd.NA, index=visits.index, dtype="string")
    detail = reason.copy()
    reason[~known], reason[far] = "unknown_site", "gps_far_from_site"
    detail[~known] = ("site " + site[~known] + f" is not a site of run {run_id}: check the id against the sample's "
                      "list (a site typed in as 'another site' must be one the map shows); " + _RESUBMIT)
    distance = km[far].map("{:.1f}".format).astype("string")
    detail[far] = ("the GPS point is " + distance + " km from the footprint of site " + site[far]
                   + f" (at most {max_km:g} km, [verification] max_gps_km): check the site id, or take the point at "
                   "the site; " + _RESUBMIT)
    rejected = pd.DataFrame({"row": visits["row"], "visit_id": visits["visit_id"], "site_id": site, "reason": reason,
                             "detail": detail, "attributes": attributes.reindex(visits["row"]).to_numpy()})
    accepted = visits[reason.isna()]
    return (accepted.assign(country=sites["country"].reindex(accepted["site_id"]).to_numpy()),
            rejected[reason.notna()])


def _not_yet_rejected(ledger: Ledger, rejected: pd.DataFrame) -> pd.DataFrame:
    """The refused rows the ledger does not hold yet (same file, row, reason and content)."""
    key = ["file", "row", "reason", "attributes"]
    held = ledger.rejected()[key].astype({"row": "int64"})
    seen = rejected[key].merge(held.drop_duplicates(), how="left", indicator=True)["_merge"] == "both"
    return rejected[~seen.to_numpy()]


def _revisited(ledger_visits: pd.DataFrame, sites: pd.Series) -> pd.DataFrame:
    """site_id, visits: the sites among `sites` that the ledger holds more than one visit of."""
    counts = ledger_visits.loc[ledger_visits["site_id"].isin(sites), "site_id"].value_counts()
    counts = counts[counts > 1].sort_index()
    return pd.DataFrame({"site_id": counts.index.astype("string"), "visits": counts.to_numpy(dtype="int64")})
