"""Small convolutional nets for MNIST (LeNet-5 style and a one-layer CNN), what they see, and their weights on disk.

Typical use::

    model = SmallCNN(kernel_size=3)
    run = fit_tracked(model, (x_train, y_train), (x_val, y_val), optimizer="adam", lr=1e-3, epochs=10)
    maps = feature_maps(model, x_test[:1])  # {"conv": ..., "relu": ..., "pool": ...}
    save_weights(model, "small_cnn.pt"); load_weights(SmallCNN(3), "small_cnn.pt")
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from .models import count_parameters
from .training import History, Trainer, evaluate, fit

IMAGE_SIZE = 28


class LeNet5(nn.Module):
    """Conv 6 @ 5x5, pool, conv 16 @ 5x5, pool, 256 -> 120 -> 84 -> 10 with dropout; ReLU; log-softmax output."""

    def __init__(self, dropout: float = 0.5, n_classes: int = 10):
        super().__init__()
        _check_dropout(dropout)
        # 28 -> conv 24 -> pool 12 -> conv 8 -> pool 4; 16 * 4 * 4 = 256
        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(1, 6, kernel_size=5),
                relu1=nn.ReLU(),
                pool1=nn.MaxPool2d(2),
                conv2=nn.Conv2d(6, 16, kernel_size=5),
                relu2=nn.ReLU(),
                pool2=nn.MaxPool2d(2),
            )
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 4 * 4, 120),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(84, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.classifier(self.features(x)), dim=1)


def check_kernel_size(kernel_size: int) -> int:
    """The kernel size if a 28 x 28 image leaves at least 2 x 2 after a valid convolution; else ValueError."""
    largest = IMAGE_SIZE - 1
    is_int = isinstance(kernel_size, int | np.integer) and not isinstance(kernel_size, bool)
    if not is_int or not 1 <= kernel_size <= largest:
        raise ValueError(
            f"kernel_size must be an integer from 1 to {largest} (a valid convolution of a {IMAGE_SIZE} x {IMAGE_SIZE} "
            f"image must leave at least 2 x 2 for the 2 x 2 max-pool), not {kernel_size!r}."
        )
    return int(kernel_size)


def _check_dropout(dropout: float) -> None:
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), not {dropout!r}.")


class SmallCNN(nn.Module):
    """Conv `filters` @ k x k (no padding), ReLU, max-pool 2, dense `hidden` (ReLU), dropout, 10; log-softmax.

    ``keras_init`` (default) starts from Glorot-uniform weights and zero biases, as Keras does."""

    def __init__(
        self,
        kernel_size: int = 3,
        filters: int = 32,
        hidden: int = 25,
        dropout: float = 0.5,
        n_classes: int = 10,
        keras_init: bool = True,
    ):
        super().__init__()
        self.kernel_size = check_kernel_size(kernel_size)
        _check_dropout(dropout)
        side = (IMAGE_SIZE - self.kernel_size + 1) // 2  # after the convolution and the 2 x 2 pool
        self.features = nn.Sequential(
            OrderedDict(conv=nn.Conv2d(1, filters, self.kernel_size), relu=nn.ReLU(), pool=nn.MaxPool2d(2))
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(filters * side * side, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )
        if keras_init:
            for module in self.modules():
                if isinstance(module, nn.Conv2d | nn.Linear):
                    nn.init.xavier_uniform_(module.weight)
                    nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.classifier(self.features(x)), dim=1)


# ---------------------------------------------------------------- what the network sees


def first_layer_filters(model: nn.Module) -> torch.Tensor:
    """The weights of the model's first Conv2d as (out_channels, k, k), averaged over input channels."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.weight.detach().cpu().mean(dim=1)
    raise ValueError(f"{type(model).__name__} has no Conv2d layer, so it has no filters to show.")


@torch.no_grad()
def feature_maps(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every image-shaped (4-D) output of the model's layers for input x, by layer name, in forward order."""
    if x.ndim != 4:
        raise ValueError(f"x must be a batch of images (N, C, H, W), not a tensor of shape {tuple(x.shape)}.")
    maps: dict[str, torch.Tensor] = {}
    named = {m: name.split(".")[-1] for name, m in model.named_modules() if name and not list(m.children())}

    def keep(module: nn.Module, _inputs, output: torch.Tensor) -> None:
        if isinstance(output, torch.Tensor) and output.ndim == 4:
            maps[named[module]] = output.detach().cpu()

    hooks = [m.register_forward_hook(keep) for m in named]
    was_training = model.training
    try:
        model.eval()
        model(x.to(next(model.parameters()).device))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return maps


# ---------------------------------------------------------------- training with an eval-mode training accuracy


class TrackAccuracy:
    """Callback: the accuracy on (x, y) in evaluation mode (no dropout) after every epoch, kept in ``.values``."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x, self.y = x, y
        self.values: list[float] = []

    def on_epoch_end(self, trainer: Trainer) -> None:
        self.values.append(evaluate(trainer.model, self.x.to(trainer.device), self.y.to(trainer.device)).accuracy)


@dataclass
class Run:
    """One training run: its history, eval-mode training accuracy per epoch, the model's size and test result."""

    name: str
    history: History
    train_acc: list[float] = field(default_factory=list)
    n_params: int = 0
    n_train: int = 0
    test_acc: float = float("nan")
    confusion: np.ndarray | None = None

    @property
    def val_acc(self) -> list[float]:
        return self.history.test_acc

    @property
    def seconds_per_epoch(self) -> float:
        return float(np.mean(self.history.seconds))

    @property
    def gap(self) -> float:
        """Training minus validation accuracy after the last epoch (the generalisation gap)."""
        return self.train_acc[-1] - self.val_acc[-1]

    def row(self) -> dict[str, object]:
        """The run as one row of a summary table."""
        return {
            "model": self.name,
            "parameters": self.n_params,
            "training images": self.n_train,
            "epochs": len(self.history),
            "s / epoch": self.seconds_per_epoch,
            "train acc": self.train_acc[-1],
            "val acc": self.val_acc[-1],
            "test acc": self.test_acc,
            "gap (train - val)": self.gap,
        }


def fit_tracked(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    name: str = "",
    probe: int | None = 10_000,
    **fit_options,
) -> Run:
    """``training.fit`` on train with val as its test set, also measuring training accuracy (eval mode, on at
    most ``probe`` training images) after every epoch, then the test set once; prints a one-line summary."""
    x, y = train
    if probe is not None and probe < len(y):
        x, y = x[:probe], y[:probe]
    tracker = TrackAccuracy(x, y)
    history = fit(model, train, val, callbacks=[tracker, *fit_options.pop("callbacks", ())], **fit_options)
    run = Run(name or type(model).__name__, history, tracker.values, count_parameters(model), len(train[1]))
    if test is not None:
        result = evaluate(model, *test)
        run.test_acc, run.confusion = result.accuracy, result.confusion
    print(
        f"{run.name}: {len(train[1]):,} images, {len(history)} epochs, {run.seconds_per_epoch:.1f} s/epoch, "
        f"train acc {run.train_acc[-1]:.4f}, val acc {run.val_acc[-1]:.4f}, test acc {run.test_acc:.4f}"
    )
    return run


def plot_train_val(panels: dict[str, list[Run]], ylim: tuple[float, float] = (0.5, 1.0)) -> plt.Figure:
    """One panel per title, one colour per run: training accuracy dashed, validation accuracy solid."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), sharey=True, squeeze=False)
    for ax, (title, runs) in zip(axes[0], panels.items()):
        for colour, run in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"], runs):
            epochs = run.history.epoch
            ax.plot(epochs, run.train_acc, "--", color=colour, label=f"{run.name}: train")
            ax.plot(epochs, run.val_acc, "-", color=colour, label=f"{run.name}: validation")
        ax.set(title=title, xlabel="epoch", ylim=ylim)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    axes[0, 0].set_ylabel("accuracy")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- weights on disk


def save_weights(model: nn.Module, path: str | Path) -> Path:
    """Write the model's state_dict to path atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a state_dict saved by ``save_weights`` into model (``weights_only=True``: tensors only, no code)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No weights file at {path}: save one first with save_weights(model, path).")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as err:
        raise ValueError(f"{path} is not a weights file that can be loaded safely (a state_dict): {err}") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state_dict (a dict of tensors).")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"The weights in {path} do not fit {type(model).__name__}: {err}") from None
    return model.eval()
