"""mrumonitor: mining activity, unregistered production and cross-border leakage for the Mano River Union."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mrumonitor")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
