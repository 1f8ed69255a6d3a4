"""A sequential network of from-scratch layers: forward, backward, prediction, saving and loading (.npz).

``mlp`` and ``cnn`` build the chapter's two families of networks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import work
from ..files import atomic_write
from .activations import Activation, make_activation
from .layers import Conv2D, Dense, Flatten, Layer


class Network:
    """Layers applied in order; ``backward`` runs them in reverse and keeps the gradient that reached each one."""

    def __init__(self, layers: Sequence[Layer]):
        self.layers = list(layers)
        for layer in self.layers:  # nothing upstream of the first layer with weights needs dL/d(input)
            layer.input_grad = False
            if layer.params:
                break
        self.deltas: list[np.ndarray | None] = [None] * len(self.layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def forward_flops(self, x: np.ndarray) -> int:
        """Floating-point operations of one forward pass on x (a batch, usually of one example): 2 per multiply-add
        of the Dense and Conv2D layers (activations left out)."""
        return int(self.forward_cost(x).flops)

    def forward_cost(self, x: np.ndarray) -> work.Cost:
        """One forward pass on x, for the work tally: its operations (``forward_flops``), the bytes of every layer's
        output and the bytes of the weights."""
        flops = outputs = 0
        for layer in self.layers:
            out = layer.forward(x)
            outputs += out.nbytes
            if isinstance(layer, Dense):
                flops += 2 * len(x) * layer.params["W"].size
            elif isinstance(layer, Conv2D):
                flops += 2 * out.size * layer.params["W"][0].size
            x = out
        weights = sum(layer.params[name].nbytes for _, layer, name in self.parameters())
        return work.Cost(flops=flops, activation_bytes=outputs, weight_bytes=weights)

    def activations(self, x: np.ndarray) -> list[np.ndarray]:
        """The output of every layer for input x (first layer first)."""
        outputs = []
        for layer in self.layers:
            x = layer.forward(x)
            outputs.append(x)
        return outputs

    def hidden_activations(self, x: np.ndarray) -> list[np.ndarray]:
        """The outputs of the activation layers before the last layer: the hidden representations of x."""
        outputs = self.activations(x)[:-1]
        return [out for layer, out in zip(self.layers, outputs) if isinstance(layer, Activation)]

    def backward(self, grad: np.ndarray) -> None:
        """Backpropagate dL/d(output); ``deltas[i]`` is dL/d(output of layer i), ``grads`` fill each layer (below
        the first layer with weights nothing is computed: its deltas are None)."""
        for i in reversed(range(len(self.layers))):
            self.deltas[i] = grad
            grad = self.layers[i].backward(grad) if grad is not None else None

    def predict(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """The outputs for x, computed batch by batch: 250 examples at a time, 100 for a net with a convolution (its
        patch matrix is k * k times its input; the chapter's CNNs take 8 to 18% less time than 250 at a time)."""
        if batch_size is None:
            batch_size = 100 if any(isinstance(layer, Conv2D) for layer in self.layers) else 250
        if batch_size < 1:
            raise ValueError(f"predict needs a batch size of at least 1, not {batch_size}.")
        return np.concatenate([self.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])

    def parameters(self) -> list[tuple[str, Layer, str]]:
        """(key, layer, name) for every parameter; the key is ``"<layer index>.<name>"``."""
        return [(f"{i}.{name}", layer, name) for i, layer in enumerate(self.layers) for name in layer.params]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of all parameters, by key."""
        return {key: layer.params[name].copy() for key, layer, name in self.parameters()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Set every parameter from ``state``; a missing or extra key or a wrong shape raises ValueError before any
        parameter is changed (every array is checked first, then all are assigned)."""
        extra = sorted(set(state) - {key for key, _, _ in self.parameters()})
        if extra:
            raise ValueError(f"The saved weights hold {extra}, which this network lacks: another architecture?")
        checked = {}
        for key, layer, name in self.parameters():
            if key not in state:
                raise ValueError(f"The saved weights lack {key!r}; they hold {sorted(state)}.")
            value = np.asarray(state[key])
            if value.shape != layer.params[name].shape:
                raise ValueError(f"{key}: saved shape {value.shape} != network shape {layer.params[name].shape}.")
            checked[key] = value.astype(layer.params[name].dtype)
        for key, layer, name in self.parameters():
            layer.params[name] = checked[key]

    def count_parameters(self) -> int:
        return sum(layer.params[name].size for _, layer, name in self.parameters())

    def save(self, path: str | Path) -> Path:
        """Write the weights to an .npz file atomically (a temporary file, then a rename)."""
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"Weights are saved as .npz files; got {path.name!r}.")
        with atomic_write(path, "wb") as f:
            np.savez(f, **self.state_dict())
        return path

    def load(self, path: str | Path) -> Network:
        """Read weights saved by ``save`` into this network (same architecture); returns the network."""
        with np.load(path) as data:
            self.load_state_dict(dict(data))
        return self

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Network(\n  {inner}\n)  # {self.count_parameters():,} parameters"


def _params(param: float | Sequence[float] | None, n: int) -> list[float | None]:
    if param is None or np.isscalar(param):
        return [param] * n
    if len(param) != n:
        raise ValueError(f"Give one activation parameter or one per activation ({n}), not {len(param)}.")
    return list(param)


def mlp(
    sizes: Sequence[int] = (784, 64, 10),
    act: str = "sigmoid",
    param: float | Sequence[float] | None = None,
    init: str = "scaled",
    out_act: str | None = None,
    seed: int = 0,
    dtype=np.float64,
) -> Network:
    """A multi-layer perceptron on flattened inputs: Dense, activation, ..., Dense (logits unless ``out_act``)."""
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}.")
    rng = np.random.default_rng(seed)
    n_act = len(sizes) - 2 + (out_act is not None)
    params = _params(param, n_act)
    layers: list[Layer] = [Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(a, b, init=init, rng=rng, dtype=dtype))
        name = act if i < len(sizes) - 2 else out_act
        if name is not None:
            layers.append(make_activation(name, params[i]))
    return Network(layers)


def cnn(
    n_filters: int = 16,
    kernel_size: int = 7,
    hidden: int | None = None,
    n_classes: int = 10,
    act: str = "tanh",
    param: float | Sequence[float] | None = None,
    init: str = "lecun",
    image_size: int = 28,
    seed: int = 0,
    dtype=np.float64,
) -> Network:
    """Conv (valid, stride 1) -> act -> [Dense(hidden) -> act] -> Dense(n_classes) -> act, for a squared-error loss.

    ``hidden=None`` is the report's architecture A, ``hidden=128`` its architecture B.
    """
    rng = np.random.default_rng(seed)
    side = image_size - kernel_size + 1
    if side < 1:
        raise ValueError(f"A {kernel_size} x {kernel_size} kernel does not fit a {image_size} x {image_size} image.")
    sizes = [n_filters * side * side, *([hidden] if hidden else []), n_classes]
    params = _params(param, len(sizes))
    layers: list[Layer] = [Conv2D(1, n_filters, kernel_size, init=init, rng=rng, dtype=dtype)]
    layers += [make_activation(act, params[0]), Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [Dense(a, b, init=init, rng=rng, dtype=dtype), make_activation(act, params[i + 1])]
    return Network(layers)


def first_of(net: Network, kind: type[Layer]) -> tuple[int, Layer]:
    """(index, layer) of the first layer of a given type, e.g. ``first_of(net, Conv2D)``."""
    for i, layer in enumerate(net.layers):
        if isinstance(layer, kind):
            return i, layer
    raise ValueError(f"The network has no {kind.__name__} layer.")
