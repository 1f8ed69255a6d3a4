"""Principal component analysis in PyTorch: fit on training data, project any data, report explained variance.

The components are the eigenvectors of the training data's covariance matrix (computed in float64), sorted by
decreasing variance; each one's sign is fixed so that its largest-magnitude entry is positive, which makes the
result repeatable across runs and libraries.
"""

from __future__ import annotations

import numpy as np
import torch

Array = torch.Tensor | np.ndarray


def _as_matrix(x: Array, name: str = "x") -> torch.Tensor:
    """Data as a float64 matrix (N, D): images (N, 1, 28, 28) are flattened to (N, 784)."""
    x = torch.as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape (N, D) or (N, ...), one example per row; got {tuple(x.shape)}.")
    return x.reshape(len(x), -1).double()


class PCA:
    """Keeps the first ``n_components`` principal directions of the data passed to ``fit`` (all of them if None)."""

    def __init__(self, n_components: int | None = None):
        if n_components is not None and (not isinstance(n_components, int) or n_components < 1):
            raise ValueError(f"n_components must be a positive integer or None (keep all), not {n_components!r}.")
        self.n_components = n_components
        self.mean_: torch.Tensor | None = None
        self.components_: torch.Tensor | None = None  # (k, D), orthonormal rows
        self.explained_variance_: torch.Tensor | None = None  # (k,), variance along each component
        self.explained_variance_ratio_: torch.Tensor | None = None  # (k,), as a fraction of the total variance

    def fit(self, x: Array) -> PCA:
        """Learn the mean and the principal directions of x (N, D) or (N, 1, 28, 28); returns self."""
        x = _as_matrix(x)
        n, d = x.shape
        if n < 2:
            raise ValueError(f"PCA needs at least 2 examples to estimate a covariance; got {n}.")
        k = self.n_components or min(n, d)
        if k > min(n, d):
            raise ValueError(f"n_components={k} is too large: at most min(N, D) = {min(n, d)} for data {(n, d)}.")
        self.mean_ = x.mean(dim=0)
        centred = x - self.mean_
        covariance = centred.T @ centred / (n - 1)
        variances, vectors = torch.linalg.eigh(covariance)  # ascending order
        variances, vectors = variances.flip(0).clamp(min=0), vectors.flip(1)
        components = vectors[:, :k].T
        signs = torch.sign(components[torch.arange(k), components.abs().argmax(dim=1)])
        self.components_ = components * signs[:, None]
        self.explained_variance_ = variances[:k]
        self.explained_variance_ratio_ = variances[:k] / variances.sum()
        return self

    def _check_fitted(self) -> None:
        if self.components_ is None:
            raise ValueError("This PCA is not fitted yet: call fit(training_data) first.")

    def transform(self, x: Array) -> torch.Tensor:
        """Coordinates of x along the principal components: float32 (N, k)."""
        self._check_fitted()
        x = _as_matrix(x)
        if x.shape[1] != self.mean_.shape[0]:
            fitted = self.mean_.shape[0]
            raise ValueError(f"x has {x.shape[1]} features per example but the PCA was fitted on {fitted}.")
        return ((x - self.mean_) @ self.components_.T).float()

    def fit_transform(self, x: Array) -> torch.Tensor:
        """fit(x), then transform(x)."""
        return self.fit(x).transform(x)

    def inverse_transform(self, codes: Array) -> torch.Tensor:
        """Back from coordinates (N, k) to the data space (N, D): the best rank-k reconstruction, float32."""
        self._check_fitted()
        codes = torch.as_tensor(codes).double()
        if codes.ndim != 2 or codes.shape[1] != len(self.components_):
            raise ValueError(f"codes must have shape (N, {len(self.components_)}); got {tuple(codes.shape)}.")
        return (codes @ self.components_ + self.mean_).float()

    def n_components_for(self, fraction: float) -> int:
        """The fewest components whose explained variance reaches ``fraction`` (0 < fraction <= 1) of the total."""
        self._check_fitted()
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must lie in (0, 1], not {fraction}.")
        cumulative = self.explained_variance_ratio_.cumsum(0)
        reached = torch.nonzero(cumulative >= fraction - 1e-12)
        if len(reached) == 0:
            raise ValueError(
                f"The {len(cumulative)} kept components explain only {float(cumulative[-1]):.3f} of the variance; "
                "fit with n_components=None to search all of them."
            )
        return int(reached[0]) + 1
