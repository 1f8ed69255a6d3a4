"""The install files agree: loose requirements in pyproject.toml, the tested pins in constraints.txt (used by make venv
and conda's environment.yml), and Binder's light CPU-only environment."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
DEV_TOOLS = {"jupyter-book", "pytest", "pytest-xdist", "ruff", "playwright", "pre-commit", "nbval", "papermill"}


def requirement_lines(path):
    """The lines of a pip requirements file, without comments and blank lines."""
    lines = (line.split(" #")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def constraints():
    return {Requirement(line).name: Requirement(line) for line in requirement_lines(ROOT / "constraints.txt")}


def torch_requirement():
    return next(Requirement(r) for r in PYPROJECT["dependencies"] if Requirement(r).name == "torch")


def test_package_requirements_are_loose_enough_for_colab():
    torch = torch_requirement()
    assert torch.specifier.contains("2.4.0") and torch.specifier.contains("3.0.0"), "no upper pin on torch"
    assert all(not s.operator.startswith("<") for s in torch.specifier)
    python = SpecifierSet(PYPROJECT["requires-python"])
    assert all(python.contains(v) for v in ("3.11", "3.12", "3.13")) and not python.contains("3.10")


def test_constraints_hold_the_tested_torch_pin():
    torch = constraints()["torch"]
    assert torch.specifier.contains("2.13.0") and not torch.specifier.contains("2.14.0")
    assert all(torch_requirement().specifier.contains(v) for v in ("2.4.0", "2.13.0")), "pins within the requirement"


def test_make_venv_and_ci_install_with_the_constraints():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^\$\(VENV\)/\.installed:(.*)$", makefile, re.M)
    assert target and "constraints.txt" in target.group(1).split(), "make venv must re-run when constraints.txt changes"
    assert '-m pip install -c constraints.txt -e ".[dev]"' in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")  # which goes through the venv target


def test_conda_environment_lists_the_same_packages_with_the_tested_pins():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    listed = {Requirement(r).name: Requirement(r) for r in pip if r != "-e ."}
    wanted = [Requirement(r) for r in PYPROJECT["dependencies"] + PYPROJECT["optional-dependencies"]["dev"]]
    assert sorted(listed) == sorted(r.name for r in wanted) and "-e ." in pip
    pins = constraints()
    for requirement in wanted:
        expected = pins[requirement.name].specifier & requirement.specifier if requirement.name in pins else None
        assert listed[requirement.name].specifier == (expected or requirement.specifier), requirement.name


def test_binder_environment_is_cpu_only_light_and_installs_nnutils():
    lines = requirement_lines(ROOT / "binder" / "requirements.txt")
    options = [line for line in lines if line.startswith("-")]
    packages = [line for line in lines if not line.startswith("-")]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in options, "torch from the CPU-only index"
    assert "." in packages, "Binder must install the repository's package nnutils"
    names = {Requirement(p).name.lower() for p in packages if p != "."}
    assert "torch" in names and not names & DEV_TOOLS
    text = "\n".join(lines).lower()
    for cuda in ("nvidia", "cuda", "cudnn", "/whl/cu", "+cu1", "triton"):
        assert cuda not in text, f"the Binder environment names a CUDA package ({cuda})"
    constraint = next(line.split()[1] for line in options if line.startswith("-c "))
    assert (ROOT / "binder" / constraint).resolve() == ROOT / "constraints.txt"  # pip resolves it beside the file
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.\d+", runtime) and Version(runtime[7:]) in SpecifierSet(
        PYPROJECT["requires-python"]
    )
