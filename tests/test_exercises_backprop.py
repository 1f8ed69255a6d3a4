"""Chapter 4a's exercise checks: right answers pass, typical mistakes fail with a message that helps."""

import numpy as np

from nnutils.exercises import backprop


def dense_backward(x, w, g):
    return g @ w, g.T @ x, g.sum(axis=0)


def central_differences(f, w, eps=1e-6):
    grad = np.zeros_like(w)
    for i in range(len(w)):
        keep = w[i]
        w[i] = keep + eps
        plus = f(w)
        w[i] = keep - eps
        minus = f(w)
        w[i] = keep
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def test_dense_backward_check():
    assert backprop.check_dense_backward(dense_backward)
    transposed = backprop.check_dense_backward(lambda x, w, g: (g @ w, x.T @ g, g.sum(axis=0)))
    assert not transposed and "g^T x" in transposed.message
    mean_bias = backprop.check_dense_backward(lambda x, w, g: (g @ w, g.T @ x, g.mean(axis=0)))
    assert not mean_bias and "db" in mean_bias.message and "summed over the batch" in mean_bias.message
    assert "three arrays" in backprop.check_dense_backward(lambda x, w, g: g @ w).message

    def unwritten(x, w, g):
        raise NotImplementedError

    assert "not written yet" in backprop.check_dense_backward(unwritten).message


def test_numerical_gradient_check():
    assert backprop.check_numerical_gradient(central_differences)
    one_sided = backprop.check_numerical_gradient(
        lambda f, w, eps=1e-2: np.array([(f(w + eps * e) - f(w)) / eps for e in np.eye(len(w))])
    )
    assert not one_sided and "2 eps" in one_sided.message
    forgot_halving = backprop.check_numerical_gradient(lambda f, w: 2 * central_differences(f, w))
    assert not forgot_halving


def test_cnn_parameter_count_check():
    assert backprop.check_cnn_b_parameters(16 * 49 + 16 + 16 * 22 * 22 * 128 + 128 + 128 * 10 + 10)
    assert backprop.check_cnn_b_parameters(993_450)
    no_biases = backprop.check_cnn_b_parameters(16 * 49 + 16 * 22 * 22 * 128 + 128 * 10)
    assert not no_biases and "too low" in no_biases.message and "22 x 22" in no_biases.message
