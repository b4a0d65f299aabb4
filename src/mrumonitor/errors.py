"""The project's exception tree: one root, a few narrow subclasses.

Every message names what was wrong (the file, the key or the record) and how to fix it, so the
command line can print it as it is, without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class MruError(Exception):
    """Root of every error mrumonitor raises on purpose."""


class ConfigError(MruError):
    """The configuration has an unknown key, a bad value or a missing file."""


class InputFileError(MruError):
    """An input file cannot be read at all (missing, corrupt, truncated, unsafe)."""

    def __init__(self, path: str | Path, problem: str, fix: str | None = None):
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        message = f"{self.path}: {problem}"
        if fix:
            message += f" Fix: {fix}"
        super().__init__(message)

    def __reduce__(self):
        # raised inside dask.distributed workers, it must unpickle as itself, not as a plain Exception
        return (type(self), (self.path, self.problem, self.fix))


class MissingCRSError(InputFileError):
    """A spatial file declares no CRS and the configuration does not say which one to assume."""


class ReferenceDataError(MruError):
    """The committed reference layers (boundaries, borders, border posts) are missing or inconsistent."""


class StageInputError(MruError):
    """A stage needs the output of an earlier stage that is not there (e.g. analyse before detect)."""


class ImageryUnavailable(MruError):
    """A STAC API cannot be searched (down, unreachable, answering errors after the retries): the run stops
    before publishing anything, with the address and the answer it got."""


class StoreError(MruError):
    """The layer store cannot be read or written: no such run, a damaged run, a full disk, a read-only folder."""


class RunLockedError(StoreError):
    """Another process holds the layer store's lock: a run is already writing to it."""


class ExportError(MruError):
    """A layer export cannot be made: unknown layer, format or country, or a format the layer cannot take."""


class AreaError(MruError):
    """A watched area cannot be used: an uploaded or drawn area that is empty, not a polygon, self-intersecting,
    too large or outside the region, or a country, corridor, admin area or licence the run does not hold (the
    message names the file or id, the feature, and the fix)."""


class SubscriptionError(MruError):
    """An alert subscription cannot be made, found or delivered as asked: an unknown user or subscription, an
    address that is not one, an alert kind, confidence or frequency that does not exist, too many subscriptions."""


class AccessDenied(MruError):
    """A dashboard user asked for data their role may not see (e.g. another country's site-level layer)."""


# --- what a request for a run's data may name wrongly; the dashboard answers each with one HTTP status
# (`mrumonitor.dashboard.answers.STATUS`), the command line with its message.


class UnknownRun(StoreError):
    """No published run of that id in the layer store (or no latest run)."""


class UnknownLayer(ExportError):
    """The run has no layer, period or map layer of that name."""


class UnsupportedFormat(ExportError):
    """An export format that is not known, or one the layer cannot take."""


class UnknownCountry(ExportError):
    """A country the run does not cover: not one of its countries, or one it holds no outline of."""


class UnknownSite(MruError):
    """The run has no site of that id."""


class UnknownFeature(UnknownSite):
    """A collection of the OGC API has no feature of that id, or none the user may see (answered alike)."""


class UnknownOption(MruError):
    """A request's option (``part=``) has a value the address does not take."""


class UnknownAddress(MruError):
    """A dashboard address that names nothing it serves (a wrong suffix or shape)."""


class VerificationError(MruError):
    """The verification ledger cannot be read or written, or names what it does not hold (an unknown sample)."""
