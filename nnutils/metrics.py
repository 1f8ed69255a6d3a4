"""Summaries of results: most-confused pairs, per-class accuracy, the first epoch a measure reached a value."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .history import History


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Fraction of each true class (row) that was predicted correctly."""
    confusion = np.asarray(confusion, dtype=float)
    return np.diag(confusion) / confusion.sum(axis=1).clip(min=1)


def most_confused(confusion: np.ndarray, classes: Sequence[str], k: int = 5) -> list[tuple[str, str, int]]:
    """The k largest off-diagonal cells as (true class, predicted class, count), largest first."""
    confusion = np.asarray(confusion)
    off = confusion.copy()
    np.fill_diagonal(off, -1)
    order = np.argsort(off, axis=None, kind="stable")[::-1][:k]
    pairs = [np.unravel_index(i, off.shape) for i in order]
    return [(classes[t], classes[p], int(confusion[t, p])) for t, p in pairs]


def first_epoch_at(history: History, key: str = "train_acc", value: float = 1.0) -> int | None:
    """The first epoch whose ``key`` column reached ``value`` (None if it never did), e.g. the epoch of 100%."""
    return next((e for e, v in zip(history.epoch, getattr(history, key)) if v >= value), None)


def last_change(values: Sequence[float], epochs: int = 1) -> float:
    """How far a curve moved over its last ``epochs`` epochs: the last value minus the one ``epochs`` before it."""
    if not 1 <= epochs < len(values):
        raise ValueError(f"A curve of {len(values)} values has no change over its last {epochs} epoch(s).")
    return float(values[-1] - values[-1 - epochs])


def trend(values: Sequence[float], tolerance: float, epochs: int = 1) -> str:
    """``"rising"``, ``"falling"`` or ``"flat"`` (moved by ``tolerance`` at most) over a curve's last epochs."""
    change = last_change(values, epochs)
    return "flat" if abs(change) <= tolerance else "rising" if change > 0 else "falling"


def rises(values: Sequence[float]) -> int:
    """How many times a curve went up from one epoch to the next (for a loss: how often it got worse)."""
    return int((np.diff(np.asarray(values, dtype=float)) > 0).sum())


def largest_confusions(confusion: np.ndarray, classes: list[str], k: int = 4) -> list[tuple[str, str, float]]:
    """The k largest off-diagonal cells of a confusion matrix (rows: true class) as (true, predicted, share of the
    true class), largest share first."""
    confusion = np.asarray(confusion, dtype=float)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] or len(confusion) != len(classes):
        raise ValueError(f"confusion must be a square matrix with one row per class, not shape {confusion.shape}.")
    shares = confusion / confusion.sum(axis=1, keepdims=True).clip(min=1)
    np.fill_diagonal(shares, -1.0)
    order = np.argsort(shares, axis=None, kind="stable")[::-1][:k]
    cells = [np.unravel_index(i, shares.shape) for i in order]
    return [(classes[t], classes[p], float(shares[t, p])) for t, p in cells if shares[t, p] > 0]
