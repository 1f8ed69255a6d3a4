"""The benchmark's FLOP counter, its verdicts and its table (no long timing runs here: those are `make bench`)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from torch import nn

from nnutils.book.bench import table, verdicts
from nnutils.book.speedups import conv_rates_sentence, forward_flops, time_conv_layouts, training_flops
from nnutils.layers import channels_first, pool_after_activation
from nnutils.models import NetConv, NetFull, NetLin


def test_linear_layers_count_two_operations_per_multiply_add():
    assert forward_flops(NetLin()) == 2 * 784 * 10
    assert forward_flops(NetFull(hidden=100)) == 2 * (784 * 100 + 100 * 10)
    assert forward_flops(nn.Linear(5, 3), input_shape=(4, 5)) == 4 * 2 * 5 * 3  # scales with the batch


def test_netconv_counts_from_its_layer_shapes():
    conv1 = 2 * (32 * 27 * 27) * (1 * 4 * 4)  # 28 -> 27 with a 4 x 4 kernel and padding 1
    conv2 = 2 * (64 * 12 * 12) * (32 * 4 * 4)  # pooled 13 -> 12
    linear = 2 * 2304 * 10
    assert forward_flops(NetConv()) == conv1 + conv2 + linear == 10_229_760
    assert training_flops(NetConv()) == 3 * 10_229_760


def test_grouped_convolutions_divide_the_work():
    grouped = nn.Conv2d(8, 8, kernel_size=3, groups=4)
    assert forward_flops(grouped, (1, 8, 5, 5)) == 2 * (8 * 3 * 3) * (2 * 3 * 3)


def test_bad_input_shape_is_rejected():
    with pytest.raises(ValueError, match="input_shape"):
        forward_flops(NetLin(), input_shape=(0, 784))


def fake_run(ref: float, fit: float, bare: float) -> dict:
    models = {name: {"fit": fit, "reference": ref, "bare": bare} for name in ("NetLin", "NetFull", "NetConv")}
    return {"models": models, "netconv_flops_per_s": 5e9, "matmul_flops_per_s": 2e10, "scratch_mlp": {"numpy": 1.0}}


def test_verdicts_judge_only_netconv_against_the_bare_loop():
    assert verdicts(fake_run(ref=6.0, fit=1.0, bare=1.0)) == {"NetConv": "met"}  # the 5x goal is retired
    assert verdicts(fake_run(ref=2.0, fit=1.0, bare=0.8)) == {"NetConv": "missed by 15 percentage points"}


def test_table_has_a_gpu_column_that_says_not_measured_without_a_gpu_run():
    frame = table({"cpu": fake_run(ref=6.0, fit=1.0, bare=1.0)})
    assert (frame["GPU"] == "not measured").all()
    assert frame.loc["NetLin: fit speed-up over reference", "CPU"] == "6.0x"
    assert frame.loc["NetConv rate / matmul rate", "CPU"] == "25%"
    assert frame.loc["Same MLP in PyTorch (fit): s/epoch", "CPU"] == "not measured"  # missing key
    assert frame.loc["Ensemble speed-up over separate runs", "CPU"] == "not measured"


def test_table_shows_the_convolution_and_ensemble_ratios():
    run = fake_run(ref=6.0, fit=1.0, bare=1.0)
    run["numpy_conv"] = {"step": {"NumPy": 0.5, "previous NumPy": 1.0, "PyTorch": 0.25}}
    run["ensemble"] = {"nets": 40, "epochs": 100, "separate": 26.0, "ensemble": 2.0}
    frame = table({"cpu": run})
    assert frame.loc["NumPy conv, step: speed-up over the previous version", "CPU"] == "2.0x"
    assert frame.loc["NumPy conv, step: time against torch conv2d", "CPU"] == "2.00x"
    assert frame.loc["Ensemble speed-up over separate runs", "CPU"] == "13.0x (40 nets, 100 epochs)"


def test_table_shows_the_conv_layout_speed_up():
    run = fake_run(ref=6.0, fit=1.0, bare=1.0)
    run["conv_layouts"] = {"NetConv": {"workbook": 50.0, "plain": 75.0, "flops": 2.5e8}}
    frame = table({"cpu": run})
    assert frame.loc["NetConv training step, channels-last, pooled first: ms (speed-up)", "CPU"] == ("50.0 (1.5x)")
    rate = frame.loc["NetConv training step: GFLOP/s (share of the matrix-multiply rate)", "CPU"]
    assert rate == "5.0 (25%)"  # 2.5e8 operations in 50 ms, against 2e10 a second
    assert "not measured" in table({"cpu": fake_run(6.0, 1.0, 1.0) | {"conv_layouts": {"NetConv": {}}}}).to_string()


def test_the_conv_rates_sentence_sets_each_step_against_the_matmul_rate():
    run = fake_run(ref=6.0, fit=1.0, bare=1.0) | {"date": "2026-12-04 03:09 UTC", "threads": 1}
    run["conv_layouts"] = {
        "NetConv": {"workbook": 50.0, "plain": 75.0, "flops": 5e8},  # 10 GFLOP/s: half of 2e10
        "LeNet-5": {"workbook": 4.0, "plain": 5.0, "flops": 2e7},  # 5 GFLOP/s: a quarter
    }
    sentence = conv_rates_sentence(run)
    assert "(2026-12-04 03:09 UTC, 1 thread)" in sentence and "rate of 20 GFLOP/s:" in sentence
    assert "NetConv 10 GFLOP/s (50%) and LeNet-5 5 GFLOP/s (25%)" in sentence
    assert "up to 4 times above" in sentence and "(LeNet-5)" in sentence
    assert conv_rates_sentence(fake_run(6.0, 1.0, 1.0)) is None  # no conv steps measured
    older = fake_run(6.0, 1.0, 1.0) | {"conv_layouts": {"NetConv": {"workbook": 50.0, "plain": 75.0}}}
    assert conv_rates_sentence(older) is None  # a run from before the operations were recorded


def test_conv_layouts_are_timed_both_ways_on_the_same_nets():
    times = time_conv_layouts(repeats=1)
    assert list(times) == ["NetConv", "LeNet-5", "small CNN 2x2", "small CNN 3x3"]
    assert all(set(row) == {"workbook", "plain", "flops"} and min(row.values()) > 0 for row in times.values())
    lenet = 64 * 3 * 2 * (6 * 24 * 24 * 25 + 16 * 8 * 8 * 150 + 256 * 120 + 120 * 84 + 84 * 10)  # multiply-adds x 2
    assert times["LeNet-5"]["flops"] == lenet, "three forward passes of 64 images"
    plain = pool_after_activation(channels_first(NetConv()))
    assert plain.features[0].weight.is_contiguous()
    kinds = [type(m) for m in plain.features]
    assert kinds == [nn.Conv2d, nn.ReLU, nn.MaxPool2d] * 2, "the order a student writes: activation, then pool"


def test_main_merges_with_earlier_devices_and_writes_atomically(tmp_path, monkeypatch):
    from nnutils.book import bench

    out = tmp_path / "benchmarks.json"
    out.write_text(json.dumps({"cuda": fake_run(ref=9.0, fit=1.0, bare=1.0)}))
    monkeypatch.setattr(bench, "run", lambda *args: {"cpu": fake_run(ref=6.0, fit=1.0, bare=1.0)})
    old_umask = os.umask(0o022)
    try:
        assert bench.main(["--out", str(out)]) == 0
    finally:
        os.umask(old_umask)
    assert set(json.loads(out.read_text())) == {"cpu", "cuda"}
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["benchmarks.json"]  # no temporary file left
