"""Chapter 4a (backpropagation from scratch): MNIST splits and subsets as NumPy arrays, the chapter's MLP runs on
``nnutils.scratch`` (each a ``Run``), the bridge to PyTorch, the convolution timings, and one-line notes on figures
outside the report's tolerance. Report 003's CNN runs are in ``nnutils.cnn_experiments``, the MLP sweeps and
cross-validation in ``nnutils.mlp_sweeps``, the figures in ``nnutils.backprop_plots``.
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import data
from .history import Run
from .scratch import Conv2D, Network, fit, mlp

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


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log(softmax(z)) along the last axis, written out (shift by the maximum, so that exp cannot overflow)."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def train_mlp(
    train: tuple,
    val: tuple | None = None,
    hidden: Sequence[int] = (64,),
    act: str = "sigmoid",
    init: str = "scaled",
    seed: int = 0,
    param: float | None = None,
    **fit_options,
) -> Run:
    """Build ``mlp((784, *hidden, 10))`` in the data's float type and train it with ``scratch.fit`` on ``train``,
    watching ``val``: a ``Run``."""
    unknown = set(fit_options) - set(FIT_KEYS)
    if unknown:
        raise ValueError(f"Unknown training options {sorted(unknown)}: choose among {', '.join(FIT_KEYS)}.")
    in_features = int(np.prod(train[0].shape[1:]))
    dtype = train[0].dtype if np.issubdtype(train[0].dtype, np.floating) else np.float64
    sizes = (in_features, *hidden, int(train[1].max()) + 1)
    net = mlp(sizes, act=act, param=param, init=init, seed=seed, dtype=dtype)
    start = time.perf_counter()
    history = fit(net, train, val, seed=seed, **fit_options)
    return Run(f"{act} MLP {'-'.join(map(str, sizes))}", net, history, seconds=time.perf_counter() - start)


def outside_notes(comparison: pd.DataFrame, reasons: Mapping[str, str]) -> list[str]:
    """One line for each figure of a ``Results.compare`` table outside tolerance: how far off, and the reason
    (``reasons``: figure -> reason, or ``"*"`` for every figure without its own)."""
    notes = []
    for figure, row in comparison[comparison["status"] == "outside tolerance"].iterrows():
        reason = reasons.get(figure, reasons.get("*"))
        if reason is None:
            raise KeyError(f"No reason given for {figure!r}, which is outside tolerance: add it to reasons.")
        side = "above" if row["difference"] > 0 else "below"
        notes.append(f"{figure}: {100 * abs(row['difference']):.1f} points {side} the report's; {reason}")
    return notes


def summarize(runs: Mapping[str, Run], split: str = "test") -> pd.DataFrame:
    """Final training and ``split`` (test or val) loss and accuracy of named runs, one row each."""
    rows = {
        name: {
            "train loss": run.history.train_loss[-1],
            f"{split} loss": run.history.last(f"{split}_loss"),
            "train acc": run.history.train_acc[-1],
            f"{split} acc": run.history.last(f"{split}_acc"),
        }
        for name, run in runs.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("run")


def to_torch_mlp(net: Network, act: str = "sigmoid"):
    """An ``nnutils.models.MLP`` holding exactly the weights of a from-scratch MLP (float32)."""
    import torch

    from .models import MLP

    dense = [layer for layer in net.layers if "W" in layer.params]
    sizes = [dense[0].params["W"].shape[1]] + [d.params["W"].shape[0] for d in dense]
    model = MLP(sizes[0], hidden=tuple(sizes[1:-1]), n_classes=sizes[-1], act=act)
    linears = [m for m in model.net if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for lin, d in zip(linears, dense):
            lin.weight.copy_(torch.from_numpy(np.asarray(d.params["W"], dtype=np.float32)))
            lin.bias.copy_(torch.from_numpy(np.asarray(d.params["b"], dtype=np.float32)))
    return model


def conv_rows_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray, grad: np.ndarray | None = None, dx=True):
    """The previous from-scratch convolution (patches as rows, output transposed, dx by col2im over rows), kept to
    check and time the current one: the output, and with ``grad`` also dL/dW, dL/db and (``dx``) dL/dx."""
    from numpy.lib.stride_tricks import sliding_window_view

    (n, c, h, wd), (f, _, k, _) = x.shape, w.shape
    ho, wo = h - k + 1, wd - k + 1
    rows = sliding_window_view(x, (k, k), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k)
    out = (rows @ w.reshape(f, -1).T + b).reshape(n, ho, wo, f).transpose(0, 3, 1, 2)
    if grad is None:
        return out
    g = grad.transpose(0, 2, 3, 1).reshape(-1, f)
    dw, db, dx_ = (g.T @ rows).reshape(w.shape), g.sum(axis=0), None
    if dx:
        patches, dx_ = (g @ w.reshape(f, -1)).reshape(n, ho, wo, c, k, k), np.zeros_like(x)
        if k * k <= ho * wo:  # as the previous col2im: loop over the kernel offsets, or over the output positions
            for i in range(k):
                for j in range(k):
                    dx_[:, :, i : i + ho, j : j + wo] += patches[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        else:
            for i in range(ho):
                for j in range(wo):
                    dx_[:, :, i : i + k, j : j + k] += patches[:, i, j]
    return out, dw, db, dx_


# The chapter's convolutions: (name, input (N, C, H, W), filters (F, C, k, k), what is computed).
CONV_SHAPES = (
    ("CNN training step: 10 images, 16 filters 7 x 7", (10, 1, 28, 28), (16, 1, 7, 7), "weights"),
    ("CNN evaluation: 1,000 images, 16 filters 7 x 7", (1000, 1, 28, 28), (16, 1, 7, 7), "forward"),
    ("two-class net step: 1 image, 2 filters 28 x 28", (1, 1, 28, 28), (2, 1, 28, 28), "weights"),
    ("CNN step with dL/dx (a convolution deeper in a net)", (10, 1, 28, 28), (16, 1, 7, 7), "all"),
)


def _conv_runs(x: np.ndarray, w: np.ndarray, mode: str, seed: int = 0) -> dict:
    """The three convolutions of ``conv_timings`` on the same data, each a function of no arguments."""
    import torch
    import torch.nn.functional as F

    conv = Conv2D(w.shape[1], w.shape[0], w.shape[2], dtype=w.dtype)
    conv.params["W"], conv.input_grad = w, mode == "all"
    b, grad = conv.params["b"], np.random.default_rng(seed).standard_normal(conv.forward(x).shape).astype(w.dtype)
    xt, wt, bt = (torch.from_numpy(a).requires_grad_(flag) for a, flag in ((x, mode == "all"), (w, True), (b, True)))

    def ours():
        out = conv.forward(x)
        return out if mode == "forward" else conv.backward(grad)

    def pytorch():
        if mode == "forward":
            with torch.no_grad():
                return F.conv2d(xt, wt, bt)
        F.conv2d(xt, wt, bt).backward(torch.from_numpy(grad))

    previous = lambda: conv_rows_reference(x, w, b, None if mode == "forward" else grad, dx=mode == "all")
    return {"NumPy": ours, "previous NumPy": previous, "PyTorch": pytorch}


def conv_timings(shapes=CONV_SHAPES, repeats: int = 5, dtype=np.float32) -> pd.DataFrame:
    """Milliseconds (best of ``repeats``) for each of the chapter's convolutions: this chapter's ``Conv2D``, the
    previous NumPy version and ``torch.nn.functional.conv2d`` on the CPU, computing the output (``forward``), also
    the weight gradients (``weights``: a first layer, as in the chapter) or also dL/dx (``all``)."""
    rows, rng = [], np.random.default_rng(0)
    for name, x_shape, w_shape, mode in shapes:
        x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
        times = {
            key: 1e3 * min(timeit.repeat(fn, number=1, repeat=repeats + 1))
            for key, fn in _conv_runs(x, w, mode).items()
        }
        rows.append({"convolution": name, **times, "speed-up over previous": times["previous NumPy"] / times["NumPy"]})
    return pd.DataFrame(rows).set_index("convolution")
