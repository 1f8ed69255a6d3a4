"""Speed on the CPU for the chapters' convolutional nets, with PyTorch's own values.

PyTorch's CPU convolutions run faster on channels-last tensors (each pixel's channels side by side), and its max
pooling of a channels-first tensor is slow. So the workbook's conv nets store their convolution weights
channels-last (:func:`channels_last`), which makes every feature map channels-last, and pool with
:class:`MaxPool2d`, whose backward pass on such maps is a scatter of the gradients to the winners. A student's
net built from ``nn.Conv2d`` and ``nn.MaxPool2d`` computes the same things, a little slower.

The nets also pool *before* their activation. Max-pooling and a non-decreasing activation (ReLU, tanh, sigmoid)
commute: the largest of four activations is the activation of the largest input, and the gradient reaches the same
pixel. Pooled first, the activation and its backward pass handle a quarter of the values, which matters most for
the large maps of small kernels (the *Benchmarks* page times it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def channels_last(model: nn.Module) -> nn.Module:
    """Store the model's 4-D weights channels-last (in place; returns the model): its convolutions then produce
    channels-last feature maps. The values a model computes do not depend on the layout, up to rounding."""
    return model.to(memory_format=torch.channels_last)


def channels_first(model: nn.Module) -> nn.Module:
    """The inverse of :func:`channels_last` (in place; returns the model): channels-first weights and PyTorch's own
    ``nn.MaxPool2d``, the net as a student would build it (for comparisons)."""
    model.to(memory_format=torch.contiguous_format)
    for module in model.modules():
        if isinstance(module, MaxPool2d):
            module.__class__ = nn.MaxPool2d
    return model


MONOTONE = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid)  # activations that commute with max-pooling


def pool_after_activation(model: nn.Module) -> nn.Module:
    """Put each activation that follows a max pool back in front of it (in place; returns the model): the order a
    student would write, ``conv, ReLU, pool``, for comparisons. It computes the same values."""
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for i in range(len(names) - 1):
            a, b = names[i], names[i + 1]
            if isinstance(seq._modules[a], nn.MaxPool2d) and isinstance(seq._modules[b], MONOTONE):
                names[i], names[i + 1] = b, a
        seq._modules = type(seq._modules)((name, seq._modules[name]) for name in names)
    return model


def _is_channels_last(x: torch.Tensor) -> bool:
    return x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


class _ChannelsLastMaxPool(torch.autograd.Function):
    """Max pooling of a channels-last map with windows that do not overlap (stride = kernel size)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, kernel_size: int) -> torch.Tensor:
        out, winners = F.max_pool2d(x, kernel_size, return_indices=True)  # winners: flat index in each H x W plane
        ctx.save_for_backward(winners)
        ctx.shape = x.shape
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (winners,) = ctx.saved_tensors
        n, c, h, w = ctx.shape
        # each winner's place in its image's channels-last memory (pixel-major, channel-minor)
        place = winners * c + torch.arange(c, device=winners.device).view(1, c, 1, 1)
        grad_x = grad.new_zeros(n, h * w * c)
        grad_x.scatter_(1, place.permute(0, 2, 3, 1).reshape(n, -1), grad.permute(0, 2, 3, 1).reshape(n, -1))
        return grad_x.view(n, h, w, c).permute(0, 3, 1, 2), None  # windows do not overlap: one gradient a pixel


class MaxPool2d(nn.MaxPool2d):
    """``nn.MaxPool2d`` with the same values and gradients, faster on channels-last CPU maps when the windows
    do not overlap and there is no padding (``MaxPool2d(2)``); any other case runs PyTorch's own pooling."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size
        plain = (
            isinstance(k, int)
            and self.stride in (k, (k, k))
            and self.padding in (0, (0, 0))
            and self.dilation in (1, (1, 1))
            and not (self.ceil_mode or self.return_indices)
        )
        if plain and x.device.type == "cpu" and _is_channels_last(x):
            return _ChannelsLastMaxPool.apply(x, k)
        return super().forward(x)
