"""Sentences written by the run: the book's one way to put a measured number into the text.

A code cell tagged ``remove-input`` ends with ``prose.say(f"...")``: JupyterLab and the site both show the sentence,
rendered as Markdown, and it always agrees with the table above it. Markdown cells hold no measured values.
"""

from __future__ import annotations

from collections.abc import Sequence

from IPython.display import Markdown


def say(*sentences: str) -> Markdown:
    """The sentences as one Markdown paragraph (the last expression of a cell, so the cell shows it)."""
    return Markdown(" ".join(s.strip() for s in sentences if s and s.strip()))


def pct(fraction: float, digits: int = 1) -> str:
    """A fraction as a percentage: ``pct(0.9626)`` is ``"96.3%"``."""
    return f"{100 * fraction:.{digits}f}%"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``count(1, "seed")`` is ``"1 seed"``, ``count(3, "seed")`` is ``"3 seeds"`` (with thousands separators)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def of(k: int, n: int, noun: str) -> str:
    """``of(2, 5, "seed")`` is ``"2 of 5 seeds"``; ``"every seed"`` / ``"no seed"`` at the ends."""
    if n > 1 and k == n:
        return f"all {n} {noun}s" if n > 2 else f"both {noun}s"
    if k == 0:
        return f"no {noun}"
    return f"{k} of {n} {noun}s"


def listing(items: Sequence[str], conjunction: str = "and") -> str:
    """``listing(["a", "b", "c"])`` is ``"a, b and c"``."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def seconds(s: float) -> str:
    """A duration for prose: ``"4.2 s"``, ``"3.5 min"`` or ``"1.2 h"``."""
    if s < 90:
        return f"{s:.1f} s"
    if s < 5400:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def compare_word(a: float, b: float, more: str = "higher", less: str = "lower", same: str = "the same as") -> str:
    """``"higher"``, ``"lower"`` or ``"the same as"``: how a stands against b, for a generated sentence."""
    return more if a > b else less if a < b else same
