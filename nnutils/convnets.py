"""Chapter 4b: small convolutional nets for MNIST (LeNet-5 style and a one-layer CNN), how they are trained and
compared with a perceptron, and what they see (``nnutils.weights`` saves them).

Typical use::

    train, val, test = mnist_splits(data.load("MNIST", "train"), data.load("MNIST", "test"), normalize=True)
    run = train_tracked("small CNN", lambda: SmallCNN(3), train, val, test, optimizer="adam", lr=1e-3)
    gap(run), summary_row(run)  # training minus validation accuracy; the run as a table row
    maps = feature_maps(run.model, test[0][:1])  # {"conv": ..., "pool": ..., "relu": ...}
    untrained_outputs(scaled_normal_init(models.MLP()), *test)  # what a net says before any training
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import data
from .history import Run
from .layers import channels_last
from .models import capture_outputs, count_parameters, device_of
from .references import reference_figures
from .training import TrackAccuracy, evaluate, fit, set_seed

if TYPE_CHECKING:
    from .results import Results

Tensors = tuple[torch.Tensor, torch.Tensor]

IMAGE_SIZE = 28


class LeNet5(nn.Module):
    """Conv 6 @ 5x5, pool, conv 16 @ 5x5, pool, 256 -> 120 -> 84 -> 10 with dropout; ReLU; log-softmax output.

    Each stage pools before its ReLU: the two commute exactly (``nnutils.layers``), and the ReLU then sees a quarter
    of the values."""

    def __init__(self, dropout: float = 0.5, n_classes: int = 10):
        super().__init__()
        _check_dropout(dropout)
        # 28 -> conv 24 -> pool 12 -> conv 8 -> pool 4; 16 * 4 * 4 = 256
        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(1, 6, kernel_size=5),
                pool1=nn.MaxPool2d(2),
                relu1=nn.ReLU(),
                conv2=nn.Conv2d(6, 16, kernel_size=5),
                pool2=nn.MaxPool2d(2),
                relu2=nn.ReLU(),
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
        channels_last(self)  # faster on the CPU (nnutils.layers)

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

    The pooling runs before the ReLU, which gives the same values (``nnutils.layers``) in less time. ``keras_init``
    (default) starts from Glorot-uniform weights and zero biases, as Keras does."""

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
            OrderedDict(conv=nn.Conv2d(1, filters, self.kernel_size), pool=nn.MaxPool2d(2), relu=nn.ReLU())
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
        if self.kernel_size <= 20:  # after the initialisation, which draws in the usual layout; a kernel nearly
            channels_last(self)  # as large as the image convolves faster channels-first (24 x 24: 8 ms a batch, not 14)

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
    named = {m: name.split(".")[-1] for name, m in model.named_modules() if name and not list(m.children())}
    was_training = model.training
    try:
        model.eval()
        with capture_outputs(list(named)) as outputs:
            model(x.to(device_of(model)))
    finally:
        model.train(was_training)
    return {named[m]: out.cpu() for m, out in outputs.items() if isinstance(out, torch.Tensor) and out.ndim == 4}


@torch.no_grad()
def scaled_normal_init(model: nn.Module, std: float = 0.1) -> nn.Module:
    """Report 004's start: each Linear or Conv2d weight drawn from N(0, std) divided by sqrt(fan-in), biases 0."""
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Conv2d):
            fan_in = module.weight[0].numel()
            module.weight.normal_(0.0, std).div_(math.sqrt(fan_in))
            nn.init.zeros_(module.bias)
    return model


@torch.no_grad()
def untrained_outputs(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> pd.DataFrame:
    """One row per image: its label, the predicted class and the ten class probabilities (``p0``..``p9``) of a
    model with log-softmax outputs."""
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels.")
    was_training = model.training
    try:
        probabilities = model.eval()(x.to(device_of(model))).exp().cpu()
    finally:
        model.train(was_training)
    table = pd.DataFrame(probabilities.numpy(), columns=[f"p{c}" for c in range(probabilities.shape[1])])
    table.insert(0, "predicted", probabilities.argmax(dim=1).numpy())
    table.insert(0, "label", y.cpu().numpy())
    return table


# ---------------------------------------------------------------- the chapter's data and training runs


def mnist_splits(
    train_set: data.ImageSet,
    test_set: data.ImageSet,
    *,
    normalize: bool,
    n_val: int | None = None,
    n_test: int | None = None,
    seed: int = 0,
    n_holdout: int = 10_000,
) -> tuple[Tensors, Tensors, Tensors]:
    """(train, val, test): the official training images split (seeded) into ``n_holdout`` for validation and the
    rest (50,000 for MNIST) for training, and the official test images; validation and test then cut to seeded
    subsets of n_val and n_test images (None: all)."""
    x, y = train_set.tensors(normalize)
    (x_train, y_train), (x_val, y_val) = data.train_val_split(x, y, n_val=n_holdout, seed=seed)
    val = data.subset(x_val, y_val, n_val, seed)
    return (x_train, y_train), val, data.subset(*test_set.tensors(normalize), n_test, seed)


def train_tracked(
    name: str,
    build: Callable[[], nn.Module],
    train: Tensors,
    val: Tensors,
    test: Tensors | None = None,
    *,
    seed: int = 0,
    probe: int | None = 10_000,
    quiet: bool = False,
    **options,
) -> Run:
    """Seed, build and ``training.fit`` a model on train, watching val (``val_acc``) and the training accuracy in
    evaluation mode on at most ``probe`` training images (``train_eval_acc``); then the test set once
    (``run.result``). ``run.info`` holds ``n_params`` and ``n_train``; prints a one-line summary."""
    x, y = train
    if probe is not None and probe < len(y):
        x, y = x[:probe], y[:probe]
    set_seed(seed)
    model = build()
    start = time.perf_counter()
    history = fit(
        model, train, val, callbacks=[TrackAccuracy(x, y), *options.pop("callbacks", ())], seed=seed, **options
    )
    seconds = time.perf_counter() - start
    result = evaluate(model, *test) if test is not None else None
    run = Run(name, model, history, result, seconds, {"n_params": count_parameters(model), "n_train": len(train[1])})
    if not quiet:
        print(
            f"{name}: {len(train[1]):,} images, {run.epochs} epochs, {run.seconds_per_epoch:.1f} s/epoch, "
            f"train acc {final_accuracy(run, 'train'):.4f}, val acc {final_accuracy(run, 'val'):.4f}, "
            f"test acc {final_accuracy(run, 'test'):.4f}"
        )
    return run


def final_accuracy(run: Run, split: str) -> float:
    """A run's accuracy after its last epoch on ``"train"`` (eval mode), ``"val"`` or ``"test"`` (NaN if not
    measured)."""
    if split == "test":
        return run.result.accuracy if run.result is not None else math.nan
    column = {"train": "train_eval_acc", "val": "val_acc"}.get(split)
    if column is None:
        raise ValueError(f"split must be 'train', 'val' or 'test', not {split!r}.")
    return float(run.history.last(column)) if column in run.history else math.nan


def gap(run: Run) -> float:
    """Training minus validation accuracy after the last epoch (the generalisation gap)."""
    return final_accuracy(run, "train") - final_accuracy(run, "val")


def summary_row(run: Run) -> dict[str, object]:
    """A run of ``train_tracked`` as one row of a summary table."""
    return {
        "model": run.name,
        "parameters": run.info.get("n_params"),
        "training images": run.info.get("n_train"),
        "epochs": run.epochs,
        "s / epoch": run.seconds_per_epoch,
        "train acc": final_accuracy(run, "train"),
        "val acc": final_accuracy(run, "val"),
        "test acc": final_accuracy(run, "test"),
        "gap (train - val)": gap(run),
    }


def compare_sweep(results: Results, sweep: Mapping[int, Run]) -> pd.DataFrame:
    """The kernel-size sweep by kernel: parameters, seconds per epoch, test accuracy (recorded in ``results`` as
    ``small_cnn_k<k>_test_acc``) and the report's figure with its status where ``reference_figures.yml`` has one."""
    keys = {k: f"small_cnn_k{k}_test_acc" for k in sweep}
    reported = reference_figures(results.notebook)
    compared = results.compare(
        {keys[k]: final_accuracy(run, "test") for k, run in sweep.items() if keys[k] in reported}
    )
    rows = {}
    for k, run in sweep.items():
        figure = reported.get(keys[k])
        if figure is None:
            results.record(keys[k], final_accuracy(run, "test"))
        rows[k] = {
            "parameters": run.info.get("n_params"),
            "s / epoch": run.seconds_per_epoch,
            "test acc": final_accuracy(run, "test"),
            "report": figure["reference"] if figure else np.nan,
            "status": compared.loc[figure["figure"], "status"] if figure else "no report figure",
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("kernel")
