"""Chapter 4a: sweeps and cross-validation of the from-scratch NumPy MLP (``nnutils.backprop.train_mlp``), and
``MLPTrials``, which trains each distinct setting once and keeps its network. Every trial is a module-level
function, so that parallel workers (``nnutils.sweep.run_trials``) can run it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .backprop import train_mlp
from .history import Run
from .scratch import evaluate
from .sweep import grid, run_trials

MLP_METRICS = ("train_acc", "val_acc", "train_loss", "val_loss", "epochs", "seconds")


def mlp_trial_run(train: tuple, val: tuple, **setting) -> tuple[dict, Run]:
    """One sweep trial: train ``backprop.train_mlp`` on ``train``, measure it on ``val``; its table row and its
    trained ``Run``."""
    run = train_mlp(train, val, **setting)
    train_loss, train_acc = evaluate(run.model, *train, setting.get("loss", "cross_entropy"))
    h = run.history
    metrics = dict(train_acc=train_acc, val_acc=h.val_acc[-1], train_loss=train_loss, val_loss=h.val_loss[-1])
    return setting | metrics | {"epochs": len(h), "seconds": sum(h.seconds)}, run


def mlp_trial(train: tuple, val: tuple, **setting) -> dict:
    """One sweep trial's table row (``mlp_trial_run`` without the network)."""
    return mlp_trial_run(train, val, **setting)[0]


def mlp_sweep(train: tuple, val: tuple, vary: dict[str, Sequence], n_jobs: int | None = None, **fixed):
    """Train one NumPy MLP per combination of the values in ``vary`` (a grid), everything else ``fixed``, each
    measured on the validation set ``val``: a table, one row per setting, the same for any number of workers."""
    trials = [{"train": train, "val": val, **fixed, **combo} for combo in grid(**vary)]
    rows = run_trials(mlp_trial, trials, n_jobs=n_jobs)
    return pd.DataFrame([{k: row[k] for k in [*vary, *MLP_METRICS]} for row in rows])


def mlp_fold_trial(x, y, kept, held, fold: int, **setting) -> dict:
    """One cross-validation fold: train the NumPy MLP on ``kept``, measure it on the held-out ``held``."""
    run = train_mlp((x[kept], y[kept]), (x[held], y[held]), **setting)
    h = run.history
    return {
        "fold": fold,
        "train_acc": evaluate(run.model, x[kept], y[kept])[1],
        "val_acc": h.val_acc[-1],
        "seconds": sum(h.seconds),
    }


def cross_validate_mlp(x, y, k: int = 5, seed: int = 0, n_jobs: int | None = None, **setting):
    """k-fold cross-validation of one NumPy MLP setting: each fold is held out once (``val_acc``); one row per
    fold, the folds run in parallel."""
    if not 2 <= k <= len(y):
        raise ValueError(f"k must lie between 2 and the number of examples ({len(y)}), not {k}.")
    folds = np.array_split(np.random.default_rng(seed).permutation(len(y)), k)
    trials = [
        {
            "x": x,
            "y": y,
            "kept": np.concatenate([f for j, f in enumerate(folds) if j != i]),
            "held": held,
            "fold": i + 1,
            "seed": seed,
            **setting,
        }
        for i, held in enumerate(folds)
    ]
    return pd.DataFrame(run_trials(mlp_fold_trial, trials, n_jobs=n_jobs))


class MLPTrials:
    """NumPy MLP trials on one training and validation split, each distinct setting trained once: ``sweep`` trains
    only the settings not seen before (in parallel, as ``mlp_sweep``), ``run`` hands back a trained ``Run``."""

    def __init__(self, train: tuple, val: tuple, n_jobs: int | None = None):
        self.train, self.val, self.n_jobs = train, val, n_jobs
        self.rows: dict[tuple, dict] = {}
        self.runs: dict[tuple, Run] = {}

    @staticmethod
    def key(setting: Mapping) -> tuple:
        """A setting as a hashable key (lists become tuples), the same whatever the order of its keywords."""
        return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in setting.items()))

    def train_all(self, settings: Sequence[Mapping]) -> None:
        """Train the settings not trained yet (each once, even if listed twice)."""
        new = list({self.key(s): dict(s) for s in settings if self.key(s) not in self.runs}.values())
        trials = [{"train": self.train, "val": self.val, **s} for s in new]
        for s, (row, run) in zip(new, run_trials(mlp_trial_run, trials, n_jobs=self.n_jobs)):
            self.rows[self.key(s)], self.runs[self.key(s)] = row, run

    def sweep(self, vary: Mapping[str, Sequence], **fixed) -> pd.DataFrame:
        """``mlp_sweep``'s table, one row per combination of ``vary``; settings already trained are reused."""
        settings = [fixed | combo for combo in grid(**vary)]
        self.train_all(settings)
        return pd.DataFrame([{k: self.rows[self.key(s)][k] for k in [*vary, *MLP_METRICS]} for s in settings])

    def run(self, **setting) -> Run:
        """The trained ``Run`` of one setting (trained now if it was not yet)."""
        self.train_all([setting])
        return self.runs[self.key(setting)]
