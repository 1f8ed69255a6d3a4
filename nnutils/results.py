"""Numbers a notebook measures, recorded for the book's results page (one JSON file per notebook)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from . import work
from .files import write_json
from .references import reference_figures, status_of, unmet_requirements

ENV_VAR = "NNUTILS_RESULTS"


def recordable(key: str, value: object) -> bool | int | float | str:
    """``value`` as a plain Python bool, int, float or str (NumPy scalars, 0-d arrays and 0-d tensors converted);
    anything else raises TypeError naming the key."""
    if not isinstance(key, str) or not key:
        raise TypeError(f"A result's key must be a non-empty string, not {key!r}.")
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool | int | float | str):
        return value
    kind = type(value)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    raise TypeError(
        f"Result {key!r} is a {name}, which cannot be recorded: give one number or string "
        "(an int, float, bool or str, or a NumPy scalar, 0-d array or 0-d tensor)."
    )


class Results:
    """Collects named results of one notebook; writes them to ``$NNUTILS_RESULTS/<name>.json`` when set."""

    def __init__(self, notebook: str, profile: str):
        self.notebook, self.profile = notebook, profile
        self.values: dict[str, float | int | str] = {}

    def record(self, key: str, value: float | int | str) -> float | int | str:
        """Store one value (floats rounded to 4 places) and save; returns the value for inline use."""
        value = recordable(key, value)
        if isinstance(value, float):
            value = round(value, 4)
        self.values[key] = value
        self.save()
        return value

    def save(self) -> Path | None:
        """Write the file atomically (temporary file, then rename); nothing when the variable is unset."""
        folder = os.environ.get(ENV_VAR)
        if not folder:
            return None
        payload = {"notebook": self.notebook, "profile": self.profile, "values": self.values, "work": work.total()}
        return write_json(Path(folder).absolute() / f"{self.notebook}.json", payload)

    def compare(self, measured: Mapping[str, float]) -> pd.DataFrame:
        """Record each measured value and return it beside the report's figure for the same key (read from
        ``book/reference_figures.yml``, where every reference figure is written once)."""
        figures = reference_figures(self.notebook)
        unknown = [key for key in measured if key not in figures]
        if unknown:
            raise KeyError(
                f"{', '.join(unknown)}: no reference figure for notebook {self.notebook} in reference_figures.yml "
                f"(it has {', '.join(figures) or 'none'})."
            )
        for key, value in measured.items():
            self.record(key, value)
        rows = []
        for key in measured:
            figure, value = figures[key], float(self.values[key])
            unmet = unmet_requirements(figure, self.values)
            rows.append(
                {
                    "figure": figure["figure"],
                    "this run": value,
                    "report": figure["reference"],
                    "difference": value - figure["reference"],
                    "status": status_of(figure, value, self.profile, unmet),
                }
            )
        return pd.DataFrame(rows).set_index("figure")
