"""Max pooling a channels-last map gives what pooling its channels-first copy does, pooling before an activation
computes what pooling after it does, and the conv nets store their weights channels-last without changing what
they compute."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnutils.autoencoders import ConvAutoencoder
from nnutils.convnets import LeNet5, SmallCNN
from nnutils.layers import channels_first, channels_last
from nnutils.models import NetConv

CL = torch.channels_last


@pytest.mark.parametrize("shape", [(4, 6, 8, 8), (3, 5, 9, 7), (2, 16, 26, 26)])
@pytest.mark.parametrize("kernel", [2, 3])
def test_max_pool_of_a_channels_last_map_has_the_channels_first_values_and_gradients(shape, kernel):
    torch.manual_seed(0)
    x = torch.relu(torch.randn(shape))  # ReLU zeros: ties inside windows
    x[0, 0] = 1.0  # a window of equal values: the first one wins in both layouts
    grad = torch.randn(F.max_pool2d(x, kernel).shape)
    ours, theirs = x.contiguous(memory_format=CL).requires_grad_(), x.clone().requires_grad_()
    out = nn.MaxPool2d(kernel)(ours)
    out.backward(grad)
    expected = nn.MaxPool2d(kernel)(theirs)
    expected.backward(grad)
    assert out.is_contiguous(memory_format=CL) and ours.grad.is_contiguous(memory_format=CL)
    assert torch.equal(out, expected) and torch.equal(ours.grad, theirs.grad)


@pytest.mark.parametrize("act", [nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
@pytest.mark.parametrize("layout", [torch.contiguous_format, CL])
def test_pooling_before_the_activation_gives_the_same_values_and_gradients(act, layout):
    torch.manual_seed(0)
    x = torch.randn(4, 6, 12, 12).contiguous(memory_format=layout)
    x[0, 0, :2, :2] = -1.0  # a window of equal values, and one where the ReLU zeroes all four
    x[0, 1, :2, :2] = torch.tensor([[-3.0, -2.0], [-1.0, -0.5]])
    grad = torch.randn(4, 6, 6, 6)
    pooled_first, activated_first = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = act(nn.MaxPool2d(2)(pooled_first))
    ours.backward(grad)
    theirs = nn.MaxPool2d(2)(act(activated_first))
    theirs.backward(grad)
    assert torch.equal(ours, theirs)
    torch.testing.assert_close(pooled_first.grad, activated_first.grad, rtol=1e-6, atol=1e-7)


def test_the_conv_nets_pool_before_their_activations():
    for model in (LeNet5(), SmallCNN(3), NetConv(batch_norm=True)):
        kinds = [type(m) for m in model.features]
        for i, kind in enumerate(kinds):
            if kind is nn.MaxPool2d:
                assert kinds[i - 1] in (nn.Conv2d, nn.BatchNorm2d) and kinds[i + 1] in (nn.ReLU, nn.Tanh, nn.Sigmoid)


@pytest.mark.parametrize(
    "build", [NetConv, LeNet5, lambda: SmallCNN(3), lambda: NetConv(act="tanh", batch_norm=True), ConvAutoencoder]
)
def test_conv_nets_are_channels_last_and_compute_what_a_channels_first_copy_does(build):
    torch.manual_seed(0)
    model = build().eval()
    conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=CL)
    plain = channels_first(build()).eval()
    plain.load_state_dict(model.state_dict())
    x = torch.randn(8, 1, 28, 28)
    torch.testing.assert_close(model(x), plain(x), rtol=1e-5, atol=1e-5)


def test_channels_last_returns_the_model_it_changed():
    model = nn.Sequential(nn.Conv2d(1, 3, 3))
    assert channels_last(model) is model and model[0].weight.is_contiguous(memory_format=CL)
