"""The workbook's one training loop: preloaded tensors, batches by index, callbacks, ``device="auto"``.

Typical use::

    set_seed(0)
    model = NetConv()
    history = fit(model, (x_train, y_train), val=(x_val, y_val), lr=0.01, momentum=0.5, epochs=10)
    result = evaluate(model, x_test, y_test)

``val`` and ``test`` are both watched every ``eval_every`` epochs and recorded under their own names
(``val_acc``, ``test_acc``): the history says which split a number comes from. A chapter that follows the test
set during training, as the reports did, passes ``test=``.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import work
from .history import EvalResult, History, Run, call_callbacks  # noqa: F401 (re-exported)
from .models import device_of, forward_cost

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
    eval_every: int = 1  # evaluate val / test every k epochs (and after the last); 0 = only at the end
    progress: bool | None = None  # None: on unless the environment sets NNUTILS_PROGRESS=0

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}: choose one of {', '.join(OPTIMIZERS)}.")
        if isinstance(self.loss, str) and self.loss not in LOSSES:
            raise ValueError(f"Unknown loss {self.loss!r}: choose one of {', '.join(LOSSES)} or pass a function.")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("epochs and batch_size must be at least 1 and lr positive.")


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
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """The model's outputs for x, in evaluation mode, batch by batch (returned on x's device). Batches of 256 keep
    a conv net's feature maps in the CPU's cache: NetConv on 10,000 images takes 2.3 s, not 4.8 with 1,000."""
    model.eval()
    device = device_of(model)
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


def make_optimizer(params: Iterable[torch.Tensor], config: TrainConfig) -> torch.optim.Optimizer:
    """The config's optimizer (SGD with its momentum, or Adam) with its rate and weight decay, fused (the whole
    update in one kernel: the same formula, and for a small net the step takes half the time it would)."""
    params = list(params)
    fused = bool(params) and all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    opt = torch.optim.SGD if config.optimizer == "sgd" else torch.optim.Adam
    extra = {"momentum": config.momentum} if config.optimizer == "sgd" else {}
    return opt(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused or None, **extra)


class Trainer:
    """Runs the loop; callbacks receive the trainer after every epoch and may set ``stop_training``."""

    def __init__(self, model: nn.Module, config: TrainConfig, callbacks: Sequence[Callable] = ()):
        self.config, self.callbacks = config, list(callbacks)
        self.device = get_device(config.device)
        self.model = model.to(self.device)
        self.loss_fn, self.metric_fn = _loss_and_metric(config.loss, config.metric)
        self.optimizer = make_optimizer(self.model.parameters(), config)
        self.history = History()
        self.epoch = 0
        self.stop_training = False

    def _call(self, hook: str) -> None:
        call_callbacks(self.callbacks, hook, self)

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

    def _evaluate(self, sets: dict[str, Tensors]) -> dict[str, float]:
        row = {}
        for split, (x, y) in sets.items():
            result = evaluate(self.model, x, y, loss=self.config.loss, metric=self.config.metric)
            row[f"{split}_loss"], row[f"{split}_acc"] = result.loss, result.accuracy
        return row

    def fit(self, train: Tensors, val: Tensors | None = None, test: Tensors | None = None) -> History:
        """Train for config.epochs (or until a callback stops it); returns the per-epoch history."""
        cfg = self.config
        x, y = (t.to(self.device) for t in train)
        held_out = {k: tuple(t.to(self.device) for t in v) for k, v in (("val", val), ("test", test)) if v is not None}
        generator = torch.Generator().manual_seed(cfg.seed)
        show = cfg.progress if cfg.progress is not None else os.environ.get("NNUTILS_PROGRESS", "1") != "0"
        bar = tqdm(range(cfg.epochs), desc=type(self.model).__name__, disable=not show, leave=False)
        per_example = forward_cost(self.model, x[:1]) if len(x) else work.Cost()  # for the notebook's work tally
        steps = work.steps_of(len(y), cfg.batch_size)
        n_held_out = sum(len(v[1]) for v in held_out.values())
        self._call("on_train_begin")
        for epoch in bar:
            start = time.perf_counter()
            train_loss, train_acc = self.train_epoch(x, y, generator)
            seconds = time.perf_counter() - start
            self.epoch = epoch + 1
            due = self.epoch == cfg.epochs or (cfg.eval_every and self.epoch % cfg.eval_every == 0)
            row = self._evaluate(held_out) if due else {}
            work.epoch(per_example, len(y), n_held_out if due else 0, steps)
            self.history.append(epoch=self.epoch, train_loss=train_loss, train_acc=train_acc, **row, seconds=seconds)
            bar.set_postfix(loss=f"{train_loss:.4f}", acc=f"{train_acc:.3f}", refresh=False)
            self._call("on_epoch_end")
            if self.stop_training:
                break
        first_loss = f"{next(iter(held_out), '')}_loss"
        if held_out and (first_loss not in self.history or np.isnan(self.history.last(first_loss))):  # between evals
            for key, value in self._evaluate(held_out).items():
                self.history.put(key, value)
        bar.close()
        return self.history


def fit(
    model: nn.Module,
    train: Tensors,
    val: Tensors | None = None,
    *,
    test: Tensors | None = None,
    config: TrainConfig | None = None,
    callbacks: Sequence[Callable] = (),
    **overrides,
) -> History:
    """Train a model on preloaded tensors; keyword overrides change single fields of the config."""
    config = replace(config or TrainConfig(), **overrides)
    return Trainer(model, config, callbacks).fit(train, val, test)


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


class TrackAccuracy:
    """Callback: the accuracy on (x, y) in evaluation mode (no dropout) after every epoch, recorded in the history
    as ``<name>`` (default ``train_eval_acc``) and kept in ``.values``."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, name: str = "train_eval_acc"):
        self.x, self.y, self.name = x, y, name
        self.values: list[float] = []

    def on_epoch_end(self, trainer: Trainer) -> None:
        value = evaluate(trainer.model, self.x.to(trainer.device), self.y.to(trainer.device)).accuracy
        self.values.append(value)
        trainer.history.put(self.name, value)


class DecayLR:
    """Callback: multiply the learning rate by ``factor`` after every epoch (exponential decay)."""

    def __init__(self, factor: float):
        if not 0 < factor <= 1:
            raise ValueError(f"The decay factor must be in (0, 1], got {factor}.")
        self.factor = factor

    def on_epoch_end(self, trainer: Trainer) -> None:
        for group in trainer.optimizer.param_groups:
            group["lr"] *= self.factor


def train_model(
    name: str,
    build: Callable[[], nn.Module],
    train: Tensors,
    val: Tensors | None = None,
    *,
    test: Tensors | None = None,
    seed: int = 0,
    config: TrainConfig | None = None,
    callbacks: Sequence[Callable] = (),
    quiet: bool = False,
    **overrides,
) -> Run:
    """Seed, build, train and evaluate one model (on test, else val); prints a one-line summary."""
    set_seed(seed)
    model = build()
    config = replace(config or TrainConfig(), seed=seed, **overrides)
    start = time.perf_counter()
    history = Trainer(model, config, callbacks).fit(train, val, test)
    seconds = time.perf_counter() - start
    final, split = (test, "test") if test is not None else (val, "val")
    result = evaluate(model, *final, loss=config.loss, metric=config.metric) if final is not None else None
    if not quiet:
        score = f", {split} loss {result.loss:.4f}, {split} accuracy {100 * result.accuracy:.2f}%" if result else ""
        print(f"{name}: {len(history)} epochs in {seconds:.1f} s{score}")
    return Run(name, model, history, result, seconds, {"split": split if result else None})
