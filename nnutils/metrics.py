"""Summaries of classifier results: most-confused pairs and per-class accuracy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
