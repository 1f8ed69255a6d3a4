"""The workbook's one training loop: preloaded tensors, batches by index, callbacks, ``device="auto"``.

Typical use::

    set_seed(0)
    model = NetConv()
    history = fit(model, (x_train, y_train), (x_test, y_test), lr=0.01, momentum=0.5, epochs=10)
    result = evaluate(model, x_test, y_test)
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

Tensors = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MetricFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _argmax_correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (out.argmax(dim=1) == y).sum()


def _threshold_correct(cut: float) -> MetricFn:
    def correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        right = (out > cut) == (y > 0.5)
        return right.reshape(len(right), -1).all(dim=1).sum()

    return correct


# loss name -> (loss function, "number correct" function or None)
LOSSES: dict[str, tuple[LossFn, MetricFn | None]] = {
    "nll": (F.nll_loss, _argmax_correct),  # the model outputs log-probabilities
    "cross_entropy": (F.cross_entropy, _argmax_correct),  # the model outputs logits
    "bce": (F.binary_cross_entropy, _threshold_correct(0.5)),  # the model outputs probabilities
    "bce_logits": (F.binary_cross_entropy_with_logits, _threshold_correct(0.0)),
    "mse": (F.mse_loss, None),
}
OPTIMIZERS = ("sgd", "adam")


@dataclass
class TrainConfig:
    """Everything a training run needs besides the model and the data; the defaults are the KMNIST setup."""

    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    weight_decay: float = 0.0
    loss: str | LossFn = "nll"
    metric: MetricFn | None = None  # number of correct examples in a batch; default follows the loss
    shuffle: bool = True
    seed: int = 0
    device: str = "auto"
    eval_every: int = 1  # evaluate the test set every k epochs (and after the last); 0 = only at the end
    progress: bool | None = None  # None: on unless the environment sets NNUTILS_PROGRESS=0

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}: choose one of {', '.join(OPTIMIZERS)}.")
        if isinstance(self.loss, str) and self.loss not in LOSSES:
            raise ValueError(f"Unknown loss {self.loss!r}: choose one of {', '.join(LOSSES)} or pass a function.")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("epochs and batch_size must be at least 1 and lr positive.")


@dataclass
class History:
    """Per-epoch record of a run: losses, accuracies (fractions, NaN where not measured) and seconds."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.epoch)

    def last(self, key: str) -> float:
        """The latest value of one column, e.g. ``history.last("test_acc")``."""
        return getattr(self, key)[-1]

    def as_dict(self) -> dict[str, list]:
        return {f.name: list(getattr(self, f.name)) for f in fields(self)}


@dataclass
class EvalResult:
    """Mean loss, accuracy (fraction; NaN without a metric) and confusion matrix (rows = true class)."""

    loss: float
    accuracy: float
    confusion: np.ndarray | None


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch, so that model initialisation and shuffling repeat exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def get_device(device: str = "auto") -> torch.device:
    """``"auto"`` gives CUDA when present, else the CPU; any other value is passed to torch.device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _loss_and_metric(loss: str | LossFn, metric: MetricFn | None) -> tuple[LossFn, MetricFn | None]:
    if isinstance(loss, str):
        loss_fn, default_metric = LOSSES[loss]
        return loss_fn, metric or default_metric
    return loss, metric


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The model's outputs for x, in evaluation mode, batch by batch (returned on x's device)."""
    model.eval()
    device = next(model.parameters()).device
    outs = [model(x[i : i + batch_size].to(device)).to(x.device) for i in range(0, len(x), batch_size)]
    return torch.cat(outs)


def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str | LossFn = "nll", metric: MetricFn | None = None
) -> EvalResult:
    """Mean loss, accuracy and (for class-index targets) the confusion matrix of a model on (x, y)."""
    loss_fn, metric_fn = _loss_and_metric(loss, metric)
    out = predict(model, x)
    y = y.to(out.device)
    mean_loss = float(loss_fn(out, y))
    accuracy = float(metric_fn(out, y)) / len(y) if metric_fn else float("nan")
    confusion = None
    if metric_fn is _argmax_correct:
        k = out.shape[1]
        counts = torch.bincount(y * k + out.argmax(dim=1), minlength=k * k)
        confusion = counts.reshape(k, k).cpu().numpy()
    return EvalResult(mean_loss, accuracy, confusion)


class Trainer:
    """Runs the loop; callbacks receive the trainer after every epoch and may set ``stop_training``."""

    def __init__(self, model: nn.Module, config: TrainConfig, callbacks: Sequence[Callable] = ()):
        self.config, self.callbacks = config, list(callbacks)
        self.device = get_device(config.device)
        self.model = model.to(self.device)
        self.loss_fn, self.metric_fn = _loss_and_metric(config.loss, config.metric)
        opt = torch.optim.SGD if config.optimizer == "sgd" else torch.optim.Adam
        extra = {"momentum": config.momentum} if config.optimizer == "sgd" else {}
        self.optimizer = opt(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay, **extra)
        self.history = History()
        self.epoch = 0
        self.stop_training = False

    def _call(self, hook: str) -> None:
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:
                method(self)
            elif hook == "on_epoch_end" and callable(cb):
                cb(self)

    def train_epoch(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> tuple[float, float]:
        """One pass over (x, y) in mini-batches; returns mean loss and accuracy measured on the batches."""
        cfg, n = self.config, len(y)
        self.model.train()
        order = torch.randperm(n, generator=generator) if cfg.shuffle else torch.arange(n)
        order = order.to(self.device)
        total_loss, correct = torch.zeros((), device=self.device), torch.zeros((), device=self.device)
        for start in range(0, n, cfg.batch_size):
            index = order[start : start + cfg.batch_size]
            xb, yb = x[index], y[index]
            out = self.model(xb)
            loss = self.loss_fn(out, yb)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total_loss += loss.detach() * len(index)
            if self.metric_fn is not None:
                correct += self.metric_fn(out.detach(), yb)
        accuracy = float(correct) / n if self.metric_fn is not None else float("nan")
        return float(total_loss) / n, accuracy

    def fit(self, train: Tensors, test: Tensors | None = None) -> History:
        """Train for config.epochs (or until a callback stops it); returns the per-epoch history."""
        cfg = self.config
        x, y = (t.to(self.device) for t in train)
        if test is not None:
            test = tuple(t.to(self.device) for t in test)
        generator = torch.Generator().manual_seed(cfg.seed)
        show = cfg.progress if cfg.progress is not None else os.environ.get("NNUTILS_PROGRESS", "1") != "0"
        bar = tqdm(range(cfg.epochs), desc=type(self.model).__name__, disable=not show, leave=False)
        self._call("on_train_begin")
        for epoch in bar:
            start = time.perf_counter()
            train_loss, train_acc = self.train_epoch(x, y, generator)
            seconds = time.perf_counter() - start
            self.epoch = epoch + 1
            test_loss = test_acc = float("nan")
            last = self.epoch == cfg.epochs
            if test is not None and (last or (cfg.eval_every and self.epoch % cfg.eval_every == 0)):
                result = evaluate(self.model, *test, loss=cfg.loss, metric=cfg.metric)
                test_loss, test_acc = result.loss, result.accuracy
            h = self.history
            for key, value in zip(
                ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"),
                (self.epoch, train_loss, train_acc, test_loss, test_acc, seconds),
            ):
                getattr(h, key).append(value)
            bar.set_postfix(loss=f"{train_loss:.4f}", acc=f"{train_acc:.3f}", refresh=False)
            self._call("on_epoch_end")
            if self.stop_training:
                break
        if test is not None and np.isnan(self.history.test_loss[-1]):
            result = evaluate(self.model, *test, loss=cfg.loss, metric=cfg.metric)
            self.history.test_loss[-1], self.history.test_acc[-1] = result.loss, result.accuracy
        bar.close()
        return self.history


def fit(
    model: nn.Module,
    train: Tensors,
    test: Tensors | None = None,
    config: TrainConfig | None = None,
    callbacks: Sequence[Callable] = (),
    **overrides,
) -> History:
    """Train a model on preloaded tensors; keyword overrides change single fields of the config."""
    config = replace(config or TrainConfig(), **overrides)
    return Trainer(model, config, callbacks).fit(train, test)


class StopAt:
    """Callback: stop once a history column reaches a value, e.g. ``StopAt("train_acc", 1.0)``."""

    def __init__(self, key: str = "train_acc", value: float = 1.0):
        self.key, self.value = key, value

    def on_epoch_end(self, trainer: Trainer) -> None:
        if trainer.history.last(self.key) >= self.value:
            trainer.stop_training = True


class Snapshots:
    """Callback: record ``capture(model)`` at chosen epochs (0 = before training); kept in ``.frames``."""

    def __init__(self, epochs: Sequence[int], capture: Callable[[nn.Module], object] | None = None):
        self.epochs = set(epochs)
        self.capture = capture or (lambda m: {k: v.detach().cpu().clone() for k, v in m.state_dict().items()})
        self.frames: dict[int, object] = {}

    def _take(self, trainer: Trainer) -> None:
        if trainer.epoch in self.epochs:
            self.frames[trainer.epoch] = self.capture(trainer.model)

    on_train_begin = _take
    on_epoch_end = _take


@dataclass
class Run:
    """A trained model with its history, final evaluation and training time."""

    name: str
    model: nn.Module
    history: History
    result: EvalResult
    seconds: float


def train_model(
    name: str,
    build: Callable[[], nn.Module],
    train: Tensors,
    test: Tensors,
    seed: int = 0,
    config: TrainConfig | None = None,
    callbacks: Sequence[Callable] = (),
    **overrides,
) -> Run:
    """Seed, build, train and evaluate one model; prints a one-line summary."""
    set_seed(seed)
    model = build()
    config = replace(config or TrainConfig(), seed=seed, **overrides)
    start = time.perf_counter()
    history = Trainer(model, config, callbacks).fit(train, test)
    seconds = time.perf_counter() - start
    result = evaluate(model, *test, loss=config.loss, metric=config.metric)
    print(
        f"{name}: {len(history)} epochs in {seconds:.1f} s, "
        f"test loss {result.loss:.4f}, test accuracy {100 * result.accuracy:.2f}%"
    )
    return Run(name, model, history, result, seconds)
