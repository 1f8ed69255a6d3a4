"""The running-times page's logic: timing tables, the time goals, each notebook against its floor, and the recorded
builds compared (``nnutils.book.recorded``)."""

import json

import pytest

from nnutils.book import recorded, timings


def test_timing_table_says_not_measured(tmp_path):
    path = tmp_path / "timings.json"
    entries = {
        "a": {"profile": "ci", "seconds": 90.0, "device": "cpu"},
        "b": {"profile": "full", "seconds": 5.0, "device": "cuda"},
    }
    path.write_text(json.dumps(entries))
    rows = timings.load_timings([path, tmp_path / "absent.json"])
    table = timings.timing_table(rows, {"a": "1. A", "b": "2. B"})
    assert table.loc["1. A", "ci, CPU"] == "1.5 min"
    assert table.loc["1. A", "ci, GPU"] == "not measured"
    assert table.loc["2. B", "full, GPU"] == "5 s"
    assert table.loc["The whole book build", "full, CPU"] == "not measured"
    log = tmp_path / "build.json"
    log.write_text(json.dumps({"profile": "full", "jobs": 2, "seconds": 1800.0, "device": "cpu", "executed": ["a"]}))
    table = timings.timing_table(timings.load_timings([path, log]), {"a": "1. A", "b": "2. B"})
    assert table.loc["The whole book build", "full, CPU"] == "30.0 min"
    path.write_text(json.dumps({"a": {"seconds": 1}}))
    with pytest.raises(ValueError, match="needs profile"):
        timings.load_timings([path])


def test_time_goals_say_met_missed_or_not_measured():
    rows = [
        {"notebook": "01_kmnist", "profile": "ci", "seconds": 100.0, "device": "cpu"},
        {"notebook": "02_spirals", "profile": "ci", "seconds": 150.0, "device": "cpu"},
        {"notebook": "01_kmnist", "profile": "ci", "seconds": 900.0, "device": "cuda:0"},
    ]
    goals = timings.time_goals(rows)
    assert goals.iloc[0].tolist() == ["2 min", "2.5 min", "missed by 25%"] and "02_spirals" in goals.index[0]
    assert goals.loc["whole full build", "verdict"] == "not measured"
    assert goals.loc["slowest full notebook", "verdict"] == "not measured"
    rows.append({"notebook": "whole build", "profile": "full", "seconds": 1080.0, "device": "cpu"})
    assert timings.time_goals(rows).loc["whole full build"].tolist() == ["20 min", "18.0 min", "met"]
    slower = {"notebook": "whole build", "profile": "full", "device": "cpu", "threads": 1, "matmul_rate": 9e10}
    rows += [slower | {"seconds": 1500.0}, slower | {"seconds": 1000.0, "threads": 2, "matmul_rate": 3e11}]
    assert timings.time_goals(rows).loc["whole full build"].tolist() == [
        "20 min",
        "16.7 min",
        "met, at 150 GFLOP/s a thread",  # the matrix-multiply rate of the fastest build's machine, a thread
    ]
    del rows[-2:]
    rows += [{"notebook": n, "profile": "full", "seconds": s, "device": "cpu"} for n, s in (("a", 400), ("b", 600))]
    goals = timings.time_goals(rows)
    assert goals.loc["slowest full notebook (b)"].tolist() == ["8 min", "10.0 min", "missed by 25%"]
    assert goals.iloc[-1]["verdict"] == "on 2 cores no build can take less than 8.3 min"
    rows.append({"notebook": "b", "profile": "full", "seconds": 420.0, "device": "cpu", "threads": 2})  # 14 core-min
    goals = timings.time_goals(rows)
    assert goals.loc["slowest full notebook (b)", "measured"] == "7.0 min"  # the fastest wall time
    assert goals.iloc[-1]["verdict"] == "on 2 cores no build can take less than 8.3 min"  # b's least core time: 600 s


def test_each_timing_row_takes_its_threads_from_the_build_log_beside_it(tmp_path):
    entry = {"a": {"profile": "full", "seconds": 300.0, "device": "cpu"}}
    for name in ("timings.json", "lab-1x2.json", "lone.json"):
        (tmp_path / name).write_text(json.dumps(entry))
    log = {"profile": "full", "jobs": 1, "threads": 2, "seconds": 310.0, "device": "cpu", "executed": ["a"]}
    (tmp_path / "build.json").write_text(json.dumps(log | {"threads": 1}))
    (tmp_path / "lab-1x2-build.json").write_text(json.dumps(log))
    rows = timings.load_timings([tmp_path / n for n in ("timings.json", "lab-1x2.json", "lone.json", "build.json")])
    assert [r["threads"] for r in rows] == [1, 2, None, 1]
    assert timings.build_log_of(tmp_path / "lab-1x2.json") == tmp_path / "lab-1x2-build.json"
    assert timings.core_seconds(rows, "full") == {"a": 300.0}  # 300 s on one thread beats 600 core-s on two
    assert timings.core_seconds(rows, "ci") == {}


def test_floor_table_divides_the_tallied_work_by_the_rate():
    results = {
        "a": {"profile": "full", "values": {}, "work": {"flops": 6e11, "bytes": 1.2e11, "examples": 10}},
        "b": {"profile": "full", "values": {}},
        "c": {"profile": "ci", "values": {}, "work": {"flops": 1e9, "examples": 1}},
    }
    entries = {"a": {"profile": "full", "seconds": 600.0}, "c": {"profile": "full", "seconds": 5.0}}
    table = timings.floor_table(results, entries, rate=1e10)
    assert table.loc["a"].tolist() == ["full", 600.0, "", "1.0 min", "", "10.0 min", "10x"]  # no copy rate
    assert table.loc["b", "floor"] == "not tallied" and table.loc["c", "floor"] == "0.1 s"  # small floors stay visible
    assert table.loc["c", "measured"] == "not measured"  # a timing of another profile is not this run's
    # with the copy rate: 60 s of arithmetic plus 120 GB at 1 GB/s
    with_memory = timings.floor_table(results, entries, rate=1e10, copy_rate=1e9)
    assert with_memory.loc["a"].tolist() == ["full", 600.0, 120.0, "3.0 min", "2.0 min", "10.0 min", "3x"]
    with pytest.raises(ValueError, match="positive"):
        timings.floor_table(results, entries, rate=0)
    with pytest.raises(ValueError, match="positive"):
        timings.floor_table(results, entries, rate=1e10, copy_rate=-1.0)


def test_recorded_builds_pair_each_log_with_its_timings_and_give_floors(tmp_path):
    entries = {
        "a": {"profile": "full", "seconds": 1200.0, "device": "cpu", "flops": 6e12},
        "b": {"profile": "full", "seconds": 300.0, "device": "cpu"},
        "c": {"profile": "full", "seconds": 900.0, "device": "cuda"},
    }
    (tmp_path / "cpu-full.json").write_text(json.dumps(entries))
    (tmp_path / "cpu-full-build.json").write_text(json.dumps({"profile": "full", "matmul_rate": 1e10}))
    (tmp_path / "lonely-build.json").write_text(json.dumps({"profile": "full"}))  # no timings beside it
    (builds,) = recorded.recorded_builds(tmp_path)
    assert builds["name"] == "cpu-full" and builds["timings"] == entries
    table = timings.recorded_floor_table(builds["timings"], builds["build"]["matmul_rate"])
    assert table.loc["a"].tolist() == ["full", 6000.0, "", "10.0 min", "", "20.0 min", "2x"]
    assert table.loc["b", "floor"] == "not tallied"
    misses = recorded.goal_misses(entries, 1e10)
    assert misses == [
        "a: 20.0 min, 2.5 times the 8 min goal; its floor is 10.0 min, so it runs at 2 times its floor"
        " (the floor alone is over the goal)"
    ]
    entries["a"]["bytes"] = 1.2e11  # 2 minutes more at 1 GB/s
    assert recorded.goal_misses(entries, 2e10, copy_rate=1e9)[0].startswith(
        "a: 20.0 min, 2.5 times the 8 min goal; its floor is 7.0 min (2.0 min of it data passes), so it runs at 3"
    )
    del entries["a"]["bytes"]
    assert recorded.goal_misses(entries, None) == ["a: 20.0 min, 2.5 times the 8 min goal"]
    idle = {"z": {"profile": "full", "seconds": 600.0, "device": "cpu", "flops": 0.0}}  # tallied no work
    assert recorded.goal_misses(idle, 1e10) == ["z: 10.0 min, 1.2 times the 8 min goal"]
    assert timings.recorded_floor_table(idle, 1e10).loc["z", "measured / floor"] == ""
    with pytest.raises(ValueError, match="positive"):
        timings.recorded_floor_table({}, 0)
    assert "only less training or faster kernels" in recorded.goal_misses(entries, 6e12 / 420)[0]  # 7 min: 2.9x
    assert "well above it" in recorded.goal_misses(entries, 2e10)[0]  # floor 5 min, 4 times above it
    assert "per-step overhead" in recorded.goal_misses(entries, 1e12)[0]  # floor 6 s


def test_builds_table_puts_the_schedules_side_by_side_fastest_first():
    builds = [
        {"name": "one-at-a-time", "build": {"profile": "ci", "jobs": 1, "threads": 2, "seconds": 400.0}},
        {"name": "two-at-a-time", "build": {"profile": "ci", "jobs": 2, "threads": 1, "seconds": 300.0}},
        {"name": "old", "build": {"profile": "full", "jobs": 2, "seconds": 4000.0}},
    ]
    table = recorded.builds_table(builds)
    assert list(table.index) == ["two-at-a-time", "one-at-a-time", "old"]
    assert table.loc["one-at-a-time", "wall time"] == "6.7 min" and table.loc["old", "commit"] == "not recorded"
    assert recorded.builds_table([]).empty


def test_machine_lines_set_one_schedule_on_different_machines_side_by_side():
    log = {"profile": "full", "device": "cpu", "jobs": 2, "threads": 1}
    builds = [
        {"name": "slow", "build": log | {"seconds": 1644.0, "matmul_rate": 9.4e10, "commit": "aaa"}},
        {"name": "fast", "build": log | {"seconds": 1140.0, "matmul_rate": 1.6e11, "commit": "bbb"}},
        {"name": "lone", "build": log | {"jobs": 1, "threads": 2, "seconds": 2000.0, "matmul_rate": 3e11}},
        {"name": "no rate", "build": log | {"profile": "ci", "seconds": 100.0}},
    ]
    assert recorded.machine_lines(builds) == [
        "The full profile on cpu, 2 notebooks at a time, on different machines: 19.0 min (commit bbb) at 160"
        " GFLOP/s a thread; 27.4 min (commit aaa) at 94 GFLOP/s a thread."
    ]
    assert recorded.machine_lines(builds[2:]) == []


def test_schedule_lines_name_the_fastest_schedule_per_profile():
    builds = [
        {"name": "a", "build": {"profile": "ci", "device": "cpu", "jobs": 1, "threads": 2, "seconds": 412.0}},
        {"name": "b", "build": {"profile": "ci", "device": "cpu", "jobs": 2, "threads": 1, "seconds": 247.0}},
        {"name": "c", "build": {"profile": "full", "device": "cpu", "jobs": 2, "seconds": 3538.0}},  # one schedule
    ]
    assert recorded.schedule_lines(builds) == [
        "The ci profile on cpu: 2 notebooks at a time was fastest, 4.1 min; 1 at a time took 6.9 min, 1.67 times as"
        " long."
    ]
    builds.append({"name": "d", "build": {"profile": "ci", "device": "cpu", "jobs": 2, "seconds": 300.0}})  # slower
    ranked = recorded.ranked_schedules(builds)
    assert list(ranked) == [("ci", "cpu")] and [log["seconds"] for log in ranked["ci", "cpu"]] == [247.0, 412.0]
