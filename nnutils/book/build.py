"""Execute the book's notebooks with papermill: several at a time, skipping those whose inputs have not changed.

    python -m nnutils.book.build --profile ci|full --jobs N [--force] [notebook ...]

Chapter notebooks (``notebooks/*.ipynb``) run first, N at a time, into ``_build/executed/notebooks``; then the
book's own notebooks (``book/*.ipynb``, e.g. the results page) run into ``_build/executed/book``. A notebook is
skipped when the hash of its source, the profile and the ``nnutils`` sources equals the one stored after its last
successful run (``_build/executed/.hashes.json``). Each run's wall time goes into ``<results>/timings.json``.
The build sets ``NNUTILS_PROFILE`` for its kernels to ``--profile`` and checks that every chapter recorded that
profile. Ctrl-C stops it cleanly: running notebooks are interrupted, queued ones not started, and the next build
continues where this one stopped.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..files import read_json, write_json
from ..profiles import ENV_VAR as PROFILE_VAR
from ..profiles import PROFILES
from . import runner
from .hashes import files_hash, git_commit, notebook_hash, package_hash
from .pool import Interrupted, Job, longest_first, run_jobs
from .progress import Progress, duration, failure_lines, interrupted_line, summary, totals_line
from .timings import most_alike

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    """What happened to one notebook: ran, skipped, failed, interrupted or not started, and how long it took."""

    name: str
    status: str
    seconds: float = 0.0
    error: str = ""
    copy: str = ""  # the failed run's executed copy


class Builder:
    """Executes notebooks into ``<build>/executed``; keeps content hashes and timings between builds."""

    def __init__(
        self,
        root: Path = ROOT,
        build: Path | None = None,
        profile: str = "full",
        jobs: int | None = None,
        progress_every: float = 30.0,
    ):
        if profile not in PROFILES:
            raise ValueError(f"Unknown profile {profile!r}: choose one of {', '.join(PROFILES)}.")
        cores = os.cpu_count() or 1
        self.jobs = cores if jobs is None else jobs
        if self.jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}.")
        self.root, self.profile, self.progress_every = Path(root).resolve(), profile, progress_every
        self.build = Path(build).resolve() if build else self.root / "_build"
        self.executed, self.results = self.build / "executed", self.build / "results"
        self.hash_file, self.timing_file = self.executed / ".hashes.json", self.results / "timings.json"
        self.threads = max(1, cores // self.jobs)

    @functools.cached_property
    def device(self) -> str:
        """ "cuda" when PyTorch sees a GPU (the notebooks then train on it), else "cpu"."""
        from ..training import get_device

        return get_device("auto").type

    def notes(self) -> list[str]:
        """What the build does differently from the caller's environment, one line each."""
        notes, inherited = [], os.environ.get(PROFILE_VAR)
        if inherited and inherited != self.profile:
            notes.append(
                f"note: {PROFILE_VAR}={inherited} in the environment is not used: the build runs every notebook in "
                f"--profile {self.profile} (it sets {PROFILE_VAR} for its kernels itself)"
            )
        data = os.environ.get("NNUTILS_DATA")
        if data and not Path(data).expanduser().resolve().is_dir():
            notes.append(f"note: NNUTILS_DATA={data} is not a folder ({Path(data).expanduser().resolve()})")
        return notes

    def env(self) -> dict[str, str]:
        """The environment of the kernels: the profile, one thread budget (torch threads, sweep workers), absolute data
        and results paths."""
        threads = str(self.threads)
        env = {
            PROFILE_VAR: self.profile,
            "NNUTILS_PROGRESS": "0",
            "NNUTILS_RESULTS": str(self.results),
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "NNUTILS_JOBS": os.environ.get("NNUTILS_JOBS", threads),  # a notebook's sweeps: one worker per thread
            "PYTHONHASHSEED": "0",
        }
        if os.environ.get("NNUTILS_DATA"):  # kernels run in notebooks/: a relative path would point elsewhere
            env["NNUTILS_DATA"] = str(Path(os.environ["NNUTILS_DATA"]).expanduser().resolve())
        return env

    def previous_times(self) -> dict[str, float]:
        """Seconds of each notebook's last recorded run in this profile, by key (``notebooks/<name>.ipynb``): this
        build's own, else those of the timing logs committed in ``book/timings`` (a fresh clone's estimates), of the
        build most like this one: as many notebooks at a time where there is one, and among those the machine whose
        matrix-multiply rate is closest to this one's."""
        committed = most_alike(
            sorted((self.root / "book" / "timings").glob("*.json")), self.jobs, lambda: self.matmul_rate
        )
        seconds = {}
        for log in [*committed, self.timing_file]:  # later ones win
            for stem, entry in read_json(log).items():
                if isinstance(entry, dict) and entry.get("profile") == self.profile and entry.get("seconds"):
                    seconds[stem] = float(entry["seconds"])
        return {
            f"{folder}/{path.name}": seconds[path.stem]
            for folder in ("notebooks", "book")
            for path in notebooks_in(self.root / folder)
            if path.stem in seconds
        }

    @functools.cached_property
    def matmul_rate(self) -> float:
        """This machine's matrix-multiply rate (FLOP/s) with the build's threads, measured when first asked."""
        from . import bench

        return bench.matmul_rate(n=512, device=self.device, threads=self.threads)

    def sweep(self) -> list[Path]:
        """Remove hidden temporary files that an earlier build left behind (an executed copy in progress, a JSON
        file half written); returns what it removed."""
        stems = {p.stem for folder in ("notebooks", "book") for p in notebooks_in(self.root / folder)}
        found = [p for p in self.executed.rglob(".*.ipynb")] + list(self.executed.rglob(".*.part"))
        found += [p for p in self.results.glob("*.part")] + list(self.results.glob(".*.part"))
        for folder in ("notebooks", "book"):  # older builds wrote their copies beside the sources
            found += [p for p in (self.root / folder).glob(".*.ipynb") if p.name.split(".")[1] in stems]
        removed = []
        for path in found:
            if path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    def _record(self, key: str, digest: str | None, stem: str, seconds: float | None) -> None:
        hashes = read_json(self.hash_file)
        if digest is None:
            hashes.pop(key, None)
        else:
            hashes[key] = digest
        write_json(self.hash_file, hashes, sort_keys=True)
        if seconds is not None:
            timings = read_json(self.timing_file)
            timings[stem] = {"profile": self.profile, "seconds": round(seconds, 1), "device": self.device}
            timings[stem].update(self.work_of(stem))  # the work it tallied: the running-times page's floor
            write_json(self.timing_file, timings, sort_keys=True)

    def work_of(self, stem: str) -> dict[str, float]:
        """The operations and bytes a notebook's run tallied (``nnutils.work``), from its results file: {"flops",
        "bytes"}, each only if tallied."""
        tally = read_json(self.results / f"{stem}.json").get("work") or {}
        return {key: float(tally[key]) for key in ("flops", "bytes") if isinstance(tally.get(key), int | float)}

    def _finish(self, job: Job, result: runner.Executed, outcomes: dict[str, Outcome]) -> None:
        if result.interrupted:
            self._record(job.key, None, job.source.stem, None)  # runs again next time
            outcomes[job.key] = Outcome(job.key, "interrupted", result.seconds)
        elif result.error:
            self._record(job.key, None, job.source.stem, None)
            outcomes[job.key] = Outcome(job.key, "failed", result.seconds, result.error, result.copy)
            print(f"== {job.key}: FAILED after {duration(result.seconds)}: {result.error}", flush=True)
        else:
            self._record(job.key, job.digest, job.source.stem, result.seconds)
            outcomes[job.key] = Outcome(job.key, "ran", result.seconds)
            print(f"== {job.key}: done in {duration(result.seconds)}", flush=True)

    def run_group(self, sources: Sequence[Path], folder: str, extra: str = "", force: bool = False) -> list[Outcome]:
        """Execute the notebooks of one folder (``notebooks`` or ``book``) in parallel; skip the unchanged ones."""
        hashes, todo, outcomes = read_json(self.hash_file), [], {}
        options = {"profile": self.profile, "cwd": self.root / folder, "check_profile": folder == "notebooks"}
        for source in sources:
            key = f"{folder}/{source.name}"
            digest = notebook_hash(source, self.profile, extra)
            output = self.executed / folder / source.name
            if not force and hashes.get(key) == digest and output.is_file():
                outcomes[key] = Outcome(key, "skipped")
                print(f"== {key}: unchanged, skipped", flush=True)
            else:
                todo.append(Job(key, source, output, digest, options))
        previous = self.previous_times()
        progress = Progress(previous, self.progress_every)
        todo = longest_first(todo, previous)  # so that the last one to start is short
        try:
            if todo:
                run_jobs(todo, self.jobs, self.env(), progress, lambda job, result: self._finish(job, result, outcomes))
        except Interrupted as stopped:
            outcomes.update({key: Outcome(key, "not started") for key in stopped.not_started})
            stopped.outcomes = [outcomes[f"{folder}/{s.name}"] for s in sources]
            raise
        return [outcomes[f"{folder}/{s.name}"] for s in sources]

    def stage(self) -> None:
        """Copy the book's configuration and sources beside the executed notebooks for jupyter-book (a book
        notebook is copied unexecuted only when it has no executed copy yet)."""
        for name in ("_config.yml", "_toc.yml"):
            if (self.root / name).is_file():
                shutil.copy2(self.root / name, self.executed / name)
        book = self.root / "book"
        for path in book.rglob("*") if book.is_dir() else ():
            target = self.executed / "book" / path.relative_to(book)
            if path.is_file() and (path.suffix != ".ipynb" or not target.exists()):  # never over an executed copy
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)

    def run(self, names: Sequence[str] = (), force: bool = False) -> list[Outcome]:
        """Chapters first, then the book's notebooks (which read the chapters' results); returns every outcome.
        Raises :class:`Interrupted` on Ctrl-C, after stopping the notebooks and removing their temporary files."""
        self.executed.mkdir(parents=True, exist_ok=True)
        self.results.mkdir(parents=True, exist_ok=True)
        chapters, pages = (
            select(notebooks_in(self.root / "notebooks"), names),
            select(notebooks_in(self.root / "book"), names),
        )
        if names and not chapters and not pages:
            raise ValueError(f"No notebook matches {', '.join(names)}: give stems such as 01_kmnist or results.")
        self.sweep()
        try:
            pkg = package_hash(self.root / "nnutils") if (self.root / "nnutils").is_dir() else package_hash()
            outcomes = []
            try:
                outcomes += self.run_group(chapters, "notebooks", pkg, force)
                hashes = read_json(self.hash_file)
                chapter_state = json.dumps({k: v for k, v in sorted(hashes.items()) if k.startswith("notebooks/")})
                inputs = [p for p in self.results.glob("*.json") if p.name not in {"timings.json", "build.json"}]
                inputs += [p for p in (self.root / "book").rglob("*") if p.suffix != ".ipynb"]
                outcomes += self.run_group(pages, "book", pkg + chapter_state + files_hash(inputs), force)
            except Interrupted as stopped:
                done = {o.name for o in outcomes + stopped.outcomes}
                later = [Outcome(f"book/{p.name}", "not started") for p in pages if f"book/{p.name}" not in done]
                stopped.outcomes = outcomes + stopped.outcomes + later
                raise
            self.stage()
            return outcomes
        finally:
            self.sweep()


def notebooks_in(folder: Path) -> list[Path]:
    """The notebooks of a folder, sorted; hidden files (a build's temporary copies) are not notebooks."""
    return sorted(p for p in Path(folder).glob("*.ipynb") if not p.name.startswith("."))


def select(paths: Sequence[Path], names: Sequence[str]) -> list[Path]:
    """The notebooks among ``paths`` named by stem or file name (all of them when no names are given)."""
    if not names:
        return list(paths)
    wanted = {Path(n).stem for n in names}
    return [p for p in paths if p.stem in wanted]


def _terminate_as_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnutils.book.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="stems of the notebooks to run (default: all)")
    parser.add_argument("--profile", default="full", choices=PROFILES)
    parser.add_argument("--jobs", type=int, default=None, help="notebooks at a time (default: the number of cores)")
    parser.add_argument("--force", action="store_true", help="run even the notebooks whose inputs are unchanged")
    parser.add_argument("--build", default=None, help="build folder (default: _build in the project)")
    parser.add_argument(
        "--root", default=str(ROOT), help="project folder with notebooks/ and book/ (default: this one)"
    )
    parser.add_argument("--progress-every", type=float, default=30.0, help="seconds between progress lines (0: none)")
    parser.add_argument("--stage-only", action="store_true", help="only copy the book's sources for jupyter-book")
    args = parser.parse_args(argv)
    handlers = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),  # even if started ignoring it
        signal.SIGTERM: signal.signal(signal.SIGTERM, _terminate_as_interrupt),  # a CI timeout stops it as Ctrl-C
    }
    try:
        return _main(args)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def _main(args: argparse.Namespace) -> int:
    builder = Builder(args.root, args.build, args.profile, args.jobs, args.progress_every)
    if args.stage_only:
        builder.executed.mkdir(parents=True, exist_ok=True)
        builder.stage()
        return 0
    for note in builder.notes():
        print(note, flush=True)
    previous = builder.previous_times()
    start = time.perf_counter()
    try:
        outcomes = builder.run(args.notebooks, force=args.force)
    except (Interrupted, KeyboardInterrupt) as stopped:
        print(interrupted_line(getattr(stopped, "outcomes", []), time.perf_counter() - start), flush=True)
        return 130
    wall = time.perf_counter() - start
    ran = [o.name for o in outcomes if o.status == "ran"]
    if ran:
        record = {"profile": args.profile, "jobs": builder.jobs, "seconds": round(wall, 1), "executed": ran}
        from . import bench  # (torch: only once something ran)

        rate = bench.matmul_rate(n=512, device=builder.device, threads=builder.threads)  # the floors' divisors
        moved = bench.copy_rate(device=builder.device, threads=builder.threads)
        record.update(threads=builder.threads, matmul_rate=round(rate), copy_rate=round(moved))
        record.update(commit=git_commit(builder.root))
        write_json(builder.results / "build.json", dict(record, device=builder.device), sort_keys=True)
    print(summary(outcomes, previous), flush=True)
    print(totals_line(outcomes, wall, builder.jobs, args.profile), flush=True)
    failures = failure_lines(outcomes)
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
