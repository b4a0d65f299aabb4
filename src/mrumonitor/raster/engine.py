"""Where raster work runs: local threads, or a dask.distributed cluster — the same graphs either way.

Every raster step builds a dask graph and computes it with ``dask.compute`` (or ``.compute()``), which runs on
the current dask scheduler. `dask_engine` picks it for the duration of a stage: the threaded scheduler by
default, or a `distributed.Client` connected to ``[dask] scheduler_address`` (the environment variable
`ENV_SCHEDULER` overrides the configuration), installed as the default scheduler. Nothing else changes: the
tasks read their inputs by path, so the workers must see the same input and store paths (a shared disk).

`compute_bounded` computes many blocks with a bounded number in flight: a COG is written block by block,
and computing one block per round trip leaves a cluster idle (and every block at once would hold the whole
raster in memory).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import dask
import dask.array as da
import numpy as np

from mrumonitor.config import DaskSettings
from mrumonitor.errors import ConfigError

log = logging.getLogger(__name__)

#: Environment variable naming a dask.distributed scheduler; overrides ``[dask] scheduler_address``.
ENV_SCHEDULER = "MRUMONITOR_DASK_SCHEDULER"

_CONNECT_TIMEOUT_S = 30


def scheduler_address(settings: DaskSettings) -> str:
    """The dask.distributed scheduler to use ("" for local threads): the environment variable, else the config."""
    return os.environ.get(ENV_SCHEDULER, "").strip() or settings.scheduler_address.strip()


@contextmanager
def dask_engine(settings: DaskSettings) -> Iterator[str]:
    """Run the raster work inside this block on local threads or on the configured cluster.

    Yields a description of the engine, for the log. A cluster that cannot be reached is a `ConfigError`
    naming the address.
    """
    address = scheduler_address(settings)
    if not address:
        with dask.config.set(scheduler="threads"):
            yield "local threads"
        return
    from distributed import Client

    try:
        client = Client(address, timeout=_CONNECT_TIMEOUT_S, set_as_default=True)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"the dask scheduler at {address!r} cannot be reached ({exc}); start it, fix "
                          f"[dask] scheduler_address (or {ENV_SCHEDULER}), or leave it empty for local threads."
                          ) from None
    with client:
        workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        yield f"dask.distributed at {address} ({workers} workers)"


def compute_bounded(blocks: Sequence[da.Array], in_flight: int) -> Iterator[tuple[int, np.ndarray]]:
    """Compute `blocks` on the current scheduler, `in_flight` at a time; yields (index, value) in order."""
    for start in range(0, len(blocks), in_flight):
        batch = blocks[start:start + in_flight]
        yield from enumerate(dask.compute(*batch), start=start)
