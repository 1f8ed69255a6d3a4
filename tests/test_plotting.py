"""Smoke tests of the shared figures: they draw what they are given."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from nnutils import plotting  # noqa: E402
from nnutils.history import History, Run  # noqa: E402


def history(offset=0.0):
    h = History()
    for e in range(1, 6):
        h.append(epoch=e, train_loss=1 / e + offset, train_acc=0.5 + e / 20, val_acc=0.4 + e / 20 if e % 2 else np.nan)
    return h


def test_plot_history_panels_lines_and_nan_gaps():
    axes = plotting.plot_history({"a": history(), "b": history(0.1)}, keys=["train_loss", ("train_acc", "val_acc")])
    assert len(axes) == 2
    assert len(axes[0].lines) == 2 and len(axes[1].lines) == 4
    assert len(axes[1].lines[1].get_xdata()) == 3  # NaN epochs are left out, not drawn as zeros
    assert axes[1].lines[1].get_linestyle() == "--"


def test_plot_history_accepts_runs():
    runs = [Run("x", None, history()), Run("y", None, history(0.2))]
    axes = plotting.plot_history(runs, keys=["train_loss"], ylim=(0, 2))
    assert [line.get_label() for line in axes[0].lines] == ["x", "y"] and axes[0].get_ylim() == (0, 2)


def test_plot_confusion_and_show_images():
    ax = plotting.plot_confusion(np.eye(3, dtype=int) * 5, ["a", "b", "c"])
    assert ax.get_xlabel() == "predicted"
    plotting.show_images(torch.rand(4, 1, 28, 28), titles=list("abcd"), ncols=2)


def test_plot_history_unknown_column():
    with pytest.raises(AttributeError, match="no column"):
        plotting.plot_history({"a": history()}, keys=["test_acc"])
