"""Sweeps: grid(), bad input, identical results in one process, with joblib workers and on a Dask cluster; the
seed and setting searches and their summaries."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from nnutils import work
from nnutils.grid_task import GridNet, grid_task
from nnutils.spirals import (
    PolarNet,
    raw_variant,
    train_many_to_perfect,
    train_to_perfect,
    two_spirals,
)
from nnutils.sweep import (
    default_jobs,
    grid,
    run_trials,
    search_groups,
    seed_search,
    smallest_reliable,
    split_setting,
    summarize_search,
)

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


def test_the_work_of_trials_in_worker_processes_is_tallied_here_as_if_they_ran_here():
    work.reset()
    run_trials(tiny_training, TRIALS, n_jobs=1)
    alone = work.total()
    work.reset()
    run_trials(tiny_training, TRIALS, n_jobs=2)
    assert work.total() == alone and alone["flops"] > 0 and alone["examples"] == 4 * 3 * 64
    work.reset()


def test_a_dask_cluster_gives_the_same_results(monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    # Worker processes import the trial's module by name: let them find tests/ on their path.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    serial = run_trials(tiny_training, TRIALS, n_jobs=1)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        work.reset()
        assert run_trials(tiny_training, TRIALS, address=cluster.scheduler_address) == serial
        assert work.total()["examples"] == 4 * 3 * 64  # the workers' tallies, added here
        work.reset()


def test_a_setting_splits_into_model_and_training_keywords():
    model_kw, train_kw = split_setting({"hidden": 4, "lr": 0.1, "batch_size": 9}, train_to_perfect)
    assert model_kw == {"hidden": 4} and train_kw == {"lr": 0.1, "batch_size": 9}


def test_seed_search_and_summary():
    x, y = grid_task()
    runs = seed_search(
        GridNet, (x, y), {"hidden": [1, 5]}, seeds=[0, 1], train=train_to_perfect, lr=0.05, batch_size=9, max_epochs=200
    )
    assert list(runs.columns) == ["hidden", "seed", "epochs", "solved", "train_acc", "seconds"] and len(runs) == 4
    summary = summarize_search(runs, "hidden")
    assert summary["runs"].tolist() == [2, 2]
    assert summary.loc[summary.hidden == 1, "failed"].item() == 2  # one line cannot make a checkerboard
    assert summary.loc[summary.hidden == 1, "min_epochs"].item() == 200  # failures count at the cap
    with pytest.raises(ValueError, match="Columns"):
        summarize_search(runs, "width")
    with pytest.raises(ValueError, match="non-empty"):
        seed_search(GridNet, (x, y), {"hidden": [1]}, seeds=[], train=train_to_perfect)


def test_smallest_size_by_some_seed_and_by_every_seed():
    assert smallest_reliable(pd.DataFrame({"hidden": [1, 5], "solved": [0, 2], "failed": [2, 0]})) == 5
    some = pd.DataFrame({"hidden": [1, 3, 5], "solved": [0, 1, 3], "failed": [3, 2, 0]})
    assert smallest_reliable(some, every_seed=False) == 3 and smallest_reliable(some) == 5
    assert smallest_reliable(pd.DataFrame({"hidden": [1], "solved": [0], "failed": [3]})) is None


def test_seed_search_is_the_same_sequential_and_parallel():
    x, y = two_spirals(n_per_spiral=20)
    options = dict(settings={"hidden": [2, 4]}, seeds=[0, 1], lr=0.02, batch_size=20, max_epochs=15)
    sequential = seed_search(PolarNet, (x, y), train=train_to_perfect, n_jobs=1, **options).drop(columns="seconds")
    parallel = seed_search(PolarNet, (x, y), train=train_to_perfect, n_jobs=2, **options).drop(columns="seconds")
    pd.testing.assert_frame_equal(sequential, parallel)
    assert sequential[["hidden", "seed"]].values.tolist() == [[2, 0], [2, 1], [4, 0], [4, 1]]


def test_seed_search_takes_a_list_of_settings_and_raw_variants():
    x, y = two_spirals(n_per_spiral=10)
    settings = [{"variant": "relu", "batch_size": 10}, {"variant": "three_layers", "batch_size": 20}]
    build = functools.partial(raw_variant, hidden=3)
    runs = seed_search(build, (x, y), settings, seeds=[0], train=train_to_perfect, max_epochs=3)
    assert runs["variant"].tolist() == ["relu", "three_layers"] and runs["batch_size"].tolist() == [10, 20]


def test_a_search_trained_as_ensembles_gives_the_same_table(float64):
    # in float64: in float32 a net one rounding away from 100% reaches it an epoch apart on some CPUs (AVX-512)
    settings = [{"hidden": 5, "init_scale": 0.15}, {"hidden": 4, "init_scale": 0.15}, {"hidden": 5, "init_scale": 0.3}]
    options = dict(seeds=[0, 1, 3], train=train_to_perfect, lr=0.05, batch_size=9, max_epochs=400)
    task = tuple(t.double() for t in grid_task())
    apart = seed_search(GridNet, task, settings, **options)
    together = seed_search(GridNet, task, settings, train_many=train_many_to_perfect, **options)
    pd.testing.assert_frame_equal(apart.drop(columns="seconds"), together.drop(columns="seconds"))
    assert together["solved"].any() and not together["solved"].all()  # some nets stop early, others run on


@pytest.fixture
def float64():
    """New tensors and modules in float64 for one test."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def test_search_groups_follow_architecture_and_training_settings():
    settings = [{"hidden": 3}, {"hidden": 3, "lr": 0.1}, {"hidden": 4}, {"hidden": 3, "act": "relu"}]
    groups = search_groups(PolarNet, settings, [0, 1], train_to_perfect)
    assert [len(g["members"]) for g in groups] == [4, 2, 2]  # hidden sizes 3 and 4: one ensemble, padded
    assert [m[0] for g in groups for m in g["members"]] == [0, 1, 4, 5, 2, 3, 6, 7]
    assert groups[1]["train_kw"] == {"lr": 0.1}
