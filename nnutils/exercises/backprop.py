"""Exercise checks for chapter 4a (backpropagation in NumPy): a dense layer's backward pass, a gradient by central
finite differences, and the parameter count of the from-scratch CNN."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnutils.exercises import (
    Feedback,
    check_function,
    check_parameter_count,
    check_value,
    is_blank,
    not_answered,
    unwritten,
)
from nnutils.scratch import Dense, cnn
from nnutils.scratch.gradcheck import numerical_gradient

DENSE_HINTS = {
    "dx": "The input gradient sends g back through the weights: g W, shape (N, n_in).",
    "dW": "Each weight W[j, i] multiplies x[:, i] into output j: dL/dW = g^T x, shape (n_out, n_in).",
    "db": "The bias is added to every example's output: dL/db is g summed over the batch, shape (n_out,).",
}


def reference_dense_backward(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    """(dL/dx, dL/dW, dL/db) of y = x W^T + b for upstream g = dL/dy, computed by the package's ``Dense``."""
    layer = Dense(w.shape[1], w.shape[0])
    layer.params["W"] = w
    layer.forward(x)
    dx = layer.backward(g)
    return dx, layer.grads["W"], layer.grads["b"]


def _dense_cases(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    shapes = [(1, 3, 2), (4, 5, 3), (7, 2, 6)]  # (batch, n_in, n_out): a single example and two batches
    draw = rng.standard_normal
    return [(draw((n, i)), draw((o, i)), draw((n, o))) for n, i, o in shapes]


def check_dense_backward(fn: Callable[..., tuple]) -> Feedback:
    """Does ``fn(x, W, g)`` return (dL/dx, dL/dW, dL/db) of a dense layer y = x W^T + b, given g = dL/dy?"""
    if is_blank(fn):
        return not_answered("your function", "write the function in place of the ...")
    if not callable(fn):
        return Feedback(False, f"your answer should be a function, not {type(fn).__name__}.")
    for i, (x, w, g) in enumerate(_dense_cases(), 1):
        try:
            got = fn(x.copy(), w.copy(), g.copy())
        except NotImplementedError:
            return Feedback(False, "your function is not written yet (it raises NotImplementedError).")
        except Exception as err:  # the student's code failing is feedback, not a crash
            return Feedback(False, f"your function raised {type(err).__name__}: {err} on test case {i}.")
        if is_blank(got):
            return unwritten("your function", got)
        if not isinstance(got, tuple | list) or len(got) != 3:
            return Feedback(False, "your function should return three arrays: (dx, dW, db).")
        for name, mine, want in zip(DENSE_HINTS, got, reference_dense_backward(x, w, g)):
            verdict = check_value(mine, want, name=f"{name} on test case {i}", rtol=1e-6, atol=1e-9)
            if not verdict:
                return Feedback(False, f"{verdict.message} {DENSE_HINTS[name]}")
    return Feedback(True, "dx, dW and db agree with the package's Dense layer on all 3 test cases.")


def _loss_of_logits(target: int) -> Callable[[np.ndarray], float]:
    """Softmax cross-entropy of a logit vector against one class (a test function for the finite differences)."""

    def loss(z: np.ndarray) -> float:
        z = z - z.max()
        return float(np.log(np.exp(z).sum()) - z[target])

    return loss


def _reference_gradient(f: Callable[[np.ndarray], float], w: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The package's central differences on a copy of w."""
    w = np.array(w, dtype=np.float64)
    return numerical_gradient(lambda: f(w), w, eps)


def check_numerical_gradient(fn: Callable[..., np.ndarray]) -> Feedback:
    """Does ``fn(f, w)`` return the gradient of the scalar function f at the 1-D array w, by central differences?"""
    if is_blank(fn):
        return not_answered("your numerical gradient", "write the function in place of the ...")
    rng = np.random.default_rng(1)
    cases = [
        (lambda w: float((w**2).sum()), np.array([1.0, -2.0, 0.5])),
        (lambda w: float(np.tanh(0.5 * w).sum()), rng.standard_normal(4)),
        (_loss_of_logits(2), rng.standard_normal(5)),
    ]
    hint = (
        "For each entry w[i]: add eps (about 1e-6), evaluate f, subtract eps instead, evaluate again, divide the "
        "difference by 2 eps, and put w[i] back before moving on."
    )
    return check_function(
        lambda f, w: fn(f, w.copy()),
        _reference_gradient,
        cases,
        name="your numerical gradient",
        rtol=1e-4,
        atol=1e-7,
        hint=hint,
    )


def check_cnn_b_parameters(answer: int) -> Feedback:
    """Is ``answer`` the number of weights and biases of architecture B (16 filters of 7 x 7, 128 dense, 10 out)?"""
    hint = (
        "Count three layers, each with its biases: 16 filters of 1 x 7 x 7; a dense layer from the 16 maps of "
        "22 x 22 (28 - 7 + 1 = 22) to 128 units; and 128 -> 10. Activations have no parameters."
    )
    return check_parameter_count(answer, cnn(16, 7, hidden=128), hint=hint)
