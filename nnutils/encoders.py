"""Encoder networks with two hidden units: target matrices, the net, and pictures of its hidden space.

An encoder task is a target matrix T (N inputs x K outputs): input i is the i-th one-hot vector and
should produce row i of T through a 2-unit tanh bottleneck and K sigmoid outputs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML
from torch import nn

from .animation import animate

# The tasks (target matrices and the shapes they draw) live in nnutils.encoder_tasks; the chapter reads them here.
from .encoder_tasks import (  # noqa: F401, E402
    HEART18,
    LAYOUTS,
    TASKS,
    Line,
    encoder_targets,
    grid_layout,
    identity_targets,
    layout,
    targets_from_layout,
)
from .history import History, Run
from .metrics import first_epoch_at
from .models import device_of
from .training import Snapshots, evaluate, fit, set_seed


class EncoderNet(nn.Module):
    """N one-hot inputs -> 2 tanh hidden units -> K sigmoid outputs; tiny initial weights start every dot at 0."""

    def __init__(self, n_inputs: int, n_outputs: int, n_hidden: int = 2, init: float = 0.01):
        super().__init__()
        self.in_hid = nn.Linear(n_inputs, n_hidden)
        self.hid_out = nn.Linear(n_hidden, n_outputs)
        for p in self.parameters():
            nn.init.uniform_(p, -init, init)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.in_hid(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.hid_out(self.hidden(x)))


def hidden_space(model: EncoderNet) -> dict[str, np.ndarray]:
    """Snapshot of the hidden space for one-hot inputs: each input's point and each output's line (w, b)."""
    with torch.no_grad():
        points = torch.tanh(model.in_hid.weight.T + model.in_hid.bias)  # one-hot input i selects column i
        return {
            "points": points.cpu().numpy().copy(),
            "weight": model.hid_out.weight.cpu().numpy().copy(),
            "bias": model.hid_out.bias.cpu().numpy().copy(),
        }


def blueprint(name: str, margin: float = 0.85) -> dict[str, np.ndarray]:
    """A task's drawing scaled into the hidden square, as a frame that plot_hidden_space can draw."""
    points, lines = layout(name)
    centre = (points.max(0) + points.min(0)) / 2
    scale = margin / np.abs(points - centre).max()
    abc = np.asarray(lines, dtype=float)
    bias = scale * (abc[:, :2] @ centre + abc[:, 2])  # a x + b y + c keeps its sign under the scaling
    return {"points": scale * (points - centre), "weight": abc[:, :2], "bias": bias}


def plot_hidden_space(frame: Mapping[str, np.ndarray], ax: plt.Axes | None = None, title: str = "") -> plt.Axes:
    """Dots: the inputs' hidden activations (numbered); lines: where each output unit's net input is zero."""
    ax = ax or plt.subplots(figsize=(4, 4))[1]
    points, weight, bias = frame["points"], frame["weight"], frame["bias"]
    colors = plt.get_cmap("tab20")(np.arange(len(bias)) % 20)
    s = np.linspace(-1, 1, 2)
    for (w1, w2), b, color in zip(weight, bias, colors):
        if abs(w2) >= abs(w1) and abs(w2) > 1e-12:
            ax.plot(s, -(b + w1 * s) / w2, color=color, lw=1.2)
        elif abs(w1) > 1e-12:
            ax.plot(-(b + w2 * s) / w1, s, color=color, lw=1.2)
    ax.scatter(points[:, 0], points[:, 1], s=18, c="black", zorder=3)
    for i, (x, y) in enumerate(points):
        ax.annotate(str(i), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7, color="firebrick")
    ax.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), xlabel="hidden unit 1", ylabel="hidden unit 2", title=title)
    ax.set_aspect("equal")
    return ax


def plot_frames(
    frames: Mapping[int, Mapping[str, np.ndarray]], panels: int | None = None, ncols: int = 5, size: float = 2.6
) -> plt.Figure:
    """A grid of hidden-space snapshots in epoch order; ``panels`` picks that many, evenly, first and last kept."""
    epochs = sorted(frames)
    if panels is not None and panels < len(epochs):
        epochs = [epochs[i] for i in np.unique(np.linspace(0, len(epochs) - 1, panels).round().astype(int))]
    nrows = -(-len(epochs) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat[len(epochs) :]:
        ax.axis("off")
    for ax, epoch in zip(axes.flat, epochs):
        plot_hidden_space(frames[epoch], ax, title=f"epoch {epoch}")
        ax.set(xlabel="", ylabel="", xticks=[], yticks=[])
    fig.tight_layout()
    return fig


def animate_frames(
    frames: Mapping[int, Mapping[str, np.ndarray]], title: str = "", size: float = 3.6, dpi: float = 72
) -> HTML:
    """The snapshots as a scrubbable HTML animation (plays offline in the book)."""
    fig, ax = plt.subplots(figsize=(size, size))

    def draw(epoch: int) -> None:
        ax.clear()
        plot_hidden_space(frames[epoch], ax, title=f"{title} epoch {epoch}".strip())

    return animate(fig, draw, sorted(frames), dpi=dpi)


def snapshot_epochs(last: int, count: int) -> list[int]:
    """About ``count`` epochs from 0 to ``last``, spaced geometrically (early training changes fastest)."""
    if last < 1 or count < 2:
        raise ValueError("need last >= 1 and count >= 2")
    return sorted({0, *np.unique(np.geomspace(1, last, count - 1).round().astype(int)).tolist()})


def train_encoder(
    targets: torch.Tensor, epochs: int, lr: float, frames_at: Sequence[int], seed: int = 0, name: str = "encoder"
) -> Run:
    """Train an encoder on one task (full batch, Adam, binary cross-entropy), with hidden-space snapshots.

    The ``Run`` keeps in ``info``: ``snapshots`` ({epoch: hidden_space frame}), ``targets``, ``epochs_to_targets``
    (first epoch with every output right, None if never) and ``outputs_right`` (the final share of outputs right);
    ``result`` is the final evaluation on the task's patterns (an encoder has no other set).
    """
    set_seed(seed)
    model = EncoderNet(*targets.shape)
    snaps = Snapshots(frames_at, hidden_space)
    inputs = torch.eye(len(targets))
    start = time.perf_counter()
    history = fit(model, (inputs, targets), optimizer="adam", lr=lr, loss="bce",
                  batch_size=len(targets), epochs=epochs, callbacks=[snaps], seed=seed)  # fmt: skip
    seconds = time.perf_counter() - start
    info = {
        "snapshots": snaps.frames,
        "targets": targets,
        "epochs_to_targets": epochs_to_targets(history),
        "outputs_right": outputs_right(model, targets),
    }
    return Run(name, model, history, evaluate(model, inputs, targets, loss="bce"), seconds, info)


def plot_targets(tasks: Mapping[str, torch.Tensor], size: float = 2.4) -> plt.Figure:
    """The target matrices side by side: rows = inputs (patterns), columns = output units, black = 1."""
    fig, axes = plt.subplots(1, len(tasks), figsize=(size * len(tasks), size * 1.3), squeeze=False)
    for ax, (name, targets) in zip(axes[0], tasks.items()):
        ax.imshow(np.asarray(targets), cmap="Greys", vmin=0, vmax=1)
        ax.set(title=f"{name} {tuple(targets.shape)}", xlabel="output unit", ylabel="input pattern")
    fig.tight_layout()
    return fig


def epochs_to_targets(history: History) -> int | None:
    """The first epoch whose training accuracy was 1 (for an encoder: every output on the right side of 0.5)."""
    return first_epoch_at(history, "train_acc", 1.0)


def outputs_right(model: EncoderNet, targets: torch.Tensor) -> float:
    """Fraction of all N x K outputs on the right side of 0.5."""
    with torch.no_grad():
        out = model(torch.eye(len(targets), device=device_of(model))).cpu()
    return float(((out > 0.5) == (targets.cpu() > 0.5)).float().mean())


def plot_drawings_against_results(runs: Mapping[str, Run], size: float = 3.25) -> plt.Figure:
    """Top row: each task's drawing; bottom row: the hidden space its trained encoder ended with."""
    fig, axes = plt.subplots(2, len(runs), figsize=(size * len(runs), 6.6), squeeze=False)
    for (name, run), top, bottom in zip(runs.items(), axes[0], axes[1]):
        plot_hidden_space(blueprint(name), top, title=f"{name}: drawing")
        plot_hidden_space(hidden_space(run.model), bottom, title=f"{name}: learnt, epoch {run.history.epoch[-1]}")
    fig.tight_layout()
    return fig


def encoder_summary(runs: Mapping[str, Run]) -> pd.DataFrame:
    """One row per trained encoder: its task's shape, the first epoch with every output right, the share right."""
    rows = {
        name: {
            "patterns x outputs": "x".join(map(str, run["targets"].shape)),
            "epochs to targets": run["epochs_to_targets"],
            "outputs right": run["outputs_right"],
        }
        for name, run in runs.items()
    }
    return pd.DataFrame(rows).T


def from_centre(points: np.ndarray) -> np.ndarray:
    """Each hidden point's distance from the mean of all points (all near 0 while the dots are bunched)."""
    points = np.asarray(points, dtype=float)
    return np.linalg.norm(points - points.mean(0), axis=1)


def boundary_angles(frame: Mapping[str, np.ndarray]) -> np.ndarray:
    """The direction of each output's boundary line in a hidden-space frame, in degrees from 0 up to 180."""
    w = np.asarray(frame["weight"], dtype=float)
    return np.degrees(np.arctan2(w[:, 0], -w[:, 1])) % 180  # the line runs at right angles to its normal w


def line_families(frame: Mapping[str, np.ndarray], families: Mapping[str, Sequence[int]]) -> pd.DataFrame:
    """Per family of outputs: the mean direction of their boundaries and their spread (the narrowest arc of
    directions that holds them all), in degrees."""
    angles, rows = boundary_angles(frame), {}
    for name, outputs in families.items():
        a = np.sort(angles[list(outputs)])
        gaps = np.diff(np.append(a, a[0] + 180))
        mean = np.degrees(np.angle(np.exp(2j * np.radians(a)).mean())) / 2 % 180  # directions repeat every 180
        rows[name] = {"lines": len(a), "direction (deg)": mean, "spread (deg)": 180 - gaps.max()}
    return pd.DataFrame(rows).T
