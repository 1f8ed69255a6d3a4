"""PyTorch models for 28 x 28 character images, with a registry and a parameter counter."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn

from . import work
from .layers import channels_last

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def activation(name: str) -> nn.Module:
    """A fresh activation module by name (relu, tanh, sigmoid)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"Unknown activation {name!r}: choose one of {', '.join(ACTIVATIONS)}.") from None


class NetLin(nn.Module):
    """784 -> 10: one linear layer, then log-softmax (multinomial logistic regression)."""

    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.linear = nn.Linear(28 * 28, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.linear(x.flatten(1)), dim=1)


class NetFull(nn.Module):
    """784 -> H -> 10: one fully connected hidden layer (tanh by default), then log-softmax."""

    def __init__(self, hidden: int = 100, act: str = "tanh", batch_norm: bool = False, n_classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten(), nn.Linear(28 * 28, hidden)]
        if batch_norm:
            layers.append(nn.BatchNorm1d(hidden))
        layers += [activation(act), nn.Linear(hidden, n_classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.net(x), dim=1)


class NetConv(nn.Module):
    """Two conv layers (32 and 64 channels, 4 x 4 kernels, padding 1), each with max-pool 2, then 2304 -> 10.

    ``channels``, ``kernel_size``, ``padding`` and ``hidden`` (a fully connected layer before the output, none by
    default) give other versions: report 001's is ``NetConv(channels=(48, 88), kernel_size=3, padding=0, hidden=160)``.
    """

    def __init__(
        self,
        act: str = "relu",
        batch_norm: bool = False,
        n_classes: int = 10,
        channels: tuple[int, int] = (32, 64),
        kernel_size: int = 4,
        padding: int = 1,
        hidden: int | None = None,
    ):
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel_size=kernel_size, padding=padding)]
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            return [*layers, nn.MaxPool2d(2), activation(act)]  # pooled first: the same values (nnutils.layers)

        # defaults: 28 -> conv 27 -> pool 13 -> conv 12 -> pool 6; 64 * 6 * 6 = 2304
        side = 28
        for _ in channels:
            side = (side + 2 * padding - kernel_size + 1) // 2
        if side < 1:
            raise ValueError(f"NetConv: kernel {kernel_size} with padding {padding} leaves no pixels after two blocks.")
        c1, c2 = channels
        self.features = nn.Sequential(*block(1, c1), *block(c1, c2))
        flat = c2 * side * side
        if hidden is None:
            self.classifier: nn.Module = nn.Linear(flat, n_classes)
        else:
            self.classifier = nn.Sequential(nn.Linear(flat, hidden), activation(act), nn.Linear(hidden, n_classes))
        channels_last(self)  # faster on the CPU (nnutils.layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.classifier(self.features(x).flatten(1)), dim=1)


MODELS: dict[str, type[nn.Module]] = {"NetLin": NetLin, "NetFull": NetFull, "NetConv": NetConv}


def build_model(name: str, **options) -> nn.Module:
    """A model from the registry by name, e.g. ``build_model("NetConv", act="tanh")``."""
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}: choose one of {', '.join(MODELS)}.")
    return MODELS[name](**options)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """The number of (trainable) scalar parameters in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


class MLP(nn.Module):
    """A multi-layer perceptron ``in -> hidden... -> classes`` with log-softmax output (0 hidden layers = linear)."""

    def __init__(
        self,
        in_features: int = 28 * 28,
        hidden: Sequence[int] = (64,),
        n_classes: int = 10,
        act: str = "sigmoid",
        dropout: float = 0.0,
    ):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        sizes = [in_features, *hidden]
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), activation(act)]
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-1], n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.net(x), dim=1)


MODELS["MLP"] = MLP


def device_of(model: nn.Module) -> torch.device:
    """The device a model's parameters live on (the CPU for a model without parameters)."""
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


@contextlib.contextmanager
def forward_hooks(modules: Sequence[nn.Module], hook: Callable) -> Iterator[None]:
    """Call ``hook(module, inputs, output)`` after each forward pass of the modules while the block runs."""
    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def capture_outputs(modules: Sequence[nn.Module]) -> Iterator[dict[nn.Module, torch.Tensor]]:
    """Keep each module's latest output (detached, by module) while the block runs; the hooks go away after it.

    with capture_outputs([model.hidden]) as outs:
        model(x)
    h = outs[model.hidden]
    """
    captured: dict[nn.Module, torch.Tensor] = {}

    def keep(module: nn.Module, _inputs, output) -> None:
        captured[module] = output.detach() if isinstance(output, torch.Tensor) else output

    with forward_hooks(modules, keep):
        yield captured


class Step(nn.Module):
    """Heaviside step activation, 1 where the input is >= 0 else 0; forward only (it has no useful gradient)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x >= 0).to(x.dtype)


ACTIVATIONS["step"] = Step


_GATES = {nn.RNN: 1, nn.GRU: 3, nn.LSTM: 4}


def forward_flops(model: nn.Module, example: torch.Tensor) -> int:
    """Floating-point operations of one forward pass on ``example`` (a batch, usually of one), counted from the
    shapes of the Conv2d, Linear and recurrent layers; a multiply-add counts as 2, activations and pooling are left
    out (a few per cent at most). Runs in evaluation mode, so nothing in the model changes."""
    return int(forward_cost(model, example).flops)


@torch.no_grad()
def forward_cost(model: nn.Module, example: torch.Tensor) -> work.Cost:
    """One forward pass on ``example``: its operations (as ``forward_flops``), the bytes of every layer's output
    (the modules'; a function called in ``forward`` is not seen) and the bytes of the model's weights, for the work
    tally (``nnutils.work``). Evaluation mode, nothing changes."""
    flops = outputs = 0

    def count(module: nn.Module, _inputs, output) -> None:
        nonlocal flops, outputs
        out = output[0] if isinstance(output, tuple) else output
        if isinstance(out, torch.Tensor):
            outputs += out.numel() * out.element_size()
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            flops += 2 * out.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            flops += 2 * out.numel() * module.in_features
        elif isinstance(module, tuple(_GATES)):
            gates = _GATES[type(module)] * module.num_layers * (2 if module.bidirectional else 1)
            steps = out.numel() // module.hidden_size  # batch x time
            flops += 2 * steps * gates * module.hidden_size * (module.input_size + module.hidden_size)

    leaves = [m for m in model.modules() if not list(m.children()) or isinstance(m, nn.RNN | nn.GRU | nn.LSTM)]
    was_training = model.training
    try:
        model.eval()
        with forward_hooks(leaves, count):
            model(example.to(device_of(model)))
    finally:
        model.train(was_training)
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return work.Cost(flops=flops, activation_bytes=outputs, weight_bytes=weights)
