"""Exercise checks for chapter 3 (hidden-unit dynamics): the LSTM's parameter count, one step of an Elman net."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnutils.exercises import Feedback, check_function, check_parameter_count


def check_lstm_parameters(answer: int) -> Feedback:
    """Is ``answer`` the number of parameters of ``LSTMNet(vocab=3, hidden=3)``?"""
    hint = (
        "An LSTM has four gates; each has input weights (hidden x vocab), recurrent weights (hidden x hidden) and, "
        "in PyTorch, two bias vectors. Then add the output layer (hidden -> vocab, with biases)."
    )
    from nnutils.recurrent import LSTMNet

    return check_parameter_count(answer, LSTMNet(vocab=3, hidden=3), hint=hint)


def reference_srn_step(x: np.ndarray, h: np.ndarray, w_in: np.ndarray, w_rec: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One step of an Elman network: the new hidden state tanh(W_in x + W_rec h + b)."""
    return np.tanh(w_in @ x + w_rec @ h + b)


def check_srn_step(fn: Callable[..., np.ndarray]) -> Feedback:
    """Does ``fn(x, h, w_in, w_rec, b)`` compute the next hidden state of an Elman network?"""
    rng = np.random.default_rng(1)
    cases = [
        (np.array([1.0, 0.0]), np.zeros(2), np.eye(2), np.eye(2), np.zeros(2)),
        (np.array([0.0, 1.0]), np.array([0.5, -0.5]), *rng.normal(size=(2, 2, 2)), np.array([0.1, -0.2])),
        (rng.normal(size=3), rng.normal(size=4), rng.normal(size=(4, 3)), rng.normal(size=(4, 4)), rng.normal(size=4)),
    ]
    hint = "The context (previous hidden state) enters through its own weights, added before the tanh."
    return check_function(fn, reference_srn_step, cases, name="your SRN step", hint=hint)
