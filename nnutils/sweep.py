"""Run independent, seeded trials in parallel: joblib on one machine, or a Dask cluster given its address.

Every trial runs with one intra-op thread, so its numbers are identical whichever backend (or how many workers)
runs it. ``NNUTILS_JOBS`` sets the default number of local workers (1 when unset: plain sequential execution).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch
from joblib import Parallel, delayed, parallel_backend


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


def run_trials(
    fn: Callable[..., Any],
    trials: Sequence[Mapping[str, Any]],
    n_jobs: int | None = None,
    address: str | None = None,
) -> list[Any]:
    """Return ``[fn(**t) for t in trials]``, in order, computed in parallel.

    ``n_jobs`` local joblib workers (default ``default_jobs()``; 1 runs in this process). ``address`` (for example
    ``"tcp://10.0.0.5:8786"``) sends the trials to that Dask scheduler instead. ``fn`` must seed itself from its
    keywords (a ``seed`` key, say) so that the result does not depend on which worker ran it.
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
            return Parallel()(delayed(_one_thread)(fn, t) for t in trials)
    jobs = default_jobs() if n_jobs is None else n_jobs
    if jobs == 1 or len(trials) <= 1:
        return [_one_thread(fn, t) for t in trials]
    return Parallel(n_jobs=jobs)(delayed(_one_thread)(fn, t) for t in trials)
