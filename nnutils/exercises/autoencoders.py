"""Exercise checks for chapter 5 (autoencoders): the dense autoencoder's parameters, PCA reconstruction."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnutils.exercises import Feedback, check_function, check_parameter_count


def check_autoencoder_parameters(answer: tuple[int, int]) -> Feedback:
    """Is ``answer`` the pair (encoder parameters, decoder parameters) of the 784-32-784 autoencoder?"""
    hint = "Each is one linear layer: inputs x outputs weights, plus one bias per output (and the outputs differ)."
    from nnutils.autoencoders import DenseAutoencoder

    model = DenseAutoencoder(code_size=32)
    return check_parameter_count(answer, model.encoder, model.decoder, hint=hint)


def reference_reconstruction(x: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """PCA reconstruction of the rows of ``x`` from orthonormal ``components`` (one per row): project, then map back."""
    return (x - mean) @ components.T @ components + mean


def check_pca_reconstruction(fn: Callable[..., np.ndarray]) -> Feedback:
    """Does ``fn(x, mean, components)`` rebuild ``x`` from its coordinates on the principal components?"""
    rng = np.random.default_rng(2)

    def orthonormal(k, d):
        return np.linalg.qr(rng.normal(size=(d, k)))[0].T

    cases = [
        (np.array([[1.0, 2.0]]), np.zeros(2), np.array([[1.0, 0.0]])),
        (rng.normal(size=(5, 4)), rng.normal(size=4), orthonormal(2, 4)),
        (rng.normal(size=(6, 10)), rng.normal(size=10), orthonormal(3, 10)),
    ]
    hint = "Subtract the mean first, take the coordinates (x - mean) C^T, map them back with C, then add the mean."
    return check_function(fn, reference_reconstruction, cases, name="your reconstruction", hint=hint)
