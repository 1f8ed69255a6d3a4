"""The training loop: learning, determinism, callbacks, val / test columns, evaluation, train_model."""

import numpy as np
import pytest
import torch

from nnutils import models, training


def blobs(n=200, seed=0):
    """Two well-separated Gaussian classes in 784 dimensions."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 1, 28, 28, generator=g) + 1.5 * (2 * y - 1).float().view(-1, 1, 1, 1) * 0.2
    return x, y


def test_training_reduces_loss_and_learns():
    x, y = blobs()
    training.set_seed(0)
    history = training.fit(models.NetLin(), (x, y), test=(x, y), epochs=5, lr=0.05, momentum=0.5, progress=False)
    assert len(history) == 5
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.test_acc[-1] > 0.95


def test_training_is_deterministic():
    x, y = blobs()
    runs = []
    for _ in range(2):
        training.set_seed(3)
        runs.append(training.fit(models.NetFull(hidden=8), (x, y), epochs=2, progress=False).train_loss)
    assert runs[0] == runs[1]


def test_callbacks_stop_and_snapshot():
    x, y = blobs()
    snaps = training.Snapshots([0, 2])
    seen = []
    history = training.fit(
        models.NetLin(),
        (x, y),
        epochs=50,
        lr=0.1,
        progress=False,
        callbacks=[snaps, training.StopAt("train_acc", 1.0), lambda t: seen.append(t.epoch)],
    )
    assert history.train_acc[-1] == 1.0 and len(history) < 50
    assert seen == history.epoch and set(snaps.frames) == {0, 2}
    assert not torch.equal(snaps.frames[0]["linear.weight"], snaps.frames[2]["linear.weight"])


def test_bad_config():
    with pytest.raises(ValueError, match="Unknown optimizer 'rmsprop'"):
        training.TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="Unknown loss 'hinge'"):
        training.TrainConfig(loss="hinge")


def test_evaluate_confusion_on_hand_made_example():
    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):  # predicts class x[:, 0] out of 3, as log-probabilities
            return torch.log_softmax(10 * torch.nn.functional.one_hot(x[:, 0].long(), 3).float(), 1)

    x = torch.tensor([[0], [1], [2], [2], [1]]).float()
    y = torch.tensor([0, 1, 2, 1, 0])
    result = training.evaluate(Fixed(), x, y)
    expected = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_array_equal(result.confusion, expected)
    assert result.accuracy == pytest.approx(0.6)


def test_val_and_test_are_recorded_under_their_own_names():
    x, y = blobs()
    training.set_seed(0)
    history = training.fit(
        models.NetLin(), (x, y), (x[:50], y[:50]), test=(x[50:], y[50:]), epochs=4, eval_every=3, progress=False
    )
    assert {"val_loss", "val_acc", "test_loss", "test_acc"} <= set(history.columns)
    assert np.isnan(history.val_acc[0]) and np.isfinite(history.val_acc[2]) and np.isfinite(history.test_acc[3])
    with pytest.raises(AttributeError, match="no column 'valid_acc'"):
        _ = history.valid_acc


def test_track_accuracy_and_decay_lr_callbacks():
    x, y = blobs()
    training.set_seed(0)
    tracker, decay = training.TrackAccuracy(x, y), training.DecayLR(0.5)
    trainer = training.Trainer(
        models.NetLin(), training.TrainConfig(epochs=3, lr=0.08, progress=False), [tracker, decay]
    )
    history = trainer.fit((x, y))
    assert history.train_eval_acc == tracker.values and len(tracker.values) == 3
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="decay factor"):
        training.DecayLR(1.5)


def test_train_model_returns_a_run_evaluated_on_test():
    x, y = blobs()
    run = training.train_model("lin", models.NetLin, (x, y), test=(x, y), epochs=3, lr=0.05, progress=False, quiet=True)
    assert run.name == "lin" and run.epochs == 3 and run.seconds > 0
    assert run.result.accuracy == pytest.approx(training.evaluate(run.model, x, y).accuracy)
    assert run.result.confusion.sum() == len(y) and run.info["split"] == "test"
