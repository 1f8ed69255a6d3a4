"""Chapter 4a, report 003's from-scratch CNN runs on ``nnutils.scratch``: its two-class net with two image-sized
filters (``train_pair``), its 16-filter CNN in architectures A and B (``cnn_net``, ``train_cnn``, on a large
training set in measured parts ``train_cnn_chunked``), filter snapshots, the share of saturated units and the
deconvolution view. Each run is a ``Run``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from .history import History, Run
from .scratch import Conv2D, Network, cnn, first_of, fit


class FilterSnapshots:
    """Callback for ``scratch.fit``: copies of the first convolution's filters at chosen epochs (in ``.frames``)."""

    def __init__(self, epochs: Sequence[int]):
        self.epochs, self.frames = set(epochs), {}

    def on_epoch_end(self, loop) -> None:
        if loop.epoch in self.epochs:
            self.frames[loop.epoch] = first_of(loop.model, Conv2D)[1].params["W"].copy()


def train_pair(
    train: tuple, test: tuple, act: str, param: float | None, lr: float, epochs: int, seed: int = 0, **options
) -> Run:
    """Report 003's two-class net: two filters as large as the image, then 2 outputs, squared error, one image per
    step, following the test set. ``snapshots=[epochs]`` keeps the filters then (``run["frames"]``)."""
    net = cnn(n_filters=2, kernel_size=28, n_classes=2, act=act, param=param, seed=seed, dtype=train[0].dtype)
    snap = FilterSnapshots(options.pop("snapshots", ()))
    start = time.perf_counter()
    history = fit(
        net, train, test=test, loss="mse", lr=lr, batch_size=1, epochs=epochs, seed=seed, callbacks=[snap], **options
    )
    return Run(f"{act} pair net", net, history, seconds=time.perf_counter() - start, info={"frames": snap.frames})


# Report 003's activation settings: tanh slope 0.5, leaky ReLU leak 0.01, sigmoid slope 0.7 (0.05 on the output).
CNN_ACTIVATIONS = {"tanh": ("tanh", 0.5), "relu": ("leaky_relu", 0.01), "sigmoid": ("sigmoid", None)}
SIGMOID_SLOPES = {None: (0.7, 0.05), 128: (0.7, 0.7, 0.05)}


def cnn_net(
    act: str = "relu",
    hidden: int | None = None,
    leak: float | None = None,
    seed: int = 0,
    dtype=np.float32,
    init: str = "lecun",
) -> Network:
    """Report 003's CNN (16 filters 7 x 7; architecture A: hidden=None, B: hidden=128) with the report's activation
    settings: ``act`` is one of tanh, relu (leaky, leak 0.01 unless ``leak``) or sigmoid."""
    if act not in CNN_ACTIVATIONS:
        raise ValueError(f"Unknown activation {act!r}: choose one of {', '.join(CNN_ACTIVATIONS)}.")
    name, param = CNN_ACTIVATIONS[act]
    param = SIGMOID_SLOPES.get(hidden, (0.7,) * 2 + (0.05,)) if act == "sigmoid" else (leak or param)
    return cnn(16, 7, hidden=hidden, act=name, param=param, init=init, seed=seed, dtype=dtype)


CNN_FIT = {"loss": "mse", "batch_size": 10, "lr": 0.01, "track_delta": 0}


def train_cnn(
    train: tuple,
    test: tuple,
    act: str = "relu",
    hidden: int | None = None,
    leak: float | None = None,
    seed: int = 0,
    quiet: bool = False,
    init: str = "lecun",
    **fit_options,
) -> Run:
    """Report 003's CNN (``cnn_net``) on squared error, 10 images per step at lr 0.01 unless given, following the
    test set and the conv deltas; prints one line unless quiet."""
    net = cnn_net(act, hidden, leak, seed, train[0].dtype, init)
    start = time.perf_counter()
    h = fit(net, train, test=test, seed=seed, **(CNN_FIT | fit_options))
    run = Run(f"{act} {'B' if hidden else 'A'}", net, h, seconds=time.perf_counter() - start)
    if not quiet:
        extra = {k: v for k, v in fit_options.items() if k != "epochs"}
        label = f"{run.name} {extra}" if extra else run.name
        print(f"{label}: train {h.train_acc[-1]:.3f}, test {h.test_acc[-1]:.3f}, {run.seconds:.0f} s")
    return run


def train_cnn_chunked(
    train: tuple, val: tuple, act: str, hidden: int | None, epochs: int, chunks: int = 5, seed: int = 0, **fit_options
) -> Run:
    """``train_cnn`` for a large training set: each epoch (a fresh random order) in ``chunks`` parts, the validation
    set measured after each part, so that even a few epochs draw a curve (``epoch`` counts in fractions)."""
    if epochs < 1 or chunks < 1:
        raise ValueError(f"Need epochs >= 1 and chunks >= 1, not {epochs} and {chunks}.")
    net = cnn_net(act, hidden, None, seed, train[0].dtype)
    rng, history, start = np.random.default_rng(seed), History(), time.perf_counter()
    for epoch in range(epochs):
        for part, index in enumerate(np.array_split(rng.permutation(len(train[1])), chunks)):
            options = CNN_FIT | fit_options | {"epochs": 1, "shuffle": False, "seed": seed}
            row = {k: v[0] for k, v in fit(net, (train[0][index], train[1][index]), val, **options).as_dict().items()}
            history.append(**(row | {"epoch": epoch + (part + 1) / chunks}))
            if not np.isfinite(row["train_loss"]):
                return Run(f"{act} {'B' if hidden else 'A'}", net, history, seconds=time.perf_counter() - start)
    return Run(f"{act} {'B' if hidden else 'A'}", net, history, seconds=time.perf_counter() - start)


def saturated_share(net: Network, x: np.ndarray, below: float = 0.01) -> float:
    """The share of the units after the first convolution whose activation's derivative, for inputs x, is below
    ``below`` times its largest value (a saturated unit passes back almost no gradient)."""
    i, _ = first_of(net, Conv2D)
    act = net.layers[i + 1]
    z = net.activations(x)[i]  # the convolution's output: the activation's input
    return float((act.df(z) < below * act.df(np.zeros(1, dtype=z.dtype)).max()).mean())


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
