"""What a training run leaves behind, shared by the PyTorch loop and the NumPy one (no torch needed here).

``History`` is the per-epoch table (a column per measure: ``train_loss``, ``val_acc``, ``seconds`` ...), ``EvalResult``
one evaluation, and ``Run`` a trained model with both. Callbacks of either loop are objects with
``on_epoch_end(loop)``: they read ``loop.history`` and ``loop.epoch`` and may set ``loop.stop_training = True``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class History:
    """Per-epoch record of a run, one list per column; rows are added with ``append`` (fractions, NaN where a
    measure was not taken). Columns read as attributes: ``history.val_acc``."""

    def __init__(self, columns: Iterable[str] = ()):
        self.columns: dict[str, list] = {name: [] for name in columns}

    def append(self, **row: Any) -> None:
        """Add one epoch's values; a column missing from ``row`` gets NaN, a new column is back-filled with NaN."""
        n = len(self)
        for name in row:
            if name not in self.columns:
                self.columns[name] = [math.nan] * n
        for name, values in self.columns.items():
            values.append(row.get(name, math.nan))

    def put(self, key: str, value: Any) -> None:
        """Set one value of the latest row (a callback's own measure); a new column is back-filled with NaN."""
        if len(self) == 0:
            raise ValueError("The history has no row yet: put() sets a value of the latest epoch.")
        column = self.columns.setdefault(key, [math.nan] * len(self))
        column[-1] = value

    def __len__(self) -> int:
        return max((len(v) for v in self.columns.values()), default=0)

    def __getattr__(self, name: str) -> list:
        columns = self.__dict__.get("columns", {})
        if name in columns:
            return columns[name]
        raise AttributeError(f"History has no column {name!r}; it has {', '.join(columns) or 'none yet'}.")

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def last(self, key: str) -> Any:
        """The latest value of one column, e.g. ``history.last("val_acc")``."""
        return getattr(self, key)[-1]

    def best(self, key: str, mode: str = "max") -> tuple[int, float]:
        """(epoch, value) of the best finite value of a column: the largest (``mode="max"``) or smallest."""
        values = np.asarray(getattr(self, key), dtype=float)
        if not np.isfinite(values).any():
            raise ValueError(f"Column {key!r} has no measured value yet.")
        pick = np.nanargmax if mode == "max" else np.nanargmin
        i = int(pick(np.where(np.isfinite(values), values, np.nan)))
        epochs = self.columns.get("epoch", list(range(1, len(values) + 1)))
        return int(epochs[i]), float(values[i])

    def as_dict(self) -> dict[str, list]:
        return {name: list(values) for name, values in self.columns.items()}

    def __repr__(self) -> str:
        return f"History({len(self)} epochs: {', '.join(self.columns)})"


@dataclass
class EvalResult:
    """Mean loss, accuracy (fraction; NaN without a metric) and confusion matrix (rows = true class) on one set."""

    loss: float
    accuracy: float
    confusion: np.ndarray | None = None


@dataclass
class Run:
    """One trained model: its name, the model, its history, the final evaluation, seconds of training, and any
    chapter-specific measures (``info``: e.g. epochs to 100%, snapshots)."""

    name: str
    model: Any
    history: History
    result: EvalResult | None = None
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return len(self.history)

    @property
    def seconds_per_epoch(self) -> float:
        per_epoch = self.history.columns.get("seconds")
        return float(np.mean(per_epoch)) if per_epoch else self.seconds / max(1, self.epochs)

    def __getitem__(self, key: str) -> Any:
        """``run["epochs"]`` style access to ``info`` (and to epochs and seconds)."""
        if key in self.info:
            return self.info[key]
        if key in ("epochs", "seconds", "name"):
            return getattr(self, key)
        raise KeyError(f"Run {self.name!r} has no {key!r}; it has {', '.join(self.info) or 'no extra measures'}.")


def call_callbacks(callbacks: Iterable[Callable | object], hook: str, loop: object) -> None:
    """Call ``hook`` (e.g. ``"on_epoch_end"``) on every callback that has it; a plain function counts as an
    ``on_epoch_end``."""
    for cb in callbacks:
        method = getattr(cb, hook, None)
        if method is not None:
            method(loop)
        elif hook == "on_epoch_end" and callable(cb):
            cb(loop)
