"""Checks for the chapters' exercises: each returns a ``Feedback`` that says whether an answer is right and why not.

The core checks live here; each chapter's exercises live in a module named after its topic (for example
``nnutils.exercises.kmnist``) and are built from these. An answer left as ``...`` (or a function whose body is
``...``) is not an error: every check then returns the "not answered yet" feedback of :func:`not_answered`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: ``correct`` and a message for the student (shown in the notebook)."""

    correct: bool
    message: str
    answered: bool = True  # False: the answer is still the ``...`` of the student edition

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return ("Correct: " if self.correct else "Not yet: ") + self.message

    def _repr_markdown_(self) -> str:
        return ("**Correct.** " if self.correct else "**Not yet.** ") + self.message


NOT_ANSWERED = "not answered yet"


def not_answered(name: str = "your answer", what: str = "replace the ... with your answer") -> Feedback:
    """The feedback for an answer still left as ``...``: not correct, and saying what to fill in."""
    return Feedback(False, f"{name} is {NOT_ANSWERED}: {what}, then run the check again.", answered=False)


def is_blank(answer: Any) -> bool:
    """Is ``answer`` still empty: ``...`` or ``None``, or a sequence of them (e.g. a pair of ``...``)?"""
    if answer is None or answer is Ellipsis:
        return True
    return isinstance(answer, tuple | list) and len(answer) > 0 and all(a is None or a is Ellipsis for a in answer)


def check_value(
    answer: Any, expected: Any, *, name: str = "your answer", rtol: float = 0.0, atol: float = 0.0, hint: str = ""
) -> Feedback:
    """Compare a number or array with the expected one (within ``rtol``/``atol``); the message says how far off."""
    if is_blank(answer):
        return not_answered(name)
    try:
        got, want = np.asarray(answer, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return Feedback(False, f"{name} should be a number or an array of numbers, not {type(answer).__name__}.")
    if got.shape != want.shape:
        return Feedback(False, f"{name} has shape {got.shape}; the expected shape is {want.shape}. {hint}".strip())
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return Feedback(True, f"{name} is right.")
    if got.ndim == 0:
        detail = f"{name} is {got.item():g}, which is {'too high' if got > want else 'too low'}."
    else:
        worst = np.unravel_index(np.argmax(np.abs(got - want)), got.shape)
        detail = (
            f"{name} differs most at index {tuple(int(i) for i in worst)}: {got[worst]:g} instead of {want[worst]:g}."
        )
    return Feedback(False, f"{detail} {hint}".strip())


def check_function(
    fn: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Sequence[tuple],
    *,
    name: str = "your function",
    rtol: float = 1e-5,
    atol: float = 1e-8,
    hint: str = "",
) -> Feedback:
    """Call ``fn`` and ``reference`` on each tuple of arguments in ``cases``; report the first case that differs.
    A function that returns ``None`` or ``...`` (its body is still ``...``) is not answered yet."""
    if is_blank(fn):
        return not_answered(name, "write the function in place of the ...")
    if not callable(fn):
        return Feedback(False, f"{name} should be a function, not {type(fn).__name__}.")
    for i, args in enumerate(cases, 1):
        try:
            got = fn(*args)
        except NotImplementedError:
            return Feedback(False, f"{name} is not written yet (it raises NotImplementedError).")
        except Exception as err:  # the student's code failing is feedback, not a crash
            return Feedback(False, f"{name} raised {type(err).__name__}: {err} on test case {i}.")
        if is_blank(got):
            return unwritten(name, got)
        verdict = check_value(got, reference(*args), name=f"the result on test case {i}", rtol=rtol, atol=atol)
        if not verdict:
            return Feedback(False, f"{verdict.message} {hint}".strip())
    return Feedback(True, f"{name} agrees with the reference on all {len(cases)} test cases.")


def unwritten(name: str, returned: Any) -> Feedback:
    """The feedback for a function that returned ``None`` or ``...``: its body is still ``...`` (or has no return)."""
    what = f"it returns {returned!r}; write its body in place of the ... and return the result"
    return not_answered(name, what)


def count_of(model: Any) -> int:
    """Trainable parameters of a PyTorch module, or of a from-scratch net through its ``count_parameters()``."""
    if hasattr(model, "count_parameters"):
        return int(model.count_parameters())
    from nnutils.models import count_parameters

    return count_parameters(model)


def check_parameter_count(answer: Any, *models: Any, hint: str = "") -> Feedback:
    """Is ``answer`` the parameter count of ``model`` (or the tuple of counts, one per model, when given several)?"""
    counts = [count_of(m) for m in models]
    expected = counts[0] if len(counts) == 1 else tuple(counts)
    name = "your count" if len(counts) == 1 else f"your {len(counts)} counts"
    return check_value(answer, expected, name=name, hint=hint)
