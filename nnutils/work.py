"""The arithmetic a notebook's training does, tallied as it runs, so that the book can show each notebook's floor.

The training loops add the floating-point operations of every epoch (``add``); ``nnutils.results`` writes the total
into the notebook's results file, and the *Running times* page divides it by the machine's matrix-multiply rate.
A multiply-add counts as 2; a training step counts as three forward passes (forward, and a backward of about
twice its cost); activations, pooling and optimiser updates are left out.
"""

from __future__ import annotations

_TALLY = {"flops": 0.0, "examples": 0}


def add(flops: float, examples: int = 0) -> None:
    """Add the operations of some training or evaluation (and how many examples went through)."""
    _TALLY["flops"] += float(flops)
    _TALLY["examples"] += int(examples)


def epoch(forward_flops: float, n_train: int, n_eval: int = 0) -> None:
    """One training epoch over ``n_train`` examples and evaluations of ``n_eval`` examples."""
    add(3 * forward_flops * n_train + forward_flops * n_eval, n_train + n_eval)


def total() -> dict[str, float]:
    """The tally so far: ``{"flops": ..., "examples": ...}``."""
    return dict(_TALLY)


def reset() -> None:
    """Start counting from zero (a test, or a new notebook in the same process)."""
    _TALLY.update(flops=0.0, examples=0)
