"""Raster processing on a dask.distributed cluster: the same code path, identical results."""

from __future__ import annotations

import threading

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
from run_inputs import PERIODS, write_run_inputs

from mrumonitor.config import DaskSettings, load_settings
from mrumonitor.errors import ConfigError
from mrumonitor.raster.engine import ENV_SCHEDULER, compute_bounded, dask_engine, scheduler_address
from mrumonitor.raster.run import detect

pytestmark = pytest.mark.integration

distributed = pytest.importorskip("distributed")


@pytest.mark.slow
def test_detect_on_a_local_cluster_equals_the_local_run(tmp_path):
    settings = load_settings(write_run_inputs(tmp_path))
    local = detect(settings, out=tmp_path / "local")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_cluster = settings.model_copy(update={"dask": DaskSettings(scheduler_address=cluster.scheduler_address)})
        with distributed.Client(cluster) as client:
            remote = detect(on_cluster, out=tmp_path / "cluster")
            assert sum(client.run(lambda dask_worker: len(dask_worker.data) + dask_worker.state.executed_count
                                  ).values()) > 0, "the workers computed nothing"
    for period in PERIODS:
        assert local.activity[period].read_bytes() == remote.activity[period].read_bytes()
    for name in ("sites", "site_periods", "site_country_areas"):
        pd.testing.assert_frame_equal(getattr(local.sites, name), getattr(remote.sites, name))


def test_the_environment_variable_overrides_the_configuration(monkeypatch):
    monkeypatch.setenv(ENV_SCHEDULER, "tcp://10.0.0.5:8786")
    assert scheduler_address(DaskSettings(scheduler_address="tcp://other:1")) == "tcp://10.0.0.5:8786"
    monkeypatch.delenv(ENV_SCHEDULER)
    assert scheduler_address(DaskSettings()) == ""


@pytest.mark.slow
def test_an_unreachable_cluster_is_a_config_error(monkeypatch):
    monkeypatch.setattr("mrumonitor.raster.engine._CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ConfigError, match="cannot be reached"), dask_engine(DaskSettings(
            scheduler_address="tcp://127.0.0.1:9")):
        pass


def test_blocks_in_flight_are_bounded():
    lock, state = threading.Lock(), {"running": 0, "most": 0}

    def block(value):
        with lock:
            state["running"] += 1
            state["most"] = max(state["most"], state["running"])
        threading.Event().wait(0.01)
        with lock:
            state["running"] -= 1
        return np.full((2, 2), value)

    blocks = [da.from_delayed(dask.delayed(block)(i), (2, 2), dtype=int) for i in range(12)]
    with dask_engine(DaskSettings()):
        results = list(compute_bounded(blocks, 3))
    assert [index for index, _ in results] == list(range(12))
    assert [int(value[0, 0]) for _, value in results] == list(range(12))
    assert 1 < state["most"] <= 3
