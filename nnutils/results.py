"""Numbers a notebook measures, recorded for the book's results page (one JSON file per notebook)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .references import reference_figures, status_of, unmet_requirements

ENV_VAR = "NNUTILS_RESULTS"


class Results:
    """Collects named results of one notebook; writes them to ``$NNUTILS_RESULTS/<name>.json`` when set."""

    def __init__(self, notebook: str, profile: str):
        self.notebook, self.profile = notebook, profile
        self.values: dict[str, float | int | str] = {}

    def record(self, key: str, value: float | int | str) -> float | int | str:
        """Store one value (floats rounded to 4 places) and save; returns the value for inline use."""
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
        path = Path(folder) / f"{self.notebook}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"notebook": self.notebook, "profile": self.profile, "values": self.values}
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1, ensure_ascii=False)
        os.replace(tmp, path)
        return path

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
