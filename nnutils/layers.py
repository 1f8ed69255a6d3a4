"""Speed on the CPU for the chapters' convolutional nets, with PyTorch's own values.

PyTorch's CPU convolutions run faster on channels-last tensors (each pixel's channels side by side), and so does
its max pooling, forward and backward (a channels-first map pools far more slowly). So the workbook's conv
nets store their convolution weights channels-last (:func:`channels_last`), which makes every feature map
channels-last, and ``nn.MaxPool2d`` then pools them fast. A student's net, channels-first with the activation
before the pool, computes the same things, more slowly.

The nets also pool *before* their activation. Max-pooling and a non-decreasing activation (ReLU, tanh, sigmoid)
commute: the largest of four activations is the activation of the largest input, and the gradient reaches the same
pixel. Pooled first, the activation and its backward pass handle a quarter of the values, which matters most for
the large maps of small kernels (the *Benchmarks* page times it).
"""

from __future__ import annotations

import torch
from torch import nn


def channels_last(model: nn.Module) -> nn.Module:
    """Store the model's 4-D weights channels-last (in place; returns the model): its convolutions then produce
    channels-last feature maps. The values a model computes do not depend on the layout, up to rounding."""
    return model.to(memory_format=torch.channels_last)


def channels_first(model: nn.Module) -> nn.Module:
    """The inverse of :func:`channels_last` (in place; returns the model): channels-first weights, the layout a
    student's net has (for comparisons)."""
    return model.to(memory_format=torch.contiguous_format)


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
