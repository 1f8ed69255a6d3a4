"""Gradient checking: backpropagated gradients against central finite differences (use float64).

For a layer, the scalar checked is ``sum(layer(x) * u)`` for a fixed random ``u``; its gradient with respect to
the output is u, so ``backward(u)`` must return the gradients that the finite differences measure.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .layers import Layer
from .losses import Loss


def numerical_gradient(f: Callable[[], float], array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """(f(a + eps) - f(a - eps)) / (2 eps) for each entry of ``array`` (changed in place, then restored)."""
    grad = np.zeros(array.shape, dtype=np.float64)
    for i in np.ndindex(array.shape):  # indexes the array itself, so views and strided arrays work too
        keep = array[i]
        array[i] = keep + eps
        plus = f()
        array[i] = keep - eps
        minus = f()
        array[i] = keep
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| divided by the largest magnitude in a or b (0 when both are zero)."""
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0))
    return float(np.abs(a - b).max(initial=0) / scale) if scale > 0 else 0.0


def backprop_layer(layer: Layer, x: np.ndarray, upstream: np.ndarray) -> dict[str, np.ndarray]:
    """The gradients of ``sum(layer(x) * upstream)`` by backpropagation: ``"x"`` and one entry per parameter."""
    layer.input_grad = True
    layer.forward(x)
    dx = layer.backward(upstream)
    return {"x": dx, **{name: g.copy() for name, g in layer.grads.items()}}


def check_layer(layer: Layer, x: np.ndarray, seed: int = 0, eps: float = 1e-6) -> dict[str, float]:
    """Relative error between backprop and finite differences, for the input and each parameter of a layer."""
    upstream = np.random.default_rng(seed).standard_normal(layer.forward(x).shape)
    analytic = backprop_layer(layer, x, upstream)

    def f() -> float:
        return float((layer.forward(x) * upstream).sum())

    targets = {"x": x, **layer.params}
    return {name: relative_error(analytic[name], numerical_gradient(f, arr, eps)) for name, arr in targets.items()}


def check_loss(loss: Loss, out: np.ndarray, target: np.ndarray, eps: float = 1e-6) -> float:
    """Relative error between a loss's backward and finite differences with respect to the network output."""
    loss.forward(out, target)
    analytic = loss.backward()
    return relative_error(analytic, numerical_gradient(lambda: loss.forward(out, target), out, eps))


def torch_twin(layer: Layer):
    """The same function written with PyTorch, ``fn(x, params)``, for each kind of from-scratch layer."""
    import torch
    import torch.nn.functional as F

    from . import activations as A
    from .layers import Conv2D, Dense, Flatten

    twins = {
        Dense: lambda x, p: F.linear(x, p["W"], p["b"]),
        Conv2D: lambda x, p: F.conv2d(x, p["W"], p["b"], padding=layer.padding),
        Flatten: lambda x, p: x.flatten(1),
        A.Identity: lambda x, p: x,
        A.Sigmoid: lambda x, p: torch.sigmoid(layer.slope * x),
        A.Tanh: lambda x, p: torch.tanh(layer.slope * x),
        A.ReLU: lambda x, p: F.relu(x),
        A.LeakyReLU: lambda x, p: F.leaky_relu(x, layer.leak),
        A.Softmax: lambda x, p: torch.softmax(x, dim=-1),
    }
    if type(layer) not in twins:
        raise ValueError(f"No PyTorch twin for {type(layer).__name__}; known: {[k.__name__ for k in twins]}.")
    return twins[type(layer)]


def check_against_torch(layer: Layer, x: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Relative differences from PyTorch autograd (float64, same weights and input): output, input and parameters."""
    import torch

    upstream = np.random.default_rng(seed).standard_normal(layer.forward(x).shape)
    ours = backprop_layer(layer, x, upstream)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    pt = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in layer.params.items()}
    out = torch_twin(layer)(xt, pt)
    errors = {"output": relative_error(layer.forward(x), out.detach().numpy())}
    (out * torch.from_numpy(upstream)).sum().backward()
    theirs = {"x": xt.grad.numpy(), **{k: v.grad.numpy() for k, v in pt.items()}}
    return errors | {name: relative_error(ours[name], theirs[name]) for name in ours}


def gradient_table(cases: dict[str, tuple[Layer, np.ndarray]]):
    """One row per named (layer, input): the largest error against finite differences and against PyTorch."""
    import pandas as pd

    rows = []
    for name, (layer, x) in cases.items():
        fd, tt = check_layer(layer, x), check_against_torch(layer, x)
        rows.append({"layer": name, "vs finite differences": max(fd.values()), "vs PyTorch autograd": max(tt.values())})
    return pd.DataFrame(rows).set_index("layer")


def loss_gradient_table(out: np.ndarray, labels: np.ndarray):
    """Each loss's gradient with respect to the output (float64), against finite differences and PyTorch autograd."""
    import pandas as pd
    import torch
    import torch.nn.functional as F

    from .losses import make_loss, one_hot

    twins = {
        "softmax cross-entropy": ("cross_entropy", lambda z, y: F.cross_entropy(z, y)),
        "mean squared error (one-hot)": (
            "mse",
            lambda z, y: 0.5 * ((z - torch.from_numpy(one_hot(labels, out.shape[1]))) ** 2).sum(1).mean(),
        ),
    }
    rows = []
    for name, (key, twin) in twins.items():
        loss = make_loss(key)
        fd = check_loss(loss, out, labels)
        value, ours = loss.forward(out, labels), loss.backward()
        zt = torch.tensor(out, dtype=torch.float64, requires_grad=True)
        theirs = twin(zt, torch.from_numpy(labels))
        theirs.backward()
        tt = max(relative_error(np.array(value), theirs.detach().numpy()), relative_error(ours, zt.grad.numpy()))
        rows.append({"loss": name, "vs finite differences": fd, "vs PyTorch autograd": tt})
    return pd.DataFrame(rows).set_index("loss")
