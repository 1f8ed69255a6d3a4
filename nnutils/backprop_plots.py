"""Chapter 4a's figures: the activation functions and their slopes, sweeps' accuracies, and rows of filters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .scratch import make_activation


def plot_activations(specs: Sequence[tuple[str, float | None]], z: np.ndarray | None = None) -> plt.Figure:
    """Each activation (name, slope or leak) and its derivative, on two panels."""
    z = np.linspace(-6, 6, 601) if z is None else z
    fig, (ax_f, ax_df) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, param in specs:
        act = make_activation(name, param)
        label = name if param is None else f"{name} ({'leak' if 'relu' in name else 'slope'} {param})"
        ax_f.plot(z, act.f(z), label=label)
        ax_df.plot(z, act.df(z), label=label)
    ax_f.set(title="activation f(z)", xlabel="z", ylim=(-1.5, 3))
    ax_df.set(title="derivative f'(z)", xlabel="z")
    for ax in (ax_f, ax_df):
        ax.grid(alpha=0.3)
    ax_df.legend(fontsize=7)
    plt.tight_layout()
    return fig


def _sweep_axes(ax: plt.Axes, column: str, log: bool, legend_size: int) -> plt.Axes:
    """The axes of an accuracy-against-setting plot: log scale (base 2 for batch sizes), labels, grid, legend."""
    if log:
        ax.set_xscale("log", base=2 if column == "batch_size" else 10)
    ax.set(xlabel=column, ylabel="accuracy", title=f"accuracy against {column}", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=legend_size)
    return ax


def plot_sweep(table: pd.DataFrame, column: str, log: bool = True, ax: plt.Axes | None = None) -> plt.Axes:
    """Training and validation accuracy against the swept value (the gap shows overfitting, low values
    underfitting)."""
    ax = ax or plt.subplots(figsize=(5.5, 3.6))[1]
    table = table.sort_values(column)
    ax.plot(table[column], table["train_acc"], "o-", label="training")
    ax.plot(table[column], table["val_acc"], "s--", label="validation")
    return _sweep_axes(ax, column, log, legend_size=8)


def plot_sweeps(tables: Mapping[str, pd.DataFrame], column: str, log: bool = True, ax: plt.Axes | None = None):
    """Several sweeps of the same value on one panel (e.g. one and two hidden layers): training accuracy solid,
    validation dashed, one colour per named table."""
    ax = ax or plt.subplots(figsize=(5.5, 3.6))[1]
    for i, (name, table) in enumerate(tables.items()):
        table = table.sort_values(column)
        ax.plot(table[column], table["train_acc"], "o-", color=f"C{i}", label=f"{name}: training")
        ax.plot(table[column], table["val_acc"], "s--", color=f"C{i}", label=f"{name}: validation")
    return _sweep_axes(ax, column, log, legend_size=7)


def filter_grid(filters: Mapping[str, np.ndarray], n: int | None = None, size: float = 1.0) -> plt.Figure:
    """Rows of filters (F, 1, k, k) or (F, k, k), one row per named set, each filter scaled to its own range."""
    rows = {name: np.asarray(w).reshape(len(w), *np.asarray(w).shape[-2:])[:n] for name, w in filters.items()}
    ncols = max(len(w) for w in rows.values())
    fig, axes = plt.subplots(len(rows), ncols, figsize=(size * ncols + 1.2, size * len(rows)), squeeze=False)
    for r, (name, w) in enumerate(rows.items()):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(w):
                ax.imshow(w[c], cmap="gray")
            else:
                ax.axis("off")
        axes[r][0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    plt.tight_layout()
    return fig
