"""The notebook build: runs once, skips what is unchanged, re-runs what changed, reports a failure by name and cell."""

from __future__ import annotations

import json

import nbformat
import pytest

from nnutils.book.build import Builder, notebook_hash, select


def write_notebook(path, code: str) -> None:
    """A two-cell notebook: the ``parameters`` cell, then ``code``."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "full"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


@pytest.fixture
def project(tmp_path):
    write_notebook(tmp_path / "notebooks" / "a.ipynb", "print('a', profile)")
    write_notebook(tmp_path / "notebooks" / "b.ipynb", "print('b', profile)")
    write_notebook(tmp_path / "book" / "page.ipynb", "print('page')")
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    return tmp_path


def statuses(outcomes) -> dict[str, str]:
    return {o.name: o.status for o in outcomes}


def test_runs_once_then_skips_then_reruns_a_changed_source(project):
    builder = Builder(root=project, profile="ci", jobs=2)
    first = builder.run()
    assert statuses(first) == {"notebooks/a.ipynb": "ran", "notebooks/b.ipynb": "ran", "book/page.ipynb": "ran"}
    executed = nbformat.read(str(project / "_build/executed/notebooks/a.ipynb"), as_version=4)
    assert "a ci" in json.dumps(executed.cells[-1].outputs)  # the profile reached the notebook
    assert (project / "_build/executed/book/intro.md").is_file()  # staged for jupyter-book
    timings = json.loads((project / "_build/results/timings.json").read_text())
    assert timings["a"]["profile"] == "ci" and timings["a"]["device"] in ("cpu", "cuda") and timings["a"]["seconds"] > 0

    second = Builder(root=project, profile="ci", jobs=2).run()
    assert set(statuses(second).values()) == {"skipped"}

    write_notebook(project / "notebooks" / "b.ipynb", "print('b changed')")
    third = Builder(root=project, profile="ci", jobs=2).run()
    # b changed; the book page reads the chapters' results, so it follows them.
    assert statuses(third) == {"notebooks/a.ipynb": "skipped", "notebooks/b.ipynb": "ran", "book/page.ipynb": "ran"}


def test_a_failing_notebook_is_named_with_its_cell_and_the_others_are_kept(project):
    write_notebook(project / "notebooks" / "c.ipynb", "raise RuntimeError('boom')")
    outcomes = {o.name: o for o in Builder(root=project, profile="ci", jobs=2).run(["a", "c"])}
    failed = outcomes["notebooks/c.ipynb"]
    assert failed.status == "failed" and "cell 1" in failed.error and "RuntimeError: boom" in failed.error
    assert outcomes["notebooks/a.ipynb"].status == "ran"
    hashes = json.loads((project / "_build/executed/.hashes.json").read_text())
    assert "notebooks/a.ipynb" in hashes and "notebooks/c.ipynb" not in hashes
    assert (project / "_build/executed/notebooks/a.ipynb").is_file()
    assert (project / "_build/executed/notebooks/c.failed.ipynb").is_file()
    assert not (project / "_build/executed/notebooks/c.ipynb").exists()


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
