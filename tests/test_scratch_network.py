"""The from-scratch network and its SGD loop: training reduces the loss, the history's columns, callbacks, early
stopping, saving and loading (a failed load changes nothing), and the whole library without torch."""

import os
import subprocess
import sys

import numpy as np
import pytest
from toy_data import toy_images

from nnutils.history import History
from nnutils.scratch import SGD, EarlyStopping, cnn, evaluate, fit, make_activation, make_loss, mlp


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


def test_predict_in_batches_gives_the_whole_forward_pass():
    x, _ = toy_images()
    for net in (mlp((36, 8, 3)), cnn(n_filters=3, kernel_size=3, n_classes=3, image_size=6)):
        whole = net.forward(x)
        for batch_size in (None, 1, 7, len(x) + 5):
            np.testing.assert_allclose(net.predict(x, batch_size), whole, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="batch size of at least 1"):
        net.predict(x, 0)


def test_history_names_each_split():
    """One History type (the torch loop's); validation numbers are val_*, a test set followed in training test_*."""
    x, y = toy_images(60)
    plain = fit(mlp((36, 4, 3)), (x, y), lr=0.3, epochs=2)
    assert isinstance(plain, History) and plain.columns.keys() == {"epoch", "train_loss", "train_acc", "seconds", "lr"}
    both = fit(mlp((36, 4, 3)), (x, y), (x[:20], y[:20]), test=(x[20:], y[20:]), lr=0.3, epochs=2)
    assert {"val_loss", "val_acc", "test_loss", "test_acc"} <= set(both.columns) and "delta_norm" not in both
    assert both.val_loss != both.test_loss and both.epoch == [1, 2]


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


class StopAfter:
    """A callback of the shared protocol: reads the loop's history, epoch and model, and stops it."""

    def __init__(self, epochs):
        self.epochs, self.seen, self.began = epochs, [], False

    def on_train_begin(self, loop):
        self.began = True

    def on_epoch_end(self, loop):
        self.seen.append(
            (loop.epoch, len(loop.history), loop.history.last("train_loss"), loop.model.count_parameters())
        )
        if loop.epoch == self.epochs:
            loop.stop_training = True


def test_one_step_moves_each_parameter_by_minus_the_rate_times_its_gradient_and_grads_hold_that_step():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 5)).astype(np.float32), rng.integers(0, 3, 8)
    net, twin = (mlp((5, 4, 3), act="tanh", seed=1, dtype=np.float32) for _ in range(2))
    twin.load_state_dict(net.state_dict())
    loss = make_loss("cross_entropy")
    loss(twin.forward(x), y)
    twin.backward(loss.backward())
    SGD(net, lr=0.1, batch_size=8, epochs=1, shuffle=False).fit((x, y))
    for (_, layer, name), (_, before, _) in zip(net.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(layer.params[name], before.params[name] - 0.1 * before.grads[name])
        np.testing.assert_array_equal(layer.grads[name], 0.1 * before.grads[name])  # the step, taken in place


def test_callbacks_see_the_loop_and_can_stop_it():
    x, y = toy_images(60)
    net, stop, plain = mlp((36, 4, 3)), StopAfter(3), []
    loop = SGD(net, lr=0.3, epochs=10, callbacks=[stop, lambda loop: plain.append(loop.epoch)])
    history = loop.fit((x, y))
    assert stop.began and len(history) == 3 and plain == [1, 2, 3]
    assert [s[:2] for s in stop.seen] == [(1, 1), (2, 2), (3, 3)]
    assert stop.seen[-1][2] == history.train_loss[-1] and stop.seen[0][3] == net.count_parameters()
    assert not loop.stopped_early  # a callback's stop is not early stopping


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = toy_images(300)
    x = x + np.random.default_rng(9).standard_normal(x.shape)  # noisy, and only 30 training images: overfits
    (x_tr, y_tr), (x_va, y_va) = (x[:30], y[:30]), (x[30:], y[30:])
    net = mlp((36, 64, 3), act="relu", init="lecun")
    loop = SGD(net, lr=0.5, epochs=200, early_stopping=3)
    history = loop.fit((x_tr, y_tr), (x_va, y_va))
    assert loop.stopped_early and len(history) < 200
    best = int(np.argmin(history.val_loss))
    assert len(history) == best + 1 + 3
    assert evaluate(net, x_va, y_va)[0] == pytest.approx(history.val_loss[best])
    same = mlp((36, 64, 3), act="relu", init="lecun")
    as_callback = fit(same, (x_tr, y_tr), (x_va, y_va), lr=0.5, epochs=200, callbacks=[EarlyStopping(3)])
    assert as_callback.val_loss == history.val_loss


def test_a_diverging_run_stops():
    x, y = toy_images(60)
    loop = SGD(mlp((36, 8, 3), init="gaussian"), loss="mse", lr=1e6, epochs=50)
    history = loop.fit((x * 1e3, y))
    assert loop.stopped_early and len(history) < 50 and not np.isfinite(history.train_loss[-1])


def test_save_and_load_round_trip(tmp_path):
    x, _ = toy_images(10)
    net = cnn(2, 3, hidden=4, n_classes=3, image_size=6, seed=3)
    path = net.save(tmp_path / "weights.npz")
    other = cnn(2, 3, hidden=4, n_classes=3, image_size=6, seed=4).load(path)
    np.testing.assert_array_equal(net.forward(x), other.forward(x))
    assert [p.name for p in tmp_path.iterdir()] == ["weights.npz"]  # no temporary left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # the mode of any new file, not mkstemp's 0600
    with pytest.raises(ValueError, match="shape"):
        cnn(3, 3, hidden=4, n_classes=3, image_size=6).load(path)
    with pytest.raises(ValueError, match="npz"):
        net.save(tmp_path / "weights.pt")


def test_a_failed_load_leaves_the_network_unchanged(tmp_path):
    """Loading into another architecture checks every array before assigning any (the first layers match here)."""
    path = cnn(2, 3, hidden=4, n_classes=3, image_size=6, seed=3).save(tmp_path / "weights.npz")
    wider = cnn(2, 3, hidden=5, n_classes=3, image_size=6, seed=4)  # same conv, another dense layer
    before = wider.state_dict()
    with pytest.raises(ValueError, match="shape"):
        wider.load(path)
    assert all(np.array_equal(before[k], v) for k, v in wider.state_dict().items())
    deeper = mlp((36, 5, 3), seed=1).save(tmp_path / "deeper.npz")
    shallow = mlp((36, 5), seed=2)  # its only layer has the shape of the saved first layer
    before = shallow.state_dict()
    with pytest.raises(ValueError, match="lacks"):
        shallow.load(deeper)
    assert all(np.array_equal(before[k], v) for k, v in shallow.state_dict().items())


def test_the_library_imports_and_trains_without_torch(tmp_path):
    code = f"""
import sys
sys.modules["torch"] = None  # every 'import torch' now fails
import numpy as np
import nnutils.scratch as scratch
from nnutils.scratch import gradcheck
rng = np.random.default_rng(0)
x = rng.standard_normal((60, 1, 4, 4))
y = (x.sum(axis=(1, 2, 3)) > 0).astype(int)
net = scratch.mlp((16, 6, 2), act="tanh", init="lecun")
history = scratch.fit(net, (x, y), (x, y), lr=0.5, epochs=8, early_stopping=5)
assert history.train_loss[-1] < history.train_loss[0] and history.val_acc[-1] > 0.8, history.as_dict()
conv = scratch.cnn(2, 3, n_classes=2, image_size=4)
scratch.fit(conv, (x, y), loss="mse", lr=0.1, epochs=2, track_delta=0)
assert max(gradcheck.check_layer(scratch.Conv2D(1, 2, 3), x[:2]).values()) < 1e-6
net.save({str(tmp_path / "w.npz")!r})
print("trained without torch")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "trained without torch" in done.stdout


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_activation("swish"), "Unknown activation"),
        (lambda: make_activation("relu", 0.1), "no parameter"),
        (lambda: make_loss("hinge"), "Unknown loss"),
        (lambda: mlp((784, 10), init="xavier"), "Unknown initialisation"),
        (lambda: fit(mlp((36, 3)), toy_images(10), lr=-1), "lr > 0"),
        (lambda: fit(mlp((36, 3)), (np.zeros((3, 36)), np.zeros(2, int))), "as many labels"),
        (lambda: EarlyStopping(0), "patience"),
        (lambda: make_loss("mse")(np.zeros((2, 3)), np.zeros((2, 4))), "do not match"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
