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
    """All k x k patches of images (N, C, H, W) as columns, one per output position: (N, C * k * k, Ho * Wo), stride
    1, no padding (a copy of the sliding-window view)."""
    n, c, h, w = x.shape
    windows = sliding_window_view(x, (k, k), axis=(2, 3))  # (N, C, Ho, Wo, k, k), a view: nothing copied yet
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * k * k, (h - k + 1) * (w - k + 1))


def col2im(cols: np.ndarray, shape: tuple[int, int, int, int], k: int) -> np.ndarray:
    """The adjoint of im2col: add every patch column back onto its place in images of ``shape`` (N, C, H, W)."""
    n, c, h, w = shape
    ho, wo = h - k + 1, w - k + 1
    patches = cols.reshape(n, c, k, k, ho, wo)
    out = np.zeros(shape, dtype=cols.dtype)
    if k * k <= ho * wo:  # loop over the kernel offsets; each step adds a whole (N, C, Ho, Wo) slab
        for i in range(k):
            for j in range(k):
                out[:, :, i : i + ho, j : j + wo] += patches[:, :, i, j]
    else:  # large kernels (few output positions): loop over the output positions instead
        for p in range(ho):
            for q in range(wo):
                out[:, :, p : p + k, q : q + k] += patches[..., p, q]
    return out


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in PyTorch), stride 1, optional zero padding: with the patches of each
    image as the columns of a matrix P (im2col), the forward pass and each gradient are one matrix product."""

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
        w = self.params["W"]
        if x.ndim != 4 or x.shape[1] != w.shape[1]:
            raise ValueError(f"Conv2D expects images (N, {w.shape[1]}, H, W), got shape {x.shape}.")
        xp = self._pad(x)
        n, _, h, wd = xp.shape
        self.cols = im2col(xp, self.k)  # (N, C k k, Ho Wo)
        out = w.reshape(len(w), -1) @ self.cols  # Y = W P for every image: (N, F, Ho Wo)
        out += self.params["b"][:, None]
        return out.reshape(n, len(w), h - self.k + 1, wd - self.k + 1)

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        n, f = grad.shape[:2]
        g = grad.reshape(n, f, -1)  # (N, F, Ho Wo): one column per output position, as in P
        dw = (g @ self.cols.transpose(0, 2, 1)).sum(axis=0)  # dL/dW = sum over images of G P^T: (F, C k k)
        self.grads = {"W": dw.reshape(self.params["W"].shape), "b": g.sum(axis=(0, 2))}
        return self.project_back(grad) if self.input_grad else None

    def project_back(self, maps: np.ndarray) -> np.ndarray:
        """The transposed convolution: maps (N, F, Ho, Wo) back onto the input (N, C, H, W) through the filters
        (dL/dP = W^T G, one matrix product, then col2im adds each patch back where it came from)."""
        n, f, ho, wo = maps.shape
        w = self.params["W"]
        cols = w.reshape(f, -1).T @ maps.reshape(n, f, -1)  # (N, C k k, Ho Wo)
        out = col2im(cols, (n, w.shape[1], ho + self.k - 1, wo + self.k - 1), self.k)
        p = self.padding
        return out[:, :, p:-p, p:-p] if p else out


class Flatten(Layer):
    """(N, C, H, W) -> (N, C * H * W); backward restores the shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad.reshape(self.shape)
