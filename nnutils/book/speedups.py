"""The speed-ups the book's heavy parts rest on, each measured against what it replaced in the same run: the
from-scratch convolution (chapter 4a), many small nets as one ensemble (chapter 2), and the conv nets' channels-last
layout, pooled before the activation (chapters 1 and 4b)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .. import models, prose, training
from ..layers import channels_first, pool_after_activation


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def timed(device: str, step: Callable[[], object]) -> float:
    """Seconds that ``step()`` takes: with one CPU thread, this process's CPU time (so that other programs' load
    does not count); with several threads or on a GPU, wall time."""
    clock = time.process_time if cpu_clock(device) else time.perf_counter
    _sync(device)
    start = clock()
    step()
    _sync(device)
    return clock() - start


def cpu_clock(device: str) -> bool:
    """Whether ``timed`` counts CPU time (one CPU thread) rather than wall time."""
    return not str(device).startswith("cuda") and torch.get_num_threads() == 1


def forward_flops(model: nn.Module, input_shape: tuple[int, ...] = (1, 1, 28, 28)) -> int:
    """Floating-point operations of one forward pass on an input of ``input_shape`` (``models.forward_flops``)."""
    if len(input_shape) < 2 or any(int(s) < 1 for s in input_shape):
        raise ValueError(f"input_shape must be a batch shape such as (1, 1, 28, 28), got {input_shape}.")
    return models.forward_flops(model, torch.zeros(input_shape))


def training_flops(model: nn.Module, input_shape: tuple[int, ...] = (1, 1, 28, 28)) -> int:
    """Operations of one training step: the forward pass plus a backward pass of about twice its cost."""
    return 3 * forward_flops(model, input_shape)


def time_convolutions(repeats: int = 5) -> dict[str, dict[str, float]]:
    """Chapter 4a's convolutions (``backprop.conv_timings``): milliseconds for this NumPy version, the previous one
    and ``torch.nn.functional.conv2d``, by shape."""
    from .. import backprop

    table = backprop.conv_timings(repeats=repeats)
    return {name: {k: float(v) for k, v in row.items()} for name, row in table.iterrows()}


def time_ensemble(nets: int = 40, epochs: int = 100) -> dict[str, float]:
    """``nets`` PolarNets (chapter 2, 10 hidden units, half batches) for ``epochs`` epochs: one after another through
    ``training.fit``, and as one ensemble (``ensemble.fit_models``); seconds for all of them."""
    from .. import ensemble, spirals

    x, y = spirals.two_spirals()
    options = dict(loss="bce", optimizer="adam", lr=0.01, weight_decay=1e-4, batch_size=97, epochs=epochs)
    options.update(progress=False, device="cpu")

    def build(seed: int) -> nn.Module:
        training.set_seed(seed)
        return spirals.PolarNet(10)

    separate = timed("cpu", lambda: [training.fit(build(s), (x, y), seed=s, **options) for s in range(nets)])
    models = [build(s) for s in range(nets)]
    together = timed("cpu", lambda: ensemble.fit_models(models, list(range(nets)), (x, y), **options))
    return {"nets": nets, "epochs": epochs, "separate": separate, "ensemble": together}


def time_conv_layouts(repeats: int = 10) -> dict[str, dict[str, float]]:
    """Milliseconds of one SGD training step (batch 64, random images) of NetConv, LeNet-5 and the 2 x 2 and 3 x 3
    small CNNs, as the workbook builds them (channels-last, pooled before the activation: "workbook") and as a
    student would ("plain": channels-first, ``nn.MaxPool2d`` after the activation); best of ``repeats``. ``flops``:
    the step's operations (``training_flops``)."""
    from ..convnets import LeNet5, SmallCNN
    from ..models import NetConv

    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    out = {}
    nets = {"NetConv": NetConv, "LeNet-5": LeNet5} | {f"small CNN {k}x{k}": lambda k=k: SmallCNN(k) for k in (2, 3)}
    for name, build in nets.items():
        row = {"flops": len(x) * training_flops(build())}
        for layout, model in (("workbook", build()), ("plain", pool_after_activation(channels_first(build())))):
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

            def step(model=model, optimizer=optimizer) -> None:
                optimizer.zero_grad()
                F.nll_loss(model(x), y).backward()
                optimizer.step()

            step()
            row[layout] = 1000 * min(timed("cpu", step) for _ in range(repeats))
        out[name] = row
    return out


def conv_step_rate(entry: dict, name: str) -> float:
    """FLOP/s of one training step of a conv net as the workbook builds it, from a benchmark entry's
    ``conv_layouts`` (``time_conv_layouts``)."""
    row = entry["conv_layouts"][name]
    return row["flops"] / (row["workbook"] / 1000)


def conv_rates_sentence(entry: dict) -> str | None:
    """How fast PyTorch's training steps of the conv nets ran against the matrix-multiply rate, in a benchmark
    entry (None if it measured no rates)."""
    layouts = {n: row for n, row in entry.get("conv_layouts", {}).items() if {"flops", "workbook"} <= set(row)}
    matmul = entry.get("matmul_flops_per_s")
    if not layouts or not matmul:
        return None
    rates = {name: conv_step_rate(entry, name) for name in layouts}
    listed = prose.listing([f"{name} {rate / 1e9:.0f} GFLOP/s ({rate / matmul:.0%})" for name, rate in rates.items()])
    slowest = min(rates, key=rates.get)
    threads = entry.get("threads")
    run = entry.get("date", "undated") + (f", {prose.count(threads, 'thread')}" if threads else "")
    return (
        f"How fast PyTorch's training steps of the conv nets run (64 images a step, the nets as the workbook builds"
        f" them), from the *Benchmarks* run ({run}), against that machine's matrix-multiply rate of"
        f" {matmul / 1e9:.0f} GFLOP/s: {listed}. Time spent in such steps sits up to"
        f" {matmul / rates[slowest]:.0f} times above a floor counted at the matrix-multiply rate ({slowest})."
    )
