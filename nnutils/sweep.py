"""Run independent, seeded trials in parallel (joblib on one machine, or a Dask cluster given its address), and
the seed and setting searches built on them.

Every trial runs with one intra-op thread, so its numbers are identical whichever backend (or how many workers)
runs it. ``NNUTILS_JOBS`` sets the default number of local workers (1 when unset: plain sequential execution).
"""

from __future__ import annotations

import inspect
import itertools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import torch
from joblib import Parallel, delayed, parallel_backend

from . import work
from .ensemble import architecture
from .history import Run
from .training import set_seed


def grid(**axes: Iterable) -> list[dict[str, Any]]:
    """Every combination of the given axes as a list of keyword dicts: ``grid(a=[1, 2], b=[3])``."""
    for name, values in axes.items():
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise ValueError(f"grid axis {name!r} must be a list of values, not {values!r}.")
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*(list(axes[n]) for n in names))]


def default_jobs() -> int:
    """Local workers: ``NNUTILS_JOBS`` if set (``-1``: one per core), else 1."""
    raw = os.environ.get("NNUTILS_JOBS", "1")
    try:
        jobs = int(raw)
    except ValueError:
        raise ValueError(f"NNUTILS_JOBS must be a worker count (or -1: one per core), not {raw!r}.") from None
    return (os.cpu_count() or 1) if jobs == -1 else max(1, jobs)


def _one_thread(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> Any:
    """Call ``fn(**kwargs)`` with torch limited to one thread, then restore the thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn(**kwargs)
    finally:
        torch.set_num_threads(threads)


def _counted(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> tuple[Any, dict[str, float], int]:
    """``_one_thread`` in a worker: the result, the work it tallied there (``nnutils.work``) and the worker's pid."""
    before = work.total()
    result = _one_thread(fn, kwargs)
    return result, {k: v - before[k] for k, v in work.total().items()}, os.getpid()


def _gathered(outputs: Iterable[tuple[Any, dict[str, float], int]]) -> list[Any]:
    """The workers' results, their work added to this process's tally (unless a worker was this process)."""
    results = []
    for result, done, pid in outputs:
        if pid != os.getpid():
            work.add(done["flops"], int(done["examples"]), done["bytes"])
        results.append(result)
    return results


def run_trials(
    fn: Callable[..., Any],
    trials: Sequence[Mapping[str, Any]],
    n_jobs: int | None = None,
    address: str | None = None,
) -> list[Any]:
    """Return ``[fn(**t) for t in trials]``, in order, computed in parallel.

    ``n_jobs`` local joblib workers (default ``default_jobs()``; 1 runs in this process). ``address`` (for example
    ``"tcp://10.0.0.5:8786"``) sends the trials to that Dask scheduler instead. ``fn`` must seed itself from its
    keywords (a ``seed`` key, say) so that the result does not depend on which worker ran it. The work the trials
    tally in other processes is added to this one's (``nnutils.work``), as if they had run here.
    """
    trials = [dict(t) for t in trials]
    if not all(isinstance(t, dict) for t in trials):
        raise ValueError("trials must be a list of keyword dicts, as made by nnutils.sweep.grid.")
    if address is not None:
        try:
            from dask.distributed import Client
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("Sweeps on a cluster need dask.distributed: pip install 'dask[distributed]'.") from err
        with Client(address), parallel_backend("dask"):
            return _gathered(Parallel()(delayed(_counted)(fn, t) for t in trials))
    jobs = default_jobs() if n_jobs is None else n_jobs
    if jobs == 1 or len(trials) <= 1:
        return [_one_thread(fn, t) for t in trials]
    return _gathered(Parallel(n_jobs=jobs)(delayed(_counted)(fn, t) for t in trials))


# ------------------------------------------------------------------------------ seed and setting searches


def split_setting(setting: Mapping[str, Any], train: Callable[..., Run]) -> tuple[dict, dict]:
    """A search setting split into the model's keywords and the training function's (its parameter names)."""
    params = inspect.signature(train).parameters
    train_kw = {k: v for k, v in setting.items() if k in params}
    return {k: v for k, v in setting.items() if k not in params}, train_kw


def search_row(setting: Mapping[str, Any], seed: int, run: Run) -> dict:
    """One row of a search table: the setting, the seed, the epoch reached, solved, final accuracy and seconds."""
    return {
        **setting,
        "seed": seed,
        "epochs": run.epochs,
        "solved": run["solved"],
        "train_acc": run["train_acc"],
        "seconds": run.seconds,
    }


def search_trial(
    build: Callable[..., Any], data: tuple, setting: dict, seed: int, train: Callable[..., Run], train_options: dict
) -> dict:
    """One run of a search, seeded from ``seed``: build the net for ``setting``, train it, return its table row.

    Module-level (picklable) so that :func:`run_trials` can send it to another process.
    """
    model_kw, train_kw = split_setting(setting, train)
    set_seed(seed)
    model = build(**model_kw)
    return search_row(setting, seed, train(model, data, seed=seed, **{**train_options, **train_kw}))


def seed_search(
    build: Callable[..., Any],
    data: tuple,
    settings: dict[str, Sequence] | Sequence[dict],
    seeds: Sequence[int],
    *,
    train: Callable[..., Run],
    train_many: Callable[..., list[Run]] | None = None,
    n_jobs: int | None = None,
    **train_options,
) -> pd.DataFrame:
    """Train ``build(**setting)`` for every setting and every seed; one row per run.

    ``settings`` maps constructor or training keywords to lists of values, whose product is searched (or is a
    list of keyword dicts, when the settings are not a product); a key that ``train`` takes (``lr``,
    ``batch_size`` ...) goes to it, the others to ``build``. ``train(model, data, seed=..., **options)`` returns a
    ``Run`` whose ``info`` has ``solved`` and ``train_acc`` (as :func:`nnutils.spirals.train_to_perfect`). The
    rows hold the setting, the seed, the epoch reached, whether it reached 100%, the last accuracy and the
    seconds. The runs go through :func:`run_trials` on ``n_jobs`` workers; each seeds itself, so the table
    (apart from ``seconds``) is the same for any ``n_jobs``.

    ``train_many(models, data, seeds, **options) -> [Run]`` (e.g. :func:`nnutils.spirals.train_many_to_perfect`)
    trains the nets of one architecture and one training setting together (nets that differ only in their hidden
    sizes are one group), as one ensemble per group: the same table, to float tolerance, faster.
    """
    if not settings or not seeds:
        raise ValueError("seed_search needs a non-empty grid of settings and at least one seed.")
    settings = grid(**settings) if isinstance(settings, dict) else [dict(s) for s in settings]
    if "verbose" in inspect.signature(train).parameters:
        train_options = {"verbose": False, **train_options}
    if train_many is not None:
        groups = search_groups(build, settings, seeds, train)
        trials = [{**g, "data": data, "train_many": train_many, "train_options": train_options} for g in groups]
        rows = dict(pair for group in run_trials(search_group, trials, n_jobs=n_jobs) for pair in group)
        return pd.DataFrame([rows[i] for i in range(len(rows))])
    trials = [
        {"build": build, "data": data, "setting": s, "seed": seed, "train": train, "train_options": train_options}
        for s in settings
        for seed in seeds
    ]
    return pd.DataFrame(run_trials(search_trial, trials, n_jobs=n_jobs))


def search_groups(build: Callable[..., Any], settings: list[dict], seeds: Sequence[int], train: Callable) -> list[dict]:
    """Every (setting, seed) net, built and seeded as its lone run would be, grouped by architecture
    (:func:`nnutils.ensemble.architecture`: hidden sizes may differ) and training keywords: the groups one
    ensemble can train. Each member is (row number, setting, seed, model)."""
    groups: dict[str, dict] = {}
    for setting in settings:
        model_kw, train_kw = split_setting(setting, train)
        for seed in seeds:
            set_seed(seed)
            model = build(**model_kw)
            key = repr((architecture(model), sorted(train_kw.items())))
            group = groups.setdefault(key, {"train_kw": train_kw, "members": []})
            group["members"].append((sum(len(g["members"]) for g in groups.values()), setting, seed, model))
    return list(groups.values())


def search_group(
    members: list[tuple], train_kw: dict, data: tuple, train_many: Callable[..., list[Run]], train_options: dict
) -> list[tuple[int, dict]]:
    """Train one group of :func:`search_groups` as one ensemble; (row number, table row) per member."""
    models, seeds = [m[3] for m in members], [m[2] for m in members]
    runs = train_many(models, data, seeds, **{**train_options, **train_kw})
    return [(i, search_row(setting, seed, run)) for (i, setting, seed, _), run in zip(members, runs)]


def summarize_search(runs: pd.DataFrame, by: str | Sequence[str]) -> pd.DataFrame:
    """Per setting: runs, how many reached 100% and the median / min / max epoch reached.

    A failed run counts with the epoch cap it stopped at, so with failures the median is a lower bound.
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = set(by) - set(runs.columns)
    if missing:
        raise ValueError(f"Columns {sorted(missing)} are not in the runs table: it has {list(runs.columns)}.")

    def one(group: pd.DataFrame) -> pd.Series:
        epochs = group["epochs"]
        return pd.Series(
            {
                "runs": len(group),
                "solved": int(group["solved"].sum()),
                "failed": int((~group["solved"]).sum()),
                "median_epochs": float(epochs.median()),
                "min_epochs": int(epochs.min()),
                "max_epochs": int(epochs.max()),
            }
        )

    table = runs.groupby(by, sort=True)[["epochs", "solved"]].apply(one).reset_index()
    return table.astype({k: int for k in ("runs", "solved", "failed", "min_epochs", "max_epochs")})


def smallest_reliable(summary: pd.DataFrame, by: str = "hidden", every_seed: bool = True) -> int | None:
    """The smallest value of ``by`` whose runs all reached 100% (with ``every_seed=False``: at least one did);
    None if none did."""
    ok = summary["failed"] == 0 if every_seed else summary["solved"] > 0
    reliable = summary.loc[ok, by]
    return int(reliable.min()) if len(reliable) else None
