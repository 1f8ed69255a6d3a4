"""The notebook build: runs once, skips what is unchanged, re-runs what changed, reports a failure by name, first
line and cell, runs the profile it was asked for, shows its progress, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import nbformat
import pytest

from nnutils.book.build import Builder, Outcome, main, notebook_hash, select
from nnutils.book.progress import Progress, duration, failure_lines, interrupted_line, summary
from nnutils.book.runner import has_parameters_cell

# What a chapter does through nnutils.results.Results: record the profile it ran in, by the one rule.
RECORD = """import json, os, pathlib
from nnutils.profiles import resolve_profile
pathlib.Path(os.environ["NNUTILS_RESULTS"], "{stem}.json").write_text(
    json.dumps({{"notebook": "{stem}", "profile": {recorded}, "values": {{}}}}))"""


def write_notebook(path, code: str, recorded: str | None = "resolve_profile(profile)") -> None:
    """The ``parameters`` cell, a cell that records the profile (unless ``recorded`` is None), then ``code``."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "full"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params]
    if recorded:
        nb.cells.append(nbformat.v4.new_code_cell(RECORD.format(stem=path.stem, recorded=recorded)))
    nb.cells.append(nbformat.v4.new_code_cell(code))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


@pytest.fixture
def project(tmp_path):
    write_notebook(tmp_path / "notebooks" / "a.ipynb", "print('a', profile)")
    write_notebook(tmp_path / "notebooks" / "b.ipynb", "print('b', profile)")
    write_notebook(tmp_path / "book" / "page.ipynb", "print('page')", recorded=None)
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    (tmp_path / "nnutils").mkdir()  # hashed instead of the real package, which may change while the tests run
    (tmp_path / "nnutils" / "lib.py").write_text("x = 1\n")
    return tmp_path


def statuses(outcomes) -> dict[str, str]:
    return {o.name: o.status for o in outcomes}


def hidden_files(folder) -> list[str]:
    """Hidden files (temporary copies and half-written files) anywhere under ``folder``, but the hash store."""
    return sorted(str(p) for p in folder.rglob(".*") if p.is_file() and p.name != ".hashes.json")


def test_runs_once_then_skips_then_reruns_a_changed_source(project, capfd):
    stale = [project / "notebooks/.a.1x2y3z.ipynb", project / "_build/executed/notebooks/.b.9f8e.ipynb"]
    stale.append(project / "_build/executed/.hashes.json.abc.part")
    for path in stale:  # left by an earlier build that was killed
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    old_umask = os.umask(0o022)
    try:
        first = Builder(root=project, profile="ci", jobs=2).run()
    finally:
        os.umask(old_umask)
    assert statuses(first) == {"notebooks/a.ipynb": "ran", "notebooks/b.ipynb": "ran", "book/page.ipynb": "ran"}
    assert hidden_files(project) == []  # stale temporaries swept, none of this build's left
    executed = project / "_build/executed/notebooks/a.ipynb"
    cells = nbformat.read(str(executed), as_version=4).cells
    assert "a ci" in json.dumps(cells[-1].outputs)
    injected = [c for c in cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and all("remove-cell" in c.metadata.tags for c in injected)  # the site does not show it
    assert (project / "_build/executed/book/intro.md").is_file()  # staged for jupyter-book
    timings = json.loads((project / "_build/results/timings.json").read_text())
    assert timings["a"]["profile"] == "ci" and timings["a"]["device"] in ("cpu", "cuda") and timings["a"]["seconds"] > 0
    for path in (executed, project / "_build/results/timings.json", project / "_build/executed/.hashes.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path  # not mkstemp's 0600
    assert "without encryption" not in capfd.readouterr().err  # the kernel's transport warning is silenced

    second = Builder(root=project, profile="ci", jobs=2).run()
    assert set(statuses(second).values()) == {"skipped"}

    write_notebook(project / "notebooks" / "b.ipynb", "print('b changed')")
    third = Builder(root=project, profile="ci", jobs=2).run()
    # b changed; the book page reads the chapters' results, so it follows them.
    assert statuses(third) == {"notebooks/a.ipynb": "skipped", "notebooks/b.ipynb": "ran", "book/page.ipynb": "ran"}


def test_the_longest_notebook_starts_first_by_this_build_or_else_the_committed_logs(project, capfd):
    logs = project / "book" / "timings"
    logs.mkdir()
    log = {"a": {"profile": "ci", "seconds": 5.0}, "b": {"profile": "ci", "seconds": 50.0}}
    (logs / "cpu-ci.json").write_text(json.dumps(log | {"page": {"profile": "full", "seconds": 9.0}}))
    (logs / "cpu-ci-build.json").write_text(json.dumps({"profile": "ci", "seconds": 70.0}))  # a build log: no entries
    builder = Builder(root=project, profile="ci", jobs=1)
    assert builder.previous_times() == {"notebooks/a.ipynb": 5.0, "notebooks/b.ipynb": 50.0}  # page: another profile
    builder.run()
    started = [line for line in capfd.readouterr().out.splitlines() if line.endswith(")") and "executing" in line]
    assert started[0].startswith("== notebooks/b.ipynb: executing (last run 50 s)"), started
    own = {"a": {"profile": "ci", "seconds": 80.0}}  # this build's own record wins over the committed log
    (project / "_build/results/timings.json").write_text(json.dumps(own))
    assert builder.previous_times()["notebooks/a.ipynb"] == 80.0


def test_estimates_come_from_a_committed_build_of_the_same_schedule_where_there_is_one(project):
    logs = project / "book" / "timings"
    logs.mkdir()
    for name, jobs, seconds in (("a-1x2", 1, 40.0), ("b-2x1", 2, 70.0)):  # b-2x1 sorts last: it won before
        (logs / f"{name}.json").write_text(json.dumps({"a": {"profile": "full", "seconds": seconds}}))
        (logs / f"{name}-build.json").write_text(json.dumps({"profile": "full", "jobs": jobs, "executed": ["a"]}))
    assert Builder(root=project, profile="full", jobs=1).previous_times() == {"notebooks/a.ipynb": 40.0}
    assert Builder(root=project, profile="full", jobs=2).previous_times() == {"notebooks/a.ipynb": 70.0}
    assert Builder(root=project, profile="full", jobs=3).previous_times() == {"notebooks/a.ipynb": 70.0}  # by name


def test_among_builds_of_the_same_schedule_the_closest_machine_gives_the_estimates(project):
    logs = project / "book" / "timings"
    logs.mkdir()
    for name, rate, seconds in (("fast", 1.6e11, 40.0), ("slow", 0.9e11, 70.0), ("unrated", None, 99.0)):
        (logs / f"{name}.json").write_text(json.dumps({"a": {"profile": "full", "seconds": seconds}}))
        record = {"profile": "full", "jobs": 2, "executed": ["a"]} | ({"matmul_rate": rate} if rate else {})
        (logs / f"{name}-build.json").write_text(json.dumps(record))
    for here, expected in ((1.5e11, 40.0), (1.0e11, 70.0), (3e11, 40.0), (1e10, 70.0)):
        builder = Builder(root=project, profile="full", jobs=2)
        builder.__dict__["matmul_rate"] = here  # this machine's rate, as if measured
        assert builder.previous_times() == {"notebooks/a.ipynb": expected}, here


def test_longest_first_puts_unrecorded_jobs_first_and_keeps_ties_in_order():
    from nnutils.book.pool import Job, longest_first

    jobs = [Job(key, None, None, "") for key in ("a", "b", "c", "d")]
    order = longest_first(jobs, {"a": 10.0, "b": 30.0, "d": 10.0})
    assert [job.key for job in order] == ["c", "b", "a", "d"]


def test_executed_copies_keep_no_widget_state(project):
    """The site has no kernel: a widget's saved state would make its page load widget scripts from the network."""
    write_notebook(project / "notebooks" / "a.ipynb", "import ipywidgets\nipywidgets.IntSlider(3)")
    Builder(root=project, profile="ci", jobs=1).run()
    executed = nbformat.read(str(project / "_build/executed/notebooks/a.ipynb"), as_version=4)
    assert "application/vnd.jupyter.widget-view+json" in json.dumps(executed.cells[-1].outputs)  # it did run
    assert "widgets" not in executed.metadata


def test_a_failing_notebook_is_named_with_its_cell_first_line_and_copy(project):
    write_notebook(project / "notebooks" / "c.ipynb", "raise RuntimeError('boom: not found\\nsearched: here')")
    write_notebook(project / "notebooks" / "d.ipynb", "assert 1 + 1 == 3")
    outcomes = {o.name: o for o in Builder(root=project, profile="ci", jobs=2).run(["a", "c", "d"])}
    failed = outcomes["notebooks/c.ipynb"]
    assert failed.status == "failed" and "cell 2" in failed.error  # counted in the source (the record cell is 1)
    assert "RuntimeError: boom: not found" in failed.error and "searched" not in failed.error  # the first line
    copy = project / "_build/executed/notebooks/c.failed.ipynb"
    assert failed.copy == str(copy) and copy.is_file()
    assert outcomes["notebooks/d.ipynb"].error.endswith(
        "cell 2 (counting from 0 in the source notebook): AssertionError"
    )
    assert outcomes["notebooks/a.ipynb"].status == "ran"
    hashes = json.loads((project / "_build/executed/.hashes.json").read_text())
    assert "notebooks/a.ipynb" in hashes and "notebooks/c.ipynb" not in hashes
    assert (project / "_build/executed/notebooks/a.ipynb").is_file()
    assert not (project / "_build/executed/notebooks/c.ipynb").exists()
    write_notebook(project / "notebooks" / "c.ipynb", "print('mended')")
    assert statuses(Builder(root=project, profile="ci").run(["c"])) == {"notebooks/c.ipynb": "ran"}
    assert not copy.exists()  # the out-of-date failed copy is gone


def test_the_build_runs_its_own_profile_whatever_the_environment_says(project, monkeypatch, capsys):
    monkeypatch.setenv("NNUTILS_PROFILE", "ci")
    assert main(["--root", str(project), "--profile", "full", "--progress-every", "0", "a"]) == 0
    out = capsys.readouterr().out
    assert "note: NNUTILS_PROFILE=ci in the environment is not used" in out and "--profile full" in out
    executed = nbformat.read(str(project / "_build/executed/notebooks/a.ipynb"), as_version=4)
    assert "a full" in json.dumps(executed.cells[-1].outputs)
    assert json.loads((project / "_build/results/a.json").read_text())["profile"] == "full"
    assert json.loads((project / "_build/results/timings.json").read_text())["a"]["profile"] == "full"
    monkeypatch.setenv("NNUTILS_PROFILE", "bogus")  # not even a profile: the build's own wins all the same
    assert statuses(Builder(root=project, profile="ci").run(["a"])) == {"notebooks/a.ipynb": "ran"}


def test_the_logs_carry_each_notebooks_work_and_the_machines_rate(project):
    worked = """import json, os, pathlib
pathlib.Path(os.environ["NNUTILS_RESULTS"], "w.json").write_text(
    json.dumps({"notebook": "w", "profile": "ci", "values": {},
                "work": {"flops": 5e9, "bytes": 3e9, "examples": 10}}))"""
    write_notebook(project / "notebooks" / "w.ipynb", worked, recorded=None)
    assert main(["--root", str(project), "--profile", "ci", "--progress-every", "0", "--jobs", "1", "w", "a"]) == 0
    timings = json.loads((project / "_build/results/timings.json").read_text())
    assert timings["w"]["flops"] == 5e9 and timings["w"]["bytes"] == 3e9
    assert "flops" not in timings["a"] and "bytes" not in timings["a"]  # a tallied nothing
    log = json.loads((project / "_build/results/build.json").read_text())
    assert log["jobs"] == 1 and log["threads"] == (os.cpu_count() or 1)
    assert log["matmul_rate"] > 1e8 and log["copy_rate"] > 1e8
    assert log["commit"] == "" and log["executed"] == ["notebooks/a.ipynb", "notebooks/w.ipynb"]  # not a git tree


def test_a_page_without_a_parameters_cell_gets_no_parameters_and_no_warning(project, capfd):
    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('plain page')")])
    page.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(page, str(project / "book" / "plain.ipynb"))
    assert has_parameters_cell(project / "notebooks" / "a.ipynb") and not has_parameters_cell(
        project / "book/plain.ipynb"
    )
    assert statuses(Builder(root=project, profile="ci", progress_every=0).run(["plain"])) == {"book/plain.ipynb": "ran"}
    captured = capfd.readouterr()
    assert "parameters" not in captured.out + captured.err
    executed = nbformat.read(str(project / "_build/executed/book/plain.ipynb"), as_version=4)
    assert len(executed.cells) == 1, "nothing injected"


def test_a_notebook_that_ran_another_profile_or_recorded_none_fails(project):
    write_notebook(project / "notebooks" / "fixed.ipynb", "pass", recorded="'ci'")  # ignores both routes
    write_notebook(project / "notebooks" / "silent.ipynb", "pass", recorded=None)
    outcomes = {o.name: o for o in Builder(root=project, profile="full").run(["fixed", "silent"])}
    fixed, silent = outcomes["notebooks/fixed.ipynb"], outcomes["notebooks/silent.ipynb"]
    assert fixed.status == "failed" and "it ran in profile 'ci', not 'full' as the build asked" in fixed.error
    assert silent.status == "failed" and "it recorded no profile" in silent.error and "Results(" in silent.error
    hashes = json.loads((project / "_build/executed/.hashes.json").read_text())
    assert not {"notebooks/fixed.ipynb", "notebooks/silent.ipynb"} & set(hashes)
    assert not (project / "_build/executed/notebooks/fixed.ipynb").exists()  # no copy labelled full
    assert (project / "_build/executed/notebooks/fixed.failed.ipynb").is_file()


def test_ctrl_c_stops_the_build_cleanly_and_the_next_build_continues(tmp_path, monkeypatch):
    marker = tmp_path / "b.pid"
    write_notebook(tmp_path / "notebooks" / "a.ipynb", "print('a')")
    slow = f"import os, pathlib, time\npathlib.Path({str(marker)!r}).write_text(str(os.getpid()))\n"
    write_notebook(tmp_path / "notebooks" / "b.ipynb", slow + "time.sleep(float(os.environ.get('SLEEP', 120)))")
    write_notebook(tmp_path / "notebooks" / "c.ipynb", "print('c')")
    (tmp_path / "nnutils").mkdir()
    command = [sys.executable, "-m", "nnutils.book.build", "--root", str(tmp_path), "--profile", "ci", "--jobs", "1"]
    build = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not marker.exists() and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert marker.exists(), "notebook b never started"
    time.sleep(0.5)
    os.killpg(build.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
    out, err = build.communicate(timeout=90)
    assert build.returncode == 130, out + err
    lines = [line for line in out.splitlines() if "interrupted" in line]
    assert len(lines) == 1 and "stopped notebooks/b.ipynb; not started: notebooks/c.ipynb" in lines[0], out
    assert "Traceback" not in err and "DeadKernelError" not in err, err
    assert hidden_files(tmp_path) == []
    kernel = int(marker.read_text())
    for _ in range(50):  # the kernel was shut down
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"kernel {kernel} still runs after the interrupt")
    monkeypatch.setenv("SLEEP", "0")
    again = Builder(root=tmp_path, profile="ci", jobs=2).run()
    assert statuses(again) == {"notebooks/a.ipynb": "skipped", "notebooks/b.ipynb": "ran", "notebooks/c.ipynb": "ran"}


def test_kernels_get_absolute_paths_one_thread_budget_and_the_profile(project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.setenv("NNUTILS_DATA", "../data")
    monkeypatch.setenv("NNUTILS_PROFILE", "ci")
    env = Builder(root=project, profile="full", jobs=2).env()
    assert env["NNUTILS_DATA"] == str(project.parent / "data") and env["NNUTILS_PROFILE"] == "full"
    assert env["NNUTILS_RESULTS"] == str(project / "_build" / "results")
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == str(max(1, (os.cpu_count() or 1) // 2))
    monkeypatch.delenv("NNUTILS_JOBS", raising=False)
    alone = Builder(root=project, profile="full", jobs=1).env()  # one notebook at a time: its sweeps use every core
    assert alone["NNUTILS_JOBS"] == alone["OMP_NUM_THREADS"] == str(os.cpu_count() or 1)
    monkeypatch.setenv("NNUTILS_JOBS", "1")
    assert Builder(root=project, profile="full", jobs=1).env()["NNUTILS_JOBS"] == "1"  # the caller's choice wins


def test_progress_lines_say_cells_time_and_time_left_by_the_last_run():
    now, lines = [0.0], []
    progress = Progress({"notebooks/a.ipynb": 100.0}, every=30, clock=lambda: now[0], out=lines.append)
    progress.start("notebooks/a.ipynb")
    progress.event(("notebooks/a.ipynb", "start", 4242))
    progress.event(("notebooks/a.ipynb", "cell", 3, 12))
    now[0] = 10.0
    progress.tick()  # not yet due
    now[0] = 40.0
    progress.tick()
    now[0] = 130.0
    progress.tick()
    assert lines == [
        "== notebooks/a.ipynb: executing (last run 1 min 40 s)",
        "== notebooks/a.ipynb: cell 3/12, 40 s so far, about 1 min 00 s left by the last run (1 min 40 s)",
        "== notebooks/a.ipynb: cell 3/12, 2 min 10 s so far, 30 s longer than the last run (1 min 40 s)",
    ]
    assert progress.pids() == {"notebooks/a.ipynb": 4242}
    assert duration(None) == "-" and duration(3725) == "1 h 02 min"


def test_summary_table_lists_each_notebook_with_status_and_times():
    outcomes = [Outcome("notebooks/a.ipynb", "ran", 12.0), Outcome("notebooks/b.ipynb", "skipped")]
    outcomes.append(Outcome("notebooks/c.ipynb", "failed", 75.0, "cell 3: ValueError: bad"))
    table = summary(outcomes, {"notebooks/b.ipynb": 65.0, "notebooks/c.ipynb": 80.0}).splitlines()
    assert [line.strip().split("  ")[0] for line in table] == ["notebook", "-" * 17] + [o.name for o in outcomes]
    assert [" ".join(line.split()[1:]) for line in table[2:]] == [
        "ran 12 s -",
        "skipped - 1 min 05 s",
        "failed 1 min 15 s 1 min 20 s",
    ]


def test_the_failure_and_interrupt_lines_say_what_and_where():
    failed = Outcome(
        "notebooks/c.ipynb", "failed", 5.0, "cell 3 (counting from 0): DataError: x not found.", "/b/c.failed.ipynb"
    )
    assert failure_lines([failed, Outcome("notebooks/a.ipynb", "ran")]) == [
        "FAILED notebooks/c.ipynb: cell 3 (counting from 0): DataError: x not found. (executed copy: /b/c.failed.ipynb)"
    ]
    stopped = [Outcome("notebooks/b.ipynb", "interrupted", 3.0), Outcome("notebooks/c.ipynb", "not started")]
    assert interrupted_line(stopped, 65) == (
        "== build interrupted after 1 min 05 s: stopped notebooks/b.ipynb; not started: notebooks/c.ipynb; "
        "finished notebooks are kept, and the same command continues from there"
    )
    assert "no notebook was running" in interrupted_line([], 1)


def test_hash_depends_on_source_profile_and_library(tmp_path):
    path = tmp_path / "n.ipynb"
    write_notebook(path, "x = 1")
    base = notebook_hash(path, "ci", "lib1")
    assert base == notebook_hash(path, "ci", "lib1")
    assert base != notebook_hash(path, "full", "lib1")
    assert base != notebook_hash(path, "ci", "lib2")


def test_bad_arguments_raise_clear_errors(project):
    with pytest.raises(ValueError, match="Unknown profile"):
        Builder(root=project, profile="fast")
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        Builder(root=project, jobs=0)
    with pytest.raises(ValueError, match="No notebook matches"):
        Builder(root=project, profile="ci").run(["nope"])
    assert [p.stem for p in select([project / "x.ipynb", project / "y.ipynb"], ["y"])] == ["y"]
