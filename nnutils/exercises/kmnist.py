"""Exercise checks for chapter 1 (KMNIST): counting NetConv's parameters, accuracy from a confusion matrix."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnutils.exercises import Feedback, check_function, check_parameter_count


def check_netconv_parameters(answer: int) -> Feedback:
    """Is ``answer`` the number of NetConv's trainable parameters (weights and biases)?"""
    hint = (
        "Count layer by layer: a convolution has out x in x k x k weights plus one bias per output channel; "
        "the linear layer has 2,304 x 10 weights plus 10 biases (2,304 = 64 channels of 6 x 6 after two poolings)."
    )
    from nnutils.models import NetConv

    return check_parameter_count(answer, NetConv(), hint=hint)


def reference_accuracy(confusion: np.ndarray) -> float:
    """Accuracy from a confusion matrix (rows: true class, columns: predicted): the diagonal over the total."""
    confusion = np.asarray(confusion, dtype=float)
    return float(np.trace(confusion) / confusion.sum())


def check_accuracy_from_confusion(fn: Callable[[np.ndarray], float]) -> Feedback:
    """Does ``fn(confusion)`` return the accuracy that the confusion matrix implies?"""
    rng = np.random.default_rng(0)
    cases = [(np.diag([5, 5]),), (np.array([[8, 2], [1, 9]]),), (rng.integers(0, 50, size=(10, 10)),)]
    hint = "The right answers are on the diagonal; divide their sum by the number of all answers."
    return check_function(fn, reference_accuracy, cases, name="your accuracy function", hint=hint)
