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
