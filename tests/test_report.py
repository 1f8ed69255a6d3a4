"""The results page's logic: reference figures against recorded values, and the running-time table."""

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
    assert set(found["nb"].pop("work")) == {"flops", "examples"}
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


def test_timing_table_says_not_measured(tmp_path):
    path = tmp_path / "timings.json"
    timings = {
        "a": {"profile": "ci", "seconds": 90.0, "device": "cpu"},
        "b": {"profile": "full", "seconds": 5.0, "device": "cuda"},
    }
    path.write_text(json.dumps(timings))
    rows = report.load_timings([path, tmp_path / "absent.json"])
    table = report.timing_table(rows, {"a": "1. A", "b": "2. B"})
    assert table.loc["1. A", "ci, CPU"] == "1.5 min"
    assert table.loc["1. A", "ci, GPU"] == "not measured"
    assert table.loc["2. B", "full, GPU"] == "5 s"
    assert table.loc["The whole book build (notebooks run in parallel)", "full, CPU"] == "not measured"
    log = tmp_path / "build.json"
    log.write_text(json.dumps({"profile": "full", "jobs": 2, "seconds": 1800.0, "device": "cpu", "executed": ["a"]}))
    table = report.timing_table(report.load_timings([path, log]), {"a": "1. A", "b": "2. B"})
    assert table.loc["The whole book build (notebooks run in parallel)", "full, CPU"] == "30.0 min"
    path.write_text(json.dumps({"a": {"seconds": 1}}))
    with pytest.raises(ValueError, match="needs profile"):
        report.load_timings([path])


def test_display_table_shows_reference_with_tolerance():
    table = report.compare([figure(), figure(key="x")], {"nb": {"profile": "full", "values": {"acc": 0.9}}})
    shown = report.display_table(table)
    assert list(shown["reference"]) == ["0.9 ± 0.02", "0.9 ± 0.02"]
    assert list(shown["measured"]) == ["0.9", ""] and "no run recorded" in shown.loc[1, "source and note"]


def test_time_goals_say_met_missed_or_not_measured():
    rows = [
        {"notebook": "01_kmnist", "profile": "ci", "seconds": 100.0, "device": "cpu"},
        {"notebook": "02_spirals", "profile": "ci", "seconds": 150.0, "device": "cpu"},
        {"notebook": "01_kmnist", "profile": "ci", "seconds": 900.0, "device": "cuda:0"},
    ]
    goals = report.time_goals(rows)
    assert goals.iloc[0].tolist() == ["2 min", "2.5 min", "missed by 25%"] and "02_spirals" in goals.index[0]
    assert goals.loc["whole full build", "verdict"] == "not measured"
    assert goals.loc["slowest full notebook", "verdict"] == "not measured"
    rows.append({"notebook": "whole build", "profile": "full", "seconds": 1080.0, "device": "cpu"})
    assert report.time_goals(rows).loc["whole full build"].tolist() == ["20 min", "18.0 min", "met"]
    rows += [{"notebook": n, "profile": "full", "seconds": s, "device": "cpu"} for n, s in (("a", 400), ("b", 600))]
    goals = report.time_goals(rows)
    assert goals.loc["slowest full notebook (b)"].tolist() == ["8 min", "10.0 min", "missed by 25%"]
    assert goals.iloc[-1]["verdict"] == "on 2 cores no build can take less than 8.3 min"


def test_floor_table_divides_the_tallied_work_by_the_rate():
    results = {
        "a": {"profile": "full", "values": {}, "work": {"flops": 6e11, "examples": 10}},
        "b": {"profile": "full", "values": {}},
        "c": {"profile": "ci", "values": {}, "work": {"flops": 1e9, "examples": 1}},
    }
    timings = {"a": {"profile": "full", "seconds": 600.0}, "c": {"profile": "full", "seconds": 5.0}}
    table = report.floor_table(results, timings, rate=1e10)
    assert table.loc["a"].tolist() == ["full", 600.0, "1.0 min", "10.0 min", "10x"]
    assert table.loc["b", "floor"] == "not tallied" and table.loc["c", "floor"] == "0.1 s"  # small floors stay visible
    assert table.loc["c", "measured"] == "not measured"  # a timing of another profile is not this run's
    with pytest.raises(ValueError, match="positive"):
        report.floor_table(results, timings, rate=0)


def test_summary_sentence_counts_every_status_it_has():
    counts = pd.Series({"within tolerance": 30, "outside tolerance": 1, "not comparable": 20, "not measured": 0})
    text = report.summary_sentence(counts, {"a": "full", "b": "full"}).data
    assert text == (
        "Of 51 reference figures: 30 figures within tolerance, 1 figure outside tolerance and 20 figures not "
        "comparable; every notebook ran the full profile."
    )
    assert "only a full build" in report.summary_sentence(counts, {"a": "ci"}).data
