"""Figures used across the book: confusion matrices, training curves and image grids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from matplotlib.ticker import MaxNLocator

from .history import History, Run


def plot_label(name: str) -> str:
    """A class name safe for matplotlib's default font: 'お o' -> 'o' (hiragana stays in tables)."""
    return name.split()[-1]


def plot_confusion(
    confusion: np.ndarray,
    classes: Sequence[str],
    percent: bool = False,
    title: str = "",
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Heatmap of a confusion matrix (rows: true class, columns: predicted); ``percent`` scales rows to 100."""
    confusion = np.asarray(confusion, dtype=float)
    if percent:
        confusion = 100 * confusion / confusion.sum(axis=1, keepdims=True).clip(min=1)
    labels = [plot_label(c) for c in classes]
    ax = ax or plt.subplots(figsize=(5.5, 4.5))[1]
    sns.heatmap(
        confusion,
        annot=True,
        fmt=".1f" if percent else ".0f",
        cmap="Blues",
        cbar=False,
        xticklabels=labels,
        yticklabels=labels,
        annot_kws={"fontsize": 7},
        ax=ax,
    )
    ax.set(xlabel="predicted", ylabel="true", title=title)
    return ax


LINE_STYLES = ("-", "--", ":", "-.")


def _history_of(item: History | Run) -> History:
    return item.history if isinstance(item, Run) else item


def plot_history(
    histories: Mapping[str, History | Run] | Sequence[Run],
    keys: Sequence[str | Sequence[str]] = ("train_loss", "val_loss", "val_acc"),
    axes: Sequence[plt.Axes] | None = None,
    titles: Sequence[str] | None = None,
    ylim: tuple[float, float] | None = None,
    sharey: bool = False,
) -> np.ndarray:
    """Training curves: one panel per entry of ``keys``, one colour per run.

    A key is a history column (``"val_acc"``); a tuple of columns draws them in one panel, told apart by line
    style, e.g. ``keys=[("train_acc", "val_acc")]`` for training (solid) against validation (dashed). Runs are given
    by name (a dict of histories or runs) or as a list of ``Run`` objects (named by ``run.name``).
    """
    if not isinstance(histories, Mapping):
        histories = {run.name: run for run in histories}
    panels = [(key,) if isinstance(key, str) else tuple(key) for key in keys]
    if axes is None:
        axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.4), squeeze=False, sharey=sharey)[1][0]
    for i, (ax, columns) in enumerate(zip(axes, panels)):
        for colour, (name, item) in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 10, histories.items()):
            history = _history_of(item)
            for style, key in zip(LINE_STYLES, columns):
                values = np.asarray(getattr(history, key), dtype=float)
                epochs = np.asarray(history.epoch)
                shown = np.isfinite(values)  # columns measured every k epochs have NaN in between
                label = name if len(columns) == 1 else f"{name}: {key.split('_')[0]}"
                ax.plot(
                    epochs[shown],
                    values[shown],
                    style,
                    color=colour,
                    marker="o" if shown.sum() < 30 else None,
                    ms=3,
                    label=label,
                )
        title = titles[i] if titles else " / ".join(c.replace("_", " ") for c in columns)
        ax.set(xlabel="epoch", title=title)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    plt.tight_layout()
    return np.asarray(axes)


def show_images(
    images: torch.Tensor | np.ndarray,
    titles: Sequence[str] | None = None,
    ncols: int = 10,
    size: float = 1.1,
    cmap: str = "gray",
    suptitle: str = "",
) -> plt.Figure:
    """A grid of images (N, H, W) or (N, 1, H, W), each with an optional title."""
    images = np.asarray(images.detach().cpu() if isinstance(images, torch.Tensor) else images)
    if images.ndim == 4:
        images = images[:, 0]
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    plt.tight_layout()
    return fig
