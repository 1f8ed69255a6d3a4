"""The running-times page: each notebook's wall time per profile and device, the time goals, and each notebook
against its floor (the training arithmetic it tallied at the machine's matrix-multiply rate)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from .report import results_folder

WHOLE_BUILD = "whole build"


def build_log_of(path: str | Path) -> Path:
    """The build log beside a timing file: ``build.json`` beside ``timings.json``, else ``<name>-build.json``."""
    path = Path(path)
    return path.with_name("build.json" if path.name == "timings.json" else f"{path.stem}-build.json")


def most_alike(timing_files: Sequence[Path], jobs: int, rate: Callable[[], float]) -> list[Path]:
    """Timing files in order of likeness to a build of ``jobs`` notebooks at a time (the most alike last, ties kept
    in order): the same schedule first, then the machine whose matrix-multiply rate is closest to ``rate()``, which
    is asked only when a file of that schedule has a rate (a file without one is the least alike)."""

    def likeness(path: Path) -> tuple[bool, float]:
        log = build_log_of(path)
        record = json.loads(log.read_text(encoding="utf-8")) if log.is_file() else {}
        same, recorded = record.get("jobs") == jobs, record.get("matmul_rate")
        return (same, -abs(math.log(recorded / rate())) if same and recorded else -math.inf)

    return sorted(timing_files, key=likeness)


def _read_mapping(path: Path) -> Mapping:
    payload = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(payload, Mapping):
        raise ValueError(f"{path}: expected a mapping {{notebook: {{profile, seconds, device}}}}.")
    return payload


def load_timings(paths: Sequence[str | Path]) -> list[dict]:
    """Rows (notebook, profile, seconds, device, threads) from build ``timings.json`` files; missing files are
    skipped. ``threads`` (each notebook's) comes from the build log beside the file (``build_log_of``), else None.

    A build log (``build.json``) gives one row, the whole build's wall time, under the name ``WHOLE_BUILD``, with
    its machine's ``matmul_rate`` (FLOP/s with those threads, None where not recorded).
    """
    rows = []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            continue
        payload = _read_mapping(path)
        if "executed" in payload:  # a build log (build.json): the wall time of a whole build
            known = {k: payload[k] for k in ("profile", "seconds", "device")}
            extra = {k: payload.get(k) for k in ("threads", "matmul_rate")}
            rows.append({"notebook": WHOLE_BUILD, **known, **extra})
            continue
        log = build_log_of(path)
        threads = _read_mapping(log).get("threads") if log.is_file() else None
        for notebook, entry in payload.items():
            if not isinstance(entry, Mapping) or not {"profile", "seconds", "device"} <= set(entry):
                raise ValueError(f"{path}: entry {notebook!r} needs profile, seconds and device, got {entry!r}.")
            rows.append(
                {"notebook": notebook, **{k: entry[k] for k in ("profile", "seconds", "device")}, "threads": threads}
            )
    return rows


def minutes(seconds: float | None) -> str:
    """Seconds for a table: "1.5 min", "42 s" or "not measured"."""
    if seconds is None:
        return "not measured"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def floor_text(floor: float) -> str:
    """A floor for a table or a sentence: minutes, or seconds to two figures (small floors stay visible)."""
    return minutes(floor) if floor >= 60 else f"{floor:.2g} s"


def on_gpu(entry: Mapping) -> bool:
    """Whether a timing row or entry ran on a GPU (its device is ``cuda...``)."""
    return str(entry.get("device", "")).startswith("cuda")


def fastest_times(timings: Sequence[Mapping]) -> dict[tuple[str, str, str], float]:
    """{(notebook, profile, "CPU" or "GPU"): the fastest seconds any build took} over all timing rows."""
    best: dict[tuple[str, str, str], float] = {}
    for t in timings:
        device = "GPU" if on_gpu(t) else "CPU"
        ident = (t["notebook"], t["profile"], device)
        best[ident] = min(best.get(ident, math.inf), float(t["seconds"]))
    return best


def core_seconds(timings: Sequence[Mapping], profile: str) -> dict[str, float]:
    """{notebook: the least core time (seconds x threads, one thread where not recorded)} of ``profile``'s CPU
    rows: the work a notebook needs whichever schedule runs it."""
    least: dict[str, float] = {}
    for t in timings:
        if t["profile"] == profile and t["notebook"] != WHOLE_BUILD and not on_gpu(t):
            work = float(t["seconds"]) * (t.get("threads") or 1)
            least[t["notebook"]] = min(least.get(t["notebook"], math.inf), work)
    return least


def timing_table(timings: Sequence[Mapping], chapters: Mapping[str, str]) -> pd.DataFrame:
    """Running time of each chapter notebook per profile on CPU and GPU ("not measured" where no build timed it)."""
    best = fastest_times(timings)
    rows = []
    chapters = {**chapters, WHOLE_BUILD: "The whole book build"}
    for notebook, title in chapters.items():
        row = {"chapter": title, "notebook": notebook}
        for profile in ("ci", "full"):
            for device in ("CPU", "GPU"):
                row[f"{profile}, {device}"] = minutes(best.get((notebook, profile, device)))
        rows.append(row)
    return pd.DataFrame(rows).set_index("chapter")


# Wall-time goals on 2 CPU cores (seconds): every notebook's ``ci`` run, every ``full`` notebook, the whole build.
TIME_GOALS = {"ci notebook": 2 * 60, "full notebook": 8 * 60, "full build": 20 * 60}


def _verdict(took: float | None, limit: float) -> tuple[str, str]:
    if took is None:
        return "not measured", "not measured"
    return minutes(took), "met" if took <= limit else f"missed by {took / limit - 1:.0%}"


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
    took, verdict = _verdict(cpu.get((WHOLE_BUILD, "full")), limit)
    rows.append(("whole full build", f"{limit / 60:.0f} min", took, verdict + _machine_of(timings, "full")))
    full = by_profile["full"]
    if full:  # the work itself: no schedule on 2 cores can beat half of the least core time of each notebook
        core = core_seconds(timings, "full")
        floor = f"on 2 cores no build can take less than {sum(core.values()) / 120:.1f} min"
        rows.append((f"full notebooks one after another ({len(full)})", "", minutes(sum(full.values())), floor))
    return pd.DataFrame(rows, columns=["goal", "at most", "measured", "verdict"]).set_index("goal")


def per_thread(rate: float | None, threads: int | None) -> float | None:
    """A matrix-multiply rate measured with ``threads`` threads (one where not recorded), per thread."""
    return rate / (threads or 1) if rate else None


def _machine_of(timings: Sequence[Mapping], profile: str) -> str:
    """The matrix-multiply rate a thread of the machine of ``profile``'s fastest CPU whole build, as ", at ...
    GFLOP/s a thread" ("" where its log did not record it): a build's time depends on the machine as on the code."""
    whole = [t for t in timings if t["notebook"] == WHOLE_BUILD and t["profile"] == profile and not on_gpu(t)]
    fastest = min(whole, key=lambda t: float(t["seconds"]), default={})
    rate = per_thread(fastest.get("matmul_rate"), fastest.get("threads"))
    return f", at {rate / 1e9:.0f} GFLOP/s a thread" if rate else ""  # short: a table cell shows 50 characters


def floor_table(
    results: Mapping[str, Mapping], timings: Mapping[str, Mapping], rate: float, copy_rate: float | None = None
) -> pd.DataFrame:
    """Each notebook of this build beside its floor: the training arithmetic it tallied (``nnutils.work``) at the
    machine's matrix-multiply rate (FLOP/s), plus its data passes at the copy rate (bytes/s) when given. A notebook
    far above its floor spends its time elsewhere (Python overhead, small matrices, plotting): where to look next."""
    entries = {}
    for notebook, run in results.items():
        timing = timings.get(notebook) or {}
        same = timing.get("profile") == run.get("profile")
        tally = run.get("work") or {}
        entries[notebook] = {
            "profile": run.get("profile"),
            "flops": tally.get("flops"),
            "bytes": tally.get("bytes"),
            "seconds": timing.get("seconds") if same else None,
        }
    return recorded_floor_table(entries, rate, copy_rate)


def _check_rates(rate: float, copy_rate: float | None) -> None:
    if rate <= 0 or (copy_rate is not None and copy_rate <= 0):
        raise ValueError(f"The matrix-multiply and copy rates must be positive, got {rate} and {copy_rate}.")


def floor_of(entry: Mapping, rate: float, copy_rate: float | None = None) -> dict[str, float] | None:
    """A notebook's floor in seconds: {"arithmetic": flops / rate, "memory": bytes / copy_rate (0 when either is
    missing), "floor": their sum}; None when its work was not tallied."""
    _check_rates(rate, copy_rate)
    if entry.get("flops") is None:
        return None
    arithmetic = entry["flops"] / rate
    memory = entry["bytes"] / copy_rate if copy_rate and entry.get("bytes") is not None else 0.0
    return {"arithmetic": arithmetic, "memory": memory, "floor": arithmetic + memory}


def recorded_floor_table(timings: Mapping[str, Mapping], rate: float, copy_rate: float | None = None) -> pd.DataFrame:
    """The floor table of a recorded build: ``timings`` as its ``timings.json`` has them ({notebook: {profile,
    seconds, flops, bytes}}), ``rate`` and ``copy_rate`` its ``build.json``'s ``matmul_rate`` and ``copy_rate``
    (a log without a copy rate gives the arithmetic floor alone); entries without ``flops`` say not tallied."""
    _check_rates(rate, copy_rate)
    rows = []
    for notebook, entry in sorted(timings.items()):
        seconds, parts = entry.get("seconds"), floor_of(entry, rate, copy_rate)
        passes = entry.get("bytes") if copy_rate else None
        rows.append(
            {
                "notebook": notebook,
                "profile": entry.get("profile"),
                "training work (GFLOP)": "" if parts is None else round(entry["flops"] / 1e9, 1),
                "data passes (GB)": "" if passes is None else round(passes / 1e9, 1),
                "floor": "not tallied" if parts is None else floor_text(parts["floor"]),
                "of which memory": "" if not (parts and passes is not None) else floor_text(parts["memory"]),
                "measured": minutes(seconds),
                "measured / floor": f"{seconds / parts['floor']:.0f}x" if seconds and parts and parts["floor"] else "",
            }
        )
    columns = ["notebook", "profile", "training work (GFLOP)", "data passes (GB)", "floor", "of which memory"]
    columns += ["measured", "measured / floor"]
    return pd.DataFrame(rows, columns=columns).set_index("notebook")


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


def recorded_folder() -> Path | None:
    """``book/timings``, where other builds' timing files and build logs are copied (None when there is none)."""
    folders = [folder / "timings" for folder in (Path("."), Path("book"), Path(__file__).resolve().parents[2] / "book")]
    return next((folder for folder in folders if folder.is_dir()), None)


def timing_files() -> list[Path]:
    """This build's ``timings.json`` and other builds' timing and build-log files copied into ``book/timings/``."""
    found = recorded_folder()
    return [results_folder() / "timings.json", *(sorted(found.glob("*.json")) if found else [])]
