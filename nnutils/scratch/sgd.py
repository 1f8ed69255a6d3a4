"""The from-scratch networks' own training loop: mini-batch SGD with L2 weight decay and per-epoch lr decay.

Each step: forward, loss, backward, then ``W -= lr * (dL/dW + l2 * W)`` (biases are not decayed). After each
epoch the learning rate is multiplied by ``lr_decay``. Callbacks are the torch loop's kind: objects with
``on_epoch_end(loop)`` that read ``loop.history``, ``loop.epoch`` and ``loop.model`` and may set
``loop.stop_training``. No torch is needed here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from .. import work
from ..history import History, call_callbacks
from .losses import make_loss
from .network import Network

Arrays = tuple[np.ndarray, np.ndarray]


def evaluate(net: Network, x: np.ndarray, y: np.ndarray, loss: str = "cross_entropy") -> tuple[float, float]:
    """Mean loss and accuracy (argmax of the output against the labels) of a network on (x, y)."""
    out = net.predict(x)
    return make_loss(loss)(out, y), float((out.argmax(axis=1) == y).mean())


def confusion_matrix(net: Network, x: np.ndarray, y: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Counts (rows: true class, columns: predicted class)."""
    pred = net.predict(x).argmax(axis=1)
    return np.bincount(y * n_classes + pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


class EarlyStopping:
    """Callback: stop after ``patience`` epochs without the watched loss improving by more than ``min_delta``, and
    restore the best weights (the history keeps the later epochs). Watches ``val_loss`` if recorded, else
    ``train_loss``."""

    def __init__(self, patience: int, min_delta: float = 0.0):
        if patience < 1:
            raise ValueError(f"Early stopping needs a patience of at least one epoch, not {patience}.")
        self.patience, self.min_delta = patience, min_delta
        self.best, self.best_state, self.waited = np.inf, None, 0

    def on_epoch_end(self, loop: SGD) -> None:
        watched = loop.history.last("val_loss" if "val_loss" in loop.history else "train_loss")
        if watched < self.best - self.min_delta:
            self.best, self.best_state, self.waited = watched, loop.model.state_dict(), 0
            return
        self.waited += 1
        if self.waited >= self.patience:
            loop.model.load_state_dict(self.best_state)
            loop.stop_training = loop.stopped_early = True


class SGD:
    """The loop: ``SGD(net, lr=0.1, ...).fit(train, val)`` trains ``net`` in place and returns its ``History``
    (columns epoch, train_loss, train_acc, val_* and test_* when given, seconds, delta_norm when tracked, lr).

    Each step moves every parameter by ``-lr`` times its gradient, scaling the gradient in place (no temporary as
    large as the weights), so a layer's ``grads`` hold the step taken afterwards. ``shuffle=False`` presents the
    examples in their fixed order every epoch. ``eval_train`` re-measures the whole training set after each epoch
    (else the batches' running values are kept). ``track_delta=i`` records the mean norm, per example, of
    dL/d(output of layer i) (e.g. a convolution's deltas). ``early_stopping=k`` adds an ``EarlyStopping(k,
    min_delta)`` after the other callbacks. ``stopped_early`` tells whether training stopped before the last epoch
    (early stopping, or diverged weights).
    """

    def __init__(
        self,
        net: Network,
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
        callbacks: Sequence[Callable | object] = (),
    ):
        if epochs < 1 or batch_size < 1 or lr <= 0 or l2 < 0 or not 0 < lr_decay <= 1:
            raise ValueError("Need epochs >= 1, batch_size >= 1, lr > 0, l2 >= 0 and 0 < lr_decay <= 1.")
        self.model, self.loss, self.loss_fn = net, loss, make_loss(loss)
        self.lr, self.lr_decay, self.batch_size, self.epochs, self.l2 = lr, lr_decay, batch_size, epochs, l2
        self.shuffle, self.seed, self.eval_train, self.track_delta = shuffle, seed, eval_train, track_delta
        self.callbacks = list(callbacks) + ([EarlyStopping(early_stopping, min_delta)] if early_stopping else [])
        self.history = History()
        self.epoch = 0
        self.stop_training = self.stopped_early = False

    def train_epoch(self, x: np.ndarray, y: np.ndarray, order: np.ndarray) -> tuple[float, float, float]:
        """One pass in mini-batches: the batches' mean loss and accuracy, and the summed per-example delta norm."""
        net, rate, l2 = self.model, self.lr, self.l2
        total_loss = correct = delta_sum = 0.0
        for s in range(0, len(y), self.batch_size):
            index = order[s : s + self.batch_size]
            xb, yb = x[index], y[index]
            out = net.forward(xb)
            total_loss += self.loss_fn(out, yb) * len(index)
            correct += float((out.argmax(axis=1) == yb).sum())
            net.backward(self.loss_fn.backward())
            if self.track_delta is not None:  # the loss is a mean: per-example deltas are len(index) times larger
                d = net.deltas[self.track_delta].reshape(len(index), -1) * len(index)
                delta_sum += float(np.linalg.norm(d, axis=1).sum())
            for _, layer, name in net.parameters():
                if l2 and name == "W":
                    layer.params[name] *= 1.0 - rate * l2  # the same as adding l2 * W to the gradient
                step = layer.grads[name]
                step *= rate  # in place (see the class docstring)
                layer.params[name] -= step
        return total_loss / len(y), correct / len(y), delta_sum / len(y)

    @np.errstate(over="ignore", invalid="ignore")  # a diverging run stops (see below) instead of warning
    def fit(self, train: Arrays, val: Arrays | None = None, test: Arrays | None = None) -> History:
        """Train for ``epochs`` (or until a callback stops it, or the loss overflows); returns the history."""
        x, y = train
        if len(x) != len(y) or len(y) == 0:
            raise ValueError(f"Training data needs as many labels as inputs (got {len(x)} and {len(y)}), and some.")
        rng = np.random.default_rng(self.seed)
        held_out = {split: data for split, data in (("val", val), ("test", test)) if data is not None}
        per_example = self.model.forward_cost(x[:1])  # for the notebook's work tally (nnutils.work)
        steps = work.steps_of(len(y), self.batch_size)
        n_eval = sum(len(ys) for _, ys in held_out.values()) + (len(y) if self.eval_train else 0)
        call_callbacks(self.callbacks, "on_train_begin", self)
        for epoch in range(1, self.epochs + 1):
            start = time.perf_counter()
            order = rng.permutation(len(y)) if self.shuffle else np.arange(len(y))
            train_loss, train_acc, delta_norm = self.train_epoch(x, y, order)
            seconds = time.perf_counter() - start
            work.epoch(per_example, len(y), n_eval, steps)
            if self.eval_train:
                train_loss, train_acc = evaluate(self.model, x, y, self.loss)
            row = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc}
            for split, (xs, ys) in held_out.items():
                row[f"{split}_loss"], row[f"{split}_acc"] = evaluate(self.model, xs, ys, self.loss)
            row["seconds"] = seconds
            if self.track_delta is not None:
                row["delta_norm"] = delta_norm
            self.epoch = epoch
            self.history.append(**row, lr=self.lr)
            self.lr *= self.lr_decay
            if not np.isfinite(train_loss):
                self.stopped_early = True  # diverged: the weights overflowed
                break
            call_callbacks(self.callbacks, "on_epoch_end", self)
            if self.stop_training:
                break
        return self.history


def fit(net: Network, train: Arrays, val: Arrays | None = None, *, test: Arrays | None = None, **options) -> History:
    """Train ``net`` in place with mini-batch SGD (options: those of ``SGD``); returns the per-epoch history.

    ``val`` is the validation set (columns ``val_loss``, ``val_acc``); ``test`` a test set followed during
    training, as the reports did (``test_loss``, ``test_acc``).
    """
    return SGD(net, **options).fit(train, val, test)
