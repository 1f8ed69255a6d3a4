"""Autoencoders for 28 x 28 images, their codes as features, and input noise for denoising.

Both models take images in [0, 1] of shape (N, 1, 28, 28), squeeze each into ``code_size`` numbers with an
``encoder`` and rebuild the image with a ``decoder`` ending in a sigmoid. Train them with ``training.fit`` and
``loss="mse"`` on pairs (x, x), or (noisy x, clean x) for a denoising autoencoder. ``classify`` trains the
chapter's small classifier on a few labelled codes (or any features) and follows its validation accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
from torch import nn

from . import data
from .history import History, Run
from .layers import channels_last
from .models import MLP, activation
from .training import predict, train_model

IMAGE_SHAPE = (1, 28, 28)
NOISE_KINDS = ("gaussian", "masking")


def _check_code_size(code_size: int) -> None:
    if not isinstance(code_size, int) or code_size < 1:
        raise ValueError(f"code_size must be a positive integer, not {code_size!r}.")


class DenseAutoencoder(nn.Module):
    """784 -> [hidden...] -> code -> [hidden reversed...] -> 784, fully connected; the default is 784-32-784."""

    def __init__(self, code_size: int = 32, hidden: Sequence[int] = (), act: str = "relu"):
        super().__init__()
        _check_code_size(code_size)
        n_pixels = IMAGE_SHAPE[1] * IMAGE_SHAPE[2]
        sizes = [n_pixels, *hidden, code_size]
        encoder: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(sizes[:-1], sizes[1:]):
            encoder += [nn.Linear(a, b), activation(act)]
        decoder: list[nn.Module] = []
        back = sizes[::-1]
        for a, b in zip(back[:-2], back[1:-1]):
            decoder += [nn.Linear(a, b), activation(act)]
        decoder += [nn.Linear(back[-2], n_pixels), nn.Sigmoid(), nn.Unflatten(1, IMAGE_SHAPE)]
        self.encoder, self.decoder = nn.Sequential(*encoder), nn.Sequential(*decoder)
        self.code_size = code_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))

    def encoder_weights(self) -> torch.Tensor:
        """The first layer's weight vectors as images (units, 28, 28): the pixel pattern each unit responds to."""
        first = self.encoder[1].weight.detach().cpu()
        return first.reshape(len(first), IMAGE_SHAPE[1], IMAGE_SHAPE[2])


class ConvAutoencoder(nn.Module):
    """Two stride-2 convolutions (28 -> 14 -> 7) and a linear layer to the code; the decoder mirrors it."""

    def __init__(self, code_size: int = 32, channels: tuple[int, int] = (16, 32), act: str = "relu"):
        super().__init__()
        _check_code_size(code_size)
        c1, c2 = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1),  # 28 -> 14
            activation(act),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1),  # 14 -> 7
            activation(act),
            nn.Flatten(),
            nn.Linear(c2 * 7 * 7, code_size),
            activation(act),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_size, c2 * 7 * 7),
            activation(act),
            nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1),  # 7 -> 14
            activation(act),
            nn.ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1),  # 14 -> 28
            nn.Sigmoid(),
        )
        self.code_size = code_size
        channels_last(self)  # a training step 10% faster on the CPU (nnutils.layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def encode(autoencoder: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The codes (N, code_size) of images x (N, 1, 28, 28) from a trained autoencoder's encoder."""
    encoder = getattr(autoencoder, "encoder", None)
    if not isinstance(encoder, nn.Module):
        name = type(autoencoder).__name__
        raise ValueError(f"{name} has no 'encoder' module: pass a DenseAutoencoder or a ConvAutoencoder.")
    return predict(encoder, x, batch_size=batch_size)


def add_noise(x: torch.Tensor, level: float = 0.5, kind: str = "gaussian", seed: int = 0) -> torch.Tensor:
    """A corrupted copy of images in [0, 1], clipped back to [0, 1].

    ``gaussian``: add normal noise with standard deviation ``level``; ``masking``: set a random fraction
    ``level`` of the pixels to 0. The same seed gives the same noise.
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"Unknown noise kind {kind!r}: choose one of {', '.join(NOISE_KINDS)}.")
    if level < 0 or (kind == "masking" and level > 1):
        raise ValueError(f"level must be >= 0 (and <= 1 for masking), not {level}.")
    generator = torch.Generator().manual_seed(seed)
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        return (x + level * noise).clamp(0.0, 1.0)
    keep = torch.rand(x.shape, generator=generator).to(x.device) >= level
    return x * keep


def mse(reconstruction: torch.Tensor, target: torch.Tensor) -> float:
    """Mean squared error per pixel between a reconstruction and its target (same shape)."""
    if reconstruction.shape != target.shape:
        raise ValueError(f"Shapes differ: {tuple(reconstruction.shape)} against {tuple(target.shape)}.")
    return float(((reconstruction - target) ** 2).mean())


def classify(
    x: torch.Tensor, y: torch.Tensor, hidden: Sequence[int] = (100, 64), *, n_val: int, seed: int = 0, **options
) -> Run:
    """An MLP with ReLU hidden layers (``hidden=()``: logistic regression) trained with Adam on features x (N, D),
    validated on a seeded random n_val of the N examples; the run's history has ``val_acc`` per epoch."""
    train, val = data.train_val_split(x, y, n_val, seed=seed)
    options.setdefault("optimizer", "adam")
    n_features = x.shape[1]
    return train_model(
        f"MLP {n_features}-{'-'.join(map(str, hidden))}{'-' if hidden else ''}10",
        lambda: MLP(n_features, hidden=hidden, act="relu"),
        train,
        val,
        seed=seed,
        quiet=True,
        **options,
    )


def classify_runs(
    x: torch.Tensor, y: torch.Tensor, hidden: Sequence[int], repeats: int, *, n_val: int, seed: int = 0, **options
) -> list[Run]:
    """``classify`` on ``repeats`` random splits and initialisations (seeds seed, seed + 1, ...), one run each."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}.")
    return [classify(x, y, hidden, n_val=n_val, seed=seed + r, **options) for r in range(repeats)]


def accuracy_table(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: the validation accuracy after the last epoch and at the best epoch."""
    rows = [(run.history.last("val_acc"), max(run.history.val_acc)) for run in runs]
    return pd.DataFrame(rows, columns=["last", "best"])


def classify_repeated(
    x: torch.Tensor, y: torch.Tensor, hidden: Sequence[int], repeats: int, *, n_val: int, seed: int = 0, **options
) -> pd.DataFrame:
    """``accuracy_table`` of ``classify_runs``: one row per repeat, last and best validation accuracy."""
    return accuracy_table(classify_runs(x, y, hidden, repeats, n_val=n_val, seed=seed, **options))


def mean_history(runs: Sequence[Run]) -> History:
    """The per-epoch mean over runs of equal length of every column they share (for ``plotting.plot_history``)."""
    if not runs:
        raise ValueError("mean_history needs at least one run.")
    lengths = {len(run.history) for run in runs}
    if len(lengths) > 1:
        raise ValueError(f"The runs have different numbers of epochs ({sorted(lengths)}): they cannot be averaged.")
    shared = [c for c in runs[0].history.columns if all(c in run.history for run in runs)]
    mean = History()
    for i in range(lengths.pop()):
        mean.append(**{c: sum(float(getattr(run.history, c)[i]) for run in runs) / len(runs) for c in shared})
    return mean


def constant_image_mse(x_train: torch.Tensor, x_test: torch.Tensor) -> dict[str, float]:
    """The errors to beat: every test image drawn as the average training image, or as a blank (all 0) image."""
    average = x_train.mean(dim=0, keepdim=True).expand_as(x_test)
    return {"average image": mse(average, x_test), "blank image": mse(torch.zeros_like(x_test), x_test)}


def label_separation(points: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of the spread of points (N, D) that lies between the class centres: 1 when each class is a single
    point, near 0 when the classes are mixed."""
    points = torch.as_tensor(points, dtype=torch.float64).reshape(len(points), -1)
    labels = torch.as_tensor(labels)
    if len(labels) != len(points):
        raise ValueError(f"{len(points)} points but {len(labels)} labels.")
    total = ((points - points.mean(dim=0)) ** 2).sum()
    if total == 0:
        raise ValueError("The points do not vary, so there is no spread to share out.")
    within = sum(((points[labels == c] - points[labels == c].mean(dim=0)) ** 2).sum() for c in labels.unique())
    return float(1 - within / total)
