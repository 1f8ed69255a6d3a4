"""A trained model's weights on disk: its ``state_dict`` written atomically, and read back safely (tensors only).

Typical use::

    path = save_weights(model, "small_cnn.pt")
    model = load_weights(SmallCNN(3), path)  # in evaluation mode
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from torch import nn

from .files import atomic_write


def save_weights(model: nn.Module, path: str | Path) -> Path:
    """Write the model's state_dict to path atomically (a temporary file in the same folder, then a rename)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_write(path, "wb") as f:
        torch.save(state, f)
    return Path(path)


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
