"""The models: shapes, parameter counts, the registry, and the small helpers beside them."""

import pytest
import torch

from nnutils import models


@pytest.mark.parametrize(
    "name, options, count",
    [
        ("NetLin", {}, 784 * 10 + 10),
        ("NetFull", {}, 784 * 100 + 100 + 100 * 10 + 10),
        ("NetConv", {}, (16 * 32 + 32) + (32 * 16 * 64 + 64) + (2304 * 10 + 10)),
        ("NetConv", {"batch_norm": True}, 56426 + 2 * 32 + 2 * 64),
        ("MLP", {"hidden": (64,)}, 784 * 64 + 64 + 64 * 10 + 10),
    ],
)
def test_shapes_and_parameter_counts(name, options, count):
    model = models.build_model(name, **options)
    out = model(torch.randn(5, 1, 28, 28))
    assert out.shape == (5, 10)
    assert torch.allclose(out.exp().sum(1), torch.ones(5), atol=1e-5)  # log-probabilities
    assert models.count_parameters(model) == count


def test_unknown_model_and_activation():
    with pytest.raises(ValueError, match="Unknown model 'NetX'.*NetLin"):
        models.build_model("NetX")
    with pytest.raises(ValueError, match="Unknown activation 'gelu'"):
        models.NetConv(act="gelu")


def test_device_of_and_a_model_without_parameters():
    assert models.device_of(models.NetLin()) == torch.device("cpu")
    assert models.device_of(torch.nn.ReLU()) == torch.device("cpu")


def test_capture_outputs_keeps_layer_outputs_and_removes_hooks():
    model = models.NetFull(hidden=7)
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    x = torch.randn(3, 1, 28, 28)
    with models.capture_outputs(layers) as outs:
        out = model(x)
    assert [tuple(outs[m].shape) for m in layers] == [(3, 7), (3, 10)]
    assert not outs[layers[-1]].requires_grad
    assert torch.allclose(torch.log_softmax(outs[layers[-1]], 1), out)
    assert all(not m._forward_hooks for m in layers)  # hooks gone after the block
