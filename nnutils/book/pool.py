"""The build's worker processes: notebooks handed out a few at a time, progress lines while they run, and on
Ctrl-C a clean stop (kernels interrupted, nothing queued left to start)."""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from . import runner
from .progress import Progress

STOP_WAIT = (20.0, 15.0)  # seconds to wait after interrupting the kernels, then after SIGTERM to the workers


@dataclass
class Job:
    """One notebook to run: its key (``notebooks/<name>.ipynb``), source, output, content hash and runner options."""

    key: str
    source: Path
    output: Path
    digest: str
    options: dict = field(default_factory=dict)


def longest_first(jobs: list[Job], seconds: dict[str, float]) -> list[Job]:
    """The jobs in the order to start them: the longest by their recorded ``seconds`` first, so that the last one to
    start is short (jobs with no record first, as if longest; ties keep their order)."""
    return sorted(jobs, key=lambda job: -seconds.get(job.key, float("inf")))


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) stopped the build; ``not_started`` are the jobs it never began, ``outcomes`` what the
    build had done by then (filled in by the build)."""

    def __init__(self, not_started: list[str]):
        super().__init__("build interrupted")
        self.not_started, self.outcomes = not_started, []


def run_jobs(
    jobs: list[Job],
    workers: int,
    env: dict[str, str],
    progress: Progress,
    finish: Callable[[Job, runner.Executed], None],
) -> None:
    """Run ``jobs`` in ``workers`` processes; ``finish(job, result)`` for each as it ends. A job is handed out only
    when a worker is free, so an interrupt leaves none queued; on Ctrl-C raises :class:`Interrupted`."""
    runner.preload()  # imported once here, so that forked workers start ready
    context = multiprocessing.get_context()
    events, stop = context.Queue(), context.Event()
    workers = max(1, min(workers, len(jobs)))
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=runner.init_worker, initargs=(env, events, stop)
    )
    waiting, running = list(jobs), {}
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                job = waiting.pop(0)
                running[pool.submit(runner.execute, job.source, job.output, **job.options)] = job
                progress.start(job.key)
            done, _ = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
            _drain(events, progress)
            for future in done:
                job = running.pop(future)
                progress.finish(job.key)
                try:
                    result = future.result()
                except Exception as err:  # the worker process itself died
                    result = runner.Executed(0.0, f"its worker process died: {type(err).__name__}: {err}")
                finish(job, result)
            progress.tick()
    except KeyboardInterrupt:
        stop.set()
        _stop(running, progress, events, finish)
        raise Interrupted([job.key for job in waiting]) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        events.close()


def _stop(running: dict, progress: Progress, events, finish: Callable[[Job, runner.Executed], None]) -> None:
    """Interrupt the running notebooks' kernels and wait; if they do not stop, terminate, then kill, their workers
    (a kernel whose worker is gone exits by itself). A second Ctrl-C moves on to the next step at once."""
    _drain(events, progress)
    pids = progress.pids()
    for step, signum in enumerate((runner.STOP_SIGNAL, signal.SIGTERM, signal.SIGKILL)):
        for pid in pids.values():
            try:
                os.kill(pid, signum)
            except OSError:
                pass
        if step == len(STOP_WAIT):
            break
        try:
            done, _ = wait(running, timeout=STOP_WAIT[step])
        except KeyboardInterrupt:
            continue
        if len(done) == len(running):
            break
    for future, job in running.items():
        try:
            result = future.result(timeout=5)
        except Exception:  # a killed worker, or one still stuck
            result = runner.Executed(0.0, "interrupted", interrupted=True)
        finish(job, result)


def _drain(events, progress: Progress) -> None:
    while True:
        try:
            progress.event(events.get_nowait())
        except (queue.Empty, OSError, ValueError):
            return
