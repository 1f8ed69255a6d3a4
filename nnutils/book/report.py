"""The book's generated pages: reference figures against the values a build measured, and chapter running times."""

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


WHOLE_BUILD = "whole build"


def load_timings(paths: Sequence[str | Path]) -> list[dict]:
    """Rows (notebook, profile, seconds, device) from build ``timings.json`` files; missing files are skipped.

    A build log (``build.json``) gives one row, the whole build's wall time, under the name ``WHOLE_BUILD``.
    """
    rows = []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            continue
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(payload, Mapping):
            raise ValueError(f"{path}: expected a mapping {{notebook: {{profile, seconds, device}}}}.")
        if "executed" in payload:  # a build log (build.json): the wall time of a whole build
            rows.append({"notebook": WHOLE_BUILD, **{k: payload[k] for k in ("profile", "seconds", "device")}})
            continue
        for notebook, entry in payload.items():
            if not isinstance(entry, Mapping) or not {"profile", "seconds", "device"} <= set(entry):
                raise ValueError(f"{path}: entry {notebook!r} needs profile, seconds and device, got {entry!r}.")
            rows.append({"notebook": notebook, **{k: entry[k] for k in ("profile", "seconds", "device")}})
    return rows


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "not measured"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def fastest_times(timings: Sequence[Mapping]) -> dict[tuple[str, str, str], float]:
    """{(notebook, profile, "CPU" or "GPU"): the fastest seconds any build took} over all timing rows."""
    best: dict[tuple[str, str, str], float] = {}
    for t in timings:
        device = "GPU" if str(t["device"]).startswith("cuda") else "CPU"
        ident = (t["notebook"], t["profile"], device)
        best[ident] = min(best.get(ident, math.inf), float(t["seconds"]))
    return best


def timing_table(timings: Sequence[Mapping], chapters: Mapping[str, str]) -> pd.DataFrame:
    """Running time of each chapter notebook per profile on CPU and GPU ("not measured" where no build timed it)."""
    best = fastest_times(timings)
    rows = []
    chapters = {**chapters, WHOLE_BUILD: "The whole book build (notebooks run in parallel)"}
    for notebook, title in chapters.items():
        row = {"chapter": title, "notebook": notebook}
        for profile in ("ci", "full"):
            for device in ("CPU", "GPU"):
                row[f"{profile}, {device}"] = _minutes(best.get((notebook, profile, device)))
        rows.append(row)
    return pd.DataFrame(rows).set_index("chapter")


# Wall-time goals on 2 CPU cores (seconds): every notebook's ``ci`` run, every ``full`` notebook, the whole build.
TIME_GOALS = {"ci notebook": 2 * 60, "full notebook": 8 * 60, "full build": 20 * 60}


def _verdict(took: float | None, limit: float) -> tuple[str, str]:
    if took is None:
        return "not measured", "not measured"
    return _minutes(took), "met" if took <= limit else f"missed by {took / limit - 1:.0%}"


def time_goals(timings: Sequence[Mapping]) -> pd.DataFrame:
    """The wall-time goals against the fastest CPU timings: the slowest ``ci`` notebook, the slowest ``full``
    notebook and the whole ``full`` build."""
    cpu = {(name, profile): s for (name, profile, device), s in fastest_times(timings).items() if device == "CPU"}
    by_profile = {
        p: {nb: s for (nb, profile), s in cpu.items() if profile == p and nb != WHOLE_BUILD} for p in ("ci", "full")
    }
    rows = []
    for profile in ("ci", "full"):
        times = by_profile[profile]
        slowest = max(times, key=times.get, default=None)
        what = f"slowest {profile} notebook" + (f" ({slowest})" if slowest else "")
        limit = TIME_GOALS[f"{profile} notebook"]
        rows.append((what, f"{limit / 60:.0f} min", *_verdict(times.get(slowest), limit)))
    limit = TIME_GOALS["full build"]
    rows.append(("whole full build", f"{limit / 60:.0f} min", *_verdict(cpu.get((WHOLE_BUILD, "full")), limit)))
    full = by_profile["full"]
    if full:  # the work itself: no schedule on 2 cores can beat half of it
        total = sum(full.values())
        floor = f"on 2 cores no build can take less than {total / 120:.1f} min"
        rows.append((f"full notebooks one after another ({len(full)})", "", _minutes(total), floor))
    return pd.DataFrame(rows, columns=["goal", "at most", "measured", "verdict"]).set_index("goal")


def floor_table(results: Mapping[str, Mapping], timings: Mapping[str, Mapping], rate: float) -> pd.DataFrame:
    """Each notebook of this build beside its floor: the training arithmetic it tallied (``nnutils.work``) at the
    machine's matrix-multiply rate (FLOP/s). A notebook far above its floor spends its time elsewhere (Python
    overhead, small matrices, data passes, plotting): that is where to look next."""
    if rate <= 0:
        raise ValueError(f"The matrix-multiply rate must be positive, got {rate}.")
    rows = []
    for notebook, run in sorted(results.items()):
        work = run.get("work") or {}
        timing = timings.get(notebook) or {}
        seconds = timing.get("seconds") if timing.get("profile") == run.get("profile") else None
        floor = work.get("flops", 0.0) / rate if work else None
        ratio = f"{seconds / floor:.0f}x" if seconds and floor else ""
        rows.append(
            {
                "notebook": notebook,
                "profile": run.get("profile"),
                "training work (GFLOP)": round(work["flops"] / 1e9, 1) if work else None,
                "floor": "not tallied" if floor is None else _minutes(floor) if floor >= 60 else f"{floor:.2g} s",
                "measured": _minutes(seconds),
                "measured / floor": ratio,
            }
        )
    columns = ["notebook", "profile", "training work (GFLOP)", "floor", "measured", "measured / floor"]
    return pd.DataFrame(rows, columns=columns).set_index("notebook")


def results_folder() -> Path:
    """Where the build's results JSONs are: ``$NNUTILS_RESULTS``, else the repository's ``_build/results``."""
    import os

    folder = os.environ.get("NNUTILS_RESULTS")
    return Path(folder) if folder else Path(__file__).resolve().parents[2] / "_build" / "results"


def chapter_titles(folder: str | Path | None = None) -> dict[str, str]:
    """{notebook stem: title} for every notebook in ``folder`` (default: the repository's notebooks/), the title
    taken from its first Markdown heading."""
    folder = Path(__file__).resolve().parents[2] / "notebooks" if folder is None else folder
    titles = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        lines = (line for c in cells if c["cell_type"] == "markdown" for line in "".join(c["source"]).splitlines())
        titles[path.stem] = next((line.lstrip("# ").strip() for line in lines if line.startswith("# ")), path.stem)
    return titles


def timing_files() -> list[Path]:
    """This build's ``timings.json`` and other builds' timing and build-log files copied into ``book/timings/``."""
    extra = [folder / "timings" for folder in (Path("."), Path("book"), Path(__file__).resolve().parents[2] / "book")]
    found = next((folder for folder in extra if folder.is_dir()), None)
    return [results_folder() / "timings.json", *(sorted(found.glob("*.json")) if found else [])]


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
