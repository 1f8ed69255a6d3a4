"""Chapter 4a's module: subsets, the MLP/CNN/two-class runs (each a Run), MLP trials trained once per setting, the
bridge to PyTorch (same forward pass, same training steps, the shared DecayLR callback), filter snapshots,
deconvolution, sweeps, and its figures."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np
import pandas as pd
import pytest
import torch
import toy_data

from nnutils import backprop as bp
from nnutils import backprop_plots, training
from nnutils import cnn_experiments as cx
from nnutils import mlp_sweeps as ms
from nnutils.history import Run
from nnutils.models import MLP
from nnutils.scratch import Conv2D, cnn, fit, mlp


def toy_images(n=120, side=6, seed=0):
    """The shared toy images, 120 of them by default here."""
    return toy_data.toy_images(n, side, seed)


def digits(n=20, seed=0, classes=10):
    """Random 28 x 28 float32 images with labels: the shapes of the chapter's CNNs."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 28, 28)).astype(np.float32), np.arange(n) % classes


def test_log_softmax_matches_torch_and_survives_large_logits():
    z = np.random.default_rng(0).standard_normal((5, 7)) * 50
    np.testing.assert_allclose(bp.log_softmax(z), torch.log_softmax(torch.from_numpy(z), 1).numpy(), atol=1e-12)
    assert np.isfinite(bp.log_softmax(np.array([[1000.0, 0.0]]))).all()


def test_numpy_and_torch_mlp_agree_on_a_forward_pass():
    x = np.random.default_rng(0).random((20, 1, 28, 28)).astype(np.float32)
    for act, hidden in (("sigmoid", (64,)), ("relu", (100, 64)), ("tanh", (32,))):
        net = mlp((784, *hidden, 10), act=act, seed=5, dtype=np.float32)
        model = bp.to_torch_mlp(net, act)
        assert isinstance(model, MLP)
        with torch.no_grad():
            theirs = model(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(bp.log_softmax(net.forward(x)), theirs, atol=1e-5)


def test_numpy_and_torch_training_steps_agree_with_the_same_weights():
    """Full-batch steps (so that the order cannot differ) with lr decay: the weights stay equal."""
    x = np.random.default_rng(1).random((50, 1, 28, 28)).astype(np.float32)
    y = np.random.default_rng(2).integers(0, 10, 50)
    net = mlp((784, 16, 10), act="sigmoid", init="lecun", seed=6, dtype=np.float32)
    training.set_seed(0)
    model = bp.to_torch_mlp(net)
    fit(net, (x, y), lr=0.5, lr_decay=0.9, batch_size=50, epochs=4)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    training.fit(model, (xt, yt), lr=0.5, batch_size=50, epochs=4, callbacks=[training.DecayLR(0.9)], device="cpu")
    np.testing.assert_allclose(net.layers[1].params["W"], model.net[1].weight.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(net.layers[3].params["b"], model.net[3].bias.detach().numpy(), atol=1e-5)


def test_one_callback_serves_both_loops():
    """The torch loop's StopAt reads loop.history and sets loop.stop_training: the NumPy loop obeys it too."""
    x, y = toy_images()
    history = fit(
        mlp((36, 8, 3), init="lecun"), (x, y), lr=0.5, epochs=50, callbacks=[training.StopAt("train_acc", 0.9)]
    )
    assert len(history) < 50 and history.train_acc[-1] >= 0.9 > max(history.train_acc[:-1])


def test_subsets():
    x, y = toy_images()
    xs, ys = bp.per_class(x, y, 5, classes=[2, 0])
    assert len(ys) == 10 and set(ys) == {0, 1} and (ys == 0).sum() == 5
    np.testing.assert_array_equal(xs[ys == 0][0], x[y == 2][0])  # class 2 is renumbered 0
    with pytest.raises(ValueError, match="fewer than"):
        bp.per_class(x, y, 1000)
    xr, yr = bp.random_subset(x, y, 7, seed=1)
    assert len(yr) == 7 and bp.random_subset(x, y, 7, seed=1)[1].tolist() == yr.tolist()
    with pytest.raises(ValueError, match="between 1 and"):
        bp.random_subset(x, y, 0)


def test_train_mlp_gives_a_run_with_validation_columns():
    x, y = toy_images()
    run = bp.train_mlp((x, y), (x[:30], y[:30]), hidden=(4,), act="tanh", lr=0.3, epochs=3)
    assert isinstance(run, Run) and run.epochs == 3 and run.model.layers[1].params["W"].shape == (4, 36)
    assert {"val_loss", "val_acc"} <= set(run.history.columns) and run.seconds > 0
    with pytest.raises(ValueError, match="Unknown training options"):
        bp.train_mlp((x, y), momentum=0.9)


def test_train_pair_and_filter_snapshots():
    x, y = digits(12, classes=2)
    run = cx.train_pair((x, y), (x[:4], y[:4]), "leaky_relu", 0.01, lr=0.01, epochs=3, snapshots=[1, 3])
    assert sorted(run["frames"]) == [1, 3] and run["frames"][1].shape == (2, 1, 28, 28)
    assert not np.array_equal(run["frames"][1], run["frames"][3])  # copies, taken as training went on
    np.testing.assert_array_equal(run["frames"][3], run.model.layers[0].params["W"])
    assert {"test_loss", "test_acc"} <= set(run.history.columns) and run.model.layers[0].params["W"].dtype == np.float32


def test_train_cnn_uses_the_reports_settings(capsys):
    x, y = digits(20)
    run = cx.train_cnn((x, y), (x[:10], y[:10]), "sigmoid", hidden=None, epochs=1)
    slopes = [layer.slope for layer in run.model.layers if hasattr(layer, "slope")]
    assert slopes == [0.7, 0.05] and run.name == "sigmoid A" and len(run.history.delta_norm) == 1
    assert "sigmoid A" in capsys.readouterr().out
    relu = cx.train_cnn((x, y), (x[:10], y[:10]), "relu", hidden=128, leak=0.1, epochs=1, quiet=True)
    assert [layer.leak for layer in relu.model.layers if hasattr(layer, "leak")] == [0.1, 0.1, 0.1]
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="Unknown activation"):
        cx.train_cnn((x, y), (x, y), "swish")
    table = bp.summarize({"a": run, "b": relu})
    assert list(table.index) == ["a", "b"] and table.loc["b", "test acc"] == relu.history.test_acc[-1]


def test_deconvolve_projects_each_filter_back():
    x, y = toy_images(8)
    net = cnn(2, 3, hidden=None, n_classes=3, image_size=6)
    views = cx.deconvolve(net, x[:4])
    assert views.shape == (4, 2, 6, 6)
    conv, maps = net.layers[0], net.activations(x[:4])[1]
    np.testing.assert_allclose(views.sum(axis=1), conv.project_back(maps)[:, 0], atol=1e-12)  # linear in the maps


def test_sweeps_and_cross_validation_give_the_same_numbers_in_parallel():
    x, y = toy_images()
    vary, fixed = {"l2": [0.0, 0.1], "hidden": [(4,), (5, 3)]}, dict(lr=0.3, epochs=2, seed=1)
    one = ms.mlp_sweep((x, y), (x, y), vary, n_jobs=1, **fixed)
    two = ms.mlp_sweep((x, y), (x, y), vary, n_jobs=2, **fixed)
    assert list(one["hidden"]) == [(4,), (5, 3), (4,), (5, 3)]
    assert {"val_acc", "val_loss", "train_acc", "epochs"} <= set(one.columns)
    assert one.drop(columns="seconds").equals(two.drop(columns="seconds"))
    folds_one = ms.cross_validate_mlp(x, y, k=3, n_jobs=1, hidden=(4,), lr=0.3, epochs=2)
    folds_two = ms.cross_validate_mlp(x, y, k=3, n_jobs=2, hidden=(4,), lr=0.3, epochs=2)
    assert folds_one.drop(columns="seconds").equals(folds_two.drop(columns="seconds"))
    assert list(folds_one["fold"]) == [1, 2, 3] and "val_acc" in folds_one
    with pytest.raises(ValueError, match="k must lie"):
        ms.cross_validate_mlp(x, y, k=1)


def test_figures_draw():
    fig = backprop_plots.plot_activations([("sigmoid", 0.7), ("relu", None), ("leaky_relu", 0.1)])
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 3
    table = pd.DataFrame({"l2": [0.1, 0.01], "train_acc": [0.9, 1.0], "val_acc": [0.8, 0.7]})
    ax = backprop_plots.plot_sweep(table, "l2")
    assert [line.get_label() for line in ax.lines] == ["training", "validation"]
    grid = backprop_plots.filter_grid({"a": np.zeros((3, 1, 2, 2)), "b": np.ones((2, 2, 2))})
    assert len(grid.axes) == 6
    plt.close("all")


@pytest.mark.parametrize(
    "x_shape, w_shape",
    [((10, 1, 28, 28), (16, 1, 7, 7)), ((1, 1, 28, 28), (2, 1, 28, 28)), ((3, 2, 9, 8), (4, 2, 3, 3))],
    ids=["cnn", "two-class", "two-channel"],
)
def test_the_convolution_equals_the_previous_one(x_shape, w_shape):
    """Output, weight, bias and input gradients of Conv2D against the previous implementation: equal to rounding in
    float64, and to float32 rounding in float32."""
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    g = rng.standard_normal((x_shape[0], w_shape[0], x_shape[2] - w_shape[2] + 1, x_shape[3] - w_shape[3] + 1))
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-5)):
        conv = Conv2D(w_shape[1], w_shape[0], w_shape[2], dtype=dtype)
        conv.params = {"W": w.astype(dtype), "b": b.astype(dtype)}
        out = conv.forward(x.astype(dtype))
        dx = conv.backward(g.astype(dtype))
        ours = (out, conv.grads["W"], conv.grads["b"], dx)
        previous = bp.conv_rows_reference(x, w, b, g)
        for name, mine, want in zip(("output", "dW", "db", "dx"), ours, previous):
            assert mine.dtype == dtype and mine.shape == want.shape, name
            scale = np.abs(want).max()
            assert np.abs(mine - want).max() <= tol * scale, (dtype.__name__, name, np.abs(mine - want).max() / scale)


def test_conv_timings_table():
    shapes = [("tiny", (2, 1, 6, 6), (3, 1, 3, 3), mode) for mode in ("forward", "weights", "all")]
    table = bp.conv_timings(shapes, repeats=1)
    assert list(table.columns) == ["NumPy", "previous NumPy", "PyTorch", "speed-up over previous"]
    assert len(table) == 3 and (table > 0).all().all()


def test_mlp_trials_give_the_sweep_tables_and_train_each_setting_once(monkeypatch):
    x, y = toy_images()
    fixed = dict(hidden=(4,), lr=0.3, l2=0.01, batch_size=16, epochs=2, seed=1)
    trained = []
    train_mlp = ms.train_mlp
    monkeypatch.setattr(ms, "train_mlp", lambda *a, **kw: trained.append(kw) or train_mlp(*a, **kw))
    trials = ms.MLPTrials((x, y), (x[:40], y[:40]), n_jobs=1)
    by_lr = trials.sweep({"lr": [0.1, 0.3]}, **fixed)
    by_batch = trials.sweep({"batch_size": [16, 32]}, **fixed)  # batch 16 at lr 0.3 is the lr sweep's second row
    assert len(trained) == 3 and len(trials.runs) == 3
    assert by_batch.iloc[0].drop("batch_size").equals(by_lr.iloc[1].drop("lr"))
    run = trials.run(**(fixed | {"batch_size": 32}))  # trained by the batch sweep: handed back, not trained again
    assert len(trained) == 3 and run.history.val_acc[-1] == by_batch["val_acc"].iloc[1]
    assert trials.run(**(fixed | {"hidden": [4], "lr": 0.1})) is trials.runs[trials.key(fixed | {"lr": 0.1})]
    trials.run(**(fixed | {"epochs": 1}))
    assert len(trained) == 4 and trained[-1]["epochs"] == 1
    for vary, table in (({"lr": [0.1, 0.3]}, by_lr), ({"batch_size": [16, 32]}, by_batch)):
        alone = ms.mlp_sweep((x, y), (x[:40], y[:40]), vary, n_jobs=1, **fixed)  # each setting trained anew
        assert table.drop(columns="seconds").equals(alone.drop(columns="seconds"))
    in_workers = ms.MLPTrials((x, y), (x[:40], y[:40]), n_jobs=2)
    assert in_workers.sweep({"lr": [0.1, 0.3]}, **fixed).drop(columns="seconds").equals(by_lr.drop(columns="seconds"))
    returned = in_workers.run(**fixed)  # a network trained in a worker process comes back whole
    np.testing.assert_array_equal(returned.model.layers[1].params["W"], trials.run(**fixed).model.layers[1].params["W"])


def test_chunked_cnn_run_measures_each_part_and_counts_epochs_in_fractions():
    x, y = digits(12)
    run = cx.train_cnn_chunked((x, y), digits(6, seed=1), "tanh", None, epochs=2, chunks=3)
    assert np.allclose(run.history.epoch, [1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2])
    assert len(run.history.val_acc) == 6 and np.isfinite(run.history.val_loss).all()
    with pytest.raises(ValueError, match="chunks >= 1"):
        cx.train_cnn_chunked((x, y), None, "tanh", None, epochs=1, chunks=0)


def test_cnn_net_takes_the_initialisation_and_rejects_unknown_activations():
    wide = cx.cnn_net("sigmoid", None, init="gaussian").layers[0].params["W"]
    narrow = cx.cnn_net("sigmoid", None).layers[0].params["W"]
    assert wide.std() > 5 * narrow.std()  # N(0, 1) against N(0, 1/49)
    with pytest.raises(ValueError, match="Unknown activation"):
        cx.cnn_net("swish")


def test_saturated_share_sees_large_inputs_saturate_a_sigmoid():
    x, _ = digits(4)
    net = cx.cnn_net("sigmoid", None)
    assert cx.saturated_share(net, 0 * x) == 0.0
    assert cx.saturated_share(net, x) < 0.05
    assert cx.saturated_share(net, 255 * x) > 0.5


def test_outside_notes_give_one_line_per_figure_outside_tolerance():
    table = pd.DataFrame(
        {"difference": [-0.062, 0.01, 0.2], "status": ["outside tolerance", "within tolerance", "outside tolerance"]},
        index=["relu A", "tanh A", "sigmoid A"],
    )
    notes = bp.outside_notes(table, {"*": "its own subset.", "sigmoid A": "slow."})
    assert notes == [
        "relu A: 6.2 points below the report's; its own subset.",
        "sigmoid A: 20.0 points above the report's; slow.",
    ]
    with pytest.raises(KeyError, match="relu A"):
        bp.outside_notes(table, {"sigmoid A": "slow."})


def test_plot_sweeps_draws_one_colour_per_table():
    table = pd.DataFrame({"lr": [0.1, 0.01], "train_acc": [0.9, 0.8], "val_acc": [0.85, 0.7]})
    ax = backprop_plots.plot_sweeps({"100-64": table, "100": table.assign(val_acc=0.5)}, "lr")
    assert len(ax.lines) == 4 and ax.lines[0].get_color() == ax.lines[1].get_color() != ax.lines[2].get_color()
    plt.close("all")
