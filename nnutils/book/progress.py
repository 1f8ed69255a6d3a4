"""What a build shows while it runs: a line per running notebook now and then, and a table of every notebook at
the end (what ran, what was skipped as unchanged, what failed, and how long each took)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field


def duration(seconds: float | None) -> str:
    """A duration to read at a glance: "42 s", "3 min 05 s", "1 h 02 min"; "-" when unknown."""
    if seconds is None:
        return "-"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass
class Running:
    """One notebook in progress: when it started, its worker, and how many of its cells are done."""

    started: float
    pid: int | None = None
    done: int = 0
    total: int = 0
    shown: float = field(default=0.0)


class Progress:
    """Follows the running notebooks through the workers' events and prints, every ``every`` seconds, one line per
    running notebook: cells done out of total, time so far, and the time left by the last recorded run."""

    def __init__(
        self,
        previous: Mapping[str, float],
        every: float = 30.0,
        clock: Callable[[], float] = time.perf_counter,
        out: Callable[[str], None] = lambda line: print(line, flush=True),
    ):
        self.previous, self.every, self.clock, self.out = dict(previous), every, clock, out
        self.running: dict[str, Running] = {}

    def start(self, key: str) -> None:
        """A notebook was handed to a worker."""
        now = self.clock()
        self.running[key] = Running(started=now, shown=now)
        last = self.previous.get(key)
        self.out(f"== {key}: executing" + (f" (last run {duration(last)})" if last else ""))

    def event(self, event: tuple) -> None:
        """An event from a worker: (notebook, "start", pid) or (notebook, "cell", done, total)."""
        key, kind, *values = event
        state = self.running.get(key)
        if state is None:
            return
        if kind == "start":  # the worker has begun (its start-up does not count)
            state.pid, state.started = values[0], self.clock()
        elif kind == "cell":
            state.done, state.total = values

    def finish(self, key: str) -> None:
        self.running.pop(key, None)

    def pids(self) -> dict[str, int]:
        """The worker process of each running notebook (once the worker has said so)."""
        return {key: state.pid for key, state in self.running.items() if state.pid}

    def line(self, key: str) -> str:
        state, now = self.running[key], self.clock()
        elapsed, last = now - state.started, self.previous.get(key)
        cells = f"cell {state.done}/{state.total}, " if state.total else "starting, "
        text = f"== {key}: {cells}{duration(elapsed)} so far"
        if last and elapsed <= last:
            text += f", about {duration(last - elapsed)} left by the last run ({duration(last)})"
        elif last:
            text += f", {duration(elapsed - last)} longer than the last run ({duration(last)})"
        return text

    def tick(self) -> None:
        """Print the line of each running notebook whose last line is ``every`` seconds old (never if 0)."""
        if self.every <= 0:
            return
        now = self.clock()
        for key, state in self.running.items():
            if now - state.shown >= self.every:
                state.shown = now
                self.out(self.line(key))


def summary(outcomes: Iterable, previous: Mapping[str, float]) -> str:
    """A table of every notebook: its status, this run's time and the last recorded run's time."""
    rows = [("notebook", "status", "this run", "last run")]
    for o in outcomes:
        took = duration(o.seconds) if o.status not in ("skipped", "not started") else "-"
        rows.append((o.name, o.status, took, duration(previous.get(o.name))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(["   " + lines[0], "   " + "  ".join("-" * w for w in widths)] + ["   " + x for x in lines[1:]])


def totals_line(outcomes: list, seconds: float, jobs: int, profile: str) -> str:
    counts = {status: sum(o.status == status for o in outcomes) for status in ("ran", "skipped", "failed")}
    return (
        f"== build: {counts['ran']} executed, {counts['skipped']} unchanged, {counts['failed']} failed, "
        f"{duration(seconds)} with {jobs} at a time (profile {profile})"
    )


def failure_lines(outcomes: list) -> list[str]:
    """One line per failed notebook: its name, the failing cell and the error's first line, its executed copy."""
    return [
        f"FAILED {o.name}: {o.error}" + (f" (executed copy: {o.copy})" if o.copy else "")
        for o in outcomes
        if o.status == "failed"
    ]


def interrupted_line(outcomes: list, seconds: float) -> str:
    """The one line an interrupted build ends with."""
    halted = [o.name for o in outcomes if o.status == "interrupted"]
    unstarted = [o.name for o in outcomes if o.status == "not started"]
    parts = [f"stopped {', '.join(halted)}"] if halted else []
    parts += [f"not started: {', '.join(unstarted)}"] if unstarted else []
    return (
        f"== build interrupted after {duration(seconds)}: {'; '.join(parts) or 'no notebook was running'}; "
        "finished notebooks are kept, and the same command continues from there"
    )
