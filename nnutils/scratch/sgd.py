"""The from-scratch networks' own training loop: mini-batch SGD with L2 weight decay and per-epoch lr decay.

Each step: forward, loss, backward, then ``W -= lr * (dL/dW + l2 * W)`` (biases are not decayed). After each
epoch the learning rate is multiplied by ``lr_decay``. Early stopping watches the test (validation) loss when a
test set is given, else the training loss, and restores the best weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..training import History
from .losses import make_loss
from .network import Network

Arrays = tuple[np.ndarray, np.ndarray]


@dataclass
class ScratchHistory(History):
    """The foundation's History plus ``delta_norm``: the mean norm of one layer's deltas per example, per epoch."""

    delta_norm: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    stopped_early: bool = False


def evaluate(net: Network, x: np.ndarray, y: np.ndarray, loss: str = "cross_entropy") -> tuple[float, float]:
    """Mean loss and accuracy (argmax of the output against the labels) of a network on (x, y)."""
    out = net.predict(x)
    return make_loss(loss)(out, y), float((out.argmax(axis=1) == y).mean())


def confusion_matrix(net: Network, x: np.ndarray, y: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Counts (rows: true class, columns: predicted class)."""
    pred = net.predict(x).argmax(axis=1)
    return np.bincount(y * n_classes + pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


@np.errstate(over="ignore", invalid="ignore")  # a diverging run stops (see below) instead of warning
def fit(
    net: Network,
    train: Arrays,
    test: Arrays | None = None,
    *,
    loss: str = "cross_entropy",
    lr: float = 0.01,
    lr_decay: float = 1.0,
    batch_size: int = 64,
    epochs: int = 10,
    l2: float = 0.0,
    shuffle: bool = True,
    seed: int = 0,
    early_stopping: int | None = None,
    min_delta: float = 0.0,
    eval_train: bool = False,
    track_delta: int | None = None,
    callbacks: Sequence[Callable[[int, Network, ScratchHistory], bool | None]] = (),
) -> ScratchHistory:
    """Train ``net`` in place with mini-batch SGD; returns the per-epoch history.

    ``shuffle=False`` presents the examples in their fixed order every epoch. ``early_stopping=k`` stops after k
    epochs without an improvement larger than ``min_delta`` and restores the best weights (the history keeps the
    later epochs). ``eval_train`` re-measures the whole training set after each epoch (else the batches' running
    values are kept). ``track_delta=i`` records the mean norm, per example, of dL/d(output of layer i) (e.g. a
    convolution's deltas). A callback ``cb(epoch, net, history)`` runs after each epoch; True stops training.
    """
    x, y = train
    if len(x) != len(y) or len(y) == 0:
        raise ValueError(f"Training data needs as many labels as inputs (got {len(x)} and {len(y)}), and some.")
    if epochs < 1 or batch_size < 1 or lr <= 0 or l2 < 0 or not 0 < lr_decay <= 1:
        raise ValueError("Need epochs >= 1, batch_size >= 1, lr > 0, l2 >= 0 and 0 < lr_decay <= 1.")
    loss_fn, rng, n = make_loss(loss), np.random.default_rng(seed), len(y)
    history = ScratchHistory()
    best, best_state, waited = np.inf, None, 0
    rate = lr
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(n) if shuffle else np.arange(n)
        total_loss = correct = delta_sum = 0.0
        for s in range(0, n, batch_size):
            index = order[s : s + batch_size]
            xb, yb = x[index], y[index]
            out = net.forward(xb)
            total_loss += loss_fn(out, yb) * len(index)
            correct += float((out.argmax(axis=1) == yb).sum())
            net.backward(loss_fn.backward())
            if track_delta is not None:  # the loss is a mean: per-example deltas are len(index) times larger
                d = net.deltas[track_delta].reshape(len(index), -1) * len(index)
                delta_sum += float(np.linalg.norm(d, axis=1).sum())
            for _, layer, name in net.parameters():
                if l2 and name == "W":
                    layer.params[name] *= 1.0 - rate * l2  # the same as adding l2 * W to the gradient
                layer.params[name] -= rate * layer.grads[name]
        seconds = time.perf_counter() - start
        train_loss, train_acc = total_loss / n, correct / n
        if eval_train:
            train_loss, train_acc = evaluate(net, x, y, loss)
        test_loss, test_acc = evaluate(net, *test, loss) if test is not None else (np.nan, np.nan)
        values = (epoch, train_loss, train_acc, test_loss, test_acc, seconds, delta_sum / n, rate)
        for key, value in zip(("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"), values):
            getattr(history, key).append(value)
        history.delta_norm.append(values[6] if track_delta is not None else np.nan)
        history.lr.append(rate)
        rate *= lr_decay
        if not np.isfinite(train_loss):
            history.stopped_early = True  # diverged: the weights overflowed
            break
        if any(cb(epoch, net, history) for cb in callbacks):
            break
        if early_stopping:
            watched = test_loss if test is not None else train_loss
            if watched < best - min_delta:
                best, best_state, waited = watched, net.state_dict(), 0
            else:
                waited += 1
                if waited >= early_stopping:
                    net.load_state_dict(best_state)
                    history.stopped_early = True
                    break
    return history
