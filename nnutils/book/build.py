"""Execute the book's notebooks with papermill: several at a time, skipping those whose inputs have not changed.

    python -m nnutils.book.build --profile ci|full --jobs N [--force] [notebook ...]

Chapter notebooks (``notebooks/*.ipynb``) run first, N at a time, into ``_build/executed/notebooks``; then the
book's own notebooks (``book/*.ipynb``, e.g. the results page) run into ``_build/executed/book``. A notebook is
skipped when the hash of its source, the profile and the ``nnutils`` sources equals the one stored after its last
successful run (``_build/executed/.hashes.json``). Each run's wall time goes into ``<results>/timings.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(__file__).resolve().parents[1]
PROFILES = ("ci", "full")


@dataclass
class Outcome:
    """What happened to one notebook: ran, skipped or failed (with the failing cell), and how long it took."""

    name: str
    status: str  # "ran", "skipped" or "failed"
    seconds: float = 0.0
    error: str = ""


def package_hash(package: Path = PACKAGE) -> str:
    """sha256 over the ``nnutils`` source files (paths and contents), so that a library change re-runs notebooks."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def notebook_hash(path: Path, profile: str, extra: str = "") -> str:
    """sha256 of a notebook's source, the profile it runs in and any other inputs (``extra``)."""
    digest = hashlib.sha256(Path(path).read_bytes())
    digest.update(f"\0profile={profile}\0{extra}".encode())
    return digest.hexdigest()


def files_hash(paths: Iterable[Path]) -> str:
    """sha256 over the names and contents of some files (missing ones are skipped)."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def read_json(path: Path) -> dict:
    """A JSON object from a file; {} when the file is missing or unreadable."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def write_json(path: Path, payload: dict) -> None:
    """Write a JSON object atomically: a temporary file in the same folder, then a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def detect_device() -> str:
    """ "cuda" when PyTorch sees a GPU (the notebooks then train on it), else "cpu"."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _init_worker(env: dict[str, str]) -> None:
    os.environ.update(env)


def _source_cell_index(executed: Path, index: int) -> int:
    """The index in the source notebook of the executed copy's cell ``index`` (papermill inserts one cell)."""
    tags = [c.get("metadata", {}).get("tags", []) for c in read_json(executed).get("cells", [])]
    tags = [t for t in tags if "papermill-error-cell-tag" not in t]  # markers papermill adds after the run
    injected = sum("injected-parameters" in t for t in tags[:index])
    return index - injected


def execute(source: Path, output: Path, profile: str, cwd: Path) -> tuple[float, str]:
    """Run one notebook with papermill into a temporary file, renamed to ``output`` on success.

    Returns (seconds, error); error is "" on success, else "cell <index> (<error name>: <message>)" and the
    partly executed copy is left beside the output as ``<stem>.failed.ipynb``.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.stem}.", suffix=".ipynb")
    os.close(fd)
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(source), tmp, parameters={"profile": profile}, cwd=str(cwd), kernel_name="python3", progress_bar=False
        )
    except PapermillExecutionError as err:
        failed = output.with_suffix(".failed.ipynb")
        os.replace(tmp, failed)
        cell = _source_cell_index(failed, err.cell_index)
        message = err.evalue.strip().splitlines()[-1] if err.evalue.strip() else ""
        where = f"cell {cell} (counting from 0 in the source notebook)"
        return time.perf_counter() - start, f"{where}: {err.ename}: {message}"
    except Exception as err:  # a kernel that died, a notebook that is not JSON, ...
        Path(tmp).unlink(missing_ok=True)
        return time.perf_counter() - start, f"{type(err).__name__}: {err}"
    os.replace(tmp, output)
    return time.perf_counter() - start, ""


class Builder:
    """Executes notebooks into ``<build>/executed``; keeps content hashes and timings between builds."""

    def __init__(self, root: Path = ROOT, build: Path | None = None, profile: str = "full", jobs: int | None = None):
        if profile not in PROFILES:
            raise ValueError(f"Unknown profile {profile!r}: choose one of {', '.join(PROFILES)}.")
        cores = os.cpu_count() or 1
        self.jobs = cores if jobs is None else jobs
        if self.jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}.")
        self.root, self.profile = Path(root).resolve(), profile
        self.build = Path(build).resolve() if build else self.root / "_build"
        self.executed, self.results = self.build / "executed", self.build / "results"
        self.hash_file, self.timing_file = self.executed / ".hashes.json", self.results / "timings.json"
        self.threads = max(1, cores // self.jobs)
        self.device = detect_device()

    def _env(self) -> dict[str, str]:
        threads = str(self.threads)
        return {
            "NNUTILS_PROGRESS": "0",
            "NNUTILS_RESULTS": str(self.results),
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "PYTHONHASHSEED": "0",
        }

    def _record(self, key: str, digest: str | None, stem: str, seconds: float | None) -> None:
        hashes = read_json(self.hash_file)
        if digest is None:
            hashes.pop(key, None)
        else:
            hashes[key] = digest
        write_json(self.hash_file, hashes)
        if seconds is not None:
            timings = read_json(self.timing_file)
            timings[stem] = {"profile": self.profile, "seconds": round(seconds, 1), "device": self.device}
            write_json(self.timing_file, timings)

    def run_group(self, sources: Sequence[Path], folder: str, extra: str = "", force: bool = False) -> list[Outcome]:
        """Execute the notebooks of one folder (``notebooks`` or ``book``) in parallel; skip the unchanged ones."""
        hashes, todo, outcomes = read_json(self.hash_file), [], {}
        for source in sources:
            key = f"{folder}/{source.name}"
            digest = notebook_hash(source, self.profile, extra)
            output = self.executed / folder / source.name
            if not force and hashes.get(key) == digest and output.is_file():
                outcomes[key] = Outcome(key, "skipped")
                print(f"== {key}: unchanged, skipped", flush=True)
            else:
                todo.append((key, source, output, digest))
        cwd = self.root / folder
        env = self._env()
        with ProcessPoolExecutor(
            max_workers=max(1, min(self.jobs, len(todo) or 1)), initializer=_init_worker, initargs=(env,)
        ) as pool:
            futures = {
                key: (pool.submit(execute, src, out, self.profile, cwd), digest, src) for key, src, out, digest in todo
            }
            for key in futures:
                print(f"== {key}: executing (profile {self.profile})", flush=True)
            for key, (future, digest, src) in futures.items():
                seconds, error = future.result()
                if error:
                    self._record(key, None, src.stem, None)
                    outcomes[key] = Outcome(key, "failed", seconds, error)
                    print(f"== {key}: FAILED after {seconds:.0f} s in {error}", flush=True)
                else:
                    self._record(key, digest, src.stem, seconds)
                    outcomes[key] = Outcome(key, "ran", seconds)
                    print(f"== {key}: done in {seconds:.0f} s", flush=True)
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
        """Chapters first, then the book's notebooks (which read the chapters' results); returns every outcome."""
        self.executed.mkdir(parents=True, exist_ok=True)
        self.results.mkdir(parents=True, exist_ok=True)
        chapters = select(sorted((self.root / "notebooks").glob("*.ipynb")), names)
        pages = select(sorted((self.root / "book").glob("*.ipynb")), names)
        if names and not chapters and not pages:
            raise ValueError(f"No notebook matches {', '.join(names)}: give stems such as 01_kmnist or results.")
        pkg = package_hash(self.root / "nnutils") if (self.root / "nnutils").is_dir() else package_hash()
        outcomes = self.run_group(chapters, "notebooks", pkg, force)
        hashes = read_json(self.hash_file)
        chapter_state = json.dumps({k: v for k, v in sorted(hashes.items()) if k.startswith("notebooks/")})
        inputs = [p for p in self.results.glob("*.json") if p.name not in {"timings.json", "build.json"}]
        inputs += [p for p in (self.root / "book").rglob("*") if p.suffix != ".ipynb"]
        outcomes += self.run_group(pages, "book", pkg + chapter_state + files_hash(inputs), force)
        self.stage()
        return outcomes


def select(paths: Sequence[Path], names: Sequence[str]) -> list[Path]:
    """The notebooks among ``paths`` named by stem or file name (all of them when no names are given)."""
    if not names:
        return list(paths)
    wanted = {Path(n).stem for n in names}
    return [p for p in paths if p.stem in wanted]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnutils.book.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="stems of the notebooks to run (default: all)")
    parser.add_argument("--profile", default="full", choices=PROFILES)
    parser.add_argument("--jobs", type=int, default=None, help="notebooks at a time (default: the number of cores)")
    parser.add_argument("--force", action="store_true", help="run even the notebooks whose inputs are unchanged")
    parser.add_argument("--build", default=None, help="build folder (default: _build in the repository)")
    parser.add_argument("--stage-only", action="store_true", help="only copy the book's sources for jupyter-book")
    args = parser.parse_args(argv)
    builder = Builder(build=args.build, profile=args.profile, jobs=args.jobs)
    if args.stage_only:
        builder.executed.mkdir(parents=True, exist_ok=True)
        builder.stage()
        return 0
    start = time.perf_counter()
    outcomes = builder.run(args.notebooks, force=args.force)
    wall = time.perf_counter() - start
    ran = [o for o in outcomes if o.status == "ran"]
    failed = [o for o in outcomes if o.status == "failed"]
    if ran:
        write_json(
            builder.results / "build.json",
            {
                "profile": args.profile,
                "jobs": builder.jobs,
                "seconds": round(wall, 1),
                "device": builder.device,
                "executed": [o.name for o in ran],
            },
        )
    print(
        f"== build: {len(ran)} executed, {len(outcomes) - len(ran) - len(failed)} unchanged, "
        f"{len(failed)} failed, {wall:.0f} s with {builder.jobs} at a time"
    )
    for o in failed:
        print(f"FAILED {o.name}: {o.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
