"""The results page's logic: reference figures against recorded values."""

import json
from pathlib import Path

import pandas as pd
import pytest

from nnutils.book import report
from nnutils.results import Results

ROOT = Path(__file__).resolve().parents[1]


def figure(**changes):
    base = dict(
        key="acc",
        notebook="nb",
        figure="accuracy",
        reference=0.9,
        tolerance=0.02,
        unit="fraction",
        source="report 000, 1.1",
        comparable=True,
    )
    return base | changes


def write_yaml(tmp_path, entries):
    import yaml

    path = tmp_path / "figures.yml"
    path.write_text(yaml.safe_dump(entries))
    return path


def test_statuses_cover_every_case():
    figures = [
        figure(key="a"),
        figure(key="b"),
        figure(key="c", comparable=False, reason="different data"),
        figure(key="d"),
        figure(key="e", requires={"n_train": 60000}),
    ]
    results = {"nb": {"profile": "full", "values": {"a": 0.91, "b": 0.8, "c": 0.9, "e": 0.9, "n_train": 7011}}}
    table = report.compare(figures, results).set_index("key")
    assert table.loc["a", "status"] == "within tolerance"
    assert table.loc["a", "difference"] == pytest.approx(0.01)
    assert table.loc["b", "status"] == "outside tolerance"
    assert table.loc["c", "status"] == "not comparable" and table.loc["c", "note"] == "different data"
    assert table.loc["d", "status"] == "not measured"
    assert table.loc["e", "status"] == "not comparable" and "n_train = 7011" in table.loc["e", "note"]
    assert report.status_counts(table.reset_index()).to_dict() == {
        "within tolerance": 1,
        "outside tolerance": 1,
        "not comparable": 2,
        "not measured": 1,
    }


def test_ci_profile_is_not_comparable():
    table = report.compare([figure()], {"nb": {"profile": "ci", "values": {"acc": 0.9}}})
    assert table.loc[0, "status"] == "not comparable" and "ci profile" in table.loc[0, "note"]


def test_reads_what_results_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("NNUTILS_RESULTS", str(tmp_path))
    Results("nb", "full").record("acc", 0.905)
    (tmp_path / "timings.json").write_text(json.dumps({"nb": {"profile": "full", "seconds": 3.0, "device": "cpu"}}))
    found = report.load_results(tmp_path)
    assert set(found["nb"].pop("work")) == {"flops", "bytes", "examples"}
    assert found == {"nb": {"profile": "full", "values": {"acc": 0.905}}}
    assert report.compare([figure()], found).loc[0, "status"] == "within tolerance"
    assert report.load_results(tmp_path / "missing") == {}


def test_bad_reference_files_say_what_is_wrong(tmp_path):
    with pytest.raises(ValueError, match="lacks tolerance"):
        report.load_reference_figures(write_yaml(tmp_path, [{k: v for k, v in figure().items() if k != "tolerance"}]))
    with pytest.raises(ValueError, match="give the reason"):
        report.load_reference_figures(write_yaml(tmp_path, [figure(comparable=False)]))
    with pytest.raises(ValueError, match="must be a number"):
        report.load_reference_figures(write_yaml(tmp_path, [figure(reference="93%")]))
    with pytest.raises(ValueError, match="appears twice"):
        report.load_reference_figures(write_yaml(tmp_path, [figure(), figure()]))


def test_the_book_reference_file_is_valid_and_names_recorded_keys():
    figures = report.load_reference_figures(ROOT / "book" / "reference_figures.yml")
    assert len(figures) > 40
    for f in figures:
        notebook = ROOT / "notebooks" / f"{f['notebook']}.ipynb"
        assert notebook.exists(), f"{f['key']}: no notebook {notebook.name}"
        assert f["source"].startswith("report 00"), f["source"]


def test_display_table_shows_reference_with_tolerance():
    table = report.compare([figure(), figure(key="x")], {"nb": {"profile": "full", "values": {"acc": 0.9}}})
    shown = report.display_table(table)
    assert list(shown["reference"]) == ["0.9 ± 0.02", "0.9 ± 0.02"]
    assert list(shown["measured"]) == ["0.9", ""] and "no run recorded" in shown.loc[1, "source and note"]


def test_summary_sentence_counts_every_status_it_has():
    counts = pd.Series({"within tolerance": 30, "outside tolerance": 1, "not comparable": 20, "not measured": 0})
    text = report.summary_sentence(counts, {"a": "full", "b": "full"}).data
    assert text == (
        "Of 51 reference figures: 30 figures within tolerance, 1 figure outside tolerance and 20 figures not "
        "comparable; every notebook ran the full profile."
    )
    assert "only a full build" in report.summary_sentence(counts, {"a": "ci"}).data
