"""The chapter's experiments as functions: MNIST splits and subsets, sweeps, k-fold cross-validation, the bridge
to PyTorch (same weights in ``nnutils.models.MLP``), filter snapshots and the deconvolution view.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from .. import data
from ..models import MLP
from ..sweep import grid, run_trials
from .layers import Conv2D
from .network import Network, cnn, first_of, mlp
from .sgd import evaluate, fit

FIT_KEYS = ("loss", "lr", "lr_decay", "batch_size", "epochs", "l2", "shuffle", "early_stopping", "eval_train")


def mnist_splits(n_val: int = 10_000, seed: int = 0, standardize: bool = False) -> dict[str, tuple]:
    """MNIST as float32 NumPy arrays (N, 1, 28, 28) in [0, 1]: ``train`` (60,000 - n_val), ``val`` and ``test``.

    ``standardize`` subtracts the training images' mean pixel value and divides by their standard deviation.
    """
    x, y = data.load("MNIST", "train").tensors(normalize=False)
    (x_tr, y_tr), (x_va, y_va) = data.train_val_split(x, y, n_val, seed=seed)
    x_te, y_te = data.load("MNIST", "test").tensors(normalize=False)
    pairs = {"train": (x_tr, y_tr), "val": (x_va, y_va), "test": (x_te, y_te)}
    splits = {k: (a.numpy(), b.numpy()) for k, (a, b) in pairs.items()}
    if standardize:
        mean, std = splits["train"][0].mean(), splits["train"][0].std()
        splits = {k: ((a - mean) / std, b) for k, (a, b) in splits.items()}
    return splits


def per_class(x: np.ndarray, y: np.ndarray, n: int, classes: Sequence[int] | None = None) -> tuple:
    """The first n examples of each class (in the data's order), the classes in turn; labels renumbered 0, 1, ..."""
    classes = list(range(int(y.max()) + 1)) if classes is None else list(classes)
    picks = [np.flatnonzero(y == c)[:n] for c in classes]
    if min(len(p) for p in picks) < n:
        raise ValueError(f"Some class among {classes} has fewer than {n} examples.")
    index = np.sort(np.concatenate(picks))
    relabel = np.full(int(y.max()) + 1, -1)
    relabel[classes] = np.arange(len(classes))
    return x[index], relabel[y[index]]


def random_subset(x: np.ndarray, y: np.ndarray, n: int, seed: int = 0) -> tuple:
    """n examples drawn at random (seeded) without replacement."""
    if not 0 < n <= len(y):
        raise ValueError(f"A subset needs between 1 and {len(y)} examples, not {n}.")
    index = np.random.default_rng(seed).permutation(len(y))[:n]
    return x[index], y[index]


def train_mlp(
    train: tuple,
    test: tuple | None = None,
    hidden: Sequence[int] = (64,),
    act: str = "sigmoid",
    init: str = "scaled",
    seed: int = 0,
    param: float | None = None,
    **fit_options,
) -> tuple:
    """Build ``mlp((784, *hidden, 10))`` in the data's float type, train it with ``sgd.fit``: (network, history)."""
    unknown = set(fit_options) - set(FIT_KEYS)
    if unknown:
        raise ValueError(f"Unknown training options {sorted(unknown)}: choose among {', '.join(FIT_KEYS)}.")
    in_features = int(np.prod(train[0].shape[1:]))
    dtype = train[0].dtype if np.issubdtype(train[0].dtype, np.floating) else np.float64
    net = mlp((in_features, *hidden, int(train[1].max()) + 1), act=act, param=param, init=init, seed=seed, dtype=dtype)
    return net, fit(net, train, test, seed=seed, **fit_options)


def mlp_trial(train: tuple, test: tuple, **setting) -> dict:
    """One sweep trial (module level, so that parallel workers can run it): train ``train_mlp``, one table row."""
    net, history = train_mlp(train, test, **setting)
    train_loss, train_acc = evaluate(net, *train, setting.get("loss", "cross_entropy"))
    chosen = {k: v for k, v in setting.items() if k not in ("train", "test")}
    return chosen | {
        "train_acc": train_acc,
        "test_acc": history.test_acc[-1],
        "train_loss": train_loss,
        "test_loss": history.test_loss[-1],
        "epochs": len(history),
        "seconds": sum(history.seconds),
    }


def sweep(train: tuple, test: tuple, vary: dict[str, Sequence], n_jobs: int | None = None, **fixed) -> pd.DataFrame:
    """Train one MLP per combination of the values in ``vary`` (a grid), everything else ``fixed``; one row each.

    The trials run through ``nnutils.sweep.run_trials`` (``n_jobs`` workers, default ``NNUTILS_JOBS``); every trial
    seeds itself, so the table is the same whatever the number of workers.
    """
    trials = [{"train": train, "test": test, **fixed, **combo} for combo in grid(**vary)]
    rows = run_trials(mlp_trial, trials, n_jobs=n_jobs)
    return pd.DataFrame([{k: row[k] for k in [*vary, *METRICS]} for row in rows])


METRICS = ("train_acc", "test_acc", "train_loss", "test_loss", "epochs", "seconds")


def fold_trial(x: np.ndarray, y: np.ndarray, kept: np.ndarray, held: np.ndarray, fold: int, **setting) -> dict:
    """One cross-validation fold (module level, for parallel workers): train on ``kept``, test on ``held``."""
    net, history = train_mlp((x[kept], y[kept]), (x[held], y[held]), **setting)
    return {
        "fold": fold,
        "train_acc": evaluate(net, x[kept], y[kept])[1],
        "test_acc": history.test_acc[-1],
        "seconds": sum(history.seconds),
    }


def cross_validate(
    x: np.ndarray, y: np.ndarray, k: int = 5, seed: int = 0, n_jobs: int | None = None, **setting
) -> pd.DataFrame:
    """k-fold cross-validation of one MLP setting: each fold is held out once; one row per fold (run in parallel)."""
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
    return pd.DataFrame(run_trials(fold_trial, trials, n_jobs=n_jobs))


# Report 003's activation settings: tanh slope 0.5, leaky ReLU leak 0.01, sigmoid slope 0.7 (0.05 on the output).
CNN_ACTIVATIONS = {"tanh": ("tanh", 0.5), "relu": ("leaky_relu", 0.01), "sigmoid": ("sigmoid", None)}
SIGMOID_SLOPES = {None: (0.7, 0.05), 128: (0.7, 0.7, 0.05)}


def train_cnn(
    train: tuple,
    test: tuple,
    act: str = "relu",
    hidden: int | None = None,
    leak: float | None = None,
    seed: int = 0,
    **fit_options,
) -> tuple:
    """Report 003's CNN (16 filters 7 x 7; architecture A: hidden=None, B: hidden=128), trained on squared error.

    ``act`` is one of tanh, relu (leaky, leak 0.01 unless ``leak``) or sigmoid, with the report's slopes.
    """
    if act not in CNN_ACTIVATIONS:
        raise ValueError(f"Unknown activation {act!r}: choose one of {', '.join(CNN_ACTIVATIONS)}.")
    name, param = CNN_ACTIVATIONS[act]
    param = SIGMOID_SLOPES.get(hidden, (0.7,) * 2 + (0.05,)) if act == "sigmoid" else (leak or param)
    net = cnn(16, 7, hidden=hidden, act=name, param=param, seed=seed, dtype=train[0].dtype)
    options = {"loss": "mse", "batch_size": 10, "track_delta": 0} | fit_options
    history = fit(net, train, test, seed=seed, **options)
    return net, history


def summarize(histories: dict, report: dict | None = None, report_label: str = "report test acc") -> pd.DataFrame:
    """Final training/test loss and accuracy of named runs (histories), with the report's values beside them."""
    rows = [
        {
            "run": k,
            "train loss": h.train_loss[-1],
            "test loss": h.test_loss[-1],
            "train acc": h.train_acc[-1],
            "test acc": h.test_acc[-1],
        }
        for k, h in histories.items()
    ]
    table = pd.DataFrame(rows).set_index("run")
    if report is not None:
        table[report_label] = [report.get(k, np.nan) for k in table.index]
    return table


def to_torch_mlp(net: Network, act: str = "sigmoid") -> MLP:
    """An ``nnutils.models.MLP`` holding exactly the weights of a from-scratch MLP (float32)."""
    dense = [layer for layer in net.layers if "W" in layer.params]
    sizes = [dense[0].params["W"].shape[1]] + [d.params["W"].shape[0] for d in dense]
    model = MLP(sizes[0], hidden=tuple(sizes[1:-1]), n_classes=sizes[-1], act=act)
    linears = [m for m in model.net if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for lin, d in zip(linears, dense):
            lin.weight.copy_(torch.from_numpy(np.asarray(d.params["W"], dtype=np.float32)))
            lin.bias.copy_(torch.from_numpy(np.asarray(d.params["b"], dtype=np.float32)))
    return model


def lr_decay_callback(gamma: float):
    """A callback for ``nnutils.training.fit``: multiply the learning rate by gamma after every epoch."""

    def decay(trainer) -> None:
        for group in trainer.optimizer.param_groups:
            group["lr"] *= gamma

    return decay


def filter_snapshots(epochs: Sequence[int]):
    """A callback for ``sgd.fit`` that copies the first convolution's filters at the chosen epochs (in ``.frames``)."""
    frames: dict[int, np.ndarray] = {}

    def take(epoch: int, net: Network, history) -> None:
        if epoch in epochs:
            frames[epoch] = first_of(net, Conv2D)[1].params["W"].copy()

    take.frames = frames
    return take


def deconvolve(net: Network, x: np.ndarray) -> np.ndarray:
    """Each filter's activation map projected back onto the input: (N, F, H, W) for images x (N, 1, H, W).

    The map of filter f (after the activation) goes through the transposed convolution of filter f alone.
    """
    i, conv = first_of(net, Conv2D)
    maps = net.activations(x)[i + 1]  # the activation right after the convolution
    n, f = maps.shape[:2]
    views = np.empty((n, f, *x.shape[2:]), dtype=maps.dtype)
    for j in range(f):  # one filter at a time: zero every other map
        only = np.zeros_like(maps)
        only[:, j] = maps[:, j]
        views[:, j] = conv.project_back(only)[:, 0]
    return views


def time_it(fn, *args, **kwargs) -> tuple[object, float]:
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start
