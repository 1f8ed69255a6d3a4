"""Numbers a notebook measures, recorded for the book's results page (one JSON file per notebook)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

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
