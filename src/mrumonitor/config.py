"""Configuration: one `Settings` object, built at the entry point from TOML and passed down.

`configs/default.toml` documents and sets every key. A user file (`--config FILE`) is merged on top of it,
table by table, so it only states what differs (typically the `file` of each source and the `paths`).
Relative paths resolve against the folder of the file that states them; those of default.toml against the
project root. Unknown keys and bad values fail with a message naming the key and the valid choices.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import itertools
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pyproj import CRS

from mrumonitor.crs import norm_crs, require_projected
from mrumonitor.errors import ConfigError
from mrumonitor.resources import default_config_path, project_root
from mrumonitor.schema import COMMODITIES, LICENCE_STATUSES, LICENCE_TYPES

#: An e-mail address as the configuration and the subscriptions accept it: name@domain (a dotted domain, or
#: localhost for a test server).
EMAIL_PATTERN = re.compile(r"[^@\s<>,;\"']+@(localhost|[^@\s<>,;\"'.]+(\.[^@\s<>,;\"'.]+)+)")

Country = Literal["SLE", "GIN", "LBR", "CIV", "GHA"]
LicenceType = Literal[LICENCE_TYPES]  # type: ignore[valid-type]
Commodity = Literal[COMMODITIES]  # type: ignore[valid-type]
LicenceStatus = Literal[LICENCE_STATUSES]  # type: ignore[valid-type]
SourceFormat = Literal["shapefile", "gpkg", "geojson", "flatgeobuf", "csv"]


def _checked_crs(value: str, projected: bool = False) -> str:
    """Validate a CRS string inside a pydantic validator (which reports ValueError with the key's path)."""
    try:
        crs = norm_crs(value, "this key")
        if projected:
            require_projected(crs, "this key")
    except ConfigError as exc:
        raise ValueError(str(exc).removeprefix("this key: ")) from None
    return value


class _Strict(BaseModel):
    """Base of every config table: frozen, numbers finite (no inf or nan), and unknown keys are refused with the
    list of valid ones."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(cls.model_fields))
            if unknown:
                raise ValueError(
                    f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                    f"valid keys here: {', '.join(cls.model_fields)}; delete {'them' if len(unknown) > 1 else 'it'} "
                    "or correct the spelling"
                )
        return data


class ProjectSettings(_Strict):
    name: str
    countries: list[Country] = Field(min_length=1)


class CRSSettings(_Strict):
    analysis: str

    @field_validator("analysis")
    @classmethod
    def _projected(cls, value: str) -> str:
        return _checked_crs(value, projected=True)


class PathSettings(_Strict):
    reference: Path
    store: Path
    work: Path
    imagery_cache: Path | None = None

    @field_validator("reference", "store", "work", "imagery_cache")
    @classmethod
    def _folder_or_nothing_yet(cls, value: Path | None) -> Path | None:
        if value is not None and value.exists() and not value.is_dir():
            raise ValueError(f"{str(value)!r} is a file, not a folder; point this key at a folder (it is created "
                             "if it does not exist yet)")
        return value


class IngestSettings(_Strict):
    country_tolerance_km: float = Field(ge=0)
    batch_size: int = Field(gt=0)


class FieldMapping(_Strict):
    """Canonical column <- column of the national file. Optional columns may be left out."""

    licence_id: str
    licence_type: str
    commodity: str
    holder: str | None = None
    status: str | None = None
    granted: str | None = None
    expires: str | None = None

    @field_validator("holder", "status", "granted", "expires")
    @classmethod
    def _empty_means_absent(cls, value: str | None) -> str | None:
        return value or None


class ValueMapping(_Strict):
    """National term -> canonical value. Keys match ignoring case, accents and repeated spaces."""

    licence_type: dict[str, LicenceType]
    commodity: dict[str, Commodity]
    status: dict[str, LicenceStatus] = {}


class CsvGeometry(_Strict):
    """Where a CSV keeps its geometry: a WKT column, or a pair of coordinate columns."""

    wkt: str | None = None
    x: str | None = None
    y: str | None = None
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    decimal: Literal[".", ","] = "."

    @model_validator(mode="after")
    def _one_geometry(self) -> CsvGeometry:
        if bool(self.wkt) == bool(self.x and self.y):
            raise ValueError("set either 'wkt' (a WKT column) or both 'x' and 'y' (coordinate columns)")
        if self.decimal == self.delimiter:
            raise ValueError(f"decimal and delimiter are both {self.delimiter!r}; a CSV written with decimal "
                             "commas separates its fields with ';' (set delimiter = \";\")")
        return self


class SourceSettings(_Strict):
    country: Country
    file: Path
    format: SourceFormat
    layer: str | None = None
    encoding: str | None = None
    crs: str | None = None
    snapshot: dt.date | None = None
    date_formats: list[str] = Field(min_length=1)
    fields: FieldMapping
    values: ValueMapping
    csv: CsvGeometry | None = None

    @field_validator("crs")
    @classmethod
    def _valid_crs(cls, value: str | None) -> str | None:
        return _checked_crs(value) if value else value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None, info: ValidationInfo) -> str | None:
        return check_encoding(value, info.data.get("format")) if value else None

    @field_validator("date_formats")
    @classmethod
    def _date_formats(cls, value: list[str]) -> list[str]:
        for fmt in value:
            check_date_format(fmt)
        return value

    @model_validator(mode="after")
    def _csv_needs_geometry(self) -> SourceSettings:
        if self.format == "csv" and self.csv is None:
            raise ValueError("format 'csv' needs a [csv] table saying where the geometry is (wkt, or x and y)")
        return self


#: Formats whose text the format itself declares UTF-8 (a configured encoding can only be wrong).
_UTF8_FORMATS = ("gpkg", "geojson", "flatgeobuf")

#: A day whose day, month and year all differ, to check that a date format keeps all three.
_PROBE_DAY = dt.datetime(2024, 11, 23)


def check_encoding(name: str, fmt: str | None = None) -> str:
    """Return `name` if it is a text encoding Python knows that files of format `fmt` can hold.

    Raises ValueError with valid examples otherwise: an unknown name, an encoding for a format whose text is
    always UTF-8, or an encoding a Shapefile's .dbf cannot hold (not ASCII-based, such as UTF-16).
    """
    try:
        info = codecs.lookup(name)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise ValueError(f"unknown text encoding {name!r}; use a name such as 'UTF-8', 'cp1252' (Windows "
                         "Western Europe), 'latin-1' (ISO-8859-1) or 'cp850'")
    if fmt in _UTF8_FORMATS and info.name not in ("utf-8", "ascii"):
        raise ValueError(f"{name!r} cannot apply: {fmt} text is always UTF-8 (the format says so); leave "
                         "encoding out")
    if fmt == "shapefile" and "A".encode(info.name) != b"A":
        raise ValueError(f"{name!r} is not an encoding a Shapefile's .dbf can hold (an ASCII-based one); use "
                         "e.g. 'UTF-8', 'cp1252' or 'latin-1'")
    return name


def check_date_format(fmt: str) -> str:
    """Return `fmt` if it is a strptime format that pins down a day (year, month and day), else raise ValueError."""
    try:
        parsed = dt.datetime.strptime(_PROBE_DAY.strftime(fmt), fmt)
    except ValueError as exc:
        raise ValueError(f"date format {fmt!r} is not a valid strptime format ({exc}); write it with "
                         "directives such as '%d/%m/%Y' or '%Y-%m-%d' (%d day, %m month, %Y year)") from None
    if parsed.date() != _PROBE_DAY.date():
        raise ValueError(f"date format {fmt!r} does not give a whole date (a day of {_PROBE_DAY:%Y-%m-%d} reads "
                         f"back as {parsed:%Y-%m-%d}); it needs a day, a month and a year, e.g. '%d/%m/%Y'")
    return fmt


class RasterSettings(_Strict):
    resolution_m: float = Field(gt=0)
    margin_km: float = Field(ge=0)
    chunk_size: int = Field(ge=64, le=8192)
    activity_threshold: int = Field(ge=1, le=100)
    max_grid_pixels: int = Field(default=2_000_000_000, gt=0)
    gdal_cache_mb: int = Field(default=256, ge=16)


class DetectorWeights(_Strict):
    vegetation_loss: float = Field(ge=0)
    bare_soil_gain: float = Field(ge=0)
    turbid_water: float = Field(ge=0)


class DetectorSettings(_Strict):
    resolution_m: float = Field(gt=0)
    reflectance_scale: float = Field(gt=0)
    reflectance_offset: float
    valid_scl: list[Annotated[int, Field(ge=0, le=11)]] = Field(min_length=1)  # Sentinel-2 SCL classes 0-11
    # normalised indices lie in [-1, 1], so a change of one lies in [-2, 2]
    ndvi_drop: float = Field(ge=-2, lt=0)
    bsi_gain: float = Field(gt=0, le=2)
    mndwi_water: float = Field(ge=-1, le=1)
    turbidity_min: float = Field(ge=-1, le=1)
    weights: DetectorWeights
    score_threshold: float = Field(gt=0, le=1)


class SiteSettings(_Strict):
    min_area_ha: float = Field(ge=0)
    connectivity: Literal[4, 8]


class PeriodSettings(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    start: dt.date
    end: dt.date
    observed: dt.date | None = None

    @property
    def observed_on(self) -> dt.date:
        """The day licences are judged on for this period: `observed`, else the period's last day."""
        return self.observed or self.end

    @model_validator(mode="after")
    def _ordered(self) -> PeriodSettings:
        if self.end < self.start:
            raise ValueError(f"period {self.name!r} ends ({self.end}) before it starts ({self.start})")
        if self.observed is not None and not self.start <= self.observed <= self.end:
            raise ValueError(f"period {self.name!r}: observed ({self.observed}) is not within the period "
                             f"({self.start} to {self.end})")
        return self


ActivityKind = Literal["detections", "probability", "classes", "scenes", "stac"]
#: Kinds the built-in detector scores against the baseline period, area by area.
DETECTOR_KINDS = ("scenes", "stac")

#: Bands a kind = "stac" input reads per item: those of the built-in detector and the scene classification.
STAC_BANDS = ("B02", "B03", "B04", "B08", "B11", "SCL")

PeriodStep = Literal["month", "quarter", "half", "year"]
_STEP_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}


class RollingPeriods(_Strict):
    """Periods given as a rule: every calendar `every` since `since`, each once complete (see [activity])."""

    every: PeriodStep
    since: dt.date
    complete_after_days: int = Field(default=30, ge=0, le=3660)

    @field_validator("since")
    @classmethod
    def _starts_a_period(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        every = info.data.get("every")
        if every and (value.day != 1 or (value.month - 1) % _STEP_MONTHS[every]):
            first = dt.date(value.year, (value.month - 1) // _STEP_MONTHS[every] * _STEP_MONTHS[every] + 1, 1)
            raise ValueError(f"{value} is not the first day of a {every}; periods are calendar {every}s, so start "
                             f"them on {first}")
        return value

    def periods(self, today: dt.date) -> list[PeriodSettings]:
        """Every period of the rule that is complete on `today` (its end plus `complete_after_days` has passed),
        oldest first, named 2024-01 (month), 2024Q1 (quarter), 2024H1 (half) or 2024 (year)."""
        months = _STEP_MONTHS[self.every]
        found, start = [], self.since
        while True:
            following = _add_months(start, months)
            end = following - dt.timedelta(days=1)
            if end + dt.timedelta(days=self.complete_after_days) >= today:
                return found
            found.append(PeriodSettings(name=_period_name(start, self.every), start=start, end=end))
            start = following


    def waiting(self, today: dt.date) -> str:
        """In plain words, when the rule's first period completes (for a rule with no complete period on `today`)."""
        end = _add_months(self.since, _STEP_MONTHS[self.every]) - dt.timedelta(days=1)
        ready = end + dt.timedelta(days=self.complete_after_days + 1)
        return (f"the first period of [activity] rolling, {_period_name(self.since, self.every)} ({self.since} to {end}), "
                f"is complete from {ready} ({self.complete_after_days} days after its end); runs before then have "
                "nothing to detect.")


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _period_name(start: dt.date, every: str) -> str:
    return {"month": f"{start:%Y-%m}", "quarter": f"{start.year}Q{(start.month - 1) // 3 + 1}",
            "half": f"{start.year}H{(start.month - 1) // 6 + 1}", "year": f"{start.year}"}[every]


class StacProvider(_Strict):
    """A STAC API and how its Sentinel-2 L2A items name their assets (see [imagery.providers] in default.toml).

    The API is `api` (a URL), or `folder`: a static collection on this machine that the run serves itself.
    """

    api: str = ""
    folder: Path | None = None
    collection: str
    assets: dict[str, str]
    signing: Literal["none", "planetary-computer"] = "none"
    description: str = ""

    @field_validator("api")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL of a STAC API root, e.g. "
                             "https://earth-search.aws.element84.com/v1")
        return value.rstrip("/")

    @field_validator("assets")
    @classmethod
    def _every_band(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [band for band in STAC_BANDS if band not in value]
        if missing:
            raise ValueError(f"names no asset for band{'s' if len(missing) > 1 else ''} {', '.join(missing)}; give "
                             f"the asset key of each of {', '.join(STAC_BANDS)} (e.g. B04 = \"red\")")
        return value

    @field_validator("folder")
    @classmethod
    def _a_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{str(value)!r} is not a folder; point it at the folder that holds the collection "
                             "folders (<collection>/collection.json, <collection>/items/*.json and the asset files)")
        return value

    @model_validator(mode="after")
    def _api_or_folder(self) -> StacProvider:
        if bool(self.api) == (self.folder is not None):
            raise ValueError("give either api = the URL of a STAC API, or folder = a static collection on this "
                             "machine (served by the run itself), not both and not neither")
        return self


class ImagerySettings(_Strict):
    """How STAC inputs search and read (see [imagery] in default.toml)."""

    timeout_s: float = Field(default=30.0, gt=0, le=600)
    retries: int = Field(default=4, ge=0, le=20)
    backoff_s: float = Field(default=1.0, ge=0, le=600)
    max_items: int = Field(default=2000, ge=1)
    providers: dict[str, StacProvider] = {}


class ActivityInput(_Strict):
    """One source of mining activity; see the [activity] comments of default.toml."""

    kind: ActivityKind
    path: str = ""
    crs: str | None = None
    x: str | None = None
    y: str | None = None
    area_ha: str | None = None
    probability: str | None = None
    max_area_ha: float = Field(default=100_000.0, gt=0, allow_inf_nan=False)
    encoding: str | None = None
    layer: str | None = None
    scale: float = Field(default=1.0, gt=0)
    active_classes: list[int] = []
    bounds: tuple[float, float, float, float] | None = None
    provider: str | None = None
    collection: str | None = None
    max_cloud_cover: float = Field(default=60.0, ge=0, le=100)

    @field_validator("crs")
    @classmethod
    def _valid_crs(cls, value: str | None) -> str | None:
        return _checked_crs(value) if value else value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        return check_encoding(value) if value else None

    @field_validator("bounds")
    @classmethod
    def _lon_lat_box(cls, value: tuple[float, float, float, float] | None) -> tuple | None:
        if value is None:
            return value
        west, south, east, north = value
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValueError(f"{list(value)} is not [west, south, east, north] in degrees: west < east within "
                             "-180..180 and south < north within -90..90, e.g. [-13.3, 6.9, -10.3, 10.0]")
        return value

    @model_validator(mode="after")
    def _kind_needs(self) -> ActivityInput:
        if self.kind == "classes" and not self.active_classes:
            raise ValueError("kind 'classes' needs active_classes (the class codes that mean mining)")
        if self.kind == "scenes" and self.bounds is None:
            raise ValueError("kind 'scenes' needs bounds = [west, south, east, north] of the detection area "
                             "in degrees (WGS84)")
        if self.kind == "stac" and not self.provider:
            raise ValueError("kind 'stac' needs provider = the name of an [imagery.providers.<name>] block, e.g. "
                             "\"earth-search\"")
        if self.kind != "stac" and not self.path:
            raise ValueError(f"kind {self.kind!r} needs path = the input file or folder")
        return self


class ActivitySettings(_Strict):
    periods: list[PeriodSettings] = []
    rolling: RollingPeriods | None = None
    baseline: str | None = None
    inputs: dict[str, ActivityInput] = {}

    @model_validator(mode="before")
    @classmethod
    def _with_rolling_periods(cls, data: Any) -> Any:
        """Append the periods of the `rolling` rule complete today (the real clock) to the listed ones; a period
        already listed under its name (a dumped configuration read again) is not added twice."""
        if not isinstance(data, dict) or not isinstance(data.get("rolling"), dict | RollingPeriods):
            return data
        try:
            rule = RollingPeriods.model_validate(data["rolling"])
        except ValidationError:
            return data  # validation of the `rolling` field names the problem
        listed = list(data.get("periods") or [])
        names = {p.get("name") if isinstance(p, dict) else getattr(p, "name", None) for p in listed}
        return {**data, "periods": listed + [p for p in rule.periods(dt.date.today()) if p.name not in names]}

    @model_validator(mode="after")
    def _consistent(self) -> ActivitySettings:
        names = [period.name for period in self.periods]
        if len(set(names)) != len(names):
            raise ValueError(f"period names must be unique, got {', '.join(names)}")
        ordered = sorted(self.periods, key=lambda period: period.start)
        for before, after in itertools.pairwise(ordered):
            if after.start <= before.end:
                raise ValueError(f"periods {before.name!r} ({before.start} to {before.end}) and {after.name!r} "
                                 f"({after.start} to {after.end}) overlap; a day belongs to one period only, so "
                                 f"start {after.name!r} after {before.end}")
        if self.baseline is not None and self.baseline not in names:
            raise ValueError(f"baseline {self.baseline!r} is not one of the periods ({', '.join(names)})")
        if any(i.kind in DETECTOR_KINDS for i in self.inputs.values()) and self.baseline is None:
            raise ValueError("scene and STAC inputs need a baseline period to detect change against")
        return self


class RiskWeights(_Strict):
    """Weights of the factors of the site risk score (see [analysis.risk] in default.toml)."""

    unregistered: float = Field(ge=0)
    border: float = Field(ge=0)
    far_from_post: float = Field(ge=0)
    transboundary: float = Field(ge=0)
    new: float = Field(ge=0)
    commodity: float = Field(ge=0)
    size: float = Field(ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> RiskWeights:
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one risk weight must be above 0")
        return self


class AdminLayer(_Strict):
    """An administrative layer (admin1, admin2...) summaries are broken down by."""

    file: Path
    layer: str | None = None
    name_field: str
    country_field: str | None = None


class AnalysisSettings(_Strict):
    commodity_zones: Path
    commodity_default: Commodity
    near_field_km: float = Field(ge=0)
    border_zone_km: float = Field(gt=0)
    post_far_km: float = Field(gt=0)
    post_kinds: list[Literal["official", "customs", "informal_known"]] = Field(min_length=1)
    corridor_length_km: float = Field(gt=0)
    risk: RiskWeights
    admin: dict[str, AdminLayer] = {}


class StoreSettings(_Strict):
    """Published runs under <paths.store>/runs: how many to keep, and caveats published with each."""

    keep_last: int = Field(ge=1)
    keep_days: float = Field(ge=0)
    caveats: list[str] = []


#: How a capacity factor's low, central and high values are read (see [capacity] in default.toml).
Distribution = Literal["lognormal", "split_lognormal", "pert"]
#: A lognormal's central value may differ from the geometric mean of its low and high by this share at most.
LOGNORMAL_TOLERANCE = 0.05


class CapacityParameter(_Strict):
    """One factor of a capacity estimate: low, central and high values, how they are distributed, and their source.

    ``lognormal`` and ``split_lognormal`` read low, central and high as the 5th percentile, the median and the
    95th percentile (a lognormal has one spread, so its central must be the geometric mean of low and high;
    a split lognormal joins two half-lognormals at the median, one spread each side). ``pert`` reads them as
    the least, the most likely and the greatest value (a beta-PERT, bounded: for shares).
    """

    low: float = Field(ge=0)
    central: float = Field(ge=0)
    high: float = Field(ge=0)
    distribution: Distribution = "split_lognormal"
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> CapacityParameter:
        if not self.low <= self.central <= self.high:
            raise ValueError(f"low ({self.low}) <= central ({self.central}) <= high ({self.high}) must hold")
        if self.distribution == "pert" or self.low == self.high:
            return self
        if self.low <= 0:
            raise ValueError(f"a {self.distribution} needs low above 0 (it is {self.low}): give a small positive "
                             "5th percentile, or distribution = \"pert\" for a range that starts at 0")
        middle = (self.low * self.high) ** 0.5
        if self.distribution == "lognormal" and abs(self.central / middle - 1) > LOGNORMAL_TOLERANCE:
            raise ValueError(f"a lognormal's central must be the geometric mean of low and high ({middle:.4g}), "
                             f"not {self.central}: set central = {middle:.4g}, or distribution = "
                             "\"split_lognormal\" to keep an asymmetric range")
        return self


class FractionParameter(CapacityParameter):
    """A capacity factor that is a share of something (gravel in a pit, stones recovered): at most 1. Read as a
    beta-PERT unless told otherwise; draws of a lognormal share above 1 count as 1."""

    distribution: Distribution = "pert"

    @model_validator(mode="after")
    def _at_most_one(self) -> FractionParameter:
        if self.high > 1:
            raise ValueError(f"a fraction: high ({self.high}) must be at most 1")
        return self


class VolumeGradeParameters(_Strict):
    """Carats from newly mined area: area x pit_depth_m x gravel_fraction x grade_ct_per_m3 x recovery."""

    pit_depth_m: CapacityParameter
    gravel_fraction: FractionParameter
    grade_ct_per_m3: CapacityParameter
    recovery: FractionParameter


class MinersParameters(_Strict):
    """Carats from labour: miners x days_per_year x gravel_m3_per_miner_day x grade_ct_per_m3 x recovery."""

    miners: CapacityParameter
    days_per_year: CapacityParameter
    gravel_m3_per_miner_day: CapacityParameter

    @field_validator("days_per_year")
    @classmethod
    def _within_a_year(cls, value: CapacityParameter) -> CapacityParameter:
        if value.high > 366:
            raise ValueError(f"high ({value.high}) is more days than a year has")
        return value


class CountryCapacity(_Strict):
    """One country's departures from the regional parameters, and its miners method (if any)."""

    pit_depth_m: CapacityParameter | None = None
    gravel_fraction: FractionParameter | None = None
    grade_ct_per_m3: CapacityParameter | None = None
    recovery: FractionParameter | None = None
    miners: MinersParameters | None = None


class AnomalyThresholds(_Strict):
    """When a declared KP figure is flagged (see [capacity.anomalies] in default.toml)."""

    neighbour_years: int = Field(ge=0)
    neighbour_value_factor: float = Field(gt=1)
    production_export_value_factor: float = Field(gt=1)
    production_export_carats_factor: float = Field(gt=1)
    jump_factor: float = Field(gt=1)


class CapacitySettings(_Strict):
    commodity: Commodity
    declared: Path | None = None
    draws: int = Field(ge=1_000, le=1_000_000)
    seed: int = Field(ge=0)
    volume: VolumeGradeParameters
    countries: dict[Country, CountryCapacity] = {}
    anomalies: AnomalyThresholds

    @field_validator("declared", mode="before")
    @classmethod
    def _empty_means_none(cls, value: Any) -> Any:
        return value or None


class DashboardUser(_Strict):
    """A dashboard user: `regional` sees everything; `agency` sees its country's site-level layers only.
    `field_entry` lets the user record field visits on the dashboard (an agency user: at its own country's
    sites only). `email` is where the user's alert subscriptions are sent unless a subscription names another
    address."""

    role: Literal["regional", "agency"]
    country: Country | None = None
    password_hash: str = Field(min_length=1)
    field_entry: bool = False
    email: str = ""

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        if value and not EMAIL_PATTERN.fullmatch(value):
            raise ValueError(f"{value!r} is not an e-mail address (name@domain)")
        return value

    @model_validator(mode="after")
    def _agency_has_country(self) -> DashboardUser:
        if self.role == "agency" and self.country is None:
            raise ValueError("an agency user needs a country (ISO3), e.g. country = \"SLE\"")
        return self


class DashboardAuth(_Strict):
    enabled: bool
    secret_key_env: str = Field(min_length=1)
    users: dict[str, DashboardUser] = {}

    @model_validator(mode="after")
    def _users_when_enabled(self) -> DashboardAuth:
        if self.enabled and not self.users:
            raise ValueError("auth is enabled but no [dashboard.auth.users.<name>] is configured")
        return self


class DashboardSettings(_Strict):
    views: Path
    basemap_url: str | None = None
    basemap_attribution: str = ""
    auth: DashboardAuth
    max_request_kb: int = Field(default=1024, ge=16, le=1_048_576)
    login_attempts: str = "10 per minute"
    login_attempts_storage: str = "memory://"
    https: bool = False
    session_hours: float = Field(default=12.0, gt=0, le=24 * 366)

    @field_validator("login_attempts")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"login_attempts = {value!r} is not a rate limit; write e.g. \"10 per minute\" "
                             "or \"10 per minute; 100 per day\"") from None
        return value

    @field_validator("basemap_url", mode="before")
    @classmethod
    def _empty_url_means_none(cls, value: Any) -> Any:
        return value or None


class SchedulerSettings(_Strict):
    """How `mrumonitor scheduler` runs the scheduled jobs (see [scheduler] in default.toml)."""

    # upper bounds: beyond them a value is surely a slip (and a wait past datetime's range fails a job)
    poll_s: float = Field(default=30.0, gt=0, le=3600)
    misfire_grace_s: float = Field(default=3600.0, ge=0, le=366 * 86400)
    max_attempts: int = Field(default=3, ge=1, le=100)
    retry_backoff_s: float = Field(default=60.0, ge=0, le=7 * 86400)
    retry_backoff_max_s: float = Field(default=3600.0, ge=0, le=31 * 86400)
    lock_wait_s: float = Field(default=21600.0, ge=0, le=7 * 86400)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as \"UTC\" or "
                             "\"Africa/Freetown\"") from None
        return value


class VerificationSettings(_Strict):
    """Field verification: the ledger, the sampling design and when an estimate is shown (see [verification])."""

    ledger: Path | None = None
    min_per_stratum: int = Field(default=5, ge=2, le=1000)
    min_verified: int = Field(default=5, ge=2, le=1000)
    hold_days: int = Field(default=365, ge=0, le=36600)
    max_gps_km: float = Field(default=2.0, gt=0, le=1000)

    @field_validator("ledger", mode="before")
    @classmethod
    def _empty_means_none(cls, value: Any) -> Any:
        return value or None


class SmtpSettings(_Strict):
    """The mail server alert digests and operator notices are sent through (see [alerts.smtp])."""

    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password_env: str = "MRUMONITOR_SMTP_PASSWORD"
    sender: str = "mrumonitor <alerts@localhost>"
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    attempts: int = Field(default=3, ge=1, le=20)
    retry_wait_s: float = Field(default=5.0, ge=0, le=3600)


class AlertSettings(_Strict):
    """When a change at a site is an alert, when its observation counts as clear, where subscriptions live, how
    watched areas are checked and how alerts are delivered (see [alerts])."""

    growth_min_ha: float = Field(default=5.0, ge=0, le=100000)
    growth_min_share: float = Field(default=0.5, ge=0, le=1000)
    border_min_ha: float = Field(default=2.0, ge=0, le=100000)
    max_gap_share: float = Field(default=0.2, gt=0, le=1)
    subscriptions: Path | None = None
    dashboard_url: str = "http://127.0.0.1:8050"
    operators: list[str] = []
    max_area_file_mb: float = Field(default=20.0, gt=0, le=2048)
    max_area_features: int = Field(default=1000, ge=1, le=1_000_000)
    max_area_vertices: int = Field(default=200_000, ge=4, le=100_000_000)
    max_area_km2: float = Field(default=500_000.0, gt=0)
    max_alerts_per_digest: int = Field(default=200, ge=1, le=100_000)
    smtp: SmtpSettings = SmtpSettings()

    @field_validator("subscriptions", mode="before")
    @classmethod
    def _empty_means_none(cls, value: Any) -> Any:
        return value or None

    @field_validator("dashboard_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError(f"dashboard_url = {value!r} is not an http(s) address; write the address people "
                             "open the dashboard at, e.g. \"https://mrumonitor.example.org\"")
        return value.rstrip("/")

    @field_validator("operators")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not EMAIL_PATTERN.fullmatch(address):
                raise ValueError(f"{address!r} is not an e-mail address (name@domain)")
        return value


class DaskSettings(_Strict):
    """Where raster processing runs: local threads, or a dask.distributed cluster (see [dask])."""

    scheduler_address: str = ""
    blocks_in_flight: int = Field(default=8, ge=1)


class Settings(_Strict):
    project: ProjectSettings
    crs: CRSSettings
    paths: PathSettings
    ingest: IngestSettings
    sources: dict[str, SourceSettings]
    raster: RasterSettings
    detector: DetectorSettings
    sites: SiteSettings
    activity: ActivitySettings
    capacity: CapacitySettings
    analysis: AnalysisSettings
    store: StoreSettings
    dashboard: DashboardSettings
    scheduler: SchedulerSettings = SchedulerSettings()
    dask: DaskSettings = DaskSettings()
    imagery: ImagerySettings = ImagerySettings()
    verification: VerificationSettings = VerificationSettings()
    alerts: AlertSettings = AlertSettings()
    config_files: tuple[Path, ...] = ()

    @model_validator(mode="after")
    def _sources_in_project(self) -> Settings:
        for name, source in self.sources.items():
            if source.country not in self.project.countries:
                raise ValueError(
                    f"sources.{name}.country is {source.country!r}, which is not in project.countries "
                    f"({', '.join(self.project.countries)})"
                )
        for name, spec in self.activity.inputs.items():
            if spec.kind == "stac" and spec.provider not in self.imagery.providers:
                raise ValueError(f"activity.inputs.{name}.provider is {spec.provider!r}, which names no "
                                 f"[imagery.providers.<name>] block (there are: "
                                 f"{', '.join(self.imagery.providers) or 'none'}); use one of them or add yours")
        return self

    @model_validator(mode="after")
    def _one_file_per_snapshot(self) -> Settings:
        """A country's cadastre may be several sources: the sources with the same `snapshot` date form one
        snapshot, those without a date are in force for every period. What cannot be is one file (and layer)
        read by two sources: it would be two snapshots of the same export, or the same records twice."""
        seen: dict[tuple, str] = {}
        for name, source in self.sources.items():
            key = (source.file, source.layer)
            if key in seen:
                other = self.sources[seen[key]]
                dates = ", ".join(str(s.snapshot or "no snapshot date") for s in (other, source))
                raise ValueError(f"sources.{seen[key]} and sources.{name} both read {source.file}"
                                 f"{f' (layer {source.layer!r})' if source.layer else ''} ({dates}): a file is one "
                                 "export of one day. Give each dated snapshot its own file, and remove the copy")
            seen[key] = name
        return self

    @property
    def imagery_cache(self) -> Path:
        """Where STAC composites are kept between runs: ``paths.imagery_cache``, else ``<store>/imagery-cache``."""
        return self.paths.imagery_cache or self.paths.store / "imagery-cache"

    @property
    def ledger(self) -> Path:
        """The verification ledger: ``verification.ledger``, else ``<store>/verification/ledger.sqlite``."""
        return self.verification.ledger or self.paths.store / "verification" / "ledger.sqlite"

    @property
    def subscriptions(self) -> Path:
        """The alert subscriptions and their deliveries: ``alerts.subscriptions``, else
        ``<store>/alerts/subscriptions.sqlite``."""
        return self.alerts.subscriptions or self.paths.store / "alerts" / "subscriptions.sqlite"

    @property
    def analysis_crs(self) -> CRS:
        return norm_crs(self.crs.analysis, "crs.analysis")

    def fingerprint(self) -> str:
        """A short hash of the effective configuration, for manifests and logs.

        Where and when the work runs ([dask], [scheduler]) changes no result, so it is left out: a run on a
        cluster and the same run on local threads carry the same fingerprint.
        """
        payload = self.model_dump(mode="json", exclude={"config_files", "dask", "scheduler"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def load_settings(path: str | Path | None = None) -> Settings:
    """Build the settings from configs/default.toml, with the file at `path` (if any) merged on top."""
    default = default_config_path()
    raw = _read_toml(default, base_dir=project_root())
    files = [default]
    if path is not None:
        path = Path(path)
        raw = _merge(raw, _read_toml(path, base_dir=path.resolve().parent))
        files.append(path)
    raw["config_files"] = tuple(files)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, files[-1])) from None


def _read_toml(path: Path, base_dir: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found. Pass an existing file with --config.") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a configuration file. Pass the .toml file with --config.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: the configuration file cannot be read ({exc.strerror}). Check that it exists "
                          "and that you may read it.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: is not UTF-8 text (byte {exc.start}: {exc.reason}); a TOML file must be UTF-8. "
                          "Save it again as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix the syntax at that line.") from None
    return _resolve_paths(raw, base_dir)


def _resolve_paths(raw: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Make the path-valued keys of one file absolute, relative to that file's base folder.

    Tables of the wrong type are left as they are, for validation to name them.
    """

    def resolve(value: Any) -> Any:
        return str((base_dir / value).resolve()) if isinstance(value, str) and value else value

    def table(parent: Any, key: str) -> dict[str, Any]:
        value = parent.get(key) if isinstance(parent, dict) else None
        return value if isinstance(value, dict) else {}

    def resolve_key(parent: dict[str, Any], key: str) -> None:
        if key in parent:
            parent[key] = resolve(parent[key])

    paths = table(raw, "paths")
    for key in paths:
        resolve_key(paths, key)
    for source in table(raw, "sources").values():
        if isinstance(source, dict):
            resolve_key(source, "file")
    analysis = table(raw, "analysis")
    resolve_key(analysis, "commodity_zones")
    for admin in table(analysis, "admin").values():
        if isinstance(admin, dict):
            resolve_key(admin, "file")
    resolve_key(table(raw, "dashboard"), "views")
    resolve_key(table(raw, "capacity"), "declared")
    resolve_key(table(raw, "verification"), "ledger")
    resolve_key(table(raw, "alerts"), "subscriptions")
    for provider in table(table(raw, "imagery"), "providers").values():
        if isinstance(provider, dict):
            resolve_key(provider, "folder")
    for activity in table(table(raw, "activity"), "inputs").values():
        if isinstance(activity, dict):
            resolve_key(activity, "path")
    return raw


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge tables; any other value in `override` replaces the one in `base`."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _explain(exc: ValidationError, path: Path) -> str:
    lines = [f"{path}: the configuration is not valid."]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "this key is required"
        elif error["type"] == "finite_number":
            message = f"got {error['input']!r}; write a finite number here (TOML's inf and nan are not allowed)"
        elif not error["type"].startswith("value_error") and _shown(error.get("input")):
            message += f" (got {error['input']!r})"
        lines.append(f"  - {key}: {message}")
    lines.append("Every key is described in configs/default.toml.")
    return "\n".join(lines)


def _shown(value: Any) -> bool:
    """Whether a bad value is short enough to quote in a message (a whole table is not)."""
    return not isinstance(value, (dict, list, tuple)) and len(repr(value)) <= 80
