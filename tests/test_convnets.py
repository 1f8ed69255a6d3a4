"""The chapter-4b conv nets: shapes, parameter counts, the chapter's split and tracked runs, the kernel-sweep
table and feature maps (weights on disk: test_weights)."""

import math
from pathlib import Path

import pytest
import torch

from nnutils import convnets as cn
from nnutils.convnets import LeNet5, SmallCNN, feature_maps, first_layer_filters
from nnutils.data import ImageSet
from nnutils.history import EvalResult, History, Run
from nnutils.models import MLP, count_parameters
from nnutils.results import Results
from nnutils.training import predict, set_seed

SWEEP = (2, 3, 4, 8, 24)
# conv 32 * (k*k + 1) + dense 32 * s * s * 25 + 25 + output 25 * 10 + 10, with s = (29 - k) // 2
SMALL_CNN_PARAMS = {2: 135_645, 3: 135_805, 4: 116_029, 8: 82_365, 24: 21_949}


def batch(n: int = 4) -> torch.Tensor:
    return torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("k", SWEEP)
def test_small_cnn_shapes_for_every_kernel_in_the_sweep(k):
    model = SmallCNN(k)
    out = model(batch())
    assert out.shape == (4, 10)
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(4), atol=1e-5), "outputs are log-probabilities"
    side = (29 - k) // 2
    maps = feature_maps(model, batch(1))
    assert list(maps) == ["conv", "pool", "relu"]
    assert maps["conv"].shape == (1, 32, 29 - k, 29 - k)
    assert maps["pool"].shape == maps["relu"].shape == (1, 32, side, side)
    assert torch.equal(maps["relu"], torch.relu(maps["pool"]))
    assert first_layer_filters(model).shape == (32, k, k)


@pytest.mark.parametrize("k", SWEEP)
def test_small_cnn_parameter_counts(k):
    assert count_parameters(SmallCNN(k)) == SMALL_CNN_PARAMS[k]


def test_lenet_shapes_and_parameter_count():
    model = LeNet5()
    assert model(batch()).shape == (4, 10)
    # conv 156 + conv 2,416 + 256->120 30,840 + 120->84 10,164 + 84->10 850
    assert count_parameters(model) == 44_426
    maps = feature_maps(model, batch(1))
    assert {k: tuple(v.shape[1:]) for k, v in maps.items()} == {
        "conv1": (6, 24, 24),
        "pool1": (6, 12, 12),
        "relu1": (6, 12, 12),
        "conv2": (16, 8, 8),
        "pool2": (16, 4, 4),
        "relu2": (16, 4, 4),
    }
    assert first_layer_filters(model).shape == (6, 5, 5)


def test_the_comparison_mlp_is_784_64_10():
    assert count_parameters(MLP(hidden=(64,))) == 784 * 64 + 64 + 64 * 10 + 10


@pytest.mark.parametrize("bad", [0, 28, 100, -3, 2.5, "3", True, None])
def test_bad_kernel_size_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="kernel_size must be an integer from 1 to 27"):
        SmallCNN(bad)


def test_bad_dropout_and_input_are_clear_errors():
    with pytest.raises(ValueError, match="dropout"):
        LeNet5(dropout=1.5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        feature_maps(LeNet5(), torch.zeros(28, 28))
    with pytest.raises(ValueError, match="no Conv2d"):
        first_layer_filters(MLP())


def _toy_data(n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes a conv net separates easily: a bright top half or a bright bottom half."""
    g = torch.Generator().manual_seed(1)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.rand(n, 1, 28, 28, generator=g) * 0.3
    x[y == 0, :, :14] += 0.7
    x[y == 1, :, 14:] += 0.7
    return x, y


@pytest.mark.parametrize(
    "make, options",
    [(LeNet5, dict(lr=0.05, momentum=0.9)), (lambda: SmallCNN(3), dict(optimizer="adam", lr=3e-3, batch_size=32))],
)
def test_a_few_steps_reduce_the_loss(make, options, capsys):
    x, y = _toy_data()
    held_out = (x[:64], y[:64])
    run = cn.train_tracked("toy", make, (x, y), held_out, held_out, probe=100, epochs=3, progress=False, **options)
    h = run.history
    assert h.train_loss[-1] < 0.7 * h.train_loss[0]
    assert len(h.train_eval_acc) == len(h.val_acc) == run.epochs == 3, "eval-mode training and validation accuracy"
    assert "test_acc" not in h, "the test set is measured once, after training, not followed"
    assert 0 <= run.result.accuracy <= 1 and run.result.confusion.shape == (10, 10) and run.result.confusion.sum() == 64
    assert run.info == {"n_params": count_parameters(run.model), "n_train": 256}
    assert "toy: 256 images, 3 epochs" in capsys.readouterr().out


def test_tracked_runs_repeat_with_the_seed_and_probe_the_first_images():
    x, y = _toy_data(96)
    options = dict(epochs=2, progress=False, lr=0.05, quiet=True)
    first, again = (cn.train_tracked("a", LeNet5, (x, y), (x, y), seed=3, probe=32, **options) for _ in range(2))
    assert first.history.train_loss == again.history.train_loss
    probe = predict(first.model, x[:32]).argmax(dim=1)
    assert first.history.last("train_eval_acc") == pytest.approx(float((probe == y[:32]).float().mean()))
    assert first.result is None and math.isnan(cn.final_accuracy(first, "test"))


def _run(train_eval_acc, val_acc, test_acc=None, name="r"):
    history = History()
    for a, b in zip(train_eval_acc, val_acc):
        history.append(train_eval_acc=a, val_acc=b, seconds=2.0)
    result = EvalResult(0.0, test_acc) if test_acc is not None else None
    return Run(name, None, history, result, info={"n_params": 10, "n_train": 5})


def test_final_accuracy_gap_and_summary_row():
    run = _run([0.5, 0.9], [0.5, 0.8], test_acc=0.75)
    assert (cn.final_accuracy(run, "train"), cn.final_accuracy(run, "val"), cn.final_accuracy(run, "test")) == (
        0.9,
        0.8,
        0.75,
    )
    assert cn.gap(run) == pytest.approx(0.1)
    row = cn.summary_row(run)
    assert row["epochs"] == 2 and row["s / epoch"] == 2.0 and row["parameters"] == 10 and row["test acc"] == 0.75
    assert row["gap (train - val)"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="split must be"):
        cn.final_accuracy(run, "validation")


def test_compare_sweep_records_every_kernel_and_compares_those_the_report_has(monkeypatch):
    monkeypatch.delenv("NNUTILS_RESULTS", raising=False)
    results = Results("04b_mlp_vs_cnn", "ci")
    sweep = {3: _run([1.0], [0.9], 0.9712), 5: _run([1.0], [0.9], 0.95)}  # report 002 has no 5 x 5 figure
    table = cn.compare_sweep(results, sweep)
    assert results.values == {"small_cnn_k3_test_acc": 0.9712, "small_cnn_k5_test_acc": 0.95}
    assert list(table.index) == [3, 5]
    assert table.loc[3, "report"] == 0.9835 and table.loc[3, "status"] == "not comparable"  # a ci run
    assert math.isnan(table.loc[5, "report"]) and table.loc[5, "status"] == "no report figure"


def _image_set(n: int, seed: int) -> ImageSet:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
    return ImageSet("fake", "train", images, torch.arange(n) % 10, [str(i) for i in range(10)], Path("."), False)


def test_mnist_splits_hold_out_a_seeded_validation_set_and_cut_subsets():
    train_set, test_set = _image_set(50, 0), _image_set(30, 1)
    train, val, test = cn.mnist_splits(train_set, test_set, normalize=True, n_val=8, n_test=12, n_holdout=20, seed=1)
    assert (len(train[1]), len(val[1]), len(test[1])) == (30, 8, 12)
    assert train[0].shape[1:] == (1, 28, 28) and train[0].min() >= -1 and train[0].max() <= 1
    everything = {tuple(row) for row in train_set.images.flatten(1).tolist()}
    seen = {tuple(row) for row in ((train[0] + 1) / 2 * 255).round().to(torch.uint8).flatten(1).tolist()}
    seen_val = {tuple(row) for row in ((val[0] + 1) / 2 * 255).round().to(torch.uint8).flatten(1).tolist()}
    assert seen <= everything and seen_val <= everything and not seen & seen_val, "validation images are held out"
    raw, raw_val, _ = cn.mnist_splits(train_set, test_set, normalize=False, n_val=8, n_test=12, n_holdout=20, seed=1)
    assert torch.equal(raw[1], train[1]) and torch.equal(raw_val[1], val[1]), "both scalings: the same images"
    assert raw[0].min() >= 0 and torch.allclose(raw[0] * 2 - 1, train[0], atol=1e-6)
    _, other_val, _ = cn.mnist_splits(train_set, test_set, normalize=False, n_val=8, n_holdout=20, seed=2)
    assert not torch.equal(other_val[1], raw_val[1]) or not torch.equal(other_val[0], raw_val[0])


def test_feature_maps_leave_no_hooks_and_keep_the_training_mode():
    model = LeNet5().train()
    feature_maps(model, batch(1))
    assert model.training, "feature_maps restores the mode it found"
    assert not any(m._forward_hooks for m in model.modules()), "the capturing hooks are removed"


def test_scaled_normal_init_is_the_reports_start():
    set_seed(0)
    model = cn.scaled_normal_init(MLP(hidden=(64,)), std=0.1)
    first, second = (m for m in model.modules() if isinstance(m, torch.nn.Linear))
    for layer, fan_in in ((first, 784), (second, 64)):
        assert float(layer.weight.detach().std()) * math.sqrt(fan_in) == pytest.approx(0.1, rel=0.1)
        assert float(layer.weight.detach().mean()) == pytest.approx(0.0, abs=0.1 / math.sqrt(fan_in))
        assert torch.count_nonzero(layer.bias) == 0
    conv = cn.scaled_normal_init(LeNet5()).features.conv2
    assert float(conv.weight.detach().std()) * math.sqrt(6 * 5 * 5) == pytest.approx(0.1, rel=0.15)


def test_untrained_outputs_are_near_uniform_probabilities_with_labels():
    set_seed(0)
    x, y = batch(5), torch.tensor([3, 1, 4, 1, 5])
    table = cn.untrained_outputs(cn.scaled_normal_init(MLP(hidden=(64,))), x, y)
    probabilities = table[[f"p{c}" for c in range(10)]].to_numpy()
    assert list(table["label"]) == [3, 1, 4, 1, 5] and len(table) == 5
    assert probabilities.sum(axis=1) == pytest.approx([1.0] * 5, abs=1e-5)
    assert abs(probabilities - 0.1).max() < 0.02, "tiny weights: every class near 1/10"
    assert list(table["predicted"]) == list(probabilities.argmax(axis=1))
    model = MLP(dropout=0.5)
    cn.untrained_outputs(model, x, y)
    assert model.training, "the model keeps its training mode"
    with pytest.raises(ValueError, match="5 images but 4 labels"):
        cn.untrained_outputs(MLP(), x, y[:4])
