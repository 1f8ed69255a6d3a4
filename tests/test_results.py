"""Recording a notebook's results: plain JSON values, NumPy scalars converted, other types refused, atomic file."""

import json
import os

import numpy as np
import pytest
import torch

from nnutils.results import Results


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """NNUTILS_RESULTS pointed at an empty folder."""
    monkeypatch.setenv("NNUTILS_RESULTS", str(tmp_path))
    return tmp_path


def saved(folder, notebook="nb"):
    return json.loads((folder / f"{notebook}.json").read_text(encoding="utf-8"))


def test_plain_and_numpy_values_share_one_file(folder):
    results = Results("nb", "ci")
    assert results.record("acc", 0.123456) == 0.1235
    results.record("epochs", 12)
    results.record("solved", True)
    results.record("note", "ゆ")
    results.record("loss", np.float32(0.5))
    payload = saved(folder)
    assert set(payload["work"]) == {"flops", "bytes", "examples"}  # the training work so far (nnutils.work)
    del payload["work"]
    assert payload == {
        "notebook": "nb",
        "profile": "ci",
        "values": {"acc": 0.1235, "epochs": 12, "solved": True, "note": "ゆ", "loss": 0.5},
    }


@pytest.mark.parametrize(
    "value, expected",
    [
        (np.float32(0.25), 0.25),
        (np.float64(0.123456), 0.1235),
        (np.int64(7), 7),
        (np.bool_(True), True),
        (np.array(0.5), 0.5),
        (torch.tensor(3), 3),
    ],
)
def test_numpy_scalars_and_zero_d_arrays_become_python_numbers(folder, value, expected):
    results = Results("nb", "ci")
    got = results.record("x", value)
    assert got == expected and type(got) is type(expected)
    assert saved(folder)["values"] == {"x": expected}


@pytest.mark.parametrize(
    "value, kind",
    [
        ([torch.tensor(0.5), torch.tensor(0.6)], "list"),
        (np.array([0.5, 0.6]), "numpy.ndarray"),
        (torch.tensor([0.5]), "torch.Tensor"),
        (None, "NoneType"),
        ({"acc": 0.5}, "dict"),
    ],
)
def test_other_types_are_refused_before_the_file_is_touched(folder, value, kind):
    results = Results("nb", "ci")
    results.record("before", 1.0)
    written = (folder / "nb.json").read_bytes()
    with pytest.raises(TypeError) as err:
        results.record("accs", value)
    assert str(err.value) == (
        f"Result 'accs' is a {kind}, which cannot be recorded: give one number or string "
        "(an int, float, bool or str, or a NumPy scalar, 0-d array or 0-d tensor)."
    )
    assert (folder / "nb.json").read_bytes() == written and "accs" not in results.values
    assert [p.name for p in folder.iterdir()] == ["nb.json"]  # no temporary *.part file left
    results.record("after", np.float32(2.0))
    assert saved(folder)["values"] == {"before": 1.0, "after": 2.0}


def test_a_key_must_be_a_string(folder):
    with pytest.raises(TypeError, match="key must be a non-empty string, not 3"):
        Results("nb", "ci").record(3, 1.0)
    assert list(folder.iterdir()) == []


def test_nothing_is_written_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("NNUTILS_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    results = Results("nb", "ci")
    value = results.record("acc", np.float32(0.5))
    assert value == 0.5 and type(value) is float and results.save() is None
    assert list(tmp_path.iterdir()) == []


def test_the_file_has_the_usual_mode(folder):
    umask = os.umask(0)
    os.umask(umask)
    Results("nb", "ci").record("acc", 0.5)
    assert (folder / "nb.json").stat().st_mode & 0o777 == 0o666 & ~umask  # like any new file, not mkstemp's 0600


def test_compare_records_numpy_values_against_the_reference_file(folder):
    from nnutils.references import reference_figures

    notebook = "01_kmnist"
    key, figure = next(iter(reference_figures(notebook).items()))
    table = Results(notebook, "ci").compare({key: np.float32(figure["reference"])})
    assert table.loc[figure["figure"], "this run"] == pytest.approx(figure["reference"], abs=1e-4)
    assert saved(folder, notebook)["values"] == {key: round(float(np.float32(figure["reference"])), 4)}
