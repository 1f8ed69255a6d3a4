"""Benchmarks for the book's appendix: the training loop against the reports' style of loop, FLOP rates, NumPy vs
PyTorch, and the notebooks' running times.

    python -m nnutils.book.bench [--examples 10000] [--epochs 2] [--threads N]

writes ``book/benchmarks.json`` (one entry per device, merged with earlier runs), which the appendix page renders.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .. import data, training
from ..files import atomic_write
from ..models import MLP, NetConv, NetFull, NetLin
from .speedups import (
    conv_step_rate,
    cpu_clock,
    time_conv_layouts,
    time_convolutions,
    time_ensemble,
    timed,
    training_flops,
)

BOOK = Path(__file__).resolve().parents[2] / "book"
MODELS: dict[str, Callable[[], nn.Module]] = {"NetLin": NetLin, "NetFull": NetFull, "NetConv": NetConv}
# The 5x goal over the reports' loop is retired: fit is within a few per cent of a bare loop over preloaded tensors,
# so no loop could reach it; the goals that count are the wall times a reader waits (nnutils.book.report.TIME_GOALS).
CONV_SLACK = 1.10  # NetConv: fit at most 10% slower than a bare loop over preloaded tensors


def matmul_rate(n: int = 1024, repeats: int = 5, device: str = "cpu", threads: int | None = None) -> float:
    """The machine's float32 matrix-multiply rate in FLOP/s (best of ``repeats`` n x n products), with ``threads``
    torch threads (default: as set now)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
        best = min(timed(device, lambda: a @ b) for _ in range(repeats + 1))  # (the first product warms up)
    finally:
        torch.set_num_threads(before)
    return 2 * n**3 / best


def copy_rate(megabytes: int = 16, repeats: int = 5, device: str = "cpu", threads: int | None = None) -> float:
    """The machine's memory rate in bytes/s: the best of ``repeats`` copies of a float32 array of ``megabytes``
    (more than one core's caches) into another, read and write both counted, with ``threads`` torch threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        source = torch.randn(megabytes * 2**18, device=device)
        target = torch.empty_like(source)
        best = min(timed(device, lambda: target.copy_(source)) for _ in range(repeats + 1))
    finally:
        torch.set_num_threads(before)
    return 2 * source.numel() * source.element_size() / best


class ReportStyleDataset(torch.utils.data.Dataset):
    """The reports' way: each example turned into a normalised float tensor one at a time, when it is asked for."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = torch.from_numpy(self.images[i].astype(np.float32) / 255.0).unsqueeze(0)
        return (x - 0.5) / 0.5, int(self.labels[i])


def reference_epoch(model: nn.Module, loader: torch.utils.data.DataLoader, optimizer, device: str) -> None:
    """One epoch of the reports' loop (batches from a DataLoader, moved to the device one by one)."""
    model.train()
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(xb), yb)
        loss.backward()
        optimizer.step()


def bare_epoch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, optimizer, batch_size: int) -> None:
    """One epoch of the barest loop over preloaded tensors: shuffled index slices, no bookkeeping."""
    model.train()
    order = torch.randperm(len(y), device=x.device)
    for i in range(0, len(y), batch_size):
        index = order[i : i + batch_size]
        optimizer.zero_grad()
        F.nll_loss(model(x[index]), y[index]).backward()
        optimizer.step()


def _sgd(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)


def time_loops(name: str, images: np.ndarray, labels: np.ndarray, epochs: int, device: str) -> dict[str, float]:
    """Best seconds per epoch of the fit loop, the reference loop and the bare loop for one model; the three
    alternate epoch by epoch, so that a change in the machine's load hits them alike."""
    x = torch.from_numpy(images).unsqueeze(1).float().div(255.0).sub(0.5).div(0.5)  # preloaded once, as fit wants
    y = torch.from_numpy(labels)
    loader = torch.utils.data.DataLoader(ReportStyleDataset(images, labels), batch_size=64, shuffle=True)
    models = {}
    for loop in ("fit", "reference", "bare"):
        training.set_seed(0)
        models[loop] = MODELS[name]().to(device)
    opt_ref, opt_bare, xd, yd = _sgd(models["reference"]), _sgd(models["bare"]), x.to(device), y.to(device)
    fit_options = {"lr": 0.01, "momentum": 0.5, "epochs": 1, "device": device, "progress": False}
    steps = {
        "fit": lambda: training.fit(models["fit"], (x, y), **fit_options),
        "reference": lambda: reference_epoch(models["reference"], loader, opt_ref, device),
        "bare": lambda: bare_epoch(models["bare"], xd, yd, opt_bare, 64),
    }
    times: dict[str, list[float]] = {loop: [] for loop in steps}
    for _ in range(epochs):
        for loop, step in steps.items():
            times[loop].append(timed(device, step))
    return {loop: min(values) for loop, values in times.items()}


def time_scratch_vs_torch(x: np.ndarray, y: np.ndarray, epochs: int) -> dict[str, float]:
    """CPU seconds per epoch of chapter 4's NumPy MLP (784-64-10, sigmoid) and the same MLP trained by ``fit``."""
    from .. import scratch

    net = scratch.mlp((784, 64, 10), act="sigmoid", seed=0, dtype=np.float32)
    training.set_seed(0)
    model, xt, yt = MLP(784, (64,), 10, act="sigmoid"), torch.from_numpy(x), torch.from_numpy(y)
    numpy_times, torch_times = [], []
    for _ in range(epochs):
        numpy_times.append(timed("cpu", lambda: scratch.fit(net, (x, y), lr=0.5, batch_size=64, epochs=1, seed=0)))
        torch_times.append(
            timed("cpu", lambda: training.fit(model, (xt, yt), lr=0.5, epochs=1, device="cpu", progress=False))
        )
    return {"numpy": min(numpy_times), "torch": min(torch_times)}


def run(examples: int = 10_000, epochs: int = 2, device: str = "auto") -> dict:
    """Every measurement on one device; times are per epoch of ``examples`` KMNIST training images."""
    if examples < 64 or epochs < 1:
        raise ValueError(f"Need examples >= 64 and epochs >= 1, got {examples} and {epochs}.")
    device = str(training.get_device(device))
    kmnist = data.load("KMNIST", "train")
    images, labels = kmnist.images[:examples].numpy(), kmnist.labels[:examples].numpy()
    entry: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores"
        + (f", {torch.cuda.get_device_name()}" if device.startswith("cuda") else ""),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "examples": len(labels),
        "models": {},
    }
    for name in MODELS:
        loops = time_loops(name, images, labels, epochs, device)
        print(f"{name}: " + ", ".join(f"{k} {v:.2f} s" for k, v in loops.items()), flush=True)
        entry["models"][name] = loops
    conv_ops = training_flops(NetConv()) * len(labels)
    entry["netconv_flops_per_s"] = conv_ops / entry["models"]["NetConv"]["fit"]
    entry["clock"] = "CPU time of the benchmark process" if cpu_clock(device) else "wall time"
    entry["matmul_flops_per_s"] = matmul_rate(device=device)
    if device == "cpu":
        x = kmnist.tensors(normalize=False)[0][:examples].numpy()
        entry["scratch_mlp"] = time_scratch_vs_torch(x, labels, epochs)
        entry["numpy_conv"] = time_convolutions()
        entry["ensemble"] = time_ensemble()
        entry["conv_layouts"] = time_conv_layouts()
    return {device.split(":")[0]: entry}


def _seconds(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.2f} s"


def _cell(entry: dict | None, fn: Callable[[dict], str]) -> str:
    try:
        return fn(entry) if entry else "not measured"
    except KeyError:
        return "not measured"


def speedup(entry: dict, name: str) -> float:
    """How many times faster ``fit`` ran an epoch than the reference loop."""
    return entry["models"][name]["reference"] / entry["models"][name]["fit"]


def conv_overhead(entry: dict) -> float:
    """NetConv's epoch time with ``fit`` over the bare loop's (1.0 = equal)."""
    return entry["models"]["NetConv"]["fit"] / entry["models"]["NetConv"]["bare"]


def verdicts(entry: dict) -> dict[str, str]:
    """For the one loop goal left (NetConv's fit within 10% of the bare loop): "met", or by how much it was missed."""
    over = conv_overhead(entry)
    return {"NetConv": "met" if over <= CONV_SLACK else f"missed by {100 * (over - CONV_SLACK):.0f} percentage points"}


def table(results: dict) -> pd.DataFrame:
    """One row per measurement, a column per device ("not measured" where that device has no run), goal, verdict."""
    cpu, gpu = results.get("cpu"), results.get("cuda")
    judged = verdicts(cpu) if cpu else {}
    rows = []

    def add(measure: str, fn: Callable[[dict], str], goal: str = "", verdict: str = "") -> None:
        row = {"measure": measure, "CPU": _cell(cpu, fn), "GPU": _cell(gpu, fn)}
        rows.append({**row, "goal": goal, "CPU verdict": verdict})

    for name in MODELS:
        for loop in ("fit", "reference", "bare"):
            add(f"{name}: s/epoch, {loop} loop", lambda e, n=name, k=loop: _seconds(e["models"][n][k]))
        add(f"{name}: fit speed-up over reference", lambda e, n=name: f"{speedup(e, n):.1f}x")
    add(
        "NetConv: fit time over bare loop",
        lambda e: f"{100 * (conv_overhead(e) - 1):+.0f}%",
        "<= +10%",
        judged.get("NetConv", ""),
    )
    add("NetConv training rate (GFLOP/s)", lambda e: f"{e['netconv_flops_per_s'] / 1e9:.1f}")
    add("Matrix-multiply rate (GFLOP/s)", lambda e: f"{e['matmul_flops_per_s'] / 1e9:.1f}")
    add("NetConv rate / matmul rate", lambda e: f"{e['netconv_flops_per_s'] / e['matmul_flops_per_s']:.0%}")
    add("NumPy MLP 784-64-10: s/epoch", lambda e: _seconds(e["scratch_mlp"]["numpy"]))
    add("Same MLP in PyTorch (fit): s/epoch", lambda e: _seconds(e["scratch_mlp"]["torch"]))
    for shape in (cpu or {}).get("numpy_conv", {}):
        add(f"NumPy conv, {shape}: ms", lambda e, k=shape: f"{e['numpy_conv'][k]['NumPy']:.2f}")
        add(
            f"NumPy conv, {shape}: speed-up over the previous version",
            lambda e, k=shape: f"{e['numpy_conv'][k]['previous NumPy'] / e['numpy_conv'][k]['NumPy']:.1f}x",
        )
        add(
            f"NumPy conv, {shape}: time against torch conv2d",
            lambda e, k=shape: f"{e['numpy_conv'][k]['NumPy'] / e['numpy_conv'][k]['PyTorch']:.2f}x",
        )
    add("PolarNets one after another: s", lambda e: _seconds(e["ensemble"]["separate"]))
    add("The same PolarNets as one ensemble: s", lambda e: _seconds(e["ensemble"]["ensemble"]))
    add(
        "Ensemble speed-up over separate runs",
        lambda e: (
            f"{e['ensemble']['separate'] / e['ensemble']['ensemble']:.1f}x "
            f"({e['ensemble']['nets']} nets, {e['ensemble']['epochs']} epochs)"
        ),
    )
    for name in (cpu or {}).get("conv_layouts", {}):
        add(
            f"{name} training step, channels-last, pooled first: ms (speed-up)",
            lambda e, n=name: (
                f"{e['conv_layouts'][n]['workbook']:.1f} "
                f"({e['conv_layouts'][n]['plain'] / e['conv_layouts'][n]['workbook']:.1f}x)"
            ),
        )
        add(
            f"{name} training step: GFLOP/s (share of the matrix-multiply rate)",
            lambda e, n=name: (
                f"{conv_step_rate(e, n) / 1e9:.1f} ({conv_step_rate(e, n) / e['matmul_flops_per_s']:.0%})"
            ),
        )
    return pd.DataFrame(rows).set_index("measure")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnutils.book.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10_000, help="KMNIST training images per epoch")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per loop (the fastest counts)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as in the sweeps)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default=str(BOOK / "benchmarks.json"))
    args = parser.parse_args(argv)
    if args.threads < 1:
        raise ValueError(f"--threads must be at least 1, got {args.threads}.")
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    results = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}  # earlier devices' runs
    results.update(run(args.examples, args.epochs, args.device))
    with atomic_write(out) as f:  # a temporary file renamed over the old one: never half written
        f.write(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(table(results).to_string())
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
