"""Datasets from their standard IDX files: found offline, in a cache, or downloaded and verified.

Where a dataset is looked for, in order: the folder named by ``NNUTILS_DATA`` (layout
``<dir>/<NAME>/raw/<file>[.gz]``), the user cache (``$XDG_CACHE_HOME/nnutils`` or
``~/.cache/nnutils``), then a download (nnutils.downloads): from a course's own copy named by ``NNUTILS_MIRROR``,
then from every public mirror, checked by md5.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import downloads

ENV_VAR = "NNUTILS_DATA"

KMNIST_CLASSES = ["お o", "き ki", "す su", "つ tsu", "な na", "は ha", "ま ma", "や ya", "れ re", "を wo"]
MNIST_CLASSES = [str(d) for d in range(10)]

# Official files and their md5 checksums (of the .gz files), with every known public mirror. KMNIST: its publisher
# (the rois-codh/kmnist download script's host), then the copy the Swift for TensorFlow models put on Google Cloud
# Storage when that host went offline (tensorflow/swift-models PR 450); the checksums vouch for any copy.
DATASETS: dict[str, dict] = {
    "KMNIST": {
        "classes": KMNIST_CLASSES,
        "mirrors": [
            "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
            "https://storage.googleapis.com/s4tf-hosted-binaries/datasets/KMNIST/",
        ],
        "files": {
            "train-images-idx3-ubyte": "bdb82020997e1d708af4cf47b453dcf7",
            "train-labels-idx1-ubyte": "e144d726b3acfaa3e44228e80efcd344",
            "t10k-images-idx3-ubyte": "5c965bf0a639b31b8f53240b1b52f4d7",
            "t10k-labels-idx1-ubyte": "7320c461ea6c1c855c0b718fb2a4b134",
        },
    },
    "MNIST": {
        "classes": MNIST_CLASSES,
        "mirrors": [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ],
        "files": {
            "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    },
}
SPLITS = {"train": "train", "test": "t10k"}
IMAGE_SHAPE = (28, 28)
# The offline mirror beside the project (``../shared/data``), named in the "not found" message when it exists.
PROJECT_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataError(RuntimeError):
    """A dataset could not be found, downloaded or read; the message says which and where."""


@dataclass(frozen=True)
class ImageSet:
    """One split of an image dataset: uint8 images (N, 28, 28), int64 labels (N,) and provenance."""

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    source: Path
    official: bool

    def __len__(self) -> int:
        return len(self.labels)

    def describe(self) -> str:
        """One line: how many examples, from where, and whether the files are the official ones."""
        kind = "official files" if self.official else "NOT the official files (a subset or a variant)"
        return f"{self.name} {self.split}: {len(self):,} examples from {self.source} ({kind})"

    def tensors(self, normalize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Float images (N, 1, 28, 28), scaled to [0, 1] and, if ``normalize``, to [-1, 1]; and labels."""
        x = self.images.unsqueeze(1).float().div_(255.0)
        if normalize:
            x = x.sub_(0.5).div_(0.5)
        return x, self.labels


def md5(path: Path) -> str:
    """The md5 hex digest of a file."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _official_md5(path: Path) -> str | None:
    """The official md5 of the file a path stands for (``<NAME>/raw/<stem>[.gz]``), when it is a known one."""
    stem = path.name[:-3] if path.suffix == ".gz" else path.name
    return DATASETS.get(path.parent.parent.name.upper(), {}).get("files", {}).get(stem)


def _repair_advice(path: Path) -> str:
    """What to do about a damaged file: replace the read-only mirror's copy, or delete a cache or download copy."""
    mirror = os.environ.get(ENV_VAR)
    if mirror and path.resolve().is_relative_to(Path(mirror).expanduser().resolve()):
        checksum = _official_md5(path)
        official = f" (the official {path.name.removesuffix('.gz')}.gz has md5 {checksum})" if checksum else ""
        return (
            f"the copy in the read-only data mirror {ENV_VAR}={Path(mirror).expanduser().absolute()} is damaged, "
            f"so replace it there with a good copy{official}"
        )
    return "delete it so that a fresh copy is fetched"


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip or plain) into a NumPy array; corrupt or truncated files raise DataError."""
    path = Path(path).absolute()
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise DataError(f"Cannot read {path} ({err}): {_repair_advice(path)}.") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number): {_repair_advice(path)}.")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated (its header is incomplete): {_repair_advice(path)}.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + math.prod(shape) * dtype.itemsize  # Python ints: exact for any header
    if len(raw) != expected:
        raise DataError(
            f"{path} is truncated or corrupt (its header promises shape {shape}, {expected:,} bytes, "
            f"but the file holds {len(raw):,} bytes): {_repair_advice(path)}."
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def cache_dir() -> Path:
    """The per-user cache folder for downloaded datasets."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser().absolute() / "nnutils"


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _download(name: str, stem: str, target_dir: Path, unreachable: set[str] | None = None) -> Path:
    """Fetch one file from NNUTILS_MIRROR's copies, then the public mirrors, with the right checksum (atomically)."""
    urls = downloads.candidate_urls(name, stem, DATASETS[name]["mirrors"])
    try:
        return downloads.fetch(urls, target_dir.absolute() / f"{stem}.gz", DATASETS[name]["files"][stem], unreachable)
    except downloads.DownloadFailed as err:
        raise DataError(f"Could not download {name} file {stem}.gz; tried:\n  " + "\n  ".join(err.attempts)) from None


def locate(name: str, split: str, download: bool = True) -> tuple[Path, Path]:
    """Paths of the (images, labels) files of a split, searching NNUTILS_DATA, the cache, then the web."""
    name, split = _check_names(name, split)
    stems = [f"{SPLITS[split]}-images-idx3-ubyte", f"{SPLITS[split]}-labels-idx1-ubyte"]
    folders = []
    if os.environ.get(ENV_VAR):
        folders.append(Path(os.environ[ENV_VAR]).expanduser().absolute() / name / "raw")
    folders.append(cache_dir() / name / "raw")
    for folder in folders:
        found = [_find(folder, stem) for stem in stems]
        if all(found):
            return found[0], found[1]
    reason = ""
    if download:
        unreachable: set[str] = set()  # hosts that did not answer are not asked again for the second file
        try:
            return tuple(_find(folders[-1], s) or _download(name, s, folders[-1], unreachable) for s in stems)
        except DataError as err:
            reason = f"\nThe download failed too. {err}"
    searched = "\n  ".join(str(f) for f in folders)
    hint = "" if os.environ.get(ENV_VAR) else f" ({ENV_VAR} is not set)"
    example = f" (for example the offline mirror {PROJECT_MIRROR})" if PROJECT_MIRROR.is_dir() else ""
    files = [f"{s}.gz" for s in stems]
    raise DataError(
        f"{name} {split} files {stems[0]}[.gz] and {stems[1]}[.gz] were not found. Searched{hint}:\n  {searched}"
        f"{reason}\n" + downloads.advice(name, files, cache_dir(), ENV_VAR, example)
    )


def _check_names(name: str, split: str) -> tuple[str, str]:
    key = name.upper()
    if key not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)}.")
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}: choose one of {', '.join(SPLITS)}.")
    return key, split


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, split: str, images_path: Path, labels_path: Path, stamp: tuple) -> ImageSet:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1:
        raise DataError(f"{images_path} and {labels_path} do not hold images (N, H, W) and labels (N,).")
    _check_images(name, images_path, images)
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images):,} images but {labels_path} holds {len(labels):,} labels: "
            "the pair does not belong together."
        )
    _check_labels(name, labels_path, labels)
    checksums = DATASETS[name]["files"]
    official = all(p.suffix == ".gz" and md5(p) == checksums[p.name[:-3]] for p in (images_path, labels_path))
    return ImageSet(
        name=name,
        split=split,
        images=torch.from_numpy(images.copy()),
        labels=torch.from_numpy(labels.astype(np.int64)),
        classes=list(DATASETS[name]["classes"]),
        source=images_path.parent,
        official=official,
    )


def _check_images(name: str, path: Path, images: np.ndarray) -> None:
    """Refuse images that are not 28 x 28 unsigned bytes, naming the file."""
    if images.shape[1:] != IMAGE_SHAPE:
        height, width = images.shape[1:]
        raise DataError(f"{path} holds images of {height} x {width} pixels, but {name} images are 28 x 28.")
    if images.dtype != np.uint8:
        raise DataError(f"{path} holds {images.dtype} pixels, but {name} images are unsigned bytes (uint8, 0-255).")


def _check_labels(name: str, path: Path, labels: np.ndarray) -> None:
    """Refuse labels that are not class numbers 0 to (number of classes - 1), naming the file and the first one."""
    n_classes = len(DATASETS[name]["classes"])
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path} holds {labels.dtype} labels, but {name} labels are integers 0 to {n_classes - 1}.")
    bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
    if len(bad):
        more = f" and {len(bad) - 1:,} more out of range" if len(bad) > 1 else ""
        raise DataError(
            f"{path} holds label {labels[bad[0]]} at index {bad[0]:,}{more}, "
            f"but {name} labels are class numbers 0 to {n_classes - 1}."
        )


def load(name: str, split: str = "train", download: bool = True) -> ImageSet:
    """Load one split of KMNIST or MNIST (read once per process, then served from memory)."""
    key, split = _check_names(name, split)
    images_path, labels_path = locate(key, split, download=download)
    stamp = tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in (images_path, labels_path))
    return _load_cached(key, split, images_path, labels_path, stamp)


def subset(x: torch.Tensor, y: torch.Tensor, n: int | None, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A random (seeded) subset of n examples; all of them, in order, when n is None or too large."""
    if n is None or n >= len(y):
        return x, y
    if n <= 0:
        raise ValueError(f"A subset needs a positive size, not {n}.")
    index = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:n]
    return x[index], y[index]


def train_val_split(
    x: torch.Tensor, y: torch.Tensor, n_val: int, seed: int = 0
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Split off n_val examples (chosen at random, seeded) as a validation set."""
    if not 0 < n_val < len(y):
        raise ValueError(f"n_val must lie between 1 and {len(y) - 1}, not {n_val}.")
    index = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    val, train = index[:n_val], index[n_val:]
    return (x[train], y[train]), (x[val], y[val])
