"""`mrumonitor serve`: the dashboard, in production behind waitress (one process) or gunicorn (several worker
processes, Linux and macOS), or in Dash's debug server."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mrumonitor.config import Settings, load_settings
from mrumonitor.console import out

if TYPE_CHECKING:
    from mrumonitor.dashboard.run import RunData

log = logging.getLogger(__name__)

#: Worker threads of the production server (waitress): requests served at the same time.
DEFAULT_THREADS = 8
#: Connections waitress keeps open at once. A browser keeps up to 6 to a server; at waitress's default of 100,
#: the 17th user's new connections waited behind idle kept-alive ones (bench: 50 users, 1 request in 20 not
#: answered within 30 s).
CONNECTION_LIMIT = 1000
#: Published runs whose layers the server counts for the downloads page before it listens, the newest (at
#: 500,000 sites 13 s a run; a small one well under a second); an older run is counted when its page is first asked.
COUNTED_RUNS = 3
#: Seconds between two of waitress's notices that requests wait for a thread ("Task queue depth is N").
QUEUE_NOTICE_EVERY_S = 60.0


@click.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="TOML file merged over configs/default.toml (only the keys that differ). Default: the defaults.")
@click.option("--run", "run", metavar="ID|latest", default="latest", show_default=True,
              help="The published run to show: a run id, or latest.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 serves other machines of the network too.")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--debug", is_flag=True, help="Dash's development server: reloads on code changes, shows errors "
                                            "in the page. Never on a shared network.")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(1, 256),
              help="Requests served at the same time by the production server.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes. One: waitress. More: gunicorn, each worker serving --threads requests at "
                   "once; the run is loaded once before the workers start. About one per CPU core.")
@click.option("--hash-password", is_flag=True,
              help="Ask for a password twice and print its hash for `password_hash` in [dashboard.auth.users.*]; "
                   "serves nothing.")
def serve(config_file: Path | None, run: str, host: str, port: int, debug: bool, threads: int, workers: int,
          hash_password: bool) -> None:
    """Serve the regional dashboard of a published run in the browser.

    The dashboard reads the run's layers as published (it never runs the pipeline): where mining happens,
    which of it is unregistered, which border corridors carry activity away from official crossings, and
    downloads of every layer per country. By default it runs on waitress, a production WSGI server; with
    --debug, on Dash's development server. With [dashboard.auth] enabled, users log in with the names and
    password hashes of the configuration (make a hash with --hash-password) and the secret key is read from
    the environment variable named by `secret_key_env`. To run it under another WSGI server, point it at
    `mrumonitor.dashboard.wsgi:application` (see that module).
    """
    if hash_password:
        from mrumonitor.dashboard.access import hash_password as make_hash

        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        click.echo("Paste this into the user's block of the configuration:")
        click.echo(f'password_hash = "{make_hash(password)}"')  # one line, never wrapped
        return
    serve_dashboard(load_settings(config_file), run=run, host=host, port=port, debug=debug, threads=threads,
                    workers=workers)


def serve_dashboard(settings: Settings, run: str = "latest", host: str = "127.0.0.1", port: int = 8050,
                    debug: bool = False, threads: int = DEFAULT_THREADS, workers: int = 1) -> None:
    """Build the dashboard of run `run` and serve it until interrupted (Ctrl+C).

    Raises
    ------
    StoreError
        When the store has no such run (before anything listens).
    ConfigError
        When auth is enabled and its secret key is not set.
    """
    from mrumonitor.dashboard.app import create_app
    from mrumonitor.dashboard.run import load_run
    from mrumonitor.dashboard.security import waitress_limits
    from mrumonitor.store.runs import resolve_run

    run_dir = resolve_run(settings.paths.store, run)
    app = create_app(settings, run=run)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    login = " (log in with your user name and password)" if settings.dashboard.auth.enabled else ""
    out.print(f"Dashboard of run {run_dir.name}{' (the latest run)' if run == 'latest' else ''}: open "
              f"http://{shown}:{port}/ in a web browser{login}. Press Ctrl+C to stop it.")
    if debug:
        out.print("[yellow]debug mode[/]: Dash's development server, for development only.")
        app.run(host=host, port=port, debug=True)
        return
    data = load_run(settings, run)  # before listening: the first request does not wait for the run, workers share it
    prepare_answers(settings, data)
    app.server.test_client().get("/_dash-dependencies")  # Dash registers its callbacks on the first request
    if workers > 1:
        _serve_gunicorn(app.server, f"{host}:{port}", workers, threads)
        return
    import waitress

    logging.getLogger("waitress.queue").addFilter(QueueNotices())
    waitress.serve(app.server, host=host, port=port, threads=threads, connection_limit=CONNECTION_LIMIT,
                   ident="mrumonitor", **waitress_limits(settings.dashboard))


def prepare_answers(settings: Settings, data: RunData) -> None:
    """What the server computes before it listens, and before gunicorn's workers fork (they then share it), so that
    no request waits for it: the downloads page's counts (`count_newest_runs`), and the map's cells of the regional
    team for run `data` (`site_tiles.prepare_cells`)."""
    from mrumonitor.dashboard.access import REGIONAL
    from mrumonitor.dashboard.site_tiles import prepare_cells

    count_newest_runs(settings, data.countries)
    prepare_cells(data, REGIONAL)


def count_newest_runs(settings: Settings, countries: list[str]) -> None:
    """Count the layers of the `COUNTED_RUNS` newest published runs for each of `countries`, as the downloads page
    shows them (`layer_counts.count_every_layer`)."""
    from mrumonitor.dashboard.layer_counts import count_every_layer
    from mrumonitor.store.runs import list_runs

    for published in [summary for summary in list_runs(settings.paths.store)
                      if summary.status == "published"][-COUNTED_RUNS:]:
        count_every_layer(published.path, countries)


def _serve_gunicorn(application, bind: str, workers: int, threads: int) -> None:
    """`application` on gunicorn: `workers` processes forked from this one (so they share the loaded run),
    `threads` threads each."""
    from gunicorn.app.base import BaseApplication

    from mrumonitor.dashboard.security import gunicorn_limits

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
                               "preload_app": True, "timeout": 120, "accesslog": None, **gunicorn_limits()}.items():
                self.cfg.set(key, value)

        def load(self):
            return application

    Server().run()


class QueueNotices(logging.Filter):
    """Lets waitress's notice that requests wait for a free thread through once per `QUEUE_NOTICE_EVERY_S`.

    Waitress logs it for every request that arrives while its threads are busy, under the lock its threads take
    their next request with: at 500,000 sites and 50 users, printing those lines took 7 % of the server's CPU and
    held up the threads, so a busy server got slower for saying so."""

    def __init__(self, every_s: float = QUEUE_NOTICE_EVERY_S) -> None:
        super().__init__()
        self.every_s, self._last = every_s, None

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.every_s:
            return False
        self._last = now
        return True
