"""One notebook run by papermill inside a build worker: progress events to the build, a clean stop on interrupt.

The build (``nnutils.book.build``) starts its workers with :func:`init_worker` and runs :func:`execute` in them. A
worker ignores Ctrl-C (the build decides what to stop); on :data:`STOP_SIGNAL` it interrupts its kernel, and a
notebook that is asked to stop runs no further cell, so papermill shuts its kernel down the ordinary way.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import time
from pathlib import Path
from typing import NamedTuple

from ..files import read_json

STOP_SIGNAL = signal.SIGUSR1 if hasattr(signal, "SIGUSR1") else signal.SIGTERM
ENGINE = "nnutils-build"
# The kernel logs only errors: no "Kernel is running over TCP without encryption" warning for every notebook (its
# sockets listen on localhost only); the notebooks' own warnings and errors still show in their outputs.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
STARTS = 2  # a kernel that fails to start (another program took its port first) is started once more

_events = None  # multiprocessing queue to the build: (notebook, "start", pid) and (notebook, "cell", done, total)
_stop = None  # multiprocessing event: the build was interrupted
_registered = False  # the progress engine is registered with papermill in this process
_client = None  # the notebook client of the run in progress (its kernel is the one to interrupt)
_cells_started = 0  # cells the run in progress has begun (none: its kernel did not start)


class Executed(NamedTuple):
    """How one run ended: seconds; error ("" on success); the path of the failed executed copy; interrupted."""

    seconds: float
    error: str = ""
    copy: str = ""
    interrupted: bool = False


class Interrupted(Exception):
    """The build was interrupted: the notebook runs no further cell."""


def init_worker(env: dict[str, str], events=None, stop=None) -> None:
    """Set up a worker process: the kernels' environment, the event queue, and the signals."""
    global _events, _stop
    os.environ.update(env)
    _events, _stop = events, stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the build, which stops the workers itself
    signal.signal(STOP_SIGNAL, _interrupt_kernel)
    if STOP_SIGNAL != signal.SIGTERM:
        signal.signal(signal.SIGTERM, _raise_interrupted)  # the build's second resort: unwind, shut the kernel down
    _register_engine()


def _stopping() -> bool:
    return _stop is not None and _stop.is_set()


def _send(*event) -> None:
    if _events is not None:
        with contextlib.suppress(Exception):
            _events.put_nowait(event)


def _interrupt_kernel(signum, frame) -> None:
    """Interrupt the running cell (SIGINT to the kernel's process group, as Jupyter's interrupt button does)."""
    provisioner = getattr(getattr(_client, "km", None), "provisioner", None)
    pgid, pid = getattr(provisioner, "pgid", None), getattr(provisioner, "pid", None)
    with contextlib.suppress(OSError):
        if pgid and hasattr(os, "killpg"):
            os.killpg(pgid, signal.SIGINT)
        elif pid:
            os.kill(pid, signal.SIGINT)


def _raise_interrupted(signum, frame) -> None:
    raise Interrupted("stopped by the build")


def preload() -> None:
    """Import papermill and register the progress engine (in the build, before it forks its workers)."""
    _register_engine()


def _register_engine() -> None:
    """A papermill engine that reports each finished cell and runs no cell once the build is interrupted."""
    global _registered
    if _registered:
        return
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class ProgressEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, start_timeout=60, notebook="", **kwargs):
            global _client
            total, cell_start, cell_complete = len(nb_man.nb.cells), nb_man.cell_start, nb_man.cell_complete

            def start(cell, cell_index=None, **kw):
                global _cells_started
                if _stopping():
                    raise Interrupted("the build was interrupted")
                _cells_started += 1
                return cell_start(cell, cell_index, **kw)

            def complete(cell, cell_index=None, **kw):
                cell_complete(cell, cell_index, **kw)
                _send(notebook, "cell", (cell_index or 0) + 1, total)

            nb_man.cell_start, nb_man.cell_complete = start, complete
            _client = PapermillNotebookClient(
                nb_man,
                kernel_name=kernel_name,
                log=logging.getLogger("papermill"),
                startup_timeout=start_timeout,
                extra_arguments=KERNEL_ARGUMENTS,
                shutdown_kernel="immediate",  # the copy is saved; a graceful shutdown that outlasts its wait
            )  # ends in a SIGINT and a stray "KeyboardInterrupt caught in kernel" line in the build's output
            try:
                return _client.execute()
            finally:
                _client = None

    papermill_engines.register(ENGINE, ProgressEngine)
    _registered = True


def first_line(text: str) -> str:
    """The first non-empty line of a message (where a data error says what is missing and where it looked)."""
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def source_cell_index(executed: Path, index: int) -> int:
    """The index in the source notebook of the executed copy's cell ``index`` (papermill inserts one cell)."""
    tags = [c.get("metadata", {}).get("tags", []) for c in read_json(executed).get("cells", [])]
    tags = [t for t in tags if "papermill-error-cell-tag" not in t]  # markers papermill adds after the run
    return index - sum("injected-parameters" in t for t in tags[:index])


def profile_error(results_file: Path, profile: str, stem: str) -> str:
    """Why the run cannot be labelled ``profile`` ("" when its results file records that profile)."""
    recorded = read_json(results_file).get("profile")
    if recorded is None:
        return (
            f"it recorded no profile (expected in {results_file}): a chapter creates "
            f'nnutils.results.Results("{stem}", cfg.profile) and records its numbers'
        )
    if recorded != profile:
        return (
            f"it ran in profile {recorded!r}, not {profile!r} as the build asked (recorded in {results_file}): "
            "a chapter takes its profile from nnutils.profiles.settings(profile, ...)"
        )
    return ""


def hide_injected_parameters(path: Path) -> None:
    """Tag the cell papermill injects (``# Parameters``, ``profile = ...``) ``remove-cell``, so the site does not
    show it; the notebook's own parameters cell already says its profile. Drop the widgets' saved state: the
    site has no kernel, and with it a page would fetch widget scripts from the network to draw a dead widget."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def execute(source: Path, output: Path, profile: str, cwd: Path, check_profile: bool = True) -> Executed:
    """Run one notebook with papermill into a hidden temporary copy, renamed to ``output`` on success.

    With ``check_profile`` the notebook must record the profile it ran in ``$NNUTILS_RESULTS/<stem>.json``
    (as ``nnutils.results.Results`` does), and it must be ``profile``. A failed run's copy is kept as
    ``<stem>.failed.ipynb`` beside ``output``; an interrupted one leaves nothing.
    """
    global _cells_started
    key, start = f"{Path(cwd).name}/{Path(source).name}", time.perf_counter()
    if _stopping():
        return Executed(0.0, "interrupted before it started", interrupted=True)
    _send(key, "start", os.getpid())
    _register_engine()
    output, source = Path(output), Path(source)
    output.parent.mkdir(parents=True, exist_ok=True)
    results_file = Path(os.environ.get("NNUTILS_RESULTS", ".")).resolve() / f"{source.stem}.json"
    attempt = 0
    while True:
        attempt += 1
        if check_profile:
            results_file.unlink(missing_ok=True)  # a stale file from another profile must not pass the check
        _cells_started = 0
        tmp = output.parent / f".{output.stem}.{secrets.token_hex(4)}.ipynb"
        try:
            error, copy, interrupted = _run(source, tmp, output, profile, cwd, key, results_file, check_profile)
        finally:
            tmp.unlink(missing_ok=True)
        if interrupted or not error or _cells_started or attempt == STARTS:
            return Executed(time.perf_counter() - start, error, copy, interrupted)


def has_parameters_cell(path: Path) -> bool:
    """Whether a notebook has a cell tagged ``parameters`` (papermill injects the profile after it)."""
    cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    return any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells)


def _run(source, tmp, output, profile, cwd, key, results_file, check_profile) -> tuple[str, str, bool]:
    """One papermill run: (error, failed copy, interrupted)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    failed = output.with_suffix(".failed.ipynb")
    try:
        pm.execute_notebook(
            str(source),
            str(tmp),
            parameters={"profile": profile} if has_parameters_cell(source) else {},  # (a book page has none)
            cwd=str(cwd),
            kernel_name="python3",
            progress_bar=False,
            engine_name=ENGINE,
            notebook=key,
        )
        error = profile_error(results_file, profile, source.stem) if check_profile else ""
        hide_injected_parameters(tmp)
        os.replace(tmp, failed if error else output)
        if not error:
            failed.unlink(missing_ok=True)  # an earlier failure's copy is out of date now
        return error, str(failed) if error else "", False
    except PapermillExecutionError as err:
        if _stopping() or err.ename == "KeyboardInterrupt":
            return "interrupted", "", True
        os.replace(tmp, failed)
        where = f"cell {source_cell_index(failed, err.cell_index)} (counting from 0 in the source notebook)"
        message = first_line(err.evalue)
        return f"{where}: {err.ename}" + (f": {message}" if message else ""), str(failed), False
    except (Exception, KeyboardInterrupt) as err:  # a kernel that died or did not start, a notebook that is not JSON
        if _stopping() or isinstance(err, Interrupted | KeyboardInterrupt):
            return "interrupted", "", True
        return f"{type(err).__name__}: {first_line(err)}", "", False
