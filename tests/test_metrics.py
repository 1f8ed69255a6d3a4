"""Result summaries: per-class accuracy, the most confused pairs, the first epoch a measure reached a value."""

import math

import numpy as np
import pytest

from nnutils.history import History
from nnutils.metrics import (
    first_epoch_at,
    largest_confusions,
    last_change,
    most_confused,
    per_class_accuracy,
    rises,
    trend,
)

CONFUSION = np.array([[8, 2, 0], [5, 5, 0], [0, 1, 0]])  # rows: true class; the last class was never right


def test_per_class_accuracy_reads_the_rows():
    assert per_class_accuracy(CONFUSION).tolist() == [0.8, 0.5, 0.0]
    assert per_class_accuracy(np.zeros((2, 2))).tolist() == [0.0, 0.0], "an empty class is 0, not a division error"


def test_most_confused_lists_off_diagonal_cells_largest_first():
    pairs = most_confused(CONFUSION, ["a", "b", "c"], k=3)
    assert pairs == [("b", "a", 5), ("a", "b", 2), ("c", "b", 1)]
    assert all(t != p for t, p, _ in most_confused(np.eye(3, dtype=int) * 9, ["a", "b", "c"], k=6))


def test_first_epoch_at_finds_the_first_epoch_that_reached_the_value():
    history = History()
    for epoch, acc in enumerate([0.5, math.nan, 1.0, 0.9, 1.0], 1):
        history.append(epoch=epoch, train_acc=acc)
    assert first_epoch_at(history) == 3
    assert first_epoch_at(history, "train_acc", 0.4) == 1
    assert first_epoch_at(history, "train_acc", 1.1) is None


def test_last_change_trend_and_rises_read_the_end_of_a_curve():
    curve = [0.5, 0.7, 0.69, 0.8, 0.805]
    assert math.isclose(last_change(curve), 0.005) and math.isclose(last_change(curve, 2), 0.115)
    assert trend(curve, tolerance=0.01) == "flat"
    assert trend(curve, tolerance=0.001) == "rising"
    assert trend(curve, tolerance=0.01, epochs=2) == "rising"
    assert trend([1.0, 0.5], tolerance=0.1) == "falling"
    assert rises(curve) == 3 and rises([3.0, 2.0, 1.0]) == 0
    with pytest.raises(ValueError, match="no change over its last 1"):
        last_change([0.5])


def test_largest_confusions_are_shares_of_the_true_class():
    confusion = [[90, 10, 0], [1, 98, 1], [0, 30, 70]]  # 2 read as 1 is 30% of the 2s; 0 read as 1 is 10%
    assert largest_confusions(confusion, ["0", "1", "2"], k=2) == [("2", "1", 0.3), ("0", "1", 0.1)]
    every = largest_confusions(confusion, ["0", "1", "2"], k=9)
    assert len(every) == 4 and {cell[:2] for cell in every[2:]} == {("1", "0"), ("1", "2")}, "empty cells left out"
    with pytest.raises(ValueError, match="one row per class"):
        largest_confusions(confusion, ["0", "1"])
