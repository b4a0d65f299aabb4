"""The dashboard as a WSGI application, for a WSGI server other than `mrumonitor serve`.

Configured by environment variables, read when this module is imported:

- ``MRUMONITOR_CONFIG``: the configuration file (default: the defaults, configs/default.toml);
- ``MRUMONITOR_RUN``: the run to show, a run id or ``latest`` (the default);
- the secret key variable named by ``[dashboard.auth] secret_key_env`` when auth is enabled.

Examples (with the request limits `mrumonitor serve` sets itself, see `security`; Flask refuses a body over
``[dashboard] max_request_kb`` whatever the server)::

    MRUMONITOR_CONFIG=/srv/mru/mrumonitor.toml waitress-serve --threads 8 --connection-limit 1000 --port 8050 \\
        --max-request-body-size 1048576 --max-request-header-size 65536 mrumonitor.dashboard.wsgi:application
    MRUMONITOR_CONFIG=/srv/mru/mrumonitor.toml gunicorn --workers 2 --threads 4 --bind 127.0.0.1:8050 \\
        --limit-request-line 8190 --limit-request-fields 100 --limit-request-field_size 8190 \\
        mrumonitor.dashboard.wsgi:application

Only servers import this module: importing it builds the app (it reads the run's manifest).
"""

from __future__ import annotations

import os

from mrumonitor.config import load_settings
from mrumonitor.dashboard.app import create_app

#: The Dash app, built from the environment.
app = create_app(load_settings(os.environ.get("MRUMONITOR_CONFIG") or None),
                 run=os.environ.get("MRUMONITOR_RUN") or "latest")

#: What WSGI servers call.
application = app.server
