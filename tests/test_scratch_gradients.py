"""Every from-scratch layer, activation and loss: backprop against central finite differences and against
PyTorch autograd on the same weights and inputs (float64, tight tolerances). A wrong gradient must fail."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnutils.scratch import (
    Conv2D,
    Dense,
    Flatten,
    Identity,
    LeakyReLU,
    MeanSquaredError,
    ReLU,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropy,
    Tanh,
    cnn,
    make_loss,
    mlp,
)
from nnutils.scratch.gradcheck import backprop_layer, check_layer, check_loss, relative_error

FD_TOL = 1e-6  # finite differences (eps 1e-6, float64)
TORCH_TOL = 1e-10  # autograd computes the same float64 quantities


def away_from_zero(shape, seed=0):
    """Random inputs with |x| >= 0.05, so that finite differences never straddle the ReLU kink."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.where(np.abs(x) < 0.05, 0.05 * np.sign(x) + 0.05 * (x == 0), x)


def t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


# (name, scratch layer factory, input shape, the same function in torch taking (x, params))
LAYERS = [
    ("dense", lambda: Dense(5, 3, rng=np.random.default_rng(1)), (4, 5), lambda x, p: F.linear(x, p["W"], p["b"])),
    (
        "conv3",
        lambda: Conv2D(2, 3, 3, rng=np.random.default_rng(2)),
        (2, 2, 6, 5),
        lambda x, p: F.conv2d(x, p["W"], p["b"]),
    ),
    (
        "conv3_pad1",
        lambda: Conv2D(1, 2, 3, padding=1, rng=np.random.default_rng(3)),
        (2, 1, 5, 5),
        lambda x, p: F.conv2d(x, p["W"], p["b"], padding=1),
    ),
    (
        "conv_full_size",  # a kernel as large as the image (the two-filter net): one output position
        lambda: Conv2D(1, 2, 6, rng=np.random.default_rng(4)),
        (3, 1, 6, 6),
        lambda x, p: F.conv2d(x, p["W"], p["b"]),
    ),
    ("flatten", Flatten, (2, 2, 3, 3), lambda x, p: x.flatten(1)),
    ("identity", Identity, (4, 6), lambda x, p: x),
    ("sigmoid", Sigmoid, (4, 6), lambda x, p: torch.sigmoid(x)),
    ("sigmoid_slope0.7", lambda: Sigmoid(0.7), (4, 6), lambda x, p: torch.sigmoid(0.7 * x)),
    ("tanh", Tanh, (4, 6), lambda x, p: torch.tanh(x)),
    ("tanh_slope0.5", lambda: Tanh(0.5), (4, 6), lambda x, p: torch.tanh(0.5 * x)),
    ("relu", ReLU, (4, 6), lambda x, p: F.relu(x)),
    ("leaky_relu0.1", lambda: LeakyReLU(0.1), (4, 6), lambda x, p: F.leaky_relu(x, 0.1)),
    ("leaky_relu1.5", lambda: LeakyReLU(1.5), (4, 6), lambda x, p: F.leaky_relu(x, 1.5)),  # min, not max, above 1
    ("leaky_relu-0.2", lambda: LeakyReLU(-0.2), (4, 6), lambda x, p: F.leaky_relu(x, -0.2)),
    ("softmax", Softmax, (4, 6), lambda x, p: torch.softmax(x, dim=-1)),
]


@pytest.mark.parametrize("name, make, shape, torch_fn", LAYERS, ids=[row[0] for row in LAYERS])
def test_layer_matches_finite_differences(name, make, shape, torch_fn):
    errors = check_layer(make(), away_from_zero(shape))
    assert max(errors.values()) < FD_TOL, errors


@pytest.mark.parametrize("name, make, shape, torch_fn", LAYERS, ids=[row[0] for row in LAYERS])
def test_layer_matches_torch_autograd(name, make, shape, torch_fn):
    layer, x = make(), away_from_zero(shape)
    upstream = np.random.default_rng(5).standard_normal(layer.forward(x).shape)
    ours = backprop_layer(layer, x, upstream)
    xt, pt = t(x), {k: t(v) for k, v in layer.params.items()}
    out = torch_fn(xt, pt)
    assert relative_error(layer.forward(x), out.detach().numpy()) < TORCH_TOL
    (out * torch.from_numpy(upstream)).sum().backward()
    theirs = {"x": xt.grad.numpy(), **{k: v.grad.numpy() for k, v in pt.items()}}
    for key in ours:
        assert relative_error(ours[key], theirs[key]) < TORCH_TOL, key


LOSSES = [
    ("cross_entropy_labels", SoftmaxCrossEntropy, "labels", lambda z, y: F.cross_entropy(z, y)),
    ("cross_entropy_soft", SoftmaxCrossEntropy, "soft", lambda z, y: F.cross_entropy(z, y)),
    ("mse_labels", MeanSquaredError, "labels", lambda z, y: 0.5 * ((z - F.one_hot(y, 5)) ** 2).sum(1).mean()),
    ("mse_soft", MeanSquaredError, "soft", lambda z, y: 0.5 * ((z - y) ** 2).sum(1).mean()),
]


def loss_inputs(kind):
    rng = np.random.default_rng(6)
    out = 3 * rng.standard_normal((7, 5))
    if kind == "labels":
        return out, rng.integers(0, 5, 7)
    soft = rng.random((7, 5))
    return out, soft / soft.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("name, make, kind, torch_fn", LOSSES, ids=[row[0] for row in LOSSES])
def test_loss_matches_finite_differences(name, make, kind, torch_fn):
    assert check_loss(make(), *loss_inputs(kind)) < FD_TOL


@pytest.mark.parametrize("name, make, kind, torch_fn", LOSSES, ids=[row[0] for row in LOSSES])
def test_loss_matches_torch_autograd(name, make, kind, torch_fn):
    out, target = loss_inputs(kind)
    loss = make()
    value, grad = loss.forward(out, target), loss.backward()
    zt = t(out)
    yt = torch.from_numpy(target) if kind == "labels" else torch.tensor(target)
    reference = torch_fn(zt, yt)
    reference.backward()
    assert abs(value - reference.item()) < TORCH_TOL * max(1.0, abs(value))
    assert relative_error(grad, zt.grad.numpy()) < TORCH_TOL


def test_whole_networks_match_torch_autograd():
    """An MLP with cross-entropy and a small CNN with squared error: every parameter's gradient, end to end."""
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((5, 1, 8, 8)), rng.integers(0, 3, 5)
    nets = {
        "mlp": (mlp((64, 6, 4, 3), act="tanh", param=0.5, init="lecun", seed=1), "cross_entropy"),
        "cnn": (cnn(4, 3, hidden=6, n_classes=3, act="leaky_relu", param=0.1, image_size=8, seed=2), "mse"),
    }
    for name, (net, loss_name) in nets.items():
        loss = make_loss(loss_name)
        loss.forward(net.forward(x), y)
        net.backward(loss.backward())
        params = {key: t(layer.params[p]) for key, layer, p in net.parameters()}
        h = torch.from_numpy(x)
        for i, layer in enumerate(net.layers):
            kind = type(layer).__name__
            if kind == "Dense":
                h = F.linear(h, params[f"{i}.W"], params[f"{i}.b"])
            elif kind == "Conv2D":
                h = F.conv2d(h, params[f"{i}.W"], params[f"{i}.b"])
            elif kind == "Flatten":
                h = h.flatten(1)
            elif kind == "Tanh":
                h = torch.tanh(0.5 * h)
            elif kind == "LeakyReLU":
                h = F.leaky_relu(h, 0.1)
        target = torch.from_numpy(y)
        if loss_name == "mse":
            reference = 0.5 * ((h - F.one_hot(target, 3)) ** 2).sum(1).mean()
        else:
            reference = F.cross_entropy(h, target)
        reference.backward()
        for key, layer, p in net.parameters():
            assert relative_error(layer.grads[p], params[key].grad.numpy()) < TORCH_TOL, (name, key)


class WrongSigmoid(Sigmoid):
    """A classic slip: the derivative forgets the slope."""

    def df_from_output(self, z, out):
        return out * (1 - out)


class WrongDense(Dense):
    """Another slip: the bias gradient averages over the batch instead of summing."""

    def backward(self, grad):
        dx = super().backward(grad)
        self.grads["b"] = grad.mean(axis=0)
        return dx


@pytest.mark.parametrize(
    "layer", [WrongSigmoid(0.7), WrongDense(5, 3, rng=np.random.default_rng(1))], ids=["sigmoid", "dense"]
)
def test_a_wrong_gradient_is_caught(layer):
    errors = check_layer(layer, away_from_zero((4, 5)))
    assert max(errors.values()) > 1e-2, errors


@pytest.mark.parametrize("leak", [0.0, 0.01, 0.05, 0.1, 0.3])
def test_leaky_relu_derivative_is_exactly_one_or_the_leak_in_the_input_dtype(leak):
    z = np.array([-2.0, -0.0, 0.0, 1e-30, 3.0], dtype=np.float32)
    act = LeakyReLU(leak)
    d = act.df(z)
    assert d.dtype == np.float32 and act.f(z).dtype == np.float32
    np.testing.assert_array_equal(d, np.where(z > 0, 1, np.float32(leak)).astype(np.float32))
    np.testing.assert_array_equal(act.f(z), np.where(z > 0, z, np.float32(leak) * z))


def test_numerical_gradient_works_on_strided_views():
    from nnutils.scratch.gradcheck import numerical_gradient

    base = np.arange(12.0).reshape(3, 4)
    view = base[:, ::2]  # not contiguous
    grad = numerical_gradient(lambda: float((base**2).sum()), view)
    np.testing.assert_allclose(grad, 2 * view, rtol=1e-6)


def test_project_back_is_the_adjoint_of_the_convolution():
    """<conv(x), y> = <x, conv^T(y)> without the bias: the deconvolution view uses exactly the backward pass."""
    rng = np.random.default_rng(8)
    for k, pad in ((3, 0), (3, 1), (7, 0), (8, 0)):
        conv = Conv2D(2, 3, k, padding=pad, rng=rng)
        conv.params["b"][:] = 0
        x = rng.standard_normal((2, 2, 8, 8))
        y = rng.standard_normal(conv.forward(x).shape)
        assert abs((conv.forward(x) * y).sum() - (x * conv.project_back(y)).sum()) < 1e-10


def test_gradient_table_reports_small_errors():
    from nnutils.scratch.gradcheck import gradient_table

    rng = np.random.default_rng(9)
    table = gradient_table(
        {"dense": (Dense(4, 2, rng=rng), rng.standard_normal((3, 4))), "tanh": (Tanh(0.5), rng.standard_normal((3, 4)))}
    )
    assert (table["vs finite differences"] < FD_TOL).all() and (table["vs PyTorch autograd"] < TORCH_TOL).all()


def test_loss_gradient_table_reports_small_errors():
    from nnutils.scratch.gradcheck import loss_gradient_table

    rng = np.random.default_rng(10)
    table = loss_gradient_table(rng.standard_normal((5, 4)), rng.integers(0, 4, 5))
    assert len(table) == 2
    assert (table["vs finite differences"] < FD_TOL).all() and (table["vs PyTorch autograd"] < TORCH_TOL).all()
