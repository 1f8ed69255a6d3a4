"""Layers with parameters, written from scratch in NumPy: each backward pass sits right beside its forward pass.

Every layer caches in ``forward`` what its ``backward`` needs. ``backward(grad)`` receives dL/d(output), stores
dL/d(parameter) in ``self.grads`` and returns dL/d(input). Shapes follow PyTorch: a dense weight is
(out, in), a convolution weight is (out_channels, in_channels, k, k), images are (N, C, H, W).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

INITS = ("gaussian", "scaled", "lecun")


def init_weights(shape: tuple[int, ...], fan_in: int, init: str, rng: np.random.Generator, dtype=np.float64):
    """Random weights: ``gaussian`` N(0, 1); ``scaled`` N(0, 0.1) / sqrt(fan_in); ``lecun`` N(0, 1) / sqrt(fan_in)."""
    if init not in INITS:
        raise ValueError(f"Unknown initialisation {init!r}: choose one of {', '.join(INITS)}.")
    scale = {"gaussian": 1.0, "scaled": 0.1 / np.sqrt(fan_in), "lecun": 1.0 / np.sqrt(fan_in)}[init]
    return (scale * rng.standard_normal(shape)).astype(dtype)


class Layer:
    """Base class: no parameters; subclasses override ``forward`` and ``backward``."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.input_grad = True  # the first layer of a network may skip computing dL/d(input)

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"


class Dense(Layer):
    """Fully connected: y = x W^T + b, with W of shape (n_out, n_in)."""

    def __init__(self, n_in: int, n_out: int, init: str = "lecun", rng: np.random.Generator | None = None, dtype=None):
        super().__init__()
        rng = rng if rng is not None else np.random.default_rng(0)
        dtype = dtype or np.float64
        self.params = {"W": init_weights((n_out, n_in), n_in, init, rng, dtype), "b": np.zeros(n_out, dtype)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        self.grads = {"W": grad.T @ self.x, "b": grad.sum(axis=0)}
        return grad @ self.params["W"] if self.input_grad else None


def im2col(x: np.ndarray, k: int) -> np.ndarray:
    """All k x k patches of images (N, C, H, W) as rows: (N * Ho * Wo, C * k * k), stride 1, no padding."""
    n, c, h, w = x.shape
    windows = sliding_window_view(x, (k, k), axis=(2, 3))  # (N, C, Ho, Wo, k, k), a view
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * (h - k + 1) * (w - k + 1), c * k * k)


def col2im(cols: np.ndarray, shape: tuple[int, int, int, int], k: int) -> np.ndarray:
    """The adjoint of im2col: add every patch row back onto its place in images of ``shape`` (N, C, H, W)."""
    n, c, h, w = shape
    ho, wo = h - k + 1, w - k + 1
    patches = cols.reshape(n, ho, wo, c, k, k)
    out = np.zeros(shape, dtype=cols.dtype)
    if k * k <= ho * wo:  # loop over the kernel offsets; each step adds a whole (N, C, Ho, Wo) slab
        for i in range(k):
            for j in range(k):
                out[:, :, i : i + ho, j : j + wo] += patches[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    else:  # large kernels (few output positions): loop over the output positions instead
        for p in range(ho):
            for q in range(wo):
                out[:, :, p : p + k, q : q + k] += patches[:, p, q]
    return out


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in PyTorch), stride 1, optional zero padding, via im2col."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        padding: int = 0,
        init: str = "lecun",
        rng: np.random.Generator | None = None,
        dtype=None,
    ):
        super().__init__()
        rng = rng if rng is not None else np.random.default_rng(0)
        dtype = dtype or np.float64
        fan_in = in_channels * kernel_size * kernel_size
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.params = {"W": init_weights(shape, fan_in, init, rng, dtype), "b": np.zeros(out_channels, dtype)}
        self.k, self.padding = kernel_size, padding

    def _pad(self, x: np.ndarray) -> np.ndarray:
        p = self.padding
        return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 4 or x.shape[1] != self.params["W"].shape[1]:
            raise ValueError(f"Conv2D expects images (N, {self.params['W'].shape[1]}, H, W), got shape {x.shape}.")
        xp = self._pad(x)
        self.cols = im2col(xp, self.k)
        n, _, h, w = xp.shape
        ho, wo = h - self.k + 1, w - self.k + 1
        w_mat = self.params["W"].reshape(len(self.params["W"]), -1)
        out = self.cols @ w_mat.T + self.params["b"]  # (N * Ho * Wo, F)
        return out.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        f = grad.shape[1]
        g = grad.transpose(0, 2, 3, 1).reshape(-1, f)  # one row per output position
        self.grads = {"W": (g.T @ self.cols).reshape(self.params["W"].shape), "b": g.sum(axis=0)}
        return self.project_back(grad) if self.input_grad else None

    def project_back(self, maps: np.ndarray) -> np.ndarray:
        """The transposed convolution: maps (N, F, Ho, Wo) back onto the input (N, C, H, W) through the filters."""
        f = maps.shape[1]
        g = maps.transpose(0, 2, 3, 1).reshape(-1, f)
        cols = g @ self.params["W"].reshape(f, -1)
        n, _, ho, wo = maps.shape
        shape = (n, self.params["W"].shape[1], ho + self.k - 1, wo + self.k - 1)
        out = col2im(cols, shape, self.k)
        p = self.padding
        return out[:, :, p:-p, p:-p] if p else out


class Flatten(Layer):
    """(N, C, H, W) -> (N, C * H * W); backward restores the shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad.reshape(self.shape)
