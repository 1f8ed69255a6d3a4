"""Result summaries: per-class accuracy, the most confused pairs, the first epoch a measure reached a value."""

import math

import numpy as np

from nnutils.history import History
from nnutils.metrics import first_epoch_at, most_confused, per_class_accuracy

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
