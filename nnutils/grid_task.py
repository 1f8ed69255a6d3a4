"""Chapter 2's 3 x 3 grid task: the nine points, the 2-H-1 grid nets, the hand-designed step net and the tables
that show what each hidden unit does. The nets train with :func:`nnutils.spirals.train_to_perfect`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import nn

from .models import activation
from .spirals import Tensors, init_normal_
from .unit_maps import forward_with_layers, plot_output_map, unit_maps

GRID_LIM = (-0.5, 2.5)  # the plane shown in the grid figures


def grid_task() -> Tensors:
    """The 3 x 3 grid task: the nine points with coordinates in {0, 1, 2}, target 1 where x1 + x2 is odd."""
    coords = torch.tensor([(a, b) for a in range(3) for b in range(3)], dtype=torch.float32)
    y = (coords.sum(dim=1, keepdim=True) % 2 == 1).float()
    return coords, y


class GridNet(nn.Module):
    """2 -> hidden -> 1 for the grid task, with the same activation (sigmoid or step) in both layers."""

    def __init__(self, hidden: int = 5, act: str = "sigmoid", init_scale: float | None = 0.15):
        super().__init__()
        self.hidden_layers = nn.ModuleList([nn.Sequential(nn.Linear(2, hidden), activation(act))])
        self.output = nn.Sequential(nn.Linear(hidden, 1), activation(act))
        if init_scale is not None:
            init_normal_(self, init_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.hidden_layers[0](x))


# Four parallel lines x1 + x2 = 0.5, 1.5, 2.5, 3.5 cut the grid into its five anti-diagonals; unit k is on
# when x1 + x2 > k - 0.5, so the count of "on" units is x1 + x2 itself. The output adds them with alternating
# signs (+1 -1 +1 -1): the sum is 1 for x1 + x2 in {1, 3} and 0 for {0, 2, 4}; the bias -0.5 thresholds it.
HAND_HIDDEN_WEIGHT = [[1.0, 1.0]] * 4
HAND_HIDDEN_BIAS = [-0.5, -1.5, -2.5, -3.5]
HAND_OUTPUT_WEIGHT = [[1.0, -1.0, 1.0, -1.0]]
HAND_OUTPUT_BIAS = [-0.5]


# The second reference report's design (report 001, Part 2): two anti-diagonal lines x1 + x2 = 2.5 and 1.5 (unit 1
# on above the upper one, unit 2 below the lower one) and two diagonal lines x1 - x2 = +-0.5 (units 3 and 4 on
# beyond them). Every point with x1 + x2 odd turns on exactly two units, every other point at most one, so the
# output adds the four with weight 1 and the bias -1.5 asks for two.
DIAGONAL_HIDDEN_WEIGHT = [[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]]
DIAGONAL_HIDDEN_BIAS = [-2.5, 1.5, -0.5, -0.5]
DIAGONAL_OUTPUT_WEIGHT = [[1.0, 1.0, 1.0, 1.0]]
DIAGONAL_OUTPUT_BIAS = [-1.5]

GRID_DESIGNS = {
    "parallel": (HAND_HIDDEN_WEIGHT, HAND_HIDDEN_BIAS, HAND_OUTPUT_WEIGHT, HAND_OUTPUT_BIAS),
    "diagonals": (DIAGONAL_HIDDEN_WEIGHT, DIAGONAL_HIDDEN_BIAS, DIAGONAL_OUTPUT_WEIGHT, DIAGONAL_OUTPUT_BIAS),
}


def hand_designed_grid_net(act: str = "step", scale: float = 1.0, design: str = "parallel") -> GridNet:
    """A hand-designed 2-4-1 grid net, weights times ``scale``: ``"parallel"`` (the book's four parallel lines,
    alternating output weights) or ``"diagonals"`` (the second report's diagonal and anti-diagonal lines)."""
    if design not in GRID_DESIGNS:
        raise ValueError(f"Unknown grid design {design!r}: choose one of {', '.join(GRID_DESIGNS)}.")
    net = GridNet(hidden=4, act=act, init_scale=None)
    values = GRID_DESIGNS[design]
    layers = (net.hidden_layers[0][0], net.output[0])
    with torch.no_grad():
        for (w, b), layer in zip(zip(values[::2], values[1::2]), layers):
            layer.weight.copy_(scale * torch.tensor(w))
            layer.bias.copy_(scale * torch.tensor(b))
    return net


def grid_net_table(net: nn.Module) -> pd.DataFrame:
    """A 2-H-1 net's weights, one row per hidden unit: input weights, bias and the weight to the output."""
    first, out = net.hidden_layers[0][0], net.output[0]
    w, b, v = (t.detach().cpu().numpy() for t in (first.weight, first.bias, out.weight[0]))
    table = pd.DataFrame({"w_x1": w[:, 0], "w_x2": w[:, 1], "bias": b, "w_out": v})
    table.index = [f"unit {k + 1}" for k in range(len(table))]
    table.index.name = f"output bias {float(out.bias[0].detach()):.3f}"
    return table


def grid_truth_table(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> pd.DataFrame:
    """Each point of a 2-input task with its target, every hidden unit's activation and the net's output."""
    output, hidden = forward_with_layers(net, x)
    table = pd.DataFrame({"x1": x[:, 0].numpy(), "x2": x[:, 1].numpy(), "target": y[:, 0].numpy()})
    for k, h in enumerate(hidden[0].T):
        table[f"h{k + 1}"] = h.numpy().round(3)
    table["output"] = output[:, 0].numpy().round(3)
    table["right"] = (output[:, 0] >= 0.5).float().numpy() == table["target"]
    return table


def hidden_gap(table: pd.DataFrame) -> float:
    """How far a :func:`grid_truth_table`'s hidden values are from 0 or 1, at most (0 for step units)."""
    hidden = table.filter(regex=r"^h\d+$").to_numpy(dtype=float)
    return float(np.minimum(np.abs(hidden), np.abs(1 - hidden)).max())


def output_margin(table: pd.DataFrame) -> float:
    """The smallest distance of a :func:`grid_truth_table`'s outputs from 0.5 on the target's side (negative when
    a point is on the wrong side)."""
    side = np.where(table["target"].to_numpy() == 1, 1.0, -1.0)
    return float(((table["output"].to_numpy(dtype=float) - 0.5) * side).min())


def plot_grid_design(net: nn.Module, x: torch.Tensor, y: torch.Tensor, ax: plt.Axes | None = None, title: str = ""):
    """A 2-H-1 grid net's output over the plane with its hidden units' lines (dashed, numbered) and the points."""
    ax = plot_output_map(unit_maps(net, GRID_LIM, GRID_LIM, 120), (x, y), ax, title=title)
    first = net.hidden_layers[0][0]
    xs = np.array(GRID_LIM)
    for k, ((a, b), c) in enumerate(zip(first.weight.detach().numpy(), first.bias.detach().numpy())):
        if abs(b) > 1e-9:
            line = (xs, -(a * xs + c) / b)
        else:
            line = (np.full(2, -c / a), xs)
        ax.plot(*line, "--", color="darkgreen", lw=1.2)
        inside = [
            (px, py)
            for px, py in zip(np.linspace(*line[0], 50), np.linspace(*line[1], 50))
            if GRID_LIM[0] < px < GRID_LIM[1] and GRID_LIM[0] < py < GRID_LIM[1]
        ]
        if inside:
            ax.annotate(f"h{k + 1}", inside[len(inside) // 5], fontsize=8, bbox=dict(fc="white", lw=0, alpha=0.8))
    ax.set(xlim=GRID_LIM, ylim=GRID_LIM)
    return ax


def units_on(table: pd.DataFrame) -> pd.Series:
    """How many hidden units of a :func:`grid_truth_table` are on (above 0.5) at each point."""
    return (table.filter(regex=r"^h\d+$") > 0.5).sum(axis=1)
