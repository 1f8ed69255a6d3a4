"""Chapter 2's spirals: the two-spirals benchmark, PolarNet and RawNet, and training a net to 100% (the grid task's
nets are in :mod:`nnutils.grid_task`).

Every net here ends in a sigmoid (one output, a probability), so it trains with ``loss="bce"``. Training to
100% goes through the workbook's one loop, :func:`nnutils.training.fit`, stopped by ``StopAt("train_acc", 1.0)``,
or, for many nets of one architecture at once, through :func:`nnutils.ensemble.fit_models`; the seed and setting
searches over such runs are in :mod:`nnutils.sweep`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import pandas as pd
import torch
from torch import nn

from .ensemble import fit_models
from .history import History, Run
from .models import activation, device_of
from .training import StopAt, evaluate, fit

Tensors = tuple[torch.Tensor, torch.Tensor]

# The plane shown in the spiral figures (a little more than the data's extent).
SPIRAL_XLIM = (-7.0, 7.0)
SPIRAL_YLIM = (-6.6, 6.7)


# ----------------------------------------------------------------------------------------------- data


def two_spirals(n_per_spiral: int = 97, turns: float = 3.0, max_radius: float = 6.5) -> Tensors:
    """The two-spirals benchmark (Lang and Witbrock, 1988): inputs (2 n, 2) and labels (2 n, 1) in {0, 1}.

    Point i of the first spiral (label 0) has angle ``i * 2 pi turns / (n - 1)`` and a radius that shrinks
    linearly from ``max_radius`` (to 0.5 in the classic 97-point setting); the second spiral (label 1) is its
    point reflection through the origin.
    """
    if n_per_spiral < 2 or turns <= 0 or max_radius <= 0:
        raise ValueError("two_spirals needs n_per_spiral >= 2, turns > 0 and max_radius > 0.")
    i = torch.arange(n_per_spiral, dtype=torch.float64)
    angle = i * (2 * math.pi * turns / (n_per_spiral - 1))
    radius = max_radius * (n_per_spiral + 7 - i) / (n_per_spiral + 7)
    first = torch.stack([radius * torch.sin(angle), radius * torch.cos(angle)], dim=1)
    x = torch.cat([first, -first]).float()
    y = torch.cat([torch.zeros(n_per_spiral, 1), torch.ones(n_per_spiral, 1)])
    return x, y


# --------------------------------------------------------------------------------------------- models


def init_normal_(model: nn.Module, scale: float) -> nn.Module:
    """Draw every parameter (weights and biases) from N(0, scale^2), as the reference code did."""
    if scale <= 0:
        raise ValueError(f"The initial-weight scale must be positive, got {scale}.")
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, scale)
    return model


def to_polar(x: torch.Tensor) -> torch.Tensor:
    """Cartesian (N, 2) -> (r, angle) with the angle from atan2 in (-pi, pi]."""
    return torch.stack([x.norm(dim=1), torch.atan2(x[:, 1], x[:, 0])], dim=1)


class ToPolar(nn.Module):
    """The coordinate change as a layer: (x, y) -> (r, angle)."""

    rowwise = True  # each row alone (norm of 2 numbers, atan2 on strided columns): nnutils.ensemble runs it once

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return to_polar(x)


class PolarNet(nn.Module):
    """(x, y) -> polar (r, angle) -> one hidden layer (tanh) -> sigmoid output.

    ``init_scale=None`` (the default) keeps PyTorch's initialisation, uniform in +-1/sqrt(fan-in), as the
    reference's PolarNet did; a number draws every parameter from N(0, init_scale^2) instead.
    """

    to_polar = staticmethod(to_polar)

    def __init__(self, hidden: int = 10, init_scale: float | None = None, act: str = "tanh"):
        super().__init__()
        self.polar = ToPolar()
        self.hidden_layers = nn.ModuleList([nn.Sequential(nn.Linear(2, hidden), activation(act))])
        self.output = nn.Sequential(nn.Linear(hidden, 1), nn.Sigmoid())
        if init_scale is not None:
            init_normal_(self, init_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.polar(x)
        for layer in self.hidden_layers:
            h = layer(h)
        return self.output(h)


class RawNet(nn.Module):
    """Raw (x, y) -> ``depth`` hidden layers of equal size (tanh by default) -> sigmoid output."""

    def __init__(self, hidden: int = 10, init_scale: float | None = 0.1, act: str = "tanh", depth: int = 2):
        super().__init__()
        if depth < 1:
            raise ValueError(f"RawNet needs at least one hidden layer, got depth={depth}.")
        sizes = [2] + [hidden] * depth
        self.hidden_layers = nn.ModuleList(
            nn.Sequential(nn.Linear(a, b), activation(act)) for a, b in zip(sizes[:-1], sizes[1:])
        )
        self.output = nn.Sequential(nn.Linear(hidden, 1), nn.Sigmoid())
        if init_scale is not None:
            init_normal_(self, init_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden_layers:
            x = layer(x)
        return self.output(x)


# The further experiments' RawNet variants: name -> (activation, number of hidden layers). The "report" ones are the
# first report's own runs, which changed the batch (full) and the initial scale (0.3) together: the same nets,
# named apart so that their rows stay apart in the tables.
RAW_VARIANTS = {"baseline": ("tanh", 2), "full_batch": ("tanh", 2), "relu": ("relu", 2), "three_layers": ("tanh", 3)}
RAW_VARIANTS |= {"report": ("tanh", 2), "report_relu": ("relu", 2), "report_three_layers": ("tanh", 3)}


def raw_variant(variant: str, hidden: int = 12, init_scale: float = 0.1) -> RawNet:
    """The RawNet of one further experiment (see ``RAW_VARIANTS``); the batch size is a training setting."""
    if variant not in RAW_VARIANTS:
        raise ValueError(f"Unknown RawNet variant {variant!r}: choose one of {', '.join(RAW_VARIANTS)}.")
    act, depth = RAW_VARIANTS[variant]
    return RawNet(hidden, init_scale=init_scale, act=act, depth=depth)


# ---------------------------------------------------------------------------------------- training


def perfect_options(lr: float, batch_size: int, max_epochs: int, weight_decay: float) -> dict:
    """The reference's training setup for the spirals: binary cross-entropy and Adam, up to ``max_epochs``."""
    setup = dict(loss="bce", optimizer="adam", lr=lr, weight_decay=weight_decay)
    return setup | {"batch_size": batch_size, "epochs": max_epochs}


def train_to_perfect(
    model: nn.Module,
    data: Tensors,
    lr: float = 0.01,
    batch_size: int = 97,
    max_epochs: int = 20_000,
    weight_decay: float = 1e-4,
    seed: int = 0,
    callbacks: Sequence[Callable] = (),
    verbose: bool = True,
    name: str = "",
) -> Run:
    """Train with BCE and Adam until training accuracy is 100% or ``max_epochs``; returns the ``Run``.

    Accuracy is measured on the batches during the epoch, as the reference did; ``run.epochs`` is the epoch
    reached and ``run.info`` holds ``solved``, ``epochs_to_100`` (None if not solved), and the last epoch's
    ``train_acc`` and ``train_loss``. ``run.result`` evaluates the trained net on the whole training set.
    """
    start = time.perf_counter()
    options = perfect_options(lr, batch_size, max_epochs, weight_decay)
    history = fit(model, data, eval_every=0, seed=seed, callbacks=[StopAt("train_acc", 1.0), *callbacks], **options)
    seconds = time.perf_counter() - start
    return perfect_run(name or type(model).__name__, model, history, data, seconds, verbose)


def train_many_to_perfect(
    models: Sequence[nn.Module],
    data: Tensors,
    seeds: Sequence[int],
    lr: float = 0.01,
    batch_size: int = 97,
    max_epochs: int = 20_000,
    weight_decay: float = 1e-4,
    verbose: bool = True,
    names: Sequence[str] | None = None,
) -> list[Run]:
    """:func:`train_to_perfect` for several built nets of one architecture at once, net r shuffling with
    ``seeds[r]`` (:func:`nnutils.ensemble.fit_models`): the same runs, to float tolerance, in one call."""
    options = perfect_options(lr, batch_size, max_epochs, weight_decay)
    runs = fit_models(models, seeds, data, stop_at=1.0, names=names, **options)
    return [perfect_run(run.name, run.model, run.history, data, run.seconds, verbose) for run in runs]


def perfect_run(
    name: str, model: nn.Module, history: History, data: Tensors, seconds: float, verbose: bool = False
) -> Run:
    """The ``Run`` of a train-to-100% history: ``solved``, ``epochs_to_100``, the last epoch's measures and an
    evaluation on the training set (the model is left in the mode it was in); ``verbose`` prints one line."""
    solved = history.last("train_acc") >= 1.0
    info = {
        "solved": solved,
        "epochs_to_100": len(history) if solved else None,
        "train_acc": history.last("train_acc"),
        "train_loss": history.last("train_loss"),
        "split": "train",
    }
    was_training = model.training
    result = evaluate(model, *data, loss="bce")
    model.train(was_training)
    if verbose:
        state = "reached 100%" if solved else f"stopped at {100 * info['train_acc']:.1f}%"
        print(f"{name}: {state} after {len(history)} epochs ({seconds:.1f} s)")
    return Run(name, model, history, result, seconds, info)


def predict_labels(model: nn.Module, x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """The model's 0/1 decisions (output >= threshold) on x, as floats shaped like the targets."""
    model.eval()
    with torch.no_grad():
        return (model(x.to(device_of(model))) >= threshold).float().to(x.device)


def plot_epochs(
    runs: pd.DataFrame, by: str, cap: int, ax: plt.Axes | None = None, title: str = "", xlabel: str | None = None
) -> plt.Axes:
    """Epochs to 100% against one setting: dots for successes, crosses at the cap for failures, median line."""
    if by not in runs.columns:
        raise ValueError(f"Column {by!r} is not in the runs table: it has {list(runs.columns)}.")
    ax = ax or plt.subplots(figsize=(5.5, 3.4))[1]
    ok, failed = runs[runs["solved"]], runs[~runs["solved"]]
    ax.scatter(ok[by], ok["epochs"], s=18, alpha=0.7, label="reached 100%")
    if len(failed):
        ax.scatter(failed[by], failed["epochs"], marker="x", color="crimson", s=30, label=f"failed (cap {cap})")
    medians = runs.groupby(by)["epochs"].median()
    ax.plot(medians.index, medians.values, color="k", lw=1, label="median")
    ax.axhline(cap, color="crimson", lw=0.6, ls=":")
    ax.set_ylim(0, cap * 1.05)
    ax.set(xlabel=xlabel or by, ylabel="epochs to 100% training accuracy", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def outcome_groups(summary: pd.DataFrame, by: str) -> dict[str, list]:
    """The settings of a :func:`nnutils.sweep.summarize_search` table by outcome, for the text: every seed reached
    100% (``"all"``), some did and some stalled (``"some"``), none did (``"none"``)."""
    if by not in summary.columns:
        raise ValueError(f"Column {by!r} is not in the summary table: it has {list(summary.columns)}.")
    solved, failed = summary["solved"], summary["failed"]
    return {
        "all": summary.loc[failed == 0, by].tolist(),
        "some": summary.loc[(solved > 0) & (failed > 0), by].tolist(),
        "none": summary.loc[solved == 0, by].tolist(),
    }


def speed_word(a: pd.Series, b: pd.Series, column: str = "median_epochs") -> str:
    """How two :func:`nnutils.sweep.summarize_search` rows' medians compare, for the text: ``"faster"``, ``"slower"``,
    ``"as fast"`` or ``"not comparable"`` (with stalled runs a median is only a lower bound)."""
    if a[column] < b[column] and a["failed"] == 0:
        return "faster"
    if b[column] < a[column] and b["failed"] == 0:
        return "slower"
    return "as fast" if a[column] == b[column] and a["failed"] == b["failed"] == 0 else "not comparable"


def speed_phrase(a: pd.Series, b: pd.Series, other: str, column: str = "median_epochs") -> str:
    """:func:`speed_word` as a phrase naming the other row: ``"faster than the baseline"``, ``"as fast as ..."``."""
    word = speed_word(a, b, column)
    if word == "not comparable":
        return f"not comparable with {other} (with stalled runs a median is only a lower bound)"
    return f"{word} {'as' if word == 'as fast' else 'than'} {other}"
