"""What each unit of a 2-input net computes: its output and every hidden unit evaluated over a grid of the plane.

Typical use::

    maps = unit_maps(model, xlim=(-7, 7), ylim=(-6.6, 6.7))
    plot_unit_maps(maps, points=(x, y), title="RawNet")

Hidden layers are captured by forward hooks (``models.capture_outputs``): pass the modules whose outputs are the
layers' activations, or give the model an attribute ``hidden_layers`` (a sequence of such modules), the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from .models import capture_outputs, device_of

# The value at which a unit of each activation counts as "on" (the contour drawn on its map).
ON_THRESHOLDS = {"Tanh": 0.0, "Sigmoid": 0.5, "Step": 0.5, "ReLU": 1e-6, "LeakyReLU": 0.0}


@dataclass
class UnitMaps:
    """A net's output (ny, nx) and hidden activations (units, ny, nx) per layer over a grid xs x ys."""

    xs: np.ndarray
    ys: np.ndarray
    output: np.ndarray
    layers: list[np.ndarray]
    thresholds: list[float]

    @property
    def extent(self) -> tuple[float, float, float, float]:
        return float(self.xs[0]), float(self.xs[-1]), float(self.ys[0]), float(self.ys[-1])


def plane_grid(
    xlim: tuple[float, float], ylim: tuple[float, float], resolution: int | tuple[int, int] = 200
) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Points (ny * nx, 2) of a regular grid, row by row from the bottom, with the axes xs (nx,) and ys (ny,)."""
    nx, ny = (resolution, resolution) if isinstance(resolution, int) else resolution
    if nx < 2 or ny < 2 or xlim[0] >= xlim[1] or ylim[0] >= ylim[1]:
        raise ValueError("plane_grid needs at least 2 points per axis and limits given as (low, high), low < high.")
    xs, ys = np.linspace(*xlim, nx), np.linspace(*ylim, ny)
    gx, gy = np.meshgrid(xs, ys)
    points = torch.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float32)
    return points, xs, ys


def default_layers(model: nn.Module) -> list[nn.Module]:
    """The modules whose outputs count as hidden layers: ``model.hidden_layers`` if the model has it, else none."""
    return list(getattr(model, "hidden_layers", []))


def layer_threshold(layer: nn.Module, values: np.ndarray) -> float:
    """The "on" level of a layer from its last activation module's type, else the middle of its values."""
    modules = list(layer.modules())
    for module in reversed(modules):
        name = type(module).__name__
        if name in ON_THRESHOLDS:
            return ON_THRESHOLDS[name]
    return float((values.min() + values.max()) / 2)


@torch.no_grad()
def forward_with_layers(
    model: nn.Module, x: torch.Tensor, layers: Sequence[nn.Module] | None = None
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The model's output on x and the outputs of the given layer modules, in eval mode (returned on the CPU)."""
    layers = default_layers(model) if layers is None else list(layers)
    was_training = model.training
    model.eval()
    try:
        with capture_outputs(layers) as captured:
            output = model(x.to(device_of(model)))
    finally:
        model.train(was_training)
    missing = [k for k, layer in enumerate(layers) if layer not in captured]
    if missing:
        raise ValueError(f"Layers {missing} were not used in the model's forward pass: pass modules of this model.")
    return output.cpu(), [captured[layer].cpu() for layer in layers]


def unit_maps(
    model: nn.Module,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    resolution: int | tuple[int, int] = 200,
    layers: Sequence[nn.Module] | None = None,
    output_index: int = 0,
) -> UnitMaps:
    """Evaluate a 2-input model's output (column ``output_index``) and every hidden unit over the plane."""
    points, xs, ys = plane_grid(xlim, ylim, resolution)
    layers = default_layers(model) if layers is None else list(layers)
    output, hidden = forward_with_layers(model, points, layers)
    shape = (len(ys), len(xs))
    out = output.reshape(len(points), -1)[:, output_index].numpy().reshape(shape)
    maps = [h.reshape(len(points), -1).T.numpy().reshape(-1, *shape) for h in hidden]
    thresholds = [layer_threshold(layer, m) for layer, m in zip(layers, maps)]
    return UnitMaps(xs, ys, out, maps, thresholds)


def _draw_points(ax: plt.Axes, points: tuple | None, size: float) -> None:
    if points is None:
        return
    x, y = (np.asarray(t.detach().cpu() if isinstance(t, torch.Tensor) else t) for t in points)
    one = y.ravel() > 0.5
    for mask, colour in ((~one, "white"), (one, "black")):  # label 0 white, label 1 black: visible on any map
        ax.scatter(x[mask, 0], x[mask, 1], c=colour, s=size, edgecolors="k", linewidths=0.5)


def _draw_map(
    ax: plt.Axes, values: np.ndarray, extent, vmin: float, vmax: float, threshold: float | None, binary: bool, cmap
) -> None:
    if binary and threshold is not None:
        values, vmin, vmax = (values >= threshold).astype(float), 0.0, 1.0
    ax.imshow(values, origin="lower", extent=extent, vmin=vmin, vmax=vmax, cmap=cmap, interpolation="nearest")
    if threshold is not None and values.min() < threshold < values.max():
        xs = np.linspace(extent[0], extent[1], values.shape[1])
        ys = np.linspace(extent[2], extent[3], values.shape[0])
        ax.contour(xs, ys, values, levels=[threshold], colors="k", linewidths=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")


def plot_output_map(
    maps: UnitMaps, points: tuple | None = None, ax: plt.Axes | None = None, title: str = "output", binary: bool = False
) -> plt.Axes:
    """The output over the plane (blue 0 .. red 1), its 0.5 contour, and the data (label 0 white, 1 black)."""
    ax = ax or plt.subplots(figsize=(4, 4))[1]
    _draw_map(ax, maps.output, maps.extent, 0.0, 1.0, 0.5, binary, "coolwarm")
    _draw_points(ax, points, 14)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return ax


def _layer_range(values: np.ndarray) -> tuple[float, float]:
    if values.min() < 0:
        top = float(np.abs(values).max()) or 1.0
        return -top, top
    return 0.0, float(values.max()) or 1.0


def plot_unit_maps(
    maps: UnitMaps,
    points: tuple | None = None,
    ncols: int = 6,
    title: str = "",
    binary: bool = False,
    fig: plt.Figure | None = None,
    unit_size: float = 1.35,
) -> plt.Figure:
    """The output map on the left and, on the right, every hidden unit as a small map, one grid per layer.

    Each unit map shows the unit's activation (colour range shared within the layer) with a black contour where
    it turns on; ``binary=True`` shows only on/off. Passing ``fig`` clears and redraws it (for animations).
    """
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}.")
    n_units = [len(layer) for layer in maps.layers]
    cols = max([1, *(min(ncols, n) for n in n_units)])
    rows = [-(-n // cols) for n in n_units]
    height = max(3.2, unit_size * (sum(rows) + 0.45 * len(rows)) + 0.4)
    if fig is None:
        fig = plt.figure(figsize=(3.6 + unit_size * cols, height), layout="constrained")
    fig.clear()
    if not maps.layers:
        plot_output_map(maps, points, fig.add_subplot(), binary=binary)
        fig.suptitle(title)
        return fig
    left, right = fig.subfigures(1, 2, width_ratios=[3.4, unit_size * cols])
    plot_output_map(maps, points, left.add_subplot(), binary=binary)
    groups = right.subfigures(len(rows), 1, height_ratios=[r + 0.45 for r in rows], squeeze=False)[:, 0]
    for k, (group, values, n_rows) in enumerate(zip(groups, maps.layers, rows)):
        vmin, vmax = _layer_range(values)
        axes = group.subplots(n_rows, cols, squeeze=False)
        for j, ax in enumerate(axes.flat):
            if j >= len(values):
                ax.axis("off")
                continue
            _draw_map(ax, values[j], maps.extent, vmin, vmax, maps.thresholds[k], binary, "PuOr_r")
            _draw_points(ax, points, 3)
            ax.set_title(f"unit {j + 1}", fontsize=7, pad=2)
        group.suptitle(f"hidden layer {k + 1}", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig
