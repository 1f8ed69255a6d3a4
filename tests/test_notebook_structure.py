"""Every chapter notebook follows the workbook's conventions (parameters cell, no stored outputs)."""

import ast
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted(Path(__file__).parents[1].joinpath("notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", []), "the first code cell must be tagged 'parameters'"
    assigned = {
        t.id: ast.literal_eval(node.value)
        for node in ast.parse(first.source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    assert assigned.get("profile") == "full", "the parameters cell must set profile = 'full'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_sources_are_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "clear outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_follows_parameters_and_installs_from_the_configured_repository(path):
    import yaml

    from nnutils.book import setup_cell

    repository = yaml.safe_load(path.parents[1].joinpath("_config.yml").read_text(encoding="utf-8"))["repository"]
    source = f"git+{repository['url'].rstrip('/')}@{repository.get('branch', 'main')}"
    cells = nbformat.read(path, as_version=4).cells
    first = next(i for i, c in enumerate(cells) if c.cell_type == "code")
    cell = cells[first + 1]
    assert cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", []), (
        "the cell after the parameters cell must be the set-up cell, tagged 'remove-cell': "
        "run python -m nnutils.book.setup_cell"
    )
    assert f'"{source}"' in cell.source, f"the set-up cell must install {source} (_config.yml's repository)"
    assert cell.source == setup_cell.cell_source(source), (
        "the set-up cell is stale: run python -m nnutils.book.setup_cell"
    )
