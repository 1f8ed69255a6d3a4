"""The notebooks' set-up cell: written from _config.yml, idempotent, and in a fresh environment it installs nnutils."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from nnutils.book import setup_cell

ROOT = Path(__file__).parents[1]


def notebook(tmp_path, cells):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n")
    return path


def code(source, *tags):
    return {"cell_type": "code", "execution_count": None, "id": source[:8], "metadata": {"tags": list(tags)},
            "outputs": [], "source": [source]}  # fmt: skip


def test_install_source_is_the_configured_repository_and_branch(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://github.com/someone/course/\n  branch: spring\n")
    assert setup_cell.install_source(config) == "git+https://github.com/someone/course@spring"
    config.write_text("title: no repository\n")
    with pytest.raises(ValueError, match="names no repository"):
        setup_cell.install_source(config)


def test_cell_is_inserted_after_parameters_once(tmp_path):
    path = notebook(tmp_path, [{"cell_type": "markdown", "id": "t", "metadata": {}, "source": ["# T"]},
                               code("profile = 'full'", "parameters"), code("import nnutils")])  # fmt: skip
    assert setup_cell.write_cell(path, "git+https://example.org/a@main")
    text = path.read_text()
    assert not setup_cell.write_cell(path, "git+https://example.org/a@main") and path.read_text() == text
    cells = json.loads(text)["cells"]
    assert [setup_cell.is_setup_cell(c) for c in cells] == [False, False, True, False]
    assert cells[2]["metadata"]["tags"] == ["remove-cell"] and cells[2]["outputs"] == []
    assert '"git+https://example.org/a@main"' in "".join(cells[2]["source"])


def test_cell_is_rewritten_in_place_when_the_repository_changes(tmp_path):
    path = notebook(tmp_path, [code("profile = 'full'", "parameters"), code("x = 1")])
    setup_cell.write_cell(path, "git+https://example.org/a@main")
    assert setup_cell.write_cell(path, "git+https://example.org/b@dev")
    cells = json.loads(path.read_text())["cells"]
    assert len(cells) == 3 and "example.org/b@dev" in "".join(cells[1]["source"])
    assert "example.org/a" not in path.read_text()


def test_a_notebook_without_parameters_cell_is_refused(tmp_path):
    path = notebook(tmp_path, [code("x = 1")])
    with pytest.raises(ValueError, match="parameters"):
        setup_cell.write_cell(path, "git+https://example.org/a@main")


def fresh_environment(tmp_path):
    """A new virtual environment without nnutils that sees this environment's other packages (torch, pip, ...)."""
    shared = tmp_path / "shared-packages"
    shared.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(("nnutils", "__editable__")) and "nnutils" not in entry.name:
            (shared / entry.name).symlink_to(entry)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", tmp_path / "venv"], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    Path(purelib, "shared.pth").write_text(f"{shared}\n")
    return python


def test_setup_cell_installs_nnutils_in_a_fresh_environment(tmp_path):
    python = fresh_environment(tmp_path)
    checkout = tmp_path / "checkout"  # a copy, so that building the package leaves the working tree as it is
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, checkout / name)
    shutil.copytree(ROOT / "nnutils", checkout / "nnutils", ignore=shutil.ignore_patterns("__pycache__"))
    cell = tmp_path / "cell.py"
    cell.write_text(setup_cell.cell_source(setup_cell.install_source()))
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0")  # offline: this environment's setuptools
    env[setup_cell.SOURCE_VAR] = str(checkout)
    check = [python, "-c", "import importlib.util; print(importlib.util.find_spec('nnutils') is None)"]
    assert subprocess.run(check, cwd=tmp_path, capture_output=True, text=True).stdout.strip() == "True"
    ran = subprocess.run([python, cell], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [f"Installing nnutils from {checkout}"]
    imported = [python, "-c", "import nnutils, nnutils.data; print(nnutils.__file__)"]
    where = subprocess.run(imported, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(tmp_path / "venv"))
    again = subprocess.run([python, cell], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert again.stdout == ""  # installed: the cell does nothing


def test_failed_install_says_what_pip_said(tmp_path):
    python = fresh_environment(tmp_path)
    cell = tmp_path / "cell.py"
    cell.write_text(setup_cell.cell_source("git+https://example.org/a@main"))
    env = dict(os.environ, PIP_NO_INDEX="1", **{setup_cell.SOURCE_VAR: str(tmp_path / "missing")})
    ran = subprocess.run([python, cell], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode != 0 and "pip could not install nnutils from" in ran.stderr
