"""The a^n b^2n languages (and a^n b^n, a^n b^2n c^3n): strings, streams of them, and the per-symbol loss and
accuracy of a net that predicts the next symbol. Only some next symbols are predictable: every b after the first,
every c, and the a that starts the next string; before the first b nobody can know n.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

# language name -> (symbol, multiple of n) for each block, in order
LANGUAGES: dict[str, tuple[tuple[str, int], ...]] = {
    "anbn": (("a", 1), ("b", 1)),
    "anb2n": (("a", 1), ("b", 2)),
    "anb2nc3n": (("a", 1), ("b", 2), ("c", 3)),
}


def _blocks(language: str) -> tuple[tuple[str, int], ...]:
    if language not in LANGUAGES:
        raise ValueError(f"Unknown language {language!r}: choose one of {', '.join(LANGUAGES)}.")
    return LANGUAGES[language]


def alphabet(language: str) -> str:
    """The language's symbols in order, e.g. 'ab' for a^n b^2n (the index of a symbol is its class)."""
    return "".join(symbol for symbol, _ in _blocks(language))


def make_string(language: str, n: int) -> str:
    """One string of the language, e.g. make_string('anb2n', 2) == 'aabbbb'."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}.")
    return "".join(symbol * (k * n) for symbol, k in _blocks(language))


def in_language(string: str, language: str) -> bool:
    """True when the string is exactly one string of the language for some n >= 1."""
    blocks = _blocks(language)
    n = len(string) // sum(k for _, k in blocks)
    return n >= 1 and string == make_string(language, n)


@dataclass
class Stream:
    """A stream of strings and, per position, what a reader has seen: the string's n, block and count."""

    language: str
    text: str
    n: np.ndarray  # n of the string this position belongs to
    block: np.ndarray  # index of the block (0 = a, 1 = b, 2 = c)
    count: np.ndarray  # how many symbols of this block have been read, including this one

    def __len__(self) -> int:
        return len(self.text)

    def left(self) -> np.ndarray:
        """How many symbols of the current block are still to come after this position."""
        multiple = np.array([k for _, k in _blocks(self.language)])[self.block]
        return multiple * self.n - self.count

    def labels(self) -> list[str]:
        """State names: 'a3' = third a read, 'b5' = five b's still to come, 'c0' = the string is complete."""
        left = self.left()
        return [f"a{c}" if b == 0 else f"{s}{r}" for s, b, c, r in zip(self.text, self.block, self.count, left)]

    def predictable(self) -> np.ndarray:
        """Whether the symbol after each position is determined by what has been read (all but after an a)."""
        return self.block[:-1] > 0

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y) for training: x one-hot inputs (1, T-1, V); y (1, T-1, 2) = next symbol index, predictable flag."""
        symbols = alphabet(self.language)
        index = torch.tensor([symbols.index(s) for s in self.text])
        x = F.one_hot(index[:-1], len(symbols)).float().unsqueeze(0)
        y = torch.stack([index[1:], torch.from_numpy(self.predictable()).long()], dim=1).unsqueeze(0)
        return x, y


def make_stream(language: str, ns: Sequence[int]) -> Stream:
    """The strings for the given n's written back to back, with per-position annotations."""
    blocks = _blocks(language)
    text, n_col, block_col, count_col = [], [], [], []
    for n in ns:
        for b, (symbol, k) in enumerate(blocks):
            length = k * n
            text.append(symbol * length)
            n_col += [n] * length
            block_col += [b] * length
            count_col += range(1, length + 1)
    if not n_col:
        raise ValueError("A stream needs at least one string.")
    return Stream(language, "".join(text), np.array(n_col), np.array(block_col), np.array(count_col))


def random_stream(language: str, n_strings: int, n_range: tuple[int, int], seed: int = 0) -> Stream:
    """A stream of ``n_strings`` strings with n drawn uniformly from n_range (inclusive)."""
    lo, hi = n_range
    if not 1 <= lo <= hi:
        raise ValueError(f"n_range must satisfy 1 <= low <= high, got {n_range}.")
    rng = np.random.default_rng(seed)
    return make_stream(language, rng.integers(lo, hi + 1, size=n_strings).tolist())


def stream_batch(language: str, n_streams: int, length: int, n_range: tuple[int, int], seed: int = 0) -> tuple:
    """(x, y) for ``n_streams`` independent random streams, each cut to ``length`` inputs: (B, length, ...)."""
    mean_length = len(make_string(language, max(n_range)))
    streams = [random_stream(language, length // mean_length + 2 * length, n_range, seed + i) for i in range(n_streams)]
    xs, ys = zip(*(s.tensors() for s in streams))
    return torch.cat([x[:, :length] for x in xs]), torch.cat([y[:, :length] for y in ys])


def sequence_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the next-symbol logits (B, T, V) against y[..., 0], over every position."""
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y[..., 0].reshape(-1))


def predictable_correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per stream, the fraction of predictable next symbols predicted right, summed over the batch's streams."""
    right = (out.argmax(-1) == y[..., 0]).float()
    mask = y[..., 1].float()
    return ((right * mask).sum(1) / mask.sum(1).clamp(min=1)).sum()


@dataclass(frozen=True)
class Transition:
    """One arc of a language's counter machine: read ``symbol`` in ``source``, if ``needs`` holds, then ``action``.

    ``predictable`` is True when, in ``source`` with the counters as they are, no other symbol can come next."""

    source: str
    target: str
    symbol: str
    needs: str  # "" (always), "m > 0" or "m = 0"
    action: str  # "n += 1", "m := kn - 1", "m -= 1" or "n := 1"
    predictable: bool


def state_machine(language: str) -> list[Transition]:
    """The counter machine that reads the language's streams: one state per block (named by its symbol), n counts
    the a's, m the symbols of the current block still to come. Only the a-loop and the first b are open choices."""
    blocks = _blocks(language)
    arcs = [Transition("a", "a", "a", "", "n += 1", False)]
    for i, (symbol, k) in enumerate(blocks[1:], start=1):
        previous = blocks[i - 1][0]
        arcs.append(Transition(previous, symbol, symbol, "" if i == 1 else "m = 0", f"m := {k}n - 1", i > 1))
        arcs.append(Transition(symbol, symbol, symbol, "m > 0", "m -= 1", True))
    arcs.append(Transition(blocks[-1][0], "a", "a", "m = 0", "n := 1", True))
    return arcs
