"""The builds copied into ``book/timings``: side by side, their schedules (notebooks at a time) and machines
compared, and each ``full`` notebook over the 8-minute goal against its floor (``nnutils.book.timings``)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..prose import count
from .timings import TIME_GOALS, floor_of, floor_text, minutes, on_gpu, per_thread


def recorded_builds(folder: str | Path) -> list[dict]:
    """The builds copied into ``folder`` (``book/timings``) as a build log ``<name>-build.json`` beside its
    ``<name>.json``: [{"name", "build": the log, "timings": {notebook: entry}}], by name."""
    builds = []
    for log in sorted(Path(folder).glob("*-build.json")):
        beside = log.with_name(log.name.removesuffix("-build.json") + ".json")
        if beside.is_file():
            build = json.loads(log.read_text(encoding="utf-8"))
            timings = json.loads(beside.read_text(encoding="utf-8"))
            builds.append({"name": beside.stem, "build": build, "timings": timings})
    return builds


def builds_table(builds: Sequence[Mapping]) -> pd.DataFrame:
    """The recorded builds side by side (from ``recorded_builds``): profile, device, commit, the schedule
    (notebooks at a time, threads each) and the whole build's wall time, fastest first within a profile."""
    rows = [
        {
            "build": b["name"],
            "profile": b["build"].get("profile"),
            "device": b["build"].get("device"),
            "commit": b["build"].get("commit") or "not recorded",
            "notebooks at a time": b["build"].get("jobs"),
            "threads each": b["build"].get("threads"),
            "wall time": minutes(b["build"].get("seconds")),
            "seconds": b["build"].get("seconds") or math.inf,
        }
        for b in builds
    ]
    columns = ["build", "profile", "device", "commit", "notebooks at a time", "threads each", "wall time"]
    if not rows:
        return pd.DataFrame(columns=columns).set_index("build")
    table = pd.DataFrame(rows).sort_values(["profile", "seconds"], kind="stable")
    return table[columns].set_index("build")


def ranked_schedules(builds: Sequence[Mapping]) -> dict[tuple[str, str], list[Mapping]]:
    """{(profile, device): the build logs of each schedule (notebooks at a time), the fastest of each, fastest
    first} for each profile and device whose recorded builds tried more than one schedule."""
    groups: dict[tuple[str, str], dict[int, Mapping]] = {}
    for b in builds:
        log = b["build"]
        if log.get("jobs") and log.get("seconds"):
            best = groups.setdefault((log.get("profile"), log.get("device")), {})
            if log["seconds"] < best.get(log["jobs"], {"seconds": math.inf})["seconds"]:
                best[log["jobs"]] = log
    return {
        key: sorted(best.values(), key=lambda log: log["seconds"])
        for key, best in sorted(groups.items())
        if len(best) > 1
    }


def schedule_lines(builds: Sequence[Mapping]) -> list[str]:
    """For each profile and device whose recorded builds tried more than one schedule, which was fastest and by how
    much: the evidence for the build's default schedule (one notebook per core)."""
    lines = []
    for (profile, device), (first, *rest) in ranked_schedules(builds).items():
        others = "; ".join(
            f"{log['jobs']} at a time took {minutes(log['seconds'])}, "
            f"{log['seconds'] / first['seconds']:.2f} times as long"
            for log in rest
        )
        lines.append(
            f"The {profile} profile on {device}: {count(first['jobs'], 'notebook')} at a time was fastest, "
            f"{minutes(first['seconds'])}; {others}."
        )
    return lines


def machine_lines(builds: Sequence[Mapping]) -> list[str]:
    """For each schedule (profile, device, notebooks at a time) recorded more than once with the machine's
    matrix-multiply rate, each build's wall time beside that rate a thread, fastest first: the same code runs
    slower on a slower machine, so a time goal holds for the machine it was measured on."""
    groups: dict[tuple, list[Mapping]] = {}
    for b in builds:
        log = b["build"]
        if log.get("jobs") and log.get("seconds") and log.get("matmul_rate"):
            groups.setdefault((log.get("profile"), log.get("device"), log["jobs"]), []).append(log)
    lines = []
    for (profile, device, jobs), logs in sorted(groups.items()):
        if len(logs) > 1:
            each = "; ".join(
                f"{minutes(log['seconds'])} (commit {log.get('commit') or 'not recorded'}) at "
                f"{per_thread(log['matmul_rate'], log.get('threads')) / 1e9:.0f} GFLOP/s a thread"
                for log in sorted(logs, key=lambda log: log["seconds"])
            )
            lines.append(
                f"The {profile} profile on {device}, {count(jobs, 'notebook')} at a time, on different machines:"
                f" {each}."
            )
    return lines


CLOSE_TO = 3  # a notebook under this many times its floor spends its time on the arithmetic and the data passes
FAR_ABOVE = 20  # a notebook this many times above its floor spends its time on something other than arithmetic


def goal_misses(timings: Mapping[str, Mapping], rate: float | None, copy_rate: float | None = None) -> list[str]:
    """One line for each full CPU notebook of a recorded build over the full-notebook goal: its time, by how much
    it misses, and its floor (with ``rate``, FLOP/s, and ``copy_rate``, bytes/s) when its work was tallied; slowest
    first."""
    limit = TIME_GOALS["full notebook"]
    over = {nb: e for nb, e in timings.items() if e.get("profile") == "full" and not on_gpu(e) and e["seconds"] > limit}
    lines = []
    for notebook, entry in sorted(over.items(), key=lambda item: -item[1]["seconds"]):
        line = (
            f"{notebook}: {minutes(entry['seconds'])}, {entry['seconds'] / limit:.1f} times the {limit // 60} min goal"
        )
        parts = floor_of(entry, rate, copy_rate) if rate else None
        if parts and parts["floor"]:  # a notebook that tallied no work has no floor to compare with
            floor = parts["floor"]
            ratio = entry["seconds"] / floor
            memory = f" ({floor_text(parts['memory'])} of it data passes)" if parts["memory"] else ""
            line += f"; its floor is {floor_text(floor)}{memory}, so it runs at {ratio:.0f} times its floor"
            line += f" ({_against_floor(floor, ratio, limit)})"
        lines.append(line)
    return lines


def _against_floor(floor: float, ratio: float, limit: float) -> str:
    """What a notebook's time against its floor (``ratio`` times it) says, for ``goal_misses``."""
    if floor > limit:
        return "the floor alone is over the goal"
    if ratio < CLOSE_TO:
        return (
            "close to it: the time goes to the arithmetic and memory kernels; only less training or faster kernels "
            "would meet the goal"
        )
    if ratio < FAR_ABOVE:
        return (
            "well above it: the kernels run below their peak rates on these small layers, and per-call overhead "
            "adds up; faster kernels or less training would meet the goal"
        )
    return "far above it: the time goes to per-step overhead, not arithmetic"
