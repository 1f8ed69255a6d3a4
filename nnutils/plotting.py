"""Figures used across the book: confusion matrices, training curves and image grids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch

from .training import History


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


def plot_history(
    histories: Mapping[str, History],
    keys: Sequence[str] = ("train_loss", "test_loss", "test_acc"),
    axes: Sequence[plt.Axes] | None = None,
) -> np.ndarray:
    """One panel per history column (e.g. loss, accuracy), one line per named run."""
    if axes is None:
        axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.2), squeeze=False)[1][0]
    for ax, key in zip(axes, keys):
        for name, history in histories.items():
            values = np.asarray(getattr(history, key), dtype=float)
            ax.plot(history.epoch, values, marker="o" if len(values) < 30 else None, ms=3, label=name)
        ax.set(xlabel="epoch", title=key.replace("_", " "))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
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
