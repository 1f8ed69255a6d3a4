"""The from-scratch network: training reduces the loss, saving and loading, early stopping, and agreement with the
same MLP in PyTorch (forward pass and full-batch training steps on the same weights)."""

import numpy as np
import pytest
import torch

from nnutils.models import MLP
from nnutils.scratch import cnn, evaluate, fit, make_activation, make_loss, mlp
from nnutils.scratch.experiments import (
    cross_validate,
    deconvolve,
    filter_snapshots,
    lr_decay_callback,
    per_class,
    sweep,
    to_torch_mlp,
)
from nnutils.training import fit as torch_fit
from nnutils.training import set_seed


def toy_images(n=240, side=6, seed=0):
    """Three classes of noisy images: a bright top row, a bright left column, or a bright centre."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = 0.3 * rng.standard_normal((n, 1, side, side))
    x[y == 0, 0, 0, :] += 1.0
    x[y == 1, 0, :, 0] += 1.0
    x[y == 2, 0, 2:4, 2:4] += 1.0
    return x, y


def test_mlp_training_reduces_the_loss_and_learns():
    x, y = toy_images()
    net = mlp((36, 8, 3), act="sigmoid", init="lecun")
    history = fit(net, (x, y), lr=0.5, batch_size=16, epochs=15, eval_train=True)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert evaluate(net, x, y)[1] > 0.95


def test_cnn_with_squared_error_learns_and_tracks_conv_deltas():
    x, y = toy_images()
    net = cnn(n_filters=3, kernel_size=3, hidden=None, n_classes=3, act="tanh", image_size=6)
    history = fit(net, (x, y), loss="mse", lr=0.1, batch_size=8, epochs=10, track_delta=0)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert all(d > 0 for d in history.delta_norm)
    assert evaluate(net, x, y, "mse")[1] > 0.9


def test_training_is_seeded_and_fixed_order_differs_from_shuffled():
    x, y = toy_images()
    runs = [fit(mlp((36, 5, 3), seed=1), (x, y), lr=0.3, epochs=2, shuffle=s, seed=2) for s in (True, True, False)]
    assert runs[0].train_loss == runs[1].train_loss
    assert runs[0].train_loss != runs[2].train_loss


def test_lr_decays_every_epoch_and_l2_shrinks_weights():
    x, y = toy_images()
    history = fit(mlp((36, 5, 3)), (x, y), lr=0.2, lr_decay=0.5, epochs=3)
    assert history.lr == pytest.approx([0.2, 0.1, 0.05])
    norms = []
    for l2 in (0.0, 0.1):
        net = mlp((36, 5, 3), init="lecun")
        fit(net, (x, y), lr=0.2, epochs=5, l2=l2)
        norms.append(np.linalg.norm(net.layers[1].params["W"]))
    assert norms[1] < norms[0]


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = toy_images(300)
    x = x + np.random.default_rng(9).standard_normal(x.shape)  # noisy, and only 30 training images: overfits
    (x_tr, y_tr), (x_va, y_va) = (x[:30], y[:30]), (x[30:], y[30:])
    net = mlp((36, 64, 3), act="relu", init="lecun")
    history = fit(net, (x_tr, y_tr), (x_va, y_va), lr=0.5, epochs=200, early_stopping=3)
    assert history.stopped_early and len(history) < 200
    best = int(np.argmin(history.test_loss))
    assert len(history) == best + 1 + 3
    assert evaluate(net, x_va, y_va)[0] == pytest.approx(history.test_loss[best])


def test_save_and_load_round_trip(tmp_path):
    x, _ = toy_images(10)
    net = cnn(2, 3, hidden=4, n_classes=3, image_size=6, seed=3)
    path = net.save(tmp_path / "weights.npz")
    other = cnn(2, 3, hidden=4, n_classes=3, image_size=6, seed=4).load(path)
    np.testing.assert_array_equal(net.forward(x), other.forward(x))
    assert not list(tmp_path.glob("*.npz.*")) and len(list(tmp_path.iterdir())) == 1  # no temporary left
    with pytest.raises(ValueError, match="shape"):
        cnn(3, 3, hidden=4, n_classes=3, image_size=6).load(path)
    with pytest.raises(ValueError, match="npz"):
        net.save(tmp_path / "weights.pt")


def test_numpy_and_torch_mlp_agree_on_a_forward_pass():
    x = np.random.default_rng(0).random((20, 1, 28, 28)).astype(np.float32)
    for act, hidden in (("sigmoid", (64,)), ("relu", (100, 64)), ("tanh", (32,))):
        net = mlp((784, *hidden, 10), act=act, seed=5, dtype=np.float32)
        model = to_torch_mlp(net, act)
        assert isinstance(model, MLP)
        logits = net.forward(x)
        shifted = logits - logits.max(axis=1, keepdims=True)
        ours = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # log-softmax, as MLP outputs
        with torch.no_grad():
            theirs = model(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_numpy_and_torch_training_steps_agree_with_the_same_weights():
    """Full-batch steps (so that the order cannot differ) with lr decay: the weights stay equal."""
    x = np.random.default_rng(1).random((50, 1, 28, 28)).astype(np.float32)
    y = np.random.default_rng(2).integers(0, 10, 50)
    net = mlp((784, 16, 10), act="sigmoid", init="lecun", seed=6, dtype=np.float32)
    set_seed(0)
    model = to_torch_mlp(net)
    fit(net, (x, y), lr=0.5, lr_decay=0.9, batch_size=50, epochs=4)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    torch_fit(model, (xt, yt), lr=0.5, batch_size=50, epochs=4, callbacks=[lr_decay_callback(0.9)], device="cpu")
    np.testing.assert_allclose(net.layers[1].params["W"], model.net[1].weight.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(net.layers[3].params["b"], model.net[3].bias.detach().numpy(), atol=1e-5)


def test_experiment_helpers():
    x, y = toy_images(120)
    xs, ys = per_class(x, y, 5, classes=[2, 0])
    assert len(ys) == 10 and set(ys) == {0, 1}
    xf = x.reshape(len(x), 1, 6, 6)
    table = sweep((xf, y), (xf, y), {"l2": [0.0, 0.1], "act": ["relu", "tanh"]}, hidden=(4,), lr=0.3, epochs=2)
    assert len(table) == 4 and {"l2", "act", "train_acc", "test_acc", "seconds"} <= set(table.columns)
    folds = cross_validate(xf, y, k=3, hidden=(4,), lr=0.3, epochs=2)
    assert len(folds) == 3
    net = cnn(2, 3, hidden=None, n_classes=3, image_size=6)
    snap = filter_snapshots([1, 2])
    fit(net, (x, y), loss="mse", lr=0.1, epochs=2, callbacks=[snap])
    assert sorted(snap.frames) == [1, 2] and snap.frames[1].shape == (2, 1, 3, 3)
    assert deconvolve(net, x[:4]).shape == (4, 2, 6, 6)


def test_sweeps_and_cross_validation_give_the_same_numbers_in_parallel():
    x, y = toy_images(120)
    vary, fixed = {"l2": [0.0, 0.1], "hidden": [(4,), (5, 3)]}, dict(lr=0.3, epochs=2, seed=1)
    one = sweep((x, y), (x, y), vary, n_jobs=1, **fixed)
    two = sweep((x, y), (x, y), vary, n_jobs=2, **fixed)
    assert list(one["hidden"]) == [(4,), (5, 3), (4,), (5, 3)]
    assert one.drop(columns="seconds").equals(two.drop(columns="seconds"))
    folds_one = cross_validate(x, y, k=3, n_jobs=1, hidden=(4,), lr=0.3, epochs=2)
    folds_two = cross_validate(x, y, k=3, n_jobs=2, hidden=(4,), lr=0.3, epochs=2)
    assert folds_one.drop(columns="seconds").equals(folds_two.drop(columns="seconds"))
    assert list(folds_one["fold"]) == [1, 2, 3]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_activation("swish"), "Unknown activation"),
        (lambda: make_activation("relu", 0.1), "no parameter"),
        (lambda: make_loss("hinge"), "Unknown loss"),
        (lambda: mlp((784, 10), init="xavier"), "Unknown initialisation"),
        (lambda: fit(mlp((36, 3)), toy_images(10), lr=-1), "lr > 0"),
        (lambda: make_loss("mse")(np.zeros((2, 3)), np.zeros((2, 4))), "do not match"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
