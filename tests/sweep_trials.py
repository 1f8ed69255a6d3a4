"""A seeded trial for tests/test_sweep.py, in its own module so that joblib and Dask workers can import it."""

from __future__ import annotations

import torch

from nnutils.models import MLP
from nnutils.training import fit, set_seed


def tiny_training(seed: int, hidden: int) -> float:
    """Train a small MLP on seeded random data for a few epochs; the final training loss."""
    set_seed(seed)
    x, y = torch.randn(64, 1, 4, 4), torch.randint(0, 3, (64,))
    model = MLP(16, (hidden,), 3, act="tanh")
    return fit(model, (x, y), lr=0.1, epochs=3, batch_size=16, seed=seed, device="cpu", progress=False).last(
        "train_loss"
    )
