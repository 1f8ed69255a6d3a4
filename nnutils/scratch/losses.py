"""Losses: the value averaged over the batch, and its gradient with respect to the network's output.

Targets may be class labels (N,) or arrays shaped like the output (one-hot rows or probabilities).
"""

from __future__ import annotations

import numpy as np


def one_hot(labels: np.ndarray, n_classes: int, dtype=np.float64) -> np.ndarray:
    """Rows of zeros with a single one at each label."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.min(initial=0) < 0 or labels.max(initial=0) >= n_classes:
        raise ValueError(f"one_hot needs integer labels (N,) in [0, {n_classes}), got shape {labels.shape}.")
    out = np.zeros((len(labels), n_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1.0
    return out


def _targets(out: np.ndarray, target: np.ndarray) -> np.ndarray:
    target = np.asarray(target)
    if target.ndim == 1 and out.ndim == 2:
        return one_hot(target, out.shape[1], out.dtype)
    if target.shape != out.shape:
        raise ValueError(f"Targets of shape {target.shape} do not match outputs of shape {out.shape}.")
    return target


class Loss:
    """Base class: ``forward(out, target)`` returns the mean loss; ``backward()`` returns dL/d(out)."""

    def __call__(self, out: np.ndarray, target: np.ndarray) -> float:
        return self.forward(out, target)

    def per_example(self, out: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, out: np.ndarray, target: np.ndarray) -> float:
        return float(self.per_example(out, target).mean())


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy of softmax(logits) against the targets; gradient (softmax(z) - t) / N."""

    def per_example(self, out, target):
        t = _targets(out, target)
        shifted = out - out.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.p, self.t = np.exp(log_p), t
        return -(t * log_p).sum(axis=1)

    def backward(self) -> np.ndarray:
        return (self.p - self.t) / len(self.t)


class MeanSquaredError(Loss):
    """E = 1/2 sum_k (y_k - t_k)^2 per example, averaged over the batch; gradient (y - t) / N."""

    def per_example(self, out, target):
        t = _targets(out, target)
        self.diff = out - t
        return 0.5 * (self.diff**2).reshape(len(out), -1).sum(axis=1)

    def backward(self) -> np.ndarray:
        return self.diff / len(self.diff)


LOSSES = {"cross_entropy": SoftmaxCrossEntropy, "mse": MeanSquaredError}


def make_loss(name: str) -> Loss:
    """A fresh loss by name: ``cross_entropy`` (on logits) or ``mse`` (half the squared error, per example)."""
    if name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}: choose one of {', '.join(LOSSES)}.")
    return LOSSES[name]()
