"""The notebooks' set-up cell: where ``nnutils`` is missing (Colab, Binder, a bare Jupyter) it installs it from the
repository named in ``_config.yml``. ``python -m nnutils.book.setup_cell`` (re)writes it into every notebook."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import yaml

from ..files import atomic_write

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "_config.yml"
NOTEBOOKS = ROOT / "notebooks"
SOURCE_VAR = "NNUTILS_INSTALL_SOURCE"
TAG = "remove-cell"
FIRST_LINE = "# Set-up for Colab, Binder or a bare Jupyter: install the workbook's package nnutils if it is missing."
TEMPLATE = f"""{FIRST_LINE}
# Written from _config.yml by `python -m nnutils.book.setup_cell`; {SOURCE_VAR} overrides the source.
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("nnutils") is None:
    source = os.environ.get("{SOURCE_VAR}", "{{source}}")
    print(f"Installing nnutils from {{{{source}}}}")
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], capture_output=True, text=True)
    if pip.returncode:
        raise RuntimeError(f"pip could not install nnutils from {{{{source}}}}:\\n{{{{pip.stderr}}}}")
    importlib.invalidate_caches()"""


def install_source(config: Path = CONFIG) -> str:
    """The pip requirement of the repository named in the book's configuration: ``git+<url>@<branch>``."""
    repository = (yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}).get("repository") or {}
    url, branch = repository.get("url"), repository.get("branch") or "main"
    if not url:
        raise ValueError(f"{config} names no repository (repository: url: https://github.com/<owner>/<name>).")
    return f"git+{str(url).rstrip('/')}@{branch}"


def cell_source(source: str) -> str:
    """The set-up cell's code, installing from ``source`` unless the environment variable names another."""
    return TEMPLATE.format(source=source)


def parameters_index(cells: list[dict]) -> int:
    """Index of the first code cell, which must be the one tagged ``parameters``."""
    first = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), None)
    if first is None or "parameters" not in cells[first].get("metadata", {}).get("tags", []):
        raise ValueError("the first code cell is not tagged 'parameters'")
    return first


def is_setup_cell(cell: dict) -> bool:
    """Whether a cell is the set-up cell (its first line is the set-up comment)."""
    return cell["cell_type"] == "code" and "".join(cell["source"]).startswith(FIRST_LINE)


def write_cell(path: Path, source: str) -> bool:
    """Put the set-up cell right after the parameters cell of one notebook; returns whether the file changed."""
    text = Path(path).read_text(encoding="utf-8")
    nb = json.loads(text)
    cells = nb["cells"]
    at = parameters_index(cells) + 1
    lines = cell_source(source).splitlines(keepends=True)
    stale = [i for i, c in enumerate(cells) if is_setup_cell(c) and i != at]
    for i in reversed(stale):  # a set-up cell found elsewhere moves to its place
        del cells[i]
        at -= i < at
    if at < len(cells) and is_setup_cell(cells[at]):
        cell = cells[at]
    else:
        cell_id = hashlib.sha1(f"setup:{Path(path).name}".encode()).hexdigest()[:8]
        cell = {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": {}, "outputs": []}
        cells.insert(at, cell)
    cell["source"] = lines
    tags = cell["metadata"].setdefault("tags", [])
    if TAG not in tags:
        tags.append(TAG)
    new_text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if new_text == text:
        return False
    with atomic_write(path) as f:
        f.write(new_text)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to update (default: notebooks/*.ipynb)")
    parser.add_argument("--config", type=Path, default=CONFIG, help="the book configuration naming the repository")
    args = parser.parse_args(argv)
    source = install_source(args.config)
    for path in args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb")):
        print(f"{path}: {'set-up cell written' if write_cell(path, source) else 'unchanged'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
