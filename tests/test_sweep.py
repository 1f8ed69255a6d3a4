"""Sweeps: grid(), bad input, and identical results in one process, with joblib workers and on a Dask cluster."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from nnutils.sweep import default_jobs, grid, run_trials

sys.path.insert(0, str(Path(__file__).parent))
from sweep_trials import tiny_training  # noqa: E402  (importable by the workers too: see the fixture below)

TRIALS = grid(seed=[0, 1], hidden=[2, 8])


def test_grid_lists_every_combination_in_order():
    assert grid(a=[1, 2], b=["x"]) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert grid() == [{}]
    assert len(TRIALS) == 4 and TRIALS[1] == {"seed": 0, "hidden": 8}


@pytest.mark.parametrize("bad", ["abc", 3, None])
def test_grid_rejects_an_axis_that_is_not_a_list(bad):
    with pytest.raises(ValueError, match="must be a list of values"):
        grid(a=bad)


def test_bad_trials_and_job_counts_are_rejected(monkeypatch):
    with pytest.raises((ValueError, TypeError)):
        run_trials(tiny_training, [1, 2])
    monkeypatch.setenv("NNUTILS_JOBS", "many")
    with pytest.raises(ValueError, match="NNUTILS_JOBS"):
        default_jobs()
    monkeypatch.setenv("NNUTILS_JOBS", "-1")
    assert default_jobs() == (os.cpu_count() or 1)


def test_one_and_two_local_workers_give_identical_results():
    serial = run_trials(tiny_training, TRIALS, n_jobs=1)
    assert serial == [tiny_training(**t) for t in TRIALS]
    assert run_trials(tiny_training, TRIALS, n_jobs=2) == serial
    assert len(set(serial)) == 4  # the trials really differ


def test_a_dask_cluster_gives_the_same_results(monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    # Worker processes import the trial's module by name: let them find tests/ on their path.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    serial = run_trials(tiny_training, TRIALS, n_jobs=1)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert run_trials(tiny_training, TRIALS, address=cluster.scheduler_address) == serial
