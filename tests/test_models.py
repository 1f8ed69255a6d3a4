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


def test_report_001_versions_have_its_parameter_counts():
    # NetFull 784 -> 110 -> 10; NetConv: conv 48 (3 x 3), pool, conv 88 (3 x 3), pool, 88 * 5 * 5 -> 160 -> 10
    assert models.count_parameters(models.NetFull(hidden=110)) == 87_460
    net = models.NetConv(channels=(48, 88), kernel_size=3, padding=0, hidden=160)
    assert models.count_parameters(net) == (9 * 48 + 48) + (48 * 9 * 88 + 88) + (88 * 25 * 160 + 160) + 1610 == 392_354
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_netconv_defaults_are_the_original_net():
    torch.manual_seed(0)
    net = models.NetConv()
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes == {
        "features.0.weight": (32, 1, 4, 4),
        "features.0.bias": (32,),
        "features.3.weight": (64, 32, 4, 4),
        "features.3.bias": (64,),
        "classifier.weight": (10, 2304),
        "classifier.bias": (10,),
    }


def test_netconv_too_small_an_image_is_refused():
    with pytest.raises(ValueError, match="leaves no pixels"):
        models.NetConv(kernel_size=20, padding=0)
