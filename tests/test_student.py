"""The student edition: no solution and no filled-in answer in any notebook, and its checks say "not answered yet";
the sources: every exercise numbered with a label and followed by its solution, every checked one with its answer."""

import ast
import copy
import json
import re
from pathlib import Path

import pytest

from nnutils.book import student
from nnutils.exercises import NOT_ANSWERED, Feedback

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISE = re.compile(r"^:::\{exercise\}(?P<title>.*)\n:label: (?P<label>\S+)$", re.M)
SOLUTION_START = re.compile(r"^:::\{solution-start\} (?P<label>\S+)\n:class: dropdown\n:::$")


def load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def cells_with(nb, tag):
    return [c for c in nb["cells"] if tag in student.tags(c)]


def exercises_of(nb):
    """(label, title, solution cells) of each exercise, in order: the cells from its solution-start, which must follow
    the exercise, to the cell that ends the solution (an empty list when the exercise has no solution)."""
    found, cells = [], nb["cells"]
    for i, cell in enumerate(cells):
        for match in EXERCISE.finditer(student.source_of(cell)) if cell["cell_type"] == "markdown" else ():
            start = cells[i + 1] if i + 1 < len(cells) else {}
            gated = SOLUTION_START.match(student.source_of(start)) if start else None
            solution = []
            if gated and gated["label"] == match["label"]:
                for after in cells[i + 1 :]:
                    solution.append(after)
                    if student.SOLUTION_DIRECTIVE.search(student.source_of(after)) and after is not start:
                        break
            found.append((match["label"], match["title"].strip(), solution))
    return found


@pytest.fixture(scope="module")
def editions():
    return {path.stem: (load(path), student.student_notebook(load(path))) for path in NOTEBOOKS}


def test_every_exercise_has_a_unique_label_and_a_solution_and_each_checked_one_its_answer(editions):
    labels = []
    for name, (source, _) in editions.items():
        exercises = exercises_of(source)
        assert len(exercises) >= 3, f"{name}: fewer than three exercises found"
        for label, title, solution in exercises:
            labels.append(label)
            assert label.startswith("ex-") and title, f"{name}: exercise {label!r} needs an ex- label and a title"
            assert len(solution) >= 3, f"{name}: {label} is not followed by its solution (solution-start, cells, end)"
            end = solution[-1]
            assert student.source_of(end).rstrip().endswith(":::{solution-end}\n:::"), (
                f"{name}: {label}'s solution has no end"
            )
            assert len(student.source_of(end)) > 100, f"{name}: the text of {label}'s solution is too short"
            for cell in solution:  # hidden in the site's dropdown, removed from the student edition
                assert {"solution", "answer"} & set(student.tags(cell)), (
                    f"{name}: a cell of {label}'s solution is untagged"
                )
            if not title.startswith("Open:"):
                assert "answer" in student.tags(solution[1]), f"{name}: {label} has no answer cell"
                assert len(solution) == 3, f"{name}: the answer of {label} should be followed by the solution's text"
        answers = cells_with(source, "answer")
        checked = [e for e in exercises if not e[1].startswith("Open:")]
        assert len(answers) == len(checked), f"{name}: an answer cell is not gated"
    assert len(labels) == len(set(labels)), "exercise labels must be unique across the book"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_student_edition_has_no_solution_and_no_filled_in_answer(editions, path):
    source, edition = editions[path.stem]
    assert student.leaks(source, edition) == []
    assert not cells_with(edition, "solution")
    text = json.dumps(edition)
    assert "{solution" not in text and "{exercise}" in text
    for cell in cells_with(edition, "answer"):
        for line, comment in student.marked_comments(student.source_of(cell)).items():
            code = student.source_of(cell).split("\n")[line - 1]
            assert code.endswith(f" = ...  {comment}") or code.rstrip().endswith(":  " + comment.lstrip()), code
    assert all(not c.get("outputs") for c in edition["cells"] if c["cell_type"] == "code")


def test_the_student_answer_lines_read_as_blanks(editions):
    _, edition = editions["02_spirals"]
    count_cell = next(c for c in cells_with(edition, "answer") if "rawnet_count" in student.source_of(c))
    assert "rawnet_count = ...  # your count" in student.source_of(count_cell)
    assert "205" not in student.source_of(count_cell)
    _, edition = editions["03_hidden_dynamics"]
    step = next(c for c in cells_with(edition, "answer") if "def srn_step" in student.source_of(c))
    assert "np.tanh" not in student.source_of(step) and "\n    ...\n" in student.source_of(step)


def run_cell(source, namespace):
    """Execute a cell's code in ``namespace`` and return the value of its last expression (as Jupyter shows it)."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None


def imports_of(nb):
    """The notebook's top-level import statements, as code (what the answer cells need from earlier cells)."""
    lines = []
    for cell in nb["cells"]:
        code = "\n".join(line for line in student.source_of(cell).splitlines() if not line.startswith(("%", "!")))
        if cell["cell_type"] == "code":
            tree = ast.parse(code)
            lines += [ast.unparse(s) for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom)]
    return "\n".join(lines)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_student_checks_say_not_answered_yet(editions, path):
    _, edition = editions[path.stem]
    namespace = {}
    exec(imports_of(edition), namespace)
    answers = cells_with(edition, "answer")
    assert answers
    for cell in answers:
        feedback = run_cell(student.source_of(cell), namespace)
        assert isinstance(feedback, Feedback), f"the check of cell {cell.get('id')} returned {feedback!r}"
        assert not feedback.correct and not feedback.answered and NOT_ANSWERED in feedback.message


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_instructor_answers_are_correct(editions, path):
    source, _ = editions[path.stem]
    namespace = {}
    exec(imports_of(source), namespace)
    for cell in cells_with(source, "answer"):
        assert run_cell(student.source_of(cell), namespace).correct


def plant(nb, edit):
    planted = copy.deepcopy(nb)
    edit(planted)
    return planted


def test_a_planted_leak_is_found(editions):
    source, edition = editions["02_spirals"]
    answer_at = next(i for i, c in enumerate(edition["cells"]) if "answer" in student.tags(c))
    solution = cells_with(source, "solution")[1]

    def fill_in(nb):
        nb["cells"][answer_at]["source"] += "\nrawnet_count = 205"

    def copy_solution(nb):
        nb["cells"].append(copy.deepcopy(solution) | {"metadata": {}})

    def keep_output(nb):
        nb["cells"][answer_at]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "Correct"}]

    assert any("rawnet_count is filled in" in line for line in student.leaks(source, plant(edition, fill_in)))
    found = student.leaks(source, plant(edition, copy_solution))
    assert any("solution directive" in line for line in found) and any("a line of a solution" in line for line in found)
    assert any("outputs" in line for line in student.leaks(source, plant(edition, keep_output)))


def test_an_untagged_solution_or_an_unmarked_answer_is_refused(editions):
    source, _ = editions["02_spirals"]
    untagged = plant(source, lambda nb: cells_with(nb, "solution")[0]["metadata"].update(tags=[]))
    with pytest.raises(ValueError, match="not tagged 'solution'"):
        student.student_notebook(untagged)
    unmarked = plant(source, lambda nb: cells_with(nb, "answer")[0].update(source="rawnet_count = 205\n"))
    with pytest.raises(ValueError, match="no line marked"):
        student.student_notebook(unmarked)
    with pytest.raises(ValueError, match="only an assignment or a function's def line"):
        student.blank_answers("print(205)  # your count")


def test_blank_answers_keeps_the_rest_of_the_cell():
    cell = "import math\n\nx = (1 +\n     2)  # your sum\ny: int = 3  # your y\n\n\n"
    cell += "def f(a):  # your code\n    return a\n\n\ncheck(x)"
    assert student.blank_answers(cell) == (
        "import math\n\nx = ...  # your sum\ny: int = ...  # your y\n\n\ndef f(a):  # your code\n    ...\n\n\ncheck(x)"
    )


def test_the_edition_is_written_with_its_pages_and_configuration(tmp_path):
    edition = student.write_edition(ROOT, tmp_path)
    assert sorted(p.name for p in (edition / "notebooks").glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    assert (edition / "_toc.yml").is_file() and (edition / "book" / "intro.md").is_file()
    assert '(student edition)"' in (edition / "_config.yml").read_text()
    written = load(edition / "notebooks" / "02_spirals.ipynb")
    assert written == student.student_notebook(load(ROOT / "notebooks" / "02_spirals.ipynb"))
    assert not list(edition.rglob("*.part"))


def test_the_edition_can_keep_the_outputs_of_every_cell_but_the_answers(editions):
    source, _ = editions["02_spirals"]
    executed = copy.deepcopy(source)
    for cell in executed["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": f"ran {cell['id']}"}]
    edition = student.student_notebook(source, executed)
    assert student.leaks(source, edition) == []
    for cell in (c for c in edition["cells"] if c["cell_type"] == "code"):
        assert bool(cell["outputs"]) is ("answer" not in student.tags(cell))
    assert cells_with(edition, "answer") and not any(c["outputs"] for c in cells_with(edition, "answer"))


def test_the_edition_takes_the_outputs_from_the_build_when_asked(tmp_path):
    ran = load(ROOT / "notebooks" / "02_spirals.ipynb")
    for cell in ran["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran"}]
    student.write_notebook(tmp_path / "executed" / "notebooks" / "02_spirals.ipynb", ran)
    plain = load(student.write_edition(ROOT, tmp_path) / "notebooks" / "02_spirals.ipynb")
    kept = load(student.write_edition(ROOT, tmp_path, outputs=True) / "notebooks" / "02_spirals.ipynb")
    assert not any(c.get("outputs") for c in plain["cells"])
    assert any(c.get("outputs") for c in kept["cells"]) and not any(c["outputs"] for c in cells_with(kept, "answer"))
    assert not any(c.get("outputs") for c in load(tmp_path / "student" / "notebooks" / "01_kmnist.ipynb")["cells"])
