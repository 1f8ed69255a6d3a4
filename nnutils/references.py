"""The reports' own figures, written once in ``book/reference_figures.yml``, and how a measured value compares."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

REQUIRED_FIELDS = ("key", "notebook", "figure", "reference", "tolerance", "unit", "source", "comparable")
STATUSES = ("within tolerance", "outside tolerance", "not comparable", "not measured")


def _check_figure(i: int, entry: object) -> dict:
    """One reference figure, validated: every field present, numbers numeric, a reason when not comparable."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"reference figure #{i} should be a mapping of {', '.join(REQUIRED_FIELDS)}, not {entry!r}.")
    missing = [f for f in REQUIRED_FIELDS if f not in entry]
    if missing:
        raise ValueError(f"reference figure #{i} ({entry.get('key', '?')}) lacks {', '.join(missing)}.")
    for field in ("reference", "tolerance"):
        if not isinstance(entry[field], (int, float)) or isinstance(entry[field], bool):
            raise ValueError(f"reference figure {entry['key']}: {field} must be a number, not {entry[field]!r}.")
    if entry["tolerance"] < 0:
        raise ValueError(f"reference figure {entry['key']}: tolerance must be >= 0, not {entry['tolerance']}.")
    if not isinstance(entry["comparable"], bool):
        raise ValueError(f"reference figure {entry['key']}: comparable must be true or false.")
    if not entry["comparable"] and not entry.get("reason"):
        raise ValueError(f"reference figure {entry['key']} is not comparable: give the reason in 'reason'.")
    return dict(entry)


def load_reference_figures(path: str | Path) -> list[dict]:
    """Read and validate the YAML list of reference figures (``book/reference_figures.yml``)."""
    import yaml

    text = Path(path).read_text(encoding="utf-8")
    entries = yaml.safe_load(text) or []
    if isinstance(entries, Mapping):
        entries = entries.get("figures", [])
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of reference figures (or a mapping with 'figures').")
    figures = [_check_figure(i, e) for i, e in enumerate(entries, 1)]
    seen: set[tuple[str, str]] = set()
    for f in figures:
        ident = (f["notebook"], f["key"])
        if ident in seen:
            raise ValueError(f"reference figure {f['notebook']}:{f['key']} appears twice in {path}.")
        seen.add(ident)
    return figures


def book_file(name: str) -> Path:
    """A file of the book's sources (e.g. ``reference_figures.yml``), found from the book folder or the repository."""
    candidates = [Path(name), Path("book") / name, Path("..") / "book" / name]
    candidates.append(Path(__file__).resolve().parents[1] / "book" / name)
    for path in candidates:
        if path.is_file():
            return path
    raise ValueError(f"{name} not found in the current folder, book/ or the repository's book/.")


def reference_figures(notebook: str | None = None) -> dict[str, dict]:
    """The reference figures of one notebook (all notebooks when None) by key, read from the book's YAML file."""
    figures = load_reference_figures(book_file("reference_figures.yml"))
    return {f["key"]: f for f in figures if notebook is None or f["notebook"] == notebook}


def unmet_requirements(figure: Mapping, values: Mapping) -> list[str]:
    """The ``requires`` conditions (other recorded values, e.g. the training-set size) that a run does not meet."""
    return [
        f"{key} = {values.get(key, 'not recorded')} (the report's: {want})"
        for key, want in (figure.get("requires") or {}).items()
        if values.get(key) != want
    ]


def status_of(figure: Mapping, measured: float | None, profile: str | None, unmet: Sequence[str] = ()) -> str:
    """The verdict on one figure: not measured, not comparable (by nature, a ci run or an unmet requirement), or
    within or outside tolerance."""
    if measured is None or (isinstance(measured, float) and math.isnan(measured)):
        return "not measured"
    if not figure["comparable"] or profile != "full" or unmet:
        return "not comparable"
    within = abs(measured - figure["reference"]) <= figure["tolerance"] + 1e-12
    return "within tolerance" if within else "outside tolerance"
