"""The student edition: the notebooks with every answer replaced by ``...`` and every solution removed.

    python -m nnutils.book.student [--build _build] [--root .] [--outputs]

How the sources mark them: a cell tagged ``solution`` is removed (a ``{solution-start}`` cell, or a solution's text);
in a code cell tagged ``answer``, each statement whose line carries a comment starting with ``# your`` is the
student's answer: an assignment keeps its target and gets ``...`` as its value, a function keeps its ``def`` line
and gets ``...`` as its body. The edition goes to ``<build>/student`` (notebooks without outputs, or with ``--outputs``
the last build's outputs in every cell but the answers; the book's pages and configuration), ready for
``jupyter-book build``; ``make student`` does both.
"""

from __future__ import annotations

import argparse
import ast
import copy
import io
import json
import re
import shutil
import sys
import tokenize
from collections.abc import Sequence
from pathlib import Path

from ..files import atomic_write

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_TAG, ANSWER_TAG = "solution", "answer"
MARKER = re.compile(r"#\s*your\b")
SOLUTION_DIRECTIVE = re.compile(r"\{solution(?:-start|-end)?\}")


def tags(cell: dict) -> list[str]:
    """The cell's tags (an empty list when it has none)."""
    return list(cell.get("metadata", {}).get("tags", []))


def source_of(cell: dict) -> str:
    """A cell's source as one string (notebook files may store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def marked_comments(source: str) -> dict[int, str]:
    """The comments that start with ``# your``, by line number (from 1): the lines that hold the student's answer."""
    return {
        token.start[0]: token.string
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT and MARKER.match(token.string)
    }


def blank_answers(source: str) -> str:
    """``source`` with each marked statement's answer replaced by ``...`` (see the module's docstring)."""
    marks, lines = marked_comments(source), source.split("\n")
    if not marks:
        raise ValueError("An answer cell has no line marked with a '# your ...' comment: mark the answer's line.")
    for stmt in reversed(ast.parse(source).body):  # from the bottom, so earlier line numbers stay valid
        mine = [marks[n] for n in range(stmt.lineno, stmt.end_lineno + 1) if n in marks]
        if not mine:
            continue
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            left = stmt.annotation if isinstance(stmt, ast.AnnAssign) else stmt.targets[-1]
            head = lines[left.end_lineno - 1][: left.end_col_offset]
            lines[stmt.lineno - 1 : stmt.end_lineno] = [f"{head} = ...  {mine[-1]}"]
        elif isinstance(stmt, ast.FunctionDef) and any(n in marks for n in range(stmt.lineno, stmt.body[0].lineno)):
            body = stmt.body[0]
            lines[body.lineno - 1 : stmt.end_lineno] = [" " * body.col_offset + "..."]
        else:
            raise ValueError(
                f"Line {stmt.lineno} of an answer cell holds a '# your ...' comment, but only an assignment or a "
                f"function's def line (at the top level of the cell) can be marked: {lines[stmt.lineno - 1].strip()!r}"
            )
    return "\n".join(lines)


def student_notebook(nb: dict, executed: dict | None = None) -> dict:
    """A copy of the notebook ``nb`` without solution cells, with blanked answers and without outputs; with
    ``executed`` (an executed copy of ``nb``), every code cell but the answers keeps its outputs from there."""
    nb = copy.deepcopy(nb)
    ran = {c.get("id"): c for c in executed["cells"] if c["cell_type"] == "code"} if executed else {}
    cells = []
    for cell in nb["cells"]:
        if SOLUTION_TAG in tags(cell):
            continue
        if cell["cell_type"] == "markdown" and SOLUTION_DIRECTIVE.search(source_of(cell)):
            raise ValueError(f"Cell {cell.get('id')} holds a solution directive but is not tagged '{SOLUTION_TAG}'.")
        if ANSWER_TAG in tags(cell):
            cell["source"] = blank_answers(source_of(cell)).splitlines(keepends=True)
        if cell["cell_type"] == "code":
            kept = ran.get(cell.get("id")) if ANSWER_TAG not in tags(cell) else None
            cell["outputs"] = copy.deepcopy(kept.get("outputs", [])) if kept else []
            cell["execution_count"] = kept.get("execution_count") if kept else None
        cells.append(cell)
    nb["cells"] = cells
    return nb


def answer_names(source: str) -> tuple[set[str], set[str]]:
    """The names a source answer cell marks as answers: (assigned variables, defined functions)."""
    marks, variables, functions = marked_comments(source), set(), set()
    for stmt in ast.parse(source).body:
        if not any(n in marks for n in range(stmt.lineno, stmt.end_lineno + 1)):
            continue
        if isinstance(stmt, ast.FunctionDef):
            functions.add(stmt.name)
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if hasattr(stmt, "target") else []
        variables.update(n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name))
    return variables, functions


def _is_ellipsis(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _filled(stmt: ast.stmt, variables: set[str], functions: set[str]) -> str | None:
    """The answer name that ``stmt`` gives a value (or a body) other than ``...``, if any."""
    if isinstance(stmt, ast.FunctionDef) and stmt.name in functions:
        body = stmt.body[1:] if ast.get_docstring(stmt) is not None else stmt.body
        blank = len(body) == 1 and isinstance(body[0], ast.Expr) and _is_ellipsis(body[0].value)
        return None if blank else stmt.name
    if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign) and stmt.value is not None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        named = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)} & variables
        if named and (isinstance(stmt, ast.AugAssign) or not _is_ellipsis(stmt.value)):
            return sorted(named)[0]
    return None


def leaks(source_nb: dict, student_nb: dict) -> list[str]:
    """What of the solutions the student edition ``student_nb`` of ``source_nb`` still shows, one line each: a
    solution directive or a line of a solution cell's text, an answer given a value or a body other than ``...``,
    or an answer cell's output."""
    found, text = [], "\n".join(source_of(c) for c in student_nb["cells"])
    if SOLUTION_DIRECTIVE.search(text):
        found.append("a solution directive ({solution}, {solution-start} or {solution-end})")
    for cell in source_nb["cells"]:
        if SOLUTION_TAG in tags(cell):
            for line in source_of(cell).splitlines():
                if len(line.strip()) >= 20 and not line.startswith(":") and line.strip() in text:
                    found.append(f"a line of a solution: {line.strip()[:60]!r}")
    variables, functions = set(), set()
    for cell in source_nb["cells"]:
        if ANSWER_TAG in tags(cell):
            names = answer_names(source_of(cell))
            variables, functions = variables | names[0], functions | names[1]
    for cell in student_nb["cells"]:
        if cell["cell_type"] == "code":
            if ANSWER_TAG in tags(cell) and cell.get("outputs"):
                found.append(f"the outputs of answer cell {cell.get('id')}")
            try:
                tree = ast.parse(source_of(cell))
            except SyntaxError:
                continue  # a cell with IPython magics holds no answer
            for stmt in ast.walk(tree):
                name = _filled(stmt, variables, functions) if isinstance(stmt, ast.stmt) else None
                if name:
                    found.append(f"the answer {name} is filled in: {ast.unparse(stmt).splitlines()[0][:60]!r}")
    return found


def write_notebook(path: Path, nb: dict) -> None:
    """Write ``nb`` as the sources are written (indent 1, UTF-8, a trailing newline), atomically."""
    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")


def write_edition(root: Path = ROOT, build: Path | None = None, outputs: bool = False) -> Path:
    """Write the student edition of ``root`` into ``<build>/student`` (notebooks, pages, configuration); returns it.
    The book's own notebooks (results, running times) come from ``<build>/executed/book`` when a build made them;
    with ``outputs``, so do the chapters' outputs (all but the answer cells'), from ``<build>/executed/notebooks``."""
    root = Path(root).resolve()
    build = Path(build).resolve() if build else root / "_build"
    edition = build / "student"
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        if not path.name.startswith("."):
            nb, ran = json.loads(path.read_text(encoding="utf-8")), build / "executed" / "notebooks" / path.name
            executed = json.loads(ran.read_text(encoding="utf-8")) if outputs and ran.is_file() else None
            student = student_notebook(nb, executed)
            left = leaks(nb, student)
            if left:
                raise ValueError(f"{path.name}'s student edition would still show {left[0]}")
            write_notebook(edition / "notebooks" / path.name, student)
    for path in sorted((root / "book").rglob("*")):
        relative = path.relative_to(root / "book")
        executed = build / "executed" / "book" / relative
        source = executed if path.suffix == ".ipynb" and executed.is_file() else path
        if path.is_file():
            (edition / "book" / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, edition / "book" / relative)
    shutil.copy2(root / "_toc.yml", edition / "_toc.yml")
    config = (root / "_config.yml").read_text(encoding="utf-8")
    config = re.sub(r'^title: "(.*)"$', r'title: "\1 (student edition)"', config, count=1, flags=re.M)
    with atomic_write(edition / "_config.yml", "w", encoding="utf-8") as f:
        f.write(config)
    return edition


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnutils.book.student", description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=None, help="build folder (default: _build in the project)")
    parser.add_argument(
        "--root", default=str(ROOT), help="project folder with notebooks/ and book/ (default: this one)"
    )
    parser.add_argument(
        "--outputs", action="store_true", help="keep the last build's outputs in every cell but the answer cells"
    )
    args = parser.parse_args(argv)
    try:
        edition = write_edition(Path(args.root), Path(args.build) if args.build else None, args.outputs)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"The student edition's notebooks are in {edition / 'notebooks'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
