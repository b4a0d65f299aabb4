"""Where the files that ship with mrumonitor live: configs/ and layers/reference/.

In a source checkout (the editable install of the README) they sit at the project root; a wheel carries
them under `mrumonitor/_bundled/` with the same layout, so relative paths in default.toml work in both.
"""

from __future__ import annotations

from pathlib import Path

from mrumonitor.errors import ConfigError

_PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The folder that holds `configs/` and `layers/reference/`."""
    for candidate in (_PACKAGE_DIR / "_bundled", _PACKAGE_DIR.parent.parent):
        if (candidate / "configs" / "default.toml").is_file():
            return candidate
    raise ConfigError(
        f"configs/default.toml not found next to the package ({_PACKAGE_DIR}). "
        "Install mrumonitor from its source folder with `pip install -e .`."
    )


def default_config_path() -> Path:
    return project_root() / "configs" / "default.toml"
