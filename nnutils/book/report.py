"""The results page: the reports' reference figures against the values a build measured (``timings`` has the
running-times page)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..references import STATUSES, book_file, load_reference_figures, status_of, unmet_requirements

__all__ = ["STATUSES", "book_file", "load_reference_figures", "status_of", "unmet_requirements"]  # re-exported


def load_results(folder: str | Path) -> dict[str, dict]:
    """Every ``<notebook>.json`` written by ``nnutils.results`` in ``folder``: {notebook: {"profile", "values"}}."""
    folder = Path(folder)
    found: dict[str, dict] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.json")):
        if path.name == "timings.json":
            continue
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON: {err}") from err
        if isinstance(payload, dict) and "values" in payload:
            entry = {"profile": payload.get("profile"), "values": payload["values"]}
            if "work" in payload:  # the training arithmetic the notebook tallied (nnutils.work)
                entry["work"] = payload["work"]
            found[payload.get("notebook", path.stem)] = entry
    return found


def compare(figures: Sequence[Mapping], results: Mapping[str, Mapping]) -> pd.DataFrame:
    """One row per reference figure: reference, measured, difference, status, and why when not comparable."""
    rows = []
    for f in figures:
        run = results.get(f["notebook"], {})
        value = run.get("values", {}).get(f["key"])
        measured = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        profile = run.get("profile") if measured is not None else None
        unmet = unmet_requirements(f, run.get("values", {}))
        status = status_of(f, measured, profile, unmet)
        if status == "not comparable":
            if not f["comparable"]:
                note = f["reason"]
            elif profile != "full":
                note = f"measured in the {profile} profile; only the full profile is comparable"
            else:
                note = "this run had " + "; ".join(unmet)
        elif status == "not measured":
            note = "no run recorded this key"
        else:
            note = ""
        rows.append(
            {
                "notebook": f["notebook"],
                "figure": f["figure"],
                "unit": f["unit"],
                "reference": f["reference"],
                "tolerance": f["tolerance"],
                "measured": measured,
                "difference": None if measured is None else measured - f["reference"],
                "profile": profile,
                "status": status,
                "note": note,
                "source": f["source"],
                "key": f["key"],
            }
        )
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else None)


def summary_sentence(counts: pd.Series, profiles: Mapping[str, str]):
    """The results page's opening sentence, from the status counts and the profile each notebook ran in."""
    from .. import prose

    parts = [prose.count(int(counts[status]), "figure") + f" {status}" for status in STATUSES if counts[status]]
    ran = sorted(set(profiles.values()))
    where = (
        (
            f"every notebook ran the {ran[0]} profile"
            if len(ran) == 1
            else f"the notebooks ran the {' and '.join(ran)} profiles"
        )
        if ran
        else "no notebook has recorded results yet"
    )
    extra = " (only a full build's figures can be within or outside tolerance)" if "full" not in ran else ""
    return prose.say(
        f"Of {prose.count(int(counts.sum()), 'reference figure')}: {prose.listing(parts)}; {where}{extra}."
    )


def status_counts(table: pd.DataFrame) -> pd.Series:
    """How many figures have each status (every status listed, zeros included)."""
    return table["status"].value_counts().reindex(list(STATUSES), fill_value=0)


def results_folder() -> Path:
    """Where the build's results JSONs are: ``$NNUTILS_RESULTS``, else the repository's ``_build/results``."""
    import os

    folder = os.environ.get("NNUTILS_RESULTS")
    return Path(folder) if folder else Path(__file__).resolve().parents[2] / "_build" / "results"


def _number(value: float | None) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4g}"


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison as the results page shows it: numbers as text, reference with its tolerance, source and note."""
    return pd.DataFrame(
        {
            "chapter": table["notebook"],
            "figure": table["figure"],
            "reference": [f"{_number(r)} ± {_number(t)}" for r, t in zip(table["reference"], table["tolerance"])],
            "measured": [_number(v) for v in table["measured"]],
            "difference": [_number(v) for v in table["difference"]],
            "status": table["status"],
            "source and note": [f"{s}. {n}".strip() if n else s for s, n in zip(table["source"], table["note"])],
        }
    )
