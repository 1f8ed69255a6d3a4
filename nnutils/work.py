"""The work a notebook's training does, tallied as it runs, so that the book can show each notebook's floor.

The training loops add the floating-point operations and the bytes of every epoch (``epoch``); ``nnutils.results``
writes the totals into the notebook's results file, and the *Running times* page divides them by the machine's
matrix-multiply rate and its copy rate. A multiply-add counts as 2; a training step counts as three forward passes
(forward, and a backward of about twice its cost). The bytes are the data passes a step cannot avoid: every layer's
output written, read back and its gradient written (three passes a training example, one an evaluated example), and
the weights read twice, their gradient written, and the update reading both and writing the weights (six passes a
step). Caches, copies and the optimiser's own state are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIVATION_PASSES = 3  # per training example: each layer's output written, read back, its gradient written
WEIGHT_PASSES = 6  # per step: weights read twice, gradient written, update reads both and writes the weights

_TALLY = {"flops": 0.0, "bytes": 0.0, "examples": 0}


@dataclass(frozen=True)
class Cost:
    """What one forward pass of a model on some examples does: its operations, the bytes of all its layers' outputs,
    and the bytes of its weights (``models.forward_cost``, ``scratch.Network.forward_cost``)."""

    flops: float = 0.0
    activation_bytes: float = 0.0
    weight_bytes: float = 0.0


def add(flops: float, examples: int = 0, moved: float = 0.0) -> None:
    """Add the operations (and the bytes ``moved``) of some training or evaluation, and how many examples it saw."""
    _TALLY["flops"] += float(flops)
    _TALLY["bytes"] += float(moved)
    _TALLY["examples"] += int(examples)


def epoch(cost: Cost, n_train: int, n_eval: int = 0, steps: int = 0) -> None:
    """One training epoch of ``steps`` steps over ``n_train`` examples, and evaluations of ``n_eval`` examples;
    ``cost`` is the model's forward pass on one example."""
    moved = cost.activation_bytes * (ACTIVATION_PASSES * n_train + n_eval) + WEIGHT_PASSES * cost.weight_bytes * steps
    add(3 * cost.flops * n_train + cost.flops * n_eval, n_train + n_eval, moved)


def steps_of(n: int, batch_size: int) -> int:
    """How many steps an epoch of ``n`` examples takes in batches of ``batch_size`` (the last one may be short)."""
    return -(-n // batch_size)


def total() -> dict[str, float]:
    """The tally so far: ``{"flops": ..., "bytes": ..., "examples": ...}``."""
    return dict(_TALLY)


def reset() -> None:
    """Start counting from zero (a test, or a new notebook in the same process)."""
    _TALLY.update(flops=0.0, bytes=0.0, examples=0)
